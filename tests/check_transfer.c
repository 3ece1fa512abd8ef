/*
 * check_transfer.c - minitorrent end to end on loopback: a tracker, a seeder and a downloader as
 * separate processes, with no third-party software. The downloaded bytes must equal the original.
 */
#include "testlib.h"
#include "announce.h"
#include "metainfo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct tk_proc tracker, seeder, getter, tool;
static char root[64]; /* this test's scratch folder */

/* Makes a scratch folder with seed/ and get/ inside. */
static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/mt-transfer-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char path[128];
    snprintf(path, sizeof path, "%s/seed", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/get", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

static void remove_root(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes size pseudo-random bytes (from seed) to path. */
static void write_random(const char *path, size_t size, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, f);
    }
    fclose(f);
}

/* Returns 1 when two files hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

/* Runs bin/minitorrent with args to completion; returns its exit status (output in tool.out). */
static int run_tool(char *const argv[])
{
    tool.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&tool, argv), 0);
    tk_write(&tool, NULL);
    int st = tk_wait_exit(&tool, 60000);
    ck_assert_msg(st >= 0, "%s %s did not finish", argv[0], argv[1]);
    return st;
}

/* Starts `minitorrent tracker` and returns its announce URL (http, or udp when udp is set). */
static const char *start_tracker(int udp)
{
    static char url[128];
    char *argv[] = {"minitorrent", "tracker",         "-p", "0", "-b", "127.0.0.1", "--interval",
                    "1",           udp ? "-u" : NULL, "0",  NULL};
    ck_assert_int_eq(tk_spawn(&tracker, argv), 0);
    int port = tk_wait_listening(&tracker, 10000);
    ck_assert_msg(port > 0, "the tracker did not start: %s", tracker.out);
    if (!udp) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/announce", port);
        return url;
    }
    /* Wait for the udp:// line too. */
    long long deadline = tk_now_ms() + 10000;
    const char *u;
    while ((u = strstr(tracker.out, "udp://")) == NULL || strchr(u, '\n') == NULL) {
        ck_assert_msg(tk_now_ms() < deadline, "no udp:// line from the tracker: %s", tracker.out);
        tk_wait_readable(tracker.out_fd, 100);
        ssize_t n = read(tracker.out_fd, tracker.out + tracker.out_len,
                         sizeof tracker.out - 1 - tracker.out_len);
        if (n > 0) {
            tracker.out_len += (size_t)n;
            tracker.out[tracker.out_len] = '\0';
        }
    }
    size_t len = strcspn(u, " \n");
    snprintf(url, sizeof url, "%.*s", (int)len, u);
    return url;
}

/* Creates the torrent for content (a file or folder) announcing to url; returns its path. */
static const char *create_torrent(const char *content, const char *url, const char *piece)
{
    static char out[128];
    snprintf(out, sizeof out, "%s/t.torrent", root);
    char *argv[] = {"minitorrent", "create",      (char *)content, "-a", (char *)url,
                    "-l",          (char *)piece, "--private",     "-o", out,
                    NULL};
    int st = run_tool(argv);
    ck_assert_msg(st == 0, "create failed: %s", tool.out);
    return out;
}

/* Reads the info hash of a .torrent file. */
static void info_hash_of(const char *torrent, unsigned char hash[20])
{
    FILE *f = fopen(torrent, "rb");
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct metainfo m;
    metainfo_init(&m);
    char err[256];
    ck_assert_msg(metainfo_parse(&m, buf, n, err, sizeof err) == 0, "%s", err);
    memcpy(hash, m.info_hash, 20);
    metainfo_free(&m);
}

/* Starts the seeder and waits until the tracker lists it as a seeder (scrape), so the download
 * that follows finds it at its first announce. */
static void start_seeder(const char *torrent, const char *url)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/seed", root);
    char *argv[] = {"minitorrent", "seed", (char *)torrent, "-d", dir, "-b", "127.0.0.1", NULL};
    seeder.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&seeder, argv), 0);
    ck_assert_msg(tk_wait_listening(&seeder, 30000) > 0, "the seeder did not start: %s",
                  seeder.out);
    unsigned char hash[20];
    info_hash_of(torrent, hash);
    long long deadline = tk_now_ms() + 20000;
    for (;;) {
        struct tracker_scrape_counts c = {0, 0, 0};
        char err[256];
        if (announce_scrape(url, hash, 2000, &c, err, sizeof err) == 0 && c.complete > 0)
            break;
        ck_assert_msg(tk_now_ms() < deadline, "the seeder never showed up in the scrape");
        /* Ask again soon: the seeder announces right after it starts listening. */
        poll(NULL, 0, 20);
    }
}

/* Runs `minitorrent get` to the end; returns its exit status (output in getter.out). */
static int run_get(const char *torrent)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/get", root);
    char *argv[] = {"minitorrent", "get", (char *)torrent, "-d", dir, "-b", "127.0.0.1", NULL};
    getter.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&getter, argv), 0);
    int st = tk_wait_exit(&getter, 60000);
    ck_assert_msg(st >= 0, "get did not finish: %s", getter.out);
    return st;
}

static void stop_all(void)
{
    ck_assert_int_eq(tk_stop(&seeder, 10000), 0);
    ck_assert_int_eq(tk_stop(&tracker, 10000), 0);
}

/* Downloads one file through a tracker given by url_kind and checks the bytes. */
static void check_single_file(int udp, size_t size, const char *piece)
{
    make_root();
    char src[128], dst[128];
    snprintf(src, sizeof src, "%s/seed/data.bin", root);
    snprintf(dst, sizeof dst, "%s/get/data.bin", root);
    write_random(src, size, 7);
    const char *url = start_tracker(udp);
    const char *torrent = create_torrent(src, url, piece);
    start_seeder(torrent, url);
    int st = run_get(torrent);
    ck_assert_msg(st == 0, "get exited with %d:\n%s", st, getter.out);
    ck_assert_msg(strstr(getter.out, "every piece verified") != NULL, "%s", getter.out);
    ck_assert_msg(same_file(src, dst), "the downloaded file differs from the original");
    stop_all();
    remove_root();
}

START_TEST(transfer_single_file_http_tracker)
{
    /* 48 KiB pieces: not a power of two; the size leaves a short last piece and block. */
    check_single_file(0, 3 * 1024 * 1024 + 1234, "48K");
}
END_TEST

START_TEST(transfer_single_file_udp_tracker)
{
    check_single_file(1, 2 * 1024 * 1024 + 17, "256K");
}
END_TEST

START_TEST(transfer_multi_file)
{
    make_root();
    char path[256];
    snprintf(path, sizeof path, "%s/seed/album", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/seed/album/disc1", root);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    const char *files[] = {"album/a.bin", "album/disc1/b.bin", "album/empty", "album/z.bin"};
    size_t sizes[] = {100000, 70001, 0, 300003};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/seed/%s", root, files[i]);
        write_random(path, sizes[i], (unsigned)i + 1);
    }
    const char *url = start_tracker(0);
    snprintf(path, sizeof path, "%s/seed/album", root);
    const char *torrent = create_torrent(path, url, "32K");
    start_seeder(torrent, url);
    int st = run_get(torrent);
    ck_assert_msg(st == 0, "get exited with %d:\n%s", st, getter.out);
    for (int i = 0; i < 4; i++) {
        char src[256], dst[256];
        snprintf(src, sizeof src, "%s/seed/%s", root, files[i]);
        snprintf(dst, sizeof dst, "%s/get/%s", root, files[i]);
        ck_assert_msg(same_file(src, dst), "%s differs after the download", files[i]);
    }
    stop_all();
    remove_root();
}
END_TEST

/* Copies the first `keep` bytes of src into dst, and fills the rest of its size with zeros. */
static void write_partial(const char *src, const char *dst, size_t size, size_t keep)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    for (size_t i = 0; i < size; i++) {
        int c = fgetc(in);
        fputc(i < keep ? c : 0, out);
    }
    fclose(in);
    fclose(out);
}

START_TEST(transfer_resume_fetches_only_what_is_missing)
{
    make_root();
    enum { SIZE = 2 * 1024 * 1024, PIECE = 64 * 1024 };
    char src[128], dst[128];
    snprintf(src, sizeof src, "%s/seed/data.bin", root);
    snprintf(dst, sizeof dst, "%s/get/data.bin", root);
    write_random(src, SIZE, 11);
    /* Half the file is already here, as an interrupted download would leave it; one byte of
     * the good half is corrupt, so that piece must be fetched again too. */
    write_partial(src, dst, SIZE, SIZE / 2);
    int fd = open(dst, O_WRONLY);
    ck_assert_int_eq(pwrite(fd, "\x5a", 1, 3 * PIECE + 100), 1);
    close(fd);

    const char *url = start_tracker(0);
    const char *torrent = create_torrent(src, url, "64K");
    start_seeder(torrent, url);
    int st = run_get(torrent);
    ck_assert_msg(st == 0, "get exited with %d:\n%s", st, getter.out);
    ck_assert_msg(same_file(src, dst), "the resumed file differs from the original");
    unsigned long long got = 0;
    const char *done = strstr(getter.out, "done: ");
    ck_assert_msg(done != NULL && sscanf(done, "done: %llu bytes", &got) == 1, "%s", getter.out);
    /* The missing half plus the one corrupt piece: nothing else. */
    ck_assert_msg(got == SIZE / 2 + PIECE, "downloaded %llu bytes; expected %d", got,
                  SIZE / 2 + PIECE);
    stop_all();
    remove_root();
}
END_TEST

START_TEST(transfer_bad_torrent_is_a_clear_error)
{
    make_root();
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.torrent", root);
    FILE *f = fopen(bad, "wb");
    fputs("d8:announce3:abc4:infod4:name1:xee", f); /* no piece length, no pieces */
    fclose(f);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/get", root);
    int st = run_tool((char *[]){"minitorrent", "get", bad, "-d", dir, NULL});
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(tool.out, "bad.torrent") != NULL, "message: %s", tool.out);
    st = run_tool((char *[]){"minitorrent", "get", "/no/such/file.torrent", NULL});
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(tool.out, "cannot open") != NULL, "message: %s", tool.out);
    st = run_tool((char *[]){"minitorrent", "get", NULL});
    ck_assert_int_eq(st, 2);
    st = run_tool((char *[]){"minitorrent", "seed", bad, "--up-rate", "fast", NULL});
    ck_assert_int_eq(st, 2);
    remove_root();
}
END_TEST

START_TEST(transfer_seed_refuses_wrong_content)
{
    make_root();
    char src[128];
    snprintf(src, sizeof src, "%s/seed/data.bin", root);
    write_random(src, 200000, 3);
    const char *torrent = create_torrent(src, "http://127.0.0.1:9/announce", "16K");
    write_random(src, 200000, 4); /* same size, other bytes */
    char dir[128];
    snprintf(dir, sizeof dir, "%s/seed", root);
    int st = run_tool((char *[]){"minitorrent", "seed", (char *)torrent, "-d", dir, NULL});
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(tool.out, "does not match") != NULL, "message: %s", tool.out);
    remove_root();
}
END_TEST

static Suite *transfer_suite(void)
{
    Suite *s = suite_create("transfer");
    TCase *tc = tcase_create("transfer");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, transfer_single_file_http_tracker);
    tcase_add_test(tc, transfer_single_file_udp_tracker);
    tcase_add_test(tc, transfer_multi_file);
    tcase_add_test(tc, transfer_resume_fetches_only_what_is_missing);
    tcase_add_test(tc, transfer_bad_torrent_is_a_clear_error);
    tcase_add_test(tc, transfer_seed_refuses_wrong_content);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(transfer_suite)
