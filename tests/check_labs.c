/*
 * check_labs.c - the meta-tests of the lab handouts, counted in `make check` like any other test.
 *
 * One test per lab in tools/labgen/labs.conf. Each shells out to tools/labgen/metatest.sh, which
 * copies the lab folder out of the tree, builds its starter with -Werror, checks that every test
 * the lab targets fails on the starter (which scores 0) while the earlier labs' tests pass, and
 * that the generated solution passes them all, in the plain and the sanitizer builds, for every
 * point. The mutants (a typical student mistake each, which must lose points) take minutes per
 * lab, so they run in `make labs-check`, which CI runs as a step of its own, and not here.
 *
 * One more test writes the student kit and the Gradescope autograder of a lab and runs the
 * autograder's run_autograder in a temporary folder standing in for /autograder: the solution
 * must score every point, the starter none (tools/labgen/autograder-test.sh).
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The labs compile their own code with their own flags, so a sanitizer build of the toolkit would
 * not test them any differently: only the time would grow. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TK_SANITIZED 1
#endif
#endif

static const char conf[] = "tools/labgen/labs.conf";

/* Returns the number of the i-th lab (0-based) in labs.conf, or -1 past the last. */
static int lab_number(int i)
{
    FILE *f = fopen(conf, "r");
    if (f == NULL)
        return -1;
    char line[512];
    int n = -1, seen = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        int lab;
        if (sscanf(line, "lab %d", &lab) == 1 && seen++ == i) {
            n = lab;
            break;
        }
    }
    fclose(f);
    return n;
}

START_TEST(labs_starter_fails_and_solution_passes)
{
#ifdef TK_SANITIZED
    tk_skip("a sanitizer build: the labs build their own code, so `make labs-check` covers them");
#endif
    if (access(conf, R_OK) != 0 || access("labs", R_OK) != 0)
        tk_skip("%s or labs/ not found (run from the toolkit's top folder)", conf);
    int lab = lab_number(_i);
    ck_assert_msg(lab > 0, "labs.conf has no lab number %d", _i + 1);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "sh tools/labgen/metatest.sh --no-mutants %d 2>&1", lab);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    static char out[16384];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    /* The first line is the verdict, "labN ok: ..." or "labN FAIL: ..."; the rest explains a
     * failure. */
    printf("%.*s\n", (int)strcspn(out, "\n"), out);
    /* Check caps a message near 4 KiB; the whole report is on stdout above. */
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
        printf("%s", out + strcspn(out, "\n"));
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%.2000s", out);
}
END_TEST

/* The lab whose kit and autograder are tested: the first in labs.conf, the quickest to grade. */
START_TEST(labs_autograder_grades_solution_full_and_starter_zero)
{
#ifdef TK_SANITIZED
    tk_skip("a sanitizer build: the labs build their own code, so `make labs-check` covers them");
#endif
    if (access(conf, R_OK) != 0 || access("labs", R_OK) != 0)
        tk_skip("%s or labs/ not found (run from the toolkit's top folder)", conf);
    if (system("command -v python3 >/dev/null 2>&1") != 0)
        tk_skip("python3 is not installed: the test reads the zip and results.json with it");
    int lab = lab_number(0);
    ck_assert_msg(lab > 0, "labs.conf has no lab");

    char cmd[128];
    snprintf(cmd, sizeof cmd, "sh tools/labgen/autograder-test.sh %d 2>&1", lab);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    static char out[8192];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    printf("%s", out);
    ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%.2000s", out);
}
END_TEST

static Suite *labs_suite(void)
{
    Suite *s = suite_create("labs");
    /* Generous: a lab is built and graded twice, in two or three builds, on a loaded machine. */
    TCase *tc = tk_tcase(s, "labs", 1200);
    int n = 0;
    while (lab_number(n) > 0)
        n++;
    if (n == 0)
        n = 1; /* one test that skips, so a missing labs.conf is reported rather than silent */
    tcase_add_loop_test(tc, labs_starter_fails_and_solution_passes, 0, n);
    tk_add_test(tc, labs_autograder_grades_solution_full_and_starter_zero);
    return s;
}

TK_MAIN(labs_suite)
