/*
 * check_swarm_children.c - starting the children of `minitorrent swarm`: between fork and exec
 * the child makes only async-signal-safe calls.
 *
 * fork() copies only the calling thread. If another thread held a lock inside stdio, malloc or
 * strerror at that moment, the child inherits the lock held by nobody, and its first printf may
 * wait for ever. glibc happens to reset the stdio locks in the child, so a deadlock cannot be
 * staged here reliably; instead this test replaces fprintf and vfprintf for the whole test program
 * (the program's own definitions win over the C library's) and records any call made in a child
 * process, which is where the old code printed.
 */
#include "swarm_children.h"
#include "testlib.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The test's own process id; a stdio call from any other process is from a forked child. */
static pid_t test_pid;

/* Notes, with write(2) only, that stdio was used in a child, in that child's stderr (its log). */
static void note_if_child(const char *what)
{
    if (test_pid == 0 || getpid() == test_pid)
        return;
    static const char pre[] = "[unsafe call between fork and exec: ";
    ssize_t w = write(2, pre, sizeof pre - 1);
    w = write(2, what, strlen(what));
    w = write(2, "]\n", 2);
    (void)w;
}

/* Replaces the C library's vfprintf for this program, recording calls from a child. */
int vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
    note_if_child("vfprintf");
    char buf[2048];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n > 0)
        fwrite(buf, 1, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, f);
    return n;
}

/* Replaces the C library's fprintf for this program, recording calls from a child. */
int fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
    note_if_child("fprintf");
    va_list ap;
    va_start(ap, fmt);
    char buf[2048];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        fwrite(buf, 1, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, f);
    return n;
}

/* Reads a whole small file into buf (NUL-terminated); returns its length or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

/* A child whose program does not exist: it reports so in its log, exits with 127, and on the way
 * calls nothing from stdio. */
START_TEST(swarm_children_failed_exec_is_reported_safely)
{
    test_pid = getpid();
    struct children cs;
    ck_assert_int_eq(children_make_folder(&cs), 0);
    struct child ch = {.out_fd = -1};
    snprintf(ch.name, sizeof ch.name, "ghost");
    char *argv[] = {"ghost", NULL};
    char err[256];
    ck_assert_msg(child_start(&cs, &ch, "/nonexistent/minitorrent-ghost", argv, err, sizeof err) ==
                      0,
                  "%s", err);
    /* The pipe reaches end of file when the child exits. */
    long long deadline = tk_now_ms() + 10000;
    while (ch.out_fd >= 0) {
        ck_assert_msg(tk_now_ms() < deadline, "the child did not exit");
        struct pollfd p = {.fd = ch.out_fd, .events = POLLIN};
        poll(&p, 1, 100);
        child_read(&ch, NULL, NULL);
    }
    while (!child_reap(&ch)) {
        ck_assert_msg(tk_now_ms() < deadline, "the child was never reaped");
        struct pollfd none;
        poll(&none, 0, 10);
    }
    char buf[64];
    ck_assert_str_eq(child_exit_text(&ch, buf, sizeof buf), "exit status 127");

    char logpath[1200], log[4096];
    snprintf(logpath, sizeof logpath, "%s/ghost.log", cs.tmp);
    ck_assert_int_ge(slurp(logpath, log, sizeof log), 0);
    printf("swarm_children_failed_exec_is_reported_safely: the child's log says: %s", log);
    ck_assert_msg(strstr(log, "unsafe call") == NULL, "the child used stdio before exec: %s", log);
    ck_assert_msg(strstr(log, "minitorrent swarm: cannot run /nonexistent/minitorrent-ghost: no "
                              "such file\n") != NULL,
                  "log: %s", log);
    ck_assert_int_eq(children_remove_folder(&cs), 0);
}
END_TEST

static Suite *swarm_children_suite(void)
{
    Suite *s = suite_create("swarm_children");
    TCase *tc = tk_tcase(s, "swarm_children", 30);
    tk_add_test(tc, swarm_children_failed_exec_is_reported_safely);
    return s;
}

TK_MAIN(swarm_children_suite)
