/*
 * limiter.c - a token bucket behind a mutex, with debt.
 */
#include "limiter.h"

#include <errno.h>

/* Bytes one connection may move at once under a limit: small steps keep many connections
 * sharing the rate evenly, instead of one taking a whole second's worth in a single read. */
enum { STEP = 16 * 1024 + 13 };

int limiter_init(struct limiter *l, uint64_t rate_Bps, uint64_t now_ms)
{
    /* pthread functions return the error number instead of setting errno. */
    int rc = pthread_mutex_init(&l->lock, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    uint64_t burst = rate_Bps / 10 > STEP ? rate_Bps / 10 : STEP;
    tb_init(&l->tb, rate_Bps, burst, now_ms);
    /* The bucket starts empty: a full one would let the first burst through faster than the
     * rate, and a swarm experiment could then beat the bound that assumes the rate throughout. */
    if (rate_Bps > 0)
        (void)tb_take(&l->tb, (size_t)burst, now_ms);
    l->debt = 0;
    l->used = false;
    return 0;
}

void limiter_free(struct limiter *l)
{
    pthread_mutex_destroy(&l->lock);
}

size_t limiter_allow(struct limiter *l, size_t want, uint64_t now_ms, uint64_t *wait_ms)
{
    *wait_ms = 0;
    if (l->tb.rate_Bps == 0)
        return want;
    pthread_mutex_lock(&l->lock);
    /* The bucket fills while nobody asks, up to its burst: a seed that waits for its first
     * leecher would then send its first tenth of a second's worth at once, and a swarm
     * experiment could beat the bound that assumes the rate from the first byte. So the first
     * use empties it, and the rate counts from there. */
    if (!l->used) {
        l->used = true;
        (void)tb_take(&l->tb, (size_t)l->tb.burst, now_ms);
    }
    if (l->debt > 0)
        l->debt -= tb_take(&l->tb, l->debt > SIZE_MAX ? SIZE_MAX : (size_t)l->debt, now_ms);
    size_t allowed = 0;
    if (l->debt > 0) {
        *wait_ms = tb_wait_ms(&l->tb, (size_t)l->debt, now_ms);
    } else if (tb_wait_ms(&l->tb, 1, now_ms) > 0) {
        *wait_ms = tb_wait_ms(&l->tb, STEP, now_ms); /* empty: wait for a useful amount */
    } else {
        allowed = want < STEP ? want : STEP;
    }
    if (allowed == 0 && *wait_ms == 0)
        *wait_ms = 1;
    pthread_mutex_unlock(&l->lock);
    return allowed;
}

void limiter_used(struct limiter *l, size_t n, uint64_t now_ms)
{
    if (l->tb.rate_Bps == 0 || n == 0)
        return;
    pthread_mutex_lock(&l->lock);
    size_t paid = tb_take(&l->tb, n, now_ms);
    l->debt += n - paid;
    pthread_mutex_unlock(&l->lock);
}
