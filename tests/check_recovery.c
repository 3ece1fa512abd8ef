/*
 * check_recovery.c - minitorrent after crashes and in churn, on loopback.
 *
 * - Resume: a downloader killed with SIGKILL half way through, restarted, re-verifies what is on
 *   disk and fetches exactly the pieces that are missing, including one we corrupt in between.
 * - Churn: a swarm of one seed and six leechers, of which two are killed at random moments (from
 *   a fixed seed) and restarted, one on its old address and one on a new one; every copy ends
 *   byte-for-byte right.
 * - Full disk: a download into a tiny tmpfs fails with a clear message, not a crash.
 * - Many files: a torrent of 1100 files is seeded and downloaded by processes allowed only 256
 *   descriptors.
 * - Someone else's data: `get` into a folder that holds an unrelated, larger file under the
 *   torrent's name, or a symbolic link there, refuses with a message and changes nothing.
 *
 * "Random moments" are events, not clock times: a leecher is killed when its status line shows
 * it holds a randomly chosen share of the pieces, so the test means the same on a slow machine.
 */
#include "evilpeer.h"
#include "metainfo.h"
#include "minifix.h"
#include "sha1.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct mf fx;
static char src[256];

/* Reads the last "have=P/N" of a process's output; returns P, or -1 when there is none yet. */
static int last_have(const struct tk_proc *p, int *total)
{
    const char *last = NULL;
    for (const char *s = p->out; (s = strstr(s, "have=")) != NULL; s++)
        last = s;
    int have = -1, n = 0;
    if (last == NULL || sscanf(last, "have=%d/%d", &have, &n) != 2)
        return -1;
    if (total != NULL)
        *total = n;
    return have;
}

/* Reads whatever a process has written so far, without waiting, keeping the last half of its
 * buffer when it fills (the status lines we parse are at the end). Returns 0 at end of output. */
static int drain(struct tk_proc *p)
{
    for (;;) {
        if (p->out_fd < 0 || tk_wait_readable(p->out_fd, 0) != 1)
            return 1;
        if (p->out_len + 4096 > sizeof p->out) {
            size_t keep = sizeof p->out / 2;
            memmove(p->out, p->out + p->out_len - keep, keep);
            p->out_len = keep;
            p->out[keep] = '\0';
        }
        ssize_t r = read(p->out_fd, p->out + p->out_len, sizeof p->out - 1 - p->out_len);
        if (r <= 0)
            return 0;
        p->out_len += (size_t)r;
        p->out[p->out_len] = '\0';
    }
}

/* Kills a process with SIGKILL and reaps it; returns 1 when the signal is what ended it. */
static int kill_9(struct tk_proc *p)
{
    kill(p->pid, SIGKILL);
    int status = 0;
    pid_t w;
    do
        w = waitpid(p->pid, &status, 0);
    while (w < 0 && errno == EINTR);
    close(p->out_fd);
    p->out_fd = -1;
    tk_write(p, NULL);
    return w == p->pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* Returns the "done: N bytes" figure a downloader printed, or -1. */
static long long done_bytes(const struct tk_proc *p)
{
    const char *d = strstr(p->out, "done: ");
    unsigned long long n;
    if (d == NULL || sscanf(d, "done: %llu bytes", &n) != 1)
        return -1;
    return (long long)n;
}

/* Hashes every piece of path against the torrent and marks the good ones in good[]; returns how
 * many are good. This is what the downloader must find on disk when it starts again. */
static int good_pieces(const char *torrent, const char *path, unsigned char *good, int max)
{
    FILE *f = fopen(torrent, "rb");
    ck_assert_ptr_nonnull(f);
    static unsigned char raw[1 << 20];
    size_t n = fread(raw, 1, sizeof raw, f);
    fclose(f);
    struct metainfo m;
    metainfo_init(&m);
    char err[256];
    ck_assert_msg(metainfo_parse(&m, raw, n, err, sizeof err) == 0, "%s", err);
    ck_assert_int_le((int)m.piece_count, max);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    unsigned char *buf = malloc(m.piece_length);
    ck_assert_ptr_nonnull(buf);
    int count = 0;
    for (uint32_t i = 0; i < m.piece_count; i++) {
        uint64_t off = (uint64_t)i * m.piece_length;
        size_t len = off + m.piece_length <= m.total_length ? m.piece_length
                                                            : (size_t)(m.total_length - off);
        unsigned char d[SHA1_DIGEST_LEN];
        good[i] = pread(fd, buf, len, (off_t)off) == (ssize_t)len &&
                  (sha1(buf, len, d), memcmp(d, metainfo_piece_hash(&m, i), 20) == 0);
        count += good[i];
    }
    free(buf);
    close(fd);
    metainfo_free(&m);
    return count;
}

/* ===================================================================== resume ============= */

/* A downloader killed with SIGKILL at about half way is started again: it re-verifies the pieces
 * on disk and fetches only the missing ones, plus one good piece we corrupted while it was down:
 * the bytes it reports downloading are exactly the pieces that were not good on disk. */
START_TEST(recovery_resume_after_kill_9)
{
    enum { PIECE = 64 * 1024, NPIECES = 64, SIZE = PIECE * NPIECES };
    static struct tk_proc seed, get;
    mf_make_root(&fx, "recovery", (const char *const[]){"seed", "get", NULL});
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, SIZE, 21);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, "64K");
    char seed_dir[256], get_dir[256], dst[256];
    mf_path(&fx, seed_dir, sizeof seed_dir, "seed");
    mf_path(&fx, get_dir, sizeof get_dir, "get");
    mf_path(&fx, dst, sizeof dst, "get/data.bin");
    mf_start_seed(&fx, &seed, seed_dir, NULL);
    mf_wait_seeders(&fx, 1, ep_scaled_ms(20000));

    /* 4 MiB at 1 MiB/s: about four seconds, so "half way" lasts long enough to be seen. */
    const char *const slow[] = {"--down-rate", "1M", "--status-ms", "50", NULL};
    mf_start_get(&fx, &get, get_dir, slow);
    long long deadline = tk_now_ms() + ep_scaled_ms(60000);
    int have = -1;
    while ((have = last_have(&get, NULL)) < NPIECES / 2) {
        ck_assert_msg(tk_now_ms() < deadline, "the download never got half way:\n%s",
                      mf_tail(&get));
        ck_assert_msg(drain(&get) != 0, "get ended before half way:\n%s", mf_tail(&get));
        tk_wait_readable(get.out_fd, 100);
    }
    ck_assert_msg(kill_9(&get), "get was not killed by SIGKILL");

    /* What is good on disk now is what the restarted downloader must keep. */
    static unsigned char good[NPIECES];
    int g = good_pieces(fx.torrent, dst, good, NPIECES);
    ck_assert_msg(g >= have && g < NPIECES,
                  "%d pieces good on disk after the kill (status said %d)", g, have);
    /* Corrupt one byte of a good piece: the restart must find it and fetch it again. */
    int victim = -1;
    for (int i = 0; i < NPIECES && victim < 0; i++)
        if (good[i])
            victim = i;
    int fd = open(dst, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    unsigned char byte = 0;
    int sfd = open(src, O_RDONLY);
    ck_assert_int_eq(pread(sfd, &byte, 1, (off_t)victim * PIECE + 777), 1);
    close(sfd);
    byte ^= 0x5a;
    ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)victim * PIECE + 777), 1);
    close(fd);

    mf_start_get(&fx, &get, get_dir, NULL);
    int st = tk_wait_exit(&get, ep_scaled_ms(60000));
    ck_assert_msg(st == 0, "the restarted get exited with %d:\n%s", st, mf_tail(&get));
    ck_assert_msg(mf_same_file(src, dst), "the resumed file differs from the original");
    long long got = done_bytes(&get);
    long long want = (long long)(NPIECES - (g - 1)) * PIECE;
    printf("recovery_resume_after_kill_9: killed at %d/%d pieces (%d good on disk, piece %d "
           "corrupted); the restart fetched %lld bytes\n",
           have, NPIECES, g, victim, got);
    ck_assert_msg(got == want,
                  "the restart downloaded %lld bytes; the missing pieces and the corrupted one "
                  "are %lld",
                  got, want);
    ck_assert_int_eq(tk_stop(&seed, ep_scaled_ms(10000)), 0);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

/* ===================================================================== churn ============== */

/* Says whether this machine lets us bind addr (127.0.0.x other than 127.0.0.1 is Linux's
 * whole 127/8 loopback; elsewhere it may need an alias). */
static int can_bind(const char *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    int ok = fd >= 0 && inet_pton(AF_INET, addr, &a.sin_addr) == 1 &&
             bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

enum { LEECHERS = 6 };
static struct tk_proc seed, leech[LEECHERS];

/* Starts leecher i on address addr, resuming from its folder. */
static void start_leecher(int i, const char *addr)
{
    char dir[256], rel[32];
    snprintf(rel, sizeof rel, "l%d", i);
    mf_path(&fx, dir, sizeof dir, rel);
    /* Rates low enough that the swarm lasts a few seconds, so the kills land in the middle, and
     * a seed slower than the leechers together, so they must trade among themselves. */
    const char *const opts[] = {
        "-b",          addr,  "--keep-seeding", "--up-rate", "384K", "--down-rate", "1M",
        "--status-ms", "100", "--rechoke-secs", "0.5",       NULL};
    mf_start_get(&fx, &leech[i], dir, opts);
}

/* A swarm of one seed and six leechers on their own 127.0.0.x addresses. Two leechers, chosen at
 * random from a fixed seed, are killed with SIGKILL when they hold a random share of the pieces,
 * and restarted: one on its old address, one on a new one. Every leecher ends with a verified,
 * byte-for-byte copy. */
START_TEST(recovery_churn)
{
    enum { PIECE = 32 * 1024, SIZE = 2 * 1024 * 1024 };
    if (!can_bind("127.0.0.21"))
        tk_skip("cannot bind 127.0.0.21: no 127/8 loopback here");
    const unsigned rseed = 20261124;
    unsigned x = rseed;
    mf_make_root(&fx, "recovery",
                 (const char *const[]){"seed", "l0", "l1", "l2", "l3", "l4", "l5", NULL});
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, SIZE, 33);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, "32K");
    char dir[256];
    mf_path(&fx, dir, sizeof dir, "seed");
    mf_start_seed(&fx, &seed, dir,
                  (const char *const[]){"--up-rate", "1M", "--rechoke-secs", "0.5", NULL});
    mf_wait_seeders(&fx, 1, ep_scaled_ms(20000));

    char addr[LEECHERS][24];
    for (int i = 0; i < LEECHERS; i++) {
        snprintf(addr[i], sizeof addr[i], "127.0.0.%d", 11 + i);
        start_leecher(i, addr[i]);
    }
    /* The victims and the share of the pieces at which each dies. */
    x = x * 1103515245u + 12345u;
    int a = (int)((x >> 16) % LEECHERS), b;
    do {
        x = x * 1103515245u + 12345u;
        b = (int)((x >> 16) % LEECHERS);
    } while (b == a);
    int victims[2] = {a, b}, at[2];
    for (int k = 0; k < 2; k++) {
        x = x * 1103515245u + 12345u;
        at[k] = 20 + (int)((x >> 16) % 41); /* 20 % to 60 % of the pieces */
    }
    printf("recovery_churn (seed %u): killing leecher %d at %d%% and leecher %d at %d%%\n", rseed,
           a, at[0], b, at[1]);

    bool killed[2] = {false, false}, done[LEECHERS] = {false};
    int ndone = 0;
    long long deadline = tk_now_ms() + ep_scaled_ms(120000);
    while (ndone < LEECHERS) {
        ck_assert_msg(tk_now_ms() < deadline, "only %d of %d leechers finished", ndone, LEECHERS);
        struct pollfd pfd[LEECHERS + 1];
        for (int i = 0; i < LEECHERS; i++)
            pfd[i] = (struct pollfd){.fd = leech[i].out_fd, .events = POLLIN};
        pfd[LEECHERS] = (struct pollfd){.fd = seed.out_fd, .events = POLLIN};
        poll(pfd, LEECHERS + 1, 200);
        drain(&seed);
        for (int i = 0; i < LEECHERS; i++) {
            ck_assert_msg(drain(&leech[i]) != 0, "leecher %d ended:\n%s", i, mf_tail(&leech[i]));
            if (!done[i] && strstr(leech[i].out, "done: ") != NULL) {
                done[i] = true;
                ndone++;
            }
        }
        for (int k = 0; k < 2; k++) {
            int v = victims[k], total = 0;
            int have = last_have(&leech[v], &total);
            if (killed[k] || done[v] || have < 0 || total == 0 || have * 100 < at[k] * total)
                continue;
            ck_assert_msg(kill_9(&leech[v]), "leecher %d was not killed by SIGKILL", v);
            killed[k] = true;
            /* The first comes back where it was; the second on an address nobody has seen. */
            if (k == 1)
                snprintf(addr[v], sizeof addr[v], "127.0.0.%d", 21);
            printf("recovery_churn: killed leecher %d at %d/%d pieces; restarting on %s\n", v, have,
                   total, addr[v]);
            start_leecher(v, addr[v]);
        }
    }
    ck_assert_msg(killed[0] && killed[1], "a victim finished before its moment came");
    for (int i = 0; i < LEECHERS; i++) {
        char rel[32], dst[256];
        snprintf(rel, sizeof rel, "l%d/data.bin", i);
        mf_path(&fx, dst, sizeof dst, rel);
        ck_assert_msg(mf_same_file(src, dst), "leecher %d's copy differs from the original", i);
        ck_assert_msg(strstr(leech[i].out, "every piece verified") != NULL, "leecher %d: %s", i,
                      mf_tail(&leech[i]));
    }
    for (int i = 0; i < LEECHERS; i++) {
        int st = tk_stop(&leech[i], ep_scaled_ms(10000));
        ck_assert_msg(st == 0, "leecher %d exited with %d", i, st);
    }
    ck_assert_int_eq(tk_stop(&seed, ep_scaled_ms(10000)), 0);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

/* ===================================================================== full disk ========== */

/* A download into a 1 MiB tmpfs runs out of space: get says so plainly and exits with an error
 * status, not a crash. Mounting needs root; elsewhere the test skips. */
START_TEST(recovery_full_disk)
{
    enum { SIZE = 4 * 1024 * 1024 };
    static struct tk_proc seed1, get;
    if (geteuid() != 0)
        tk_skip("mounting a small tmpfs needs root");
    mf_make_root(&fx, "recovery", (const char *const[]){"seed", "get", NULL});
    char get_dir[256], seed_dir[256];
    mf_path(&fx, get_dir, sizeof get_dir, "get");
    mf_path(&fx, seed_dir, sizeof seed_dir, "seed");
    /* Everything that can fail an assertion happens before the mount or after the unmount, so a
     * failing test never leaves a tmpfs mounted behind it. */
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, SIZE, 44);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, "64K");
    mf_start_seed(&fx, &seed1, seed_dir, NULL);
    mf_wait_seeders(&fx, 1, ep_scaled_ms(20000));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=1m tmpfs '%s' 2>/dev/null", get_dir);
    if (system(cmd) != 0) {
        tk_stop(&seed1, ep_scaled_ms(10000));
        tk_stop(&fx.tracker, ep_scaled_ms(10000));
        mf_remove_root(&fx);
        tk_skip("cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?)");
    }
    char *argv[] = {"minitorrent", "get", fx.torrent, "-d", get_dir, "-b", "127.0.0.1", NULL};
    get.merge_stderr = 1;
    int st = -1;
    if (tk_spawn(&get, argv) == 0) {
        st = tk_wait_exit(&get, ep_scaled_ms(60000));
        if (st < 0)
            tk_stop(&get, 1000); /* still running: stop it, or the unmount finds it busy */
    }
    snprintf(cmd, sizeof cmd, "umount '%s'", get_dir);
    int unmounted = system(cmd);
    const char *msg = strstr(get.out, "minitorrent");
    printf("recovery_full_disk: get exited with %d: %s", st, msg != NULL ? msg : "(nothing)\n");
    ck_assert_int_eq(unmounted, 0);
    ck_assert_msg(st > 0 && st < 128, "get exited with %d on a full disk:\n%s", st, mf_tail(&get));
    ck_assert_msg(strstr(get.out, strerror(ENOSPC)) != NULL,
                  "get did not say the disk is full:\n%s", mf_tail(&get));
    ck_assert_int_eq(tk_stop(&seed1, ep_scaled_ms(10000)), 0);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

/* ===================================================================== someone else's data */

/* Runs `minitorrent get` of the fixture's torrent into dir and returns its exit status; its
 * output (stderr merged) is left in p. */
static int run_get(struct tk_proc *p, const char *dir)
{
    char *argv[] = {"minitorrent", "get", fx.torrent, "-d", (char *)dir, "-b", "127.0.0.1", NULL};
    p->merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(p, argv), 0);
    int st = tk_wait_exit(p, ep_scaled_ms(30000));
    if (st < 0)
        tk_stop(p, 1000);
    return st;
}

/* The folder already holds an unrelated 10 MiB file with the torrent's name (the torrent is
 * 4 MiB): get refuses, says why, and the file keeps every byte, even with the tracker
 * unreachable. Before, the file was cut to 4 MiB at once. A symbolic link at the torrent's name,
 * pointing out of the folder, is refused too, and the file it points to is untouched. */
START_TEST(recovery_get_leaves_other_data_alone)
{
    enum { SIZE = 4 * 1024 * 1024, OTHER = 10 * 1024 * 1024 };
    static struct tk_proc get;
    mf_make_root(&fx, "recovery", (const char *const[]){"seed", "get", "link", NULL});
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, SIZE, 51);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, "64K");
    mf_stop_tracker(&fx); /* unreachable from now on: nothing must depend on it */

    char dir[256], other[256], copy[256];
    mf_path(&fx, dir, sizeof dir, "get");
    mf_path(&fx, other, sizeof other, "get/data.bin");
    mf_path(&fx, copy, sizeof copy, "other-copy.bin");
    mf_write_random(other, OTHER, 52);
    mf_write_random(copy, OTHER, 52);
    int st = run_get(&get, dir);
    printf("recovery_get_leaves_other_data_alone: get exited with %d: %s", st, get.out);
    ck_assert_msg(st == 1, "get exited with %d:\n%s", st, mf_tail(&get));
    ck_assert_msg(strstr(get.out, "more than the") != NULL, "get said:\n%s", mf_tail(&get));
    ck_assert_msg(mf_same_file(other, copy), "get changed the unrelated file");

    char link[256], victim[256];
    mf_path(&fx, dir, sizeof dir, "link");
    mf_path(&fx, link, sizeof link, "link/data.bin");
    mf_path(&fx, victim, sizeof victim, "victim.bin");
    mf_write_random(victim, 1000, 53);
    ck_assert_int_eq(symlink(victim, link), 0);
    st = run_get(&get, dir);
    printf("recovery_get_leaves_other_data_alone: get exited with %d: %s", st, get.out);
    ck_assert_msg(st == 1, "get exited with %d:\n%s", st, mf_tail(&get));
    ck_assert_msg(strstr(get.out, "symbolic link") != NULL, "get said:\n%s", mf_tail(&get));
    struct stat sb;
    ck_assert_int_eq(stat(victim, &sb), 0);
    ck_assert_int_eq((long long)sb.st_size, 1000);
    mf_remove_root(&fx);
}
END_TEST

/* ===================================================================== many files ========= */

/* A torrent of 1100 files (sizes from a fixed seed, some empty), seeded and downloaded by
 * processes that may open only 256 descriptors: with every file kept open, `seed` and `get`
 * failed with "Too many open files" at about 1000 files under the usual `ulimit -n 1024`. The
 * limit is lowered in this test's own process (Check runs each test in a child) and inherited by
 * the two programs; the tracker is started before, with the usual limit. */
START_TEST(recovery_many_files_within_a_low_descriptor_limit)
{
    enum { NFILES = 1100 };
    static struct tk_proc seed, get;
    const unsigned rseed = 1100;
    mf_make_root(&fx, "recovery", (const char *const[]){"seed", "seed/tree", "get", NULL});
    unsigned x = rseed;
    for (int i = 0; i < NFILES; i++) {
        char rel[64], path[256];
        snprintf(rel, sizeof rel, "seed/tree/f%04d", i);
        mf_path(&fx, path, sizeof path, rel);
        x = x * 1103515245u + 12345u;
        size_t size = (x >> 16) % 8 == 0 ? 0 : (x >> 16) % 3000;
        mf_write_random(path, size, rseed + (unsigned)i);
    }
    mf_start_tracker(&fx);
    char tree[256], seed_dir[256], get_dir[256];
    mf_path(&fx, tree, sizeof tree, "seed/tree");
    mf_path(&fx, seed_dir, sizeof seed_dir, "seed");
    mf_path(&fx, get_dir, sizeof get_dir, "get");
    mf_create_torrent(&fx, tree, "16K");

    /* Only the soft limit is lowered (what `ulimit -n` sets), so it can be restored after. */
    struct rlimit old, low;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    if (old.rlim_cur == RLIM_INFINITY || old.rlim_cur > 256)
        low.rlim_cur = 256;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    mf_start_seed(&fx, &seed, seed_dir, NULL);
    mf_wait_seeders(&fx, 1, ep_scaled_ms(30000));
    mf_start_get(&fx, &get, get_dir, NULL);
    int st = tk_wait_exit(&get, ep_scaled_ms(120000));
    printf("recovery_many_files_within_a_low_descriptor_limit (seed %u): %d files, limit %llu "
           "descriptors, get exited with %d\n",
           rseed, NFILES, (unsigned long long)low.rlim_cur, st);
    ck_assert_msg(st == 0, "get exited with %d:\n%s", st, mf_tail(&get));
    for (int i = 0; i < NFILES; i++) {
        char rel[64], a[256], b[256];
        snprintf(rel, sizeof rel, "seed/tree/f%04d", i);
        mf_path(&fx, a, sizeof a, rel);
        snprintf(rel, sizeof rel, "get/tree/f%04d", i);
        mf_path(&fx, b, sizeof b, rel);
        if (i % 50 == 0 || i == NFILES - 1)
            ck_assert_msg(mf_same_file(a, b), "file %d differs", i);
    }
    ck_assert_int_eq(tk_stop(&seed, ep_scaled_ms(10000)), 0);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

static Suite *recovery_suite(void)
{
    Suite *s = suite_create("recovery");
    TCase *tc = tk_tcase(s, "recovery", 180);
    tk_add_test(tc, recovery_resume_after_kill_9);
    tk_add_test(tc, recovery_churn);
    tk_add_test(tc, recovery_full_disk);
    tk_add_test(tc, recovery_get_leaves_other_data_alone);
    tk_add_test(tc, recovery_many_files_within_a_low_descriptor_limit);
    return s;
}

TK_MAIN(recovery_suite)
