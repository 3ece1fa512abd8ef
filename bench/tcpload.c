/*
 * tcpload - many clients at once against a TCP uppercase server, for `make bench`.
 *
 *   tcpload PORT CONCURRENCY CLIENTS LINES
 *
 * Runs CLIENTS clients on 127.0.0.1, at most CONCURRENCY at a time; each sends LINES lines, reads
 * every reply and checks it is its line in capitals. One thread drives them all with poll(), so a
 * thousand clients need a thousand sockets, not a thousand threads. Prints one line:
 * "tcpload: clients=N lines=L errors=E seconds=S lines_per_s=R".
 */
#include "clock.h"
#include "cli.h"
#include "upper.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
    int fd;
    char *out, *want; /* the lines to send, and the replies they should get */
    size_t out_len, sent, want_len, got;
    char in[4096];
    size_t in_len;
};

static long lines_per_client;
static unsigned long long errors, lines_ok;

/* Starts client number id: a non-blocking connect and its lines. Returns 0 or -1. */
static int start_client(struct client *c, long id, int port)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    size_t cap = (size_t)lines_per_client * 48 + 1;
    c->out = malloc(cap);
    c->want = malloc(cap);
    c->out_len = 0;
    for (long i = 0; i < lines_per_client; i++)
        c->out_len +=
            (size_t)snprintf(c->out + c->out_len, cap - c->out_len, "client %ld line %ld\n", id, i);
    memcpy(c->want, c->out, c->out_len);
    upper_ascii(c->want, c->out_len);
    c->want_len = c->out_len;
    c->sent = c->got = c->in_len = 0;
    return 0;
}

/* Ends a client, counting it as an error unless every reply came back right. */
static void finish_client(struct client *c, int ok)
{
    if (!ok)
        errors++;
    else
        lines_ok += (unsigned long long)lines_per_client;
    close(c->fd);
    c->fd = -1;
    free(c->out);
    free(c->want);
}

/* Moves a client forward after poll() said its socket is ready. */
static void step(struct client *c, short revents)
{
    if (revents & POLLOUT && c->sent < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->sent, c->out_len - c->sent, 0);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            finish_client(c, 0);
            return;
        }
        if (w > 0)
            c->sent += (size_t)w;
        if (c->sent == c->out_len)
            shutdown(c->fd, SHUT_WR); /* all lines sent: half-close, as tcp_upper_client does */
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r = read(c->fd, c->in, sizeof c->in);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (r <= 0) {
            finish_client(c, c->got == c->want_len);
            return;
        }
        if (c->got + (size_t)r > c->want_len || memcmp(c->in, c->want + c->got, (size_t)r) != 0) {
            finish_client(c, 0);
            return;
        }
        c->got += (size_t)r;
    }
}

int main(int argc, char **argv)
{
    long port, conc, clients;
    if (argc != 5 || cli_parse_long(argv[1], 1, 65535, &port) < 0 ||
        cli_parse_long(argv[2], 1, 100000, &conc) < 0 ||
        cli_parse_long(argv[3], 1, 10000000, &clients) < 0 ||
        cli_parse_long(argv[4], 1, 100000, &lines_per_client) < 0) {
        fprintf(stderr, "usage: tcpload PORT CONCURRENCY CLIENTS LINES\n");
        return 2;
    }
    /* A thousand sockets need more than the usual soft limit of 1024 descriptors. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct client *c = calloc((size_t)conc, sizeof *c);
    struct pollfd *pfd = calloc((size_t)conc, sizeof *pfd);
    for (long i = 0; i < conc; i++)
        c[i].fd = -1;
    long started = 0, done = 0;
    double t0 = clock_s();
    while (done < clients) {
        for (long i = 0; i < conc && started < clients; i++)
            if (c[i].fd < 0) {
                if (start_client(&c[i], started, (int)port) < 0)
                    errors++, done++;
                started++;
            }
        for (long i = 0; i < conc; i++) {
            pfd[i].fd = c[i].fd;
            pfd[i].events =
                c[i].fd < 0 ? 0 : (short)(POLLIN | (c[i].sent < c[i].out_len ? POLLOUT : 0));
            pfd[i].revents = 0;
        }
        if (poll(pfd, (nfds_t)conc, 10000) <= 0) {
            fprintf(stderr, "tcpload: no progress for 10 s; giving up\n");
            break;
        }
        for (long i = 0; i < conc; i++)
            if (c[i].fd >= 0 && pfd[i].revents) {
                step(&c[i], pfd[i].revents);
                if (c[i].fd < 0)
                    done++;
            }
    }
    double secs = clock_s() - t0;
    printf("tcpload: clients=%ld lines=%llu errors=%llu seconds=%.3f lines_per_s=%.0f\n", clients,
           lines_ok, errors + (unsigned long long)(clients - done), secs,
           secs > 0 ? (double)lines_ok / secs : 0.0);
    free(c);
    free(pfd);
    return errors == 0 && done == clients ? 0 : 1;
}
