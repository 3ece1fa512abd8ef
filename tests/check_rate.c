/*
 * check_rate.c - the rolling-window rate meter on a fake clock.
 *
 * Steady streams must read their true rate at every moment (also early on, and right after a
 * bucket boundary), old traffic must fade out of the window, long jumps forward must empty it,
 * and a differential test compares the ring against a naive list of every transfer.
 */
#include "testlib.h"
#include "rate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ck_assert records every check that passes (in a pipe or file, for its failure report), which
 * is slow in loops of millions of steps; this tests the condition first and calls Check only to
 * report a failure. */
#define check_msg(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* Asserts that got is within pct percent of want. */
#define ck_assert_near(got, want, pct)                                                             \
    ck_assert_msg((double)(got) >= (double)(want) * (1 - (pct) / 100.0) &&                         \
                      (double)(got) <= (double)(want) * (1 + (pct) / 100.0),                       \
                  "%s = %llu, want %llu within %d%%", #got, (unsigned long long)(got),             \
                  (unsigned long long)(want), (int)(pct))

START_TEST(rate_init_geometry)
{
    struct rate r;
    rate_init(&r, 20000, 5);
    ck_assert_uint_eq(r.nbuckets, 20);
    ck_assert(r.bucket_ms == 1000);
    ck_assert(r.start_ms == 5);
    rate_init_buckets(&r, 1000, 3, 0); /* 333.3 ms rounds up to 334 */
    ck_assert(r.bucket_ms == 334);
    rate_init_buckets(&r, 10, 1000, 0); /* too many buckets: clamped, and at least 1 ms wide */
    ck_assert_uint_eq(r.nbuckets, RATE_MAX_BUCKETS);
    ck_assert(r.bucket_ms == 1);
    rate_init_buckets(&r, 5000, 0, 0);
    ck_assert_uint_eq(r.nbuckets, 1);
    ck_assert(r.bucket_ms == 5000);
    rate_init(&r, 0, 0);
    ck_assert(r.bucket_ms == 1);
}
END_TEST

START_TEST(rate_empty_reads_zero)
{
    struct rate r;
    rate_init(&r, 20000, 1000);
    ck_assert(rate_get(&r, 1000) == 0);
    ck_assert(rate_get(&r, 500) == 0); /* before the start */
    ck_assert(rate_get(&r, 1000000) == 0);
}
END_TEST

START_TEST(rate_steady_stream_reads_true_rate)
{
    /* 1000 bytes every 100 ms is 10000 bytes/s. After the first second the reading must be
     * within 1% at every moment, before the window is full as well as after, and just after a
     * bucket boundary too (a meter that divides by the whole window reads 5% low there). */
    struct rate r;
    const uint64_t t0 = 123456789;
    rate_init(&r, 20000, t0);
    for (uint64_t t = 0; t <= 60000; t += 100) {
        rate_add(&r, 1000, t0 + t);
        if (t >= 1000) {
            /* Bytes added at t cover the 100 ms that follow, so read just before the next. */
            uint64_t got = rate_get(&r, t0 + t + 99);
            ck_assert_msg(got >= 9900 && got <= 10100, "t=%llu ms: %llu bytes/s",
                          (unsigned long long)t, (unsigned long long)got);
        }
    }
    ck_assert(r.total == 601 * 1000);
}
END_TEST

START_TEST(rate_early_on_uses_time_since_start)
{
    /* After 5 s at 10000 bytes/s the meter reads 10000, not 2500 (50000 over a 20 s window). */
    struct rate r;
    rate_init(&r, 20000, 0);
    for (uint64_t t = 0; t < 5000; t += 10)
        rate_add(&r, 100, t);
    ck_assert_near(rate_get(&r, 5000), 10000, 1);
}
END_TEST

START_TEST(rate_first_burst_divided_by_one_bucket)
{
    /* One 16 KiB block a millisecond after start reads as 16 KiB per bucket width (1 s), not
     * as 16 MiB/s. */
    struct rate r;
    rate_init(&r, 20000, 0);
    rate_add(&r, 16384, 1);
    ck_assert(rate_get(&r, 1) == 16384);
    ck_assert(rate_get(&r, 999) == 16384);
    ck_assert(rate_get(&r, 2000) == 8192); /* now two seconds old */
}
END_TEST

START_TEST(rate_exact_small_example)
{
    /* Four 1 s buckets. 4000 bytes at 0.5 s, 2000 at 2.5 s; at 3.5 s the window covers 0..3.5 s
     * (the meter's whole life): 6000 / 3.5 = 1714. At 4.5 s it covers 1..4.5 s, where the first
     * transfer no longer counts: 2000 / 3.5 = 571. At 6 s the window starts at 3 s, after the
     * second transfer too. */
    struct rate r;
    rate_init_buckets(&r, 4000, 4, 0);
    rate_add(&r, 4000, 500);
    rate_add(&r, 2000, 2500);
    ck_assert_uint_eq(rate_get(&r, 3500), 1714);
    ck_assert_uint_eq(rate_get(&r, 4000), 666); /* 2000 bytes over 1..4 s */
    ck_assert_uint_eq(rate_get(&r, 4500), 571);
    ck_assert_uint_eq(rate_get(&r, 5999), 500); /* 2000 bytes over 2..5.999 s */
    ck_assert_uint_eq(rate_get(&r, 6000), 0);   /* 2.5 s is out of the window 3..6 s */
}
END_TEST

START_TEST(rate_fades_after_traffic_stops)
{
    struct rate r;
    rate_init(&r, 20000, 0);
    for (uint64_t t = 0; t < 30000; t += 100)
        rate_add(&r, 1000, t);
    ck_assert_near(rate_get(&r, 30000), 10000, 1);
    /* At 40.999 s the window 21..40.999 s holds 9 s of traffic: 90000 bytes over 20 s. */
    ck_assert_near(rate_get(&r, 40999), 4500, 1);
    ck_assert(rate_get(&r, 50000) == 0); /* all of it is */
    ck_assert(rate_get(&r, 50000 + 1000000) == 0);
}
END_TEST

START_TEST(rate_jump_longer_than_window)
{
    /* An hour of silence: the old bytes are gone, and the new ones alone are counted. */
    struct rate r;
    rate_init(&r, 20000, 0);
    for (uint64_t t = 0; t < 20000; t += 100)
        rate_add(&r, 5000, t);
    const uint64_t later = 3600ull * 1000;
    ck_assert(rate_get(&r, later) == 0);
    rate_add(&r, 1000, later);
    ck_assert(rate_get(&r, later + 999) == 50); /* 1000 bytes over a 19.999 s window */
    /* A jump of exactly one window plus one bucket also clears everything. */
    rate_init(&r, 20000, 0);
    rate_add(&r, 1000, 0);
    rate_add(&r, 1000, 21000);
    ck_assert(rate_get(&r, 21999) == 50);
}
END_TEST

START_TEST(rate_get_changes_nothing)
{
    struct rate r, copy;
    rate_init(&r, 20000, 0);
    rate_add(&r, 100, 10);
    memcpy(&copy, &r, sizeof r);
    (void)rate_get(&r, 50000);
    ck_assert_mem_eq(&copy, &r, sizeof r);
}
END_TEST

START_TEST(rate_time_going_backwards)
{
    /* A clock that steps back is not expected, but must not lose or corrupt anything. */
    struct rate r;
    rate_init(&r, 20000, 10000);
    rate_add(&r, 1000, 15000);
    rate_add(&r, 1000, 12000); /* earlier: counted in the newest bucket */
    rate_add(&r, 1000, 5000);  /* before the start */
    ck_assert(r.total == 3000);
    ck_assert_uint_eq(rate_get(&r, 16000), 3000 * 1000 / 6000);
    ck_assert_uint_eq(rate_get(&r, 11000), 3000 * 1000 / 5000); /* read as of 15 s */
}
END_TEST

START_TEST(rate_huge_counts_do_not_overflow)
{
    struct rate r;
    rate_init(&r, 20000, 0);
    const uint64_t big = 1ull << 62;
    rate_add(&r, big, 0);
    ck_assert(rate_get(&r, 1000) == big);     /* 2^62 bytes in one second */
    ck_assert(rate_get(&r, 4000) == big / 4); /* ... spread over four */
    ck_assert(rate_get(&r, 3000) == big / 3); /* exact, with the remainder carried */
    ck_assert(rate_get(&r, UINT64_MAX) == 0); /* the far future */
    rate_init(&r, 20000, UINT64_MAX - 5000);  /* a clock near its end */
    rate_add(&r, 3000, UINT64_MAX - 1000);
    ck_assert(rate_get(&r, UINT64_MAX) == 3000 * 1000 / 5000);
}
END_TEST

START_TEST(rate_far_jump_takes_constant_time)
{
    /* A jump of 2^60 ms must not walk 2^50 buckets one by one: this test has a 5 s limit. */
    struct rate r;
    rate_init_buckets(&r, 20, 20, 0); /* 1 ms buckets: the most buckets to walk */
    rate_add(&r, 1000, 5);
    rate_add(&r, 1000, 1ull << 60);
    ck_assert(rate_get(&r, 1ull << 60) == 1000 * 1000 / 19); /* 19 whole 1 ms buckets back */
    ck_assert(r.total == 2000);
}
END_TEST

/* ---- differential test: the ring against a list of every transfer --------------------------- */

struct event {
    uint64_t t, bytes;
};

/* Computes the reading from the definition: the bytes of every transfer whose bucket lies in
 * the window ending at now, over the time those buckets cover (at least one bucket width). */
static uint64_t naive_rate(uint64_t start, uint64_t bucket_ms, unsigned n, const struct event *ev,
                           size_t nev, uint64_t now)
{
    uint64_t cur = (now - start) / bucket_ms;
    uint64_t oldest = cur + 1 >= n ? cur + 1 - n : 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < nev; i++) {
        uint64_t k = (ev[i].t - start) / bucket_ms;
        if (k >= oldest && k <= cur)
            sum += ev[i].bytes;
    }
    uint64_t span = now - start - oldest * bucket_ms;
    if (span < bucket_ms)
        span = bucket_ms;
    return sum / span * 1000 + sum % span * 1000 / span;
}

/* xorshift64*, so the random test replays from its seed. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

START_TEST(rate_matches_naive_random)
{
    const uint64_t seed = 777;
    uint64_t rng = seed;
    struct event *ev = malloc(2000 * sizeof *ev);
    ck_assert_ptr_nonnull(ev);
    for (int c = 0; c < 60; c++) {
        unsigned n = 1 + (unsigned)(rnd(&rng) % 24);
        uint64_t window = 1 + rnd(&rng) % 30000;
        uint64_t start = rnd(&rng) % 1000000;
        struct rate r;
        rate_init_buckets(&r, window, n, start);
        uint64_t t = start;
        size_t nev = 0;
        for (int step = 0; step < 2000; step++) {
            /* Mostly small steps, sometimes a jump of several windows. */
            uint64_t dt =
                rnd(&rng) % 50 == 0 ? rnd(&rng) % (3 * window + 1) : rnd(&rng) % (r.bucket_ms + 1);
            t += dt;
            if (rnd(&rng) % 2) {
                uint64_t b = rnd(&rng) % 20000;
                rate_add(&r, b, t);
                ev[nev++] = (struct event){t, b};
            }
            uint64_t want = naive_rate(start, r.bucket_ms, r.nbuckets, ev, nev, t);
            uint64_t got = rate_get(&r, t);
            check_msg(got == want, "seed %llu case %d step %d: got %llu, want %llu",
                      (unsigned long long)seed, c, step, (unsigned long long)got,
                      (unsigned long long)want);
        }
    }
    free(ev);
}
END_TEST

static Suite *rate_suite(void)
{
    Suite *s = suite_create("rate");
    TCase *tc = tcase_create("rate");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rate_init_geometry);
    tcase_add_test(tc, rate_empty_reads_zero);
    tcase_add_test(tc, rate_steady_stream_reads_true_rate);
    tcase_add_test(tc, rate_early_on_uses_time_since_start);
    tcase_add_test(tc, rate_first_burst_divided_by_one_bucket);
    tcase_add_test(tc, rate_exact_small_example);
    tcase_add_test(tc, rate_fades_after_traffic_stops);
    tcase_add_test(tc, rate_jump_longer_than_window);
    tcase_add_test(tc, rate_get_changes_nothing);
    tcase_add_test(tc, rate_time_going_backwards);
    tcase_add_test(tc, rate_huge_counts_do_not_overflow);
    tcase_add_test(tc, rate_matches_naive_random);
    suite_add_tcase(s, tc);
    TCase *fast = tcase_create("rate_fast");
    tcase_set_timeout(fast, 5);
    tcase_add_test(fast, rate_far_jump_takes_constant_time);
    suite_add_tcase(s, fast);
    return s;
}

TK_MAIN(rate_suite)
