/*
 * limiter.h - a rate limit shared by every connection of a torrent (--up-rate, --down-rate).
 *
 * The token bucket itself is the core's (core/tokenbucket.c); this module puts it behind a mutex
 * so that every connection thread of a torrent draws from the same bucket. A connection works in
 * two steps, grant and settle:
 *
 *   granted = limiter_grant(l, want, now, &wait);  before the bytes move: 0 means wait
 *   n = send(fd, buf, granted)  or  read(fd, buf, granted);
 *   limiter_settle(l, granted, n, now);            gives back the tokens of what did not move
 *
 * The grant is taken from the shared bucket at once, so two connections asking at the same
 * moment cannot both be handed the same tokens, and a read is never asked for more than it was
 * granted. The guarantee, which `minitorrent swarm` relies on when it compares a distribution
 * time with its lower bound: counting from the limiter's first use (when its bucket is emptied),
 * the bytes granted and not given back by time t, and so the bytes that moved, never exceed
 * rate * t. There is no burst on top: the bucket's burst only lets a connection that waited
 * catch up on the tokens of its wait. The one slack is the clock's: it counts whole
 * milliseconds, so the first use may be dated up to 1 ms early, which is rate / 1000 bytes.
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
    bool used; /* false until the first grant or wait */
};

/* The most bytes one grant covers: a 16 KiB block and its 13-byte header. Small grants keep many
 * connections sharing the rate evenly, instead of one taking a whole second's worth at once. */
enum { LIMITER_STEP = 16 * 1024 + 13 };

/* Sets up a limiter of rate_Bps bytes per second (0: no limit). Returns 0, or -1 with errno set
 * when its mutex cannot be made (then nothing needs freeing). */
int limiter_init(struct limiter *l, uint64_t rate_Bps, uint64_t now_ms);
void limiter_free(struct limiter *l);

/* Grants a connection up to want bytes (at most LIMITER_STEP) and takes them from the shared
 * bucket now. Returns the bytes granted; 0 means none now, and *wait_ms says how long until a
 * grant of that size can be had. Unlimited: want, and *wait_ms is 0. */
size_t limiter_grant(struct limiter *l, size_t want, uint64_t now_ms, uint64_t *wait_ms);

/* Settles a grant: used of the granted bytes moved (0 after an error), the rest goes back. */
void limiter_settle(struct limiter *l, size_t granted, size_t used, uint64_t now_ms);

/* Returns how many milliseconds until a grant of want bytes can be had (0: now), without taking
 * anything: a connection waiting to read uses it to decide whether to poll for input at all. */
uint64_t limiter_wait_ms(struct limiter *l, size_t want, uint64_t now_ms);

#endif
