/*
 * cli.c - option parsing and signal handling shared by the servers.
 */
#include "cli.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t cli_stop_requested = 0;

/* The self-pipe: the handler writes into stop_pipe[1], the waits poll stop_pipe[0]. */
static int stop_pipe[2] = {-1, -1};

int cli_parse_long(const char *s, long min, long max, long *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_valid_port(const char *s)
{
    long v;
    return cli_parse_long(s, 0, 65535, &v) == 0;
}

int cli_server_opts(int argc, char **argv, const char *usage, long default_max_clients,
                    struct server_opts *o)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"verbose", no_argument, NULL, 'v'},
        {"max-clients", required_argument, NULL, 'm'},
        {"idle-secs", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->port = "12000"; /* the textbook's port */
    o->bind = NULL;
    o->verbose = 0;
    o->max_clients = default_max_clients;
    o->idle_secs = default_max_clients ? 60 : 0;

    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:b:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (!cli_valid_port(optarg)) {
                fprintf(stderr, "%s: bad port '%s': expected a number from 0 to 65535\n", argv[0],
                        optarg);
                return -1;
            }
            o->port = optarg;
            break;
        case 'b':
            o->bind = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'm':
            if (default_max_clients == 0 ||
                cli_parse_long(optarg, 1, 100000, &o->max_clients) < 0) {
                fprintf(stderr, "%s: %s\n", argv[0],
                        default_max_clients ? "bad --max-clients: expected 1 to 100000"
                                            : "this server has no --max-clients option");
                return -1;
            }
            break;
        case 'i':
            if (default_max_clients == 0 || cli_parse_long(optarg, 1, 86400, &o->idle_secs) < 0) {
                fprintf(stderr, "%s: %s\n", argv[0],
                        default_max_clients ? "bad --idle-secs: expected 1 to 86400"
                                            : "this server has no --idle-secs option");
                return -1;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            fputs(usage, stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
        fputs(usage, stderr);
        return -1;
    }
    return 0;
}

/* Sets the flag and writes a byte into the self-pipe. write() is async-signal-safe; the pipe is
 * non-blocking, so a full pipe (after thousands of signals) drops the byte instead of hanging the
 * handler, and one byte already in it is enough. errno is saved because the handler may run in
 * the middle of code that is about to read it. */
static void on_stop_signal(int sig)
{
    (void)sig;
    int saved = errno;
    cli_stop_requested = 1;
    if (stop_pipe[1] >= 0)
        (void)!write(stop_pipe[1], "", 1);
    errno = saved;
}

/* Makes a descriptor non-blocking and close-on-exec (a child program has no use for the pipe). */
static int pipe_flags(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

/* Creates the self-pipe once, then installs the handler for SIGINT and SIGTERM. */
int cli_catch_stop_signals(void)
{
    int rc = 0;
    if (stop_pipe[0] < 0) {
        int p[2];
        if (pipe(p) == 0 && pipe_flags(p[0]) == 0 && pipe_flags(p[1]) == 0) {
            stop_pipe[0] = p[0];
            stop_pipe[1] = p[1];
        } else {
            rc = -1; /* the waits fall back to looking at the flag every 100 ms */
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: see cli.h */
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
        rc = -1;
    return rc;
}

/* Polls fd and the self-pipe together. The pipe is never drained: once a stop has been requested
 * it stays readable, so every later wait returns at once too. */
int cli_wait_readable(int fd)
{
    for (;;) {
        if (cli_stop_requested)
            return 0;
        struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
                                {.fd = stop_pipe[0], .events = POLLIN}};
        nfds_t n = stop_pipe[0] >= 0 ? 2 : 1;
        int r = poll(pfd, n, n == 2 ? -1 : 100);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue; /* a signal, or the fallback's 100 ms: look at the flag again */
        if (n == 2 && pfd[1].revents != 0)
            return 0;
        if (pfd[0].revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        return 1; /* readable, or an error condition that the caller's next call reports */
    }
}

int cli_accept(int lfd, struct sockaddr *peer, socklen_t *peerlen)
{
    if (net_set_nonblocking(lfd) < 0)
        return -1;
    socklen_t room = *peerlen;
    for (;;) {
        int r = cli_wait_readable(lfd);
        if (r <= 0)
            return -1; /* 0: a stop was requested, and cli_stop_requested says so */
        *peerlen = room;
        int fd = accept(lfd, peer, peerlen);
        if (fd < 0) {
            /* The client left between poll() and accept(), or a signal came: wait again. */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR)
                continue;
            return -1;
        }
        /* On the BSDs and macOS an accepted socket inherits O_NONBLOCK from the listening one;
         * the sessions want a blocking socket. */
        if (net_set_blocking(fd) < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        return fd;
    }
}

int cli_announce_listening(int fd)
{
    int port = net_local_port(fd);
    if (port < 0)
        return -1;
    printf("listening on %d\n", port);
    fflush(stdout);
    return 0;
}
