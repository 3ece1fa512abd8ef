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
    static char buf[MAX_DATAGRAM + 1]; /* one datagram at a time, so one buffer will do */
    for (;;) {
        /* Waiting here rather than in recvfrom() means a stop request always ends the wait. */
        int r = cli_wait_readable(fd);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            /* EAGAIN: the datagram poll() saw is gone (a bad checksum, say); EINTR: a signal.
             * ECONNREFUSED: an ICMP error for an earlier reply. None ends the service. */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED)
                continue;
            return -1;
        }
        if (verbose) {
            char who[NET_ADDRSTRLEN];
            printf("%zd bytes from %s\n", n,
                   net_addr_str((struct sockaddr *)&from, who, sizeof who));
            fflush(stdout);
        }
        upper_ascii(buf, (size_t)n);
        /* The reply goes to the address the datagram came from: that is all a UDP server knows
         * about its client. A reply that cannot be sent is that client's loss, not the end of
         * the service. */
        if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen) < 0 && verbose)
            printf("reply to %zd bytes not sent: %s\n", n, strerror(errno));
    }
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
