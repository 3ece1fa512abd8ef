/*
 * udp_upper_client - the textbook's UDPClient, made to survive a real network.
 *
 * Each line of standard input goes out as one datagram and the client prints the reply. UDP may
 * lose a datagram, deliver it twice or late, and anyone may send us one, so the client:
 * - waits for a reply only so long, then sends again, doubling the wait each time;
 * - ignores datagrams that do not come from the server's address;
 * - ignores replies that do not answer the current line (a late answer to an earlier try).
 * udp_exchange.c does all that; this file reads the options and the lines, and prints.
 */
#include "cli.h"
#include "net.h"
#include "udp_exchange.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: udp_upper_client [--timeout-ms MS] [--retries N] HOST PORT\n"
    "Sends each line of standard input to an uppercase server as one UDP datagram and prints\n"
    "each reply. A line with no reply is sent again after MS milliseconds (default 1000, at\n"
    "most 60000), doubling the wait each time up to a minute, up to N more times (default 3,\n"
    "at most 30); then it is reported lost. Exits with status 1 if any line was lost or refused.\n";

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"timeout-ms", required_argument, NULL, 't'},
        {"retries", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long timeout_ms = 1000, retries = 3;
    int opt;
    while ((opt = getopt_long(argc, argv, "t:r:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't':
            if (cli_parse_long(optarg, 1, UDP_MAX_WAIT_MS, &timeout_ms) < 0) {
                fprintf(stderr, "udp_upper_client: bad --timeout-ms '%s': expected 1 to %d\n",
                        optarg, UDP_MAX_WAIT_MS);
                return 2;
            }
            break;
        case 'r':
            if (cli_parse_long(optarg, 0, 30, &retries) < 0) {
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
    struct sockaddr_storage server;
    socklen_t serverlen;
    int fd = net_udp_socket(host, port, &server, &serverlen, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "udp_upper_client: %s\n", err);
        return 1;
    }
    static struct udp_client c; /* static only because the reply buffer is 64 KiB */
    udp_client_init(&c, fd, &server, serverlen, timeout_ms, retries);

    char *line = NULL, *want = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, failed = 0;
    int status = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            len--; /* the textbook sends the line without its newline */
        if (len > UDP_MAX_DATAGRAM) {
            fprintf(stderr,
                    "udp_upper_client: line %ld is %zd bytes; one UDP datagram carries at most "
                    "%d, so it was not sent\n",
                    lineno, len, UDP_MAX_DATAGRAM);
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
        int r = udp_exchange(&c, line, (size_t)len, want);
        if (r > 0) {
            fwrite(c.reply, 1, (size_t)len, stdout);
            putchar('\n');
            fflush(stdout); /* each reply at once, even when stdout is a pipe */
        }
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
    close(fd);
    return status != 0 || failed > 0 ? 1 : 0;
}
