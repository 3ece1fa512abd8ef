/*
 * udp_upper_server - the textbook's UDPServer, in C.
 *
 * It waits for datagrams and sends each one back to whoever sent it, with the ASCII letters in
 * capitals. There is no connection: every datagram carries its sender's address and port, and
 * recvfrom() hands them to us with the payload, so one socket serves every client.
 */
#include "cli.h"
#include "net.h"
#include "upper.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: udp_upper_server [-p PORT] [-b ADDR] [-v]\n"
    "Answers every UDP datagram with the same bytes, ASCII letters in capitals.\n"
    "  -p, --port PORT   port to listen on (default 12000; 0 picks a free one)\n"
    "  -b, --bind ADDR   address to bind (default: every IPv6 and IPv4 address)\n"
    "  -v, --verbose     print the sender's address and port for every datagram\n"
    "  -h, --help        show this help\n"
    "Prints \"listening on PORT\" once ready; stops cleanly on Ctrl-C or SIGTERM.\n";

/* The largest UDP payload over IPv4: 65535 minus the 8-byte UDP and 20-byte IP headers. */
enum { MAX_DATAGRAM = 65507 };

/* Answers every datagram that arrives on fd until a stop is requested. Returns 0 after a stop,
 * -1 when the socket fails. */
static int serve(int fd, int verbose)
{
    /* TODO(lab1): write serve(). README.md says what it must do. */
    (void)fd;
    (void)verbose;
    return -1;
}

int main(int argc, char **argv)
{
    struct server_opts o;
    int rc = cli_server_opts(argc, argv, usage, 0, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    char err[NET_ERRLEN] = "";
    int fd = net_listen(o.bind, o.port, SOCK_DGRAM, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "udp_upper_server: %s\n", err);
        return 1;
    }
    /* Non-blocking: recvfrom() must never wait where a stop request cannot wake it. */
    if (net_set_nonblocking(fd) < 0) {
        fprintf(stderr, "udp_upper_server: %s\n", strerror(errno));
        close(fd);
        return 1;
    }
    cli_catch_stop_signals();
    cli_announce_listening(fd);
    rc = serve(fd, o.verbose);
    if (rc < 0)
        fprintf(stderr, "udp_upper_server: serve() returned -1 (%s): the server stops\n",
                strerror(errno));
    close(fd);
    return rc < 0 ? 1 : 0;
}
