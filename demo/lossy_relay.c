/*
 * lossy_relay - a UDP relay for the socket demo that loses the datagrams it is told to lose.
 *
 *   lossy_relay --to PORT [--port PORT] [--drop-requests N,N...] [--drop-replies N,N...]
 *
 * It listens on 127.0.0.1 (--port, default 0: a free port, printed as "listening on PORT"),
 * passes every datagram from its client to the server at 127.0.0.1:--to, and every answer back
 * to the client, except the requests and replies whose numbers (1 is the first of each) are
 * listed: those it drops, the way a congested router would. It prints one line per datagram, so
 * a lecture sees the loss, the client's retry and the server's second answer as they happen.
 * It stops on SIGINT or SIGTERM.
 *
 * A demo tool, not a router: it serves one client at a time (replies go to whoever sent the last
 * request), on IPv4 loopback only. The tests use tests/lib/udprelay.c, which can also delay,
 * reorder and forge datagrams.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MAX_LISTED = 32, MAX_DATAGRAM = 65507, SHOW = 40 };

static volatile sig_atomic_t stop;

/* Asks the loop to end; poll() returns EINTR because the handler is installed without
 * SA_RESTART. */
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Parses "3,5,9" into list; returns the count, or -1 on anything that is not that. */
static int parse_list(const char *s, long *list)
{
    int n = 0;
    while (*s != '\0') {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || n == MAX_LISTED || (*end != ',' && *end != '\0'))
            return -1;
        list[n++] = v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

/* Parses a port number from 0 to 65535; returns -1 when s is not one. */
static int parse_port(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return end == s || *end != '\0' || v < 0 || v > 65535 ? -1 : (int)v;
}

static int listed(const long *list, int n, long v)
{
    for (int i = 0; i < n; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

/* Prints one datagram's fate: its direction and number, the start of its text, and what the
 * relay did with it. */
static void say(const char *what, long num, const char *buf, ssize_t len, const char *fate)
{
    int shown = len > SHOW ? SHOW : (int)len;
    printf("%s %ld \"%.*s%s\" %s\n", what, num, shown, buf, len > SHOW ? "..." : "", fate);
    fflush(stdout);
}

/* Returns a UDP socket bound to 127.0.0.1:port, or -1. */
static int udp_on_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static const char usage[] =
    "usage: lossy_relay --to PORT [--port PORT] [--drop-requests N,N...] [--drop-replies N,N...]\n"
    "Relays UDP datagrams between one client and the server at 127.0.0.1:PORT, dropping the\n"
    "requests and replies listed by number (1 is the first).\n";

int main(int argc, char **argv)
{
    int port = 0, to = -1, ndrop_req = 0, ndrop_rep = 0;
    long drop_req[MAX_LISTED], drop_rep[MAX_LISTED];
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = v != NULL;
        if (ok && strcmp(o, "--to") == 0)
            ok = (to = parse_port(v)) > 0;
        else if (ok && strcmp(o, "--port") == 0)
            ok = (port = parse_port(v)) >= 0;
        else if (ok && strcmp(o, "--drop-requests") == 0)
            ok = (ndrop_req = parse_list(v, drop_req)) >= 0;
        else if (ok && strcmp(o, "--drop-replies") == 0)
            ok = (ndrop_rep = parse_list(v, drop_rep)) >= 0;
        else
            ok = 0;
        if (!ok) {
            fprintf(stderr, "lossy_relay: bad argument '%s'\n%s", o, usage);
            return 2;
        }
        i++;
    }
    if (to < 0) {
        fprintf(stderr, "lossy_relay: --to PORT is required\n%s", usage);
        return 2;
    }

    /* front: where the client sends; back: our own socket towards the server, so the server's
     * answers come to it and nowhere else. */
    int front = udp_on_loopback(port), back = udp_on_loopback(0);
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((unsigned short)to)};
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (front < 0 || back < 0 || connect(back, (struct sockaddr *)&server, sizeof server) < 0) {
        fprintf(stderr, "lossy_relay: %s\n", strerror(errno));
        return 1;
    }
    struct sockaddr_in me;
    socklen_t melen = sizeof me;
    if (getsockname(front, (struct sockaddr *)&me, &melen) < 0) {
        fprintf(stderr, "lossy_relay: %s\n", strerror(errno));
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("listening on %d\n", ntohs(me.sin_port));
    fflush(stdout);

    static char buf[MAX_DATAGRAM];
    struct sockaddr_storage client;
    socklen_t clientlen = 0;
    long requests = 0, replies = 0;
    while (!stop) {
        struct pollfd pfd[2] = {{.fd = front, .events = POLLIN}, {.fd = back, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "lossy_relay: poll: %s\n", strerror(errno));
            return 1;
        }
        if (pfd[0].revents & POLLIN) {
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof from;
            ssize_t n = recvfrom(front, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
            if (n >= 0) {
                client = from;
                clientlen = fromlen;
                requests++;
                if (listed(drop_req, ndrop_req, requests)) {
                    say("request", requests, buf, n, "DROPPED on the way to the server");
                } else {
                    say("request", requests, buf, n, "passed");
                    (void)send(back, buf, (size_t)n, 0);
                }
            }
        }
        if (pfd[1].revents & (POLLIN | POLLERR)) {
            /* A refused send to a closed server port surfaces here as ECONNREFUSED: not ours
             * to report, the client will time out as it would on a real network. */
            ssize_t n = recv(back, buf, sizeof buf, 0);
            if (n >= 0 && clientlen > 0) {
                replies++;
                if (listed(drop_rep, ndrop_rep, replies)) {
                    say("reply", replies, buf, n, "DROPPED on the way back");
                } else {
                    say("reply", replies, buf, n, "passed");
                    (void)sendto(front, buf, (size_t)n, 0, (struct sockaddr *)&client, clientlen);
                }
            }
        }
    }
    close(front);
    close(back);
    return 0;
}
