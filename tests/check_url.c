/*
 * check_url.c - tracker URL parsing and percent-encoding.
 */
#include "testlib.h"
#include "url.h"

#include <string.h>

/* ---------------------------------------------------------------- parsing good URLs */

START_TEST(url_http_default_port_and_path)
{
    struct tracker_url u;
    char err[128];
    ck_assert_int_eq(url_parse("http://tracker.example/announce", &u, err, sizeof err), 0);
    ck_assert_int_eq(u.scheme, URL_HTTP);
    ck_assert_str_eq(u.host, "tracker.example");
    ck_assert_int_eq(u.port, 80);
    ck_assert_str_eq(u.path, "/announce");
    ck_assert_int_eq(u.has_query, 0);
    ck_assert_str_eq(u.query, "");
    ck_assert_int_eq(u.host_is_ipv6, 0);
}
END_TEST

START_TEST(url_http_port_query_fragment)
{
    struct tracker_url u;
    char err[128];
    ck_assert_int_eq(
        url_parse("HTTP://127.0.0.1:6969/a/announce?passkey=xyz#frag", &u, err, sizeof err), 0);
    ck_assert_int_eq(u.scheme, URL_HTTP);
    ck_assert_str_eq(u.host, "127.0.0.1");
    ck_assert_int_eq(u.port, 6969);
    ck_assert_str_eq(u.path, "/a/announce");
    ck_assert_int_eq(u.has_query, 1);
    ck_assert_str_eq(u.query, "passkey=xyz");
}
END_TEST

START_TEST(url_http_no_path)
{
    struct tracker_url u;
    char err[128];
    ck_assert_int_eq(url_parse("http://localhost:8000", &u, err, sizeof err), 0);
    ck_assert_str_eq(u.path, "/");
    ck_assert_int_eq(u.port, 8000);
    ck_assert_int_eq(url_parse("http://localhost?x=1", &u, err, sizeof err), 0);
    ck_assert_str_eq(u.path, "/");
    ck_assert_str_eq(u.query, "x=1");
    ck_assert_int_eq(u.port, 80);
}
END_TEST

START_TEST(url_udp_with_port)
{
    struct tracker_url u;
    char err[128];
    ck_assert_int_eq(url_parse("udp://tracker.example:1337", &u, err, sizeof err), 0);
    ck_assert_int_eq(u.scheme, URL_UDP);
    ck_assert_str_eq(u.host, "tracker.example");
    ck_assert_int_eq(u.port, 1337);
    ck_assert_int_eq(url_parse("udp://tracker.example:1337/announce", &u, err, sizeof err), 0);
    ck_assert_str_eq(u.path, "/announce");
}
END_TEST

START_TEST(url_ipv6_literals)
{
    struct tracker_url u;
    char err[128];
    ck_assert_int_eq(url_parse("http://[::1]:6969/announce", &u, err, sizeof err), 0);
    ck_assert_str_eq(u.host, "::1");
    ck_assert_int_eq(u.host_is_ipv6, 1);
    ck_assert_int_eq(u.port, 6969);
    ck_assert_int_eq(url_parse("http://[2001:db8::7]/announce", &u, err, sizeof err), 0);
    ck_assert_str_eq(u.host, "2001:db8::7");
    ck_assert_int_eq(u.port, 80);
    ck_assert_int_eq(url_parse("udp://[::ffff:10.0.0.1]:80", &u, err, sizeof err), 0);
    ck_assert_str_eq(u.host, "::ffff:10.0.0.1");
}
END_TEST

/* ---------------------------------------------------------------- rejecting bad URLs */

/* Checks that s is refused and that the message contains the expected words. */
static void expect_bad(const char *s, const char *words)
{
    struct tracker_url u;
    char err[128] = "";
    ck_assert_msg(url_parse(s, &u, err, sizeof err) == -1, "accepted bad URL %s", s);
    ck_assert_msg(strstr(err, words) != NULL, "URL %s: message '%s' lacks '%s'", s, err, words);
}

START_TEST(url_rejects_https)
{
    expect_bad("https://tracker.example/announce", "https");
}
END_TEST

START_TEST(url_rejects_bad_forms)
{
    expect_bad("ftp://tracker.example/", "scheme");
    expect_bad("tracker.example/announce", "not a tracker URL");
    expect_bad("udp://tracker.example/announce", "needs a port");
    expect_bad("http://:80/announce", "no host");
    expect_bad("http:///announce", "no host");
    expect_bad("http://host:/a", "empty port");
    expect_bad("http://host:0/a", "out of range");
    expect_bad("http://host:65536/a", "out of range");
    expect_bad("http://host:123456/a", "out of range");
    expect_bad("http://host:8x/a", "decimal");
    expect_bad("http://user@host/a", "user info");
    expect_bad("http://[::1/a", "closing ']'");
    expect_bad("http://[::1]x/a", "':port'");
    expect_bad("http://[]/a", "IPv6");
    expect_bad("http://[fe80::1%25eth0]/a", "IPv6");
    expect_bad("http://ho st/a", "space");
    expect_bad("http://host/a\nb", "control");
    expect_bad("http://ho$t/a", "bad character");
}
END_TEST

START_TEST(url_rejects_long_parts)
{
    char s[2200];
    strcpy(s, "http://");
    memset(s + 7, 'a', 300);
    strcpy(s + 307, "/x");
    expect_bad(s, "too long");
    strcpy(s, "http://h/");
    memset(s + 9, 'p', 1100);
    s[1109] = '\0';
    expect_bad(s, "too long");
}
END_TEST

/* ---------------------------------------------------------------- percent-encoding */

START_TEST(url_encode_binary_hash)
{
    /* The 20-byte info hash 12 34 56 78 9a bc de f1 23 45 67 89 ab cd ef 12 34 56 78 9a is the
     * example from the wiki.theory.org tracker page; its escaped form is known. */
    const unsigned char ih[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                                  0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
    char out[URL_ENCODED_MAX(20)];
    long n = url_encode(ih, 20, out, sizeof out);
    ck_assert_str_eq(out, "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A");
    ck_assert_int_eq(n, (long)strlen(out));
}
END_TEST

START_TEST(url_encode_keeps_unreserved_only)
{
    const unsigned char in[] = "aZ09-._~ /+%&=?\xff";
    char out[64];
    ck_assert_int_eq(url_encode(in, sizeof in - 1, out, sizeof out), 32);
    ck_assert_str_eq(out, "aZ09-._~%20%2F%2B%25%26%3D%3F%FF");
}
END_TEST

START_TEST(url_encode_refuses_small_buffer)
{
    const unsigned char in[3] = {0, 1, 2};
    char out[9];
    ck_assert_int_eq(url_encode(in, 3, out, sizeof out), -1);
    char out2[10];
    ck_assert_int_eq(url_encode(in, 3, out2, sizeof out2), 9);
    ck_assert_str_eq(out2, "%00%01%02");
}
END_TEST

START_TEST(url_decode_roundtrip_all_bytes)
{
    unsigned char in[256], back[256];
    char enc[URL_ENCODED_MAX(256)];
    char err[128];
    size_t n;
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    ck_assert_int_gt(url_encode(in, 256, enc, sizeof enc), 0);
    ck_assert_int_eq(url_decode(enc, strlen(enc), back, sizeof back, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 256);
    ck_assert_mem_eq(in, back, 256);
}
END_TEST

START_TEST(url_decode_plus_and_lowercase_hex)
{
    unsigned char out[16];
    size_t n;
    char err[128];
    const char *s = "a+b%2fc%2F";
    ck_assert_int_eq(url_decode(s, strlen(s), out, sizeof out, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 6);
    ck_assert_mem_eq(out, "a b/c/", 6);
}
END_TEST

START_TEST(url_decode_rejects_malformed)
{
    const char *bad[] = {"%", "ab%", "ab%4", "%4g", "%g4", "%%41", "x%zz"};
    unsigned char out[16];
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        ck_assert_msg(url_decode(bad[i], strlen(bad[i]), out, sizeof out, &n, err, sizeof err) ==
                          -1,
                      "accepted %s", bad[i]);
        ck_assert_msg(strstr(err, "malformed escape") != NULL, "%s: %s", bad[i], err);
    }
    /* The value ends inside an escape even though the bytes after it would complete one: the
     * decoder must stop at n and not read on. */
    char err[128] = "";
    ck_assert_int_eq(url_decode("ab%41", 4, out, sizeof out, &n, err, sizeof err), -1);
    ck_assert_int_eq(url_decode("ab%41", 3, out, sizeof out, &n, err, sizeof err), -1);
}
END_TEST

START_TEST(url_decode_rejects_overflow)
{
    unsigned char out[4];
    size_t n;
    char err[128] = "";
    ck_assert_int_eq(url_decode("%41%42%43%44%45", 15, out, sizeof out, &n, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "too long"));
    ck_assert_int_eq(url_decode("%41%42%43%44", 12, out, sizeof out, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 4);
}
END_TEST

static Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("url");
    tcase_add_test(tc, url_http_default_port_and_path);
    tcase_add_test(tc, url_http_port_query_fragment);
    tcase_add_test(tc, url_http_no_path);
    tcase_add_test(tc, url_udp_with_port);
    tcase_add_test(tc, url_ipv6_literals);
    tcase_add_test(tc, url_rejects_https);
    tcase_add_test(tc, url_rejects_bad_forms);
    tcase_add_test(tc, url_rejects_long_parts);
    tcase_add_test(tc, url_encode_binary_hash);
    tcase_add_test(tc, url_encode_keeps_unreserved_only);
    tcase_add_test(tc, url_encode_refuses_small_buffer);
    tcase_add_test(tc, url_decode_roundtrip_all_bytes);
    tcase_add_test(tc, url_decode_plus_and_lowercase_hex);
    tcase_add_test(tc, url_decode_rejects_malformed);
    tcase_add_test(tc, url_decode_rejects_overflow);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(url_suite)
