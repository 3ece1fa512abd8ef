/*
 * check_tokenbucket.c - the token bucket on a fake clock.
 *
 * Hand-worked refills check the exact numbers, including the thousandths of a byte carried from
 * one refill to the next; long simulated runs (hours, in microseconds of test time) check that a
 * greedy sender gets the configured rate within 1%, and that tb_wait_ms names exactly the
 * millisecond at which a write fits. Grants and settles, shared by many senders, keep the
 * bucket's promise: no more than burst + rate * time over any stretch.
 */
#include "testlib.h"
#include "tokenbucket.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ck_assert records every check that passes (in a pipe or file, for its failure report), which
 * is slow in loops of millions of steps; this tests the condition first and calls Check only to
 * report a failure. */
#define check_msg(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* xorshift64*, so the random runs replay from their seed. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

START_TEST(tokenbucket_unlimited)
{
    struct tokenbucket tb;
    tb_init(&tb, 0, 0, 100);
    ck_assert_uint_eq(tb_take(&tb, 1000000, 100), 1000000);
    ck_assert_uint_eq(tb_take(&tb, SIZE_MAX, 100), SIZE_MAX);
    ck_assert_uint_eq(tb_take(&tb, 0, 100), 0);
    ck_assert(tb_wait_ms(&tb, 1000000, 100) == 0);
}
END_TEST

START_TEST(tokenbucket_starts_full_then_empty)
{
    struct tokenbucket tb;
    tb_init(&tb, 1000, 5000, 0);
    ck_assert_uint_eq(tb_take(&tb, 3000, 0), 3000);
    ck_assert_uint_eq(tb_take(&tb, 3000, 0), 2000); /* only what is left */
    ck_assert_uint_eq(tb_take(&tb, 3000, 0), 0);    /* empty */
    ck_assert_uint_eq(tb_take(&tb, 0, 0), 0);
}
END_TEST

START_TEST(tokenbucket_burst_defaults)
{
    struct tokenbucket tb;
    tb_init(&tb, 4096, 0, 0); /* burst 0: one second's worth */
    ck_assert(tb.burst == 4096);
    ck_assert_uint_eq(tb_take(&tb, 100000, 0), 4096);
    tb_init(&tb, 0, 0, 0); /* unlimited: burst is moot but valid */
    ck_assert(tb.burst >= 1);
    tb_init(&tb, UINT64_MAX, UINT64_MAX, 0); /* absurd values are clamped, not overflowed */
    ck_assert(tb.rate_Bps > 0 && tb.burst > 0);
    ck_assert(tb_take(&tb, 1000, UINT64_MAX) == 1000);
}
END_TEST

START_TEST(tokenbucket_refill_exact)
{
    /* 1000 B/s is one byte per millisecond. */
    struct tokenbucket tb;
    tb_init(&tb, 1000, 100, 50);
    ck_assert_uint_eq(tb_take(&tb, 100, 50), 100);
    ck_assert_uint_eq(tb_take(&tb, 100, 57), 7);
    ck_assert_uint_eq(tb_take(&tb, 100, 57), 0);
    ck_assert_uint_eq(tb_take(&tb, 100, 1000), 100); /* refills to the burst, no further */
    ck_assert_uint_eq(tb_take(&tb, 100, 1000), 0);
}
END_TEST

START_TEST(tokenbucket_fraction_carried)
{
    /* 1500 B/s taken every millisecond: 1.5 bytes per call. Rounding each refill down would
     * give 1 byte a call (1000 B/s); carrying the half gives 1, 2, 1, 2, ... exactly 1500 B/s. */
    struct tokenbucket tb;
    tb_init(&tb, 1500, 10, 0);
    ck_assert_uint_eq(tb_take(&tb, 10, 0), 10);
    uint64_t got = 0;
    for (uint64_t t = 1; t <= 10000; t++)
        got += tb_take(&tb, 100, t);
    ck_assert(got == 15000);
    /* 3 B/s taken every millisecond: 0.003 bytes per call, still exactly 3 bytes a second. */
    tb_init(&tb, 3, 10, 0);
    tb_take(&tb, 10, 0);
    got = 0;
    for (uint64_t t = 1; t <= 1000000; t++)
        got += tb_take(&tb, 1, t);
    ck_assert(got == 3000);
}
END_TEST

START_TEST(tokenbucket_time_backwards_adds_nothing)
{
    struct tokenbucket tb;
    tb_init(&tb, 1000, 1000, 10000);
    tb_take(&tb, 1000, 10000);
    ck_assert_uint_eq(tb_take(&tb, 1000, 9000), 0);  /* a second earlier: nothing */
    ck_assert_uint_eq(tb_take(&tb, 1000, 10005), 5); /* the 5 ms since 10000 count once */
    ck_assert_uint_eq(tb_take(&tb, 1000, 10003), 0);
    ck_assert_uint_eq(tb_take(&tb, 1000, 10006), 1);
}
END_TEST

START_TEST(tokenbucket_idle_fills_to_burst_only)
{
    struct tokenbucket tb;
    tb_init(&tb, 1000000, 20000, 0);
    tb_take(&tb, 20000, 0);
    ck_assert_uint_eq(tb_take(&tb, SIZE_MAX, 3600ull * 1000), 20000); /* an hour idle */
    tb_take(&tb, 1, 1ull << 62);                                      /* a far jump: no overflow */
    ck_assert_uint_eq(tb_take(&tb, SIZE_MAX, 1ull << 62), 19999);
    ck_assert_uint_eq(tb_take(&tb, SIZE_MAX, UINT64_MAX), 20000);
}
END_TEST

START_TEST(tokenbucket_never_above_burst)
{
    /* Around the moment an empty bucket fills, it holds exactly min(burst, rate * t / 1000). */
    const uint64_t seed = 5150;
    uint64_t rng = seed;
    for (int c = 0; c < 20000; c++) {
        struct tokenbucket tb;
        uint64_t rate = 1 + rnd(&rng) % 1000000, burst = 1 + rnd(&rng) % 100000;
        tb_init(&tb, rate, burst, 0);
        tb_take(&tb, SIZE_MAX, 0);
        uint64_t fill = burst * 1000 / rate;
        uint64_t t = fill + rnd(&rng) % 5;
        t = t >= 2 ? t - 2 : t;
        uint64_t want = rate * t / 1000 < burst ? rate * t / 1000 : burst;
        size_t got = tb_take(&tb, SIZE_MAX, t);
        check_msg(got == want, "seed %llu case %d: rate %llu burst %llu t %llu: %zu, want %llu",
                  (unsigned long long)seed, c, (unsigned long long)rate, (unsigned long long)burst,
                  (unsigned long long)t, got, (unsigned long long)want);
    }
}
END_TEST

START_TEST(tokenbucket_wait_ms_exact)
{
    /* 1500 B/s, empty at t=0: 3000 bytes take exactly 2000 ms; 1 byte takes 1 ms (1.5 bytes). */
    struct tokenbucket tb, copy;
    tb_init(&tb, 1500, 4000, 0);
    tb_take(&tb, 4000, 0);
    ck_assert(tb_wait_ms(&tb, 3000, 0) == 2000);
    ck_assert(tb_wait_ms(&tb, 1, 0) == 1);
    ck_assert(tb_wait_ms(&tb, 0, 0) == 0);
    ck_assert(tb_wait_ms(&tb, 3000, 500) == 1500); /* measured from now */
    memcpy(&copy, &tb, sizeof tb);
    ck_assert_uint_eq(tb_take(&copy, 3000, 1999), 2998); /* one millisecond early: short */
    memcpy(&copy, &tb, sizeof tb);
    ck_assert_uint_eq(tb_take(&copy, 3000, 2000), 3000); /* on time: all of it */
    /* Asking for more than the burst waits only for a full bucket. */
    ck_assert(tb_wait_ms(&tb, 1000000, 0) == tb_wait_ms(&tb, 4000, 0));
    ck_assert(tb_wait_ms(&tb, 4000, 0) == 2667); /* 4000 / 1.5, rounded up */
    /* tb_wait_ms changes nothing. */
    memcpy(&copy, &tb, sizeof tb);
    (void)tb_wait_ms(&tb, 100, 777);
    ck_assert_mem_eq(&copy, &tb, sizeof tb);
}
END_TEST

START_TEST(tokenbucket_wait_ms_exact_random)
{
    /* For random rates, levels and wants, tb_wait_ms(want) = m means: at now + m the take gets
     * all of want, at now + m - 1 it does not. */
    const uint64_t seed = 4242;
    uint64_t rng = seed;
    for (int c = 0; c < 20000; c++) {
        struct tokenbucket tb, copy;
        uint64_t rate = 1 + rnd(&rng) % 100000;
        uint64_t burst = 1 + rnd(&rng) % 70000;
        uint64_t t = rnd(&rng) % 1000000;
        tb_init(&tb, rate, burst, t);
        tb_take(&tb, (size_t)(rnd(&rng) % (burst + 1)), t);
        t += rnd(&rng) % 50; /* leave a fraction in the bucket */
        tb_take(&tb, (size_t)(rnd(&rng) % (burst + 1)), t);
        size_t want = (size_t)(1 + rnd(&rng) % burst);
        uint64_t m = tb_wait_ms(&tb, want, t);
        memcpy(&copy, &tb, sizeof tb);
        check_msg(tb_take(&copy, want, t + m) == want, "seed %llu case %d: late",
                  (unsigned long long)seed, c);
        if (m > 0) {
            memcpy(&copy, &tb, sizeof tb);
            check_msg(tb_take(&copy, want, t + m - 1) < want, "seed %llu case %d: early",
                      (unsigned long long)seed, c);
        }
    }
}
END_TEST

START_TEST(tokenbucket_long_run_greedy_sender)
{
    /* A sender that takes all it can at random moments (never so far apart that the bucket
     * fills and overflows) gets, over two simulated hours, exactly burst + rate * T / 1000
     * bytes minus what is left in the bucket: within 1% of the rate, with no drift at all. */
    const uint64_t seed = 90210;
    uint64_t rng = seed;
    for (int c = 0; c < 30; c++) {
        uint64_t rate = 1 + rnd(&rng) % 10000000; /* 1 B/s .. 10 MB/s */
        uint64_t burst = 16384 + rnd(&rng) % 65536;
        uint64_t fill_ms = burst * 1000 / rate; /* how long an empty bucket takes to fill */
        uint64_t max_step = fill_ms < 2 ? 1 : fill_ms - 1;
        if (max_step > 2000)
            max_step = 2000;
        const uint64_t T = 2ull * 3600 * 1000, t0 = rnd(&rng) % 100000;
        struct tokenbucket tb;
        tb_init(&tb, rate, burst, t0);
        uint64_t got = tb_take(&tb, SIZE_MAX, t0), t = t0;
        while (t - t0 < T) {
            t += 1 + rnd(&rng) % max_step;
            if (t - t0 > T)
                t = t0 + T;
            got += tb_take(&tb, SIZE_MAX, t);
        }
        uint64_t expect = burst + rate * T / 1000;
        ck_assert_msg(got + tb.tokens == expect,
                      "seed %llu case %d: rate %llu burst %llu: %llu + %llu left, want %llu",
                      (unsigned long long)seed, c, (unsigned long long)rate,
                      (unsigned long long)burst, (unsigned long long)got,
                      (unsigned long long)tb.tokens, (unsigned long long)expect);
        double avg = (double)(got - burst) * 1000.0 / (double)T;
        ck_assert_msg(avg >= rate * 0.99 && avg <= rate * 1.01,
                      "seed %llu case %d: %f B/s for %llu B/s", (unsigned long long)seed, c, avg,
                      (unsigned long long)rate);
    }
}
END_TEST

START_TEST(tokenbucket_long_run_paced_sender)
{
    /* A sender that sends 16 KiB blocks and sleeps exactly tb_wait_ms between them, as the
     * shell will: every block is granted whole when the wait says, and the average over a
     * simulated day is the configured rate within 1%. */
    const uint64_t seed = 31337;
    uint64_t rng = seed;
    for (int c = 0; c < 6; c++) {
        /* Up to 200 kB/s keeps a simulated day to about a million blocks per case. */
        uint64_t rate = 20000 + rnd(&rng) % 180000;
        const size_t block = 16384 + 13;
        struct tokenbucket tb;
        tb_init(&tb, rate, 2 * block, 0);
        uint64_t t = 0, sent = 0;
        const uint64_t T = 24ull * 3600 * 1000;
        while (t < T) {
            t += tb_wait_ms(&tb, block, t);
            size_t got = tb_take(&tb, block, t);
            check_msg(got == block, "seed %llu case %d: granted %zu at %llu ms",
                      (unsigned long long)seed, c, got, (unsigned long long)t);
            sent += got;
        }
        double avg = (double)sent * 1000.0 / (double)t;
        ck_assert_msg(avg >= rate * 0.99 && avg <= rate * 1.01,
                      "seed %llu case %d: %f B/s for %llu B/s", (unsigned long long)seed, c, avg,
                      (unsigned long long)rate);
    }
}
END_TEST

START_TEST(tokenbucket_grant_all_or_nothing)
{
    /* A grant is the whole amount or nothing, taken at once; a settle gives back the unused
     * part, never above the burst. */
    struct tokenbucket tb;
    tb_init(&tb, 1000, 5000, 0);
    ck_assert_uint_eq(tb_grant(&tb, 3000, 0), 3000);
    ck_assert_uint_eq(tb_grant(&tb, 3000, 0), 0); /* 2000 left: nothing taken */
    ck_assert_uint_eq(tb.tokens, 2000);
    ck_assert_uint_eq(tb_grant(&tb, 2000, 0), 2000);
    ck_assert_uint_eq(tb_grant(&tb, 1, 0), 0);
    tb_settle(&tb, 3000, 1000, 0); /* 2000 of the first grant did not move */
    ck_assert_uint_eq(tb.tokens, 2000);
    tb_settle(&tb, 2000, 2000, 0); /* all of it moved: nothing back */
    tb_settle(&tb, 100, 500, 0);   /* more used than granted: nothing back, no underflow */
    ck_assert_uint_eq(tb.tokens, 2000);
    ck_assert_uint_eq(tb_grant(&tb, 9000, 2500), 0); /* capped at the burst: wait for 5000 */
    ck_assert(tb_wait_ms(&tb, 9000, 2500) == 500);
    ck_assert_uint_eq(tb_grant(&tb, 9000, 3000), 5000);
    /* Given back into a bucket that refilled meanwhile: capped at the burst. */
    tb_settle(&tb, 5000, 0, 3000 + 4000);
    ck_assert_uint_eq(tb.tokens, 5000);
    ck_assert_uint_eq(tb.milli, 0);
    ck_assert_uint_eq(tb_grant(&tb, 5001, 7000), 5000);
    /* Unlimited grants everything and settles nothing. */
    tb_init(&tb, 0, 0, 0);
    ck_assert_uint_eq(tb_grant(&tb, SIZE_MAX, 0), SIZE_MAX);
    tb_settle(&tb, SIZE_MAX, 0, 0);
    ck_assert_uint_eq(tb_grant(&tb, 7, 0), 7);
}
END_TEST

START_TEST(tokenbucket_grants_of_many_senders_keep_the_rate)
{
    /* Many senders share one bucket: each takes a grant of a random size when the bucket has it,
     * holds it for a few milliseconds and settles, having used a random part. Counting the bytes
     * as gone at their grant and back at their settle, over every stretch (s, t] no more than
     * burst + rate * (t - s) / 1000 went, which is the token bucket's promise. */
    enum { SENDERS = 10, T = 4000 };
    const uint64_t seed = 4242;
    uint64_t rng = seed;
    static uint64_t gone_at[T + 1]; /* net bytes granted by the end of each millisecond */
    for (int c = 0; c < 20; c++) {
        uint64_t rate = 1000 + rnd(&rng) % 5000000;
        uint64_t burst = 100 + rnd(&rng) % 100000;
        struct tokenbucket tb;
        tb_init(&tb, rate, burst, 0);
        struct {
            size_t granted, used;
            uint64_t until;
        } s[SENDERS] = {{0}};
        uint64_t gone = 0;
        for (uint64_t t = 0; t <= T; t++) {
            for (int i = 0; i < SENDERS; i++) {
                if (s[i].granted > 0 && t >= s[i].until) {
                    tb_settle(&tb, s[i].granted, s[i].used, t);
                    gone -= s[i].granted - s[i].used;
                    s[i].granted = 0;
                }
                if (s[i].granted > 0)
                    continue;
                size_t want = 1 + (size_t)(rnd(&rng) % (burst / 2 + 1));
                size_t g = tb_grant(&tb, want, t);
                check_msg(g == 0 || g == want, "seed %llu case %d: granted %zu of %zu",
                          (unsigned long long)seed, c, g, want);
                s[i].granted = g;
                s[i].used = rnd(&rng) % 3 == 0 ? (size_t)(rnd(&rng) % (g + 1)) : g;
                s[i].until = t + rnd(&rng) % 5;
                gone += g;
            }
            gone_at[t] = gone;
        }
        /* Over (s, t] the net bytes granted, gone_at[t] - gone_at[s], are bounded; the bucket
         * starts full, so from the start (s = -1) too. */
        for (uint64_t st = 0; st <= T; st += 1 + rnd(&rng) % 50)
            for (uint64_t t = st; t <= T; t += 1 + rnd(&rng) % 20) {
                /* Settles of earlier grants may give back more than went: nothing to check. */
                if (gone_at[t] < gone_at[st])
                    continue;
                uint64_t went = gone_at[t] - gone_at[st];
                check_msg(went * 1000 <= burst * 1000 + rate * (t - st) + 999,
                          "seed %llu case %d: %llu B in (%llu, %llu] ms at %llu B/s, burst %llu",
                          (unsigned long long)seed, c, (unsigned long long)went,
                          (unsigned long long)st, (unsigned long long)t, (unsigned long long)rate,
                          (unsigned long long)burst);
            }
        check_msg(gone_at[0] <= burst, "seed %llu case %d: %llu B at once from a %llu B burst",
                  (unsigned long long)seed, c, (unsigned long long)gone_at[0],
                  (unsigned long long)burst);
    }
}
END_TEST

static Suite *tokenbucket_suite(void)
{
    Suite *s = suite_create("tokenbucket");
    TCase *tc = tcase_create("tokenbucket");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tokenbucket_unlimited);
    tcase_add_test(tc, tokenbucket_starts_full_then_empty);
    tcase_add_test(tc, tokenbucket_burst_defaults);
    tcase_add_test(tc, tokenbucket_refill_exact);
    tcase_add_test(tc, tokenbucket_fraction_carried);
    tcase_add_test(tc, tokenbucket_time_backwards_adds_nothing);
    tcase_add_test(tc, tokenbucket_idle_fills_to_burst_only);
    tcase_add_test(tc, tokenbucket_never_above_burst);
    tcase_add_test(tc, tokenbucket_wait_ms_exact);
    tcase_add_test(tc, tokenbucket_wait_ms_exact_random);
    tcase_add_test(tc, tokenbucket_long_run_greedy_sender);
    tcase_add_test(tc, tokenbucket_long_run_paced_sender);
    tcase_add_test(tc, tokenbucket_grant_all_or_nothing);
    tcase_add_test(tc, tokenbucket_grants_of_many_senders_keep_the_rate);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(tokenbucket_suite)
