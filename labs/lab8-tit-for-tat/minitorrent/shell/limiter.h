/*
 * limiter.h - a rate limit shared by every connection of a torrent (--up-rate, --down-rate).
 *
 * The token bucket itself is the core's (core/tokenbucket.c). A socket does not say in advance how
 * many bytes a read will bring, so the limiter counts bytes after they have moved: a read that
 * brings more than the bucket holds leaves a debt, and no thread moves more bytes until the debt
 * is paid. Over any stretch of time the average is the configured rate.
 */
#ifndef LIMITER_H
#define LIMITER_H

#include "tokenbucket.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct limiter {
    pthread_mutex_t lock;
    struct tokenbucket tb;
    uint64_t debt; /* bytes moved that the bucket has not paid for yet */
    bool used;     /* false until the first call of limiter_allow() */
};

/* Sets up a limiter of rate_Bps bytes per second (0: no limit). Returns 0, or -1 with errno set
 * when its mutex cannot be made (then nothing needs freeing). */
int limiter_init(struct limiter *l, uint64_t rate_Bps, uint64_t now_ms);
void limiter_free(struct limiter *l);

/* Returns how many bytes (at most want) a connection may move now; 0 means wait *wait_ms first. */
size_t limiter_allow(struct limiter *l, size_t want, uint64_t now_ms, uint64_t *wait_ms);

/* Counts n bytes that moved. */
void limiter_used(struct limiter *l, size_t n, uint64_t now_ms);

#endif
