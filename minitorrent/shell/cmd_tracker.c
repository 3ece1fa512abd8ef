/*
 * cmd_tracker.c - `minitorrent tracker`: an HTTP (and optionally UDP) BitTorrent tracker.
 *
 * The tracker itself runs in its own thread (tracker_server.c); this file reads the options,
 * starts it, prints where it listens, and waits for SIGINT or SIGTERM to stop it cleanly.
 */
#include "cli.h"
#include "commands.h"
#include "io.h"
#include "opts.h"
#include "tracker_server.h"
#include "webview.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: minitorrent tracker [-p PORT] [-u UDP_PORT] [-b ADDR] [--interval SECS] [-v]\n"
    "Runs a BitTorrent tracker: peers announce themselves to it and learn about each other.\n"
    "It accepts any torrent. Stop it with Ctrl-C or SIGTERM.\n";

/* The command line: the tracker's configuration, and what only this command uses. */
struct tracker_args {
    struct tracker_server_config cfg;
    long interval_s;
    bool verbose;
    const char *web; /* --web [PORT]: serve the swarm's view as a web page; NULL: none */
};

#define O(field) offsetof(struct tracker_args, field)
static const struct opt_spec specs[] = {
    {.short_name = 'p',
     .long_name = "port",
     .kind = OPT_PORT,
     .offset = O(cfg.http_port),
     .arg_name = "PORT",
     .help = "HTTP tracker port (default 6969; 0: any free port)"},
    {.short_name = 'u',
     .long_name = "udp",
     .kind = OPT_PORT,
     .offset = O(cfg.udp_port),
     .arg_name = "PORT",
     .help = "also run a UDP tracker (BEP 15) on this port (0: any free port)"},
    {.short_name = 'b',
     .long_name = "bind",
     .kind = OPT_STRING,
     .offset = O(cfg.bind),
     .arg_name = "ADDR",
     .help = "address to listen on (default: every interface)"},
    {.long_name = "interval",
     .kind = OPT_LONG,
     .offset = O(interval_s),
     .arg_name = "SECS",
     .min = 1,
     .max = 86400,
     .help = "re-announce interval told to clients (default 60)"},
    {.short_name = 'v',
     .long_name = "verbose",
     .kind = OPT_FLAG,
     .offset = O(verbose),
     .help = "print every announce"},
    {.long_name = "web",
     .kind = OPT_PORT,
     .offset = O(web),
     .arg_name = "PORT",
     .optional = "0",
     .help = "serve a live view of the swarms it tracks on 127.0.0.1:PORT"},
};
#undef O

static const struct opt_command command = {
    .name = "tracker", .usage = usage, .specs = specs, .nspecs = sizeof specs / sizeof specs[0]};

/* Parses the options into cfg. Returns 0, 1 after --help or --version (exit 0), or -1 after a
 * usage error (exit 2). */
static int parse_options(int argc, char **argv, struct tracker_server_config *cfg, const char **web)
{
    struct tracker_args a = {.cfg = *cfg, .interval_s = cfg->interval_s};
    char *pos[1];
    int npos;
    enum opt_result r = opts_parse(&command, argc, argv, &a, pos, 0, &npos);
    if (r != OPTS_OK)
        return r == OPTS_EXIT ? 1 : -1;
    *cfg = a.cfg;
    *web = a.web;
    cfg->interval_s = (int)a.interval_s;
    if (a.verbose)
        cfg->log = stdout;
    return 0;
}

int cmd_tracker(int argc, char **argv)
{
    struct tracker_server_config cfg;
    tracker_server_config_default(&cfg);
    const char *web_port = NULL;
    int rc = parse_options(argc, argv, &cfg, &web_port);
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

    struct webview *web = web_port != NULL ? webview_start_for(stdout, "tracker", web_port) : NULL;
    if (web_port != NULL && web == NULL) {
        tracker_server_stop(&srv);
        return 1;
    }
    if (web != NULL)
        webview_serve_tracker(web, &srv, &wait_mask); /* until Ctrl-C or SIGTERM */
    while (!cli_stop_requested)
        sigsuspend(&wait_mask);
    webview_stop(web);

    tracker_server_stop(&srv);
    return 0;
}
