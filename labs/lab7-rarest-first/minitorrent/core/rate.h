/*
 * rate.h - a rolling-window rate meter: how many bytes per second a peer sent us (or we sent it)
 * over the last few seconds. Sans-I/O: the time is always a parameter, in milliseconds.
 *
 * The choker ranks peers by these rates ("unchoke the 4 peers sending to us fastest"), so the
 * meter must forget old traffic: a peer that was fast a minute ago but is silent now must drop
 * down the ranking. Keeping every transfer with its time would grow without bound; instead the
 * window is cut into fixed buckets (by default 20 buckets of 1 s over a 20 s window), each
 * holding the bytes counted during its slice of time. The buckets form a ring: when time moves
 * into a new slice, the oldest bucket is emptied and reused. Memory is fixed, whatever the
 * traffic, and a jump forward by more than the window simply empties every bucket.
 *
 * What rate_get divides by. The buckets cover the last nbuckets - 1 whole slices plus the part
 * of the current slice that has passed, so the sum is divided by exactly that span of time
 * (between (nbuckets - 1) and nbuckets bucket widths), not by the full window: dividing by the
 * full window would make the reading sag just after every bucket boundary. Early on, before the
 * meter has existed for a whole window, the span is the time since rate_init, because bytes
 * cannot have come in before the meter existed. The span is never taken as less than one bucket
 * width, so a single block counted a millisecond after start reads as bytes per bucket width
 * rather than as a huge burst rate.
 */
#ifndef RATE_H
#define RATE_H

#include <stdint.h>

#define RATE_MAX_BUCKETS 64     /* the ring's fixed size: the most buckets a window may have */
#define RATE_DEFAULT_BUCKETS 20 /* rate_init cuts the window into this many buckets */

struct rate {
    uint64_t start_ms;  /* when the meter was set up; bucket 0 begins here */
    uint64_t bucket_ms; /* width of one bucket */
    unsigned nbuckets;  /* buckets in the window, 1..RATE_MAX_BUCKETS */
    uint64_t newest;    /* number (counted from start) of the newest bucket in the ring */
    uint64_t bytes[RATE_MAX_BUCKETS]; /* bucket k lives in bytes[k % nbuckets] */
    uint64_t total;                   /* every byte ever counted, for statistics */
};

/* Sets up a meter over a window of window_ms cut into RATE_DEFAULT_BUCKETS buckets (a 20 s
 * window gives 1 s buckets). */
void rate_init(struct rate *r, uint64_t window_ms, uint64_t now_ms);

/* Sets up a meter with nbuckets buckets (clamped to 1..RATE_MAX_BUCKETS). Each bucket is
 * window_ms / nbuckets wide, rounded up and at least 1 ms, so the window actually measured is
 * nbuckets times that. */
void rate_init_buckets(struct rate *r, uint64_t window_ms, unsigned nbuckets, uint64_t now_ms);

/* Counts bytes transferred at now_ms. Time should not go backwards; if it does, the bytes are
 * counted in the newest bucket. */
void rate_add(struct rate *r, uint64_t bytes, uint64_t now_ms);

/* Returns the rate in bytes per second over the window ending at now_ms (see the comment at the
 * top for the span it divides by). It does not change the meter, so it may be called as often
 * as wanted. */
uint64_t rate_get(const struct rate *r, uint64_t now_ms);

#endif
