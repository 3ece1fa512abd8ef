/*
 * check_tracker_http.c - the HTTP tracker protocol: request building, response splitting,
 * announce and scrape replies (compact, non-compact, failure) against hand-written bencode, and
 * the server side's request parsing and reply encoding.
 */
#include "testlib.h"
#include "tracker_http.h"

#include <stdio.h>
#include <string.h>

/* A string literal and its length, for binary literals with NUL bytes in them. */
#define LIT(s) (const unsigned char *)(s), (sizeof(s) - 1)

/* The info hash 12 34 56 78 9a bc de f1 23 45 67 89 ab cd ef 12 34 56 78 9a and its escaped form.
 */
static const unsigned char IH[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                                     0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
#define IH_ENC "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A"
#define PID "-MT0001-abcdefghijkl"

/* Checks that a finished writer holds exactly the wanted bytes. */
static void expect_benc(const struct benc_buf *b, const unsigned char *want, size_t n)
{
    ck_assert_uint_eq(b->len, n);
    ck_assert_mem_eq(b->data, want, n);
}

/* Parses a URL and insists it worked. */
static struct tracker_url must_url(const char *s)
{
    struct tracker_url u;
    char err[128];
    ck_assert_int_eq(url_parse(s, &u, err, sizeof err), 0);
    return u;
}

/* The announce most client tests send. */
static struct tracker_http_announce sample(void)
{
    struct tracker_http_announce a;
    memset(&a, 0, sizeof a);
    memcpy(a.info_hash, IH, 20);
    memcpy(a.peer_id, PID, 20);
    a.port = 6881;
    a.left = 1000;
    a.event = TRACKER_EVENT_STARTED;
    a.numwant = -1;
    return a;
}

/* ================================================================ client: requests */

START_TEST(tracker_http_announce_target_golden)
{
    struct tracker_url u = must_url("http://t.example:6969/announce");
    struct tracker_http_announce a = sample();
    char out[1024], err[128];
    long n = tracker_http_announce_target(&u, &a, out, sizeof out, err, sizeof err);
    ck_assert_str_eq(out, "/announce?info_hash=" IH_ENC "&peer_id=" PID
                          "&port=6881&uploaded=0&downloaded=0&left=1000&compact=1&event=started");
    ck_assert_int_eq(n, (long)strlen(out));
}
END_TEST

START_TEST(tracker_http_announce_target_keeps_passkey_query)
{
    struct tracker_url u = must_url("http://t.example/a/announce?passkey=abc");
    struct tracker_http_announce a = sample();
    a.event = TRACKER_EVENT_NONE;
    a.numwant = 50;
    a.uploaded = 18446744073709551615ULL;
    char out[1024], err[128];
    ck_assert_int_gt(tracker_http_announce_target(&u, &a, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, "/a/announce?passkey=abc&info_hash=" IH_ENC "&peer_id=" PID
                          "&port=6881&uploaded=18446744073709551615&downloaded=0&left=1000"
                          "&compact=1&numwant=50");
    /* A buffer one byte short fails cleanly. */
    size_t need = strlen(out) + 1;
    ck_assert_int_eq(tracker_http_announce_target(&u, &a, out, need - 1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    ck_assert_int_gt(tracker_http_announce_target(&u, &a, out, need, err, sizeof err), 0);
}
END_TEST

START_TEST(tracker_http_scrape_target_bep48)
{
    char out[512], err[128];
    struct tracker_url u = must_url("http://t.example/announce");
    ck_assert_int_gt(tracker_http_scrape_target(&u, IH, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, "/scrape?info_hash=" IH_ENC);
    u = must_url("http://t.example/x/announce.php?k=1");
    ck_assert_int_gt(tracker_http_scrape_target(&u, IH, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, "/x/scrape.php?k=1&info_hash=" IH_ENC);
    u = must_url("http://t.example/x/announce/other");
    ck_assert_int_eq(tracker_http_scrape_target(&u, IH, out, sizeof out, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "no scrape URL"));
}
END_TEST

START_TEST(tracker_http_build_get_golden)
{
    char out[512], err[128];
    struct tracker_url u = must_url("http://t.example:6969/announce");
    long n = tracker_http_build_get(&u, "/announce?x=1", out, sizeof out, err, sizeof err);
    ck_assert_str_eq(out, "GET /announce?x=1 HTTP/1.0\r\nHost: t.example:6969\r\n"
                          "User-Agent: minitorrent\r\nAccept-Encoding: identity\r\n"
                          "Connection: close\r\n\r\n");
    ck_assert_int_eq(n, (long)strlen(out));
    u = must_url("http://[::1]/announce");
    ck_assert_int_gt(tracker_http_build_get(&u, "/", out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "\r\nHost: [::1]\r\n"));
    ck_assert_int_eq(tracker_http_build_get(&u, "/a b", out, sizeof out, err, sizeof err), -1);
    ck_assert_int_eq(tracker_http_build_get(&u, "/a\r\nX: y", out, sizeof out, err, sizeof err),
                     -1);
    ck_assert_int_eq(tracker_http_build_get(&u, "/", out, 20, err, sizeof err), -1);
}
END_TEST

/* ================================================================ client: HTTP responses */

START_TEST(tracker_http_response_with_length_incremental)
{
    const char *s = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\ncontent-length:  5 \r\n\r\n"
                    "hello";
    size_t n = strlen(s);
    struct tracker_http_response r;
    char err[128];
    /* Every prefix needs more; the whole reply is complete, even before the close. */
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(
            tracker_http_parse_response((const unsigned char *)s, k, 0, &r, err, sizeof err),
            TRACKER_HTTP_NEED_MORE);
    ck_assert_int_eq(
        tracker_http_parse_response((const unsigned char *)s, n, 0, &r, err, sizeof err),
        TRACKER_HTTP_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 5);
    ck_assert_mem_eq(r.body, "hello", 5);
}
END_TEST

START_TEST(tracker_http_response_without_length_ends_at_close)
{
    const unsigned char s[] = "HTTP/1.1 404 Not Found\nServer: x\n\nnope";
    struct tracker_http_response r;
    char err[128];
    ck_assert_int_eq(tracker_http_parse_response(s, sizeof s - 1, 0, &r, err, sizeof err),
                     TRACKER_HTTP_NEED_MORE);
    ck_assert_int_eq(tracker_http_parse_response(s, sizeof s - 1, 1, &r, err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_int_eq(r.status, 404);
    ck_assert_uint_eq(r.body_len, 4);
    ck_assert_mem_eq(r.body, "nope", 4);
}
END_TEST

/* Checks that a complete (eof) reply is refused with a message containing words. */
static void expect_bad_response(const char *s, int eof, const char *words)
{
    struct tracker_http_response r;
    char err[128] = "";
    ck_assert_msg(tracker_http_parse_response((const unsigned char *)s, strlen(s), eof, &r, err,
                                              sizeof err) == TRACKER_HTTP_EBAD,
                  "accepted: %s", s);
    ck_assert_msg(strstr(err, words) != NULL, "message '%s' lacks '%s'", err, words);
}

START_TEST(tracker_http_response_rejects)
{
    expect_bad_response("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort", 1, "closed after 5");
    expect_bad_response("HTTP/1.0 200 OK\r\nContent-Len", 1, "before the end");
    expect_bad_response("ICY 200 OK\r\n\r\n", 1, "status line");
    expect_bad_response("HTTP/1.0 20 OK\r\n\r\n", 1, "status line");
    expect_bad_response("HTTP/1.0 2000 OK\r\n\r\n", 1, "status line");
    expect_bad_response("HTTP/1.0 200 OK\r\nContent-Length: abc\r\n\r\n", 0, "Content-Length");
    expect_bad_response("HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", 0, "Content-Length");
    expect_bad_response("HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0,
                        "Content-Length");
    expect_bad_response("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0,
                        "two different");
    expect_bad_response("HTTP/1.0 200 OK\r\nContent-Length: 999999999\r\n\r\n", 0, "cap");
    expect_bad_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", 0,
                        "chunked");
    expect_bad_response("HTTP/1.0 200 OK\r\nno colon here\r\n\r\n", 0, "no ':'");

    /* Headers that never end are cut off at the cap instead of growing forever. */
    static char big[TRACKER_HTTP_HEADERS_MAX + 64];
    strcpy(big, "HTTP/1.0 200 OK\r\n");
    size_t len = strlen(big);
    while (len + 12 < sizeof big - 1) {
        memcpy(big + len, "X-Pad: 1234\r\n", 13);
        len += 13;
    }
    big[len] = '\0';
    expect_bad_response(big, 0, "longer than");
}
END_TEST

/* ================================================================ client: announce replies */

START_TEST(tracker_http_reply_compact)
{
    struct tracker_http_reply r;
    struct tracker_peer peers[8];
    char err[128];
    int rc = tracker_http_parse_announce_reply(
        LIT("d8:completei1e10:incompletei2e8:intervali1800e12:min intervali60e"
            "5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\xc8\xd5"
            "6:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07\x00\x50"
            "e"),
        &r, peers, 8, err, sizeof err);
    ck_assert_msg(rc == TRACKER_HTTP_OK, "%s", err);
    ck_assert_int_eq(r.interval, 1800);
    ck_assert_int_eq(r.min_interval, 60);
    ck_assert_int_eq(r.complete, 1);
    ck_assert_int_eq(r.incomplete, 2);
    ck_assert_str_eq(r.failure, "");
    ck_assert_uint_eq(r.npeers, 3);
    ck_assert_int_eq(peers[0].family, 4);
    ck_assert_mem_eq(peers[0].ip, "\x7f\x00\x00\x01", 4);
    ck_assert_uint_eq(peers[0].port, 6881);
    ck_assert_mem_eq(peers[1].ip, "\x0a\x00\x00\x02", 4);
    ck_assert_uint_eq(peers[1].port, 51413);
    ck_assert_int_eq(peers[2].family, 6);
    ck_assert_mem_eq(peers[2].ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07", 16);
    ck_assert_uint_eq(peers[2].port, 80);
    ck_assert_int_eq(peers[0].has_peer_id, 0);

    /* The cap: room for one peer keeps one. */
    rc = tracker_http_parse_announce_reply(
        LIT("d8:intervali1800e5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\xc8\xd5"
            "e"),
        &r, peers, 1, err, sizeof err);
    ck_assert_int_eq(rc, TRACKER_HTTP_OK);
    ck_assert_uint_eq(r.npeers, 1);
    ck_assert_int_eq(r.complete, -1);
    ck_assert_int_eq(r.min_interval, -1);
}
END_TEST

START_TEST(tracker_http_reply_non_compact)
{
    struct tracker_http_reply r;
    struct tracker_peer peers[8];
    char err[128];
    /* Two usable peers (IPv4 with a peer id, IPv6 without), one DNS name that is skipped. */
    int rc =
        tracker_http_parse_announce_reply(LIT("d8:intervali900e5:peersl"
                                              "d2:ip9:127.0.0.17:peer id20:" PID "4:porti6881ee"
                                              "d2:ip3:::14:porti7000ee"
                                              "d2:ip15:tracker.example4:porti1ee"
                                              "ee"),
                                          &r, peers, 8, err, sizeof err);
    ck_assert_msg(rc == TRACKER_HTTP_OK, "%s", err);
    ck_assert_int_eq(r.interval, 900);
    ck_assert_uint_eq(r.npeers, 2);
    ck_assert_uint_eq(r.nskipped, 1);
    ck_assert_int_eq(peers[0].family, 4);
    ck_assert_mem_eq(peers[0].ip, "\x7f\x00\x00\x01", 4);
    ck_assert_uint_eq(peers[0].port, 6881);
    ck_assert_int_eq(peers[0].has_peer_id, 1);
    ck_assert_mem_eq(peers[0].peer_id, PID, 20);
    ck_assert_int_eq(peers[1].family, 6);
    ck_assert_mem_eq(peers[1].ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    ck_assert_uint_eq(peers[1].port, 7000);
    ck_assert_int_eq(peers[1].has_peer_id, 0);
}
END_TEST

START_TEST(tracker_http_reply_failure_and_warning)
{
    struct tracker_http_reply r;
    struct tracker_peer peers[2];
    char err[128];
    ck_assert_int_eq(tracker_http_parse_announce_reply(LIT("d14:failure reason11:bad passkeye"), &r,
                                                       peers, 2, err, sizeof err),
                     TRACKER_HTTP_EFAILURE);
    ck_assert_str_eq(r.failure, "bad passkey");
    ck_assert_str_eq(err, "tracker failure: bad passkey");

    ck_assert_int_eq(tracker_http_parse_announce_reply(LIT("d14:failure reason3:a\x1b"
                                                           "be"),
                                                       &r, peers, 2, err, sizeof err),
                     TRACKER_HTTP_EFAILURE);
    ck_assert_str_eq(r.failure, "a?b");

    ck_assert_int_eq(tracker_http_parse_announce_reply(
                         LIT("d8:intervali60e5:peers0:15:warning message9:slow downe"), &r, peers,
                         2, err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_str_eq(r.warning, "slow down");
    ck_assert_uint_eq(r.npeers, 0);
}
END_TEST

/* Checks that an announce reply body is refused as malformed, with words in the message. */
static void expect_bad_reply(const unsigned char *body, size_t n, const char *words)
{
    struct tracker_http_reply r;
    struct tracker_peer peers[4];
    char err[160] = "";
    ck_assert_msg(tracker_http_parse_announce_reply(body, n, &r, peers, 4, err, sizeof err) ==
                      TRACKER_HTTP_EBAD,
                  "accepted: %.*s", (int)n, body);
    ck_assert_msg(strstr(err, words) != NULL, "message '%s' lacks '%s'", err, words);
}

START_TEST(tracker_http_reply_rejects_malformed)
{
    expect_bad_reply(LIT(""), "not bencoded");
    expect_bad_reply(LIT("<html>oops</html>"), "not bencoded");
    expect_bad_reply(LIT("d8:intervali60e5:peers0:"), "not bencoded");
    expect_bad_reply(LIT("li1ee"), "not a dictionary");
    expect_bad_reply(LIT("d5:peers0:e"), "no \"interval\"");
    expect_bad_reply(LIT("d8:intervali-5e5:peers0:e"), "interval");
    expect_bad_reply(LIT("d8:interval2:605:peers0:e"), "interval");
    expect_bad_reply(LIT("d8:completei-1e8:intervali60e5:peers0:e"), "complete");
    expect_bad_reply(LIT("d8:intervali60ee"), "neither");
    expect_bad_reply(LIT("d8:intervali60e5:peers7:abcdefge"), "multiple of 6");
    expect_bad_reply(LIT("d8:intervali60e5:peersi5ee"), "neither a string nor a list");
    expect_bad_reply(LIT("d8:intervali60e5:peers0:6:peers63:abce"), "multiple of 18");
    expect_bad_reply(LIT("d8:intervali60e5:peers0:6:peers6i1ee"), "not a string");
    expect_bad_reply(LIT("d8:intervali60e5:peerslli1eeee"), "peer 0 is not a dictionary");
    expect_bad_reply(LIT("d8:intervali60e5:peersld2:ip9:127.0.0.1eee"), "peer 0 has no \"port\"");
    expect_bad_reply(LIT("d8:intervali60e5:peersld2:ip9:127.0.0.14:porti0eeee"), "\"port\"");
    expect_bad_reply(LIT("d8:intervali60e5:peersld2:ip9:127.0.0.14:porti70000eeee"), "\"port\"");
    expect_bad_reply(LIT("d8:intervali60e5:peersld4:porti1eeee"), "\"ip\"");
    expect_bad_reply(LIT("d8:intervali60e5:peersld2:ip9:127.0.0.17:peer id3:abc4:porti1eeee"),
                     "20 bytes");
    expect_bad_reply(LIT("d14:failure reasoni3ee"), "not a string");
}
END_TEST

/* ================================================================ client: scrape replies */

START_TEST(tracker_http_reply_scrape_parse)
{
    struct tracker_scrape_counts c;
    char err[128];
    /* The hash has a NUL byte in it, which a C-string lookup would trip on. */
    const unsigned char h[20] = {0x00, 1,  2,  3,  4,  5,  6,  7,  8,  9,
                                 10,   11, 12, 13, 14, 15, 16, 17, 18, 19};
    int rc = tracker_http_parse_scrape_reply(
        LIT("d5:filesd"
            "20:\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13"
            "d8:completei5e10:downloadedi50e10:incompletei10ee"
            "ee"),
        h, &c, err, sizeof err);
    ck_assert_msg(rc == TRACKER_HTTP_OK, "%s", err);
    ck_assert_uint_eq(c.complete, 5);
    ck_assert_uint_eq(c.downloaded, 50);
    ck_assert_uint_eq(c.incomplete, 10);

    ck_assert_int_eq(tracker_http_parse_scrape_reply(LIT("d5:filesdee"), h, &c, err, sizeof err),
                     TRACKER_HTTP_EBAD);
    ck_assert_ptr_nonnull(strstr(err, "does not mention"));
    ck_assert_int_eq(tracker_http_parse_scrape_reply(LIT("de"), h, &c, err, sizeof err),
                     TRACKER_HTTP_EBAD);
    ck_assert_ptr_nonnull(strstr(err, "no \"files\""));
    ck_assert_int_eq(
        tracker_http_parse_scrape_reply(LIT("d14:failure reason4:nopee"), h, &c, err, sizeof err),
        TRACKER_HTTP_EFAILURE);
}
END_TEST

/* ================================================================ server: request lines */

START_TEST(tracker_http_request_golden)
{
    const char *line = "GET /announce?info_hash=" IH_ENC "&peer_id=" PID
                       "&port=6881&uploaded=7&downloaded=100&left=1000&corrupt=0&key=abc"
                       "&compact=1&event=started&numwant=30&ip=10.0.0.1 HTTP/1.1\r\n";
    struct tracker_http_request q;
    char err[128] = "";
    ck_assert_msg(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err) ==
                      TRACKER_HTTP_OK,
                  "%s", err);
    ck_assert_int_eq(q.kind, TRACKER_HTTP_ANNOUNCE);
    ck_assert_mem_eq(q.info_hash, IH, 20);
    ck_assert_mem_eq(q.peer_id, PID, 20);
    ck_assert_uint_eq(q.port, 6881);
    ck_assert(q.uploaded == 7 && q.downloaded == 100 && q.left == 1000);
    ck_assert_int_eq(q.event, TRACKER_EVENT_STARTED);
    ck_assert_int_eq(q.compact, 1);
    ck_assert_int_eq(q.no_peer_id, 0);
    ck_assert_int_eq(q.numwant, 30);
    ck_assert_str_eq(q.ip, "10.0.0.1");
    ck_assert_uint_eq(q.key_len, 3);
    ck_assert_mem_eq(q.key, "abc", 3);

    /* The optional parameters left out: no event, not compact, numwant -1, no key. */
    line = "GET /announce?peer_id=" PID "&info_hash=" IH_ENC
           "&port=1&uploaded=0&downloaded=0&left=0&no_peer_id=1&numwant=99999 HTTP/1.0";
    ck_assert_int_eq(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_int_eq(q.event, TRACKER_EVENT_NONE);
    ck_assert_int_eq(q.compact, 0);
    ck_assert_int_eq(q.no_peer_id, 1);
    ck_assert_int_eq(q.numwant, TRACKER_HTTP_NUMWANT_MAX);
    ck_assert_str_eq(q.ip, "");
    ck_assert_uint_eq(q.key_len, 0);
}
END_TEST

START_TEST(tracker_http_request_roundtrip_from_client)
{
    /* Whatever bytes the hash and id hold, the server reads back what the client sent. */
    struct tracker_url u = must_url("http://t/announce");
    struct tracker_http_announce a = sample();
    for (int i = 0; i < 20; i++) {
        a.info_hash[i] = (unsigned char)(i * 37 + 1);
        a.peer_id[i] = (unsigned char)(255 - i * 11);
    }
    a.event = TRACKER_EVENT_COMPLETED;
    a.downloaded = 123456789012ULL;
    char target[1024], line[1100], err[128];
    ck_assert_int_gt(tracker_http_announce_target(&u, &a, target, sizeof target, err, sizeof err),
                     0);
    snprintf(line, sizeof line, "GET %s HTTP/1.0", target);
    struct tracker_http_request q;
    ck_assert_int_eq(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_mem_eq(q.info_hash, a.info_hash, 20);
    ck_assert_mem_eq(q.peer_id, a.peer_id, 20);
    ck_assert(q.downloaded == 123456789012ULL);
    ck_assert_int_eq(q.event, TRACKER_EVENT_COMPLETED);
    ck_assert_int_eq(q.compact, 1);
}
END_TEST

/* Checks that an announce query (after "GET /announce?") is refused with words in the message. */
static void expect_bad_query(const char *query, const char *words)
{
    char line[1024], err[160] = "";
    struct tracker_http_request q;
    snprintf(line, sizeof line, "GET /announce?%s HTTP/1.1", query);
    ck_assert_msg(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err) ==
                      TRACKER_HTTP_EBAD,
                  "accepted: %s", query);
    ck_assert_msg(strstr(err, words) != NULL, "query %s: message '%s' lacks '%s'", query, err,
                  words);
}

#define GOOD_REST "&port=6881&uploaded=0&downloaded=0&left=5"

START_TEST(tracker_http_request_rejects_bad_announces)
{
    expect_bad_query("info_hash=abc&peer_id=" PID GOOD_REST, "info_hash must be 20 bytes, got 3");
    expect_bad_query("info_hash=" IH_ENC "%00&peer_id=" PID GOOD_REST,
                     "info_hash must be 20 bytes, got 21");
    expect_bad_query("info_hash=%1" IH_ENC "&peer_id=" PID GOOD_REST, "malformed escape");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=short" GOOD_REST, "peer_id must be 20 bytes");
    expect_bad_query("info_hash=" IH_ENC GOOD_REST, "missing parameter peer_id");
    expect_bad_query("peer_id=" PID GOOD_REST, "missing parameter info_hash");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID "&port=6881&downloaded=0&left=5",
                     "missing parameter uploaded");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID "&port=6881&uploaded=0&downloaded=0",
                     "missing parameter left");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID "&port=0&uploaded=0&downloaded=0&left=5",
                     "port must be 1..65535");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID
                     "&port=65536&uploaded=0&downloaded=0&left=5",
                     "port must be 1..65535");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID "&port=x&uploaded=0&downloaded=0&left=5",
                     "port must be a non-negative decimal");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID "&port=1&uploaded=0&downloaded=0&left=-1",
                     "left must be a non-negative decimal");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID
                     "&port=1&uploaded=0&downloaded=0&left=99999999999999999999",
                     "left must be");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID "&port=1&uploaded=&downloaded=0&left=1",
                     "uploaded must be");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID GOOD_REST "&event=paused", "event must");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID GOOD_REST "&compact=2", "compact must");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID GOOD_REST "&numwant=lots", "numwant");
    expect_bad_query("info_hash=" IH_ENC "&info_hash=" IH_ENC "&peer_id=" PID GOOD_REST,
                     "duplicate parameter info_hash");
}
END_TEST

/* BEP 7's key is kept as decoded bytes, up to TRACKER_HTTP_KEY_MAX; a longer or malformed key is
 * refused rather than cut, because a cut key could match someone else's. */
START_TEST(tracker_http_request_key)
{
    const char *line =
        "GET /announce?info_hash=" IH_ENC "&peer_id=" PID GOOD_REST "&key=%01%02%00%FF HTTP/1.1";
    struct tracker_http_request q;
    char err[128] = "";
    ck_assert_msg(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err) ==
                      TRACKER_HTTP_OK,
                  "%s", err);
    ck_assert_uint_eq(q.key_len, 4);
    ck_assert_mem_eq(q.key, "\x01\x02\x00\xff", 4);
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID GOOD_REST
                     "&key=0123456789abcdef0123456789abcdefX",
                     "bad key (at most 32 bytes)");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID GOOD_REST "&key=%zz", "bad key");
    expect_bad_query("info_hash=" IH_ENC "&peer_id=" PID GOOD_REST "&key=a&key=b",
                     "duplicate parameter key");
}
END_TEST

START_TEST(tracker_http_request_rejects_bad_lines)
{
    struct tracker_http_request q;
    char err[128] = "";
    const char *bad[][2] = {
        {"POST /announce HTTP/1.1", "only GET"},
        {"GET /announce", "no HTTP version"},
        {"GET /announce?a=1 HTTP/2.0", "HTTP/1.0 or HTTP/1.1"},
        {"GET /announce?a=1 HTTP/1.1 extra", "HTTP/1.0 or HTTP/1.1"},
        {"", "only GET"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(
            tracker_http_parse_request_line(bad[i][0], strlen(bad[i][0]), &q, err, sizeof err),
            TRACKER_HTTP_EBAD);
        ck_assert_msg(strstr(err, bad[i][1]) != NULL, "%s: %s", bad[i][0], err);
    }
    const char *nf = "GET /favicon.ico HTTP/1.1";
    ck_assert_int_eq(tracker_http_parse_request_line(nf, strlen(nf), &q, err, sizeof err),
                     TRACKER_HTTP_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err, "unknown path"));
    const char ctl[] = "GET /announce?a=\x01 HTTP/1.1";
    ck_assert_int_eq(tracker_http_parse_request_line(ctl, sizeof ctl - 1, &q, err, sizeof err),
                     TRACKER_HTTP_EBAD);
    ck_assert_ptr_nonnull(strstr(err, "control character"));
}
END_TEST

START_TEST(tracker_http_request_scrape)
{
    struct tracker_http_request q;
    char err[128] = "";
    const char *line = "GET /scrape?info_hash=" IH_ENC "&info_hash=%00%00%00%00%00%00%00%00%00%00"
                       "%00%00%00%00%00%00%00%00%00%01 HTTP/1.1";
    ck_assert_int_eq(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_int_eq(q.kind, TRACKER_HTTP_SCRAPE);
    ck_assert_uint_eq(q.nscrape, 2);
    ck_assert_mem_eq(q.scrape_hashes[0], IH, 20);
    ck_assert_uint_eq(q.scrape_hashes[1][19], 1);

    line = "GET /scrape HTTP/1.1";
    ck_assert_int_eq(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_uint_eq(q.nscrape, 0);

    line = "GET /scrape?info_hash=abc HTTP/1.1";
    ck_assert_int_eq(tracker_http_parse_request_line(line, strlen(line), &q, err, sizeof err),
                     TRACKER_HTTP_EBAD);
    ck_assert_ptr_nonnull(strstr(err, "20 bytes"));

    /* More hashes than the cap are refused. */
    static char big[8192];
    strcpy(big, "GET /scrape?");
    for (int i = 0; i <= TRACKER_HTTP_SCRAPE_MAX; i++)
        strcat(big, "info_hash=" IH_ENC "&");
    strcat(big, " HTTP/1.1");
    ck_assert_int_eq(tracker_http_parse_request_line(big, strlen(big), &q, err, sizeof err),
                     TRACKER_HTTP_EBAD);
    ck_assert_ptr_nonnull(strstr(err, "too many"));
}
END_TEST

/* ================================================================ server: replies */

/* Two peers: 127.0.0.1:6881 with an id, and [::1]:6881. */
static void two_peers(struct tracker_peer p[2])
{
    memset(p, 0, 2 * sizeof p[0]);
    p[0].family = 4;
    memcpy(p[0].ip, "\x7f\x00\x00\x01", 4);
    p[0].port = 6881;
    p[0].has_peer_id = 1;
    memcpy(p[0].peer_id, PID, 20);
    p[1].family = 6;
    p[1].ip[15] = 1;
    p[1].port = 6881;
}

START_TEST(tracker_http_encode_compact_golden)
{
    struct tracker_peer p[2];
    two_peers(p);
    struct tracker_http_reply_info info = {.interval = 1800, .complete = 1, .incomplete = 2};
    struct benc_buf b;
    char err[128];
    benc_buf_init(&b);
    ck_assert_int_eq(tracker_http_encode_announce_reply(&b, &info, p, 2, 1, 0, err, sizeof err), 0);
    expect_benc(&b, LIT("d8:completei1e10:incompletei2e8:intervali1800e"
                        "5:peers6:\x7f\x00\x00\x01\x1a\xe1"
                        "6:peers618:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1"
                        "e"));
    benc_buf_free(&b);

    /* IPv4 only, with min interval: no peers6 key at all. */
    info.min_interval = 60;
    benc_buf_init(&b);
    ck_assert_int_eq(tracker_http_encode_announce_reply(&b, &info, p, 1, 1, 0, err, sizeof err), 0);
    expect_benc(&b, LIT("d8:completei1e10:incompletei2e8:intervali1800e12:min intervali60e"
                        "5:peers6:\x7f\x00\x00\x01\x1a\xe1"
                        "e"));
    benc_buf_free(&b);
}
END_TEST

START_TEST(tracker_http_encode_non_compact_golden)
{
    struct tracker_peer p[2];
    two_peers(p);
    struct tracker_http_reply_info info = {.interval = 1800, .complete = 1, .incomplete = 2};
    struct benc_buf b;
    char err[128];
    benc_buf_init(&b);
    ck_assert_int_eq(tracker_http_encode_announce_reply(&b, &info, p, 2, 0, 0, err, sizeof err), 0);
    expect_benc(&b, LIT("d8:completei1e10:incompletei2e8:intervali1800e5:peersl"
                        "d2:ip9:127.0.0.17:peer id20:" PID "4:porti6881ee"
                        "d2:ip3:::14:porti6881ee"
                        "ee"));
    benc_buf_free(&b);
    benc_buf_init(&b);
    ck_assert_int_eq(tracker_http_encode_announce_reply(&b, &info, p, 1, 0, 1, err, sizeof err), 0);
    expect_benc(&b, LIT("d8:completei1e10:incompletei2e8:intervali1800e5:peersl"
                        "d2:ip9:127.0.0.14:porti6881ee"
                        "ee"));
    benc_buf_free(&b);
}
END_TEST

START_TEST(tracker_http_encode_then_parse)
{
    /* What our tracker sends, our client reads back, in both forms. */
    struct tracker_peer p[2], back[4];
    two_peers(p);
    struct tracker_http_reply_info info = {.interval = 30, .complete = 3, .incomplete = 4};
    for (int compact = 0; compact <= 1; compact++) {
        struct benc_buf b;
        struct tracker_http_reply r;
        char err[128];
        benc_buf_init(&b);
        ck_assert_int_eq(
            tracker_http_encode_announce_reply(&b, &info, p, 2, compact, 0, err, sizeof err), 0);
        ck_assert_int_eq(
            tracker_http_parse_announce_reply(b.data, b.len, &r, back, 4, err, sizeof err),
            TRACKER_HTTP_OK);
        ck_assert_uint_eq(r.npeers, 2);
        ck_assert_int_eq(r.interval, 30);
        ck_assert_int_eq(r.complete, 3);
        ck_assert_int_eq(r.incomplete, 4);
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(back[i].family, p[i].family);
            ck_assert_mem_eq(back[i].ip, p[i].ip, 16);
            ck_assert_uint_eq(back[i].port, p[i].port);
        }
        ck_assert_int_eq(back[0].has_peer_id, !compact);
        benc_buf_free(&b);
    }
}
END_TEST

START_TEST(tracker_http_encode_failure_golden)
{
    struct benc_buf b;
    char err[128];
    benc_buf_init(&b);
    ck_assert_int_eq(tracker_http_encode_failure(&b, "bad passkey", err, sizeof err), 0);
    expect_benc(&b, LIT("d14:failure reason11:bad passkeye"));
    benc_buf_free(&b);
}
END_TEST

START_TEST(tracker_http_encode_scrape_sorted_and_deduplicated)
{
    unsigned char h[3][20];
    memset(h[0], 'b', 20);
    memset(h[1], 'a', 20);
    memset(h[2], 'b', 20);
    struct tracker_scrape_counts c[3] = {{.complete = 1, .incomplete = 2, .downloaded = 3},
                                         {.complete = 4, .incomplete = 5, .downloaded = 6},
                                         {.complete = 1, .incomplete = 2, .downloaded = 3}};
    struct benc_buf b;
    char err[128];
    benc_buf_init(&b);
    ck_assert_int_eq(
        tracker_http_encode_scrape_reply(&b, (const unsigned char(*)[20])h, c, 3, err, sizeof err),
        0);
    expect_benc(&b, LIT("d5:filesd"
                        "20:aaaaaaaaaaaaaaaaaaaad8:completei4e10:downloadedi6e10:incompletei5ee"
                        "20:bbbbbbbbbbbbbbbbbbbbd8:completei1e10:downloadedi3e10:incompletei2ee"
                        "ee"));
    struct tracker_scrape_counts got;
    ck_assert_int_eq(tracker_http_parse_scrape_reply(b.data, b.len, h[1], &got, err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_mem_eq(&got, &c[1], sizeof got);
    benc_buf_free(&b);

    benc_buf_init(&b);
    ck_assert_int_eq(tracker_http_encode_scrape_reply(&b, NULL, NULL, 0, err, sizeof err), 0);
    expect_benc(&b, LIT("d5:filesdee"));
    benc_buf_free(&b);
}
END_TEST

START_TEST(tracker_http_response_header_golden)
{
    char out[256];
    long n = tracker_http_response_header(200, 42, out, sizeof out);
    ck_assert_str_eq(out, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 42\r\n"
                          "Connection: close\r\n\r\n");
    ck_assert_int_eq(n, (long)strlen(out));
    ck_assert_int_gt(tracker_http_response_header(404, 0, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "HTTP/1.0 404 Not Found\r\n"));
    ck_assert_int_eq(tracker_http_response_header(418, 0, out, sizeof out), -1);
    ck_assert_int_eq(tracker_http_response_header(200, 42, out, 30), -1);

    /* Our own header and body go through our own response parser. */
    const char *body = "d14:failure reason1:xe";
    char msg[256];
    n = tracker_http_response_header(400, strlen(body), msg, sizeof msg);
    strcat(msg, body);
    struct tracker_http_response r;
    char err[128];
    ck_assert_int_eq(tracker_http_parse_response((const unsigned char *)msg, strlen(msg), 0, &r,
                                                 err, sizeof err),
                     TRACKER_HTTP_OK);
    ck_assert_int_eq(r.status, 400);
    ck_assert_uint_eq(r.body_len, strlen(body));
}
END_TEST

static Suite *tracker_http_suite(void)
{
    Suite *s = suite_create("tracker_http");
    /* tracker_http_reply_: reading a tracker's bencoded reply and its compact peer list (lab 5). */
    TCase *tc = tk_tcase(s, "tracker_http_reply", 10);
    tk_add_test(tc, tracker_http_reply_compact);
    tk_add_test(tc, tracker_http_reply_non_compact);
    tk_add_test(tc, tracker_http_reply_failure_and_warning);
    tk_add_test(tc, tracker_http_reply_rejects_malformed);
    tk_add_test(tc, tracker_http_reply_scrape_parse);

    /* tracker_http_encode_: the tracker's side, writing replies with the bencode writer (lab 5). */
    tc = tk_tcase(s, "tracker_http_encode", 10);
    tk_add_test(tc, tracker_http_encode_compact_golden);
    tk_add_test(tc, tracker_http_encode_non_compact_golden);
    tk_add_test(tc, tracker_http_encode_then_parse);
    tk_add_test(tc, tracker_http_encode_failure_golden);
    tk_add_test(tc, tracker_http_encode_scrape_sorted_and_deduplicated);

    /* tracker_http_: the request line, the HTTP framing and the query string, which lab 5 gives. */
    tc = tk_tcase(s, "tracker_http", 10);
    tk_add_test(tc, tracker_http_announce_target_golden);
    tk_add_test(tc, tracker_http_announce_target_keeps_passkey_query);
    tk_add_test(tc, tracker_http_scrape_target_bep48);
    tk_add_test(tc, tracker_http_build_get_golden);
    tk_add_test(tc, tracker_http_response_with_length_incremental);
    tk_add_test(tc, tracker_http_response_without_length_ends_at_close);
    tk_add_test(tc, tracker_http_response_rejects);
    tk_add_test(tc, tracker_http_request_golden);
    tk_add_test(tc, tracker_http_request_roundtrip_from_client);
    tk_add_test(tc, tracker_http_request_rejects_bad_announces);
    tk_add_test(tc, tracker_http_request_rejects_bad_lines);
    tk_add_test(tc, tracker_http_request_key);
    tk_add_test(tc, tracker_http_request_scrape);
    tk_add_test(tc, tracker_http_response_header_golden);
    return s;
}

TK_MAIN(tracker_http_suite)
