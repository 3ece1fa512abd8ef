/*
 * cmd_tracker.c - `minitorrent tracker`: an HTTP (and optionally UDP) BitTorrent tracker.
 *
 * The tracker itself runs in its own thread (tracker_server.c); this file reads the options,
 * starts it, prints where it listens, and waits for SIGINT or SIGTERM to stop it cleanly.
 */
#include "cli.h"
#include "commands.h"
#include "io.h"
#include "tracker_server.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: minitorrent tracker [-p PORT] [-u UDP_PORT] [-b ADDR] [--interval SECS] [-v]\n"
    "Runs a BitTorrent tracker: peers announce themselves to it and learn about each other.\n"
    "It accepts any torrent. Stop it with Ctrl-C or SIGTERM.\n"
    "  -p, --port PORT      HTTP tracker port (default 6969; 0: any free port)\n"
    "  -u, --udp PORT       also run a UDP tracker (BEP 15) on this port (0: any free port)\n"
    "  -b, --bind ADDR      address to listen on (default: every interface)\n"
    "      --interval SECS  re-announce interval told to clients (default 60)\n"
    "  -v, --verbose        print every announce\n"
    "  -h, --help           show this help\n"
    "      --version        show the version\n";

/* Parses the options into cfg. Returns 0, 1 after --help or --version (exit 0), or -1 after a
 * usage error (exit 2). */
static int parse_options(int argc, char **argv, struct tracker_server_config *cfg)
{
    enum { OPT_INTERVAL = 1000, OPT_VERSION };
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"udp", required_argument, NULL, 'u'},
        {"bind", required_argument, NULL, 'b'},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:u:b:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
        case 'u':
            if (!cli_valid_port(optarg)) {
                fprintf(stderr, "minitorrent tracker: bad port '%s': expected 0 to 65535\n",
                        optarg);
                return -1;
            }
            if (c == 'p')
                cfg->http_port = optarg;
            else
                cfg->udp_port = optarg;
            break;
        case 'b':
            cfg->bind = optarg;
            break;
        case OPT_INTERVAL:
            if (cli_parse_long(optarg, 1, 86400, &v) < 0) {
                fprintf(stderr, "minitorrent tracker: bad --interval '%s': expected 1 to 86400\n",
                        optarg);
                return -1;
            }
            cfg->interval_s = (int)v;
            break;
        case 'v':
            cfg->log = stdout;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        case OPT_VERSION:
            printf("minitorrent %s\n", MINITORRENT_VERSION);
            return 1;
        default:
            fputs(usage, stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "minitorrent tracker: unexpected argument '%s'\n%s", argv[optind], usage);
        return -1;
    }
    return 0;
}

int cmd_tracker(int argc, char **argv)
{
    struct tracker_server_config cfg;
    tracker_server_config_default(&cfg);
    int rc = parse_options(argc, argv, &cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    io_ignore_sigpipe();
    cli_catch_stop_signals();
    /* Keep SIGINT and SIGTERM blocked except inside sigsuspend() below: a signal that arrives
     * between checking the flag and going to sleep then waits for the sleep instead of being
     * missed (the race that a plain pause() loop has). */
    sigset_t stop, wait_mask;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &wait_mask);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);

    static struct tracker_server srv; /* large, and there is one per process */
    char err[256];
    if (tracker_server_start(&srv, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "minitorrent tracker: %s\n", err);
        return 1;
    }
    /* The plain line first: the toolkit's tests and scripts wait for "listening on PORT". */
    cli_announce_listening(srv.http_fd);
    printf("listening on %s\n", srv.http_url);
    if (srv.udp_fd >= 0)
        printf("listening on %s\n", srv.udp_url);
    fflush(stdout);

    while (!cli_stop_requested)
        sigsuspend(&wait_mask);

    tracker_server_stop(&srv);
    return 0;
}
