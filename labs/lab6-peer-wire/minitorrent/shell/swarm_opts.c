/*
 * swarm_opts.c - the options of `minitorrent swarm`: their defaults, their table (opts.h) and the
 * time scale that every timer and rate passes through.
 */
#include "swarm.h"
#include "cli.h"
#include "metainfo.h"
#include "opts.h"
#include "units.h"

#include <stddef.h>
#include <string.h>

static const char usage[] =
    "usage: minitorrent swarm [--peers N|N,N,...] [--size BYTES] [--piece BYTES]\n"
    "                         [--seed-up RATE] [--peer-up RATE] [--peer-down RATE]\n"
    "                         [--mode p2p|client-server] [--churn] [--json FILE]\n"
    "                         [--plot FILE.svg] [--seed N] [options]\n"
    "Runs a tracker, one seed and N leechers as separate processes on loopback (127.0.0.x),\n"
    "shares a random file, shows the swarm live, and compares the distribution time D (when the\n"
    "last leecher has a verified copy) with the Kurose & Ross lower bound for the given rates.\n";

static const char epilog[] =
    "With --time-scale K every timer is divided by K (the re-choke, the optimistic unchoke,\n"
    "the tracker's interval) and every rate multiplied by K, while the file and its pieces stay\n"
    "as they are: the same swarm, K times faster. The report says which K was used.\n";

/* Reads --peers for the table: "8" or "2,4,8,16". */
static int call_peers(void *dest, const char *arg, char *why, size_t whylen)
{
    return swarm_parse_peer_list(arg, dest, why, whylen);
}

static const struct opt_choice mode_choices[] = {
    {"p2p", MODE_P2P}, {"client-server", MODE_CS}, {"cs", MODE_CS}, {NULL, 0}};
static const struct opt_choice picker_choices[] = {
    {"rarest", PICK_RAREST}, {"random", PICK_RANDOM}, {"sequential", PICK_SEQUENTIAL}, {NULL, 0}};
static const struct opt_choice onoff_choices[] = {{"on", 1}, {"off", 0}, {NULL, 0}};

#define O(field) offsetof(struct swarm_opts, field)

static const struct opt_spec specs[] = {
    {.short_name = 'n',
     .long_name = "peers",
     .kind = OPT_CALL,
     .offset = 0,
     .arg_name = "N[,N...]",
     .help = "leechers (default 8); a list runs each N in both modes",
     .call = call_peers},
    {.long_name = "size",
     .kind = OPT_SIZE,
     .offset = O(size),
     .arg_name = "BYTES",
     .help = "file size (default 4M; K, M, G are powers of 1024)",
     .min = 1,
     .max = 4.0 * 1024 * 1024 * 1024,
     .expect = "expected from 1 byte to 4G"},
    {.long_name = "piece",
     .kind = OPT_SIZE,
     .offset = O(piece),
     .arg_name = "BYTES",
     .help = "piece length, 16K to 16M (default 64K)",
     .min = METAINFO_MIN_PIECE_LENGTH,
     .max = METAINFO_MAX_PIECE_LENGTH,
     .expect = "expected 16K to 16M"},
    {.long_name = "seed-up",
     .kind = OPT_RATE,
     .offset = O(seed_up),
     .arg_name = "RATE",
     .help = "the seed's upload rate u_s (default 1M, per second; 0: unlimited)"},
    {.long_name = "peer-up",
     .kind = OPT_RATE,
     .offset = O(peer_up),
     .arg_name = "RATE",
     .help = "each leecher's upload rate u_i (default 512K; 0: unlimited)"},
    {.long_name = "peer-down",
     .kind = OPT_RATE,
     .offset = O(peer_down),
     .arg_name = "RATE",
     .help = "each leecher's download rate d_i (default 0: unlimited)"},
    {.long_name = "mode",
     .kind = OPT_CHOICE,
     .offset = O(mode),
     .arg_name = "MODE",
     .help = "p2p (default) or client-server (leechers upload nothing)",
     .choices = mode_choices,
     .expect = "expected p2p or client-server"},
    {.long_name = "picker",
     .kind = OPT_CHOICE,
     .offset = O(picker),
     .arg_name = "POLICY",
     .help = "how every peer picks pieces: rarest (default), random or sequential",
     .choices = picker_choices},
    {.long_name = "optimistic",
     .kind = OPT_CHOICE,
     .offset = O(optimistic),
     .arg_name = "on|off",
     .help = "the optimistic unchoke of every peer (default on)",
     .choices = onoff_choices},
    {.long_name = "upload-turns",
     .kind = OPT_CHOICE,
     .offset = O(upload_turns),
     .arg_name = "on|off",
     .help = "serve the peers one uploads to a piece's worth at a time (default on)\n"
             "rather than share the upload limit among them block by block",
     .choices = onoff_choices},
    {.long_name = "churn",
     .kind = OPT_FLAG,
     .offset = O(churn),
     .help = "kill a third of the leechers with SIGKILL at random moments and\n"
             "restart them, some on a new address"},
    {.long_name = "json",
     .kind = OPT_STRING,
     .offset = O(json_file),
     .arg_name = "FILE",
     .help = "write the results as JSON (one object, or a list for a list of N)"},
    {.long_name = "plot",
     .kind = OPT_STRING,
     .offset = O(plot_file),
     .arg_name = "FILE.svg",
     .optional = "-",
     .help = "draw distribution time against N as SVG (no FILE or '-': standard\n"
             "output, and the report goes to stderr)"},
    {.long_name = "seed",
     .kind = OPT_LONG,
     .offset = O(seed),
     .arg_name = "N",
     .min = 1,
     .max = 2147483647,
     .has_seen = true,
     .seen_offset = O(seed_given),
     .help = "seed for the file's bytes, the churn and the peers' choices"},
    {.long_name = "time-scale",
     .kind = OPT_DOUBLE,
     .offset = O(time_scale),
     .arg_name = "K",
     .min = 0.1,
     .max = 100,
     .help = "run K times faster: timers / K, rates * K (default 1)"},
    {.long_name = "rechoke-secs",
     .kind = OPT_MS,
     .offset = O(rechoke_ms),
     .arg_name = "S",
     .min = 10,
     .max = 600000,
     .expect = "expected 0.01 to 600 seconds",
     .help = "re-choke interval in seconds for every peer, such as 2 or 0.1\n"
             "(default: theirs, 10)"},
    {.long_name = "upload-slots",
     .kind = OPT_LONG,
     .offset = O(upload_slots),
     .arg_name = "N",
     .min = 1,
     .max = 100,
     .help = "regular unchoke slots passed to every peer (default: theirs, 4)"},
    {.long_name = "interval",
     .kind = OPT_LONG,
     .offset = O(interval_s),
     .arg_name = "SECS",
     .min = 1,
     .max = 3600,
     .help = "the tracker's re-announce interval (default 2)"},
    {.long_name = "timeout",
     .kind = OPT_LONG,
     .offset = O(timeout_s),
     .arg_name = "SECS",
     .min = 1,
     .max = 86400,
     .help = "give up on a run after SECS (default: 60 + 10 times the bound)"},
    {.long_name = "web",
     .kind = OPT_PORT,
     .offset = O(web),
     .arg_name = "PORT",
     .optional = "0",
     .help = "serve the live view as a web page on 127.0.0.1:PORT (default: any\n"
             "free port); the address is printed"},
    {.long_name = "hold",
     .kind = OPT_FLAG,
     .offset = O(hold),
     .help = "with --web, keep serving the page after the run until Ctrl-C"},
    {.long_name = "trace",
     .kind = OPT_STRING,
     .offset = O(trace_file),
     .arg_name = "FILE",
     .help = "write every peer's trace to FILE (a line per peer per 100 ms) and\n"
             "report the leechers' upload use and why the rest sat idle"},
    {.long_name = "keep-files",
     .kind = OPT_FLAG,
     .offset = O(keep_files),
     .help = "keep the temporary folder, and say where it is"},
    {.long_name = "plain",
     .kind = OPT_FLAG,
     .offset = O(plain),
     .help = "plain progress lines even on a terminal"},
};

#undef O

static const struct opt_command command = {
    .name = "swarm",
    .usage = usage,
    .specs = specs,
    .nspecs = sizeof specs / sizeof specs[0],
    .epilog = epilog,
};

void swarm_opts_defaults(struct swarm_opts *o)
{
    *o = (struct swarm_opts){
        .peer_counts = {8},
        .npeer_counts = 1,
        .size = 4u << 20,
        .piece = 64u << 10,
        .seed_up = 1u << 20,
        .peer_up = 512u << 10,
        .peer_down = 0,
        .mode = MODE_P2P,
        .interval_s = 2,
        .picker = PICK_RAREST,
        .choker = CHOKE_TIT_FOR_TAT,
        .optimistic = 1,
        .upload_turns = 1,
        .time_scale = 1,
    };
}

int swarm_parse_peer_list(const char *s, struct swarm_opts *o, char *why, size_t whylen)
{
    o->npeer_counts = 0;
    o->peers_is_list = strchr(s, ',') != NULL;
    const char *p = s;
    snprintf(why, whylen, "expected N or N,N,... with each N from 1 to %d (at most %d of them)",
             MAX_PEERS, MAX_PEER_COUNTS);
    while (*p != '\0') {
        char item[16];
        size_t n = strcspn(p, ",");
        long v;
        if (n == 0 || n >= sizeof item || o->npeer_counts == MAX_PEER_COUNTS)
            return -1;
        memcpy(item, p, n);
        item[n] = '\0';
        if (cli_parse_long(item, 1, MAX_PEERS, &v) < 0)
            return -1;
        o->peer_counts[o->npeer_counts++] = (unsigned)v;
        p += n;
        if (*p == ',' && *++p == '\0')
            return -1;
    }
    return o->npeer_counts > 0 ? 0 : -1;
}

int swarm_parse_options(int argc, char **argv, struct swarm_opts *o)
{
    swarm_opts_defaults(o);
    char *pos[1];
    int npos;
    enum opt_result r = opts_parse(&command, argc, argv, o, pos, 0, &npos);
    return r == OPTS_OK ? 0 : r == OPTS_EXIT ? 1 : -1;
}

uint64_t swarm_rechoke_ms(const struct swarm_opts *o)
{
    double ms = (double)(o->rechoke_ms > 0 ? o->rechoke_ms : 10000) / o->time_scale;
    return ms < 1 ? 1 : (uint64_t)(ms + 0.5);
}

uint64_t swarm_scaled_rate(const struct swarm_opts *o, uint64_t rate)
{
    return (uint64_t)((double)rate * o->time_scale + 0.5);
}

const char *swarm_mode_name(int mode)
{
    return mode == MODE_P2P ? "p2p" : "client-server";
}

const char *swarm_picker_name(int picker)
{
    return picker == PICK_RANDOM ? "random" : picker == PICK_SEQUENTIAL ? "sequential" : "rarest";
}

const char *swarm_choker_name(int choker)
{
    return choker == CHOKE_ROUND_ROBIN ? "round-robin" : "tit-for-tat";
}
