/*
 * tcp_upper_client - the textbook's TCPClient, for any number of lines.
 *
 * It copies standard input to the server and the server's replies to standard output, at the same
 * time: poll() says which side is ready, so a long input never deadlocks against replies that
 * nobody reads. At the end of input it half-closes the connection (shutdown(SHUT_WR)): the server
 * sees end of stream, yet the client can still read every reply that is on its way, until the
 * server closes too.
 */
#include "io.h"
#include "net.h"
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] = "usage: tcp_upper_client HOST PORT\n"
                            "Sends standard input to a TCP uppercase server line by line and\n"
                            "prints the replies. At end of input it half-closes the connection\n"
                            "and prints every reply still on its way.\n";

/* Bytes read from stdin and not yet accepted by the socket. */
struct pending {
    char buf[65536];
    size_t start, end;
};

/* Sends as much of the pending input as the socket takes now. Returns 0, or -1 on an error. */
static int flush_pending(int fd, struct pending *p)
{
    while (p->start < p->end) {
        ssize_t w = send(fd, p->buf + p->start, p->end - p->start, 0);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0; /* the socket buffer is full; poll() tells us when to go on */
            return -1;
        }
        p->start += (size_t)w;
    }
    p->start = p->end = 0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "tcp_upper_client: expected HOST and PORT\n%s", usage);
        return 2;
    }
    if (!cli_valid_port(argv[2]) || strcmp(argv[2], "0") == 0) {
        fprintf(stderr, "tcp_upper_client: bad port '%s': expected a number from 1 to 65535\n",
                argv[2]);
        return 2;
    }
    io_ignore_sigpipe();

    char err[NET_ERRLEN];
    int fd = net_connect(argv[1], argv[2], err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "tcp_upper_client: %s\n", err);
        return 1;
    }
    /* Non-blocking, so a send never waits while replies pile up unread. */
    if (net_set_nonblocking(fd) < 0) {
        fprintf(stderr, "tcp_upper_client: cannot make the socket non-blocking: %s\n",
                strerror(errno));
        close(fd);
        return 1;
    }

    static struct pending in;
    int stdin_open = 1, half_closed = 0, last_was_newline = 1, status = 0;
    char buf[65536];
    for (;;) {
        struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = 0}};
        if (in.start < in.end)
            pfd[0].events |= POLLOUT;
        else if (stdin_open)
            pfd[1].events = POLLIN; /* read more input only once the last has gone out */
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("tcp_upper_client: poll");
            status = 1;
            break;
        }

        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n == 0)
                break; /* the server closed: every reply has arrived */
            if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                fprintf(stderr, "tcp_upper_client: %s\n", strerror(errno));
                status = 1;
                break;
            }
            if (n > 0 && writen(1, buf, (size_t)n) < 0) {
                perror("tcp_upper_client: stdout");
                status = 1;
                break;
            }
        }
        if (pfd[1].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(0, in.buf, sizeof in.buf - 1);
            if (n > 0) {
                in.end = (size_t)n;
                last_was_newline = in.buf[n - 1] == '\n';
            } else if (n == 0 || errno != EINTR) {
                /* End of input. A last line without a newline still gets one, so the server
                 * knows it is a whole line. */
                if (!last_was_newline)
                    in.buf[in.end++] = '\n';
                last_was_newline = 1;
                stdin_open = 0;
            }
        }
        if (in.start < in.end && flush_pending(fd, &in) < 0) {
            fprintf(stderr, "tcp_upper_client: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (!stdin_open && in.start == in.end && !half_closed) {
            shutdown(fd, SHUT_WR); /* half-close: "no more lines", yet replies still come in */
            half_closed = 1;
        }
    }
    close(fd);
    return status;
}
