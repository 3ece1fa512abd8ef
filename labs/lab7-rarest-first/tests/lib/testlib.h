/*
 * testlib.h - helpers every Check suite of the toolkit shares.
 *
 * - TK_MAIN(suite_fn) writes main() for a suite binary.
 * - tk_skip("reason") ends a test that cannot run on this machine; tests/run-suites.sh counts it.
 * - tk_proc starts one of our programs (found in $TOOLKIT_BIN, default bin/), talks to its stdin
 *   and stdout through pipes, waits for its "listening on PORT" line, and stops it by PID.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs one suite and returns the process exit status (0 when every test passed). */
int tk_run_suite(Suite *s);

#define TK_MAIN(suite_fn)                                                                          \
    int main(void)                                                                                 \
    {                                                                                              \
        return tk_run_suite(suite_fn());                                                           \
    }

void tk_skip_print(const char *test, const char *fmt, ...);

/* Ends the current test as skipped, printing "SKIP test: reason". */
#define tk_skip(...)                                                                               \
    do {                                                                                           \
        tk_skip_print(__func__, __VA_ARGS__);                                                      \
        return;                                                                                    \
    } while (0)

/* Returns the path of one of our programs, e.g. tk_bin("udp_upper_server"), in a static buffer. */
const char *tk_bin(const char *name);

struct tk_proc {
    int merge_stderr; /* set to 1 before tk_spawn to read the child's stderr with its stdout */
    pid_t pid;
    int in_fd;       /* write end of the child's stdin, or -1 once closed */
    int out_fd;      /* read end of the child's stdout */
    char out[65536]; /* everything read from stdout so far, NUL-terminated */
    size_t out_len;
};

/* Starts bin/argv[0] (or argv[0] itself when it contains a '/') with the given NULL-terminated
 * argv. stderr is passed through to the test's own stderr, so a failing program's message shows in
 * the test log, unless merge_stderr is set. Returns 0 or -1. */
int tk_spawn(struct tk_proc *p, char *const argv[]);

/* Reads the child's stdout until a line "listening on PORT" appears; returns PORT, or -1 on end of
 * output or when timeout_ms passes. */
int tk_wait_listening(struct tk_proc *p, int timeout_ms);

/* Reads the child's stdout until it closes or timeout_ms passes; returns 0 on close, -1 on time
 * out. The text is in p->out. */
int tk_read_all(struct tk_proc *p, int timeout_ms);

/* Writes a string to the child's stdin; closes its stdin when s is NULL. */
int tk_write(struct tk_proc *p, const char *s);

/* Sends SIGTERM, waits for the child and returns its exit status, or 128 + signal number when a
 * signal killed it. Waits at most timeout_ms before escalating to SIGKILL (and returns -1). */
int tk_stop(struct tk_proc *p, int timeout_ms);

/* Waits for the child to exit by itself and returns its status as tk_stop does (-1 on time out). */
int tk_wait_exit(struct tk_proc *p, int timeout_ms);

/* Counts the open file descriptors of this process, for leak checks. */
int tk_count_fds(void);

/* Milliseconds on a monotonic clock, for deadlines. */
long long tk_now_ms(void);

/* Connects a TCP socket to 127.0.0.1:port; returns the socket or -1. */
int tk_connect_port(const char *host, int port);

/* Waits until fd is readable; returns 1 readable, 0 on time out, -1 on error. */
int tk_wait_readable(int fd, int timeout_ms);

/* --- Test cases named after a test-name prefix ------------------------------------------------ */

/* Creates a test case named prefix, tags it with the same word, sets its time-out and adds it to s.
 * The labs grade by test-name prefix: lab N runs the test cases whose tags its Makefile lists
 * (CK_INCLUDE_TAGS), so the tag is the one place a test case says which prefix it holds. */
TCase *tk_tcase(Suite *s, const char *prefix, double timeout_s);

/* Adds test t to tc, a test case made by tk_tcase(), after checking that the test is named
 * "PREFIX_...". A test in the wrong case would be graded in the wrong lab, so a mismatch stops the
 * suite before any test runs. */
void tk_add_test(TCase *tc, const TTest *t);

/* Writes all n bytes to fd, looping over short writes: the test side's own writen(), so a test of
 * a server never depends on the student's writen() to send its input. Returns n or -1. */
ssize_t tk_send_all(int fd, const void *buf, size_t n);

#endif
