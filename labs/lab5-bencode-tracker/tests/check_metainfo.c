/*
 * check_metainfo.c - tests for .torrent parsing, validation, info hashes and writing.
 *
 * The golden torrents are written out by hand below, byte for byte; their info hashes were
 * computed once with Python's hashlib over the info dictionary's bytes. Each validation rule has
 * its own test, so a failure names the rule that broke.
 */
#include "testlib.h"
#include "metainfo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- golden torrents ---------------------------------------------------------------------- */

#define PIECES2 "0123456789abcdefghijABCDEFGHIJKLMNOPQRST" /* two fake 20-byte hashes */

static const char golden_single[] =
    "d8:announce36:http://tracker.example:6969/announce4:infod6:lengthi20000e4:name9:hello.txt"
    "12:piece lengthi16384e6:pieces40:" PIECES2 "ee";
static const char golden_single_hash[] = "df32f0a4084170a2aca907ff00c92cd6a0001d06";

static const char golden_multi[] =
    "d8:announce30:http://127.0.0.1:8000/announce4:infod5:filesld6:lengthi10000e4:pathl5:a.bine"
    "ed6:lengthi0e4:pathl5:emptyeed6:lengthi30000e4:pathl3:sub3:dir5:c.bineee4:name4:root"
    "12:piece lengthi20000e6:pieces40:" PIECES2 "7:privatei1eee";
static const char golden_multi_hash[] = "3d61f5c6c7bdbe36c6f578ad45cb35e12eba3d17";

/* ---- helpers ------------------------------------------------------------------------------ */

static int parse_str(struct metainfo *m, const char *t, char *err, size_t errlen)
{
    return metainfo_parse(m, (const unsigned char *)t, strlen(t), err, errlen);
}

/* Asserts that the n bytes at t are refused with a message containing want. */
static void expect_fail_n(const char *t, size_t n, const char *want)
{
    struct metainfo m;
    char err[256] = "";
    int rc = metainfo_parse(&m, (const unsigned char *)t, n, err, sizeof err);
    ck_assert_msg(rc == -1, "accepted: %.*s", (int)(n > 200 ? 200 : n), t);
    ck_assert_msg(strstr(err, want) != NULL, "message \"%s\" lacks \"%s\"", err, want);
    /* A failed parse leaves nothing behind. */
    ck_assert_ptr_null(m.name);
    ck_assert_ptr_null(m.files);
    ck_assert_uint_eq(m.file_count, 0);
}

static void expect_fail(const char *t, const char *want)
{
    expect_fail_n(t, strlen(t), want);
}

/* A single-file torrent around the given info dict body (keys may be in any order). */
static const char *single(const char *info_body)
{
    static char buf[8192];
    snprintf(buf, sizeof buf, "d4:infod%see", info_body);
    return buf;
}

/* A multi-file torrent with one piece of 16 KiB around the given bencoded "files" list. */
static const char *multi(const char *files)
{
    static char buf[1 << 16];
    snprintf(buf, sizeof buf,
             "d4:infod5:files%s4:name4:root12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee",
             files);
    return buf;
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* ---- golden parses ------------------------------------------------------------------------ */

START_TEST(metainfo_golden_single_file)
{
    struct metainfo m;
    char err[256], hex[41];
    ck_assert_msg(parse_str(&m, golden_single, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(m.announce, "http://tracker.example:6969/announce");
    ck_assert_str_eq(m.name, "hello.txt");
    ck_assert_uint_eq(m.piece_length, 16384);
    ck_assert_uint_eq(m.piece_count, 2);
    ck_assert(memcmp(metainfo_piece_hash(&m, 1), "ABCDEFGHIJKLMNOPQRST", 20) == 0);
    ck_assert(m.total_length == 20000);
    ck_assert_int_eq(m.multi_file, 0);
    ck_assert_int_eq(m.is_private, 0);
    ck_assert_uint_eq(m.file_count, 1);
    ck_assert_str_eq(m.files[0].path_str, "hello.txt");
    ck_assert(m.files[0].length == 20000 && m.files[0].offset == 0);
    ck_assert_ptr_null(m.tiers);
    metainfo_hash_hex(m.info_hash, hex);
    ck_assert_str_eq(hex, golden_single_hash);
    metainfo_free(&m);
    ck_assert_ptr_null(m.name);
    metainfo_free(&m); /* twice is harmless */
}
END_TEST

START_TEST(metainfo_golden_multi_file)
{
    struct metainfo m;
    char err[256], hex[41];
    ck_assert_msg(parse_str(&m, golden_multi, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(m.name, "root");
    ck_assert_int_eq(m.multi_file, 1);
    ck_assert_int_eq(m.is_private, 1);
    ck_assert_uint_eq(m.piece_length, 20000); /* not a power of two: allowed */
    ck_assert_uint_eq(m.piece_count, 2);
    ck_assert(m.total_length == 40000);
    ck_assert_uint_eq(m.file_count, 3);
    ck_assert_str_eq(m.files[0].path_str, "a.bin");
    ck_assert(m.files[1].length == 0 && m.files[1].offset == 10000);
    ck_assert_str_eq(m.files[2].path_str, "sub/dir/c.bin");
    ck_assert_uint_eq(m.files[2].path_len, 3);
    ck_assert_str_eq(m.files[2].path[1], "dir");
    ck_assert(m.files[2].offset == 10000 && m.files[2].length == 30000);
    metainfo_hash_hex(m.info_hash, hex);
    ck_assert_str_eq(hex, golden_multi_hash);
    metainfo_free(&m);
}
END_TEST

START_TEST(metainfo_buffer_may_be_freed)
{
    /* Everything is copied out: parse from a heap copy, wipe and free it, then read. */
    size_t n = strlen(golden_multi);
    unsigned char *copy = malloc(n);
    memcpy(copy, golden_multi, n);
    struct metainfo m;
    ck_assert_int_eq(metainfo_parse(&m, copy, n, NULL, 0), 0);
    memset(copy, 'x', n);
    free(copy);
    ck_assert_str_eq(m.files[2].path_str, "sub/dir/c.bin");
    ck_assert_str_eq(m.announce, "http://127.0.0.1:8000/announce");
    metainfo_free(&m);
}
END_TEST

START_TEST(metainfo_info_hash_uses_raw_bytes)
{
    /* Keys out of order: accepted, and hashed as written, not as re-encoded. */
    const char *t = "d4:infod4:name9:hello.txt6:lengthi20000e12:piece lengthi16384e"
                    "6:pieces40:" PIECES2 "ee";
    struct metainfo m;
    char err[256], hex[41];
    ck_assert_msg(parse_str(&m, t, err, sizeof err) == 0, "%s", err);
    metainfo_hash_hex(m.info_hash, hex);
    ck_assert_str_eq(hex, "768fbc1c5c4d5d55767e59944740078a5865f5ba");
    ck_assert_str_ne(hex, golden_single_hash);
    ck_assert_ptr_null(m.announce);
    metainfo_free(&m);
}
END_TEST

START_TEST(metainfo_announce_list)
{
    const char *t = "d8:announce5:http:13:announce-listll8:http://aelel3:udp4:http"
                    "ee4:infod6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces20:"
                    "AAAAAAAAAAAAAAAAAAAAee";
    struct metainfo m;
    char err[256];
    ck_assert_msg(parse_str(&m, t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(m.tier_count, 2); /* the empty tier is dropped */
    ck_assert_uint_eq(m.tiers[0].count, 1);
    ck_assert_str_eq(m.tiers[0].urls[0], "http://a");
    ck_assert_uint_eq(m.tiers[1].count, 2);
    ck_assert_str_eq(m.tiers[1].urls[1], "http");
    metainfo_free(&m);
}
END_TEST

START_TEST(metainfo_private_values)
{
    struct metainfo m;
    ck_assert_int_eq(parse_str(&m,
                               single("6:lengthi1e4:name1:x12:piece lengthi16384e"
                                      "6:pieces20:AAAAAAAAAAAAAAAAAAAA7:privatei0e"),
                               NULL, 0),
                     0);
    ck_assert_int_eq(m.is_private, 0);
    metainfo_free(&m);
    expect_fail(single("6:lengthi1e4:name1:x12:piece lengthi16384e"
                       "6:pieces20:AAAAAAAAAAAAAAAAAAAA7:private1:1"),
                "info.private is a string, expected an integer");
}
END_TEST

START_TEST(metainfo_piece_length_bounds_accepted)
{
    struct metainfo m;
    char err[256];
    /* 16 KiB and 16 MiB are both in range; so is an odd length like 16385. */
    ck_assert_msg(parse_str(&m,
                            single("6:lengthi16384e4:name1:x12:piece lengthi16384e"
                                   "6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                            err, sizeof err) == 0,
                  "%s", err);
    metainfo_free(&m);
    ck_assert_msg(parse_str(&m,
                            single("6:lengthi16777217e4:name1:x12:piece lengthi16777216e"
                                   "6:pieces40:" PIECES2),
                            err, sizeof err) == 0,
                  "%s", err);
    ck_assert_uint_eq(m.piece_count, 2);
    metainfo_free(&m);
    ck_assert_msg(parse_str(&m,
                            single("6:lengthi16386e4:name1:x12:piece lengthi16385e"
                                   "6:pieces40:" PIECES2),
                            err, sizeof err) == 0,
                  "%s", err);
    metainfo_free(&m);
}
END_TEST

START_TEST(metainfo_hash_hex_format)
{
    unsigned char h[20];
    char hex[41];
    for (int k = 0; k < 20; k++)
        h[k] = (unsigned char)(k * 13 + 0x0f);
    metainfo_hash_hex(h, hex);
    ck_assert_str_eq(hex, "0f1c293643505d6a7784919eabb8c5d2dfecf906");
    ck_assert_uint_eq(strlen(hex), 40);
}
END_TEST

/* ---- one test per validation rule --------------------------------------------------------- */

START_TEST(metainfo_err_not_bencode)
{
    expect_fail("d4:info", "not a valid bencoded file: offset");
}
END_TEST

START_TEST(metainfo_err_not_a_dict)
{
    expect_fail("li1ee", "the file holds a list, expected a dictionary");
}
END_TEST

START_TEST(metainfo_err_missing_info)
{
    expect_fail("d8:announce1:xe", "\"info\" is missing");
}
END_TEST

START_TEST(metainfo_err_info_not_dict)
{
    expect_fail("d4:infoi1ee", "info is an integer, expected a dictionary");
}
END_TEST

START_TEST(metainfo_err_missing_name)
{
    expect_fail(single("6:lengthi1e12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                "info: \"name\" is missing");
}
END_TEST

START_TEST(metainfo_err_missing_piece_length)
{
    expect_fail(single("6:lengthi1e4:name1:x6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                "\"piece length\" is missing");
}
END_TEST

START_TEST(metainfo_err_missing_pieces)
{
    expect_fail(single("6:lengthi1e4:name1:x12:piece lengthi16384e"), "\"pieces\" is missing");
}
END_TEST

START_TEST(metainfo_err_pieces_not_multiple_of_20)
{
    expect_fail(single("6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces19:AAAAAAAAAAAAAAAAAAA"),
                "not a positive multiple of 20");
}
END_TEST

START_TEST(metainfo_err_pieces_empty)
{
    expect_fail(single("6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces0:"),
                "not a positive multiple of 20");
}
END_TEST

START_TEST(metainfo_err_piece_length_too_small)
{
    expect_fail(single("6:lengthi1e4:name1:x12:piece lengthi16383e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                "info.piece length 16383 is outside 16384..16777216");
}
END_TEST

START_TEST(metainfo_err_piece_length_too_large)
{
    expect_fail(
        single("6:lengthi1e4:name1:x12:piece lengthi16777217e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
        "is outside");
}
END_TEST

START_TEST(metainfo_err_piece_length_negative)
{
    expect_fail(
        single("6:lengthi1e4:name1:x12:piece lengthi-16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
        "is outside");
}
END_TEST

START_TEST(metainfo_err_too_few_pieces)
{
    /* 20000 bytes in 16 KiB pieces need 2 hashes. */
    expect_fail(
        single("6:lengthi20000e4:name1:x12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
        "holds 1 hashes, but 20000 bytes in pieces of 16384 need 2");
}
END_TEST

START_TEST(metainfo_err_too_many_pieces)
{
    expect_fail(single("6:lengthi16384e4:name1:x12:piece lengthi16384e6:pieces40:" PIECES2),
                "holds 2 hashes, but 16384 bytes in pieces of 16384 need 1");
}
END_TEST

START_TEST(metainfo_err_both_length_and_files)
{
    expect_fail(single("5:filesld6:lengthi1e4:pathl1:aeee6:lengthi1e4:name1:x"
                       "12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                "both \"length\" and \"files\"");
}
END_TEST

START_TEST(metainfo_err_neither_length_nor_files)
{
    expect_fail(single("4:name1:x12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                "neither \"length\" nor \"files\"");
}
END_TEST

START_TEST(metainfo_err_single_negative_length)
{
    expect_fail(
        single("6:lengthi-1e4:name1:x12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
        "info.length is negative");
}
END_TEST

START_TEST(metainfo_err_single_zero_length)
{
    expect_fail(single("6:lengthi0e4:name1:x12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                "total length is 0");
}
END_TEST

START_TEST(metainfo_err_name_dotdot)
{
    expect_fail(
        single("6:lengthi1e4:name2:..12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
        "info.name: \"..\" is not allowed");
}
END_TEST

START_TEST(metainfo_err_name_slash)
{
    expect_fail(
        single("6:lengthi1e4:name4:/etc12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
        "info.name: path component contains '/'");
}
END_TEST

START_TEST(metainfo_err_name_empty)
{
    expect_fail(single("6:lengthi1e4:name0:12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAA"),
                "info.name: empty path component");
}
END_TEST

START_TEST(metainfo_err_path_dotdot)
{
    expect_fail(multi("ld6:lengthi1e4:pathl1:a2:..1:beee"),
                "info.files[0].path[1]: \"..\" is not allowed as a path component");
}
END_TEST

START_TEST(metainfo_err_path_dot)
{
    expect_fail(multi("ld6:lengthi1e4:pathl1:.1:beee"), "info.files[0].path[0]: \".\" is not");
}
END_TEST

START_TEST(metainfo_err_path_empty_component)
{
    expect_fail(multi("ld6:lengthi1e4:pathl1:a0:eee"), "info.files[0].path[1]: empty path");
}
END_TEST

START_TEST(metainfo_err_path_slash_inside)
{
    expect_fail(multi("ld6:lengthi1e4:pathl3:a/beee"), "info.files[0].path[0]: path component "
                                                       "contains '/'");
}
END_TEST

START_TEST(metainfo_err_path_absolute)
{
    expect_fail(multi("ld6:lengthi1e4:pathl11:/etc/passwdeee"), "contains '/'");
}
END_TEST

START_TEST(metainfo_err_path_nul)
{
    static const char t[] = "d4:infod5:filesld6:lengthi1e4:pathl3:a\0beee4:name4:root"
                            "12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";
    expect_fail_n(t, sizeof t - 1, "contains a NUL byte");
}
END_TEST

START_TEST(metainfo_err_path_list_empty)
{
    expect_fail(multi("ld6:lengthi1e4:pathleee"), "info.files[0].path is empty");
}
END_TEST

START_TEST(metainfo_err_path_not_list)
{
    expect_fail(multi("ld6:lengthi1e4:path1:aee"),
                "info.files[0].path is a string, expected a list");
}
END_TEST

START_TEST(metainfo_err_path_component_not_string)
{
    expect_fail(multi("ld6:lengthi1e4:pathli7eeee"),
                "info.files[0].path[0] is an integer, expected a string");
}
END_TEST

START_TEST(metainfo_err_file_not_dict)
{
    expect_fail(multi("ld6:lengthi1e4:pathl1:aeei1ee"), "info.files[1] is an integer");
}
END_TEST

START_TEST(metainfo_err_file_missing_length)
{
    expect_fail(multi("ld4:pathl1:aeee"), "info.files[0]: \"length\" is missing");
}
END_TEST

START_TEST(metainfo_err_file_negative_length)
{
    expect_fail(multi("ld6:lengthi-5e4:pathl1:aeee"), "info.files[0].length is negative");
}
END_TEST

START_TEST(metainfo_err_files_empty)
{
    expect_fail(multi("le"), "info.files is empty");
}
END_TEST

START_TEST(metainfo_err_files_total_zero)
{
    expect_fail(multi("ld6:lengthi0e4:pathl1:aeed6:lengthi0e4:pathl1:beee"), "total length is 0");
}
END_TEST

START_TEST(metainfo_err_duplicate_paths)
{
    expect_fail(multi("ld6:lengthi1e4:pathl1:x1:aeed6:lengthi1e4:pathl1:beed6:lengthi1e"
                      "4:pathl1:x1:aeee"),
                "two files have the path \"x/a\"");
}
END_TEST

START_TEST(metainfo_err_file_is_also_directory)
{
    expect_fail(multi("ld6:lengthi1e4:pathl1:aeed6:lengthi1e4:pathl1:a1:beee"),
                "\"a\" is both a file and a directory");
}
END_TEST

START_TEST(metainfo_err_path_too_deep)
{
    char files[1024] = "ld6:lengthi1e4:pathl";
    for (int k = 0; k < METAINFO_MAX_DEPTH + 1; k++)
        strcat(files, "1:a");
    strcat(files, "eee");
    expect_fail(multi(files), "info.files[0].path has more than 32 components");
}
END_TEST

START_TEST(metainfo_err_path_too_long)
{
    /* 30 components of 200 bytes: 6029 bytes joined, over the 4096 cap. */
    char files[8192] = "ld6:lengthi1e4:pathl";
    char comp[210];
    memset(comp, 'n', sizeof comp);
    for (int k = 0; k < 30; k++)
        snprintf(files + strlen(files), sizeof files - strlen(files), "200:%.200s", comp);
    strcat(files, "eee");
    expect_fail(multi(files), "info.files[0].path: path longer than 4096 bytes");
}
END_TEST

START_TEST(metainfo_err_too_many_files)
{
    /* The count is checked before any entry, so the entries need not be valid. */
    size_t n = METAINFO_MAX_FILES + 1;
    char *t = malloc(3 * n + 200);
    char *p = t;
    p += sprintf(p, "d4:infod5:filesl");
    for (size_t k = 0; k < n; k++)
        p += sprintf(p, "i0e");
    sprintf(p, "e4:name1:x12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee");
    expect_fail(t, "info.files has more than 100000 files");
    free(t);
}
END_TEST

START_TEST(metainfo_err_announce_not_string)
{
    expect_fail("d8:announcei1e4:infod6:lengthi1e4:name1:x12:piece lengthi16384e"
                "6:pieces20:AAAAAAAAAAAAAAAAAAAAee",
                "announce is an integer, expected a string");
}
END_TEST

START_TEST(metainfo_err_announce_list_tier_not_list)
{
    expect_fail("d13:announce-listl1:xe4:infod6:lengthi1e4:name1:x12:piece lengthi16384e"
                "6:pieces20:AAAAAAAAAAAAAAAAAAAAee",
                "announce-list[0] is a string, expected a list");
}
END_TEST

START_TEST(metainfo_err_announce_list_url_not_string)
{
    expect_fail("d13:announce-listll1:ai1eee4:infod6:lengthi1e4:name1:x12:piece lengthi16384e"
                "6:pieces20:AAAAAAAAAAAAAAAAAAAAee",
                "announce-list[0][1] is an integer, expected a string");
}
END_TEST

START_TEST(metainfo_err_announce_nul)
{
    static const char t[] = "d8:announce3:a\0b4:infod6:lengthi1e4:name1:x12:piece lengthi16384e"
                            "6:pieces20:AAAAAAAAAAAAAAAAAAAAee";
    expect_fail_n(t, sizeof t - 1, "announce contains a NUL byte");
}
END_TEST

START_TEST(metainfo_err_every_truncation)
{
    /* Every proper prefix of a valid torrent is refused without a crash, and the whole of it is
     * accepted: a parser that refused everything would pass the first half alone. */
    size_t n = strlen(golden_multi);
    for (size_t k = 0; k < n; k++) {
        unsigned char *p = malloc(k ? k : 1);
        memcpy(p, golden_multi, k);
        struct metainfo m;
        ck_assert_int_eq(metainfo_parse(&m, p, k, NULL, 0), -1);
        free(p);
    }
    struct metainfo whole;
    char err[256] = "";
    ck_assert_msg(metainfo_parse(&whole, (const unsigned char *)golden_multi, n, err, sizeof err) ==
                      0,
                  "the whole torrent, untruncated, was refused: %s", err);
    metainfo_free(&whole);
}
END_TEST

/* ---- writing ------------------------------------------------------------------------------ */

START_TEST(metainfo_encode_golden_multi)
{
    static const char *const p0[] = {"a.bin"}, *const p1[] = {"empty"},
                             *const p2[] = {"sub", "dir", "c.bin"};
    const struct metainfo_spec_file files[] = {{p0, 1, 10000}, {p1, 1, 0}, {p2, 3, 30000}};
    struct metainfo_spec spec = {
        .announce = "http://127.0.0.1:8000/announce",
        .name = "root",
        .piece_length = 20000,
        .multi_file = 1,
        .files = files,
        .file_count = 3,
        .pieces = (const unsigned char *)PIECES2,
        .piece_count = 2,
        .is_private = 1,
    };
    struct benc_buf b;
    char err[256];
    benc_buf_init(&b);
    ck_assert_msg(metainfo_encode(&spec, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.len, strlen(golden_multi));
    ck_assert(memcmp(b.data, golden_multi, b.len) == 0);
    benc_buf_free(&b);
}
END_TEST

START_TEST(metainfo_encode_golden_single)
{
    const struct metainfo_spec_file file = {NULL, 0, 20000};
    struct metainfo_spec spec = {
        .announce = "http://tracker.example:6969/announce",
        .name = "hello.txt",
        .piece_length = 16384,
        .files = &file,
        .file_count = 1,
        .pieces = (const unsigned char *)PIECES2,
        .piece_count = 2,
    };
    struct benc_buf b;
    char err[256];
    benc_buf_init(&b);
    ck_assert_msg(metainfo_encode(&spec, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.len, strlen(golden_single));
    ck_assert(memcmp(b.data, golden_single, b.len) == 0);
    benc_buf_free(&b);
}
END_TEST

/* announce-list, "created by" and "creation date" are written in key order, outside the info
 * dict, so the info hash stays the one of the plain golden torrent. */
START_TEST(metainfo_encode_extras)
{
    static const char *const t0[] = {"http://tracker.example:6969/announce"};
    static const char *const t1[] = {"udp://127.0.0.1:9000", "http://b.example/a"};
    const struct metainfo_spec_tier tiers[] = {{t0, 1}, {t1, 2}};
    const struct metainfo_spec_file file = {NULL, 0, 20000};
    struct metainfo_spec spec = {
        .announce = "http://tracker.example:6969/announce",
        .name = "hello.txt",
        .piece_length = 16384,
        .files = &file,
        .file_count = 1,
        .pieces = (const unsigned char *)PIECES2,
        .piece_count = 2,
        .tiers = tiers,
        .tier_count = 2,
        .created_by = "minitorrent 0.1.0",
        .creation_date = 1700000000,
    };
    static const char want[] =
        "d8:announce36:http://tracker.example:6969/announce13:announce-listll36:http://"
        "tracker.example:6969/announceel20:udp://127.0.0.1:900018:http://b.example/aee"
        "10:created by17:minitorrent 0.1.013:creation datei1700000000e4:infod6:lengthi20000e"
        "4:name9:hello.txt12:piece lengthi16384e6:pieces40:" PIECES2 "ee";
    struct benc_buf b;
    char err[256], hex[41];
    benc_buf_init(&b);
    ck_assert_msg(metainfo_encode(&spec, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.len, strlen(want));
    ck_assert(memcmp(b.data, want, b.len) == 0);

    struct metainfo m;
    ck_assert_msg(metainfo_parse(&m, b.data, b.len, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(m.tier_count, 2);
    ck_assert_uint_eq(m.tiers[1].count, 2);
    ck_assert_str_eq(m.tiers[1].urls[1], "http://b.example/a");
    metainfo_hash_hex(m.info_hash, hex);
    ck_assert_str_eq(hex, golden_single_hash);
    metainfo_free(&m);
    benc_buf_free(&b);

    /* An empty tier and a negative date are refused rather than written. */
    const struct metainfo_spec_tier empty[] = {{t0, 0}};
    spec.tiers = empty;
    spec.tier_count = 1;
    benc_buf_init(&b);
    ck_assert_int_eq(metainfo_encode(&spec, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    benc_buf_free(&b);
    spec.tier_count = 0;
    spec.creation_date = -1;
    benc_buf_init(&b);
    ck_assert_int_eq(metainfo_encode(&spec, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "negative"));
    benc_buf_free(&b);
}
END_TEST

START_TEST(metainfo_encode_rejects_bad_spec)
{
    static const char *const bad[] = {"ok", ".."};
    const struct metainfo_spec_file file = {bad, 2, 100};
    struct metainfo_spec spec = {
        .name = "root",
        .piece_length = 16384,
        .multi_file = 1,
        .files = &file,
        .file_count = 1,
        .pieces = (const unsigned char *)PIECES2,
        .piece_count = 1,
    };
    struct benc_buf b;
    char err[256];
    benc_buf_init(&b);
    ck_assert_int_eq(metainfo_encode(&spec, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "\"..\" is not allowed"));
    benc_buf_free(&b);

    /* A wrong piece count is caught too. */
    static const char *const good[] = {"ok"};
    const struct metainfo_spec_file file2 = {good, 1, 100000};
    spec.files = &file2;
    benc_buf_init(&b);
    ck_assert_int_eq(metainfo_encode(&spec, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "need 7"));
    benc_buf_free(&b);
}
END_TEST

START_TEST(metainfo_roundtrip_random)
{
    uint64_t seed = 0x7e770001;
    rng_state = seed;
    printf("metainfo_roundtrip_random: seed %llu\n", (unsigned long long)seed);
    for (int iter = 0; iter < 300; iter++) {
        size_t nfiles = 1 + rnd() % 8;
        int multi_file = nfiles > 1 || rnd() % 2;
        char names[8][4][16];
        const char *paths[8][4];
        struct metainfo_spec_file files[8];
        uint64_t total = 0;
        for (size_t f = 0; f < nfiles; f++) {
            size_t depth = 1 + rnd() % 4;
            for (size_t c = 0; c < depth; c++) {
                /* The last component carries the file index, so paths never collide; the
                 * directories are named "d..." and files "f...", so none is both. */
                if (c + 1 == depth)
                    snprintf(names[f][c], sizeof names[f][c], "f%zu-%u", f,
                             (unsigned)(rnd() % 100));
                else
                    snprintf(names[f][c], sizeof names[f][c], "d%u", (unsigned)(rnd() % 3));
                paths[f][c] = names[f][c];
            }
            files[f].path = paths[f];
            files[f].path_len = depth;
            files[f].length = rnd() % 4 == 0 ? 0 : rnd() % 200000;
            total += files[f].length;
        }
        if (total == 0) {
            files[0].length = 1;
            total = 1;
        }
        uint32_t plen = METAINFO_MIN_PIECE_LENGTH + (uint32_t)(rnd() % 100000);
        uint32_t npieces = (uint32_t)((total + plen - 1) / plen);
        unsigned char *pieces = malloc((size_t)npieces * 20);
        for (size_t k = 0; k < (size_t)npieces * 20; k++)
            pieces[k] = (unsigned char)rnd();
        struct metainfo_spec spec = {
            .announce = rnd() % 2 ? "http://127.0.0.1:1/announce" : NULL,
            .name = "name",
            .piece_length = plen,
            .multi_file = multi_file,
            .files = files,
            .file_count = nfiles,
            .pieces = pieces,
            .piece_count = npieces,
            .is_private = (int)(rnd() % 2),
        };
        struct benc_buf b;
        char err[256];
        benc_buf_init(&b);
        ck_assert_msg(metainfo_encode(&spec, &b, err, sizeof err) == 0, "seed %llu iter %d: %s",
                      (unsigned long long)seed, iter, err);

        struct metainfo m;
        ck_assert_int_eq(metainfo_parse(&m, b.data, b.len, err, sizeof err), 0);
        ck_assert_int_eq(m.multi_file, multi_file);
        ck_assert_int_eq(m.is_private, spec.is_private);
        ck_assert_uint_eq(m.piece_length, plen);
        ck_assert_uint_eq(m.piece_count, npieces);
        ck_assert(m.total_length == total);
        ck_assert(memcmp(m.pieces, pieces, (size_t)npieces * 20) == 0);
        ck_assert_uint_eq(m.file_count, multi_file ? nfiles : 1);
        uint64_t off = 0;
        for (size_t f = 0; f < m.file_count; f++) {
            ck_assert(m.files[f].offset == off);
            ck_assert(m.files[f].length == files[f].length);
            off += m.files[f].length;
            if (multi_file) {
                ck_assert_uint_eq(m.files[f].path_len, files[f].path_len);
                for (size_t c = 0; c < files[f].path_len; c++)
                    ck_assert_str_eq(m.files[f].path[c], files[f].path[c]);
            }
        }
        /* The info hash is the SHA-1 of the info dict's span in the bytes. */
        struct bencode_doc d;
        ck_assert_int_eq(bencode_decode(&d, b.data, b.len, 0, NULL), 0);
        const struct bencode_value *info = bencode_dict_get(d.root, "info");
        unsigned char h[20];
        sha1(b.data + info->start, info->end - info->start, h);
        ck_assert(memcmp(h, m.info_hash, 20) == 0);
        bencode_doc_free(&d);
        metainfo_free(&m);
        benc_buf_free(&b);
        free(pieces);
    }
}
END_TEST

START_TEST(metainfo_mutations_are_safe)
{
    /* Random byte edits of a valid torrent: parse must never crash (the sanitizer build
     * watches), and anything accepted must still be self-consistent. */
    const unsigned char alphabet[] = "ilde0123456789:-./a";
    uint64_t seed = 0x7e770002;
    rng_state = seed;
    printf("metainfo_mutations_are_safe: seed %llu\n", (unsigned long long)seed);
    size_t n0 = strlen(golden_multi);
    int accepted = 0;
    for (int iter = 0; iter < 5000; iter++) {
        unsigned char *t = malloc(n0);
        memcpy(t, golden_multi, n0);
        int edits = 1 + (int)(rnd() % 3);
        for (int k = 0; k < edits; k++)
            t[rnd() % n0] = alphabet[rnd() % (sizeof alphabet - 1)];
        struct metainfo m;
        if (metainfo_parse(&m, t, n0, NULL, 0) == 0) {
            uint64_t sum = 0;
            for (size_t f = 0; f < m.file_count; f++)
                sum += m.files[f].length;
            ck_assert(sum == m.total_length);
            ck_assert(m.piece_count == (m.total_length + m.piece_length - 1) / m.piece_length);
            metainfo_free(&m);
            accepted++;
        }
        free(t);
    }
    /* Many edits land in the piece hashes or a name and leave a valid torrent: a parser that
     * accepted none of them would check nothing above. */
    ck_assert_msg(accepted > 0, "none of 5000 lightly edited torrents was accepted (seed %llu)",
                  (unsigned long long)seed);
}
END_TEST

static Suite *metainfo_suite(void)
{
    Suite *s = suite_create("metainfo");
    /* metainfo_: reading a .torrent (through the bencode decoder), its info hash, and writing one
     * (lab 5 grades these). */
    TCase *tc = tk_tcase(s, "metainfo", 60);
    tk_add_test(tc, metainfo_golden_single_file);
    tk_add_test(tc, metainfo_golden_multi_file);
    tk_add_test(tc, metainfo_buffer_may_be_freed);
    tk_add_test(tc, metainfo_info_hash_uses_raw_bytes);
    tk_add_test(tc, metainfo_announce_list);
    tk_add_test(tc, metainfo_private_values);
    tk_add_test(tc, metainfo_piece_length_bounds_accepted);
    tk_add_test(tc, metainfo_err_not_bencode);
    tk_add_test(tc, metainfo_err_not_a_dict);
    tk_add_test(tc, metainfo_err_missing_info);
    tk_add_test(tc, metainfo_err_info_not_dict);
    tk_add_test(tc, metainfo_err_missing_name);
    tk_add_test(tc, metainfo_err_missing_piece_length);
    tk_add_test(tc, metainfo_err_missing_pieces);
    tk_add_test(tc, metainfo_err_pieces_not_multiple_of_20);
    tk_add_test(tc, metainfo_err_pieces_empty);
    tk_add_test(tc, metainfo_err_piece_length_too_small);
    tk_add_test(tc, metainfo_err_piece_length_too_large);
    tk_add_test(tc, metainfo_err_piece_length_negative);
    tk_add_test(tc, metainfo_err_too_few_pieces);
    tk_add_test(tc, metainfo_err_too_many_pieces);
    tk_add_test(tc, metainfo_err_both_length_and_files);
    tk_add_test(tc, metainfo_err_neither_length_nor_files);
    tk_add_test(tc, metainfo_err_single_negative_length);
    tk_add_test(tc, metainfo_err_single_zero_length);
    tk_add_test(tc, metainfo_err_name_dotdot);
    tk_add_test(tc, metainfo_err_name_slash);
    tk_add_test(tc, metainfo_err_name_empty);
    tk_add_test(tc, metainfo_err_path_dotdot);
    tk_add_test(tc, metainfo_err_path_dot);
    tk_add_test(tc, metainfo_err_path_empty_component);
    tk_add_test(tc, metainfo_err_path_slash_inside);
    tk_add_test(tc, metainfo_err_path_absolute);
    tk_add_test(tc, metainfo_err_path_nul);
    tk_add_test(tc, metainfo_err_path_list_empty);
    tk_add_test(tc, metainfo_err_path_not_list);
    tk_add_test(tc, metainfo_err_path_component_not_string);
    tk_add_test(tc, metainfo_err_file_not_dict);
    tk_add_test(tc, metainfo_err_file_missing_length);
    tk_add_test(tc, metainfo_err_file_negative_length);
    tk_add_test(tc, metainfo_err_files_empty);
    tk_add_test(tc, metainfo_err_files_total_zero);
    tk_add_test(tc, metainfo_err_duplicate_paths);
    tk_add_test(tc, metainfo_err_file_is_also_directory);
    tk_add_test(tc, metainfo_err_path_too_deep);
    tk_add_test(tc, metainfo_err_path_too_long);
    tk_add_test(tc, metainfo_err_too_many_files);
    tk_add_test(tc, metainfo_err_announce_not_string);
    tk_add_test(tc, metainfo_err_announce_list_tier_not_list);
    tk_add_test(tc, metainfo_err_announce_list_url_not_string);
    tk_add_test(tc, metainfo_err_announce_nul);
    tk_add_test(tc, metainfo_err_every_truncation);
    tk_add_test(tc, metainfo_encode_golden_multi);
    tk_add_test(tc, metainfo_encode_golden_single);
    tk_add_test(tc, metainfo_encode_extras);
    tk_add_test(tc, metainfo_encode_rejects_bad_spec);
    tk_add_test(tc, metainfo_roundtrip_random);
    tk_add_test(tc, metainfo_mutations_are_safe);

    /* metainfo_hash_hex_: printing a hash, given code that no lab grades. */
    tc = tk_tcase(s, "metainfo_hash_hex", 10);
    tk_add_test(tc, metainfo_hash_hex_format);
    return s;
}

TK_MAIN(metainfo_suite)
