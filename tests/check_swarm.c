/*
 * check_swarm.c - `minitorrent swarm`: reading the children's status lines, the live table, and
 * whole swarms on loopback.
 *
 * The swarm_view tests feed status lines and check what the table shows, with no processes.
 * The swarm tests run bin/minitorrent swarm for real: a tracker, a seed and several leechers,
 * each its own process on its own 127.0.0.x address, at high rates and a fast re-choke clock so
 * a run takes seconds. They check the results file, that every copy was verified, that churn
 * (peers killed with SIGKILL and restarted) still ends in a complete swarm, and that no process
 * is left behind, neither after a normal end nor after Ctrl-C (SIGINT).
 */
#include "testlib.h"
#include "swarm_view.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ======================================================================================== */
/* Status lines and the table                                                               */
/* ======================================================================================== */

START_TEST(swarm_view_parse_status_line)
{
    struct swarm_status st = {0};
    int port = -1;
    const char *line = "status t_ms=1200 have=22/64 bytes=360448 down_Bps=510000 up_Bps=250000 "
                       "uploaded=655360 peers=5 unchoked=127.0.0.12:4001,127.0.0.13:4002 "
                       "optimistic=127.0.0.13:4002 complete=0 newkey=whatever";
    ck_assert_int_eq(swarm_parse_line(line, &st, &port), SWARM_LINE_STATUS);
    ck_assert_uint_eq(st.t_ms, 1200);
    ck_assert_uint_eq(st.have, 22);
    ck_assert_uint_eq(st.total, 64);
    ck_assert_uint_eq(st.bytes, 360448);
    ck_assert(st.down_Bps == 510000 && st.up_Bps == 250000);
    ck_assert(st.uploaded == 655360);
    ck_assert_uint_eq(st.peers, 5);
    ck_assert_str_eq(st.unchoked, "127.0.0.12:4001,127.0.0.13:4002");
    ck_assert_str_eq(st.optimistic, "127.0.0.13:4002");
    ck_assert(!st.complete);
    ck_assert_int_eq(port, -1);

    /* A later line that leaves keys out keeps their last values; bad values are ignored. */
    ck_assert_int_eq(swarm_parse_line("status have=30/64 peers=x unchoked= complete=1", &st, &port),
                     SWARM_LINE_STATUS);
    ck_assert_uint_eq(st.have, 30);
    ck_assert_uint_eq(st.peers, 5);
    ck_assert_uint_eq(st.bytes, 360448);
    ck_assert_str_eq(st.unchoked, "");
    ck_assert(st.complete);
    ck_assert_int_eq(swarm_parse_line("status have=65/64 have=3 have=a/b", &st, &port),
                     SWARM_LINE_STATUS);
    ck_assert_uint_eq(st.have, 30);
}
END_TEST

START_TEST(swarm_view_parse_other_lines)
{
    struct swarm_status st = {0};
    int port = 0;
    ck_assert_int_eq(swarm_parse_line("listening on 40123", &st, &port), SWARM_LINE_LISTENING);
    ck_assert_int_eq(port, 40123);
    /* The tracker's second line names its URL: not a port. */
    port = 7;
    ck_assert_int_eq(swarm_parse_line("listening on http://127.0.0.1:5/announce", &st, &port),
                     SWARM_LINE_OTHER);
    ck_assert_int_eq(port, 7);
    ck_assert_int_eq(swarm_parse_line("listening on 70000", &st, &port), SWARM_LINE_OTHER);
    ck_assert_int_eq(swarm_parse_line("complete t_ms=8123", &st, &port), SWARM_LINE_COMPLETE);
    ck_assert(st.complete);
    ck_assert_uint_eq(st.t_ms, 0); /* the status's own t_ms is not overwritten */
    ck_assert_int_eq(swarm_parse_line("complete", &st, &port), SWARM_LINE_COMPLETE);
    ck_assert_int_eq(swarm_parse_line("completed", &st, &port), SWARM_LINE_OTHER);
    ck_assert_int_eq(swarm_parse_line("done: 1048576 bytes in 1.2 s", &st, &port),
                     SWARM_LINE_OTHER);
    ck_assert_int_eq(swarm_parse_line("", &st, &port), SWARM_LINE_OTHER);
}
END_TEST

START_TEST(swarm_view_long_unchoke_list_is_cut_at_a_comma)
{
    struct swarm_status st = {0};
    char line[2048] = "status unchoked=";
    for (int i = 0; i < 60; i++) {
        char one[32];
        snprintf(one, sizeof one, "%s127.0.0.%d:50000", i > 0 ? "," : "", 10 + i);
        strcat(line, one);
    }
    int port;
    ck_assert_int_eq(swarm_parse_line(line, &st, &port), SWARM_LINE_STATUS);
    size_t n = strlen(st.unchoked);
    ck_assert(n > 0 && n < sizeof st.unchoked);
    ck_assert_msg(strcmp(st.unchoked + n - 6, ":50000") == 0, "cut mid-address: %s",
                  st.unchoked + n - 20);
}
END_TEST

/* A seed and three leechers, as the swarm sets them up. */
static void sample_view(struct swarm_view *v, struct swarm_view_peer *p, FILE *out, bool tty)
{
    memset(p, 0, 4 * sizeof *p);
    static const char *names[] = {"seed", "p1", "p2", "p3"};
    static const char *addrs[] = {"127.0.0.2", "127.0.0.11", "127.0.0.12", "127.0.0.13"};
    for (int i = 0; i < 4; i++) {
        snprintf(p[i].name, sizeof p[i].name, "%s", names[i]);
        snprintf(p[i].addr, sizeof p[i].addr, "%s", addrs[i]);
        p[i].finish_s = -1;
        p[i].state = SWARM_PEER_RUNNING;
        p[i].st.total = 64;
    }
    p[0].st.have = 64;
    p[0].st.up_Bps = 1048576;
    snprintf(p[0].st.unchoked, sizeof p[0].st.unchoked, "127.0.0.11:5001,127.0.0.12:5002");
    snprintf(p[0].st.optimistic, sizeof p[0].st.optimistic, "127.0.0.13:5003");
    p[1].st.have = 32;
    p[1].st.down_Bps = 524288;
    snprintf(p[1].st.unchoked, sizeof p[1].st.unchoked, "127.0.0.2:6000,127.0.0.99:6001");
    snprintf(p[1].st.optimistic, sizeof p[1].st.optimistic, "127.0.0.2:6000");
    p[2].st.have = 64;
    p[2].finish_s = 7.25;
    p[2].state = SWARM_PEER_DONE;
    p[3].state = SWARM_PEER_DOWN;
    p[3].st.have = 10;
    swarm_view_init(v, out, tty, p, 4);
    snprintf(v->title, sizeof v->title, "P2P N=3");
}

START_TEST(swarm_view_table_rows)
{
    struct swarm_view v;
    struct swarm_view_peer p[4];
    sample_view(&v, p, stdout, true);
    char buf[4096];
    size_t n = swarm_view_format(&v, 3.5, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    ck_assert_ptr_nonnull(strstr(buf, "P2P N=3   t = 3.5 s\n"));
    /* The seed unchokes p1 and p2, and p3 optimistically (listed apart by the child). */
    ck_assert_msg(strstr(buf, "p1 p2 *p3\n") != NULL, "%s", buf);
    /* p1 unchokes the seed, optimistically, and someone we do not know. */
    ck_assert_msg(strstr(buf, "*seed ?\n") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "[###############...............] 32/64") != NULL, "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "512.0 KiB/s"));
    ck_assert_ptr_nonnull(strstr(buf, "7.2 s")); /* p2's finish time */
    ck_assert_ptr_nonnull(strstr(buf, "p3    127.0.0.13  killed with SIGKILL at 10/64"));
    /* One header, one column line, four peers. */
    int lines = 0;
    for (const char *s = buf; *s != '\0'; s++)
        lines += *s == '\n';
    ck_assert_int_eq(lines, 6);
}
END_TEST

START_TEST(swarm_view_rows_never_wrap)
{
    struct swarm_view v;
    struct swarm_view_peer p[4];
    sample_view(&v, p, stdout, true);
    v.width = 60;
    char buf[4096];
    swarm_view_format(&v, 1.0, buf, sizeof buf);
    for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n"))
        ck_assert_msg(strlen(line) <= 60, "line of %zu characters: %s", strlen(line), line);
    /* A buffer too small still gets a terminated prefix and the full length back. */
    char small[16];
    size_t need = swarm_view_format(&v, 1.0, small, sizeof small);
    ck_assert(need > sizeof small);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
}
END_TEST

START_TEST(swarm_view_names_by_address)
{
    struct swarm_view v;
    struct swarm_view_peer p[4];
    sample_view(&v, p, stdout, true);
    ck_assert_str_eq(swarm_view_name_of(&v, "127.0.0.12:40000"), "p2");
    ck_assert_str_eq(swarm_view_name_of(&v, "127.0.0.2:1"), "seed");
    ck_assert_ptr_null(swarm_view_name_of(&v, "127.0.0.1:1"));
    ck_assert_ptr_null(swarm_view_name_of(&v, "127.0.0.21:1")); /* not a prefix match */
    /* After a restart on a new address, both addresses name the peer. */
    snprintf(p[3].prev_addr, sizeof p[3].prev_addr, "127.0.0.13");
    snprintf(p[3].addr, sizeof p[3].addr, "127.0.0.30");
    ck_assert_str_eq(swarm_view_name_of(&v, "127.0.0.30:9"), "p3");
    ck_assert_str_eq(swarm_view_name_of(&v, "127.0.0.13:9"), "p3");
    snprintf(p[1].addr, sizeof p[1].addr, "::1");
    ck_assert_str_eq(swarm_view_name_of(&v, "[::1]:6881"), "p1");
}
END_TEST

/* Reads what a FILE received. */
static const char *file_text(FILE *f, char *buf, size_t cap)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    return buf;
}

START_TEST(swarm_view_plain_output)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct swarm_view v;
    struct swarm_view_peer p[4];
    sample_view(&v, p, f, false);
    p[1].st.up_Bps = 393216; /* the leechers' uploads are summed: 384 KiB/s + 128 KiB/s */
    p[2].st.up_Bps = 131072;
    swarm_view_draw(&v, 0.5); /* too early for a progress line */
    swarm_view_event(&v, 1.25, "p2 has every piece");
    swarm_view_draw(&v, 2.1);
    swarm_view_draw(&v, 2.3); /* the next line is due at 4 s */
    char buf[1024];
    const char *s = file_text(f, buf, sizeof buf);
    ck_assert_str_eq(s, "[   1.2 s] p2 has every piece\n"
                        "[   2.1 s] p1 50% p2 done p3 killed | seed up 1.0 MiB/s, leechers up "
                        "512.0 KiB/s\n");
    ck_assert_ptr_null(strchr(s, '\033')); /* no terminal codes in a log */
    fclose(f);
}
END_TEST

START_TEST(swarm_view_terminal_redraws_in_place)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct swarm_view v;
    struct swarm_view_peer p[4];
    sample_view(&v, p, f, true);
    swarm_view_draw(&v, 1.0);
    ck_assert_int_eq(v.lines_drawn, 6);
    swarm_view_event(&v, 1.1, "p2 has every piece");
    swarm_view_draw(&v, 1.2);
    ck_assert_int_eq(v.lines_drawn, 7);
    char buf[8192];
    const char *s = file_text(f, buf, sizeof buf);
    /* The second frame moves up over the six lines of the first. */
    ck_assert_msg(strstr(s, "\r\033[6A") != NULL, "no cursor-up over the last frame");
    ck_assert_ptr_nonnull(strstr(s, "p2 has every piece\033[K\n"));
    /* The event list keeps the newest few. */
    for (int i = 0; i < 2 * SWARM_VIEW_EVENTS; i++)
        swarm_view_event(&v, 2.0, "event %d", i);
    ck_assert_uint_eq(v.nevents, SWARM_VIEW_EVENTS);
    ck_assert_ptr_nonnull(strstr(v.events[SWARM_VIEW_EVENTS - 1], "event 9"));
    fclose(f);
}
END_TEST

/* ======================================================================================== */
/* Whole swarms                                                                             */
/* ======================================================================================== */

/* The program's path as argv[0]: the swarm starts its children from it, so it must be a path
 * (or a name on PATH), as it is when a shell runs the program. */
static char *prog(void)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s", tk_bin("minitorrent"));
    return path;
}

/* Returns NULL when bin/minitorrent can run a swarm, or the name of what is missing. */
static const char *missing_piece(void)
{
    static char why[200];
    struct {
        const char *cmd, *needs;
    } want[] = {
        {"swarm", "--peers"},      {"tracker", "--interval"}, {"create", "--private"},
        {"get", "--status-ms"},    {"get", "--no-upload"},    {"get", "--keep-seeding"},
        {"get", "--rechoke-secs"}, {"seed", "--up-rate"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct tk_proc p = {.merge_stderr = 1};
        char *argv[] = {prog(), (char *)want[i].cmd, "--help", NULL};
        if (tk_spawn(&p, argv) < 0)
            return "bin/minitorrent cannot be started";
        tk_read_all(&p, 10000);
        int st = tk_wait_exit(&p, 10000);
        if (st != 0 || strstr(p.out, want[i].needs) == NULL) {
            snprintf(why, sizeof why, "bin/minitorrent %s has no %s option yet", want[i].cmd,
                     want[i].needs);
            return why;
        }
    }
    return NULL;
}

/* A private TMPDIR for the swarm, so the test can check it leaves nothing behind. */
static void private_tmpdir(char *dir, size_t cap)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/check_swarm.XXXXXX", base != NULL && *base != '\0' ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("TMPDIR", dir, 1);
}

/* Asserts the swarm removed its temporary folder, then removes the private TMPDIR. */
static void assert_tmpdir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int entries = 0;
    char first[256] = "";
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            if (entries++ == 0)
                snprintf(first, sizeof first, "%s", e->d_name);
        }
    closedir(d);
    ck_assert_msg(entries == 0, "the swarm left %d entries in %s, e.g. %s", entries, dir, first);
    rmdir(dir);
}

/* Reads every "(pid N)" the swarm printed for its children into pids. Returns the count. */
static int child_pids(const char *out, pid_t *pids, int cap)
{
    int n = 0;
    for (const char *s = strstr(out, "(pid "); s != NULL && n < cap; s = strstr(s + 1, "(pid "))
        pids[n++] = (pid_t)atol(s + 5);
    return n;
}

/* Asserts that none of the PIDs names a process any more. */
static void assert_all_gone(const pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        errno = 0;
        int r = kill(pids[i], 0);
        ck_assert_msg(r == -1 && errno == ESRCH, "child pid %ld is still there", (long)pids[i]);
    }
}

/* Runs `minitorrent swarm ARGS...` to its end and returns its exit status; the output is in
 * p->out. */
static int run_swarm(struct tk_proc *p, char *const argv[], int timeout_ms)
{
    p->merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(p, argv), 0);
    int st = tk_wait_exit(p, timeout_ms);
    if (st == -1)
        tk_stop(p, 15000);
    return st;
}

/* Reads the whole of a file into a malloc'd string. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    if (buf != NULL)
        fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* Counts occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *s = strstr(hay, needle); s != NULL; s = strstr(s + 1, needle))
        n++;
    return n;
}

START_TEST(swarm_six_peers_all_verified)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    char tmp[512], json[600];
    private_tmpdir(tmp, sizeof tmp);
    snprintf(json, sizeof json, "%s.json", tmp);
    char *argv[] = {prog(),
                    "swarm",
                    "--peers",
                    "6",
                    "--size",
                    "1M",
                    "--piece",
                    "16K",
                    "--seed-up",
                    "4M",
                    "--peer-up",
                    "2M",
                    "--rechoke-secs",
                    "0.1",
                    "--seed",
                    "7",
                    "--plain",
                    "--timeout",
                    "60",
                    "--json",
                    json,
                    NULL};
    struct tk_proc p = {0};
    int st = run_swarm(&p, argv, 90000);
    ck_assert_msg(st == 0, "swarm exited with %d:\n%s", st, p.out);
    ck_assert_msg(strstr(p.out, "when stopped") == NULL, "a child ended badly:\n%s", p.out);
    char *j = slurp(json);
    ck_assert_ptr_nonnull(j);
    ck_assert_msg(strstr(j, "\"all_verified\": true") != NULL, "%s", j);
    ck_assert_ptr_nonnull(strstr(j, "\"mode\": \"p2p\""));
    ck_assert_ptr_nonnull(strstr(j, "\"peers\": 6,"));
    ck_assert_ptr_nonnull(strstr(j, "\"file_bytes\": 1048576,"));
    ck_assert_ptr_nonnull(strstr(j, "\"piece_bytes\": 16384,"));
    ck_assert_ptr_nonnull(strstr(j, "\"seed_up_Bps\": 4194304,"));
    ck_assert_ptr_nonnull(strstr(j, "\"peer_up_Bps\": 2097152,"));
    ck_assert_ptr_nonnull(strstr(j, "\"peer_down_Bps\": 0,"));
    ck_assert_ptr_null(strstr(j, "null")); /* every time and the ratio were measured */
    ck_assert_int_eq(j[0], '{');           /* one object for one N */
    /* Six finish times, D the largest of them, and the bound for these rates:
     * max{F/u_s, N*F/(u_s + N*u_i)} = max{0.25, 6/(4+12)} = 0.375 s. */
    const char *ft = strstr(j, "\"finish_times_s\": [");
    ck_assert_ptr_nonnull(ft);
    double t[6], d = -1, bound = -1;
    ck_assert_int_eq(sscanf(ft, "\"finish_times_s\": [%lf, %lf, %lf, %lf, %lf, %lf]", &t[0], &t[1],
                            &t[2], &t[3], &t[4], &t[5]),
                     6);
    ck_assert_int_eq(
        sscanf(strstr(j, "\"distribution_time_s\""), "\"distribution_time_s\": %lf", &d), 1);
    ck_assert_int_eq(sscanf(strstr(j, "\"bound_s\""), "\"bound_s\": %lf", &bound), 1);
    double last = 0;
    for (int i = 0; i < 6; i++)
        last = t[i] > last ? t[i] : last;
    ck_assert_msg(d > 0 && d == last, "D %f is not the last finish %f", d, last);
    ck_assert(bound > 0.3749 && bound < 0.3751);
    ck_assert_msg(d >= bound, "D %f beat the lower bound %f", d, bound);
    /* Every copy came from someone's upload, so the swarm uploaded at least 6 MiB; end-game
     * duplicates add a little on top, but not half as much again. */
    double uploaded = -1;
    ck_assert_int_eq(sscanf(strstr(j, "\"uploaded_bytes\""), "\"uploaded_bytes\": %lf", &uploaded),
                     1);
    ck_assert_msg(uploaded >= 6.0 * 1048576 && uploaded <= 1.5 * 6 * 1048576,
                  "the swarm uploaded %.0f bytes for 6 copies of 1 MiB", uploaded);
    ck_assert_ptr_nonnull(strstr(p.out, "uploaded in all: "));
    /* The report names D, the bound and the ratio. */
    ck_assert_ptr_nonnull(strstr(p.out, "distribution time D (the last finish)"));
    ck_assert_ptr_nonnull(strstr(p.out, "D / bound = "));
    /* Nothing is left: no child process, no temporary files. */
    pid_t pids[64];
    int n = child_pids(p.out, pids, 64);
    ck_assert_int_eq(n, 8); /* tracker, seed, six leechers */
    assert_all_gone(pids, n);
    assert_tmpdir_empty(tmp);
    free(j);
    unlink(json);
}
END_TEST

START_TEST(swarm_client_server_mode)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    char tmp[512], json[600];
    private_tmpdir(tmp, sizeof tmp);
    snprintf(json, sizeof json, "%s.json", tmp);
    char *argv[] = {prog(),    "swarm",         "--peers",
                    "3",       "--size",        "512K",
                    "--piece", "16K",           "--seed-up",
                    "2M",      "--peer-up",     "1M",
                    "--mode",  "client-server", "--rechoke-secs",
                    "0.1",     "--plain",       "--timeout",
                    "60",      "--json",        json,
                    NULL};
    struct tk_proc p = {0};
    int st = run_swarm(&p, argv, 90000);
    ck_assert_msg(st == 0, "swarm exited with %d:\n%s", st, p.out);
    ck_assert_msg(strstr(p.out, "when stopped") == NULL, "a child ended badly:\n%s", p.out);
    char *j = slurp(json);
    ck_assert_ptr_nonnull(j);
    ck_assert_msg(strstr(j, "\"all_verified\": true") != NULL, "%s", j);
    ck_assert_ptr_nonnull(strstr(j, "\"mode\": \"client-server\""));
    /* The leechers upload nothing, so the seed sends all three copies: N*F/u_s = 0.75 s. */
    double bound = -1, d = -1;
    ck_assert_int_eq(sscanf(strstr(j, "\"bound_s\""), "\"bound_s\": %lf", &bound), 1);
    ck_assert(bound > 0.7499 && bound < 0.7501);
    ck_assert_int_eq(
        sscanf(strstr(j, "\"distribution_time_s\""), "\"distribution_time_s\": %lf", &d), 1);
    /* D cannot beat the bound by more than the rate limiter's slack: each connection may send
     * one 16 KiB step before the bucket has the tokens for it (here 3 x 16 KiB of 1.5 MiB, about
     * 3 %). Leechers that uploaded after all would bring D down to the P2P bound, 0.3 s. */
    ck_assert_msg(d >= 0.9 * bound, "D %f beat the client-server bound %f", d, bound);
    ck_assert_ptr_nonnull(strstr(p.out, "N*F/u_s"));
    pid_t pids[64];
    int n = child_pids(p.out, pids, 64);
    ck_assert_int_eq(n, 5);
    assert_all_gone(pids, n);
    assert_tmpdir_empty(tmp);
    free(j);
    unlink(json);
}
END_TEST

START_TEST(swarm_churn_still_finishes)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    char tmp[512], json[600];
    private_tmpdir(tmp, sizeof tmp);
    snprintf(json, sizeof json, "%s.json", tmp);
    /* Slow enough (about 4 s at best) that every victim is seen partway through. */
    char *argv[] = {prog(),           "swarm", "--peers",   "6",      "--size",    "1M",
                    "--piece",        "16K",   "--seed-up", "256K",   "--peer-up", "256K",
                    "--rechoke-secs", "0.2",   "--churn",   "--seed", "11",        "--plain",
                    "--timeout",      "90",    "--json",    json,     NULL};
    struct tk_proc p = {0};
    int st = run_swarm(&p, argv, 120000);
    ck_assert_msg(st == 0, "swarm exited with %d:\n%s", st, p.out);
    ck_assert_msg(strstr(p.out, "when stopped") == NULL, "a child ended badly:\n%s", p.out);
    char *j = slurp(json);
    ck_assert_ptr_nonnull(j);
    ck_assert_msg(strstr(j, "\"all_verified\": true") != NULL, "%s\n%s", j, p.out);
    /* A third of six: two leechers killed and restarted, the first on a new address. */
    ck_assert_msg(count(p.out, "killed with SIGKILL") == 2, "%s", p.out);
    ck_assert_msg(count(p.out, "restarted on") == 2, "%s", p.out);
    ck_assert_msg(count(p.out, "(a new address)") == 1, "%s", p.out);
    /* Each came back with at least the pieces it had verified before the kill. */
    int back = 0;
    for (const char *s = strstr(p.out, "resumed with "); s != NULL;
         s = strstr(s + 1, "resumed with ")) {
        unsigned now, total, before;
        ck_assert_int_eq(
            sscanf(s, "resumed with %u/%u verified pieces (it had %u", &now, &total, &before), 3);
        ck_assert_msg(now >= before, "resumed with %u pieces but had %u", now, before);
        back++;
    }
    ck_assert_int_eq(back, 2);
    pid_t pids[64];
    int n = child_pids(p.out, pids, 64);
    ck_assert_int_eq(n, 10); /* tracker, seed, six leechers, two restarts */
    assert_all_gone(pids, n);
    assert_tmpdir_empty(tmp);
    free(j);
    unlink(json);
}
END_TEST

START_TEST(swarm_sigint_stops_every_child)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    char tmp[512];
    private_tmpdir(tmp, sizeof tmp);
    /* Slow: 16 s at best, so it is surely still running when Ctrl-C comes. */
    char *argv[] = {prog(),      "swarm", "--peers",   "4",    "--size",  "4M",
                    "--seed-up", "256K",  "--peer-up", "128K", "--plain", NULL};
    struct tk_proc p = {.merge_stderr = 1};
    ck_assert_int_eq(tk_spawn(&p, argv), 0);
    /* Wait for the last leecher's line: then all six children are running. */
    long long deadline = tk_now_ms() + 30000;
    while (strstr(p.out, "p4 on 127.0.0.14 (pid ") == NULL ||
           strchr(strstr(p.out, "p4 on"), '\n') == NULL) {
        ck_assert_msg(tk_now_ms() < deadline, "the swarm never started its leechers:\n%s", p.out);
        ck_assert(tk_wait_readable(p.out_fd, 1000) >= 0);
        ssize_t r = read(p.out_fd, p.out + p.out_len, sizeof p.out - 1 - p.out_len);
        ck_assert_msg(r > 0, "the swarm ended early:\n%s", p.out);
        p.out_len += (size_t)r;
        p.out[p.out_len] = '\0';
    }
    pid_t pids[64];
    int n = child_pids(p.out, pids, 64);
    ck_assert_int_eq(n, 6);
    /* Every child is alive before the interrupt, so the check after it means something. */
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(kill(pids[i], 0), 0);
    kill(p.pid, SIGINT);
    int st = tk_wait_exit(&p, 30000);
    if (st == -1)
        tk_stop(&p, 5000);
    ck_assert_msg(st == 130, "swarm exited with %d after SIGINT:\n%s", st, p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "interrupted"));
    assert_all_gone(pids, n);
    assert_tmpdir_empty(tmp);
}
END_TEST

START_TEST(swarm_list_writes_json_list_and_plot)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    char tmp[512], json[600], svg[600];
    private_tmpdir(tmp, sizeof tmp);
    snprintf(json, sizeof json, "%s.json", tmp);
    snprintf(svg, sizeof svg, "%s.svg", tmp);
    char *argv[] = {
        prog(),    "swarm",     "--peers", "2,3",       "--size", "512K",           "--piece",
        "16K",     "--seed-up", "4M",      "--peer-up", "2M",     "--rechoke-secs", "0.1",
        "--plain", "--timeout", "60",      "--json",    json,     "--plot",         svg,
        NULL};
    struct tk_proc p = {0};
    int st = run_swarm(&p, argv, 120000);
    ck_assert_msg(st == 0, "swarm exited with %d:\n%s", st, p.out);
    ck_assert_msg(strstr(p.out, "when stopped") == NULL, "a child ended badly:\n%s", p.out);
    char *j = slurp(json);
    ck_assert_ptr_nonnull(j);
    /* Each N in both modes: four objects in one list. */
    ck_assert_int_eq(j[0], '[');
    ck_assert_int_eq(count(j, "\"mode\": \"p2p\""), 2);
    ck_assert_int_eq(count(j, "\"mode\": \"client-server\""), 2);
    ck_assert_int_eq(count(j, "\"all_verified\": true"), 4);
    char *s = slurp(svg);
    ck_assert_ptr_nonnull(s);
    ck_assert(strncmp(s, "<?xml", 5) == 0);
    ck_assert_ptr_nonnull(strstr(s, "P2P: measured D"));
    ck_assert_ptr_nonnull(strstr(s, "client-server: K&amp;R bound"));
    ck_assert_ptr_nonnull(strstr(s, "(seconds)"));
    ck_assert_int_eq(count(s, "<circle"), 2 + 1); /* two P2P points and the legend's */
    ck_assert_ptr_nonnull(strstr(p.out, "plot written to"));
    assert_tmpdir_empty(tmp);
    free(j);
    free(s);
    unlink(json);
    unlink(svg);
}
END_TEST

START_TEST(swarm_bad_options)
{
    static const char *bad[][3] = {
        {"--peers", "0", NULL},    {"--peers", "2,,4", NULL}, {"--peers", "4,", NULL},
        {"--size", "12Q", NULL},   {"--piece", "1K", NULL},   {"--mode", "star", NULL},
        {"--seed-up", "-1", NULL}, {"extra", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {prog(), "swarm", (char *)bad[i][0], (char *)bad[i][1], NULL};
        struct tk_proc p = {.merge_stderr = 1};
        ck_assert_int_eq(tk_spawn(&p, argv), 0);
        int st = tk_wait_exit(&p, 10000);
        if (st == -1)
            tk_stop(&p, 5000);
        ck_assert_msg(st == 2, "swarm %s %s exited with %d:\n%s", bad[i][0],
                      bad[i][1] ? bad[i][1] : "", st, p.out);
    }
}
END_TEST

static Suite *swarm_suite(void)
{
    Suite *s = suite_create("swarm");
    TCase *view = tk_tcase(s, "swarm_view", 10);
    tk_add_test(view, swarm_view_parse_status_line);
    tk_add_test(view, swarm_view_parse_other_lines);
    tk_add_test(view, swarm_view_long_unchoke_list_is_cut_at_a_comma);
    tk_add_test(view, swarm_view_table_rows);
    tk_add_test(view, swarm_view_rows_never_wrap);
    tk_add_test(view, swarm_view_names_by_address);
    tk_add_test(view, swarm_view_plain_output);
    tk_add_test(view, swarm_view_terminal_redraws_in_place);
    TCase *tc = tk_tcase(s, "swarm", 180);
    tk_add_test(tc, swarm_bad_options);
    tk_add_test(tc, swarm_six_peers_all_verified);
    tk_add_test(tc, swarm_client_server_mode);
    tk_add_test(tc, swarm_churn_still_finishes);
    tk_add_test(tc, swarm_sigint_stops_every_child);
    tk_add_test(tc, swarm_list_writes_json_list_and_plot);
    return s;
}

TK_MAIN(swarm_suite)
