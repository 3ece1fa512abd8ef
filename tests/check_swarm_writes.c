/*
 * check_swarm_writes.c - blocks of one piece stored by several peer threads at once.
 *
 * A downloader copies each block into its piece's buffer outside the torrent's lock (peer.c,
 * on_block), so the blocks of one piece, sent by different peers, are copied by different threads
 * at the same time. The piece must be written to disk and hashed only after the last of those
 * copies, which is not always the copy of the last block to arrive. The first test makes that
 * case happen on purpose: four seeds and one downloader run in this process, and a test hook
 * holds back the copy of each piece's first block until the piece's other blocks have all
 * arrived (or 300 ms passed). If the piece were hashed when its last block arrived, the hasher
 * would read the buffer before the first block's bytes are in it, and the piece would fail its
 * hash. The second does the same with two piece buffers only, so that every buffer is in use
 * most of the time: the download must still finish, with every buffer free again at the end.
 * Run them under TSan too: the counts of copies in flight and the free buffers are shared by
 * every peer thread and the hasher.
 */
#include "testlib.h"
#include "clock.h"
#include "io.h"
#include "torrent.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { SEEDS = 4, PIECE = 128 * 1024, PIECES = 16 };

static atomic_uint held_until_complete; /* copies held back until their piece was complete */

/* The hook: holds the copy of a piece's first block until every block of the piece has
 * arrived, polling the picker with a deadline (the block's sender may be the very peer that
 * holds the piece's other blocks, and its thread is the one held here). */
static void hold_first_block(struct torrent *t, uint32_t index, uint32_t begin)
{
    if (begin != 0)
        return;
    uint64_t deadline = clock_ms() + 300;
    for (;;) {
        bool complete = false;
        pthread_mutex_lock(&t->lock);
        for (uint32_t i = 0; i < t->picker.npartial; i++)
            if (t->picker.partial[i].index == index)
                complete = t->picker.partial[i].received == t->picker.partial[i].nblocks;
        pthread_mutex_unlock(&t->lock);
        if (complete) {
            atomic_fetch_add(&held_until_complete, 1);
            return;
        }
        if (clock_ms() >= deadline)
            return;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* Writes n random bytes to path. */
static void random_file(const char *path, size_t n, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    srand(seed);
    for (size_t i = 0; i < n; i++)
        fputc(rand() & 0xff, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Returns whether two files hold the same bytes. */
static bool same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa != NULL && fb != NULL;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa != NULL)
        fclose(fa);
    if (fb != NULL)
        fclose(fb);
    return same;
}

/* Downloads a 16-piece file from four seeds in this process, with the given number of piece
 * buffers (0: the default), the hook above holding each piece's first block back. Checks that
 * the download finishes with no piece failing its hash and every buffer free at the end; need_held
 * also asks that a piece completed while its first block was held back, the case the first test
 * is about. */
static void download_from_four_seeds(uint32_t piece_buffers, bool need_held)
{
    io_ignore_sigpipe();
    char dir[] = "/tmp/check_swarm_writes.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char seeddir[600], getdir[600], data[700], copy[700], tfile[600];
    snprintf(seeddir, sizeof seeddir, "%s/seed", dir);
    snprintf(getdir, sizeof getdir, "%s/get", dir);
    snprintf(data, sizeof data, "%s/data.bin", seeddir);
    snprintf(copy, sizeof copy, "%s/data.bin", getdir);
    snprintf(tfile, sizeof tfile, "%s/data.torrent", dir);
    ck_assert_int_eq(mkdir(seeddir, 0755), 0);
    ck_assert_int_eq(mkdir(getdir, 0755), 0);
    unsigned seed = (unsigned)time(NULL);
    printf("swarm_writes: random seed %u\n", seed);
    random_file(data, (size_t)PIECE * PIECES, seed);
    /* The tracker's address is a closed port: the peers are dialled by hand below. */
    struct tk_proc mk = {.merge_stderr = 1};
    char *margv[] = {"minitorrent", "create", data, "-a",  "http://127.0.0.1:9/announce",
                     "-l",          "128K",   "-o", tfile, NULL};
    ck_assert_int_eq(tk_spawn(&mk, margv), 0);
    tk_read_all(&mk, 20000);
    ck_assert_msg(tk_wait_exit(&mk, 20000) == 0, "create failed: %s", mk.out);

    static struct torrent seeds[SEEDS], get;
    struct torrent_config cfg;
    torrent_config_defaults(&cfg);
    cfg.bind = "127.0.0.1";
    cfg.seed = seed;
    char err[512];
    for (int i = 0; i < SEEDS; i++) {
        cfg.dir = seeddir;
        ck_assert_msg(torrent_open(&seeds[i], tfile, &cfg, true, err, sizeof err) == 0 &&
                          torrent_start(&seeds[i], err, sizeof err) == 0,
                      "seed %d: %s", i, err);
    }
    cfg.dir = getdir;
    cfg.piece_buffers = piece_buffers;
    ck_assert_msg(torrent_open(&get, tfile, &cfg, false, err, sizeof err) == 0, "%s", err);
    if (piece_buffers > 0)
        ck_assert_uint_eq(get.n_bufs, piece_buffers);
    get.test_before_write = hold_first_block;
    ck_assert_msg(torrent_start(&get, err, sizeof err) == 0, "%s", err);
    for (int i = 0; i < SEEDS; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)seeds[i].port)};
        inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
        ck_assert_int_eq(torrent_add_peer(&get, (struct sockaddr *)&a, sizeof a), 0);
    }

    struct torrent_stats st;
    uint64_t deadline = clock_ms() + 60000;
    do {
        for (int i = 0; i < SEEDS; i++) {
            torrent_tick(&seeds[i]);
            torrent_reap(&seeds[i]);
        }
        torrent_tick(&get);
        torrent_reap(&get);
        torrent_wait(&get, 20);
        torrent_stats(&get, &st);
    } while (!st.complete && st.fatal[0] == '\0' && clock_ms() < deadline);

    pthread_mutex_lock(&get.lock);
    uint64_t failures = get.hash_failures;
    uint32_t n_free = get.n_free, n_bufs = get.n_bufs;
    pthread_mutex_unlock(&get.lock);
    torrent_stop(&get);
    for (int i = 0; i < SEEDS; i++)
        torrent_stop(&seeds[i]);
    ck_assert_msg(st.complete, "the download did not finish: %u of %u pieces (%s)", st.pieces_have,
                  st.pieces_total, st.fatal);
    /* The case the test is about happened: a piece completed while its first block was still to
     * be written. */
    ck_assert_msg(!need_held || atomic_load(&held_until_complete) >= 1,
                  "no piece completed while a copy of one of its blocks was held back");
    ck_assert_msg(failures == 0, "%llu pieces failed their hash: hashed before a copy ended",
                  (unsigned long long)failures);
    ck_assert_msg(n_free == n_bufs, "%u of %u piece buffers are still taken after the download",
                  n_bufs - n_free, n_bufs);
    ck_assert(same_file(data, copy));
    torrent_close(&get);
    for (int i = 0; i < SEEDS; i++)
        torrent_close(&seeds[i]);
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(rm), 0);
}

START_TEST(swarm_writes_piece_hashed_after_its_last_write)
{
    download_from_four_seeds(0, true);
}
END_TEST

/* With two buffers, a third piece can start only when one of the first two is verified: if a
 * verified piece did not give its buffer back, or the picker started more pieces than there are
 * buffers, a block would find no buffer and the download would stop with an error. */
START_TEST(swarm_writes_two_piece_buffers_suffice)
{
    download_from_four_seeds(2, false);
}
END_TEST

static Suite *swarm_writes_suite(void)
{
    Suite *s = suite_create("swarm_writes");
    TCase *tc = tk_tcase(s, "swarm_writes", 120);
    tk_add_test(tc, swarm_writes_piece_hashed_after_its_last_write);
    tk_add_test(tc, swarm_writes_two_piece_buffers_suffice);
    return s;
}

TK_MAIN(swarm_writes_suite)
