/*
 * hasher.c - the hashing thread and its bounded queue (see hasher.h).
 */
#include "hasher.h"
#include "threads.h"

#include <errno.h>
#include <string.h>

/* Takes items from the queue, oldest first, and does their work without the queue's lock held,
 * so peer threads can push while a piece is being hashed. Ends when told to stop and the queue
 * is empty. */
static void *hasher_main(void *arg)
{
    struct hasher *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (h->count == 0 && !h->stopping)
            pthread_cond_wait(&h->work, &h->lock);
        if (h->count == 0)
            break; /* stopping, and nothing left to do */
        uint32_t item = h->items[h->head];
        h->head = (h->head + 1) % HASHER_QUEUE;
        h->count--;
        pthread_cond_signal(&h->room);
        pthread_mutex_unlock(&h->lock);
        h->fn(h->ctx, item);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

int hasher_start(struct hasher *h, hasher_fn fn, void *ctx)
{
    memset(h, 0, sizeof *h);
    h->fn = fn;
    h->ctx = ctx;
    int rc = pthread_mutex_init(&h->lock, NULL);
    if (rc == 0 && (rc = pthread_cond_init(&h->room, NULL)) != 0)
        pthread_mutex_destroy(&h->lock);
    if (rc == 0 && (rc = pthread_cond_init(&h->work, NULL)) != 0) {
        pthread_cond_destroy(&h->room);
        pthread_mutex_destroy(&h->lock);
    }
    if (rc == 0 && (rc = thread_start(&h->thread, hasher_main, h, false, 0)) != 0) {
        pthread_cond_destroy(&h->work);
        pthread_cond_destroy(&h->room);
        pthread_mutex_destroy(&h->lock);
    }
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    h->started = true;
    return 0;
}

void hasher_push(struct hasher *h, uint32_t item)
{
    pthread_mutex_lock(&h->lock);
    while (h->count == HASHER_QUEUE)
        pthread_cond_wait(&h->room, &h->lock);
    h->items[(h->head + h->count) % HASHER_QUEUE] = item;
    h->count++;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->lock);
}

size_t hasher_queued(struct hasher *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->count;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void hasher_stop(struct hasher *h)
{
    if (!h->started)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->work);
    pthread_cond_destroy(&h->room);
    pthread_mutex_destroy(&h->lock);
    h->started = false;
}
