/*
 * check_limiter_swarm.c - the upload limit as a whole swarm sees it: a client-server swarm's
 * distribution time D is never below the lower bound N*F/u_s, run after run.
 *
 * The rates are tiny on purpose. The seed uploads 32 KiB/s, so one 16 KiB block is half a second
 * of its rate: a limiter that let even one block out ahead of its tokens would bring D half a
 * second under the bound of 2 s, far more than any delay of the processes could hide. Each run
 * takes about 2 s.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads the whole of a small file into a malloc'd string (NULL when it cannot be read). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    if (buf != NULL)
        (void)fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

/* Returns the number after "key": in the JSON text j, or -1 when it is not there. */
static double json_number_of(const char *j, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *s = strstr(j, pat);
    return s != NULL ? atof(s + strlen(pat)) : -1;
}

START_TEST(limiter_swarm_client_server_never_beats_the_bound)
{
    char dir[] = "/tmp/check_limiter_swarm.XXXXXX", json[64], prog[4096];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(json, sizeof json, "%s/run.json", dir);
    snprintf(prog, sizeof prog, "%s", tk_bin("minitorrent"));
    for (int run = 1; run <= 3; run++) {
        char *argv[] = {prog,      "swarm",     "--peers",   "2",      "--size", "32K",
                        "--piece", "16K",       "--seed-up", "32K",    "--mode", "client-server",
                        "--plain", "--timeout", "60",        "--json", json,     NULL};
        struct tk_proc p = {.merge_stderr = 1};
        ck_assert_int_eq(tk_spawn(&p, argv), 0);
        int st = tk_wait_exit(&p, 90000);
        if (st == -1)
            tk_stop(&p, 15000);
        char *j = slurp(json);
        ck_assert_msg(j != NULL, "run %d wrote no results (exit %d):\n%s", run, st, p.out);
        double d = json_number_of(j, "distribution_time_s");
        double bound = json_number_of(j, "bound_s");
        /* N*F/u_s = 2 x 32 KiB / (32 KiB/s): the server uploads both copies. */
        ck_assert_msg(bound > 1.9999 && bound < 2.0001, "run %d: bound %f s", run, bound);
        ck_assert_msg(strstr(j, "\"below_bound\": false") != NULL && d >= bound,
                      "run %d: D = %.3f s is below the bound %.3f s: the seed sent faster than "
                      "its upload limit\n%s",
                      run, d, bound, p.out);
        /* And the limit is a limit, not a brake: the seed keeps up its rate, give or take the
         * start of the processes. */
        ck_assert_msg(d < 2 * bound, "run %d: D = %.3f s for a bound of %.3f s", run, d, bound);
        ck_assert_msg(st == 0, "run %d: swarm exited with %d:\n%s", run, st, p.out);
        free(j);
        unlink(json);
    }
    rmdir(dir);
}
END_TEST

static Suite *limiter_swarm_suite(void)
{
    Suite *s = suite_create("limiter_swarm");
    TCase *tc = tk_tcase(s, "limiter_swarm", 300);
    tk_add_test(tc, limiter_swarm_client_server_never_beats_the_bound);
    return s;
}

TK_MAIN(limiter_swarm_suite)
