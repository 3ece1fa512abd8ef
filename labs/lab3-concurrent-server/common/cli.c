/*
 * cli.c - option parsing and signal handling shared by the servers.
 */
#include "cli.h"
#include "net.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t cli_stop_requested = 0;

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
        {"port", required_argument, NULL, 'p'}, {"bind", required_argument, NULL, 'b'},
        {"verbose", no_argument, NULL, 'v'},    {"max-clients", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    o->port = "12000"; /* the textbook's port */
    o->bind = NULL;
    o->verbose = 0;
    o->max_clients = default_max_clients;

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

static void on_stop_signal(int sig)
{
    (void)sig;
    cli_stop_requested = 1;
}

void cli_catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: see cli.h */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
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
