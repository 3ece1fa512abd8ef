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
#include "opts.h"
#include "progress.h"
#include "torrent.h"
#include "units.h"

#include <pthread.h>
#include <stddef.h>
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

/* Parses the options seed and get share. Returns 0, 1 after --help/--version (exit 0), or -1
 * after a usage error (exit 2). */
struct client_opts {
    bool keep_seeding;
    long status_ms; /* 0: no status lines */
    const char *torrent_file;
};

/* Everything the command line sets: the torrent's configuration and this command's own. */
struct client_args {
    struct torrent_config cfg;
    struct client_opts co;
    long max_peers, pipeline, seed, upload_slots, peer_timeout_ms;
    int picker, choker, optimistic, upload_turns;
    bool verbose; /* the configuration's verbose is an int; the table sets bools */
};

enum { VARIANT_SEED = 1, VARIANT_GET = 2 };

static const struct opt_choice picker_choices[] = {{"rarest", PICKER_RAREST_FIRST},
                                                   {"random", PICKER_RANDOM},
                                                   {"sequential", PICKER_SEQUENTIAL},
                                                   {NULL, 0}};
static const struct opt_choice choker_choices[] = {
    {"tit-for-tat", CHOKER_TIT_FOR_TAT}, {"round-robin", CHOKER_ROUND_ROBIN}, {NULL, 0}};
static const struct opt_choice onoff_choices[] = {{"on", 1}, {"off", 0}, {NULL, 0}};

#define O(field) offsetof(struct client_args, field)
static const struct opt_spec specs[] = {
    {.short_name = 'd',
     .long_name = "dir",
     .kind = OPT_STRING,
     .offset = O(cfg.dir),
     .arg_name = "DIR",
     .help = "where the content is (default: the current folder)"},
    {.short_name = 'p',
     .long_name = "port",
     .kind = OPT_PORT,
     .offset = O(cfg.port),
     .arg_name = "PORT",
     .help = "port to accept peers on (default 0: any free port)"},
    {.short_name = 'b',
     .long_name = "bind",
     .kind = OPT_STRING,
     .offset = O(cfg.bind),
     .arg_name = "ADDR",
     .help = "our address, for listening and for connecting out"},
    {.long_name = "max-peers",
     .kind = OPT_LONG,
     .offset = O(max_peers),
     .arg_name = "N",
     .min = 1,
     .max = 10000,
     .help = "connections at once (default 50)"},
    {.long_name = "pipeline",
     .kind = OPT_LONG,
     .offset = O(pipeline),
     .arg_name = "N",
     .min = 1,
     .max = 1024,
     .help = "requests outstanding per peer (default 64)"},
    {.long_name = "seed",
     .kind = OPT_LONG,
     .offset = O(seed),
     .arg_name = "N",
     .min = 1,
     .max = 2147483647,
     .help = "seed for the random choices of the picker and the choker"},
    {.long_name = "up-rate",
     .kind = OPT_RATE,
     .offset = O(cfg.up_rate),
     .arg_name = "RATE",
     .help = "send at most RATE bytes per second (K, M, G suffixes)"},
    {.long_name = "down-rate",
     .kind = OPT_RATE,
     .offset = O(cfg.down_rate),
     .arg_name = "RATE",
     .help = "receive at most RATE bytes per second"},
    {.long_name = "no-upload",
     .kind = OPT_FLAG,
     .offset = O(cfg.no_upload),
     .help = "never unchoke anyone (a client in a client-server experiment,\n"
             "or a free rider)"},
    {.long_name = "status-ms",
     .kind = OPT_LONG,
     .offset = O(co.status_ms),
     .arg_name = "MS",
     .min = 10,
     .max = 60000,
     .help = "print a machine-readable status line every MS milliseconds"},
    {.long_name = "rechoke-secs",
     .kind = OPT_MS,
     .offset = O(cfg.rechoke_ms),
     .arg_name = "S",
     .min = 1,
     .max = 3600000,
     .expect = "expected 0.001 to 3600 seconds",
     .help = "time between re-chokes in seconds, such as 10 or 0.1 (default 10;\n"
             "the optimistic unchoke moves every third re-choke)"},
    {.long_name = "upload-slots",
     .kind = OPT_LONG,
     .offset = O(upload_slots),
     .arg_name = "N",
     .min = 1,
     .max = 1000,
     .help = "peers unchoked for their upload rate (default 4)"},
    {.long_name = "picker",
     .kind = OPT_CHOICE,
     .offset = O(picker),
     .arg_name = "POLICY",
     .choices = picker_choices,
     .help = "which piece to fetch next: rarest (default), random or sequential"},
    {.long_name = "choker",
     .kind = OPT_CHOICE,
     .offset = O(choker),
     .arg_name = "POLICY",
     .choices = choker_choices,
     .help = "whom to upload to: tit-for-tat (default: the fastest senders) or\n"
             "round-robin (every interested peer in turn, whatever its rate)"},
    {.long_name = "optimistic",
     .kind = OPT_CHOICE,
     .offset = O(optimistic),
     .arg_name = "on|off",
     .choices = onoff_choices,
     .help = "the optimistic unchoke (default on)"},
    {.long_name = "upload-turns",
     .kind = OPT_CHOICE,
     .offset = O(upload_turns),
     .arg_name = "on|off",
     .choices = onoff_choices,
     .help = "under --up-rate, serve the peers we upload to a piece's worth at a\n"
             "time (default on), or share the rate among them block by block"},
    {.long_name = "rate-window-secs",
     .kind = OPT_MS,
     .offset = O(cfg.peer_rate_window_ms),
     .arg_name = "S",
     .min = 100,
     .max = 600000,
     .expect = "expected 0.1 to 600 seconds",
     .help = "the choker ranks peers by their rate over the last S seconds\n(default 20)"},
    {.long_name = "status-window-secs",
     .kind = OPT_MS,
     .offset = O(cfg.status_rate_window_ms),
     .arg_name = "S",
     .min = 100,
     .max = 600000,
     .expect = "expected 0.1 to 600 seconds",
     .help = "the status line's rates are averages over S seconds (default 5)"},
    {.long_name = "peer-timeout-ms",
     .kind = OPT_LONG,
     .offset = O(peer_timeout_ms),
     .arg_name = "MS",
     .min = 100,
     .max = 3600000,
     .help = "drop a peer silent for MS milliseconds (default 180000);\n"
             "a connection must send its handshake within 10 s (or MS), and\n"
             "at --max-peers one with no block either way for MS/6 makes room"},
    {.long_name = "trace",
     .kind = OPT_STRING,
     .offset = O(cfg.trace_file),
     .arg_name = "FILE",
     .help = "write a line every 100 ms to FILE: bytes up and down, upload unused\n"
             "and why, requests waiting per unchoked peer, pieces verified"},
    {.short_name = 'v',
     .long_name = "verbose",
     .kind = OPT_FLAG,
     .offset = O(verbose),
     .help = "print peers as they come and go, and tracker replies"},
    {.long_name = "keep-seeding",
     .kind = OPT_FLAG,
     .offset = O(co.keep_seeding),
     .variants = VARIANT_GET,
     .help = "go on serving others after the download"},
};
#undef O

static int parse_options(int argc, char **argv, bool is_get, struct torrent_config *cfg,
                         struct client_opts *co)
{
    const struct opt_command command = {.name = is_get ? "get" : "seed",
                                        .usage = is_get ? get_usage : seed_usage,
                                        .specs = specs,
                                        .nspecs = sizeof specs / sizeof specs[0],
                                        .variant = is_get ? VARIANT_GET : VARIANT_SEED};
    struct client_args a = {.cfg = *cfg,
                            .co = *co,
                            .max_peers = (long)cfg->max_peers,
                            .pipeline = (long)cfg->pipeline,
                            .upload_slots = (long)cfg->upload_slots,
                            .peer_timeout_ms = (long)cfg->peer_timeout_ms,
                            .optimistic = 1,
                            .upload_turns = 1};
    char *pos[2];
    int npos;
    enum opt_result r = opts_parse(&command, argc, argv, &a, pos, 2, &npos);
    if (r != OPTS_OK)
        return r == OPTS_EXIT ? 1 : -1;
    if (npos != 1) {
        fprintf(stderr, "minitorrent %s: expected one FILE.torrent\n%s", command.name,
                command.usage);
        return -1;
    }
    *cfg = a.cfg;
    *co = a.co;
    cfg->max_peers = (size_t)a.max_peers;
    cfg->pipeline = (size_t)a.pipeline;
    if (a.seed > 0)
        cfg->seed = (uint64_t)a.seed;
    cfg->upload_slots = (unsigned)a.upload_slots;
    cfg->peer_timeout_ms = (uint64_t)a.peer_timeout_ms;
    cfg->picker_policy = (enum picker_policy)a.picker;
    cfg->choker_policy = (enum choker_policy)a.choker;
    cfg->no_optimistic = a.optimistic == 0;
    cfg->no_upload_turns = a.upload_turns == 0;
    cfg->verbose = a.verbose ? 1 : cfg->verbose;
    co->torrent_file = pos[0];
    return 0;
}

/* Appends " pieces=HEX" to a status line: the verified pieces in BITFIELD order, so `minitorrent
 * swarm` can draw each peer's piece map and count how rare each piece is. */
static void append_pieces(struct torrent *t, char *line, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(line);
    pthread_mutex_lock(&t->lock);
    size_t digits = (t->picker.have.nbits + 3) / 4;
    if (len + 8 + digits < cap) {
        memcpy(line + len, " pieces=", 8);
        len += 8;
        for (size_t d = 0; d < digits; d++) {
            unsigned char byte = t->picker.have.bits[d / 2];
            line[len++] = hex[d % 2 == 0 ? byte >> 4 : byte & 15];
        }
        line[len] = '\0';
    }
    pthread_mutex_unlock(&t->lock);
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
            char line[4096];
            torrent_status_line(&t, clock_ms() - start, line, sizeof line);
            append_pieces(&t, line, sizeof line);
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
