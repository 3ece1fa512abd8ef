/*
 * testlib.c - process and socket helpers for the Check suites.
 */
#include "testlib.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int tk_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

void tk_skip_print(const char *test, const char *fmt, ...)
{
    /* START_TEST(name) makes a function called name_fn; print the test's own name. */
    size_t n = strlen(test);
    if (n > 3 && strcmp(test + n - 3, "_fn") == 0)
        n -= 3;
    va_list ap;
    va_start(ap, fmt);
    printf("SKIP %.*s: ", (int)n, test);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

const char *tk_bin(const char *name)
{
    static char path[4096];
    const char *dir = getenv("TOOLKIT_BIN");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "bin", name);
    return path;
}

long long tk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tk_spawn(struct tk_proc *p, char *const argv[])
{
    int in[2], out[2];
    if (pipe(in) < 0)
        return -1;
    if (pipe(out) < 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (p->merge_stderr)
            dup2(out[1], 2);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        const char *path = strchr(argv[0], '/') ? argv[0] : tk_bin(argv[0]);
        execv(path, argv);
        fprintf(stderr, "tk_spawn: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    /* The test must never die of SIGPIPE when a child exits before reading its input. */
    signal(SIGPIPE, SIG_IGN);
    p->pid = pid;
    p->in_fd = in[1];
    p->out_fd = out[0];
    p->out_len = 0;
    p->out[0] = '\0';
    return 0;
}

int tk_wait_readable(int fd, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - tk_now_ms();
        if (left < 0)
            left = 0;
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r > 0;
    }
}

/* Reads what the child has written, waiting at most until deadline. Returns bytes read, 0 at end
 * of output, -1 on time out or error. */
static ssize_t read_some(struct tk_proc *p, long long deadline)
{
    long long left = deadline - tk_now_ms();
    if (left < 0 || tk_wait_readable(p->out_fd, (int)left) != 1)
        return -1;
    size_t room = sizeof p->out - 1 - p->out_len;
    if (room == 0)
        return -1;
    ssize_t r;
    do
        r = read(p->out_fd, p->out + p->out_len, room);
    while (r < 0 && errno == EINTR);
    if (r > 0) {
        p->out_len += (size_t)r;
        p->out[p->out_len] = '\0';
    }
    return r;
}

int tk_wait_listening(struct tk_proc *p, int timeout_ms)
{
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        const char *line = strstr(p->out, "listening on ");
        if (line != NULL && strchr(line, '\n') != NULL)
            return atoi(line + strlen("listening on "));
        if (read_some(p, deadline) <= 0)
            return -1;
    }
}

int tk_read_all(struct tk_proc *p, int timeout_ms)
{
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        ssize_t r = read_some(p, deadline);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
    }
}

int tk_write(struct tk_proc *p, const char *s)
{
    if (s == NULL) {
        if (p->in_fd >= 0)
            close(p->in_fd);
        p->in_fd = -1;
        return 0;
    }
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(p->in_fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int tk_wait_exit(struct tk_proc *p, int timeout_ms)
{
    /* A child's stdout closes when it exits, so reading to end of output is the event to wait on
     * (poll with a deadline, never a sleep); it also keeps the child from blocking on a full pipe.
     */
    long long deadline = tk_now_ms() + timeout_ms;
    while (p->out_fd >= 0) {
        ssize_t r = read_some(p, deadline);
        if (r == 0)
            break;
        if (r < 0 && tk_now_ms() >= deadline)
            return -1;
        if (r < 0 && p->out_len + 1 >= sizeof p->out)
            p->out_len = 0; /* output larger than we keep: drop what we have and go on draining */
    }
    int status;
    pid_t w;
    do
        w = waitpid(p->pid, &status, 0);
    while (w < 0 && errno == EINTR);
    tk_write(p, NULL);
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->out_fd = -1;
    if (w < 0)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

int tk_stop(struct tk_proc *p, int timeout_ms)
{
    kill(p->pid, SIGTERM);
    int st = tk_wait_exit(p, timeout_ms);
    if (st == -1) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        if (p->out_fd >= 0)
            close(p->out_fd);
        tk_write(p, NULL);
    }
    return st;
}

int tk_count_fds(void)
{
    /* Portable: ask fcntl about each descriptor number instead of listing /proc/self/fd. */
    int n = 0;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = 0; fd < max; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

int tk_connect_port(const char *host, int port)
{
    char portstr[16], err[NET_ERRLEN];
    snprintf(portstr, sizeof portstr, "%d", port);
    return net_connect(host, portstr, err, sizeof err);
}

/* The prefix of every test case tk_tcase() made, so tk_add_test() can check test names. A suite
 * binary builds its cases once, before any test runs, so a small fixed table is enough. */
static struct {
    TCase *tc;
    char prefix[64];
} tk_cases[64];
static int tk_ncases;

TCase *tk_tcase(Suite *s, const char *prefix, double timeout_s)
{
    if (tk_ncases == (int)(sizeof tk_cases / sizeof tk_cases[0]) ||
        strlen(prefix) >= sizeof tk_cases[0].prefix) {
        fprintf(stderr, "tk_tcase: too many test cases, or prefix \"%s\" too long\n", prefix);
        abort();
    }
    TCase *tc = tcase_create(prefix);
    tcase_set_tags(tc, prefix);
    tcase_set_timeout(tc, timeout_s);
    suite_add_tcase(s, tc);
    tk_cases[tk_ncases].tc = tc;
    strcpy(tk_cases[tk_ncases].prefix, prefix);
    tk_ncases++;
    return tc;
}

void tk_add_test(TCase *tc, const TTest *t)
{
    for (int i = 0; i < tk_ncases; i++) {
        if (tk_cases[i].tc != tc)
            continue;
        size_t n = strlen(tk_cases[i].prefix);
        if (strncmp(t->name, tk_cases[i].prefix, n) != 0 || t->name[n] != '_') {
            fprintf(stderr,
                    "tk_add_test: test %s is not named %s_...; the labs would grade it in "
                    "the wrong lab\n",
                    t->name, tk_cases[i].prefix);
            abort();
        }
        tcase_add_test(tc, t);
        return;
    }
    fprintf(stderr, "tk_add_test: %s: the test case was not made by tk_tcase()\n", t->name);
    abort();
}

ssize_t tk_send_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        done += (size_t)w;
    }
    return (ssize_t)done;
}
