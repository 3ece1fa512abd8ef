/*
 * check_hasher.c - the hashing thread's bounded queue: every item pushed is worked on once, in
 * the order pushed, even when producers push far more than the queue holds, and stopping
 * finishes what is queued.
 */
#include "testlib.h"
#include "hasher.h"

#include <pthread.h>
#include <stdlib.h>

enum { PRODUCERS = 3, PER_PRODUCER = 2000 };

/* What the work function saw, written only by the hasher's thread until it is stopped. */
struct seen {
    struct hasher *h;
    uint32_t *items;
    size_t n;
    size_t max_queued; /* the longest queue the work function ever observed */
};

static void record(void *ctx, uint32_t item)
{
    struct seen *s = ctx;
    size_t q = hasher_queued(s->h);
    if (q > s->max_queued)
        s->max_queued = q;
    s->items[s->n++] = item;
}

struct producer {
    struct hasher *h;
    uint32_t id;
};

/* Pushes PER_PRODUCER items tagged with the producer's id in the high bits, in order. */
static void *produce(void *arg)
{
    struct producer *p = arg;
    for (uint32_t i = 0; i < PER_PRODUCER; i++)
        hasher_push(p->h, p->id << 24 | i);
    return NULL;
}

START_TEST(hasher_works_every_item_once_in_order)
{
    struct hasher h;
    struct seen s = {.h = &h};
    s.items = calloc(PRODUCERS * PER_PRODUCER, sizeof *s.items);
    ck_assert_ptr_nonnull(s.items);
    ck_assert_int_eq(hasher_start(&h, record, &s), 0);
    pthread_t tid[PRODUCERS];
    struct producer prod[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        prod[i] = (struct producer){&h, i + 1};
        ck_assert_int_eq(pthread_create(&tid[i], NULL, produce, &prod[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(tid[i], NULL);
    hasher_stop(&h); /* finishes what is still queued */

    /* Thousands of items through a queue of HASHER_QUEUE: none lost, none twice, and each
     * producer's items in the order it pushed them. */
    ck_assert_uint_eq(s.n, PRODUCERS * PER_PRODUCER);
    uint32_t next[PRODUCERS + 1] = {0};
    for (size_t i = 0; i < s.n; i++) {
        uint32_t id = s.items[i] >> 24, seq = s.items[i] & 0xffffff;
        ck_assert_uint_ge(id, 1);
        ck_assert_uint_le(id, PRODUCERS);
        ck_assert_msg(seq == next[id], "producer %u: item %u came where %u was due", id, seq,
                      next[id]);
        next[id]++;
    }
    ck_assert_uint_le(s.max_queued, HASHER_QUEUE);
    free(s.items);
}
END_TEST

START_TEST(hasher_stop_is_safe_twice_and_unstarted)
{
    struct hasher h = {0};
    hasher_stop(&h); /* never started: nothing to do */
    struct seen s = {.h = &h};
    s.items = calloc(4, sizeof *s.items);
    ck_assert_int_eq(hasher_start(&h, record, &s), 0);
    hasher_push(&h, 7);
    hasher_stop(&h);
    hasher_stop(&h);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(s.items[0], 7);
    free(s.items);
}
END_TEST

static Suite *hasher_suite(void)
{
    Suite *s = suite_create("hasher");
    TCase *tc = tk_tcase(s, "hasher", 30);
    tk_add_test(tc, hasher_works_every_item_once_in_order);
    tk_add_test(tc, hasher_stop_is_safe_twice_and_unstarted);
    return s;
}

TK_MAIN(hasher_suite)
