/*
 * check_limiter.c - the shared rate limit: bytes counted after they move, debts paid before more
 * may move, and the long-run average equal to the configured rate. Time is a parameter.
 */
#include "testlib.h"
#include "limiter.h"

START_TEST(limiter_unlimited_allows_everything)
{
    struct limiter l;
    limiter_init(&l, 0, 0);
    uint64_t wait;
    ck_assert_uint_eq(limiter_allow(&l, 1 << 20, 0, &wait), 1 << 20);
    ck_assert_uint_eq(wait, 0);
    limiter_used(&l, 1 << 20, 0);
    ck_assert_uint_eq(limiter_allow(&l, 1 << 20, 0, &wait), 1 << 20);
    limiter_free(&l);
}
END_TEST

START_TEST(limiter_debt_blocks_until_paid)
{
    struct limiter l;
    limiter_init(&l, 100000, 0); /* 100 kB/s */
    uint64_t wait;
    /* The bucket starts empty: nothing may move at once, and little after 200 ms. */
    ck_assert_uint_eq(limiter_allow(&l, 1 << 20, 0, &wait), 0);
    size_t first = limiter_allow(&l, 1 << 20, 200, &wait);
    ck_assert_uint_gt(first, 0);
    ck_assert_uint_le(first, 20000 + 16 * 1024 + 13);
    limiter_used(&l, 200000, 200); /* a read brought two seconds' worth at once */
    ck_assert_uint_eq(limiter_allow(&l, 1000, 200, &wait), 0);
    ck_assert_uint_gt(wait, 0);
    /* Waiting as told, again and again, the next byte may move about two seconds later. */
    uint64_t now = 200;
    while (limiter_allow(&l, 1000, now, &wait) == 0)
        now += wait;
    now -= 200;
    ck_assert_msg(now >= 1700 && now <= 2100, /* less what the first 200 ms paid */
                  "a 200 kB debt at 100 kB/s was paid after %llu ms; expected about 2000",
                  (unsigned long long)now);
    limiter_free(&l);
}
END_TEST

/* A seed waits for its first leecher; the tokens of that wait must not go out in a burst, or a
 * swarm could beat the bound that assumes the rate from the first byte. */
START_TEST(limiter_idle_before_first_use_gives_no_burst)
{
    struct limiter l;
    limiter_init(&l, 100000, 0); /* 100 kB/s, a burst of 16 KiB or 10 kB */
    uint64_t wait;
    ck_assert_uint_eq(limiter_allow(&l, 1 << 20, 10000, &wait), 0); /* first use, 10 s later */
    ck_assert_uint_gt(wait, 0);
    /* Greedy from then on for one second of fake time: about 100 kB, plus one step of slack. */
    uint64_t moved = 0, now = 10000;
    while (now < 11000) {
        size_t n = limiter_allow(&l, 1 << 20, now, &wait);
        if (n == 0) {
            now += wait;
            continue;
        }
        limiter_used(&l, n, now);
        moved += n;
    }
    ck_assert_msg(moved <= 100000 + 16 * 1024 + 13,
                  "%llu bytes moved in the first second after a 10 s wait at 100 kB/s",
                  (unsigned long long)moved);
    limiter_free(&l);
}
END_TEST

START_TEST(limiter_average_is_the_rate)
{
    /* Simulate a greedy reader for 100 s of fake time: whenever allowed, it moves what it was
     * allowed plus a random overshoot (a socket read can bring more than asked for is not
     * possible, but several threads sharing one limiter can overshoot together). */
    const uint64_t rate = 1000000;
    struct limiter l;
    limiter_init(&l, rate, 0);
    unsigned x = 12345;
    uint64_t moved = 0, now = 0;
    while (now < 100000) {
        uint64_t wait;
        size_t n = limiter_allow(&l, 256 * 1024, now, &wait);
        if (n == 0) {
            now += wait;
            continue;
        }
        x = x * 1103515245u + 12345u;
        size_t extra = (x >> 16) % 4096;
        limiter_used(&l, n + extra, now);
        moved += n + extra;
        now += 1;
    }
    double avg = (double)moved / 100.0;
    ck_assert_msg(avg > rate * 0.99 && avg < rate * 1.01, "average %.0f B/s for a %llu B/s limit",
                  avg, (unsigned long long)rate);
    limiter_free(&l);
}
END_TEST

static Suite *limiter_suite(void)
{
    Suite *s = suite_create("limiter");
    TCase *tc = tcase_create("limiter");
    tcase_add_test(tc, limiter_unlimited_allows_everything);
    tcase_add_test(tc, limiter_debt_blocks_until_paid);
    tcase_add_test(tc, limiter_idle_before_first_use_gives_no_burst);
    tcase_add_test(tc, limiter_average_is_the_rate);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(limiter_suite)
