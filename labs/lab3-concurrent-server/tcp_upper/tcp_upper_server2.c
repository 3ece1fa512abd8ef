/*
 * tcp_upper_server2 - the iterative server with correct framing.
 *
 * Each client may now send any number of newline-terminated lines, in pieces of any size, and gets
 * one reply line per line (see upper_session.c). A client that closes without reading its replies
 * makes our send() fail with EPIPE, which ends that session only: SIGPIPE is ignored.
 * What is still wrong: clients are served one after another, so a client that connects and says
 * nothing holds up everyone. tcp_upper_server3 fixes that.
 */
#include "cli.h"
#include "io.h"
#include "net.h"
#include "upper_session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: tcp_upper_server2 [-p PORT] [-b ADDR] [-v]\n"
    "An iterative TCP uppercase server that reads whole lines: any number per client.\n"
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
        fprintf(stderr, "tcp_upper_server2: %s\n", err);
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
            fprintf(stderr, "tcp_upper_server2: accept: %s\n", strerror(errno));
            continue;
        }
        char who[NET_ADDRSTRLEN];
        net_addr_str((struct sockaddr *)&peer, who, sizeof who);
        if (o.verbose) {
            printf("client %s connected\n", who);
            fflush(stdout);
        }
        if (upper_session(fd) < 0 && o.verbose)
            printf("client %s: %s\n", who, strerror(errno));
        close(fd);
        if (o.verbose) {
            printf("client %s left\n", who);
            fflush(stdout);
        }
    }
    close(lfd);
    return 0;
}
