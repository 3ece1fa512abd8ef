/*
 * rate.c - a rolling-window rate meter made of a fixed ring of time buckets.
 *
 * Bucket k covers the milliseconds [start + k * bucket_ms, start + (k + 1) * bucket_ms). The ring
 * holds buckets newest - nbuckets + 1 .. newest; bucket k sits in slot k % nbuckets, so moving
 * forward in time only means emptying the slots of the buckets that are skipped or reused.
 */
#include "rate.h"

#include <string.h>

/* ===================================================================== set-up ============= */

void rate_init(struct rate *r, uint64_t window_ms, uint64_t now_ms)
{
    rate_init_buckets(r, window_ms, RATE_DEFAULT_BUCKETS, now_ms);
}

void rate_init_buckets(struct rate *r, uint64_t window_ms, unsigned nbuckets, uint64_t now_ms)
{
    memset(r, 0, sizeof *r);
    if (nbuckets < 1)
        nbuckets = 1;
    if (nbuckets > RATE_MAX_BUCKETS)
        nbuckets = RATE_MAX_BUCKETS;
    r->nbuckets = nbuckets;
    /* Round up, so the window measured is never shorter than the one asked for. */
    r->bucket_ms = window_ms / nbuckets + (window_ms % nbuckets != 0);
    if (r->bucket_ms == 0)
        r->bucket_ms = 1;
    r->start_ms = now_ms;
    r->newest = 0;
}

/* ===================================================================== time =============== */

/* Returns the number of the bucket that holds now_ms; a time before the start counts as 0. */
static uint64_t bucket_of(const struct rate *r, uint64_t now_ms)
{
    return now_ms <= r->start_ms ? 0 : (now_ms - r->start_ms) / r->bucket_ms;
}

/* Moves the ring forward so that bucket cur is the newest, emptying every bucket it passes. A
 * jump of a whole window or more empties them all, so the loop runs at most nbuckets times
 * however far time jumped. */
static void advance(struct rate *r, uint64_t cur)
{
    if (cur <= r->newest)
        return;
    if (cur - r->newest >= r->nbuckets) {
        memset(r->bytes, 0, sizeof r->bytes);
    } else {
        for (uint64_t k = r->newest + 1; k <= cur; k++)
            r->bytes[k % r->nbuckets] = 0;
    }
    r->newest = cur;
}

/* ===================================================================== counting =========== */

void rate_add(struct rate *r, uint64_t bytes, uint64_t now_ms)
{
    uint64_t cur = bucket_of(r, now_ms);
    if (cur < r->newest)
        cur = r->newest; /* time went backwards: count it in the newest bucket */
    advance(r, cur);
    r->bytes[cur % r->nbuckets] += bytes;
    r->total += bytes;
}

uint64_t rate_get(const struct rate *r, uint64_t now_ms)
{
    uint64_t cur = bucket_of(r, now_ms);
    uint64_t now_rel = now_ms <= r->start_ms ? 0 : now_ms - r->start_ms;
    if (cur < r->newest) {
        /* Time went backwards: read as of the newest bucket's start. */
        cur = r->newest;
        now_rel = cur * r->bucket_ms;
    }

    /* The window at now_ms holds buckets oldest..cur; of those, the ring still has the ones up
     * to newest (later ones have seen no bytes yet). */
    uint64_t n = r->nbuckets;
    uint64_t oldest = cur + 1 >= n ? cur + 1 - n : 0;
    uint64_t ring_oldest = r->newest + 1 >= n ? r->newest + 1 - n : 0;
    uint64_t sum = 0;
    for (uint64_t k = oldest > ring_oldest ? oldest : ring_oldest; k <= r->newest; k++)
        sum += r->bytes[k % n];

    /* Divide by the time those buckets actually cover: from the oldest one's start (or the
     * meter's start) to now, but at least one bucket width. */
    uint64_t span = now_rel - oldest * r->bucket_ms;
    if (span < r->bucket_ms)
        span = r->bucket_ms;
    /* sum * 1000 / span, split so that sum * 1000 cannot overflow. */
    return sum / span * 1000 + sum % span * 1000 / span;
}
