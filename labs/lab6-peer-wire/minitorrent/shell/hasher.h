/*
 * hasher.h - one thread that verifies finished pieces, fed by a small bounded queue.
 *
 * A peer thread that hashed each piece it completed would stop reading its socket for as long as
 * the hash takes (about a millisecond for 256 KiB). With the hash on a thread of its own, reading
 * the socket and writing the disk go on while the previous piece is being hashed, and on a machine
 * with two cores the two run at the same time.
 *
 * The queue is the classic producer-consumer: peer threads push piece numbers, the hasher thread
 * pops them in order and calls the work function on each. When HASHER_QUEUE pieces wait, a push
 * blocks until the hasher catches up, so a fast network never runs far ahead of the hashing.
 *
 * minitorrent hashes a piece from the memory it was put together in (peer.c), so the piece is
 * never read back from disk. A real client goes further: libtorrent has a pool of disk I/O
 * threads and a pool of hashing threads, and hashes each block as it arrives in order, so a
 * piece is mostly hashed by the time its last block comes in.
 */
#ifndef HASHER_H
#define HASHER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pieces that may wait for the hasher before a push blocks. */
enum { HASHER_QUEUE = 16 };

/* The work done for each queued item, on the hasher's thread: ctx as given to hasher_start and
 * the item as pushed. */
typedef void (*hasher_fn)(void *ctx, uint32_t item);

struct hasher {
    pthread_mutex_t lock; /* guards everything below but the thread */
    pthread_cond_t room;  /* an item was taken from a full queue */
    pthread_cond_t work;  /* an item was pushed, or the hasher must stop */
    uint32_t items[HASHER_QUEUE];
    size_t head, count; /* items[head] is the oldest; count are queued */
    bool stopping;
    bool started;
    hasher_fn fn;
    void *ctx;
    pthread_t thread;
};

/* Starts the hasher's thread. h must be zeroed memory (or a hasher already stopped). Returns 0,
 * or -1 with errno set. */
int hasher_start(struct hasher *h, hasher_fn fn, void *ctx);

/* Queues an item for the hasher, waiting while HASHER_QUEUE items are queued already. Never call
 * it with a lock held that the work function takes: the hasher could not make room. */
void hasher_push(struct hasher *h, uint32_t item);

/* Returns how many items are queued and not yet taken by the hasher. */
size_t hasher_queued(struct hasher *h);

/* Does the work of every item still queued, then ends the thread and frees what hasher_start
 * made. Does nothing for a hasher never started or already stopped. */
void hasher_stop(struct hasher *h);

#endif
