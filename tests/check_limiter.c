/*
 * check_limiter.c - the shared rate limit: grants taken from the bucket before bytes move, the
 * unused part given back at settle, and never more bytes by time t than rate * t counted from the
 * first use, however many connections take grants. Time is a parameter (a fake clock), except in
 * the one test with real threads, which checks the same promise under the mutex.
 */
#include "testlib.h"
#include "limiter.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* xorshift64*, so the random runs replay from their seed. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

START_TEST(limiter_unlimited_grants_everything)
{
    struct limiter l;
    limiter_init(&l, 0, 0);
    uint64_t wait = 99;
    ck_assert_uint_eq(limiter_grant(&l, 1 << 20, 0, &wait), 1 << 20);
    ck_assert_uint_eq(wait, 0);
    limiter_settle(&l, 1 << 20, 5, 0);
    ck_assert_uint_eq(limiter_grant(&l, 1 << 20, 0, &wait), 1 << 20);
    ck_assert_uint_eq(limiter_wait_ms(&l, 1 << 20, 0), 0);
    limiter_free(&l);
}
END_TEST

/* A grant is taken from the bucket at once: a second connection asking at the same moment gets
 * nothing until the bucket has refilled, and what a settle gives back can be granted again. */
START_TEST(limiter_grant_is_debited_at_once)
{
    struct limiter l;
    limiter_init(&l, 100000, 0); /* 100 kB/s, a burst of 16 KiB + 13 */
    uint64_t wait;
    ck_assert_uint_eq(limiter_grant(&l, 1 << 20, 0, &wait), 0); /* the first use empties it */
    ck_assert_uint_eq(wait, (LIMITER_STEP * 1000 + 99999) / 100000);
    uint64_t now = wait;
    ck_assert_uint_eq(limiter_grant(&l, 1 << 20, now, &wait), LIMITER_STEP);
    ck_assert_uint_eq(limiter_grant(&l, 1 << 20, now, &wait), 0); /* a second connection */
    ck_assert_uint_gt(wait, 0);
    ck_assert_uint_gt(limiter_wait_ms(&l, 100, now), 0);
    /* The first connection sent only 1000 of its bytes: the rest goes back and is granted. */
    limiter_settle(&l, LIMITER_STEP, 1000, now);
    ck_assert_uint_eq(limiter_wait_ms(&l, LIMITER_STEP - 1000, now), 0);
    ck_assert_uint_eq(limiter_grant(&l, LIMITER_STEP - 1000, now, &wait), LIMITER_STEP - 1000);
    ck_assert_uint_eq(limiter_grant(&l, 1, now, &wait), 0);
    limiter_free(&l);
}
END_TEST

/* A seed waits for its first leecher; the tokens of that wait must not go out in a burst, or a
 * swarm could beat the bound that assumes the rate from the first byte. */
START_TEST(limiter_idle_before_first_use_gives_no_burst)
{
    struct limiter l;
    limiter_init(&l, 100000, 0);                               /* 100 kB/s */
    ck_assert_uint_gt(limiter_wait_ms(&l, 1 << 20, 10000), 0); /* first use, 10 s later */
    /* Greedy from then on for one second of fake time: no more than 100 kB. */
    uint64_t moved = 0, now = 10000, wait;
    while (now <= 11000) {
        size_t n = limiter_grant(&l, 1 << 20, now, &wait);
        if (n == 0) {
            now += wait;
            continue;
        }
        limiter_settle(&l, n, n, now);
        moved += n;
    }
    ck_assert_msg(moved <= 100000, "%llu bytes moved in the first second after a 10 s wait",
                  (unsigned long long)moved);
    ck_assert_msg(moved >= 100000 - LIMITER_STEP, "only %llu bytes moved in a second at 100 kB/s",
                  (unsigned long long)moved);
    limiter_free(&l);
}
END_TEST

/* Many connections share one limiter on a fake clock. Each, in a random order every millisecond,
 * asks for a random amount, holds its grant for a few milliseconds (a send in progress), then
 * settles having used a random part of it. The bytes are counted as gone at the moment of the
 * grant, the earliest they could leave: by any time t they must be at most rate * (t - first
 * use). And the limiter must not starve them: over the run the average is near the rate. */
START_TEST(limiter_many_connections_never_beat_the_rate)
{
    enum { CONNS = 12 };
    const uint64_t seed = 20261204;
    uint64_t rng = seed;
    for (int c = 0; c < 20; c++) {
        uint64_t rate = 20000 + rnd(&rng) % 4000000; /* 20 kB/s .. 4 MB/s */
        const uint64_t t0 = rnd(&rng) % 100000, T = 20000;
        struct limiter l;
        ck_assert_int_eq(limiter_init(&l, rate, t0), 0);
        struct {
            size_t granted, used;
            uint64_t until, wake;
        } conn[CONNS] = {{0}};
        uint64_t gone = 0, first = 0;
        int started = 0;
        for (uint64_t t = t0 + 1 + rnd(&rng) % 5000; t < t0 + T; t++) {
            unsigned start = (unsigned)(rnd(&rng) % CONNS);
            for (unsigned k = 0; k < CONNS; k++) {
                unsigned i = (start + k) % CONNS;
                if (conn[i].granted > 0 && t >= conn[i].until) {
                    limiter_settle(&l, conn[i].granted, conn[i].used, t);
                    gone -= conn[i].granted - conn[i].used; /* never left after all */
                    conn[i].granted = 0;
                }
                if (conn[i].granted > 0 || t < conn[i].wake)
                    continue;
                size_t want = 1 + (size_t)(rnd(&rng) % (3 * LIMITER_STEP));
                uint64_t wait;
                size_t g = limiter_grant(&l, want, t, &wait);
                if (!started) {
                    started = 1;
                    first = t;
                }
                if (g == 0) {
                    ck_assert_uint_gt(wait, 0);
                    conn[i].wake = t + wait;
                    continue;
                }
                ck_assert_uint_le(g, want);
                conn[i].granted = g;
                conn[i].used = rnd(&rng) % 4 == 0 ? (size_t)(rnd(&rng) % (g + 1)) : g;
                conn[i].until = t + rnd(&rng) % 4;
                gone += g;
                ck_assert_msg(gone * 1000 <= rate * (t - first),
                              "seed %llu case %d: %llu B granted by %llu ms after the first use "
                              "at %llu B/s, more than the rate allows (%llu B)",
                              (unsigned long long)seed, c, (unsigned long long)gone,
                              (unsigned long long)(t - first), (unsigned long long)rate,
                              (unsigned long long)(rate * (t - first) / 1000));
            }
        }
        double avg = (double)gone * 1000.0 / (double)(t0 + T - first);
        ck_assert_msg(avg >= (double)rate * 0.9, "seed %llu case %d: %.0f B/s for a %llu B/s limit",
                      (unsigned long long)seed, c, avg, (unsigned long long)rate);
        limiter_free(&l);
    }
}
END_TEST

/* Real threads share one limiter whose clock is a shared counter that one thread advances, and
 * whose first use is at time 0, before the threads start. Each worker adds what it was granted to
 * a shared total, then reads the clock: the total can never exceed rate * clock, since every
 * grant in it was taken at an earlier tick.
 * Under ThreadSanitizer this also checks that the limiter's state is only touched under its
 * mutex. */
enum { THREADS = 6 };
static const uint64_t thr_rate = 1000000;
static atomic_uint_fast64_t thr_clock, thr_gone, thr_bad;
static atomic_int thr_stop;

static void *thr_worker(void *arg)
{
    struct limiter *l = arg;
    uint64_t rng = 77 + (uint64_t)(uintptr_t)&rng % 1000;
    while (!atomic_load(&thr_stop)) {
        uint64_t now = atomic_load(&thr_clock), wait;
        size_t g = limiter_grant(l, 1 + (size_t)(rnd(&rng) % LIMITER_STEP), now, &wait);
        if (g == 0)
            continue;
        uint64_t gone = atomic_fetch_add(&thr_gone, g) + g;
        uint64_t later = atomic_load(&thr_clock);
        if (gone * 1000 > thr_rate * later)
            atomic_store(&thr_bad, gone);
        size_t used = (size_t)(rnd(&rng) % (g + 1));
        atomic_fetch_sub(&thr_gone, g - used);
        limiter_settle(l, g, used, later);
    }
    return NULL;
}

START_TEST(limiter_threads_never_beat_the_rate)
{
    struct limiter l;
    ck_assert_int_eq(limiter_init(&l, thr_rate, 0), 0);
    ck_assert_uint_gt(limiter_wait_ms(&l, 1, 0), 0); /* the first use, at 0 */
    atomic_store(&thr_clock, 0);
    atomic_store(&thr_gone, 0);
    atomic_store(&thr_bad, 0);
    atomic_store(&thr_stop, 0);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, thr_worker, &l), 0);
    /* A fake millisecond per real 50 microseconds, or so: 2000 ticks of fake time. */
    for (int i = 0; i < 2000; i++) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL); /* pacing the fake clock, not synchronising */
        atomic_fetch_add(&thr_clock, 1);
    }
    atomic_store(&thr_stop, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_msg(atomic_load(&thr_bad) == 0, "%llu bytes granted, more than the rate allows",
                  (unsigned long long)atomic_load(&thr_bad));
    ck_assert_uint_gt(atomic_load(&thr_gone), 0);
    limiter_free(&l);
}
END_TEST

static Suite *limiter_suite(void)
{
    Suite *s = suite_create("limiter");
    TCase *tc = tcase_create("limiter");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, limiter_unlimited_grants_everything);
    tcase_add_test(tc, limiter_grant_is_debited_at_once);
    tcase_add_test(tc, limiter_idle_before_first_use_gives_no_burst);
    tcase_add_test(tc, limiter_many_connections_never_beat_the_rate);
    tcase_add_test(tc, limiter_threads_never_beat_the_rate);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(limiter_suite)
