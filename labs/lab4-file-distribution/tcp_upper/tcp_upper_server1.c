/*
 * tcp_upper_server1 - the textbook's TCPServer, as naive as the book's.
 *
 * It accepts one client, calls recv() once, sends back what arrived in capitals, closes the
 * connection and only then accepts the next client. Two problems follow, and the tests show both:
 * - recv() returns whatever bytes have arrived, not "a message": a line sent in two pieces is
 *   answered in part (tcp_upper_server2 fixes this with a line reader);
 * - while one client is connected and silent, everyone else waits (tcp_upper_server3 fixes this
 *   with a thread per client).
 */
#include "cli.h"
#include "io.h"
#include "net.h"
#include "upper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: tcp_upper_server1 [-p PORT] [-b ADDR] [-v]\n"
    "The textbook's iterative TCP uppercase server: one recv() per client, one client at a time.\n"
    "  -p, --port PORT   port to listen on (default 12000; 0 picks a free one)\n"
    "  -b, --bind ADDR   address to bind (default: every IPv6 and IPv4 address)\n"
    "  -v, --verbose     print each client's address and source port as it comes and goes\n"
    "  -h, --help        show this help\n";

int main(int argc, char **argv)
{
    struct server_opts o;
    int rc = cli_server_opts(argc, argv, usage, 0, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    char err[NET_ERRLEN];
    int lfd = net_listen(o.bind, o.port, SOCK_STREAM, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "tcp_upper_server1: %s\n", err);
        return 1;
    }
    io_ignore_sigpipe();
    cli_catch_stop_signals();
    cli_announce_listening(lfd);

    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        int fd = cli_accept(lfd, (struct sockaddr *)&peer, &peerlen);
        if (fd < 0) {
            if (cli_stop_requested)
                break; /* Ctrl-C or SIGTERM: stop taking clients */
            fprintf(stderr, "tcp_upper_server1: accept: %s\n", strerror(errno));
            continue;
        }
        char who[NET_ADDRSTRLEN];
        if (o.verbose) {
            printf("client %s connected\n",
                   net_addr_str((struct sockaddr *)&peer, who, sizeof who));
            fflush(stdout);
        }
        /* The textbook's bug, kept on purpose: one recv() is taken to be one whole message. */
        char buf[1024];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            upper_ascii(buf, (size_t)n);
            (void)send(fd, buf, (size_t)n, 0);
        }
        close(fd);
        if (o.verbose) {
            printf("client %s left\n", who);
            fflush(stdout);
        }
    }
    close(lfd);
    return 0;
}
