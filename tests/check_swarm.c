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
#include "swarm.h"
#include "swarm_view.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int count(const char *hay, const char *needle);

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
    /* The clock comes first, so a narrow terminal cuts the title rather than the time. */
    ck_assert_msg(strncmp(buf, "t = 3.5 s   P2P N=3\n", 19) == 0, "%s", buf);
    /* The rates' window and the piece map's shades are labelled. */
    ck_assert_msg(strstr(buf, "rates: last 5 s") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "# rarest") != NULL, "%s", buf);
    /* The seed unchokes p1 and p2, and p3 optimistically (listed apart by the child). */
    ck_assert_msg(strstr(buf, "p1 p2 *p3 ") != NULL, "%s", buf);
    /* p1 unchokes the seed, optimistically, and someone we do not know. */
    ck_assert_msg(strstr(buf, "*seed ? ") != NULL, "%s", buf);
    /* Without piece bitmaps, the map is a progress bar: p1 holds half. */
    ck_assert_msg(strstr(buf, "32/64") != NULL && strstr(buf, "####....") != NULL, "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "512.0 KiB/s"));
    ck_assert_ptr_nonnull(strstr(buf, "7.2 s")); /* p2's finish time */
    ck_assert_ptr_nonnull(strstr(buf, "p3    127.0.0.13  killed with SIGKILL at 10/64"));
    /* One header, the legend, one column line, four peers. */
    int lines = 0;
    for (const char *s = buf; *s != '\0'; s++)
        lines += *s == '\n';
    ck_assert_int_eq(lines, 7);
}
END_TEST

/* The piece map shades each piece a peer holds by its copies in the swarm: with four pieces held
 * by 1, 2, 3 and 3 of the three running peers, the rarest is '#', the common ones '-'. A piece
 * the peer lacks is '.'. */
START_TEST(swarm_view_piece_map_shades_by_rarity)
{
    struct swarm_view v;
    struct swarm_view_peer p[3];
    memset(p, 0, sizeof p);
    const char *names[3] = {"seed", "p1", "p2"}, *bits[3] = {"f", "3", "7"};
    for (int i = 0; i < 3; i++) {
        snprintf(p[i].name, sizeof p[i].name, "%s", names[i]);
        snprintf(p[i].addr, sizeof p[i].addr, "127.0.0.%d", 2 + i);
        p[i].state = SWARM_PEER_RUNNING;
        p[i].finish_s = -1;
        p[i].st.total = 4;
        snprintf(p[i].st.pieces, sizeof p[i].st.pieces, "%s", bits[i]);
    }
    /* pieces: 0 only the seed (1 copy), 1 seed+p2 (2), 2 and 3 everyone (3). */
    swarm_view_init(&v, stdout, true, p, 3);
    char buf[4096];
    swarm_view_format(&v, 1.0, buf, sizeof buf);
    char *seed = strstr(buf, "\nseed "), *p1 = strstr(buf, "\np1 "), *p2 = strstr(buf, "\np2 ");
    ck_assert(seed != NULL && p1 != NULL && p2 != NULL);
    seed++, p1++, p2++; /* each row starts after the newline that ends the row above */
    *strchr(seed, '\n') = '\0';
    *strchr(p1, '\n') = '\0';
    *strchr(p2, '\n') = '\0';
    ck_assert_msg(strstr(seed, " #+--") != NULL, "seed row: %s", seed);
    ck_assert_msg(strstr(p1, " ..--") != NULL, "p1 row: %s", p1);
    ck_assert_msg(strstr(p2, " .+--") != NULL, "p2 row: %s", p2);
}
END_TEST

START_TEST(swarm_view_rows_never_wrap)
{
    struct swarm_view v;
    struct swarm_view_peer p[4];
    sample_view(&v, p, stdout, true);
    for (size_t w = 60; w <= 100; w += 40) {
        v.width = w;
        char buf[4096];
        swarm_view_format(&v, 1.0, buf, sizeof buf);
        for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n"))
            ck_assert_msg(strlen(line) <= w, "line of %zu characters: %s", strlen(line), line);
    }
    /* At 100 columns the unchoke lists and the clock are whole. */
    v.width = 100;
    char buf[4096];
    swarm_view_format(&v, 12.5, buf, sizeof buf);
    ck_assert_msg(strstr(buf, "t = 12.5 s") != NULL && strstr(buf, "p1 p2 *p3") != NULL, "%s", buf);
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

/* Plain output says once, in its first line, why there is no live table. */
START_TEST(swarm_view_plain_output_says_why)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    struct swarm_view v;
    struct swarm_view_peer p[4];
    sample_view(&v, p, f, false);
    swarm_view_note_plain(&v, "output is not a terminal");
    swarm_view_draw(&v, 2.1);
    swarm_view_draw(&v, 4.2);
    char buf[2048];
    const char *s = file_text(f, buf, sizeof buf);
    ck_assert_msg(strncmp(s, "(plain progress lines: output is not a terminal", 47) == 0, "%s", s);
    ck_assert_int_eq(count(s, "plain progress lines"), 1);
    ck_assert_int_eq(count(s, "] p1 50%"), 2);
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
    ck_assert_int_eq(v.lines_drawn, 7);
    swarm_view_event(&v, 1.1, "p2 has every piece");
    swarm_view_draw(&v, 1.2);
    ck_assert_int_eq(v.lines_drawn, 8);
    char buf[8192];
    const char *s = file_text(f, buf, sizeof buf);
    /* The second frame moves up over the seven lines of the first. */
    ck_assert_msg(strstr(s, "\r\033[7A") != NULL, "no cursor-up over the last frame");
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
    /* D cannot beat the bound: the seed's limiter grants no byte before its bucket has the
     * token for it. Leechers that uploaded after all would bring D down to the P2P bound, 0.3 s. */
    ck_assert_msg(d >= bound, "D %f beat the client-server bound %f", d, bound);
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

/* ======================================================================================== */
/* The report: a D below its bound is a measurement error                                   */
/* ======================================================================================== */

/* Prints a run's report into a string (the caller frees it). */
static char *report_text(const struct run_result *res)
{
    static struct swarm_view_peer vp[3];
    snprintf(vp[1].name, sizeof vp[1].name, "p1");
    snprintf(vp[2].name, sizeof vp[2].name, "p2");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    swarm_report_run(f, vp, res);
    fclose(f);
    return buf;
}

/* Client-server N = 2 at the bound 4.00 s: 3.99 s is impossible and must be called a
 * measurement error, without a ratio; 4.04 s is a result with its ratio. */
START_TEST(swarm_report_below_bound_is_an_error)
{
    static struct run_result res;
    memset(&res, 0, sizeof res);
    res.mode = MODE_CS;
    res.peers = 2;
    res.file_bytes = 2u << 20;
    res.finish[0] = 3.98;
    res.finish[1] = 3.99;
    res.distribution_s = 3.99;
    res.bound_s = 4.0;
    res.all_verified = true;
    ck_assert(swarm_below_bound(&res));
    char *t = report_text(&res);
    ck_assert_msg(strstr(t, "MEASUREMENT ERROR") != NULL, "%s", t);
    ck_assert_msg(strstr(t, "D / bound") == NULL, "a ratio was printed: %s", t);
    free(t);
    /* The table says it too, in the ratio's place. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    swarm_report_table(f, &res, 1);
    fclose(f);
    ck_assert_msg(strstr(buf, "MEASUREMENT ERROR") != NULL && strstr(buf, " 1.00") == NULL, "%s",
                  buf);
    free(buf);

    res.distribution_s = 4.04;
    ck_assert(!swarm_below_bound(&res));
    t = report_text(&res);
    ck_assert_msg(strstr(t, "D / bound = 1.01") != NULL, "%s", t);
    ck_assert_msg(strstr(t, "MEASUREMENT ERROR") == NULL, "%s", t);
    free(t);
    /* Equal to the bound, to the hundredth printed, is not called an error. */
    res.distribution_s = 3.996;
    ck_assert(!swarm_below_bound(&res));
}
END_TEST

/* ======================================================================================== */
/* Experiments                                                                              */
/* ======================================================================================== */

/* Runs `minitorrent experiment NAME --quick --seed 11 --json FILE --plot FILE.svg`, checks it
 * succeeded within the time an experiment may take, and returns the JSON text (caller frees).
 * The SVG must exist and name its axes. */
static char *run_experiment(const char *name, const char *const *must)
{
    char tmp[512], json[600], svg[600];
    private_tmpdir(tmp, sizeof tmp);
    snprintf(json, sizeof json, "%s.json", tmp);
    snprintf(svg, sizeof svg, "%s.svg", tmp);
    char *argv[] = {prog(),   "experiment", (char *)name, "--quick", "--seed",  "11",
                    "--json", json,         "--plot",     svg,       "--plain", NULL};
    static struct tk_proc p;
    memset(&p, 0, sizeof p);
    long long t0 = tk_now_ms();
    int st = run_swarm(&p, argv, 120000);
    double secs = (double)(tk_now_ms() - t0) / 1000.0;
    fprintf(stderr, "experiment %s --quick took %.1f s\n", name, secs);
    ck_assert_msg(st == 0, "experiment %s exited with %d:\n%s", name, st, p.out);
    ck_assert_msg(strstr(p.out, "verdict: ") != NULL, "no verdict:\n%s", p.out);
    /* Every child ended cleanly when stopped: no crash, no sanitizer's report. */
    const char *bad = strstr(p.out, "when stopped");
    ck_assert_msg(bad == NULL, "a child ended badly: %.300s", bad);
    ck_assert_msg(strstr(p.out, "time scale K = ") != NULL, "no time scale:\n%s", p.out);
    /* --quick promises under 30 s; a loaded test machine gets twice that. */
    ck_assert_msg(secs < 60, "experiment %s --quick took %.1f s", name, secs);
    char *j = slurp(json);
    ck_assert_ptr_nonnull(j);
    char want[80];
    snprintf(want, sizeof want, "\"experiment\": \"%s\"", name);
    ck_assert_msg(strstr(j, want) != NULL, "%s", j);
    for (size_t i = 0; must[i] != NULL; i++)
        ck_assert_msg(strstr(j, must[i]) != NULL, "no %s in %s", must[i], j);
    char *g = slurp(svg);
    ck_assert_ptr_nonnull(g);
    ck_assert(strncmp(g, "<?xml", 5) == 0);
    free(g);
    unlink(json);
    unlink(svg);
    assert_tmpdir_empty(tmp);
    return j;
}

/* Reads the number after the n-th occurrence of key (a "\"key\": " string), or -1 for null. */
static double nth_number(const char *j, const char *key, int n)
{
    const char *s = j;
    for (int i = 0; i <= n; i++) {
        s = strstr(s, key);
        ck_assert_msg(s != NULL, "fewer than %d %s in %s", n + 1, key, j);
        s += strlen(key);
    }
    return strncmp(s, "null", 4) == 0 ? -1 : atof(s);
}

START_TEST(experiment_rarest_first_quick)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    const char *const must[] = {"\"variants\"", "\"name\": \"rarest\"", "\"name\": \"random\"",
                                "\"name\": \"sequential\"", NULL};
    char *j = run_experiment("rarest-first", must);
    for (int v = 0; v < 3; v++) {
        double peers = nth_number(j, "\"peers\": ", v);
        double done = nth_number(j, "\"completed\": ", v);
        double avail = nth_number(j, "\"min_availability_after_seed_left\": ", v);
        double d = nth_number(j, "\"distribution_time_s\": ", v);
        ck_assert_msg(peers >= 2 && done >= 0 && done <= peers, "%s", j);
        /* The seed left in every variant, so the availability was measured. */
        ck_assert_msg(avail >= 0, "%s", j);
        /* D exists exactly when every leecher finished. */
        ck_assert_msg((d >= 0) == (done == peers), "%s", j);
        /* A piece lost for good (held by no leecher at the end) means nobody can have
         * finished, and a swarm that finished lost nothing. (The availability when the seed left
         * may read 0 although everyone finishes: the last blocks of a piece can still be on
         * their way then.) */
        double lost = nth_number(j, "\"pieces_lost\": ", v);
        ck_assert_msg(lost >= 0, "%s", j);
        ck_assert_msg(lost == 0 || done == 0, "%s", j);
        ck_assert_msg(done < peers || lost == 0, "%s", j);
    }
    free(j);
}
END_TEST

START_TEST(experiment_tit_for_tat_quick)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    const char *const must[] = {"\"name\": \"tit-for-tat\"", "\"name\": \"round-robin\"", NULL};
    char *j = run_experiment("tit-for-tat", must);
    for (int v = 0; v < 2; v++) {
        double c = nth_number(j, "\"contributor_mean_s\": ", v);
        double f = nth_number(j, "\"free_rider_mean_s\": ", v);
        ck_assert_msg(c > 0 && f > 0, "%s", j);
    }
    free(j);
}
END_TEST

START_TEST(experiment_optimistic_unchoke_quick)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    const char *const must[] = {"\"name\": \"on\"", "\"name\": \"off\"",
                                "\"newcomer_first_piece_s\"", NULL};
    char *j = run_experiment("optimistic-unchoke", must);
    /* With the optimistic unchoke on, the newcomer gets a piece during the run. */
    ck_assert_msg(nth_number(j, "\"newcomer_first_piece_s\": ", 0) >= 0, "%s", j);
    free(j);
}
END_TEST

START_TEST(experiment_bad_usage)
{
    static const char *bad[][3] = {
        {"nonesuch", NULL, NULL},
        {NULL, NULL, NULL},
        {"churn", "--time-scale", "0"},
        {"churn", "--web", "99999"},
        {"churn", "extra", NULL},
        /* --seed-copies belongs to rarest-first alone, and a seed must upload something. */
        {"churn", "--seed-copies", "2"},
        {"rarest-first", "--seed-copies", "0.1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {
            prog(), "experiment", (char *)bad[i][0], (char *)bad[i][1], (char *)bad[i][2], NULL};
        struct tk_proc p = {.merge_stderr = 1};
        ck_assert_int_eq(tk_spawn(&p, argv), 0);
        int st = tk_wait_exit(&p, 10000);
        if (st == -1)
            tk_stop(&p, 5000);
        ck_assert_msg(st == 2, "experiment %s %s exited with %d:\n%s", bad[i][0] ? bad[i][0] : "",
                      bad[i][1] ? bad[i][1] : "", st, p.out);
    }
}
END_TEST

/* ======================================================================================== */
/* The web view                                                                             */
/* ======================================================================================== */

/* Reads the child's output until it holds text or timeout_ms passes. Returns true when found. */
static bool wait_for_text(struct tk_proc *p, const char *text, int timeout_ms)
{
    long long end = tk_now_ms() + timeout_ms;
    while (strstr(p->out, text) == NULL) {
        long long left = end - tk_now_ms();
        if (left <= 0 || tk_wait_readable(p->out_fd, (int)left) <= 0)
            return false;
        if (p->out_len + 1 >= sizeof p->out)
            return false;
        ssize_t n = read(p->out_fd, p->out + p->out_len, sizeof p->out - 1 - p->out_len);
        if (n <= 0)
            return false;
        p->out_len += (size_t)n;
        p->out[p->out_len] = '\0';
    }
    return true;
}

/* Sends GET path to 127.0.0.1:port and returns the whole response (caller frees). */
static char *http_get(int port, const char *path)
{
    int fd = tk_connect_port("127.0.0.1", port);
    ck_assert_int_ge(fd, 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    ck_assert_int_eq(tk_send_all(fd, req, (size_t)n), n);
    size_t cap = 1 << 20, len = 0;
    char *buf = calloc(1, cap);
    ck_assert_ptr_nonnull(buf);
    while (len < cap - 1 && tk_wait_readable(fd, 10000) > 0) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    return buf;
}

/* Returns the port of "web view at http://127.0.0.1:PORT/" in the output, or -1. */
static int web_port(const char *out)
{
    const char *s = strstr(out, "web view at http://127.0.0.1:");
    return s != NULL ? atoi(s + strlen("web view at http://127.0.0.1:")) : -1;
}

/* The page and /state.json: the page needs nothing from anywhere else, and the state after the
 * run (kept up by --hold) agrees with what the swarm reported. */
START_TEST(swarm_web_state_json_agrees_with_the_swarm)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    char tmp[512];
    private_tmpdir(tmp, sizeof tmp);
    char *argv[] = {prog(),           "swarm", "--peers",   "3",  "--size",    "1M",
                    "--piece",        "16K",   "--seed-up", "2M", "--peer-up", "1M",
                    "--rechoke-secs", "0.2",   "--seed",    "5",  "--plain",   "--web",
                    "--hold",         NULL};
    static struct tk_proc p;
    memset(&p, 0, sizeof p);
    p.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&p, argv), 0);
    ck_assert_msg(wait_for_text(&p, "web view at", 20000), "%s", p.out);
    int port = web_port(p.out);
    ck_assert_int_gt(port, 0);

    char *page = http_get(port, "/");
    ck_assert_msg(strncmp(page, "HTTP/1.1 200 OK", 15) == 0, "%.200s", page);
    ck_assert_ptr_nonnull(strstr(page, "Content-Type: text/html"));
    /* Self-contained: no script, style, font or image from anywhere, and the only URL in it is
     * SVG's namespace name (a name, never fetched). */
    static const char *const outside[] = {"src=", "href=", "url(", "@import", "https://"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
        ck_assert_msg(strstr(page, outside[i]) == NULL, "the page holds %s", outside[i]);
    for (const char *u = strstr(page, "http://"); u != NULL; u = strstr(u + 1, "http://"))
        ck_assert_msg(strncmp(u, "http://www.w3.org/2000/svg", 26) == 0, "a URL: %.40s", u);
    free(page);
    char *nope = http_get(port, "/nope");
    ck_assert_msg(strncmp(nope, "HTTP/1.1 404", 12) == 0, "%.100s", nope);
    free(nope);

    ck_assert_msg(wait_for_text(&p, "(--hold)", 90000), "the run did not end:\n%s", p.out);
    char *state = http_get(port, "/state.json");
    char *body = strstr(state, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    body += 4;
    ck_assert_msg(body[0] == '{', "%s", state);
    ck_assert_ptr_nonnull(strstr(body, "\"t_s\": "));
    ck_assert_ptr_nonnull(strstr(body, "\"pieces\": 64"));
    ck_assert_int_eq(count(body, "\"name\": "), 4); /* the seed and three leechers */
    ck_assert_int_eq(count(body, "\"unchokes\": ["), 4);
    ck_assert_int_eq(count(body, "\"have\": 64"), 4);
    ck_assert_ptr_nonnull(strstr(body, "\"address\": \"127.0.0.11\""));
    /* Each leecher's finish time is the one the report printed. */
    for (int i = 1; i <= 3; i++) {
        char key[32], name[16];
        snprintf(key, sizeof key, "\"name\": \"p%d\"", i);
        const char *entry = strstr(body, key);
        ck_assert_ptr_nonnull(entry);
        const char *f = strstr(entry, "\"finished_s\": ");
        ck_assert_ptr_nonnull(f);
        double web = atof(f + strlen("\"finished_s\": "));
        snprintf(name, sizeof name, " p%d ", i);
        const char *rep = strstr(strstr(p.out, "finish times"), name);
        ck_assert_ptr_nonnull(rep);
        double printed = atof(rep + strlen(name));
        ck_assert_msg(web > 0 && web - printed < 0.006 && printed - web < 0.006,
                      "p%d: %.3f on the page, %.2f in the report", i, web, printed);
    }
    free(state);
    kill(p.pid, SIGINT);
    int st = tk_wait_exit(&p, 15000);
    ck_assert_msg(st == 0, "swarm --hold exited with %d after Ctrl-C", st);
    assert_tmpdir_empty(tmp);
}
END_TEST

/* Sends one HTTP announce to the tracker at port. */
static void announce(int port, const char *peer_id, int peer_port, long left, long uploaded,
                     long downloaded)
{
    char path[400];
    snprintf(path, sizeof path,
             "/announce?info_hash=%%12%%34%%56%%78%%9a%%bc%%de%%f0%%12%%34%%56%%78%%9a%%bc%%de"
             "%%f0%%12%%34%%56%%78&peer_id=%s&port=%d&uploaded=%ld&downloaded=%ld&left=%ld"
             "&compact=1",
             peer_id, peer_port, uploaded, downloaded, left);
    char *reply = http_get(port, path);
    ck_assert_msg(strstr(reply, "200 OK") != NULL, "%.200s", reply);
    free(reply);
}

/* `tracker --web` serves the page from what announces tell: a peer's progress from its "left",
 * against the largest "left" seen for the torrent, a peer that announced left=0 is done, and a
 * peer's rates are how its "uploaded" and "downloaded" grew between its last two announces. */
START_TEST(swarm_web_tracker_view)
{
    char *argv[] = {prog(), "tracker", "-p", "0", "-b", "127.0.0.1", "--web", NULL};
    static struct tk_proc p;
    memset(&p, 0, sizeof p);
    p.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&p, argv), 0);
    int tport = tk_wait_listening(&p, 10000);
    ck_assert_int_gt(tport, 0);
    ck_assert_msg(wait_for_text(&p, "web view at", 10000), "%s", p.out);
    int wport = web_port(p.out);
    long long s1 = tk_now_ms();
    announce(tport, "AAAAAAAAAAAAAAAAAAAA", 7001, 4000, 0, 0);
    long long e1 = tk_now_ms();
    announce(tport, "BBBBBBBBBBBBBBBBBBBB", 7002, 0, 5000, 4000);
    /* The view is rebuilt every half second from what the tracker holds then, and learns the
     * torrent's size from the largest "left" it has seen: let it see A's first announce (as it
     * would, since peers announce seconds apart) before A announces again. */
    char *state = NULL;
    long long end = tk_now_ms() + 10000;
    while (tk_now_ms() < end) {
        free(state);
        state = http_get(wport, "/state.json");
        if (strstr(state, "127.0.0.1:7001") != NULL)
            break;
        tk_wait_readable(p.out_fd, 100);
    }
    ck_assert_msg(strstr(state, "\"have\": 0,") != NULL, "%s", state);
    long long s2 = tk_now_ms();
    announce(tport, "AAAAAAAAAAAAAAAAAAAA", 7001, 1000, 300000, 3000);
    long long e2 = tk_now_ms();
    end = tk_now_ms() + 10000;
    while (tk_now_ms() < end) {
        free(state);
        state = http_get(wport, "/state.json");
        if (strstr(state, "\"have\": 75") != NULL)
            break;
        tk_wait_readable(p.out_fd, 100);
    }
    ck_assert_msg(strstr(state, "\"have\": 75") != NULL, "%s", state);
    ck_assert_msg(strstr(state, "\"name\": \"127.0.0.1:7001\"") != NULL, "%s", state);
    ck_assert_msg(strstr(state, "\"name\": \"127.0.0.1:7002\"") != NULL, "%s", state);
    ck_assert_msg(strstr(state, "\"have\": 100") != NULL, "%s", state);
    ck_assert_msg(count(state, "\"bitfield\": null") == 2, "%s", state);
    /* A uploaded 300000 bytes and downloaded 3000 between its two announces, which the tracker
     * received between s1..e1 and s2..e2 on this clock: its rates lie within what those bounds
     * on the time between them allow. B announced once: no rates yet. */
    const char *a_entry = strstr(state, "\"name\": \"127.0.0.1:7001\"");
    const char *b_entry = strstr(state, "\"name\": \"127.0.0.1:7002\"");
    double up = atof(strstr(a_entry, "\"up_Bps\": ") + strlen("\"up_Bps\": "));
    double down = atof(strstr(a_entry, "\"down_Bps\": ") + strlen("\"down_Bps\": "));
    ck_assert_msg(up > 0 && up >= 300000.0 * 1000 / (double)(e2 - s1 + 1) - 1,
                  "up_Bps %.0f for 300000 B in at most %lld ms\n%s", up, e2 - s1, state);
    ck_assert_msg(s2 - e1 < 1 || up <= 300000.0 * 1000 / (double)(s2 - e1) + 1,
                  "up_Bps %.0f for 300000 B in at least %lld ms\n%s", up, s2 - e1, state);
    ck_assert_msg(down > 0 && down >= 3000.0 * 1000 / (double)(e2 - s1 + 1) - 1 &&
                      down * 100 < up * 1.01,
                  "down_Bps %.0f, up_Bps %.0f for 3000 and 300000 B\n%s", down, up, state);
    ck_assert_msg(atof(strstr(b_entry, "\"up_Bps\": ") + strlen("\"up_Bps\": ")) == 0, "%s", state);
    free(state);
    char *page = http_get(wport, "/");
    ck_assert_ptr_nonnull(strstr(page, "<!DOCTYPE html>"));
    free(page);
    ck_assert_int_eq(tk_stop(&p, 10000), 0);
}
END_TEST

/* The network of the namespace test: names that carry this process's id, so runs never clash. */
static char ns_tag[32];

/* Deletes the namespaces and the bridge of the namespace test. A failing assertion ends the
 * test's process at once, so the test case's unchecked teardown (in the runner, whose process id
 * names the network) calls this again. */
static void ns_teardown(void)
{
    if (ns_tag[0] == '\0')
        snprintf(ns_tag, sizeof ns_tag, "%ld", (long)getpid() % 100000);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "for i in 1 2 3 4; do ip netns del mtn%s-$i 2>/dev/null; done; "
             "ip link del mtb%s 2>/dev/null; true",
             ns_tag, ns_tag);
    if (system(cmd) != 0)
        fprintf(stderr, "ns_teardown: cannot run the shell to remove the test network\n");
}

/* The unchecked teardown of the swarm_web test case. */
static void ns_teardown_fixture(void)
{
    ns_tag[0] = '\0';
    ns_teardown();
}

/* A class swarm across four "laptops": each a network namespace with its own address on a
 * bridge, the tracker on the bridge's address with --web. The page's state, built only from the
 * announces the tracker receives, shows four peers on four addresses, all complete. */
START_TEST(swarm_web_tracker_across_namespaces)
{
    if (geteuid() != 0 || access("/usr/sbin/ip", X_OK) != 0)
        tk_skip("network namespaces need root and /usr/sbin/ip");
    /* The runner's id (the test runs in a child of it), which its teardown can rebuild. */
    snprintf(ns_tag, sizeof ns_tag, "%ld", (long)getppid() % 100000);
    int net = 20 + (int)(getppid() % 200);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; ip link add mtb%s type bridge; ip addr add 10.77.%d.1/24 dev mtb%s; "
             "ip link set mtb%s up; for i in 1 2 3 4; do ip netns add mtn%s-$i; "
             "ip link add mtv%s$i type veth peer name eth0 netns mtn%s-$i; "
             "ip link set mtv%s$i master mtb%s up; "
             "ip -n mtn%s-$i addr add 10.77.%d.$((10 + i))/24 dev eth0; "
             "ip -n mtn%s-$i link set eth0 up; ip -n mtn%s-$i link set lo up; done",
             ns_tag, net, ns_tag, ns_tag, ns_tag, ns_tag, ns_tag, ns_tag, ns_tag, ns_tag, net,
             ns_tag, ns_tag);
    if (system(cmd) != 0) {
        ns_teardown();
        tk_skip("cannot create network namespaces and a bridge here");
    }
    char tmp[512];
    private_tmpdir(tmp, sizeof tmp);
    char bridge[32], trackport[16];
    snprintf(bridge, sizeof bridge, "10.77.%d.1", net);
    static struct tk_proc tr, mk, peers[4];
    memset(&tr, 0, sizeof tr);
    tr.merge_stderr = 1;
    char *targv[] = {prog(), "tracker", "-p", "0", "-b", bridge, "--interval", "1", "--web", NULL};
    ck_assert_int_eq(tk_spawn(&tr, targv), 0);
    int tport = tk_wait_listening(&tr, 10000);
    ck_assert_int_gt(tport, 0);
    ck_assert_msg(wait_for_text(&tr, "web view at", 10000), "%s", tr.out);
    int wport = web_port(tr.out);
    snprintf(trackport, sizeof trackport, "%d", tport);

    /* The file, its torrent, and a folder per laptop (the first holds the file: the seed). */
    char file[700], torrent[600], url[128], dirs[4][600];
    for (int i = 0; i < 4; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/laptop%d", tmp, i + 1);
        ck_assert_int_eq(mkdir(dirs[i], 0755), 0);
    }
    snprintf(file, sizeof file, "%s/lecture.bin", dirs[0]);
    FILE *f = fopen(file, "wb");
    ck_assert_ptr_nonnull(f);
    srand(7);
    for (int i = 0; i < 1 << 20; i++)
        fputc(rand() & 255, f);
    fclose(f);
    snprintf(torrent, sizeof torrent, "%s/lecture.torrent", tmp);
    snprintf(url, sizeof url, "http://%s:%d/announce", bridge, tport);
    memset(&mk, 0, sizeof mk);
    mk.merge_stderr = 1;
    ck_assert_int_eq(
        tk_spawn(&mk, (char *[]){prog(), "create", file, "-a", url, "-o", torrent, NULL}), 0);
    ck_assert_int_eq(tk_wait_exit(&mk, 30000), 0);

    for (int i = 0; i < 4; i++) {
        char ns[48], addr[32];
        snprintf(ns, sizeof ns, "mtn%s-%d", ns_tag, i + 1);
        snprintf(addr, sizeof addr, "10.77.%d.%d", net, 11 + i);
        char *argv[] = {"/usr/sbin/ip",
                        "netns",
                        "exec",
                        ns,
                        prog(),
                        i == 0 ? "seed" : "get",
                        torrent,
                        "-d",
                        dirs[i],
                        "-b",
                        addr,
                        "-p",
                        "0",
                        i == 0 ? NULL : "--keep-seeding",
                        NULL};
        memset(&peers[i], 0, sizeof peers[i]);
        peers[i].merge_stderr = 1;
        ck_assert_int_eq(tk_spawn(&peers[i], argv), 0);
    }
    /* The tracker's page learns every laptop and, from "left", that each has the whole file. */
    char *state = NULL;
    long long end = tk_now_ms() + 90000;
    while (tk_now_ms() < end) {
        free(state);
        state = http_get(wport, "/state.json");
        if (count(state, "\"have\": 100") == 4)
            break;
        tk_wait_readable(tr.out_fd, 250);
    }
    for (int i = 0; i < 4; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"address\": \"10.77.%d.%d\"", net, 11 + i);
        ck_assert_msg(strstr(state, want) != NULL, "no %s in %s", want, state);
    }
    ck_assert_msg(count(state, "\"have\": 100") == 4, "%s", state);
    free(state);
    for (int i = 0; i < 4; i++)
        tk_stop(&peers[i], 10000);
    ck_assert_int_eq(tk_stop(&tr, 10000), 0);
    ns_teardown();
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(rm), 0);
}
END_TEST

/* Returns the path of a Chromium to run headless, or NULL. */
static const char *find_chromium(void)
{
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
    static char path[512];
    const char *env = getenv("PATH");
    for (size_t i = 0; i < 3; i++)
        for (const char *d = env; d != NULL && *d != '\0';) {
            size_t n = strcspn(d, ":");
            snprintf(path, sizeof path, "%.*s/%s", (int)n, d, names[i]);
            if (access(path, X_OK) == 0)
                return path;
            d += n + (d[n] == ':');
        }
    return NULL;
}

/* Takes a screenshot of url into png with headless Chromium; returns its log (caller frees). */
static char *screenshot(const char *chromium, const char *url, const char *png, const char *dir)
{
    char shot[600], data[600];
    snprintf(shot, sizeof shot, "--screenshot=%s", png);
    snprintf(data, sizeof data, "--user-data-dir=%s", dir);
    /* A proxy that does not exist for everything but the page's own server: any request the
     * page made elsewhere would fail and show in the log. */
    char *argv[] = {(char *)chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--window-size=1280,720",
                    "--enable-logging=stderr",
                    "--v=0",
                    "--proxy-server=127.0.0.1:9",
                    "--proxy-bypass-list=127.0.0.1",
                    "--virtual-time-budget=1500",
                    data,
                    shot,
                    (char *)url,
                    NULL};
    static struct tk_proc c;
    memset(&c, 0, sizeof c);
    c.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&c, argv), 0);
    tk_read_all(&c, 90000);
    tk_wait_exit(&c, 10000);
    return strdup(c.out);
}

/* The page in headless Chromium: it loads offline with no console message, and a second
 * screenshot a moment later differs, since the swarm moved on. */
START_TEST(swarm_web_page_renders_in_chromium)
{
    const char *why = missing_piece();
    if (why != NULL)
        tk_skip("%s", why);
    const char *chromium = find_chromium();
    if (chromium == NULL)
        tk_skip("no chromium to load the page");
    char tmp[512];
    private_tmpdir(tmp, sizeof tmp);
    /* Slow on purpose: about 40 s, so the swarm is still running for both screenshots. */
    char *argv[] = {
        prog(),      "swarm", "--peers",        "3", "--size",  "4M",    "--seed-up", "128K",
        "--peer-up", "64K",   "--rechoke-secs", "1", "--plain", "--web", "0",         "--timeout",
        "120",       NULL};
    static struct tk_proc p;
    memset(&p, 0, sizeof p);
    p.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&p, argv), 0);
    ck_assert_msg(wait_for_text(&p, "p3 on 127.0.0.13", 30000), "%.300s", p.out);
    int port = web_port(p.out);
    ck_assert_int_gt(port, 0);
    char url[64], a[600], b[600], prof[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    snprintf(a, sizeof a, "%s/a.png", tmp);
    snprintf(b, sizeof b, "%s/b.png", tmp);
    snprintf(prof, sizeof prof, "%s/profile", tmp);
    char *log1 = screenshot(chromium, url, a, prof);
    long long t1 = tk_now_ms();
    while (tk_now_ms() - t1 < 1000)
        tk_wait_readable(p.out_fd, 100); /* a second of the swarm between the two */
    char *log2 = screenshot(chromium, url, b, prof);
    const char *logs[2] = {log1, log2};
    static const char *const bad[] = {"CONSOLE", "Uncaught", "Page load failed", "ERR_PROXY"};
    for (int i = 0; i < 2; i++)
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            const char *hit = strstr(logs[i], bad[k]);
            if (hit != NULL)
                fprintf(stderr, "chromium's log:\n%s\n", logs[i]);
            ck_assert_msg(hit == NULL, "screenshot %d: %.200s", i + 1, hit);
        }
    size_t na = 0, nb = 0;
    char *pa = slurp(a), *pb = slurp(b);
    ck_assert_msg(pa != NULL && pb != NULL, "no screenshot (see chromium's log above)");
    if (pa == NULL || pb == NULL)
        fprintf(stderr, "%s\n", log1);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    fseek(fa, 0, SEEK_END);
    fseek(fb, 0, SEEK_END);
    na = (size_t)ftell(fa);
    nb = (size_t)ftell(fb);
    fclose(fa);
    fclose(fb);
    ck_assert_msg(na > 1000 && nb > 1000, "screenshots of %zu and %zu bytes", na, nb);
    ck_assert_msg(na != nb || memcmp(pa, pb, na < (1u << 20) - 1 ? na : (1u << 20) - 1) != 0,
                  "the page did not change between the screenshots");
    free(pa);
    free(pb);
    free(log1);
    free(log2);
    unlink(a);
    unlink(b);
    kill(p.pid, SIGINT);
    int st = tk_wait_exit(&p, 20000);
    ck_assert_msg(st == 130, "swarm exited with %d after Ctrl-C", st);
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", prof);
    ck_assert_int_eq(system(rm), 0);
    assert_tmpdir_empty(tmp);
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
    tk_add_test(view, swarm_view_piece_map_shades_by_rarity);
    tk_add_test(view, swarm_view_names_by_address);
    tk_add_test(view, swarm_view_plain_output);
    tk_add_test(view, swarm_view_plain_output_says_why);
    tk_add_test(view, swarm_view_terminal_redraws_in_place);
    TCase *tc = tk_tcase(s, "swarm", 180);
    tk_add_test(tc, swarm_bad_options);
    tk_add_test(tc, swarm_six_peers_all_verified);
    tk_add_test(tc, swarm_client_server_mode);
    tk_add_test(tc, swarm_churn_still_finishes);
    tk_add_test(tc, swarm_sigint_stops_every_child);
    tk_add_test(tc, swarm_list_writes_json_list_and_plot);
    TCase *web = tk_tcase(s, "swarm_web", 240);
    tcase_add_unchecked_fixture(web, NULL, ns_teardown_fixture);
    tk_add_test(web, swarm_web_state_json_agrees_with_the_swarm);
    tk_add_test(web, swarm_web_tracker_view);
    tk_add_test(web, swarm_web_tracker_across_namespaces);
    tk_add_test(web, swarm_web_page_renders_in_chromium);
    TCase *rep = tk_tcase(s, "swarm_report", 10);
    tk_add_test(rep, swarm_report_below_bound_is_an_error);
    TCase *ex = tk_tcase(s, "experiment", 300);
    tk_add_test(ex, experiment_bad_usage);
    tk_add_test(ex, experiment_rarest_first_quick);
    tk_add_test(ex, experiment_tit_for_tat_quick);
    tk_add_test(ex, experiment_optimistic_unchoke_quick);
    return s;
}

TK_MAIN(swarm_suite)
