/*
 * check_labs.c - the meta-tests of the lab handouts, counted in `make check` like any other test.
 *
 * One test per lab in tools/labgen/labs.conf. Each shells out to tools/labgen/metatest.sh, which
 * copies the lab folder out of the tree, builds its starter with -Werror, checks that every test
 * the lab targets fails on the starter while the earlier labs' tests pass, and that the generated
 * solution passes them all (`make labs-check` runs the same script alone).
 */
#include "testlib.h"

#include <stdio.h>
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
    snprintf(cmd, sizeof cmd, "sh tools/labgen/metatest.sh %d 2>&1", lab);
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

static Suite *labs_suite(void)
{
    Suite *s = suite_create("labs");
    TCase *tc = tk_tcase(s, "labs", 600);
    int n = 0;
    while (lab_number(n) > 0)
        n++;
    if (n == 0)
        n = 1; /* one test that skips, so a missing labs.conf is reported rather than silent */
    tcase_add_loop_test(tc, labs_starter_fails_and_solution_passes, 0, n);
    return s;
}

TK_MAIN(labs_suite)
