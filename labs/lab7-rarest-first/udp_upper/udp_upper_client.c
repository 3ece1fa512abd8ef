/*
 * udp_upper_client - the textbook's UDPClient, made to survive a real network.
 *
 * Each line of standard input goes out as one datagram and the client prints the reply. UDP may
 * lose a datagram, deliver it twice or late, and anyone may send us one, so the client:
 * - waits for a reply only so long, then sends again, doubling the wait each time;
 * - ignores datagrams that do not come from the server's address;
 * - ignores replies that do not answer the current line (a late answer to an earlier try).
 * The wire format stays the textbook's: the bare line, no sequence number. A reply answers a line
 * when it equals that line in capitals, which is exactly what the server sends.
 */
#include "cli.h"
#include "clock.h"
#include "net.h"
#include "upper.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: udp_upper_client [--timeout-ms MS] [--retries N] HOST PORT\n"
    "Sends each line of standard input to an uppercase server as one UDP datagram and prints\n"
    "each reply. A line with no reply is sent again after MS milliseconds (default 1000),\n"
    "doubling the wait each time, up to N more times (default 3); then it is reported lost.\n"
    "Exits with status 1 if any line was lost or refused.\n";

/* The largest UDP payload over IPv4 (65535 minus 8 bytes of UDP header and 20 of IP header). */
enum { MAX_DATAGRAM = 65507 };

struct client {
    int fd;
    struct sockaddr_storage server;
    socklen_t serverlen;
    long timeout_ms;
    long retries;
    char reply[MAX_DATAGRAM + 1];
};

/* Waits up to wait_ms for the reply to the current line, whose expected text is want[0..len).
 * Returns 1 when it arrived, 0 on time out, -1 on error. Stray datagrams do not reset the clock:
 * the deadline is fixed when we start waiting. */
static int await_reply(struct client *c, const char *want, size_t len, long wait_ms)
{
    /* clock_ms() reads a clock that never jumps (see common/clock.h). */
    uint64_t deadline = clock_ms() + (uint64_t)wait_ms;
    for (;;) {
        uint64_t now = clock_ms();
        if (now >= deadline)
            return 0;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;

        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n =
            recvfrom(c->fd, c->reply, sizeof c->reply, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            /* An ICMP "port unreachable" for an earlier datagram can surface here as
             * ECONNREFUSED on some systems; it is no reason to stop waiting. */
            if (errno == EINTR || errno == ECONNREFUSED)
                continue;
            return -1;
        }
        if (!net_same_addr((struct sockaddr *)&from, (struct sockaddr *)&c->server))
            continue; /* not from the server: anyone can send us a datagram */
        if ((size_t)n != len || memcmp(c->reply, want, len) != 0)
            continue; /* a late or duplicated answer to an earlier line */
        return 1;
    }
}

/* Sends one line and prints its reply, retrying on time out. Returns 1 when answered, 0 when
 * lost, -1 on a socket error. */
static int exchange(struct client *c, const char *line, size_t len, char *want)
{
    memcpy(want, line, len);
    upper_ascii(want, len);
    long wait = c->timeout_ms;
    for (long attempt = 0; attempt <= c->retries; attempt++) {
        if (sendto(c->fd, line, len, 0, (struct sockaddr *)&c->server, c->serverlen) < 0)
            return -1;
        int r = await_reply(c, want, len, wait);
        if (r != 0) {
            if (r > 0) {
                fwrite(c->reply, 1, len, stdout);
                putchar('\n');
                fflush(stdout);
            }
            return r;
        }
        wait *= 2; /* exponential back-off: a congested network gets more time, not more load */
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"timeout-ms", required_argument, NULL, 't'},
        {"retries", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct client c; /* static only because the reply buffer is 64 KiB */
    c.timeout_ms = 1000;
    c.retries = 3;
    int opt;
    while ((opt = getopt_long(argc, argv, "t:r:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (cli_parse_long(optarg, 1, 600000, &c.timeout_ms) < 0) {
                fprintf(stderr, "udp_upper_client: bad --timeout-ms '%s': expected 1 to 600000\n",
                        optarg);
                return 2;
            }
            break;
        case 'r':
            if (cli_parse_long(optarg, 0, 30, &c.retries) < 0) {
                fprintf(stderr, "udp_upper_client: bad --retries '%s': expected 0 to 30\n", optarg);
                return 2;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "udp_upper_client: expected HOST and PORT\n%s", usage);
        return 2;
    }
    const char *host = argv[optind], *port = argv[optind + 1];
    if (!cli_valid_port(port) || strcmp(port, "0") == 0) {
        fprintf(stderr, "udp_upper_client: bad port '%s': expected a number from 1 to 65535\n",
                port);
        return 2;
    }

    char err[NET_ERRLEN] = "";
    c.fd = net_udp_socket(host, port, &c.server, &c.serverlen, err, sizeof err);
    if (c.fd < 0) {
        fprintf(stderr, "udp_upper_client: %s\n", err);
        return 1;
    }

    char *line = NULL, *want = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, failed = 0;
    int status = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            len--; /* the textbook sends the line without its newline */
        if (len > MAX_DATAGRAM) {
            fprintf(stderr,
                    "udp_upper_client: line %ld is %zd bytes; one UDP datagram carries at most "
                    "%d, so it was not sent\n",
                    lineno, len, MAX_DATAGRAM);
            failed++;
            continue;
        }
        char *grown = realloc(want, (size_t)len + 1);
        if (grown == NULL) {
            fprintf(stderr, "udp_upper_client: out of memory\n");
            status = 1;
            break;
        }
        want = grown;
        int r = exchange(&c, line, (size_t)len, want);
        if (r < 0) {
            fprintf(stderr, "udp_upper_client: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (r == 0) {
            fprintf(stderr, "udp_upper_client: no reply to line %ld after %ld tries; it is lost\n",
                    lineno, c.retries + 1);
            failed++;
        }
    }
    free(line);
    free(want);
    close(c.fd);
    return status != 0 || failed > 0 ? 1 : 0;
}
