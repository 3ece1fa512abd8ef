/*
 * check_fuzz_regressions.c - the fuzz targets (fuzz/fuzz_*.c) in the normal test suite.
 *
 * `make fuzz` needs clang and minutes; this suite needs neither, and runs under gcc, ASan and
 * TSan like every other. It calls the very functions the libFuzzer harnesses call:
 *   - on every seed file in fuzz/corpus/NAME/, so a change that breaks a parser's invariants on
 *     a valid torrent, message or reply fails `make check` at once;
 *   - on every input the fuzzer ever crashed with (one test each, named after the bug), so a
 *     fixed bug stays fixed.
 * A target that finds a broken invariant aborts; Check runs each test in its own process and
 * reports the abort as a failure of that test.
 */
#include "testlib.h"

#include "../fuzz/fuzz.h"
#include "url.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every harness, by the name of its corpus folder and its dictionary. */
static const struct {
    const char *name;
    int (*run)(const uint8_t *data, size_t size);
} targets[] = {
    {"bencode", fuzz_target_bencode},
    {"metainfo", fuzz_target_metainfo},
    {"wire", fuzz_target_wire},
    {"session", fuzz_target_session},
    {"tracker_http_reply", fuzz_target_tracker_http_reply},
    {"tracker_http_request", fuzz_target_tracker_http_request},
    {"tracker_udp", fuzz_target_tracker_udp},
    {"url", fuzz_target_url},
    {"linereader", fuzz_target_linereader},
    {"upper_session", fuzz_target_upper_session},
    {"upper_datagram", fuzz_target_upper_datagram},
};
enum { NTARGETS = sizeof targets / sizeof targets[0] };

/* Reads a whole file into an exact-size heap block (so ASan sees reads past its end). */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *p = realloc(buf, cap);
            ck_assert_ptr_nonnull(p);
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    uint8_t *exact = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(exact);
    memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

/* ===================================================================== seed corpora ====== */

START_TEST(fuzz_seed_corpus)
{
    /* One run of this loop test per target (_i), so a failure names the harness. */
    char dir[256];
    snprintf(dir, sizeof dir, "fuzz/corpus/%s", targets[_i].name);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "%s: no seed corpus (run the tests from the top of the tree)", dir);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *data = read_file(path, &len);
        ck_assert_msg(data != NULL, "cannot read %s", path);
        /* Printed first, so the log names the input when the target aborts. */
        printf("fuzz_seed_corpus: %s\n", path);
        fflush(stdout);
        ck_assert_int_eq(targets[_i].run(data, len), 0);
        free(data);
        files++;
    }
    closedir(d);
    ck_assert_msg(files > 0, "%s holds no seed", dir);
}
END_TEST

START_TEST(fuzz_every_corpus_has_a_target)
{
    /* A corpus folder without an entry in targets[] would never be checked here. */
    DIR *d = opendir("fuzz/corpus");
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int found = 0;
        for (int i = 0; i < NTARGETS; i++)
            found |= strcmp(targets[i].name, e->d_name) == 0;
        ck_assert_msg(found, "fuzz/corpus/%s has no target in check_fuzz_regressions.c", e->d_name);
    }
    closedir(d);
}
END_TEST

START_TEST(fuzz_empty_and_tiny_inputs)
{
    /* libFuzzer always tries the empty input first; every target must take it, and one byte. */
    static const uint8_t one[1] = {0};
    for (int i = 0; i < NTARGETS; i++) {
        uint8_t *empty = malloc(1);
        ck_assert_ptr_nonnull(empty);
        ck_assert_int_eq(targets[i].run(empty, 0), 0);
        ck_assert_int_eq(targets[i].run(one, 1), 0);
        free(empty);
    }
}
END_TEST

START_TEST(fuzz_broken_invariant_aborts)
{
    /* The harnesses report a broken invariant by aborting, which is what libFuzzer saves as a
     * crash. This test expects SIGABRT: it shows the mechanism works. */
    FUZZ_CHECK(1 + 1 == 3);
}
END_TEST

/* ===================================================================== regressions ======= */
/* One test per bug the fuzzer found, named fuzz_<module>_<what>: the input (or a readable
 * equivalent) goes through the same target, and a direct check says what was wrong. The saved
 * crash file itself is also kept as a seed in fuzz/corpus/NAME/crash-*. */

START_TEST(fuzz_url_implied_slash_counts_toward_limit)
{
    /* fuzz_url found: "http://h?" + a 1023-byte query was accepted (path and query were 1024
     * bytes as written), but the same URL printed back as "http://h:80/?..." was refused, since
     * the "/" the parser adds made it 1025. The limit now applies to what is sent. */
    for (size_t qlen = 1022; qlen <= 1023; qlen++) {
        char url[16 + URL_PATH_MAX], with_slash[16 + URL_PATH_MAX];
        memcpy(url, "http://h?", 9);
        memset(url + 9, 'q', qlen);
        url[9 + qlen] = '\0';
        memcpy(with_slash, "http://h/?", 10);
        memset(with_slash + 10, 'q', qlen);
        with_slash[10 + qlen] = '\0';
        struct tracker_url u;
        char err[128];
        int a = url_parse(url, &u, err, sizeof err);
        int b = url_parse(with_slash, &u, err, sizeof err);
        ck_assert_int_eq(a, b); /* both spellings of one URL get the same answer */
        ck_assert_int_eq(a, qlen == 1022 ? 0 : -1);
        ck_assert_int_eq(fuzz_target_url((const uint8_t *)url, strlen(url)), 0);
    }
}
END_TEST

static Suite *fuzz_suite(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tk_tcase(s, "fuzz", 120);
    tcase_add_loop_test(tc, fuzz_seed_corpus, 0, NTARGETS);
    tk_add_test(tc, fuzz_every_corpus_has_a_target);
    tk_add_test(tc, fuzz_empty_and_tiny_inputs);
    tcase_add_test_raise_signal(tc, fuzz_broken_invariant_aborts, SIGABRT);
    tk_add_test(tc, fuzz_url_implied_slash_counts_toward_limit);
    return s;
}

TK_MAIN(fuzz_suite)
