/*
 * limiter.c - a token bucket behind a mutex, used in two steps: grant, then settle.
 */
#include "limiter.h"

#include <errno.h>

int limiter_init(struct limiter *l, uint64_t rate_Bps, uint64_t now_ms)
{
    /* pthread functions return the error number instead of setting errno. */
    int rc = pthread_mutex_init(&l->lock, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    /* The burst is a tenth of a second's worth, and at least one grant, so that a grant can be
     * had at all. */
    uint64_t burst = rate_Bps / 10 > LIMITER_STEP ? rate_Bps / 10 : LIMITER_STEP;
    tb_init(&l->tb, rate_Bps, burst, now_ms);
    l->used = false;
    return 0;
}

void limiter_free(struct limiter *l)
{
    pthread_mutex_destroy(&l->lock);
}

/* Empties the bucket at the limiter's first use, with l->lock held. The bucket fills while
 * nobody asks, up to its burst: a seed that waits for its first leecher would then send its
 * first tenth of a second's worth at once, and a swarm experiment could beat the bound that
 * assumes the rate from the first byte. So the rate counts from the first use. */
static void first_use(struct limiter *l, uint64_t now_ms)
{
    if (!l->used) {
        l->used = true;
        (void)tb_take(&l->tb, (size_t)l->tb.burst, now_ms);
    }
}

/* The size of the grant a connection that wants `want` bytes waits for. */
static size_t step_of(size_t want)
{
    return want < LIMITER_STEP ? want : LIMITER_STEP;
}

size_t limiter_grant(struct limiter *l, size_t want, uint64_t now_ms, uint64_t *wait_ms)
{
    *wait_ms = 0;
    if (l->tb.rate_Bps == 0 || want == 0)
        return want;
    pthread_mutex_lock(&l->lock);
    first_use(l, now_ms);
    /* All or nothing: a connection waits until the bucket holds its whole step, rather than
     * being handed a few bytes at a time, which would cost a system call each. */
    size_t granted = tb_grant(&l->tb, step_of(want), now_ms);
    if (granted == 0) {
        *wait_ms = tb_wait_ms(&l->tb, step_of(want), now_ms);
        if (*wait_ms == 0)
            *wait_ms = 1; /* cannot happen (tb_grant would have granted), but never spin */
    }
    pthread_mutex_unlock(&l->lock);
    return granted;
}

void limiter_settle(struct limiter *l, size_t granted, size_t used, uint64_t now_ms)
{
    if (l->tb.rate_Bps == 0 || used >= granted)
        return;
    pthread_mutex_lock(&l->lock);
    tb_settle(&l->tb, granted, used, now_ms);
    pthread_mutex_unlock(&l->lock);
}

uint64_t limiter_wait_ms(struct limiter *l, size_t want, uint64_t now_ms)
{
    if (l->tb.rate_Bps == 0 || want == 0)
        return 0;
    pthread_mutex_lock(&l->lock);
    first_use(l, now_ms);
    uint64_t wait = tb_wait_ms(&l->tb, step_of(want), now_ms);
    pthread_mutex_unlock(&l->lock);
    return wait;
}
