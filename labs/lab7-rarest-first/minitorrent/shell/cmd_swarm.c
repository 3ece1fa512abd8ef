/*
 * cmd_swarm.c - `minitorrent swarm`: a whole BitTorrent swarm on this machine, measured against
 * the Kurose & Ross bound on distribution time.
 *
 * The course notes claim that the time to give a file to N peers grows linearly with N when one
 * server sends every copy, but levels off with P2P, because every downloader also uploads. This
 * command runs the experiment for real, with real BitTorrent v1 on the wire:
 *
 *   1. it makes a random file in a temporary folder and a .torrent for it;
 *   2. it starts a tracker, one seed and N leechers, each its own process (this same program, run
 *      as `minitorrent tracker`, `seed` and `get`), each on its own loopback address 127.0.0.x,
 *      with the upload and download rates the command line asks for;
 *   3. it releases all leechers at once and shows a live table of who has what and who uploads
 *      to whom (swarm_view.c), reading the status lines every child prints;
 *   4. when every leecher has said "complete", it checks every copy byte for byte against the
 *      original, and prints each finish time, the distribution time D (the last finish), the
 *      bound for the configured rates (core/bound.c) and the ratio D / bound.
 *
 * With --mode client-server the leechers upload nothing, so the seed plays the server and the
 * same code measures the other curve. With a list (--peers 2,4,8) it runs each N in both modes
 * and can draw the textbook's figure (--plot, core/svgplot.c).
 *
 * Processes (swarm_children.c): every child is started with fork + exec and put in a process
 * group of its own, so Ctrl-C in the terminal reaches only this command, which then stops the
 * children in order: each gets SIGTERM, then SIGKILL if it has not gone after a deadline, always
 * by its PID. Nothing is left running when the command returns, whether the swarm finished,
 * failed or was interrupted.
 *
 * Churn (--churn) shows what the notes mean by "peers are intermittently connected and change IP
 * addresses": a third of the leechers are killed with SIGKILL partway through (no goodbye to the
 * tracker or to their peers) and started again on the same download folder, some on a new
 * address. They find the swarm again through the tracker and resume from the pieces they had
 * already verified; the swarm only loses time.
 *
 * Everything runs single-threaded around poll(): the children's stdout pipes are the events, and
 * the only timers are the redraw, the churn's restarts and the deadlines. Children are found by
 * their "listening on PORT" line and their status lines, never by sleeping and hoping.
 *
 * This file holds the options, one run (its steps, its loop, the churn), the report and the
 * command itself. What is the same for every child, whatever its role (the temporary folder they
 * work in, starting them, reading their lines, stopping them), is in swarm_children.c.
 */
#include "bound.h"
#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "io.h"
#include "json_out.h"
#include "metainfo.h"
#include "net.h"
#include "svgplot.h"
#include "swarm_children.h"
#include "swarm_view.h"
#include "units.h"
#include "announce.h"
#include "randbytes.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *minitorrent_argv0;

static const char usage[] =
    "usage: minitorrent swarm [--peers N|N,N,...] [--size BYTES] [--piece BYTES]\n"
    "                         [--seed-up RATE] [--peer-up RATE] [--peer-down RATE]\n"
    "                         [--mode p2p|client-server] [--churn] [--json FILE]\n"
    "                         [--plot FILE.svg] [--seed N] [options]\n"
    "Runs a tracker, one seed and N leechers as separate processes on loopback (127.0.0.x),\n"
    "shares a random file, shows the swarm live, and compares the distribution time D (when the\n"
    "last leecher has a verified copy) with the Kurose & Ross lower bound for the given rates.\n"
    "\n"
    "  -n, --peers N[,N...]   leechers (default 8); a list runs each N in both modes\n"
    "      --size BYTES       file size (default 4M; K, M, G are powers of 1024)\n"
    "      --piece BYTES      piece length, 16K to 16M (default 64K)\n"
    "      --seed-up RATE     the seed's upload rate u_s (default 1M, per second; 0: unlimited)\n"
    "      --peer-up RATE     each leecher's upload rate u_i (default 512K; 0: unlimited)\n"
    "      --peer-down RATE   each leecher's download rate d_i (default 0: unlimited)\n"
    "      --mode MODE        p2p (default) or client-server (leechers upload nothing)\n"
    "      --churn            kill a third of the leechers with SIGKILL at random moments and\n"
    "                         restart them, some on a new address\n"
    "      --json FILE        write the results as JSON (one object, or a list for a list of N)\n"
    "      --plot FILE.svg    draw distribution time against N as SVG ('-' or a bare --plot at\n"
    "                         the end: standard output, and the report goes to stderr)\n"
    "      --seed N           seed for the file's bytes, the churn and the peers' choices\n"
    "      --rechoke-secs S   re-choke interval in seconds for every peer, such as 2 or 0.1\n"
    "                         (default: theirs, 10)\n"
    "      --upload-slots N   regular unchoke slots passed to every peer (default: theirs, 4)\n"
    "      --interval SECS    the tracker's re-announce interval (default 2)\n"
    "      --timeout SECS     give up on a run after SECS (default: 60 + 10 times the bound)\n"
    "      --keep-files       keep the temporary folder, and say where it is\n"
    "      --plain            plain progress lines even on a terminal\n"
    "  -h, --help             show this help\n"
    "      --version          show the version\n";

/* ======================================================================================== */
/* Options                                                                                  */
/* ======================================================================================== */

enum swarm_mode { MODE_P2P, MODE_CS };

enum { MAX_PEER_COUNTS = 16, MAX_PEERS = 120 };

struct swarm_opts {
    unsigned peer_counts[MAX_PEER_COUNTS];
    size_t npeer_counts;
    bool peers_is_list;
    uint64_t size, piece;
    uint64_t seed_up, peer_up, peer_down; /* bytes per second; 0: unlimited */
    enum swarm_mode mode;
    bool churn;
    const char *json_file, *plot_file;
    uint64_t seed;
    bool seed_given;
    long rechoke_ms, upload_slots; /* 0: leave the children's default */
    long interval_s;
    long timeout_s; /* 0: automatic */
    bool keep_files, plain;
};

/* Parses "8" or "2,4,8,16" into o->peer_counts. Returns 0 or -1. */
static int parse_peer_list(const char *s, struct swarm_opts *o)
{
    o->npeer_counts = 0;
    o->peers_is_list = strchr(s, ',') != NULL;
    const char *p = s;
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

/* Reads a size or rate option through units.c, naming the option in the message. */
static int parse_amount(const char *opt, const char *s, bool rate, uint64_t *out)
{
    char why[128];
    int r = rate ? units_parse_rate(s, out, why, sizeof why)
                 : units_parse_size(s, out, why, sizeof why);
    if (r < 0)
        fprintf(stderr, "minitorrent swarm: bad --%s: %s\n", opt, why);
    return r;
}

/* Parses the command line. Returns 0, 1 after --help or --version, or -1 after a usage error. */
static int parse_options(int argc, char **argv, struct swarm_opts *o)
{
    enum {
        OPT_SIZE = 1000,
        OPT_PIECE,
        OPT_SEED_UP,
        OPT_PEER_UP,
        OPT_PEER_DOWN,
        OPT_MODE,
        OPT_CHURN,
        OPT_JSON,
        OPT_PLOT,
        OPT_SEED,
        OPT_RECHOKE,
        OPT_SLOTS,
        OPT_INTERVAL,
        OPT_TIMEOUT,
        OPT_KEEP,
        OPT_PLAIN,
        OPT_VERSION
    };
    static const struct option longopts[] = {
        {"peers", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, OPT_SIZE},
        {"piece", required_argument, NULL, OPT_PIECE},
        {"seed-up", required_argument, NULL, OPT_SEED_UP},
        {"peer-up", required_argument, NULL, OPT_PEER_UP},
        {"peer-down", required_argument, NULL, OPT_PEER_DOWN},
        {"mode", required_argument, NULL, OPT_MODE},
        {"churn", no_argument, NULL, OPT_CHURN},
        {"json", required_argument, NULL, OPT_JSON},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"rechoke-secs", required_argument, NULL, OPT_RECHOKE},
        {"upload-slots", required_argument, NULL, OPT_SLOTS},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"keep-files", no_argument, NULL, OPT_KEEP},
        {"plain", no_argument, NULL, OPT_PLAIN},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
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
    };
    long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_peer_list(optarg, o) < 0) {
                fprintf(stderr,
                        "minitorrent swarm: bad --peers '%s': expected N or N,N,... with each N "
                        "from 1 to %d (at most %d of them)\n",
                        optarg, MAX_PEERS, MAX_PEER_COUNTS);
                return -1;
            }
            break;
        case OPT_SIZE:
            if (parse_amount("size", optarg, false, &o->size) < 0)
                return -1;
            if (o->size == 0 || o->size > (UINT64_C(4) << 30)) {
                fprintf(stderr, "minitorrent swarm: --size must be from 1 byte to 4G\n");
                return -1;
            }
            break;
        case OPT_PIECE:
            if (parse_amount("piece", optarg, false, &o->piece) < 0)
                return -1;
            if (o->piece < METAINFO_MIN_PIECE_LENGTH || o->piece > METAINFO_MAX_PIECE_LENGTH) {
                fprintf(stderr, "minitorrent swarm: --piece must be from 16K to 16M\n");
                return -1;
            }
            break;
        case OPT_SEED_UP:
            if (parse_amount("seed-up", optarg, true, &o->seed_up) < 0)
                return -1;
            break;
        case OPT_PEER_UP:
            if (parse_amount("peer-up", optarg, true, &o->peer_up) < 0)
                return -1;
            break;
        case OPT_PEER_DOWN:
            if (parse_amount("peer-down", optarg, true, &o->peer_down) < 0)
                return -1;
            break;
        case OPT_MODE:
            if (strcmp(optarg, "p2p") == 0) {
                o->mode = MODE_P2P;
            } else if (strcmp(optarg, "client-server") == 0 || strcmp(optarg, "cs") == 0) {
                o->mode = MODE_CS;
            } else {
                fprintf(stderr,
                        "minitorrent swarm: bad --mode '%s': expected p2p or "
                        "client-server\n",
                        optarg);
                return -1;
            }
            break;
        case OPT_CHURN:
            o->churn = true;
            break;
        case OPT_JSON:
            o->json_file = optarg;
            break;
        case OPT_PLOT:
            o->plot_file = optarg;
            break;
        case OPT_SEED:
            if (cli_parse_long(optarg, 1, 0x7fffffffL, &v) < 0) {
                fprintf(stderr, "minitorrent swarm: bad --seed '%s': expected 1 to 2147483647\n",
                        optarg);
                return -1;
            }
            o->seed = (uint64_t)v;
            o->seed_given = true;
            break;
        case OPT_RECHOKE: {
            uint64_t ms;
            if (units_parse_seconds(optarg, &ms, NULL, 0) < 0 || ms < 10 || ms > 600000) {
                fprintf(
                    stderr,
                    "minitorrent swarm: bad --rechoke-secs '%s': expected 0.01 to 600 seconds\n",
                    optarg);
                return -1;
            }
            o->rechoke_ms = (long)ms;
            break;
        }
        case OPT_SLOTS:
        case OPT_INTERVAL:
        case OPT_TIMEOUT: {
            static const struct {
                const char *name;
                long min, max;
            } lim[] = {{"upload-slots", 1, 100}, {"interval", 1, 3600}, {"timeout", 1, 86400}};
            int k = c - OPT_SLOTS;
            if (cli_parse_long(optarg, lim[k].min, lim[k].max, &v) < 0) {
                fprintf(stderr, "minitorrent swarm: bad --%s '%s': expected %ld to %ld\n",
                        lim[k].name, optarg, lim[k].min, lim[k].max);
                return -1;
            }
            long *dst[] = {&o->upload_slots, &o->interval_s, &o->timeout_s};
            *dst[k] = v;
            break;
        }
        case OPT_KEEP:
            o->keep_files = true;
            break;
        case OPT_PLAIN:
            o->plain = true;
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
        fprintf(stderr, "minitorrent swarm: unexpected argument '%s'\n%s", argv[optind], usage);
        return -1;
    }
    return 0;
}

/* ======================================================================================== */
/* Small helpers: time, text, files                                                         */
/* ======================================================================================== */

/* xorshift64*: a small seeded generator for the file's bytes and the churn's choices, so a run
 * with --seed can be replayed. Not for anything secret. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* A uniform double in [0, 1). */
static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static const char *mode_name(enum swarm_mode m)
{
    return m == MODE_P2P ? "p2p" : "client-server";
}

/* Formats a rate for people, saying "unlimited" for 0. */
static const char *rate_text(uint64_t r, char *buf, size_t cap)
{
    if (r == 0) {
        snprintf(buf, cap, "unlimited");
        return buf;
    }
    return units_format_rate((double)r, buf, cap);
}

/* Writes size bytes from the seeded generator to path. Returns 0, or -1 with errno set. */
static int write_random_file(const char *path, uint64_t size, uint64_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    uint64_t s = seed != 0 ? seed : 1; /* xorshift must never start at 0 */
    unsigned char buf[65536];
    int rc = 0;
    for (uint64_t done = 0; done < size && rc == 0;) {
        size_t n = size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;
        for (size_t i = 0; i < n; i += 8) {
            uint64_t r = rng_next(&s);
            for (size_t k = 0; k < 8 && i + k < n; k++)
                buf[i + k] = (unsigned char)(r >> (8 * k));
        }
        if (writen(fd, buf, n) < 0)
            rc = -1;
        done += n;
    }
    int saved = errno;
    if (close(fd) < 0 && rc == 0)
        rc = -1;
    else
        errno = saved;
    return rc;
}

/* Compares two files byte for byte. Returns 1 when equal, 0 when not (or one is unreadable). */
static int same_file(const char *a, const char *b)
{
    int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
    int same = fa >= 0 && fb >= 0;
    static unsigned char ba[65536], bb[65536];
    while (same) {
        ssize_t na = readn(fa, ba, sizeof ba), nb = readn(fb, bb, sizeof bb);
        if (na < 0 || nb < 0 || na != nb || memcmp(ba, bb, (size_t)na) != 0)
            same = 0;
        else if (na == 0)
            break;
    }
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return same;
}

/* Finds this program's file, to start copies of it as the children: argv[0] itself when it has
 * a '/' in it (it then works from our current folder), else the first match on PATH, as the
 * shell found it. There is no portable "path of my own executable" call (Linux has
 * /proc/self/exe, macOS _NSGetExecutablePath), so this is what portable programs do. */
static int find_self(char *out, size_t cap)
{
    const char *a0 = minitorrent_argv0;
    if (a0 == NULL || *a0 == '\0')
        return -1;
    if (strchr(a0, '/') != NULL)
        return snprintf(out, cap, "%s", a0) < (int)cap ? 0 : -1;
    const char *path = getenv("PATH");
    while (path != NULL && *path != '\0') {
        size_t n = strcspn(path, ":");
        /* An empty PATH entry means the current folder. */
        if (snprintf(out, cap, "%.*s/%s", (int)n, n > 0 ? path : ".", a0) < (int)cap &&
            access(out, X_OK) == 0)
            return 0;
        path += n;
        if (*path == ':')
            path++;
    }
    return -1;
}

/* ======================================================================================== */
/* One run                                                                                  */
/* ======================================================================================== */

struct run_result {
    enum swarm_mode mode;
    unsigned peers;
    uint64_t file_bytes, piece_bytes, seed_up, peer_up, peer_down;
    double finish[MAX_PEERS]; /* seconds after the release; negative: did not finish */
    double distribution_s;    /* the last finish; negative when some leecher did not finish */
    double bound_s;
    enum kr_limit limit;
    bool all_verified;
    uint64_t uploaded; /* block bytes the seed and the leechers sent; 0: not counted (churn) */
    bool ran;          /* false when the run could not start or was interrupted */
};

/* What each child of a run is. swarm_children.c starts, reads and stops every child alike; the
 * role says what its lines mean and whether its death ends the run. */
enum role { ROLE_TRACKER, ROLE_CREATE, ROLE_SEED, ROLE_LEECHER };

/* Everything one run works with. */
struct run {
    const struct swarm_opts *o;
    enum swarm_mode mode;
    unsigned n;
    const char *self;
    FILE *out; /* where the report and the view go */
    struct children cs;
    struct child kids[MAX_PEERS + 3];         /* [0] tracker, [1] seed, [2 + i] leecher i */
    struct swarm_view_peer vp[MAX_PEERS + 1]; /* [0] seed, [1 + i] leecher i */
    struct swarm_view view;
    char torrent[1100], datafile[1200], name[64];
    char announce_url[128];
    double t0; /* when the leechers were released */
    uint64_t rng;
    /* Churn: which leechers get killed, at what fraction of their pieces, and where they come
     * back. */
    struct {
        bool victim, done, new_addr;
        double at_fraction;
        double restart_at; /* when a killed peer is started again; 0: not pending */
        uint32_t had_pieces;
        bool announced_back;
    } churn[MAX_PEERS];
    unsigned next_new_addr;
};

static struct child *leecher(struct run *r, unsigned i)
{
    return &r->kids[2 + i];
}

/* Handles one line from a child of run ctx (child_read has already taken its port from it): the
 * peer's status and its completion, for the view. */
static void on_line(void *ctx, struct child *ch, const char *line)
{
    struct run *r = ctx;
    struct swarm_view_peer *vp = NULL;
    if (ch->role == ROLE_SEED)
        vp = &r->vp[0];
    else if (ch->role == ROLE_LEECHER)
        vp = &r->vp[1 + (unsigned)(ch - leecher(r, 0))];
    /* The tracker's lines, and those of `minitorrent create`, have nothing for the view. */
    if (vp == NULL)
        return;
    int port = 0;
    enum swarm_line kind = swarm_parse_line(line, &vp->st, &port);
    double t = clock_s() - r->t0;
    if (kind == SWARM_LINE_STATUS && vp->state == SWARM_PEER_STARTING) {
        vp->state = vp->st.complete ? SWARM_PEER_DONE : SWARM_PEER_RUNNING;
        unsigned i = (unsigned)(vp - r->vp) - 1;
        if (ch->role == ROLE_LEECHER && vp->restarts > 0 && !r->churn[i].announced_back) {
            r->churn[i].announced_back = true;
            swarm_view_event(&r->view, t,
                             "%s is back on %s and resumed with %u/%u verified pieces (it had "
                             "%u when killed)",
                             vp->name, vp->addr, vp->st.have, vp->st.total, r->churn[i].had_pieces);
        }
    }
    if (kind == SWARM_LINE_COMPLETE && ch->role == ROLE_LEECHER && vp->finish_s < 0) {
        vp->finish_s = t;
        vp->state = SWARM_PEER_DONE;
        vp->st.have = vp->st.total;
        swarm_view_event(&r->view, t, "%s has every piece, verified, after %.2f s", vp->name, t);
    }
}

/* Runs `minitorrent create` and waits for it. Returns 0 or -1. */
static int make_torrent(struct run *r, char *err, size_t errlen)
{
    char piece[32];
    snprintf(piece, sizeof piece, "%llu", (unsigned long long)r->o->piece);
    char *argv[] = {(char *)r->self, "create", r->datafile, "-a", r->announce_url, "-l", piece,
                    "--private",     "-o",     r->torrent,  NULL};
    struct child *ch = &r->kids[r->n + 2];
    *ch = (struct child){.role = ROLE_CREATE, .out_fd = -1};
    snprintf(ch->name, sizeof ch->name, "create");
    if (child_start(&r->cs, ch, r->self, argv, err, errlen) < 0)
        return -1;
    double deadline = clock_s() + 120;
    while (ch->out_fd >= 0 && !cli_stop_requested && clock_s() < deadline) {
        struct pollfd pfd = {.fd = ch->out_fd, .events = POLLIN};
        if (poll(&pfd, 1, 200) > 0)
            child_read(ch, on_line, r);
    }
    children_stop(ch, 1, 5);
    if (!WIFEXITED(ch->wstatus) || WEXITSTATUS(ch->wstatus) != 0) {
        char how[64];
        snprintf(err, errlen, "minitorrent create failed (%s)",
                 child_exit_text(ch, how, sizeof how));
        child_show_log_tail(&r->cs, ch, stderr);
        return -1;
    }
    ch->pid = 0;
    return 0;
}

/* Starts leecher i (again, after churn) on the address in its view row. */
static int start_leecher(struct run *r, unsigned i, char *err, size_t errlen)
{
    const struct swarm_opts *o = r->o;
    char dir[1100], rate_up[32], rate_down[32], status_ms[] = "200", rechoke[32], slots[32],
                                                seed[32];
    snprintf(dir, sizeof dir, "%s/%s", r->cs.tmp, r->vp[1 + i].name);
    snprintf(rate_up, sizeof rate_up, "%llu", (unsigned long long)o->peer_up);
    snprintf(rate_down, sizeof rate_down, "%llu", (unsigned long long)o->peer_down);
    snprintf(rechoke, sizeof rechoke, "%ld.%03ld", o->rechoke_ms / 1000, o->rechoke_ms % 1000);
    snprintf(slots, sizeof slots, "%ld", o->upload_slots);
    /* Each peer gets its own picker seed, so they do not all pick the same pieces. */
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)((r->rng >> 33) % 2000000000 + i + 1));
    char *argv[32];
    int a = 0;
    argv[a++] = (char *)r->self;
    argv[a++] = "get";
    argv[a++] = r->torrent;
    argv[a++] = "-d";
    argv[a++] = dir;
    argv[a++] = "-b";
    argv[a++] = r->vp[1 + i].addr;
    argv[a++] = "-p";
    argv[a++] = "0";
    /* Finished leechers keep uploading, as the K&R model assumes; the swarm stops them. */
    argv[a++] = "--keep-seeding";
    argv[a++] = "--status-ms";
    argv[a++] = status_ms;
    argv[a++] = "--seed";
    argv[a++] = seed;
    if (r->mode == MODE_CS) {
        argv[a++] = "--no-upload";
    } else if (o->peer_up > 0) {
        argv[a++] = "--up-rate";
        argv[a++] = rate_up;
    }
    if (o->peer_down > 0) {
        argv[a++] = "--down-rate";
        argv[a++] = rate_down;
    }
    if (o->rechoke_ms > 0) {
        argv[a++] = "--rechoke-secs";
        argv[a++] = rechoke;
    }
    if (o->upload_slots > 0) {
        argv[a++] = "--upload-slots";
        argv[a++] = slots;
    }
    argv[a] = NULL;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %.300s: %s", dir, strerror(errno));
        return -1;
    }
    struct child *ch = leecher(r, i);
    r->vp[1 + i].state = SWARM_PEER_STARTING;
    return child_start(&r->cs, ch, r->self, argv, err, errlen);
}

/* Starts the seed with the file in TMP/seed. */
static int start_seed(struct run *r, char *err, size_t errlen)
{
    const struct swarm_opts *o = r->o;
    char dir[1100], rate[32], rechoke[32], slots[32], seed[32];
    snprintf(dir, sizeof dir, "%s/seed", r->cs.tmp);
    snprintf(rate, sizeof rate, "%llu", (unsigned long long)o->seed_up);
    snprintf(rechoke, sizeof rechoke, "%ld.%03ld", o->rechoke_ms / 1000, o->rechoke_ms % 1000);
    snprintf(slots, sizeof slots, "%ld", o->upload_slots);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)((r->rng >> 33) % 2000000000 + 1));
    char *argv[24];
    int a = 0;
    argv[a++] = (char *)r->self;
    argv[a++] = "seed";
    argv[a++] = r->torrent;
    argv[a++] = "-d";
    argv[a++] = dir;
    argv[a++] = "-b";
    argv[a++] = r->vp[0].addr;
    argv[a++] = "-p";
    argv[a++] = "0";
    argv[a++] = "--status-ms";
    argv[a++] = "200";
    argv[a++] = "--seed";
    argv[a++] = seed;
    if (o->seed_up > 0) {
        argv[a++] = "--up-rate";
        argv[a++] = rate;
    }
    if (o->rechoke_ms > 0) {
        argv[a++] = "--rechoke-secs";
        argv[a++] = rechoke;
    }
    if (o->upload_slots > 0) {
        argv[a++] = "--upload-slots";
        argv[a++] = slots;
    }
    argv[a] = NULL;
    return child_start(&r->cs, &r->kids[1], r->self, argv, err, errlen);
}

/* Waits until the tracker lists the seed as complete (a scrape), so the leechers released next
 * find it in their first announce instead of waiting a whole interval. The scrape is polled
 * every 100 ms while the children's output is drained: an event, not a guess at how long the
 * seed needs. Returns 0, or -1 after timeout_s, on Ctrl-C, or if the seed died. */
static int wait_seed_registered(struct run *r, double timeout_s)
{
    FILE *f = fopen(r->torrent, "rb");
    if (f == NULL)
        return -1;
    static unsigned char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct metainfo mi;
    metainfo_init(&mi);
    if (metainfo_parse(&mi, buf, len, NULL, 0) < 0)
        return -1;
    unsigned char hash[20];
    memcpy(hash, mi.info_hash, sizeof hash);
    metainfo_free(&mi);

    double deadline = clock_s() + timeout_s;
    while (!cli_stop_requested && clock_s() < deadline && r->kids[1].out_fd >= 0) {
        struct tracker_scrape_counts c;
        char err[256];
        if (announce_scrape(r->announce_url, hash, 2000, &c, err, sizeof err) == 0 &&
            c.complete >= 1)
            return 0;
        struct pollfd pfd[2] = {{.fd = r->kids[1].out_fd, .events = POLLIN},
                                {.fd = r->kids[0].out_fd, .events = POLLIN}};
        double until = clock_s() + 0.1;
        while (clock_s() < until && r->kids[1].out_fd >= 0) {
            pfd[0].fd = r->kids[1].out_fd;
            pfd[1].fd = r->kids[0].out_fd;
            if (poll(pfd, 2, 100) > 0) {
                if (pfd[0].revents != 0)
                    child_read(&r->kids[1], on_line, r);
                if (pfd[1].revents != 0 && r->kids[0].out_fd >= 0)
                    child_read(&r->kids[0], on_line, r);
            }
        }
    }
    return -1;
}

/* Chooses the churn's victims: a third of the leechers (rounded up), each to be killed when it
 * holds a random fraction (15-75 %) of the pieces, which is sure to come before it finishes
 * whatever the speed; every second victim comes back on a new address. */
static void plan_churn(struct run *r)
{
    unsigned order[MAX_PEERS];
    for (unsigned i = 0; i < r->n; i++)
        order[i] = i;
    for (unsigned i = r->n; i > 1; i--) {
        unsigned k = (unsigned)(rng_next(&r->rng) % i);
        unsigned t = order[i - 1];
        order[i - 1] = order[k];
        order[k] = t;
    }
    unsigned victims = (r->n + 2) / 3;
    for (unsigned v = 0; v < victims; v++) {
        unsigned i = order[v];
        r->churn[i].victim = true;
        r->churn[i].at_fraction = 0.15 + 0.6 * rng_unit(&r->rng);
        r->churn[i].new_addr = v % 2 == 0;
    }
}

/* The churn's moves, checked on every loop turn: kill a victim that has reached its fraction,
 * and restart one whose pause is over. */
static int churn_step(struct run *r, char *err, size_t errlen)
{
    double t = clock_s() - r->t0;
    for (unsigned i = 0; i < r->n; i++) {
        struct swarm_view_peer *vp = &r->vp[1 + i];
        struct child *ch = leecher(r, i);
        if (r->churn[i].victim && !r->churn[i].done && vp->state == SWARM_PEER_RUNNING &&
            vp->st.total > 0 && vp->st.have < vp->st.total &&
            vp->st.have >= r->churn[i].at_fraction * vp->st.total) {
            /* SIGKILL: no chance to tell the tracker or the peers. They notice the dead
             * connections, and the tracker forgets the peer when its announces stop. */
            child_kill(ch);
            r->churn[i].done = true;
            r->churn[i].had_pieces = vp->st.have;
            r->churn[i].restart_at = t + 1.0;
            vp->state = SWARM_PEER_DOWN;
            swarm_view_event(&r->view, t, "%s killed with SIGKILL at %u/%u pieces", vp->name,
                             vp->st.have, vp->st.total);
        }
        if (vp->state == SWARM_PEER_DOWN && r->churn[i].restart_at > 0 &&
            t >= r->churn[i].restart_at) {
            r->churn[i].restart_at = 0;
            if (r->churn[i].new_addr) {
                memcpy(vp->prev_addr, vp->addr, sizeof vp->addr);
                snprintf(vp->addr, sizeof vp->addr, "127.0.0.%u",
                         10 + r->n + 1 + r->next_new_addr++);
            }
            vp->restarts++;
            ch->pid = 0;
            if (start_leecher(r, i, err, errlen) < 0)
                return -1;
            swarm_view_event(&r->view, t, "%s restarted on %s%s, same download folder (pid %ld)",
                             vp->name, vp->addr, r->churn[i].new_addr ? " (a new address)" : "",
                             (long)ch->pid);
        }
    }
    return 0;
}

/* Returns true when every leecher has finished. */
static bool all_done(const struct run *r)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->vp[1 + i].finish_s < 0)
            return false;
    return true;
}

/* Notices children that exited by themselves: a dead tracker or seed ends the run; a leecher
 * that died before finishing is reported (the run goes on for the others, and fails). */
static int check_exits(struct run *r, char *err, size_t errlen)
{
    for (size_t k = 0; k < r->n + 2; k++) {
        struct child *ch = &r->kids[k];
        if (ch->pid <= 0 || ch->out_fd >= 0 || ch->exited || ch->killed_by_us)
            continue;
        if (!child_reap(ch))
            continue;
        char how[64];
        child_exit_text(ch, how, sizeof how);
        if (ch->role != ROLE_LEECHER) {
            snprintf(err, errlen, "the %s stopped (%s)", ch->name, how);
            child_show_log_tail(&r->cs, ch, stderr);
            return -1;
        }
        struct swarm_view_peer *vp = &r->vp[1 + (k - 2)];
        if (vp->finish_s < 0) {
            vp->state = SWARM_PEER_FAILED;
            swarm_view_event(&r->view, clock_s() - r->t0, "%s exited before finishing (%s)",
                             vp->name, how);
            child_show_log_tail(&r->cs, ch, stderr);
        }
    }
    return 0;
}

/* The loop between the release and the last finish. Returns 0 when every leecher finished, -1
 * on failure, time out or Ctrl-C (with a message in err). */
static int watch(struct run *r, double deadline, char *err, size_t errlen)
{
    double next_draw = 0, done_at = -1;
    for (;;) {
        if (cli_stop_requested) {
            snprintf(err, errlen, "interrupted");
            return -1;
        }
        /* After the last finish, half a second more of status lines (they come every 200 ms),
         * so every peer's count of bytes uploaded includes its last blocks. */
        if (done_at < 0 && all_done(r))
            done_at = clock_s();
        if (done_at >= 0 && clock_s() >= done_at + 0.5)
            return 0;
        if (clock_s() >= deadline) {
            snprintf(err, errlen, "gave up after %.0f s (--timeout)", clock_s() - r->t0);
            return -1;
        }
        if (check_exits(r, err, errlen) < 0)
            return -1;
        bool failed = false;
        for (unsigned i = 0; i < r->n; i++)
            failed |= r->vp[1 + i].state == SWARM_PEER_FAILED;
        if (failed) {
            snprintf(err, errlen, "a leecher failed");
            return -1;
        }
        if (r->o->churn && churn_step(r, err, errlen) < 0)
            return -1;
        if (clock_s() >= next_draw) {
            swarm_view_draw(&r->view, clock_s() - r->t0);
            next_draw = clock_s() + 0.25;
        }

        struct pollfd pfd[MAX_PEERS + 3];
        size_t who[MAX_PEERS + 3];
        nfds_t np = 0;
        for (size_t k = 0; k < r->n + 2; k++)
            if (r->kids[k].out_fd >= 0) {
                pfd[np] = (struct pollfd){.fd = r->kids[k].out_fd, .events = POLLIN};
                who[np++] = k;
            }
        /* Wake up at least every 100 ms for the redraw, the churn and the exit checks. */
        int n = poll(pfd, np, 100);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        for (nfds_t k = 0; n > 0 && k < np; k++)
            if (pfd[k].revents != 0)
                child_read(&r->kids[who[k]], on_line, r);
    }
}

/* Prints the run's results: each finish time, D, the bound and their ratio. */
static void report(const struct run *r, const struct run_result *res)
{
    FILE *out = r->out;
    fprintf(out, "\nfinish times (s after the release):");
    for (unsigned i = 0; i < r->n; i++) {
        if (i % 8 == 0)
            fprintf(out, "\n ");
        if (res->finish[i] >= 0)
            fprintf(out, " %s %.2f", r->vp[1 + i].name, res->finish[i]);
        else
            fprintf(out, " %s -", r->vp[1 + i].name);
    }
    fprintf(out, "\n");
    if (res->distribution_s >= 0)
        fprintf(out, "distribution time D (the last finish): %.2f s\n", res->distribution_s);
    else
        fprintf(out, "distribution time D: not measured (not every leecher finished)\n");
    if (res->bound_s > 0) {
        fprintf(out, "K&R lower bound (%s): %.2f s\n  limited by %s\n",
                res->mode == MODE_P2P ? "P2P" : "client-server", res->bound_s,
                kr_limit_text(res->limit));
        if (res->distribution_s >= 0)
            fprintf(out, "D / bound = %.2f\n", res->distribution_s / res->bound_s);
    } else {
        fprintf(out, "K&R lower bound: none (with these unlimited rates the formula gives 0)\n");
    }
    fprintf(out, "every copy verified byte for byte: %s\n", res->all_verified ? "yes" : "NO");
    /* The bound assumes every byte uploaded is a byte someone needed; copies sent twice in the
     * end game (and pieces sent again after a bad hash) are what the swarm paid on top. */
    uint64_t copies = (uint64_t)res->peers * res->file_bytes;
    if (res->uploaded > 0 && copies > 0) {
        char up[UNITS_BUFLEN], need[UNITS_BUFLEN];
        fprintf(out, "uploaded in all: %s for %u copies of the file (%s), %.1f %% more\n",
                units_format_size(res->uploaded, up, sizeof up), res->peers,
                units_format_size(copies, need, sizeof need),
                res->uploaded > copies ? 100.0 * (double)(res->uploaded - copies) / (double)copies
                                       : 0.0);
    }
    fflush(out);
}

/* Says which children ended badly after being asked to stop: every one of them should exit with
 * status 0 on SIGTERM. Anything else (a crash, a sanitizer's report, a child that had to be
 * killed) is a bug worth seeing, even when every copy was verified. */
static void warn_bad_exits(const struct run *r)
{
    for (size_t k = 0; k < r->n + 2; k++) {
        const struct child *ch = &r->kids[k];
        if (ch->pid <= 0 || !ch->exited || ch->killed_by_us ||
            (WIFEXITED(ch->wstatus) && WEXITSTATUS(ch->wstatus) == 0))
            continue;
        char how[64];
        fprintf(stderr, "minitorrent swarm: warning: %s ended with %s when stopped\n", ch->name,
                child_exit_text(ch, how, sizeof how));
        child_show_log_tail(&r->cs, ch, stderr);
    }
}

/* Runs one swarm of n leechers in the given mode and fills *res. Returns 0 when it ran to the
 * end (res->all_verified says whether it succeeded), or -1 when it could not start or was
 * interrupted. Every child is stopped and the temporary folder removed before it returns. */
static int run_swarm(const struct swarm_opts *o, const char *self, enum swarm_mode mode, unsigned n,
                     uint64_t seed, FILE *out, struct run_result *res)
{
    static struct run r; /* large; runs happen one at a time */
    memset(&r, 0, sizeof r);
    r.o = o;
    r.mode = mode;
    r.n = n;
    r.self = self;
    r.out = out;
    r.rng = seed;
    for (size_t k = 0; k < n + 3; k++)
        r.kids[k] = (struct child){.out_fd = -1};

    *res = (struct run_result){.mode = mode,
                               .peers = n,
                               .file_bytes = o->size,
                               .piece_bytes = o->piece,
                               .seed_up = o->seed_up,
                               .peer_up = o->peer_up,
                               .peer_down = o->peer_down,
                               .distribution_s = -1};
    struct kr_params kp;
    kr_params_uniform(&kp, o->size, n, o->seed_up, o->peer_up, o->peer_down);
    res->bound_s = mode == MODE_P2P ? kr_bound_p2p(&kp, &res->limit)
                                    : kr_bound_client_server(&kp, &res->limit);
    for (unsigned i = 0; i < n; i++)
        res->finish[i] = -1;

    char err[512] = "";
    int rc = -1;
    if (children_make_folder(&r.cs) < 0) {
        fprintf(stderr, "minitorrent swarm: cannot make a temporary folder: %s\n", strerror(errno));
        return -1;
    }

    /* The names: the seed at 127.0.0.2, leecher i at 127.0.0.(11 + i). */
    snprintf(r.vp[0].name, sizeof r.vp[0].name, "seed");
    snprintf(r.vp[0].addr, sizeof r.vp[0].addr, "127.0.0.2");
    r.vp[0].finish_s = -1;
    for (unsigned i = 0; i < n; i++) {
        snprintf(r.vp[1 + i].name, sizeof r.vp[1 + i].name, "p%u", i + 1);
        snprintf(r.vp[1 + i].addr, sizeof r.vp[1 + i].addr, "127.0.0.%u", 11 + i);
        r.vp[1 + i].finish_s = -1;
        r.kids[2 + i].role = ROLE_LEECHER;
        snprintf(r.kids[2 + i].name, sizeof r.kids[2 + i].name, "p%u", i + 1);
    }
    r.kids[0].role = ROLE_TRACKER;
    snprintf(r.kids[0].name, sizeof r.kids[0].name, "tracker");
    r.kids[1].role = ROLE_SEED;
    snprintf(r.kids[1].name, sizeof r.kids[1].name, "seed");

    bool tty = !o->plain && isatty(fileno(out));
    swarm_view_init(&r.view, out, tty, r.vp, n + 1);
#ifdef TIOCGWINSZ
    struct winsize ws;
    if (tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40)
        r.view.width = ws.ws_col - 1;
#endif
    char fs[UNITS_BUFLEN], ps[UNITS_BUFLEN], us[UNITS_BUFLEN], ui[UNITS_BUFLEN], di[UNITS_BUFLEN];
    units_format_size(o->size, fs, sizeof fs);
    units_format_size(o->piece, ps, sizeof ps);
    rate_text(o->seed_up, us, sizeof us);
    rate_text(mode == MODE_P2P ? o->peer_up : 0, ui, sizeof ui);
    if (mode == MODE_CS)
        snprintf(ui, sizeof ui, "0 (no upload)");
    rate_text(o->peer_down, di, sizeof di);
    snprintf(r.view.title, sizeof r.view.title,
             "%s  N=%u  F=%s  u_s=%s  u_i=%s  d=%s  bound %.1f s%s",
             mode == MODE_P2P ? "P2P" : "client-server", n, fs, us, ui, di, res->bound_s,
             o->churn ? "  churn" : "");
    fprintf(out,
            "== %s swarm: %u leechers, a %s file in pieces of %s, seed upload %s, leecher "
            "upload %s, download %s\n",
            mode == MODE_P2P ? "P2P" : "client-server", n, fs, ps, us, ui, di);
    fflush(out);

    /* 1. The file and the tracker. */
    char seeddir[1100];
    snprintf(seeddir, sizeof seeddir, "%s/seed", r.cs.tmp);
    snprintf(r.name, sizeof r.name, "swarm-%llu.bin", (unsigned long long)o->size);
    snprintf(r.datafile, sizeof r.datafile, "%s/%s", seeddir, r.name);
    snprintf(r.torrent, sizeof r.torrent, "%s/swarm.torrent", r.cs.tmp);
    if (mkdir(seeddir, 0755) < 0 || write_random_file(r.datafile, o->size, seed) < 0) {
        snprintf(err, sizeof err, "cannot write the random file %.300s: %s", r.datafile,
                 strerror(errno));
        goto out;
    }
    char interval[32];
    snprintf(interval, sizeof interval, "%ld", o->interval_s);
    char *targv[] = {(char *)self, "tracker",    "-p",     "0", "-b",
                     "127.0.0.1",  "--interval", interval, NULL};
    if (child_start(&r.cs, &r.kids[0], self, targv, err, sizeof err) < 0)
        goto out;
    if (child_wait_listening(&r.kids[0], 15, on_line, &r) < 0) {
        snprintf(err, sizeof err, "the tracker did not start");
        child_show_log_tail(&r.cs, &r.kids[0], stderr);
        goto out;
    }
    snprintf(r.announce_url, sizeof r.announce_url, "http://127.0.0.1:%d/announce", r.kids[0].port);
    fprintf(out, "tracker at %s (pid %ld)\n", r.announce_url, (long)r.kids[0].pid);

    /* 2. The torrent and the seed. */
    if (make_torrent(&r, err, sizeof err) < 0)
        goto out;
    if (start_seed(&r, err, sizeof err) < 0)
        goto out;
    if (child_wait_listening(&r.kids[1], 30, on_line, &r) < 0) {
        snprintf(err, sizeof err, "the seed did not start");
        child_show_log_tail(&r.cs, &r.kids[1], stderr);
        goto out;
    }
    fprintf(out, "seed on %s:%d (pid %ld)\n", r.vp[0].addr, r.kids[1].port, (long)r.kids[1].pid);
    if (wait_seed_registered(&r, 15) < 0) {
        snprintf(err, sizeof err, "the tracker never listed the seed");
        child_show_log_tail(&r.cs, &r.kids[1], stderr);
        goto out;
    }
    r.vp[0].state = SWARM_PEER_RUNNING;

    /* 3. Release every leecher at once; D is measured from here. */
    if (o->churn)
        plan_churn(&r);
    r.t0 = clock_s();
    for (unsigned i = 0; i < n; i++)
        if (start_leecher(&r, i, err, sizeof err) < 0)
            goto out;
    if (!tty) {
        for (unsigned i = 0; i < n; i++)
            fprintf(out, "%s on %s (pid %ld)\n", r.vp[1 + i].name, r.vp[1 + i].addr,
                    (long)leecher(&r, i)->pid);
        fflush(out);
    }
    double limit = o->timeout_s > 0 ? (double)o->timeout_s : 60 + 10 * res->bound_s;
    int w = watch(&r, r.t0 + limit, err, sizeof err);
    swarm_view_finish(&r.view, clock_s() - r.t0);
    if (w < 0 && cli_stop_requested)
        goto out;

    /* 4. Every finished copy must equal the original, byte for byte. */
    res->all_verified = w == 0;
    double last = 0;
    for (unsigned i = 0; i < n; i++) {
        res->finish[i] = r.vp[1 + i].finish_s;
        char copy[1300];
        snprintf(copy, sizeof copy, "%s/%s/%s", r.cs.tmp, r.vp[1 + i].name, r.name);
        if (res->finish[i] < 0 || !same_file(r.datafile, copy))
            res->all_verified = false;
        if (res->finish[i] > last)
            last = res->finish[i];
    }
    res->distribution_s = w == 0 ? last : -1;
    /* A peer restarted by the churn counts from its restart, so the sum would fall short. */
    res->uploaded = 0;
    if (!o->churn)
        for (unsigned i = 0; i <= n; i++)
            res->uploaded += r.vp[i].st.uploaded;
    res->ran = true;
    rc = 0;
out:
    /* Leechers and seed first, while the tracker can still take their goodbyes; then it. */
    children_stop(r.kids + 1, n + 1, 5);
    children_stop(r.kids, 1, 5);
    if (rc == 0)
        warn_bad_exits(&r);
    if (err[0] != '\0')
        fprintf(stderr, "minitorrent swarm: %s\n", err);
    if (rc == 0)
        report(&r, res);
    if (o->keep_files)
        fprintf(out, "files kept in %s\n", r.cs.tmp);
    else if (children_remove_folder(&r.cs) < 0)
        fprintf(stderr, "minitorrent swarm: could not remove all of %s\n", r.cs.tmp);
    return rc;
}

/* ======================================================================================== */
/* JSON and the plot                                                                        */
/* ======================================================================================== */

static void json_result(struct json_out *j, const struct run_result *res)
{
    json_begin_object(j);
    json_key(j, "mode");
    json_string(j, mode_name(res->mode));
    json_key(j, "peers");
    json_uint(j, res->peers);
    json_key(j, "file_bytes");
    json_uint(j, res->file_bytes);
    json_key(j, "piece_bytes");
    json_uint(j, res->piece_bytes);
    json_key(j, "seed_up_Bps");
    json_uint(j, res->seed_up);
    json_key(j, "peer_up_Bps");
    json_uint(j, res->mode == MODE_CS ? 0 : res->peer_up);
    json_key(j, "peer_down_Bps");
    json_uint(j, res->peer_down);
    json_key(j, "distribution_time_s");
    if (res->distribution_s >= 0)
        json_number(j, res->distribution_s);
    else
        json_null(j);
    json_key(j, "bound_s");
    json_number(j, res->bound_s);
    json_key(j, "ratio");
    if (res->distribution_s >= 0 && res->bound_s > 0)
        json_number(j, res->distribution_s / res->bound_s);
    else
        json_null(j);
    json_key(j, "finish_times_s");
    json_begin_array(j);
    for (unsigned i = 0; i < res->peers; i++) {
        if (res->finish[i] >= 0)
            json_number(j, res->finish[i]);
        else
            json_null(j);
    }
    json_end_array(j);
    json_key(j, "all_verified");
    json_bool(j, res->all_verified);
    json_key(j, "uploaded_bytes");
    if (res->uploaded > 0)
        json_number(j, (double)res->uploaded);
    else
        json_null(j);
    json_end_object(j);
}

static int write_json(const char *path, const struct run_result *res, size_t nres, bool list)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "minitorrent swarm: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct json_out j;
    json_out_init(&j, f);
    if (list)
        json_begin_array(&j);
    for (size_t i = 0; i < nres; i++)
        json_result(&j, &res[i]);
    if (list)
        json_end_array(&j);
    int rc = json_out_finish(&j);
    if (fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "minitorrent swarm: error writing %s\n", path);
    return rc;
}

/* Draws the textbook's figure: both bounds as curves over N = 1..max, and every measured D as a
 * point, P2P as circles and client-server as squares. */
static int write_plot(const char *path, const struct swarm_opts *o, const struct run_result *res,
                      size_t nres)
{
    unsigned nmax = 4;
    for (size_t i = 0; i < nres; i++)
        if (res[i].peers > nmax)
            nmax = res[i].peers;
    double *bx = calloc(nmax, sizeof *bx), *bcs = calloc(nmax, sizeof *bcs),
           *bp2p = calloc(nmax, sizeof *bp2p);
    double px_[2][2 * MAX_PEER_COUNTS], py_[2][2 * MAX_PEER_COUNTS];
    size_t pn[2] = {0, 0};
    int rc = -1;
    char *svg = NULL;
    if (bx == NULL || bcs == NULL || bp2p == NULL)
        goto out;
    for (unsigned k = 1; k <= nmax; k++) {
        struct kr_params kp;
        kr_params_uniform(&kp, o->size, k, o->seed_up, o->peer_up, o->peer_down);
        bx[k - 1] = k;
        bcs[k - 1] = kr_bound_client_server(&kp, NULL);
        bp2p[k - 1] = kr_bound_p2p(&kp, NULL);
    }
    for (size_t i = 0; i < nres; i++) {
        if (res[i].distribution_s < 0)
            continue;
        int m = res[i].mode == MODE_P2P ? 0 : 1;
        px_[m][pn[m]] = res[i].peers;
        py_[m][pn[m]++] = res[i].distribution_s;
    }
    static const char blue[] = "#1f5fa8", red[] = "#c0392b";
    struct svgplot_series s[4] = {
        {"client-server: K&R bound", SVGPLOT_LINE, SVGPLOT_SQUARE, red, bx, bcs, nmax},
        {"client-server: measured D", SVGPLOT_POINTS, SVGPLOT_SQUARE, red, px_[1], py_[1], pn[1]},
        {"P2P: K&R bound", SVGPLOT_LINE, SVGPLOT_CIRCLE, blue, bx, bp2p, nmax},
        {"P2P: measured D", SVGPLOT_POINTS, SVGPLOT_CIRCLE, blue, px_[0], py_[0], pn[0]},
    };
    char title[200], fs[UNITS_BUFLEN], us[UNITS_BUFLEN], ui[UNITS_BUFLEN];
    snprintf(title, sizeof title, "Distribution time of a %s file: u_s = %s, u_i = %s",
             units_format_size(o->size, fs, sizeof fs), rate_text(o->seed_up, us, sizeof us),
             rate_text(o->peer_up, ui, sizeof ui));
    struct svgplot plot = {
        .title = title,
        .x_label = "N (peers downloading the file)",
        .y_label = "distribution time D (seconds)",
        .series = s,
        .nseries = 4,
    };
    size_t len;
    svg = svgplot_render(&plot, &len);
    if (svg == NULL)
        goto out;
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "minitorrent swarm: cannot write %s: %s\n", path, strerror(errno));
        goto out;
    }
    rc = fwrite(svg, 1, len, f) == len ? 0 : -1;
    if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "minitorrent swarm: error writing %s\n", path);
out:
    free(svg);
    free(bx);
    free(bcs);
    free(bp2p);
    return rc;
}

/* ======================================================================================== */
/* The command                                                                              */
/* ======================================================================================== */

/* Checks that this machine lets a socket bind 127.0.0.2. Linux routes all of 127.0.0.0/8 to the
 * loopback interface; macOS and the BSDs have only 127.0.0.1 until an alias is added. */
static int check_loopback_aliases(void)
{
    char err[256];
    int fd = net_listen("127.0.0.2", "0", SOCK_STREAM, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr,
                "minitorrent swarm: cannot bind 127.0.0.2 (%s).\n"
                "Every peer needs its own loopback address. On macOS or a BSD, add them first:\n"
                "  for i in $(seq 2 200); do sudo ifconfig lo0 alias 127.0.0.$i up; done\n",
                err);
        return -1;
    }
    close(fd);
    return 0;
}

int cmd_swarm(int argc, char **argv)
{
    /* A bare --plot at the very end means standard output, as if "--plot -" had been written,
     * so `minitorrent swarm ... --plot > figure.svg` works as one would expect. */
    char *args[64];
    if (argc >= 2 && argc < 63 && strcmp(argv[argc - 1], "--plot") == 0) {
        memcpy(args, argv, (size_t)argc * sizeof *argv);
        args[argc++] = "-";
        args[argc] = NULL;
        argv = args;
    }
    struct swarm_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    char self[4096];
    if (find_self(self, sizeof self) < 0) {
        fprintf(stderr, "minitorrent swarm: cannot find the minitorrent program to start the "
                        "peers (run it with a path, e.g. bin/minitorrent)\n");
        return 1;
    }
    if (check_loopback_aliases() < 0)
        return 1;
    /* When the SVG goes to standard output, everything for people goes to stderr. */
    FILE *out = o.plot_file != NULL && strcmp(o.plot_file, "-") == 0 ? stderr : stdout;
    io_ignore_sigpipe();
    cli_catch_stop_signals();
    if (!o.seed_given)
        o.seed = rand_u64() % 0x7fffffff + 1;
    fprintf(out, "random seed %llu (replay with --seed %llu)\n", (unsigned long long)o.seed,
            (unsigned long long)o.seed);

    /* One run per N, or for a list each N in both modes: the two curves of the figure. */
    static struct run_result res[2 * MAX_PEER_COUNTS];
    size_t nres = 0;
    int status = 0;
    for (size_t k = 0; k < o.npeer_counts && !cli_stop_requested; k++) {
        for (int m = 0; m < 2; m++) {
            enum swarm_mode mode = o.peers_is_list ? (m == 0 ? MODE_P2P : MODE_CS) : o.mode;
            if (!o.peers_is_list && m == 1)
                break;
            uint64_t run_seed = o.seed * 1000003u + nres;
            struct run_result *rr = &res[nres];
            if (run_swarm(&o, self, mode, o.peer_counts[k], run_seed, out, rr) < 0) {
                status = 1;
                break;
            }
            nres++;
            if (!rr->all_verified)
                status = 1;
        }
        if (status != 0)
            break;
    }
    if (cli_stop_requested) {
        fprintf(stderr, "minitorrent swarm: interrupted; every peer has been stopped\n");
        return 130;
    }

    if (nres > 1) {
        fprintf(out, "\n%5s  %-14s %10s %10s %7s\n", "N", "mode", "D (s)", "bound (s)", "ratio");
        for (size_t i = 0; i < nres; i++) {
            fprintf(out, "%5u  %-14s ", res[i].peers, mode_name(res[i].mode));
            if (res[i].distribution_s >= 0)
                fprintf(out, "%10.2f ", res[i].distribution_s);
            else
                fprintf(out, "%10s ", "-");
            fprintf(out, "%10.2f ", res[i].bound_s);
            if (res[i].distribution_s >= 0 && res[i].bound_s > 0)
                fprintf(out, "%7.2f\n", res[i].distribution_s / res[i].bound_s);
            else
                fprintf(out, "%7s\n", "-");
        }
    }
    if (o.json_file != NULL && nres > 0) {
        if (write_json(o.json_file, res, nres, o.peers_is_list) < 0)
            status = 1;
        else
            fprintf(out, "results written to %s\n", o.json_file);
    }
    if (o.plot_file != NULL && nres > 0) {
        if (write_plot(o.plot_file, &o, res, nres) < 0)
            status = 1;
        else if (out != stderr)
            fprintf(out, "plot written to %s\n", o.plot_file);
    }
    return status;
}
