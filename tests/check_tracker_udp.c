/*
 * check_tracker_udp.c - BEP 15 packets against golden hex, compact peers, connection ids and the
 * retransmission schedule.
 */
#include "testlib.h"
#include "tracker_udp.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

/* Turns a hex string (spaces allowed) into bytes; returns the count. */
static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p != '\0'; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            ck_assert_uint_lt(n, cap);
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

/* Checks that p[0..n) equals the bytes that hex spells. */
static void expect_hex(const unsigned char *p, size_t n, const char *hex)
{
    unsigned char want[2048];
    size_t wn = unhex(hex, want, sizeof want);
    ck_assert_uint_eq(n, wn);
    ck_assert_mem_eq(p, want, wn);
}

#define PEER_ID_HEX "2d4d54303030312d6162636465666768696a6b6c" /* "-MT0001-abcdefghijkl" */

/* The announce request every golden test uses. */
static void sample_announce(struct tracker_udp_announce_req *r)
{
    memset(r, 0, sizeof *r);
    r->connection_id = 0x0102030405060708ULL;
    r->transaction_id = 0xdeadbeef;
    memset(r->info_hash, 0xaa, 20);
    memcpy(r->peer_id, "-MT0001-abcdefghijkl", 20);
    r->downloaded = 0x10;
    r->left = 0x1000;
    r->uploaded = 0x20;
    r->event = TRACKER_EVENT_STARTED;
    r->ip = 0;
    r->key = 0x11223344;
    r->num_want = -1;
    r->port = 6881;
}

#define ANNOUNCE_HEX                                                                               \
    "0102030405060708 00000001 deadbeef"                                                           \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" PEER_ID_HEX                                         \
    "0000000000000010 0000000000001000 0000000000000020"                                           \
    "00000002 00000000 11223344 ffffffff 1ae1"

/* ---------------------------------------------------------------- connect */

START_TEST(tracker_udp_connect_req_golden)
{
    unsigned char b[TRACKER_UDP_CONNECT_LEN];
    ck_assert_uint_eq(tracker_udp_encode_connect_req(b, 0x12345678), 16);
    expect_hex(b, 16, "0000041727101980 00000000 12345678");
}
END_TEST

START_TEST(tracker_udp_connect_req_parse)
{
    unsigned char b[32];
    char err[128];
    uint32_t tid = 0;
    size_t n = unhex("0000041727101980 00000000 12345678 ffff", b, sizeof b);
    /* Two trailing bytes are allowed: BEP 15 says packets may grow. */
    ck_assert_int_eq(tracker_udp_parse_connect_req(b, n, &tid, err, sizeof err), TRACKER_UDP_OK);
    ck_assert_uint_eq(tid, 0x12345678);

    ck_assert_int_eq(tracker_udp_parse_connect_req(b, 15, &tid, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "too short"));

    n = unhex("0000041727101981 00000000 12345678", b, sizeof b);
    ck_assert_int_eq(tracker_udp_parse_connect_req(b, n, &tid, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "protocol id"));

    n = unhex("0000041727101980 00000001 12345678", b, sizeof b);
    ck_assert_int_eq(tracker_udp_parse_connect_req(b, n, &tid, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "wrong action"));
}
END_TEST

START_TEST(tracker_udp_connect_resp_golden_and_parse)
{
    unsigned char b[32];
    char err[128];
    uint64_t cid = 0;
    ck_assert_uint_eq(tracker_udp_encode_connect_resp(b, 0x12345678, 0xfedcba9876543210ULL), 16);
    expect_hex(b, 16, "00000000 12345678 fedcba9876543210");

    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, 16, 0x12345678, &cid, err, sizeof err),
                     TRACKER_UDP_OK);
    ck_assert(cid == 0xfedcba9876543210ULL);
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, 15, 0x12345678, &cid, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, 7, 0x12345678, &cid, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    memset(b + 16, 0x77, 8);
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, 24, 0x12345678, &cid, err, sizeof err),
                     TRACKER_UDP_OK);
}
END_TEST

START_TEST(tracker_udp_reply_tid_mismatch)
{
    unsigned char b[16];
    char err[128] = "";
    uint64_t cid = 0;
    tracker_udp_encode_connect_resp(b, 0x12345678, 42);
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, 16, 0x12345679, &cid, err, sizeof err),
                     TRACKER_UDP_ETID);
    ck_assert_ptr_nonnull(strstr(err, "transaction id"));
    ck_assert(cid == 0);
}
END_TEST

START_TEST(tracker_udp_wrong_action_in_reply)
{
    unsigned char b[16];
    char err[128] = "";
    uint64_t cid = 0;
    size_t n = unhex("00000001 12345678 fedcba9876543210", b, sizeof b);
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, n, 0x12345678, &cid, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "wrong action 1"));
}
END_TEST

/* ---------------------------------------------------------------- error */

START_TEST(tracker_udp_error_golden_and_parse)
{
    unsigned char b[64];
    char err[128] = "";
    uint64_t cid = 0;
    size_t n = tracker_udp_encode_error(b, sizeof b, 7, "bad cid");
    expect_hex(b, n, "00000003 00000007 62616420636964");
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, n, 7, &cid, err, sizeof err),
                     TRACKER_UDP_ETRACKER);
    ck_assert_str_eq(err, "tracker error: bad cid");

    /* Control bytes in the message are replaced, and the message is cut to the buffer. */
    n = unhex("00000003 00000007 41 1b 42 0a", b, sizeof b);
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, n, 7, &cid, err, sizeof err),
                     TRACKER_UDP_ETRACKER);
    ck_assert_str_eq(err, "tracker error: A?B?");
    char small[18];
    n = tracker_udp_encode_error(b, sizeof b, 7, "a long message from the tracker");
    ck_assert_int_eq(tracker_udp_parse_connect_resp(b, n, 7, &cid, small, sizeof small),
                     TRACKER_UDP_ETRACKER);
    ck_assert_str_eq(small, "tracker error: a ");

    /* The encoder cuts a message that does not fit and refuses a buffer under 8 bytes. */
    ck_assert_uint_eq(tracker_udp_encode_error(b, 10, 7, "abcdef"), 10);
    ck_assert_uint_eq(tracker_udp_encode_error(b, 7, 7, "abcdef"), 0);
}
END_TEST

/* ---------------------------------------------------------------- announce */

START_TEST(tracker_udp_announce_req_golden)
{
    struct tracker_udp_announce_req r;
    unsigned char b[TRACKER_UDP_ANNOUNCE_REQ_LEN];
    sample_announce(&r);
    ck_assert_uint_eq(tracker_udp_encode_announce_req(b, &r), 98);
    expect_hex(b, 98, ANNOUNCE_HEX);
}
END_TEST

START_TEST(tracker_udp_announce_req_parse)
{
    struct tracker_udp_announce_req want, got;
    unsigned char b[128];
    char err[128];
    size_t n = unhex(ANNOUNCE_HEX "0102", b, sizeof b); /* with two bytes of BEP 41 options */
    sample_announce(&want);
    ck_assert_uint_eq(n, 100);
    ck_assert_int_eq(tracker_udp_parse_announce_req(b, n, &got, err, sizeof err), TRACKER_UDP_OK);
    ck_assert(got.connection_id == want.connection_id);
    ck_assert_uint_eq(got.transaction_id, want.transaction_id);
    ck_assert_mem_eq(got.info_hash, want.info_hash, 20);
    ck_assert_mem_eq(got.peer_id, want.peer_id, 20);
    ck_assert(got.downloaded == 0x10 && got.left == 0x1000 && got.uploaded == 0x20);
    ck_assert_int_eq(got.event, TRACKER_EVENT_STARTED);
    ck_assert_uint_eq(got.key, 0x11223344);
    ck_assert_int_eq(got.num_want, -1);
    ck_assert_uint_eq(got.port, 6881);

    /* num_want is signed: 0x80000000 is the most negative value, 50 stays 50. */
    b[92] = 0x80, b[93] = 0, b[94] = 0, b[95] = 0;
    ck_assert_int_eq(tracker_udp_parse_announce_req(b, n, &got, err, sizeof err), TRACKER_UDP_OK);
    ck_assert_int_eq(got.num_want, INT32_MIN);
    b[92] = 0, b[95] = 50;
    ck_assert_int_eq(tracker_udp_parse_announce_req(b, n, &got, err, sizeof err), TRACKER_UDP_OK);
    ck_assert_int_eq(got.num_want, 50);
}
END_TEST

START_TEST(tracker_udp_announce_req_rejects)
{
    struct tracker_udp_announce_req got;
    unsigned char b[128];
    char err[128] = "";
    size_t n = unhex(ANNOUNCE_HEX, b, sizeof b);

    ck_assert_int_eq(tracker_udp_parse_announce_req(b, 97, &got, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "too short"));

    b[11] = 2; /* action scrape */
    ck_assert_int_eq(tracker_udp_parse_announce_req(b, n, &got, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "wrong action"));
    b[11] = 1;

    b[83] = 4; /* event 4 does not exist */
    ck_assert_int_eq(tracker_udp_parse_announce_req(b, n, &got, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "event"));
    b[83] = 3;
    ck_assert_int_eq(tracker_udp_parse_announce_req(b, n, &got, err, sizeof err), TRACKER_UDP_OK);
    ck_assert_int_eq(got.event, TRACKER_EVENT_STOPPED);

    b[96] = 0, b[97] = 0; /* port 0 */
    ck_assert_int_eq(tracker_udp_parse_announce_req(b, n, &got, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "port"));
}
END_TEST

/* Fills an IPv4 peer. */
static struct tracker_peer v4(unsigned a, unsigned b, unsigned c, unsigned d, uint16_t port)
{
    struct tracker_peer p;
    memset(&p, 0, sizeof p);
    p.family = 4;
    p.ip[0] = (unsigned char)a, p.ip[1] = (unsigned char)b;
    p.ip[2] = (unsigned char)c, p.ip[3] = (unsigned char)d;
    p.port = port;
    return p;
}

START_TEST(tracker_udp_announce_resp_golden)
{
    struct tracker_peer peers[3] = {v4(127, 0, 0, 2, 6881), v4(10, 1, 2, 3, 51413),
                                    v4(192, 168, 0, 1, 1)};
    peers[1].family = 6; /* an IPv6 peer is left out of an IPv4 reply */
    struct tracker_udp_announce_resp r = {
        .transaction_id = 0xdeadbeef, .interval = 1800, .leechers = 5, .seeders = 3};
    unsigned char b[64];
    size_t n = tracker_udp_encode_announce_resp(b, sizeof b, &r, peers, 3, 4);
    expect_hex(b, n,
               "00000001 deadbeef 00000708 00000005 00000003"
               "7f000002 1ae1 c0a80001 0001");
    /* A buffer with room for one peer only gets one; under 20 bytes gets nothing. */
    ck_assert_uint_eq(tracker_udp_encode_announce_resp(b, 31, &r, peers, 3, 4), 26);
    ck_assert_uint_eq(tracker_udp_encode_announce_resp(b, 19, &r, peers, 3, 4), 0);
}
END_TEST

START_TEST(tracker_udp_announce_resp_parse)
{
    unsigned char b[128];
    char err[128];
    struct tracker_udp_announce_resp r;
    struct tracker_peer peers[4];
    size_t np = 99;
    size_t n = unhex("00000001 deadbeef 00000708 00000005 00000003"
                     "7f000002 1ae1 c0a80001 0001 0a000001 0000 ffff",
                     b, sizeof b);
    ck_assert_int_eq(
        tracker_udp_parse_announce_resp(b, n, 0xdeadbeef, 4, &r, peers, 4, &np, err, sizeof err),
        TRACKER_UDP_OK);
    ck_assert_uint_eq(r.interval, 1800);
    ck_assert_uint_eq(r.leechers, 5);
    ck_assert_uint_eq(r.seeders, 3);
    /* The port-0 entry is skipped and the two trailing bytes are ignored. */
    ck_assert_uint_eq(np, 2);
    ck_assert_int_eq(peers[0].family, 4);
    ck_assert_mem_eq(peers[0].ip, "\x7f\x00\x00\x02", 4);
    ck_assert_uint_eq(peers[0].port, 6881);
    ck_assert_mem_eq(peers[1].ip, "\xc0\xa8\x00\x01", 4);
    ck_assert_uint_eq(peers[1].port, 1);

    /* The cap on peers: max 1 keeps only the first. */
    ck_assert_int_eq(
        tracker_udp_parse_announce_resp(b, n, 0xdeadbeef, 4, &r, peers, 1, &np, err, sizeof err),
        TRACKER_UDP_OK);
    ck_assert_uint_eq(np, 1);

    ck_assert_int_eq(
        tracker_udp_parse_announce_resp(b, 19, 0xdeadbeef, 4, &r, peers, 4, &np, err, sizeof err),
        TRACKER_UDP_EMALFORMED);
    ck_assert_int_eq(
        tracker_udp_parse_announce_resp(b, n, 0xdeadbeee, 4, &r, peers, 4, &np, err, sizeof err),
        TRACKER_UDP_ETID);
}
END_TEST

START_TEST(tracker_udp_announce_resp_ipv6)
{
    struct tracker_peer in, out[2];
    memset(&in, 0, sizeof in);
    in.family = 6;
    in.ip[15] = 1; /* ::1 */
    in.port = 6881;
    struct tracker_udp_announce_resp r = {.transaction_id = 9, .interval = 60};
    unsigned char b[64];
    char err[128];
    size_t np;
    size_t n = tracker_udp_encode_announce_resp(b, sizeof b, &r, &in, 1, 6);
    expect_hex(b, n,
               "00000001 00000009 0000003c 00000000 00000000"
               "00000000000000000000000000000001 1ae1");
    ck_assert_int_eq(tracker_udp_parse_announce_resp(b, n, 9, 6, &r, out, 2, &np, err, sizeof err),
                     TRACKER_UDP_OK);
    ck_assert_uint_eq(np, 1);
    ck_assert_int_eq(out[0].family, 6);
    ck_assert_mem_eq(out[0].ip, in.ip, 16);
    ck_assert_uint_eq(out[0].port, 6881);
}
END_TEST

/* ---------------------------------------------------------------- scrape */

START_TEST(tracker_udp_scrape_golden)
{
    unsigned char hashes[2][20];
    memset(hashes[0], 0x11, 20);
    memset(hashes[1], 0x22, 20);
    unsigned char b[128];
    char err[128];
    size_t n = tracker_udp_encode_scrape_req(b, sizeof b, 0x0102030405060708ULL, 5,
                                             (const unsigned char(*)[20])hashes, 2);
    expect_hex(b, n,
               "0102030405060708 00000002 00000005"
               "1111111111111111111111111111111111111111"
               "2222222222222222222222222222222222222222");

    uint64_t cid;
    uint32_t tid;
    const unsigned char *hp;
    size_t nh;
    b[n] = 0x33; /* a trailing partial hash is ignored */
    ck_assert_int_eq(tracker_udp_parse_scrape_req(b, n + 1, &cid, &tid, &hp, &nh, err, sizeof err),
                     TRACKER_UDP_OK);
    ck_assert(cid == 0x0102030405060708ULL);
    ck_assert_uint_eq(tid, 5);
    ck_assert_uint_eq(nh, 2);
    ck_assert_mem_eq(hp + 20, hashes[1], 20);

    struct tracker_scrape_counts c[2] = {{.complete = 1, .incomplete = 2, .downloaded = 3},
                                         {.complete = 4, .incomplete = 5, .downloaded = 6}};
    n = tracker_udp_encode_scrape_resp(b, sizeof b, 5, c, 2);
    /* Per hash: seeders, completed (downloaded), leechers. */
    expect_hex(b, n, "00000002 00000005 00000001 00000003 00000002 00000004 00000006 00000005");
    struct tracker_scrape_counts back[2];
    ck_assert_int_eq(tracker_udp_parse_scrape_resp(b, n, 5, back, 2, err, sizeof err),
                     TRACKER_UDP_OK);
    ck_assert_mem_eq(back, c, sizeof c);
}
END_TEST

START_TEST(tracker_udp_scrape_rejects)
{
    unsigned char b[2048];
    char err[128] = "";
    uint64_t cid;
    uint32_t tid;
    const unsigned char *hp;
    size_t nh;
    size_t n = unhex("0102030405060708 00000002 00000005", b, sizeof b);
    ck_assert_int_eq(tracker_udp_parse_scrape_req(b, n, &cid, &tid, &hp, &nh, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "no info hash"));
    ck_assert_int_eq(tracker_udp_parse_scrape_req(b, 15, &cid, &tid, &hp, &nh, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);

    /* 100 hashes are capped at 74. */
    memset(b + 16, 0x5a, 20 * 100);
    ck_assert_int_eq(
        tracker_udp_parse_scrape_req(b, 16 + 20 * 100, &cid, &tid, &hp, &nh, err, sizeof err),
        TRACKER_UDP_OK);
    ck_assert_uint_eq(nh, TRACKER_UDP_SCRAPE_MAX);

    /* Encoders refuse 0 or too many hashes, and a short buffer. */
    unsigned char h[75][20];
    memset(h, 1, sizeof h);
    ck_assert_uint_eq(tracker_udp_encode_scrape_req(b, sizeof b, 1, 1, h, 0), 0);
    ck_assert_uint_eq(tracker_udp_encode_scrape_req(b, sizeof b, 1, 1, h, 75), 0);
    ck_assert_uint_eq(tracker_udp_encode_scrape_req(b, 35, 1, 1, h, 1), 0);

    /* A reply with fewer entries than asked for is refused. */
    struct tracker_scrape_counts c[2] = {{0}};
    n = tracker_udp_encode_scrape_resp(b, sizeof b, 5, c, 1);
    ck_assert_int_eq(tracker_udp_parse_scrape_resp(b, n, 5, c, 2, err, sizeof err),
                     TRACKER_UDP_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(err, "too short"));
    ck_assert_int_eq(tracker_udp_parse_scrape_resp(b, n, 6, c, 1, err, sizeof err),
                     TRACKER_UDP_ETID);
}
END_TEST

/* ---------------------------------------------------------------- compact peers */

START_TEST(tracker_udp_compact_bad_length)
{
    unsigned char b[36] = {0};
    struct tracker_peer peers[4];
    char err[128] = "";
    ck_assert_int_eq(tracker_compact_decode(b, 7, 4, peers, 4, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "multiple of 6"));
    ck_assert_int_eq(tracker_compact_decode(b, 24, 6, peers, 4, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "multiple of 18"));
    ck_assert_int_eq(tracker_compact_decode(b, 6, 5, peers, 4, err, sizeof err), -1);
    ck_assert_int_eq(tracker_compact_decode(b, 0, 4, peers, 4, err, sizeof err), 0);
}
END_TEST

/* ---------------------------------------------------------------- SipHash and connection ids */

START_TEST(tracker_udp_siphash_vectors)
{
    /* The test vectors of the SipHash paper: key 00..0f, messages 00, 00 01, ... */
    unsigned char key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (unsigned char)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (unsigned char)i;
    ck_assert(tracker_udp_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    ck_assert(tracker_udp_siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
}
END_TEST

START_TEST(tracker_udp_cid_expiry)
{
    unsigned char secret[16] = "0123456789abcde";
    const unsigned char addr[6] = {127, 0, 0, 1, 0x1a, 0xe1};
    const unsigned char other[6] = {127, 0, 0, 2, 0x1a, 0xe1};
    /* Whatever second of its window an id is issued in, it holds for 120 s and is gone at 180 s. */
    for (int64_t t = 1000; t < 1000 + 2 * TRACKER_UDP_CID_WINDOW_S; t++) {
        uint64_t cid = tracker_udp_cid_issue(secret, addr, sizeof addr, t);
        ck_assert_msg(tracker_udp_cid_valid(secret, addr, sizeof addr, t + 120, cid),
                      "id issued at %lld expired before 120 s", (long long)t);
        ck_assert_msg(!tracker_udp_cid_valid(secret, addr, sizeof addr, t + 180, cid),
                      "id issued at %lld still valid at 180 s", (long long)t);
        ck_assert(!tracker_udp_cid_valid(secret, other, sizeof other, t, cid));
    }
    uint64_t cid = tracker_udp_cid_issue(secret, addr, sizeof addr, 5);
    ck_assert(tracker_udp_cid_valid(secret, addr, sizeof addr, 5, cid));
    ck_assert(!tracker_udp_cid_valid(secret, addr, sizeof addr, 5, cid ^ 1));
    secret[0] ^= 1;
    ck_assert(!tracker_udp_cid_valid(secret, addr, sizeof addr, 5, cid));
}
END_TEST

/* ---------------------------------------------------------------- timing */

START_TEST(tracker_udp_timeout_schedule)
{
    long want[] = {15, 30, 60, 120, 240, 480, 960, 1920, 3840};
    for (unsigned i = 0; i < 9; i++)
        ck_assert_int_eq(tracker_udp_timeout_s(i), want[i]);
    ck_assert_int_eq(tracker_udp_timeout_s(9), -1);
    ck_assert_int_eq(tracker_udp_timeout_s(1000), -1);
}
END_TEST

static Suite *tracker_udp_suite(void)
{
    Suite *s = suite_create("tracker_udp");
    TCase *tc = tcase_create("tracker_udp");
    tcase_add_test(tc, tracker_udp_connect_req_golden);
    tcase_add_test(tc, tracker_udp_connect_req_parse);
    tcase_add_test(tc, tracker_udp_connect_resp_golden_and_parse);
    tcase_add_test(tc, tracker_udp_reply_tid_mismatch);
    tcase_add_test(tc, tracker_udp_wrong_action_in_reply);
    tcase_add_test(tc, tracker_udp_error_golden_and_parse);
    tcase_add_test(tc, tracker_udp_announce_req_golden);
    tcase_add_test(tc, tracker_udp_announce_req_parse);
    tcase_add_test(tc, tracker_udp_announce_req_rejects);
    tcase_add_test(tc, tracker_udp_announce_resp_golden);
    tcase_add_test(tc, tracker_udp_announce_resp_parse);
    tcase_add_test(tc, tracker_udp_announce_resp_ipv6);
    tcase_add_test(tc, tracker_udp_scrape_golden);
    tcase_add_test(tc, tracker_udp_scrape_rejects);
    tcase_add_test(tc, tracker_udp_compact_bad_length);
    tcase_add_test(tc, tracker_udp_siphash_vectors);
    tcase_add_test(tc, tracker_udp_cid_expiry);
    tcase_add_test(tc, tracker_udp_timeout_schedule);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(tracker_udp_suite)
