/*
 * cmd_client.c - `minitorrent seed` and `minitorrent get`: the two faces of one peer.
 *
 * Both open the torrent, listen, announce, and trade pieces with whoever the tracker names; they
 * differ only in what they start with and when they stop. A seeder must have every piece and
 * serves until it is told to stop; a downloader starts with what it has (resuming a partial
 * download) and stops once every piece is on disk and verified, unless --keep-seeding.
 */
#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "io.h"
#include "progress.h"
#include "torrent.h"
#include "units.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char seed_usage[] =
    "usage: minitorrent seed FILE.torrent [-d DIR] [-p PORT] [-b ADDR] [options]\n"
    "Checks that DIR holds the torrent's content, announces to its tracker, and serves\n"
    "pieces to other peers until stopped with Ctrl-C or SIGTERM.\n";

static const char get_usage[] =
    "usage: minitorrent get FILE.torrent [-d DIR] [-p PORT] [-b ADDR] [--keep-seeding] [options]\n"
    "Downloads the torrent into DIR, verifying every piece, and exits 0 when all pieces are on\n"
    "disk. Content already in DIR is checked and kept, so an interrupted download resumes.\n";

static const char common_usage[] =
    "  -d, --dir DIR        where the content is (default: the current folder)\n"
    "  -p, --port PORT      port to accept peers on (default 0: any free port)\n"
    "  -b, --bind ADDR      our address, for listening and for connecting out\n"
    "      --max-peers N    connections at once (default 50)\n"
    "      --pipeline N     requests outstanding per peer (default 64)\n"
    "      --seed N         seed for the piece picker's random choices (for replays)\n"
    "      --up-rate RATE   send at most RATE bytes per second (K, M, G suffixes)\n"
    "      --down-rate RATE receive at most RATE bytes per second\n"
    "      --no-upload      never unchoke anyone (a client in a client-server experiment)\n"
    "      --status-ms MS   print a machine-readable status line every MS milliseconds\n"
    "      --rechoke-secs S time between re-chokes in seconds, such as 10 or 0.1 (default 10;\n"
    "                       the optimistic unchoke moves every third re-choke)\n"
    "      --upload-slots N peers unchoked for their upload rate (default 4)\n"
    "      --peer-timeout-ms MS  drop a peer silent for MS milliseconds (default 180000);\n"
    "                       a connection must send its handshake within 10 s (or MS), and\n"
    "                       at --max-peers one with no block either way for MS/6 makes room\n"
    "  -v, --verbose        print peers as they come and go, and tracker replies\n"
    "  -h, --help           show this help\n"
    "      --version        show the version\n";

/* Parses the options seed and get share. Returns 0, 1 after --help/--version (exit 0), or -1
 * after a usage error (exit 2). */
struct client_opts {
    bool keep_seeding;
    long status_ms; /* 0: no status lines */
    const char *torrent_file;
};

static int parse_options(int argc, char **argv, bool is_get, struct torrent_config *cfg,
                         struct client_opts *co)
{
    enum {
        OPT_MAX_PEERS = 1000,
        OPT_PIPELINE,
        OPT_SEED,
        OPT_KEEP,
        OPT_VERSION,
        OPT_UP_RATE,
        OPT_DOWN_RATE,
        OPT_NO_UPLOAD,
        OPT_STATUS_MS,
        OPT_RECHOKE_SECS,
        OPT_UPLOAD_SLOTS,
        OPT_PEER_TIMEOUT_MS
    };
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"max-peers", required_argument, NULL, OPT_MAX_PEERS},
        {"pipeline", required_argument, NULL, OPT_PIPELINE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"keep-seeding", no_argument, NULL, OPT_KEEP},
        {"up-rate", required_argument, NULL, OPT_UP_RATE},
        {"down-rate", required_argument, NULL, OPT_DOWN_RATE},
        {"no-upload", no_argument, NULL, OPT_NO_UPLOAD},
        {"status-ms", required_argument, NULL, OPT_STATUS_MS},
        {"rechoke-secs", required_argument, NULL, OPT_RECHOKE_SECS},
        {"upload-slots", required_argument, NULL, OPT_UPLOAD_SLOTS},
        {"peer-timeout-ms", required_argument, NULL, OPT_PEER_TIMEOUT_MS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char *usage = is_get ? get_usage : seed_usage;
    const char *name = is_get ? "get" : "seed";
    long v;
    int c;
    char why[128];
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:p:b:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            cfg->dir = optarg;
            break;
        case 'p':
            if (!cli_valid_port(optarg)) {
                fprintf(stderr, "minitorrent %s: bad port '%s': expected 0 to 65535\n", name,
                        optarg);
                return -1;
            }
            cfg->port = optarg;
            break;
        case 'b':
            cfg->bind = optarg;
            break;
        case OPT_MAX_PEERS:
            if (cli_parse_long(optarg, 1, 10000, &v) < 0) {
                fprintf(stderr, "minitorrent %s: bad --max-peers '%s': expected 1 to 10000\n", name,
                        optarg);
                return -1;
            }
            cfg->max_peers = (size_t)v;
            break;
        case OPT_PIPELINE:
            if (cli_parse_long(optarg, 1, 1024, &v) < 0) {
                fprintf(stderr, "minitorrent %s: bad --pipeline '%s': expected 1 to 1024\n", name,
                        optarg);
                return -1;
            }
            cfg->pipeline = (size_t)v;
            break;
        case OPT_SEED:
            if (cli_parse_long(optarg, 1, 0x7fffffffL, &v) < 0) {
                fprintf(stderr, "minitorrent %s: bad --seed '%s'\n", name, optarg);
                return -1;
            }
            cfg->seed = (uint64_t)v;
            break;
        case OPT_KEEP:
            if (!is_get) {
                fprintf(stderr, "minitorrent seed: --keep-seeding is an option of get\n");
                return -1;
            }
            co->keep_seeding = true;
            break;
        case OPT_UP_RATE:
        case OPT_DOWN_RATE:
            if (units_parse_rate(optarg, c == OPT_UP_RATE ? &cfg->up_rate : &cfg->down_rate, why,
                                 sizeof why) < 0) {
                fprintf(stderr, "minitorrent %s: bad --%s '%s': %s\n", name,
                        c == OPT_UP_RATE ? "up-rate" : "down-rate", optarg, why);
                return -1;
            }
            break;
        case OPT_NO_UPLOAD:
            cfg->no_upload = true;
            break;
        case OPT_RECHOKE_SECS: {
            uint64_t ms;
            if (units_parse_seconds(optarg, &ms, why, sizeof why) < 0 || ms < 1 || ms > 3600000) {
                fprintf(stderr,
                        "minitorrent %s: bad --rechoke-secs '%s': expected 0.001 to 3600 seconds\n",
                        name, optarg);
                return -1;
            }
            cfg->rechoke_ms = ms;
            break;
        }
        case OPT_UPLOAD_SLOTS:
            if (cli_parse_long(optarg, 1, 1000, &v) < 0) {
                fprintf(stderr, "minitorrent %s: bad --upload-slots '%s': expected 1 to 1000\n",
                        name, optarg);
                return -1;
            }
            cfg->upload_slots = (unsigned)v;
            break;
        case OPT_PEER_TIMEOUT_MS:
            if (cli_parse_long(optarg, 100, 3600000, &v) < 0) {
                fprintf(stderr,
                        "minitorrent %s: bad --peer-timeout-ms '%s': expected 100 to 3600000\n",
                        name, optarg);
                return -1;
            }
            cfg->peer_timeout_ms = (uint64_t)v;
            break;
        case OPT_STATUS_MS:
            if (cli_parse_long(optarg, 10, 60000, &co->status_ms) < 0) {
                fprintf(stderr, "minitorrent %s: bad --status-ms '%s': expected 10 to 60000\n",
                        name, optarg);
                return -1;
            }
            break;
        case 'v':
            cfg->verbose = 1;
            break;
        case 'h':
            printf("%s%s", usage, common_usage);
            if (is_get)
                printf("      --keep-seeding   go on serving others after the download\n");
            return 1;
        case OPT_VERSION:
            printf("minitorrent %s\n", MINITORRENT_VERSION);
            return 1;
        default:
            fprintf(stderr, "%s", usage);
            return -1;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "minitorrent %s: expected one FILE.torrent\n%s", name, usage);
        return -1;
    }
    co->torrent_file = argv[optind];
    return 0;
}

/* Runs a seeder or a downloader to its end. Returns the exit status. */
static int run(int argc, char **argv, bool is_get)
{
    struct torrent_config cfg;
    torrent_config_defaults(&cfg);
    struct client_opts co = {false, 0, NULL};
    int rc = parse_options(argc, argv, is_get, &cfg, &co);
    const char *file = co.torrent_file;
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    io_ignore_sigpipe();
    cli_catch_stop_signals();
    static struct torrent t; /* large, and there is one per process */
    char err[512];
    if (torrent_open(&t, file, &cfg, !is_get, err, sizeof err) < 0 ||
        torrent_start(&t, err, sizeof err) < 0) {
        fprintf(stderr, "minitorrent %s: %s\n", is_get ? "get" : "seed", err);
        torrent_stop(&t);
        torrent_close(&t);
        return 1;
    }
    printf("listening on %d\n", t.port);
    fflush(stdout);

    struct torrent_stats st;
    torrent_stats(&t, &st);
    if (is_get && st.complete)
        printf("all %u pieces are already here\n", st.pieces_total);
    struct progress prog;
    uint64_t start = clock_ms();
    progress_init(&prog, stdout, start);
    bool was_complete = st.complete, showed_done = false;
    int status = 0;
    uint64_t next_status = start;
    while (!cli_stop_requested) {
        torrent_wait(&t, co.status_ms > 0 && co.status_ms < 250 ? (int)co.status_ms : 250);
        torrent_reap(&t);
        torrent_tick(&t);
        torrent_stats(&t, &st);
        if (co.status_ms > 0 && clock_ms() >= next_status) {
            char line[2048];
            torrent_status_line(&t, clock_ms() - start, line, sizeof line);
            printf("%s\n", line);
            if (fflush(stdout) == EOF) {
                /* Whoever reads the status lines has gone (a `minitorrent swarm` killed with
                 * kill -9, say): stop rather than run on as an orphan nobody watches. */
                status = 1;
                break;
            }
            next_status = clock_ms() + (uint64_t)co.status_ms;
        }
        if (st.fatal[0] != '\0') {
            fprintf(stderr, "\nminitorrent: %s\n", st.fatal);
            status = 1;
            break;
        }
        if (!is_get)
            continue;
        if (!showed_done && co.status_ms == 0)
            progress_update(&prog, st.bytes_have, st.bytes_total, st.peers, clock_ms());
        if (st.complete && !showed_done) {
            if (co.status_ms > 0)
                printf("complete t_ms=%llu\n", (unsigned long long)(clock_ms() - start));
            else
                progress_done(&prog);
            double secs = (double)(clock_ms() - start) / 1000.0;
            printf("done: %llu bytes in %.2f s (%.1f MB/s), every piece verified\n",
                   (unsigned long long)st.downloaded, secs,
                   secs > 0 ? (double)st.downloaded / secs / 1e6 : 0.0);
            fflush(stdout);
            showed_done = true;
            if (!was_complete)
                torrent_announce_completed(&t);
            if (!co.keep_seeding)
                break;
        }
    }
    if (is_get && !st.complete && status == 0) {
        if (co.status_ms == 0)
            progress_done(&prog);
        fprintf(stderr, "minitorrent get: stopped with %u of %u pieces\n", st.pieces_have,
                st.pieces_total);
        status = 1;
    }
    torrent_stop(&t);
    torrent_close(&t);
    return status;
}

int cmd_seed(int argc, char **argv)
{
    return run(argc, argv, false);
}

int cmd_get(int argc, char **argv)
{
    return run(argc, argv, true);
}
