/*
 * check_trace.c - the upload trace (shell/trace.h) and `minitorrent swarm --trace`.
 *
 * The first tests read and write trace lines and sum them, with no processes. The last runs a
 * small rate-limited swarm with --trace and checks the merged file against the run's own
 * figures: the bytes the traces count as uploaded are exactly the bytes the status lines report,
 * every leecher's trace ends with every piece verified, every copy crossed a socket's byte
 * counter, the tokens left unused obey the token bucket's conservation law, and the report's
 * utilisation is what the file's samples give.
 */
#include "testlib.h"
#include "trace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A sample with every field set to something different, for the round trip. */
static struct trace_sample sample(void)
{
    struct trace_sample s = {.mono_ms = 123456789012ULL,
                             .t_ms = 1200,
                             .up = 98304,
                             .down = 65536,
                             .wire_up = 98421,
                             .allowed = 104857,
                             .unused = 6436,
                             .unchoked = 5,
                             .busy = 2,
                             .idle = 2,
                             .notint = 1,
                             .verified = 17,
                             .inprog = 3,
                             .pick_us = 12,
                             .nq = 5,
                             .q = {3, 0, 0, 4, 0}};
    s.cause = trace_classify(&s);
    return s;
}

START_TEST(trace_line_round_trip)
{
    struct trace_sample s = sample(), back;
    char line[1024];
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(trace_write_sample(f, &s), 0);
    rewind(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    const char *rest = NULL;
    ck_assert_msg(trace_parse_line(line, &back, &rest) == 0, "cannot read back: %s", line);
    ck_assert_ptr_eq(rest, line + 6);
    ck_assert_uint_eq(back.mono_ms, s.mono_ms);
    ck_assert_uint_eq(back.t_ms, s.t_ms);
    ck_assert_uint_eq(back.up, s.up);
    ck_assert_uint_eq(back.down, s.down);
    ck_assert_uint_eq(back.wire_up, s.wire_up);
    ck_assert_uint_eq(back.allowed, s.allowed);
    ck_assert_uint_eq(back.unused, s.unused);
    ck_assert_int_eq(back.cause, TRACE_REQUESTS_WAITING);
    ck_assert_uint_eq(back.unchoked, 5);
    ck_assert_uint_eq(back.busy, 2);
    ck_assert_uint_eq(back.idle, 2);
    ck_assert_uint_eq(back.notint, 1);
    ck_assert_uint_eq(back.verified, 17);
    ck_assert_uint_eq(back.inprog, 3);
    ck_assert_uint_eq(back.pick_us, 12);
    ck_assert_uint_eq(back.nq, 5);
    ck_assert_mem_eq(back.q, s.q, sizeof s.q[0] * 5);
    /* Nobody unchoked: the list is "-". */
    s.nq = s.unchoked = s.busy = s.idle = s.notint = 0;
    f = tmpfile();
    ck_assert_int_eq(trace_write_sample(f, &s), 0);
    rewind(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_ptr_nonnull(strstr(line, " q=-\n"));
    ck_assert_int_eq(trace_parse_line(line, &back, NULL), 0);
    ck_assert_uint_eq(back.nq, 0);
}
END_TEST

START_TEST(trace_bad_lines_are_refused)
{
    static const char good[] =
        "trace mono_ms=5 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 cause=not_interested "
        "unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0 q=0\n";
    struct trace_sample s;
    ck_assert_int_eq(trace_parse_line(good, &s, NULL), 0);
    ck_assert_int_eq(s.cause, TRACE_NOT_INTERESTED);
    /* Each of these differs from the good line in one way. */
    static const char *const bad[] = {
        "status t_ms=1 have=1/2\n",
        "trace t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 cause=not_interested unchoked=1 "
        "busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0 q=0\n", /* no mono_ms */
        "trace mono_ms=-5 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 cause=not_interested "
        "unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0 q=0\n",
        "trace mono_ms=99999999999999999999 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 "
        "cause=not_interested unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0 "
        "q=0\n",
        "trace mono_ms=5 t_ms=1 up=2x down=3 wire_up=4 allowed=5 unused=1 cause=not_interested "
        "unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0 q=0\n",
        "trace mono_ms=5 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 cause=lazy "
        "unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0 q=0\n",
        "trace mono_ms=5 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 cause=not_interested "
        "unchoked=1 busy=0 idle=0 notint=1 verified=4294967296 inprog=0 pick_us=0 q=0\n",
        "trace mono_ms=5 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 cause=not_interested "
        "unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0 q=0,x\n",
        "trace mono_ms=5 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 cause=not_interested "
        "unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 pick_us=0\n", /* no q */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(trace_parse_line(bad[i], &s, NULL) < 0, "accepted bad line %zu: %s", i,
                      bad[i]);
    /* A list of queues longer than a sample holds is refused, not written past its end. */
    char longq[2048];
    int n = snprintf(longq, sizeof longq,
                     "trace mono_ms=5 t_ms=1 up=2 down=3 wire_up=4 allowed=5 unused=1 "
                     "cause=not_interested unchoked=1 busy=0 idle=0 notint=1 verified=7 inprog=0 "
                     "pick_us=0 q=0");
    for (int i = 0; i < TRACE_MAX_Q; i++)
        n += snprintf(longq + n, sizeof longq - (size_t)n, ",1");
    ck_assert_int_lt(trace_parse_line(longq, &s, NULL), 0);
}
END_TEST

START_TEST(trace_cause_order)
{
    struct trace_sample s = {.unused = 10};
    ck_assert_int_eq(trace_classify(&s), TRACE_NOBODY_UNCHOKED);
    s.unchoked = 2;
    s.notint = 2;
    ck_assert_int_eq(trace_classify(&s), TRACE_NOT_INTERESTED);
    s.notint = 1;
    s.idle = 1;
    ck_assert_int_eq(trace_classify(&s), TRACE_NOTHING_REQUESTED);
    s.unchoked = 3;
    s.busy = 1;
    ck_assert_int_eq(trace_classify(&s), TRACE_REQUESTS_WAITING);
    s.unused = 0;
    ck_assert_int_eq(trace_classify(&s), TRACE_BUSY);
    ck_assert_str_eq(trace_cause_name(TRACE_NOTHING_REQUESTED), "nothing_requested");
}
END_TEST

START_TEST(trace_totals_sum_by_cause)
{
    struct trace_totals tt = {0};
    struct trace_sample a = {.up = 100,
                             .wire_up = 110,
                             .allowed = 1000,
                             .unused = 300,
                             .cause = TRACE_NOTHING_REQUESTED,
                             .pick_us = 5};
    struct trace_sample b = {.up = 900,
                             .wire_up = 950,
                             .allowed = 1000,
                             .unused = 100,
                             .cause = TRACE_NOT_INTERESTED,
                             .pick_us = 7};
    struct trace_sample c = {.up = 1000, .wire_up = 1000, .allowed = 1000, .cause = TRACE_BUSY};
    trace_totals_add(&tt, &a);
    trace_totals_add(&tt, &b);
    trace_totals_add(&tt, &c);
    ck_assert_uint_eq(tt.samples, 3);
    ck_assert_uint_eq(tt.up, 2000);
    ck_assert_uint_eq(tt.wire_up, 2060);
    ck_assert_uint_eq(tt.allowed, 3000);
    ck_assert_uint_eq(tt.unused, 400);
    ck_assert_uint_eq(tt.unused_by[TRACE_NOTHING_REQUESTED], 300);
    ck_assert_uint_eq(tt.unused_by[TRACE_NOT_INTERESTED], 100);
    ck_assert_uint_eq(tt.unused_by[TRACE_BUSY], 0);
    ck_assert_uint_eq(tt.pick_us, 12);
    ck_assert(fabs(trace_totals_used_pct(&tt) - 100.0 * 2600 / 3000) < 1e-9);
    struct trace_totals none = {0};
    ck_assert(trace_totals_used_pct(&none) == 0);
}
END_TEST

/* ======================================================================================== */
/* A swarm with --trace                                                                     */
/* ======================================================================================== */

/* Reads the whole of a file into a malloc'd string. */
static char *slurp(const char *path, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, cap);
    if (buf != NULL)
        buf[fread(buf, 1, cap - 1, f)] = '\0';
    fclose(f);
    return buf;
}

/* Reads the number after key in text, or -1. */
static double json_num(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    double v = -1;
    if (p == NULL || sscanf(p + strlen(key), " : %lf", &v) != 1)
        return -1;
    return v;
}

enum { PEERS = 4, PIECES = 32 };

/* What the test sums per peer from the merged file. */
struct per_peer {
    uint64_t allowed, wire, unused, samples;
    uint32_t last_verified;
};

START_TEST(trace_swarm_totals_agree_with_the_report)
{
    char help_argv0[4096];
    snprintf(help_argv0, sizeof help_argv0, "%s", tk_bin("minitorrent"));
    struct tk_proc h = {.merge_stderr = 1};
    char *hargv[] = {help_argv0, "swarm", "--help", NULL};
    ck_assert_int_eq(tk_spawn(&h, hargv), 0);
    tk_read_all(&h, 10000);
    tk_wait_exit(&h, 10000);
    if (strstr(h.out, "--trace") == NULL)
        tk_skip("bin/minitorrent swarm has no --trace option yet");

    char dir[] = "/tmp/check_trace.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char trace[600], json[600];
    snprintf(trace, sizeof trace, "%s/swarm.trace", dir);
    snprintf(json, sizeof json, "%s/swarm.json", dir);
    /* 32 pieces of 64 KiB, every upload limited, so the leechers' tokens can be counted. */
    char *argv[] = {help_argv0, "swarm",   "--peers",   "4",         "--size",    "2M",
                    "--piece",  "64K",     "--seed-up", "2M",        "--peer-up", "1M",
                    "--seed",   "11",      "--plain",   "--timeout", "60",        "--json",
                    json,       "--trace", trace,       NULL};
    struct tk_proc p = {.merge_stderr = 1};
    ck_assert_int_eq(tk_spawn(&p, argv), 0);
    tk_read_all(&p, 90000);
    int st = tk_wait_exit(&p, 20000);
    if (st == -1)
        tk_stop(&p, 15000);
    ck_assert_msg(st == 0, "swarm exited with %d:\n%s", st, p.out);
    ck_assert_ptr_nonnull(strstr(p.out, "trace written to "));

    char *j = slurp(json, 1 << 16);
    ck_assert_ptr_nonnull(j);
    double uploaded = json_num(j, "\"uploaded_bytes\"");
    double used_pct = json_num(j, "\"trace_upload_used_pct\"");
    double d = json_num(j, "\"distribution_time_s\"");
    ck_assert_msg(uploaded > 0 && used_pct >= 0 && d > 0, "%s", j);

    FILE *f = fopen(trace, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    struct per_peer pp[PEERS + 1] = {{0}};
    uint64_t up = 0, down = 0, wire = 0;
    struct trace_totals window = {0};
    int runs = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#') {
            runs++;
            continue;
        }
        char name[16];
        double rel;
        ck_assert_msg(sscanf(line, "trace peer=%15s rel_ms=%lf", name, &rel) == 2, "%s", line);
        /* The peer's own fields follow: the line reads as a sample too. */
        struct trace_sample s;
        ck_assert_msg(trace_parse_line(line, &s, NULL) == 0, "unreadable: %s", line);
        int k = strcmp(name, "seed") == 0 ? 0 : atoi(name + 1);
        ck_assert_msg(k >= 0 && k <= PEERS, "unknown peer %s", name);
        up += s.up;
        down += k > 0 ? s.down : 0;
        wire += s.wire_up;
        pp[k].allowed += s.allowed;
        pp[k].wire += s.wire_up;
        pp[k].unused += s.unused;
        pp[k].samples++;
        pp[k].last_verified = s.verified;
        if (k > 0 && rel > 100 * d && rel <= 900 * d)
            trace_totals_add(&window, &s);
    }
    fclose(f);
    ck_assert_int_eq(runs, 1);
    /* Every block any peer sent is in some peer's trace, exactly once. */
    ck_assert_msg((double)up == uploaded, "the traces count %llu bytes up, the report %.0f",
                  (unsigned long long)up, uploaded);
    /* Every leecher received the file at least once. */
    ck_assert_msg(down >= (uint64_t)PEERS * 2 * 1048576 && down <= up,
                  "the leechers kept %llu bytes of %llu sent", (unsigned long long)down,
                  (unsigned long long)up);
    /* Every copy crossed some socket. (The wire need not carry every block counted up: a block
     * still in an outbox when the swarm stops the peers was counted but never sent.) */
    ck_assert_msg(wire >= (uint64_t)PEERS * 2 * 1048576, "%llu bytes on the wire for %d copies",
                  (unsigned long long)wire, PEERS);
    for (int k = 0; k <= PEERS; k++) {
        ck_assert_msg(pp[k].samples >= 5, "peer %d has %llu samples", k,
                      (unsigned long long)pp[k].samples);
        ck_assert_msg(pp[k].last_verified == PIECES, "peer %d ends with %u pieces", k,
                      pp[k].last_verified);
        /* Tokens in = tokens out + tokens lost + what the bucket holds at the end, which is
         * between a send on credit and the bucket's size (a tenth of a second). */
        double slack = (double)pp[k].allowed - (double)pp[k].wire - (double)pp[k].unused;
        double cap = k == 0 ? 2 * 104857.6 : 104857.6;
        ck_assert_msg(slack <= cap + 1 && slack >= -(cap + 65536),
                      "peer %d: %llu allowed, %llu sent, %llu unused: %.0f unaccounted", k,
                      (unsigned long long)pp[k].allowed, (unsigned long long)pp[k].wire,
                      (unsigned long long)pp[k].unused, slack);
    }
    /* The report's figure is what the file's own samples give. */
    ck_assert_msg(window.samples > 0, "no leecher sample inside 10-90 %% of D = %.2f s", d);
    ck_assert_msg(fabs(trace_totals_used_pct(&window) - used_pct) < 0.01,
                  "the file gives %.3f %% used, the report %.3f %%", trace_totals_used_pct(&window),
                  used_pct);
    char said[64];
    snprintf(said, sizeof said, "of D: %.1f %% of their limit used", used_pct);
    ck_assert_msg(strstr(p.out, said) != NULL, "no \"%s\" in:\n%s", said, p.out);
    free(j);
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(rm), 0);
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tk_tcase(s, "trace", 120);
    tk_add_test(tc, trace_line_round_trip);
    tk_add_test(tc, trace_bad_lines_are_refused);
    tk_add_test(tc, trace_cause_order);
    tk_add_test(tc, trace_totals_sum_by_cause);
    tk_add_test(tc, trace_swarm_totals_agree_with_the_report);
    return s;
}

TK_MAIN(trace_suite)
