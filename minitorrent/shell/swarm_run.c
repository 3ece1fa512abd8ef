/*
 * swarm_run.c - one run of a swarm on this machine: the file, the tracker, the seed and N
 * leechers, each its own process, and the loop that watches them until every leecher holds a
 * verified copy.
 *
 *   1. it makes a random file in a temporary folder and a .torrent for it;
 *   2. it starts a tracker, one seed and N leechers, each its own process (this same program, run
 *      as `minitorrent tracker`, `seed` and `get`), each on its own loopback address 127.0.0.x,
 *      with the upload and download rates the options ask for;
 *   3. it releases all leechers at once (D is measured from that moment) and shows them live
 *      (swarm_view.c), reading the status lines every child prints;
 *   4. when every leecher has said "complete", it checks every copy byte for byte against the
 *      original and fills in the result.
 *
 * Everything runs single-threaded around poll(): the children's stdout pipes are the events, and
 * the only timers are the redraw, the churn's restarts, the samples and the deadlines. Children
 * are found by their "listening on PORT" line and their status lines, never by sleeping and
 * hoping.
 */
#include "swarm_run.h"
#include "announce.h"
#include "cli.h"
#include "clock.h"
#include "io.h"
#include "metainfo.h"
#include "net.h"
#include "units.h"
#include "webview.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *minitorrent_argv0;

/* ======================================================================================== */
/* Small helpers: random numbers, files, finding ourselves                                  */
/* ======================================================================================== */

uint64_t run_rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

double run_rng_unit(uint64_t *s)
{
    return (double)(run_rng_next(s) >> 11) / 9007199254740992.0;
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
            uint64_t r = run_rng_next(&s);
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
int swarm_find_self(char *out, size_t cap)
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

/* Checks that this machine lets a socket bind 127.0.0.2. Linux routes all of 127.0.0.0/8 to the
 * loopback interface; macOS and the BSDs have only 127.0.0.1 until an alias is added. */
int swarm_check_loopback_aliases(const char *cmd)
{
    char err[256];
    int fd = net_listen("127.0.0.2", "0", SOCK_STREAM, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr,
                "minitorrent %s: cannot bind 127.0.0.2 (%s).\n"
                "Every peer needs its own loopback address. On macOS or a BSD, add them first:\n"
                "  for i in $(seq 2 200); do sudo ifconfig lo0 alias 127.0.0.$i up; done\n",
                cmd, err);
        return -1;
    }
    close(fd);
    return 0;
}

/* ======================================================================================== */
/* The children                                                                             */
/* ======================================================================================== */

struct child *run_leecher(struct run *r, unsigned i)
{
    return &r->kids[2 + i];
}

/* Counts how many running peers (the seed too, while it runs) hold each piece, and returns the
 * fewest copies of any piece: the availability of the rarest piece. Returns -1 while no peer has
 * reported its pieces yet. With lost non-NULL, also counts the pieces nobody holds. */
static int rarest_availability(const struct run *r, bool with_seed, unsigned *lost)
{
    if (lost != NULL)
        *lost = 0;
    uint32_t total = r->vp[0].st.total;
    if (total == 0)
        for (unsigned i = 0; i < r->n && total == 0; i++)
            total = r->vp[1 + i].st.total;
    if (total == 0)
        return -1;
    int best = -1;
    for (uint32_t piece = 0; piece < total; piece++) {
        int copies = 0;
        for (unsigned k = with_seed ? 0 : 1; k <= r->n; k++) {
            const struct swarm_view_peer *vp = &r->vp[k];
            if (vp->state == SWARM_PEER_RUNNING || vp->state == SWARM_PEER_DONE)
                copies += swarm_status_has_piece(&vp->st, piece);
        }
        if (best < 0 || copies < best)
            best = copies;
        if (lost != NULL && copies == 0)
            (*lost)++;
    }
    return best;
}

/* Says which peers upload to the watched peer when it got its first piece, and whether by an
 * optimistic unchoke: the moment the optimistic-unchoke experiment is about. */
static void note_unchokers(struct run *r, const struct swarm_view_peer *who, double t)
{
    char list[256] = "";
    size_t len = 0;
    for (unsigned k = 0; k <= r->n; k++) {
        const struct swarm_status *st = &r->vp[k].st;
        bool opt = false, listed = false;
        for (const char *p = st->unchoked; *p != '\0';) {
            size_t n = strcspn(p, ",");
            const char *name = NULL;
            char one[80];
            if (n < sizeof one) {
                memcpy(one, p, n);
                one[n] = '\0';
                name = swarm_view_name_of(&r->view, one);
                if (name != NULL && strcmp(name, who->name) == 0) {
                    listed = true;
                    opt = strcmp(one, st->optimistic) == 0;
                }
            }
            p += n + (p[n] == ',');
        }
        if (listed && len < sizeof list - 40)
            len += (size_t)snprintf(list + len, sizeof list - len, " %s%s", r->vp[k].name,
                                    opt ? " (optimistic)" : "");
    }
    swarm_view_event(&r->view, t, "%s has its first piece; uploading to it now:%s", who->name,
                     len > 0 ? list : " nobody it can see yet");
}

/* Returns whether every address of the comma-separated list a is in list b. */
static bool list_within(const char *a, const char *b)
{
    size_t blen = strlen(b);
    for (const char *p = a; *p != '\0';) {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (const char *q = b; q < b + blen && !found;) {
            size_t m = strcspn(q, ",");
            found = m == n && memcmp(p, q, n) == 0;
            q += m + (q[m] == ',');
        }
        if (!found)
            return false;
        p += n + (p[n] == ',');
    }
    return true;
}

/* Reports the seed's choices as events when they change: its optimistic unchoke moving to
 * another peer (every third re-choke), and a re-choke that changed whom it uploads to. One peer's
 * choices are enough to see the rules work without flooding the screen. */
static void note_seed_choices(struct run *r, const char *was_unchoked, const char *was_opt)
{
    const struct swarm_status *st = &r->vp[0].st;
    double t = clock_s() - r->t0;
    if (r->t0 <= 0)
        return; /* before the release the seed has nobody to choose */
    bool opt_now = st->optimistic[0] != '\0' && strcmp(st->optimistic, "-") != 0;
    if (opt_now && strcmp(st->optimistic, was_opt) != 0) {
        const char *name = swarm_view_name_of(&r->view, st->optimistic);
        swarm_view_event(&r->view, t, "the seed's optimistic unchoke goes to %s",
                         name != NULL ? name : st->optimistic);
    } else if (!(list_within(st->unchoked, was_unchoked) &&
                 list_within(was_unchoked, st->unchoked)) &&
               st->unchoked[0] != '\0' && strcmp(st->unchoked, "-") != 0 &&
               was_unchoked[0] != '\0') {
        char names[200] = "";
        size_t len = 0;
        for (const char *p = st->unchoked; *p != '\0' && len < sizeof names - 20;) {
            size_t n = strcspn(p, ",");
            char one[80];
            if (n < sizeof one) {
                memcpy(one, p, n);
                one[n] = '\0';
                const char *name = swarm_view_name_of(&r->view, one);
                len += (size_t)snprintf(names + len, sizeof names - len, " %s%s",
                                        strcmp(one, st->optimistic) == 0 ? "*" : "",
                                        name != NULL ? name : "?");
            }
            p += n + (p[n] == ',');
        }
        swarm_view_event(&r->view, t, "the seed re-chokes: it now uploads to%s", names);
    }
}

/* Handles one line from a child of run ctx (child_read has already taken its port from it): the
 * peer's status and its completion, for the view and the result. */
static void on_line(void *ctx, struct child *ch, const char *line)
{
    struct run *r = ctx;
    struct swarm_view_peer *vp = NULL;
    if (ch->role == ROLE_SEED)
        vp = &r->vp[0];
    else if (ch->role == ROLE_LEECHER)
        vp = &r->vp[1 + (unsigned)(ch - run_leecher(r, 0))];
    /* The tracker's lines, and those of `minitorrent create`, have nothing for the view. */
    if (vp == NULL)
        return;
    int port = 0;
    char was_unchoked[sizeof vp->st.unchoked], was_opt[sizeof vp->st.optimistic];
    memcpy(was_unchoked, vp->st.unchoked, sizeof was_unchoked);
    memcpy(was_opt, vp->st.optimistic, sizeof was_opt);
    enum swarm_line kind = swarm_parse_line(line, &vp->st, &port);
    if (ch->role == ROLE_SEED && kind == SWARM_LINE_STATUS)
        note_seed_choices(r, was_unchoked, was_opt);
    double t = clock_s() - r->t0;
    unsigned i = (unsigned)(vp - r->vp) - 1;
    if (kind == SWARM_LINE_STATUS && vp->state == SWARM_PEER_STARTING) {
        vp->state = vp->st.complete ? SWARM_PEER_DONE : SWARM_PEER_RUNNING;
        if (ch->role == ROLE_LEECHER && vp->restarts > 0 && !r->churn[i].announced_back) {
            r->churn[i].announced_back = true;
            swarm_view_event(&r->view, t,
                             "%s is back on %s and resumed with %u/%u verified pieces (it had "
                             "%u when killed)",
                             vp->name, vp->addr, vp->st.have, vp->st.total, r->churn[i].had_pieces);
        }
    }
    if (ch->role == ROLE_LEECHER && vp->st.have > 0 && r->res->first_piece[i] < 0) {
        r->res->first_piece[i] = t;
        if (r->plan->watch == (int)i + 1)
            note_unchokers(r, vp, t);
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

/* The options every peer of the run gets, seed and leechers alike: the re-choke interval and
 * slots, the picker, the choker, the optimistic unchoke, upload turns, the status lines and a
 * picker seed.
 * Appends them to argv from index *a; the strings live in buf. */
struct peer_args {
    char rechoke[32], slots[32], seed[32], status_ms[16], pipeline[32], window[32];
};

/* The window of the rates shown live: short, so a peer that is choked is seen to stop within a
 * couple of seconds (the view labels it). */
#define SWARM_STATUS_WINDOW "2"

static void add_peer_options(const struct run *r, struct peer_args *pa, uint64_t seed, char **argv,
                             int *a)
{
    const struct swarm_opts *o = r->o;
    uint64_t rc = swarm_rechoke_ms(o);
    snprintf(pa->rechoke, sizeof pa->rechoke, "%llu.%03llu", (unsigned long long)(rc / 1000),
             (unsigned long long)(rc % 1000));
    snprintf(pa->slots, sizeof pa->slots, "%ld", o->upload_slots);
    snprintf(pa->seed, sizeof pa->seed, "%llu", (unsigned long long)seed);
    /* Fast status lines when the seed is to leave after so many copies: the swarm decides from
     * them. */
    snprintf(pa->status_ms, sizeof pa->status_ms, "%d", r->plan->seed_copies > 0 ? 50 : 200);
    argv[(*a)++] = "--status-ms";
    argv[(*a)++] = pa->status_ms;
    argv[(*a)++] = "--seed";
    argv[(*a)++] = pa->seed;
    argv[(*a)++] = "--rechoke-secs";
    argv[(*a)++] = pa->rechoke;
    /* The choker's 20 s rate window is a timer too: it shrinks with the time scale. */
    uint64_t w = (uint64_t)(20000.0 / o->time_scale + 0.5);
    snprintf(pa->window, sizeof pa->window, "%llu.%03llu", (unsigned long long)(w / 1000),
             (unsigned long long)(w % 1000));
    argv[(*a)++] = "--rate-window-secs";
    argv[(*a)++] = pa->window;
    argv[(*a)++] = "--status-window-secs";
    argv[(*a)++] = SWARM_STATUS_WINDOW;
    if (o->upload_slots > 0) {
        argv[(*a)++] = "--upload-slots";
        argv[(*a)++] = pa->slots;
    }
    if (o->pipeline > 0) {
        snprintf(pa->pipeline, sizeof pa->pipeline, "%ld", o->pipeline);
        argv[(*a)++] = "--pipeline";
        argv[(*a)++] = pa->pipeline;
    }
    if (o->picker != PICK_RAREST) {
        argv[(*a)++] = "--picker";
        argv[(*a)++] = (char *)swarm_picker_name(o->picker);
    }
    if (o->choker != CHOKE_TIT_FOR_TAT) {
        argv[(*a)++] = "--choker";
        argv[(*a)++] = (char *)swarm_choker_name(o->choker);
    }
    if (!o->optimistic) {
        argv[(*a)++] = "--optimistic";
        argv[(*a)++] = "off";
    }
    if (!o->upload_turns) {
        argv[(*a)++] = "--upload-turns";
        argv[(*a)++] = "off";
    }
}

int run_start_leecher(struct run *r, unsigned i, char *err, size_t errlen)
{
    const struct swarm_opts *o = r->o;
    char dir[1100], rate_up[32], rate_down[32];
    struct peer_args pa;
    snprintf(dir, sizeof dir, "%s/%s", r->cs.tmp, r->vp[1 + i].name);
    snprintf(rate_up, sizeof rate_up, "%llu", (unsigned long long)swarm_scaled_rate(o, o->peer_up));
    snprintf(rate_down, sizeof rate_down, "%llu",
             (unsigned long long)swarm_scaled_rate(o, o->peer_down));
    char *argv[48];
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
    /* Each peer gets its own picker seed, so they do not all pick the same pieces. */
    add_peer_options(r, &pa, (r->rng >> 33) % 2000000000 + i + 1, argv, &a);
    if (r->mode == MODE_CS || r->plan->free_rider[i]) {
        argv[a++] = "--no-upload";
    } else if (o->peer_up > 0) {
        argv[a++] = "--up-rate";
        argv[a++] = rate_up;
    }
    if (o->peer_down > 0) {
        argv[a++] = "--down-rate";
        argv[a++] = rate_down;
    }
    char trace[1200];
    if (o->trace_file != NULL) {
        swarm_trace_peer_path(r, r->vp[1 + i].name, trace, sizeof trace);
        argv[a++] = "--trace";
        argv[a++] = trace;
    }
    argv[a] = NULL;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %.300s: %s", dir, strerror(errno));
        return -1;
    }
    struct child *ch = run_leecher(r, i);
    r->vp[1 + i].state = SWARM_PEER_STARTING;
    r->started[i] = true;
    return child_start(&r->cs, ch, r->self, argv, err, errlen);
}

/* Starts the seed with the file in TMP/seed. */
static int start_seed(struct run *r, char *err, size_t errlen)
{
    const struct swarm_opts *o = r->o;
    char dir[1100], rate[32];
    struct peer_args pa;
    snprintf(dir, sizeof dir, "%s/seed", r->cs.tmp);
    snprintf(rate, sizeof rate, "%llu", (unsigned long long)swarm_scaled_rate(o, o->seed_up));
    char *argv[48];
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
    add_peer_options(r, &pa, (r->rng >> 33) % 2000000000 + 1, argv, &a);
    if (o->seed_up > 0) {
        argv[a++] = "--up-rate";
        argv[a++] = rate;
    }
    char trace[1200];
    if (o->trace_file != NULL) {
        swarm_trace_peer_path(r, r->vp[0].name, trace, sizeof trace);
        argv[a++] = "--trace";
        argv[a++] = trace;
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

/* ======================================================================================== */
/* The loop                                                                                 */
/* ======================================================================================== */

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

/* What the experiments add to the loop: newcomers joining late, the seed leaving after one
 * copy, and the rarest piece's availability sampled over time. Returns 1 when the run should
 * end because it stalled (a piece is lost and nobody gains anything), 0 to go on, -1 on error. */
static int plan_step(struct run *r, double t, double *next_sample, double *last_gain_t,
                     uint64_t *last_have_sum, char *err, size_t errlen)
{
    const struct swarm_plan *pl = r->plan;
    struct run_result *res = r->res;
    for (unsigned i = 0; i < r->n; i++)
        if (!r->started[i] && t >= pl->join_at_s[i]) {
            if (run_start_leecher(r, i, err, errlen) < 0)
                return -1;
            swarm_view_event(&r->view, t, "%s joins the swarm with nothing", r->vp[1 + i].name);
        }
    if (pl->seed_copies > 0 && res->seed_left_s < 0 &&
        (double)r->vp[0].st.uploaded >= pl->seed_copies * (double)r->res->file_bytes) {
        res->seed_uploaded = r->vp[0].st.uploaded;
        child_kill(&r->kids[1]);
        r->vp[0].state = SWARM_PEER_DOWN;
        res->seed_left_s = t;
        res->min_avail_after_seed_left = rarest_availability(r, false, &res->pieces_lost);
        swarm_view_event(&r->view, t,
                         "the seed leaves after uploading %.3g cop%s worth; the rarest "
                         "piece now has %d cop%s among the leechers",
                         pl->seed_copies, pl->seed_copies == 1.0 ? "y's" : "ies'",
                         res->min_avail_after_seed_left,
                         res->min_avail_after_seed_left == 1 ? "y" : "ies");
    }
    if (t >= *next_sample && res->nsamples < SWARM_SAMPLES) {
        int a = rarest_availability(r, res->seed_left_s < 0, NULL);
        if (a >= 0) {
            res->sample_t[res->nsamples] = t;
            res->sample_watch[res->nsamples] = pl->watch > 0 ? r->vp[pl->watch].st.have : 0;
            res->sample_min[res->nsamples++] = (unsigned)a;
        }
        *next_sample = t + 0.1;
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < r->n; i++)
        sum += r->vp[1 + i].st.have;
    if (sum != *last_have_sum) {
        *last_have_sum = sum;
        *last_gain_t = t;
    }
    if (pl->stall_s > 0 && res->seed_left_s >= 0 && t - *last_gain_t >= pl->stall_s &&
        rarest_availability(r, false, NULL) == 0) {
        swarm_view_event(&r->view, t,
                         "a piece left the swarm with the seed and nobody gained a piece for "
                         "%.1f s: the run ends here",
                         pl->stall_s);
        return 1;
    }
    return 0;
}

/* The loop between the release and the last finish. Returns 0 when every leecher finished, 1
 * when the run stalled after losing a piece, -1 on failure, time out or Ctrl-C (with a message
 * in err). */
static int watch(struct run *r, double deadline, struct webview *web, char *err, size_t errlen)
{
    double next_draw = 0, done_at = -1, next_sample = 0, last_gain = 0;
    uint64_t have_sum = 0;
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
        int p = plan_step(r, clock_s() - r->t0, &next_sample, &last_gain, &have_sum, err, errlen);
        if (p != 0)
            return p;
        if (clock_s() >= next_draw) {
            swarm_view_draw(&r->view, clock_s() - r->t0);
            next_draw = clock_s() + 0.25;
        }

        struct pollfd pfd[MAX_PEERS + 4];
        size_t who[MAX_PEERS + 4];
        nfds_t np = 0;
        for (size_t k = 0; k < r->n + 2; k++)
            if (r->kids[k].out_fd >= 0) {
                pfd[np] = (struct pollfd){.fd = r->kids[k].out_fd, .events = POLLIN};
                who[np++] = k;
            }
        /* Wake up at least every 50 ms for the redraw, the churn, the plan and the exits. */
        int n = poll(pfd, np, 50);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        for (nfds_t k = 0; n > 0 && k < np; k++)
            if (pfd[k].revents != 0)
                child_read(&r->kids[who[k]], on_line, r);
        if (web != NULL)
            webview_publish(web, &r->view, clock_s() - r->t0);
    }
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
        /* A leecher stopped before it had every piece (a run that lost a piece with its seed)
         * says so with exit status 1, as `get` should. */
        if (ch->role == ROLE_LEECHER && r->vp[1 + (k - 2)].finish_s < 0 && WIFEXITED(ch->wstatus) &&
            WEXITSTATUS(ch->wstatus) == 1)
            continue;
        char how[64];
        fprintf(stderr, "minitorrent swarm: warning: %s ended with %s when stopped\n", ch->name,
                child_exit_text(ch, how, sizeof how));
        child_show_log_tail(&r->cs, ch, stderr);
    }
}

/* Names the peers, sets up the view and its title, and the empty result. */
static void prepare(struct run *r, struct run_result *res, uint64_t seed)
{
    const struct swarm_opts *o = r->o;
    unsigned n = r->n;
    for (size_t k = 0; k < n + 3; k++)
        r->kids[k] = (struct child){.out_fd = -1};
    *res = (struct run_result){.mode = r->mode,
                               .peers = n,
                               .file_bytes = o->size,
                               .piece_bytes = o->piece,
                               .seed_up = o->seed_up,
                               .peer_up = o->peer_up,
                               .peer_down = o->peer_down,
                               .distribution_s = -1,
                               .seed_left_s = -1,
                               .min_avail_after_seed_left = -1};
    /* The bound is for the rates as typed: with --time-scale K every rate is K times higher
     * and every time measured K times shorter, so D and the bound scale together. */
    struct kr_params kp;
    kr_params_uniform(&kp, o->size, n, swarm_scaled_rate(o, o->seed_up),
                      swarm_scaled_rate(o, o->peer_up), swarm_scaled_rate(o, o->peer_down));
    res->bound_s = r->mode == MODE_P2P ? kr_bound_p2p(&kp, &res->limit)
                                       : kr_bound_client_server(&kp, &res->limit);
    for (unsigned i = 0; i < n; i++)
        res->finish[i] = res->first_piece[i] = -1;
    r->rng = seed;

    /* The names: the seed at 127.0.0.2, leecher i at 127.0.0.(11 + i). */
    snprintf(r->vp[0].name, sizeof r->vp[0].name, "seed");
    snprintf(r->vp[0].addr, sizeof r->vp[0].addr, "127.0.0.2");
    r->vp[0].finish_s = -1;
    for (unsigned i = 0; i < n; i++) {
        snprintf(r->vp[1 + i].name, sizeof r->vp[1 + i].name, "p%u", i + 1);
        snprintf(r->vp[1 + i].addr, sizeof r->vp[1 + i].addr, "127.0.0.%u", 11 + i);
        r->vp[1 + i].finish_s = -1;
        r->kids[2 + i].role = ROLE_LEECHER;
        snprintf(r->kids[2 + i].name, sizeof r->kids[2 + i].name, "p%u", i + 1);
    }
    r->kids[0].role = ROLE_TRACKER;
    snprintf(r->kids[0].name, sizeof r->kids[0].name, "tracker");
    r->kids[1].role = ROLE_SEED;
    snprintf(r->kids[1].name, sizeof r->kids[1].name, "seed");

    FILE *out = r->out;
    bool tty = isatty(fileno(out));
    swarm_view_init(&r->view, out, tty && !o->plain, r->vp, n + 1);
    if (!tty && !o->plain)
        swarm_view_note_plain(&r->view, "output is not a terminal");
#ifdef TIOCGWINSZ
    struct winsize ws;
    if (r->view.tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40)
        r->view.width = ws.ws_col - 1;
#endif
    char fs[UNITS_BUFLEN], ps[UNITS_BUFLEN], us[UNITS_BUFLEN], ui[UNITS_BUFLEN], di[UNITS_BUFLEN];
    units_format_size(o->size, fs, sizeof fs);
    units_format_size(o->piece, ps, sizeof ps);
    rate_text(swarm_scaled_rate(o, o->seed_up), us, sizeof us);
    rate_text(r->mode == MODE_P2P ? swarm_scaled_rate(o, o->peer_up) : 0, ui, sizeof ui);
    if (r->mode == MODE_CS)
        snprintf(ui, sizeof ui, "0 (no upload)");
    rate_text(swarm_scaled_rate(o, o->peer_down), di, sizeof di);
    char scale[24] = "";
    if (o->time_scale != 1)
        snprintf(scale, sizeof scale, "  time x%g", o->time_scale);
    r->view.bound_s = res->bound_s;
    snprintf(r->view.rate_window, sizeof r->view.rate_window, "%s", SWARM_STATUS_WINDOW);
    snprintf(r->view.title, sizeof r->view.title,
             "%s  N=%u  F=%s  u_s=%s  u_i=%s  d=%s  bound %.1f s%s%s",
             r->mode == MODE_P2P ? "P2P" : "client-server", n, fs, us, ui, di, res->bound_s,
             o->churn ? "  churn" : "", scale);
    fprintf(out,
            "== %s swarm: %u leechers, a %s file in pieces of %s, seed upload %s, leecher "
            "upload %s, download %s\n",
            r->mode == MODE_P2P ? "P2P" : "client-server", n, fs, ps, us, ui, di);
    if (o->time_scale != 1)
        fprintf(out,
                "   time scale K = %g: re-choke every %.2f s, optimistic unchoke every %.2f s, "
                "every rate x%g\n",
                o->time_scale, (double)swarm_rechoke_ms(o) / 1000.0,
                3.0 * (double)swarm_rechoke_ms(o) / 1000.0, o->time_scale);
    fflush(out);
}

int swarm_run(const struct swarm_opts *o, const struct swarm_plan *plan, const char *self, int mode,
              unsigned n, uint64_t seed, FILE *out, struct run_result *res)
{
    static struct run r; /* large; runs happen one at a time */
    static const struct swarm_plan no_plan;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.plan = plan != NULL ? plan : &no_plan;
    r.mode = mode;
    r.n = n;
    r.self = self;
    r.out = out;
    r.res = res;
    prepare(&r, res, seed);

    char err[512] = "";
    int rc = -1;
    if (children_make_folder(&r.cs) < 0) {
        fprintf(stderr, "minitorrent swarm: cannot make a temporary folder: %s\n", strerror(errno));
        return -1;
    }

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
    long iv = (long)((double)o->interval_s / o->time_scale + 0.5);
    snprintf(interval, sizeof interval, "%ld", iv < 1 ? 1 : iv);
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
        churn_plan(&r);
    r.t0 = clock_s();
    for (unsigned i = 0; i < n; i++)
        if (r.plan->join_at_s[i] <= 0 && run_start_leecher(&r, i, err, sizeof err) < 0)
            goto out;
    if (!r.view.tty) {
        for (unsigned i = 0; i < n; i++)
            if (r.started[i])
                fprintf(out, "%s on %s (pid %ld)\n", r.vp[1 + i].name, r.vp[1 + i].addr,
                        (long)run_leecher(&r, i)->pid);
        fflush(out);
    }
    double limit = o->timeout_s > 0 ? (double)o->timeout_s : 60 + 10 * res->bound_s;
    int w = watch(&r, r.t0 + limit, r.plan->web, err, sizeof err);
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
        bool good = res->finish[i] >= 0 && same_file(r.datafile, copy);
        if (!good)
            res->all_verified = false;
        else
            res->completed++;
        if (res->finish[i] > last)
            last = res->finish[i];
    }
    res->distribution_s = w == 0 ? last : -1;
    res->pieces = r.vp[0].st.total;
    /* Lost for good: what no leecher holds now that the run is over. Counting at the moment the
     * seed left would count a piece whose last blocks were still on their way (in a socket
     * buffer, or in a status line not yet read) as lost. */
    if (res->seed_left_s >= 0)
        (void)rarest_availability(&r, false, &res->pieces_lost);
    if (res->seed_left_s < 0)
        res->seed_uploaded = r.vp[0].st.uploaded;
    /* A peer restarted by the churn counts from its restart, so the sum would fall short. */
    res->uploaded = 0;
    if (!o->churn)
        for (unsigned i = 0; i <= n; i++)
            res->uploaded += r.vp[i].st.uploaded;
    res->ran = true;
    rc = 0;
    /* A stalled run (w == 1) ran to its end too: what it measured is the result. */
    if (w < 0 && err[0] != '\0' && !cli_stop_requested) {
        fprintf(stderr, "minitorrent swarm: %s\n", err);
        err[0] = '\0';
    }
out:
    /* Leechers and seed first, while the tracker can still take their goodbyes; then it. */
    children_stop(r.kids + 1, n + 1, 5);
    children_stop(r.kids, 1, 5);
    if (rc == 0)
        warn_bad_exits(&r);
    if (err[0] != '\0')
        fprintf(stderr, "minitorrent swarm: %s\n", err);
    /* The children have written their traces' last lines on the way out. */
    if (rc == 0 && o->trace_file != NULL && swarm_trace_merge(&r, res) < 0)
        rc = -1;
    if (rc == 0) {
        swarm_report_run(out, r.vp, res);
        swarm_report_trace(out, res, o->trace_file);
    }
    if (o->keep_files)
        fprintf(out, "files kept in %s\n", r.cs.tmp);
    else if (children_remove_folder(&r.cs) < 0)
        fprintf(stderr, "minitorrent swarm: could not remove all of %s\n", r.cs.tmp);
    return rc;
}
