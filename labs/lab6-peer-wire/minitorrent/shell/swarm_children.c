/*
 * swarm_children.c - the child processes of `minitorrent swarm`: fork + exec, reading their
 * stdout pipes line by line, and stopping them by PID (see swarm_children.h).
 */
#include "swarm_children.h"
#include "cli.h"
#include "clock.h"
#include "swarm_view.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ======================================================================================== */
/* The children's folder                                                                    */
/* ======================================================================================== */

int children_make_folder(struct children *cs)
{
    const char *tmpdir = getenv("TMPDIR");
    snprintf(cs->tmp, sizeof cs->tmp, "%s/minitorrent-swarm.XXXXXX",
             tmpdir != NULL && *tmpdir != '\0' && strlen(tmpdir) < 900 ? tmpdir : "/tmp");
    return mkdtemp(cs->tmp) != NULL ? 0 : -1;
}

/* Removes a folder and everything in it. Our temporary tree holds only files and folders we
 * made, so symbolic links are removed as links and never followed. Returns 0 or -1. */
static int remove_tree(const char *path, int depth)
{
    struct stat sb;
    if (lstat(path, &sb) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    int rc = 0;
    DIR *d = opendir(path);
    if (d != NULL && depth < 16) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[4096];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub ||
                remove_tree(sub, depth + 1) < 0)
                rc = -1;
        }
    }
    if (d != NULL)
        closedir(d);
    if (rmdir(path) < 0)
        rc = -1;
    return rc;
}

int children_remove_folder(const struct children *cs)
{
    return remove_tree(cs->tmp, 0);
}

/* ======================================================================================== */
/* Starting a child                                                                         */
/* ======================================================================================== */

/* Returns a short text for the errno values execv() is likely to fail with. It only returns
 * string literals, so it is safe between fork and exec, where strerror() is not (it may build its
 * text in a shared buffer, or translate it, which can take locks). NULL: none known. */
static const char *exec_error_text(int e)
{
    switch (e) {
    case ENOENT:
        return "no such file";
    case EACCES:
        return "permission denied";
    case ENOEXEC:
        return "not a program this system can run";
    case ENOTDIR:
        return "a folder on its path is not a folder";
    case ELOOP:
        return "too many symbolic links on its path";
    case ENAMETOOLONG:
        return "its name is too long";
    case ENOMEM:
        return "out of memory";
    case E2BIG:
        return "its arguments are too long";
    case ETXTBSY:
        return "the program file is being written";
    default:
        return NULL;
    }
}

/* Writes s (n bytes) to fd whatever the interruptions; async-signal-safe. */
static void write_fully(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Reports a failed exec on stderr (the child's log) with write(2) only: the message's start was
 * formatted by the parent before fork, and the reason is a literal or the errno number written
 * out by hand, digit by digit. */
static void report_exec_failure(const char *prefix, size_t prefix_len, int e)
{
    char tail[64];
    size_t n = 0;
    const char *why = exec_error_text(e);
    if (why != NULL) {
        while (why[n] != '\0' && n < sizeof tail - 2) {
            tail[n] = why[n];
            n++;
        }
    } else {
        static const char unknown[] = "error number ";
        for (size_t k = 0; unknown[k] != '\0'; k++)
            tail[n++] = unknown[k];
        char digits[12];
        size_t d = 0;
        unsigned v = e < 0 ? 0u : (unsigned)e;
        do
            digits[d++] = (char)('0' + v % 10);
        while ((v /= 10) != 0 && d < sizeof digits);
        while (d > 0)
            tail[n++] = digits[--d];
    }
    tail[n++] = '\n';
    write_fully(2, prefix, prefix_len);
    write_fully(2, tail, n);
}

int child_start(const struct children *cs, struct child *ch, const char *path, char *const argv[],
                char *err, size_t errlen)
{
    int p[2];
    char logpath[1100];
    snprintf(logpath, sizeof logpath, "%s/%s.log", cs->tmp, ch->name);
    /* Everything the child might print is formatted here, before fork: see below. */
    char failmsg[1200];
    int fl = snprintf(failmsg, sizeof failmsg, "minitorrent swarm: cannot run %s: ", path);
    size_t failmsg_len = fl < 0 ? 0 : (size_t)fl < sizeof failmsg ? (size_t)fl : sizeof failmsg - 1;
    if (pipe(p) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    /* The read end must not leak into later children: one that kept a copy would hold the pipe
     * open and we would never see end of file when this child dies. */
    if (fcntl(p[0], F_SETFD, FD_CLOEXEC) < 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    /* Whatever stdout holds would otherwise reach the terminal after the child's start. stderr
     * is unbuffered, so it holds nothing; and the child never flushes stdio anyway (it execs or
     * calls _exit). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /*
         * In the child, until exec, only async-signal-safe calls (POSIX lists them under
         * "Signal Concepts"): fork copied one thread of a process that may have more, so a lock
         * held by another thread at the fork (inside malloc, stdio or strerror) stays locked
         * here for ever. So no printf, no malloc, no strerror: setpgid, signal, open, dup2,
         * execv, write and _exit are all on the list.
         *
         * A process group of its own keeps the terminal's Ctrl-C away from it; the parent stops
         * it instead.
         */
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in >= 0)
            dup2(in, 0);
        dup2(p[1], 1);
        if (log >= 0)
            dup2(log, 2);
        execv(path, argv);
        report_exec_failure(failmsg, failmsg_len, errno);
        _exit(127);
    }
    close(p[1]);
    ch->pid = pid;
    ch->out_fd = p[0];
    ch->len = 0;
    ch->port = 0;
    ch->exited = false;
    ch->killed_by_us = false;
    return 0;
}

/* ======================================================================================== */
/* Reading what a child prints                                                              */
/* ======================================================================================== */

/* Returns the port of a "listening on PORT" line, which every server of the toolkit prints once
 * it accepts connections, or 0 for any other line. swarm_view.c parses every line a child
 * prints, so this asks it rather than read the line a second way. */
static int listening_port(const char *line)
{
    struct swarm_status scratch = {0};
    int port = 0;
    return swarm_parse_line(line, &scratch, &port) == SWARM_LINE_LISTENING ? port : 0;
}

bool child_read(struct child *ch, child_line_fn *fn, void *ctx)
{
    ssize_t got;
    do
        got = read(ch->out_fd, ch->buf + ch->len, sizeof ch->buf - 1 - ch->len);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        child_close(ch);
        return false;
    }
    ch->len += (size_t)got;
    ch->buf[ch->len] = '\0';
    char *start = ch->buf, *nl;
    while ((nl = strchr(start, '\n')) != NULL) {
        *nl = '\0';
        if (ch->port == 0)
            ch->port = listening_port(start);
        fn(ctx, ch, start);
        start = nl + 1;
    }
    ch->len -= (size_t)(start - ch->buf);
    memmove(ch->buf, start, ch->len);
    /* A line longer than the buffer is not from a well-behaved child; drop it rather than
     * stall. */
    if (ch->len == sizeof ch->buf - 1)
        ch->len = 0;
    return true;
}

int child_wait_listening(struct child *ch, double timeout_s, child_line_fn *fn, void *ctx)
{
    double deadline = clock_s() + timeout_s;
    while (ch->port == 0) {
        if (cli_stop_requested || ch->out_fd < 0 || clock_s() >= deadline)
            return -1;
        struct pollfd pfd = {.fd = ch->out_fd, .events = POLLIN};
        int left = (int)((deadline - clock_s()) * 1000) + 1;
        if (poll(&pfd, 1, left) > 0)
            child_read(ch, fn, ctx);
    }
    return 0;
}

/* ======================================================================================== */
/* Stopping children                                                                        */
/* ======================================================================================== */

bool child_reap(struct child *ch)
{
    if (ch->pid <= 0 || ch->exited)
        return true;
    pid_t r = waitpid(ch->pid, &ch->wstatus, WNOHANG);
    if (r == ch->pid || (r < 0 && errno == ECHILD)) {
        ch->exited = true;
        return true;
    }
    return false;
}

void child_close(struct child *ch)
{
    if (ch->out_fd >= 0)
        close(ch->out_fd);
    ch->out_fd = -1;
}

/* SIGKILL cannot be caught: the child says goodbye to nobody, which is what a crash or a pulled
 * cable looks like to the others. */
void child_kill(struct child *ch)
{
    kill(ch->pid, SIGKILL);
    ch->killed_by_us = true;
    while (waitpid(ch->pid, &ch->wstatus, 0) < 0 && errno == EINTR)
        ;
    ch->exited = true;
    child_close(ch);
}

/* A second Ctrl-C cannot cut this short: the handler only sets cli_stop_requested again, and
 * nothing here looks at it. */
void children_stop(struct child *list, size_t n, double grace_s)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].pid > 0 && !child_reap(&list[i]))
            kill(list[i].pid, SIGTERM);
    double deadline = clock_s() + grace_s;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < n; i++)
            all &= child_reap(&list[i]);
        if (all || clock_s() >= deadline)
            break;
        /* Drain their output so no child blocks writing to a full pipe while it shuts down,
         * and wait on the pipes (which close as the children exit) rather than sleeping. The
         * array holds more pipes than a swarm has children (cmd_swarm.c starts at most 123). */
        struct pollfd pfd[128];
        nfds_t np = 0;
        for (size_t i = 0; i < n && np < sizeof pfd / sizeof pfd[0]; i++)
            if (list[i].out_fd >= 0)
                pfd[np++] = (struct pollfd){.fd = list[i].out_fd, .events = POLLIN};
        poll(pfd, np, 20);
        for (nfds_t k = 0; k < np; k++) {
            if (pfd[k].revents == 0)
                continue;
            char junk[4096];
            if (read(pfd[k].fd, junk, sizeof junk) <= 0)
                for (size_t i = 0; i < n; i++)
                    if (list[i].out_fd == pfd[k].fd)
                        child_close(&list[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (list[i].pid > 0 && !list[i].exited) {
            kill(list[i].pid, SIGKILL);
            while (waitpid(list[i].pid, &list[i].wstatus, 0) < 0 && errno == EINTR)
                ;
            list[i].exited = true;
        }
        child_close(&list[i]);
    }
}

/* ======================================================================================== */
/* Saying how a child ended                                                                 */
/* ======================================================================================== */

const char *child_exit_text(const struct child *ch, char *buf, size_t cap)
{
    if (WIFEXITED(ch->wstatus))
        snprintf(buf, cap, "exit status %d", WEXITSTATUS(ch->wstatus));
    else if (WIFSIGNALED(ch->wstatus))
        snprintf(buf, cap, "killed by signal %d", WTERMSIG(ch->wstatus));
    else
        snprintf(buf, cap, "status %d", ch->wstatus);
    return buf;
}

/* The log can be long (a sanitizer's report); only its last four lines are kept while it is
 * read, and those are where a program says why it stopped. */
void child_show_log_tail(const struct children *cs, const struct child *ch, FILE *out)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s.log", cs->tmp, ch->name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char lines[4][256];
    int n = 0;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        memcpy(lines[n % 4], line, sizeof line);
        n++;
    }
    fclose(f);
    for (int i = n > 4 ? n - 4 : 0; i < n; i++)
        fprintf(out, "    %s: %s", ch->name, lines[i % 4]);
}
