/*
 * check_storage.c - a torrent's files on disk: many files within a few descriptors, nothing
 * existing shrunk or overwritten before it is checked, and no symbolic link followed out of the
 * download folder.
 *
 * Each test builds its torrent in memory from content it writes under a scratch folder in /tmp,
 * with sizes from a fixed seed that a failing test prints.
 */
#include "bencode.h"
#include "metainfo.h"
#include "sha1.h"
#include "storage.h"
#include "testlib.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PIECE = 16384 };

static char root[64];

/* Makes the scratch folder root. */
static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/mt-storage-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

/* Removes the scratch folder (links are removed, never followed). */
static void remove_root(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes "root/rel" into out. */
static void at(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", root, rel);
}

/* One small pseudo-random generator for contents and sizes. */
static unsigned next_rand(unsigned *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x >> 8;
}

/* Writes n bytes from seed x to path (creating it). */
static void write_bytes(const char *path, size_t n, unsigned *x)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    for (size_t i = 0; i < n; i++)
        fputc((int)(next_rand(x) & 0xff), f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Reads a whole file into a malloc'd buffer; returns its size, or -1 when it does not exist. */
static long read_all(const char *path, unsigned char **out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    ck_assert_ptr_nonnull(b);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            b = realloc(b, cap);
            ck_assert_ptr_nonnull(b);
        }
    }
    fclose(f);
    *out = b;
    return (long)n;
}

/*
 * Builds a torrent of the files under root/src/NAME (a folder with nfiles files f0000...) or of
 * the single file root/src/NAME (nfiles == 0), hashing their bytes, and parses it into mi.
 */
static void make_torrent(struct metainfo *mi, const char *name, size_t nfiles, const size_t *sizes)
{
    size_t count = nfiles == 0 ? 1 : nfiles;
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += sizes[i];
    size_t npieces = (size_t)((total + PIECE - 1) / PIECE);
    unsigned char *all = malloc(total + 1), *hashes = malloc(20 * npieces + 1);
    ck_assert(all != NULL && hashes != NULL);
    uint64_t pos = 0;
    for (size_t i = 0; i < count; i++) {
        char rel[128], path[256];
        if (nfiles == 0)
            snprintf(rel, sizeof rel, "src/%s", name);
        else
            snprintf(rel, sizeof rel, "src/%s/f%04zu", name, i);
        at(path, sizeof path, rel);
        unsigned char *b;
        long n = read_all(path, &b);
        ck_assert_int_eq(n, (long)sizes[i]);
        memcpy(all + pos, b, sizes[i]);
        pos += sizes[i];
        free(b);
    }
    for (size_t p = 0; p < npieces; p++) {
        uint64_t off = (uint64_t)p * PIECE;
        size_t len = off + PIECE <= total ? PIECE : (size_t)(total - off);
        sha1(all + off, len, hashes + 20 * p);
    }
    struct benc_buf b;
    benc_buf_init(&b);
    benc_dict_begin(&b);
    benc_put_cstr(&b, "info");
    benc_dict_begin(&b);
    if (nfiles > 0) {
        benc_put_cstr(&b, "files");
        benc_list_begin(&b);
        for (size_t i = 0; i < nfiles; i++) {
            char fname[32];
            snprintf(fname, sizeof fname, "f%04zu", i);
            benc_dict_begin(&b);
            benc_put_cstr(&b, "length");
            benc_put_int(&b, (int64_t)sizes[i]);
            benc_put_cstr(&b, "path");
            benc_list_begin(&b);
            benc_put_cstr(&b, fname);
            benc_end(&b);
            benc_end(&b);
        }
        benc_end(&b);
    } else {
        benc_put_cstr(&b, "length");
        benc_put_int(&b, (int64_t)sizes[0]);
    }
    benc_put_cstr(&b, "name");
    benc_put_cstr(&b, name);
    benc_put_cstr(&b, "piece length");
    benc_put_int(&b, PIECE);
    benc_put_cstr(&b, "pieces");
    benc_put_str(&b, hashes, 20 * npieces);
    benc_end(&b);
    benc_end(&b);
    char err[256];
    ck_assert_msg(benc_buf_finish(&b, err, sizeof err) == 0, "%s", err);
    metainfo_init(mi);
    ck_assert_msg(metainfo_parse(mi, b.data, b.len, err, sizeof err) == 0, "%s", err);
    benc_buf_free(&b);
    free(all);
    free(hashes);
}

/* Writes the content of a multi-file torrent: nfiles files with sizes drawn from seed x (some
 * empty), under root/src/NAME. */
static void write_files(const char *name, size_t nfiles, size_t *sizes, unsigned *x)
{
    char path[256], rel[128];
    snprintf(rel, sizeof rel, "src/%s", name);
    at(path, sizeof path, "src");
    mkdir(path, 0755);
    at(path, sizeof path, rel);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    for (size_t i = 0; i < nfiles; i++) {
        sizes[i] = next_rand(x) % 7 == 0 ? 0 : 1 + next_rand(x) % 3000;
        snprintf(rel, sizeof rel, "src/%s/f%04zu", name, i);
        at(path, sizeof path, rel);
        write_bytes(path, sizes[i], x);
    }
}

/* ================================================================ many files */

/* What the child of storage_many_files_few_descriptors found; it exits with the code. */
static int copy_under_low_limit(const struct metainfo *mi, char *why, size_t cap)
{
    /* 40 descriptors: Check's own, the two storages' folders and their caches fit easily, and a
     * storage that opened every file would run out at once. */
    struct rlimit rl = {40, 40};
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(why, cap, "setrlimit: %s", strerror(errno));
        return 2;
    }
    char src[256], dst[256], err[512];
    at(src, sizeof src, "src");
    at(dst, sizeof dst, "dst");
    struct storage in, out;
    if (storage_open(&in, mi, src, false, err, sizeof err) < 0) {
        snprintf(why, cap, "seeding storage: %s", err);
        return 1;
    }
    if (storage_open(&out, mi, dst, true, err, sizeof err) < 0) {
        snprintf(why, cap, "downloading storage: %s", err);
        return 1;
    }
    unsigned char *buf = malloc(PIECE);
    int rc = 0;
    for (uint32_t p = 0; p < mi->piece_count && rc == 0; p++) {
        uint32_t len = layout_piece_size(&in.layout, p);
        uint64_t off = layout_piece_offset(&in.layout, p);
        if (storage_verify_piece(&in, p, buf) != 1 || storage_read(&in, off, buf, len) < 0 ||
            storage_write(&out, off, buf, len) < 0 || storage_verify_piece(&out, p, buf) != 1) {
            snprintf(why, cap, "piece %u: %s", p, strerror(errno));
            rc = 1;
        }
    }
    if (rc == 0 && (in.open_count > STORAGE_OPEN_MAX || out.open_count > STORAGE_OPEN_MAX)) {
        snprintf(why, cap, "the caches hold %u and %u descriptors", in.open_count, out.open_count);
        rc = 1;
    }
    if (rc == 0)
        snprintf(why, cap, "%u pieces copied; %llu and %llu opens", mi->piece_count,
                 (unsigned long long)in.opens, (unsigned long long)out.opens);
    free(buf);
    storage_close(&in);
    storage_close(&out);
    return rc;
}

/* A torrent of 1200 files (the "about 1000" fails with `ulimit -n 1024`) is seeded and
 * downloaded, piece by piece, by a process allowed only 40 descriptors. The limit is set in a
 * child of our own, so it never leaks into other tests. */
START_TEST(storage_many_files_few_descriptors)
{
    enum { NFILES = 1200 };
    const unsigned seed = 1700;
    unsigned x = seed;
    static size_t sizes[NFILES];
    make_root();
    write_files("many", NFILES, sizes, &x);
    struct metainfo mi;
    make_torrent(&mi, "many", NFILES, sizes);

    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fflush(stdout);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char why[600] = "";
        int rc = copy_under_low_limit(&mi, why, sizeof why);
        ssize_t w = write(p[1], why, strlen(why));
        (void)w;
        _exit(rc);
    }
    close(p[1]);
    char why[600] = "";
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof why && (r = read(p[0], why + n, sizeof why - 1 - n)) > 0)
        n += (size_t)r;
    why[n] = '\0';
    close(p[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    printf("storage_many_files_few_descriptors (seed %u): %d files, %u pieces: %s\n", seed, NFILES,
           mi.piece_count, why);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "seed %u: %s", seed, why);

    /* And the copy is byte for byte the original. */
    for (size_t i = 0; i < NFILES; i += 97) {
        char a[256], b[256], rel[64];
        snprintf(rel, sizeof rel, "src/many/f%04zu", i);
        at(a, sizeof a, rel);
        snprintf(rel, sizeof rel, "dst/many/f%04zu", i);
        at(b, sizeof b, rel);
        unsigned char *da, *db;
        long na = read_all(a, &da), nb = read_all(b, &db);
        ck_assert_int_eq(na, nb);
        ck_assert_int_eq(memcmp(da, db, (size_t)na), 0);
        free(da);
        free(db);
    }
    metainfo_free(&mi);
    remove_root();
}
END_TEST

/* ================================================================ existing data */

/* A folder that already holds an unrelated file, larger than the torrent's, under the torrent's
 * name: the download is refused with a message, and the file keeps every byte. Before, it was
 * cut to the torrent's size at once, before anything was checked. A multi-file torrent refuses
 * before it creates any of its files. */
START_TEST(storage_get_refuses_a_larger_existing_file)
{
    unsigned x = 4242;
    make_root();
    char path[256];
    at(path, sizeof path, "src");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    size_t size = 3 * PIECE + 100;
    at(path, sizeof path, "src/data.bin");
    write_bytes(path, size, &x);
    struct metainfo mi;
    make_torrent(&mi, "data.bin", 0, &size);

    at(path, sizeof path, "dst");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    at(path, sizeof path, "dst/data.bin");
    write_bytes(path, 10 * PIECE, &x);
    unsigned char *before, *after;
    long nb = read_all(path, &before);

    char dst[256], err[512] = "";
    at(dst, sizeof dst, "dst");
    struct storage st;
    ck_assert_int_eq(storage_open(&st, &mi, dst, true, err, sizeof err), -1);
    printf("storage_get_refuses_a_larger_existing_file: %s\n", err);
    ck_assert_msg(strstr(err, "more than the") != NULL && strstr(err, "data.bin") != NULL,
                  "message: %s", err);
    long na = read_all(path, &after);
    ck_assert_int_eq(na, nb);
    ck_assert_int_eq(memcmp(before, after, (size_t)na), 0);
    free(before);
    free(after);
    metainfo_free(&mi);

    /* Multi-file: f0002 is too large, and f0000, f0001 must not appear. */
    size_t sizes[4];
    write_files("multi", 4, sizes, &x);
    make_torrent(&mi, "multi", 4, sizes);
    at(path, sizeof path, "dst/multi");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    at(path, sizeof path, "dst/multi/f0002");
    write_bytes(path, sizes[2] + 1, &x);
    ck_assert_int_eq(storage_open(&st, &mi, dst, true, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "f0002") != NULL, "message: %s", err);
    struct stat sb;
    at(path, sizeof path, "dst/multi/f0000");
    ck_assert_msg(stat(path, &sb) < 0 && errno == ENOENT, "a refused download created f0000");
    metainfo_free(&mi);
    remove_root();
}
END_TEST

/* A shorter existing file (an interrupted download of the same content, say) is extended, never
 * cut, and its bytes stay: the pieces it holds in full pass their hash check at once. */
START_TEST(storage_get_keeps_a_shorter_existing_file)
{
    unsigned x = 777;
    make_root();
    char path[256], dst[256], err[512] = "";
    at(path, sizeof path, "src");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    size_t size = 4 * PIECE;
    at(path, sizeof path, "src/data.bin");
    write_bytes(path, size, &x);
    struct metainfo mi;
    make_torrent(&mi, "data.bin", 0, &size);
    unsigned char *orig;
    ck_assert_int_eq(read_all(path, &orig), (long)size);

    at(dst, sizeof dst, "dst");
    ck_assert_int_eq(mkdir(dst, 0755), 0);
    at(path, sizeof path, "dst/data.bin");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(orig, 1, 2 * PIECE + 5, f), 2 * PIECE + 5);
    fclose(f);

    struct storage st;
    ck_assert_msg(storage_open(&st, &mi, dst, true, err, sizeof err) == 0, "%s", err);
    ck_assert(!st.fresh);
    unsigned char *buf = malloc(PIECE);
    ck_assert_int_eq(storage_verify_piece(&st, 0, buf), 1);
    ck_assert_int_eq(storage_verify_piece(&st, 1, buf), 1);
    ck_assert_int_eq(storage_verify_piece(&st, 2, buf), 0);
    storage_close(&st);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq((long long)sb.st_size, (long long)size);
    free(buf);
    free(orig);
    metainfo_free(&mi);
    remove_root();
}
END_TEST

/* ================================================================ symbolic links */

/* A link at the torrent's file, or at a folder on its path, pointing out of the download folder:
 * get refuses to follow it and writes nothing outside. */
START_TEST(storage_get_does_not_follow_links)
{
    unsigned x = 99;
    make_root();
    char path[256], dst[256], outside[256], err[512] = "";
    at(path, sizeof path, "src");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    size_t size = PIECE + 1;
    at(path, sizeof path, "src/data.bin");
    write_bytes(path, size, &x);
    struct metainfo mi;
    make_torrent(&mi, "data.bin", 0, &size);

    at(dst, sizeof dst, "dst");
    ck_assert_int_eq(mkdir(dst, 0755), 0);
    at(outside, sizeof outside, "victim");
    FILE *f = fopen(outside, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("precious", f);
    fclose(f);
    at(path, sizeof path, "dst/data.bin");
    ck_assert_int_eq(symlink(outside, path), 0);

    struct storage st;
    ck_assert_int_eq(storage_open(&st, &mi, dst, true, err, sizeof err), -1);
    printf("storage_get_does_not_follow_links: %s\n", err);
    ck_assert_msg(strstr(err, "symbolic link") != NULL, "message: %s", err);
    struct stat sb;
    ck_assert_int_eq(stat(outside, &sb), 0);
    ck_assert_int_eq((int)sb.st_size, 8);
    metainfo_free(&mi);

    /* A folder of a multi-file torrent that is a link to a folder outside. */
    size_t sizes[3];
    write_files("multi", 3, sizes, &x);
    make_torrent(&mi, "multi", 3, sizes);
    char outdir[256];
    at(outdir, sizeof outdir, "elsewhere");
    ck_assert_int_eq(mkdir(outdir, 0755), 0);
    at(path, sizeof path, "dst/multi");
    ck_assert_int_eq(symlink(outdir, path), 0);
    ck_assert_int_eq(storage_open(&st, &mi, dst, true, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "symbolic link") != NULL, "message: %s", err);
    at(path, sizeof path, "elsewhere/f0000");
    ck_assert_msg(stat(path, &sb) < 0 && errno == ENOENT, "get wrote through the link");

    /* A seed follows links: they are how a user puts content in place, and it only reads. */
    char seed_dir[256], real[256];
    at(seed_dir, sizeof seed_dir, "seed");
    ck_assert_int_eq(mkdir(seed_dir, 0755), 0);
    at(real, sizeof real, "src/data.bin");
    at(path, sizeof path, "seed/data.bin");
    ck_assert_int_eq(symlink(real, path), 0);
    metainfo_free(&mi);
    make_torrent(&mi, "data.bin", 0, &size);
    ck_assert_msg(storage_open(&st, &mi, seed_dir, false, err, sizeof err) == 0, "%s", err);
    unsigned char *buf = malloc(PIECE);
    ck_assert_int_eq(storage_verify_piece(&st, 0, buf), 1);
    free(buf);
    storage_close(&st);
    metainfo_free(&mi);
    remove_root();
}
END_TEST

/* ================================================================ many threads */

struct reader {
    struct storage *st;
    unsigned seed;
    int bad; /* pieces that failed their check, or could not be read */
};

/* Verifies every piece of the torrent, in an order drawn from the reader's seed. */
static void *read_all_pieces(void *arg)
{
    struct reader *r = arg;
    uint32_t n = r->st->mi->piece_count;
    unsigned char *buf = malloc(PIECE);
    unsigned x = r->seed;
    for (uint32_t k = 0; k < 3 * n; k++) {
        uint32_t p = next_rand(&x) % n;
        if (buf == NULL || storage_verify_piece(r->st, p, buf) != 1)
            r->bad++;
    }
    free(buf);
    return NULL;
}

/* Sixteen threads read pieces of a 1200-file torrent at random through one storage, twice as
 * many as it keeps files open: they share open files, wait for a free slot when every slot is
 * in use, and never lose a descriptor to another thread's eviction while they read with it. */
START_TEST(storage_threads_share_the_cache)
{
    enum { NFILES = 1200, NTHREADS = 16 };
    const unsigned seed = 2024;
    unsigned x = seed;
    static size_t sizes[NFILES];
    make_root();
    write_files("many", NFILES, sizes, &x);
    struct metainfo mi;
    make_torrent(&mi, "many", NFILES, sizes);
    char src[256], err[512] = "";
    at(src, sizeof src, "src");
    struct storage st;
    ck_assert_msg(storage_open(&st, &mi, src, false, err, sizeof err) == 0, "%s", err);
    pthread_t t[NTHREADS];
    struct reader r[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        r[i] = (struct reader){&st, seed + (unsigned)i, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, read_all_pieces, &r[i]), 0);
    }
    int bad = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        bad += r[i].bad;
    }
    printf("storage_threads_share_the_cache (seed %u): %d threads, %llu opens, %d bad reads\n",
           seed, NTHREADS, (unsigned long long)st.opens, bad);
    ck_assert_msg(bad == 0, "seed %u: %d pieces read wrong", seed, bad);
    ck_assert_uint_le(st.open_count, STORAGE_OPEN_MAX);
    storage_close(&st);
    metainfo_free(&mi);
    remove_root();
}
END_TEST

static Suite *storage_suite(void)
{
    Suite *s = suite_create("storage");
    TCase *tc = tk_tcase(s, "storage", 60);
    tk_add_test(tc, storage_many_files_few_descriptors);
    tk_add_test(tc, storage_get_refuses_a_larger_existing_file);
    tk_add_test(tc, storage_get_keeps_a_shorter_existing_file);
    tk_add_test(tc, storage_get_does_not_follow_links);
    tk_add_test(tc, storage_threads_share_the_cache);
    return s;
}

TK_MAIN(storage_suite)
