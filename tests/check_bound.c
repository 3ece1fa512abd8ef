/*
 * check_bound.c - the Kurose & Ross distribution-time bounds (core/bound.c).
 *
 * The numbers are checked against values worked out by hand from the formulas, including the
 * textbook's own example (F/u = 1 hour, u_s = 10u, d_min >= u_s), and against the two facts the
 * lecture rests on: the client-server bound grows linearly in N, the P2P bound levels off.
 */
#include "testlib.h"
#include "bound.h"

#include <stdint.h>

#define MiB (1024.0 * 1024.0)

/* Asserts two doubles agree to a part in a million. */
#define ck_assert_close(got, want)                                                                 \
    ck_assert_msg((got) >= (want) * (1 - 1e-6) - 1e-12 && (got) <= (want) * (1 + 1e-6) + 1e-12,    \
                  "%s = %.9g, want %.9g", #got, (double)(got), (double)(want))

START_TEST(bound_client_server_server_limited)
{
    /* 8 peers, 8 MiB, u_s = 4 MiB/s, unlimited downloads: 8 * 8 / 4 = 16 s. */
    struct kr_params p;
    enum kr_limit why;
    kr_params_uniform(&p, 8u << 20, 8, 4u << 20, 0, 0);
    ck_assert_close(kr_bound_client_server(&p, &why), 16.0);
    ck_assert_int_eq(why, KR_LIMIT_SERVER_ALL);
}
END_TEST

START_TEST(bound_client_server_download_limited)
{
    /* One peer with a slow download: F/d_min = 8 MiB / 1 MiB/s = 8 s beats 1 * 8 / 4 = 2 s. */
    struct kr_params p;
    enum kr_limit why;
    kr_params_uniform(&p, 8u << 20, 1, 4u << 20, 0, 1u << 20);
    ck_assert_close(kr_bound_client_server(&p, &why), 8.0);
    ck_assert_int_eq(why, KR_LIMIT_SLOWEST_DOWN);
}
END_TEST

START_TEST(bound_p2p_real_clients_example)
{
    /* The setting `make bench` runs the real clients at: F = 16 MiB, u_s = 2 MiB/s, u_i = 1 MiB/s, N = 8.
     * F/u_s = 8 s; N*F/(u_s + N u_i) = 128/10 = 12.8 s. */
    struct kr_params p;
    enum kr_limit why;
    kr_params_uniform(&p, 16u << 20, 8, 2u << 20, 1u << 20, 0);
    ck_assert_close(kr_bound_p2p(&p, &why), 12.8);
    ck_assert_int_eq(why, KR_LIMIT_TOTAL_UPLOAD);
    /* With N = 1 the seed's single copy dominates: max{8, 16/3} = 8 s. */
    kr_params_uniform(&p, 16u << 20, 1, 2u << 20, 1u << 20, 0);
    ck_assert_close(kr_bound_p2p(&p, &why), 8.0);
    ck_assert_int_eq(why, KR_LIMIT_SEED_ONE_COPY);
}
END_TEST

START_TEST(bound_p2p_download_limited)
{
    struct kr_params p;
    enum kr_limit why;
    /* d_min = 256 KiB/s: F/d_min = 4 MiB / 0.25 = 16 s, above F/u_s = 4 and 2*4/(1+1) = 4. */
    kr_params_uniform(&p, 4u << 20, 2, 1u << 20, 512u << 10, 256u << 10);
    ck_assert_close(kr_bound_p2p(&p, &why), 16.0);
    ck_assert_int_eq(why, KR_LIMIT_SLOWEST_DOWN);
}
END_TEST

START_TEST(bound_textbook_figure)
{
    /* Kurose & Ross: F/u = 1 hour, u_s = 10u, d_min >= u_s. In hours:
     * client-server N/10 (for N >= 1); P2P max{1/10, N/(10 + N)}. With u = 1 byte/s and
     * F = 3600 bytes the bounds come out in seconds, so divide by 3600. */
    for (unsigned n = 1; n <= 35; n++) {
        struct kr_params p;
        kr_params_uniform(&p, 3600, n, 10, 1, 10);
        double cs = kr_bound_client_server(&p, NULL) / 3600;
        double p2p = kr_bound_p2p(&p, NULL) / 3600;
        double want_cs = n / 10.0 > 0.1 ? n / 10.0 : 0.1;
        double want_p2p = (double)n / (10.0 + n) > 0.1 ? (double)n / (10.0 + n) : 0.1;
        ck_assert_close(cs, want_cs);
        ck_assert_close(p2p, want_p2p);
        /* P2P never needs longer than client-server, and stays below 1 hour. */
        ck_assert(p2p <= cs + 1e-12);
        ck_assert(p2p < 1.0);
    }
}
END_TEST

START_TEST(bound_client_server_linear_p2p_levels_off)
{
    struct kr_params p;
    double cs[65], p2p[65];
    for (unsigned n = 1; n <= 64; n++) {
        kr_params_uniform(&p, 4u << 20, n, 1u << 20, 512u << 10, 0);
        cs[n] = kr_bound_client_server(&p, NULL);
        p2p[n] = kr_bound_p2p(&p, NULL);
    }
    /* Client-server: doubling N doubles the bound. */
    ck_assert_close(cs[64], 2 * cs[32]);
    ck_assert_close(cs[16], 4 * cs[4]);
    /* P2P: it approaches F/u_i = 8 s and never passes it. */
    for (unsigned n = 1; n <= 64; n++) {
        ck_assert(p2p[n] < 8.0);
        if (n > 1)
            ck_assert(p2p[n] >= p2p[n - 1] - 1e-12);
    }
    ck_assert(p2p[64] > 7.5);
}
END_TEST

START_TEST(bound_unlimited_rates)
{
    struct kr_params p;
    enum kr_limit why;
    /* Everything unlimited: no bound at all. */
    kr_params_uniform(&p, 4u << 20, 8, 0, 0, 0);
    ck_assert(kr_bound_p2p(&p, &why) == 0.0);
    ck_assert_int_eq(why, KR_LIMIT_NONE);
    ck_assert(kr_bound_client_server(&p, &why) == 0.0);
    ck_assert_int_eq(why, KR_LIMIT_NONE);
    /* Unlimited peer uploads make the combined term vanish; F/u_s remains. */
    kr_params_uniform(&p, 4u << 20, 8, 1u << 20, 0, 0);
    ck_assert_close(kr_bound_p2p(&p, &why), 4.0);
    ck_assert_int_eq(why, KR_LIMIT_SEED_ONE_COPY);
    /* An unlimited seed with limited downloads: only F/d_min is left, in both models. */
    kr_params_uniform(&p, 4u << 20, 8, 0, 1u << 20, 2u << 20);
    ck_assert_close(kr_bound_p2p(&p, &why), 2.0);
    ck_assert_int_eq(why, KR_LIMIT_SLOWEST_DOWN);
    ck_assert_close(kr_bound_client_server(&p, &why), 2.0);
    ck_assert_int_eq(why, KR_LIMIT_SLOWEST_DOWN);
}
END_TEST

START_TEST(bound_zero_peers)
{
    struct kr_params p;
    kr_params_uniform(&p, 4u << 20, 0, 1u << 20, 1u << 20, 1u << 20);
    ck_assert(kr_bound_p2p(&p, NULL) == 0.0);
    ck_assert(kr_bound_client_server(&p, NULL) == 0.0);
}
END_TEST

START_TEST(bound_uneven_uploads)
{
    /* The general form takes any sum of u_i: N = 3 uploading 1, 2 and 3 MiB/s, u_s = 2 MiB/s,
     * F = 12 MiB. The combined term is 3 * 12 / 8 = 4.5 s, so F/u_s = 12 / 2 = 6 s wins. */
    struct kr_params p = {.file_bytes = 12 * MiB,
                          .peers = 3,
                          .seed_up = 2 * MiB,
                          .peers_up_sum = 6 * MiB,
                          .down_min = 0};
    enum kr_limit why;
    ck_assert_close(kr_bound_p2p(&p, &why), 6.0);
    ck_assert_int_eq(why, KR_LIMIT_SEED_ONE_COPY);
    p.peers = 6; /* 6 * 12 / 8 = 9 s */
    ck_assert_close(kr_bound_p2p(&p, &why), 9.0);
    ck_assert_int_eq(why, KR_LIMIT_TOTAL_UPLOAD);
}
END_TEST

START_TEST(bound_limit_texts)
{
    for (int w = KR_LIMIT_NONE; w <= KR_LIMIT_SERVER_ALL; w++)
        ck_assert_ptr_nonnull(kr_limit_text((enum kr_limit)w));
    ck_assert_str_ne(kr_limit_text(KR_LIMIT_TOTAL_UPLOAD), kr_limit_text(KR_LIMIT_SERVER_ALL));
}
END_TEST

static Suite *bound_suite(void)
{
    Suite *s = suite_create("bound");
    TCase *tc = tk_tcase(s, "bound", 10);
    tk_add_test(tc, bound_client_server_server_limited);
    tk_add_test(tc, bound_client_server_download_limited);
    tk_add_test(tc, bound_p2p_real_clients_example);
    tk_add_test(tc, bound_p2p_download_limited);
    tk_add_test(tc, bound_textbook_figure);
    tk_add_test(tc, bound_client_server_linear_p2p_levels_off);
    tk_add_test(tc, bound_unlimited_rates);
    tk_add_test(tc, bound_zero_peers);
    tk_add_test(tc, bound_uneven_uploads);
    tk_add_test(tc, bound_limit_texts);
    return s;
}

TK_MAIN(bound_suite)
