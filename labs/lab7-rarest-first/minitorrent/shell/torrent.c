/*
 * torrent.c - opening a torrent, the listener and announcer threads, and an orderly stop.
 */
#include "torrent.h"
#include "announce.h"
#include "clock.h"
#include "net.h"
#include "peer.h"
#include "randbytes.h"
#include "threads.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_TORRENT_FILE = 64 * 1024 * 1024 };

void torrent_config_defaults(struct torrent_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dir = ".";
    cfg->port = "0";
    cfg->max_peers = 50;
    cfg->pipeline = 64;
    cfg->announce_timeout_ms = 10000;
    cfg->upload_slots = 4;
    cfg->rechoke_ms = 10000;
    cfg->peer_timeout_ms = 180000;
    /* A real peer sends its handshake within a round trip of connecting. Waiting the whole idle
     * timeout for one would let a few silent connections hold every slot for minutes. */
    cfg->handshake_timeout_ms = 10000;
}

/* ===================================================================== opening ============ */

/* Reads a whole (small) file into a malloc'd buffer. Returns 0 or -1 with a message. */
static int read_file(const char *path, unsigned char **out, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (sb.st_size > MAX_TORRENT_FILE) {
        snprintf(err, errlen, "%s is too large to be a .torrent file", path);
        close(fd);
        return -1;
    }
    *out = malloc((size_t)sb.st_size + 1);
    ssize_t n = *out ? read(fd, *out, (size_t)sb.st_size) : -1;
    close(fd);
    if (n != sb.st_size) {
        snprintf(err, errlen, "cannot read %s", path);
        free(*out);
        return -1;
    }
    *len = (size_t)n;
    return 0;
}

/* Makes our peer id: "-MT0100-" (client MT, version 0.1.0, as most clients do) and twelve random
 * characters, so peers and trackers can tell the clients apart. */
static void make_peer_id(unsigned char id[20])
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    memcpy(id, "-MT0100-", 8);
    unsigned char r[12];
    rand_bytes(r, sizeof r);
    for (int i = 0; i < 12; i++)
        id[8 + i] = (unsigned char)alphabet[r[i] % 36];
}

/* Hashes every piece on disk and returns which ones are good. */
static int check_pieces(struct torrent *t, struct bitfield *have, char *err, size_t errlen)
{
    unsigned char *buf = malloc(t->mi.piece_length);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < t->mi.piece_count; i++) {
        int r = storage_verify_piece(&t->store, i, buf);
        if (r < 0) {
            snprintf(err, errlen, "cannot read piece %u: %s", i, strerror(errno));
            free(buf);
            return -1;
        }
        if (r == 1)
            bitfield_set(have, i);
    }
    free(buf);
    return 0;
}

/* Says how many piece buffers a download gets: cfg->piece_buffers when set, and otherwise one
 * for each piece the picker would have in progress at most (max_partial), as long as they fit in
 * TORRENT_BUFFER_BYTES, and never fewer than two, so one piece can be put together while the
 * previous one is hashed. */
static uint32_t piece_buffer_count(const struct torrent_config *cfg, uint32_t max_partial,
                                   uint32_t piece_length)
{
    if (cfg->piece_buffers > 0)
        return cfg->piece_buffers;
    uint64_t fit = piece_length > 0 ? TORRENT_BUFFER_BYTES / piece_length : max_partial;
    uint32_t n = fit < max_partial ? (uint32_t)fit : max_partial;
    return n < 2 ? 2 : n;
}

/* Allocates the n_bufs piece buffers of a download, all of them free. One allocation holds them
 * all; the system gives it pages only as they are first written, so buffers a download never
 * reaches cost no memory. Returns 0, or -1 when memory runs out. */
static int make_piece_buffers(struct torrent *t)
{
    if (t->n_bufs == 0)
        return 0; /* a seed never downloads */
    t->piece_mem = malloc((size_t)t->n_bufs * t->mi.piece_length);
    t->buf_of = calloc(t->mi.piece_count, sizeof *t->buf_of);
    t->free_bufs = calloc(t->n_bufs, sizeof *t->free_bufs);
    if (t->piece_mem == NULL || t->buf_of == NULL || t->free_bufs == NULL)
        return -1;
    /* Buffer 0 on top of the stack: it is handed out first. */
    for (uint32_t i = 0; i < t->n_bufs; i++)
        t->free_bufs[i] = t->n_bufs - 1 - i;
    t->n_free = t->n_bufs;
    return 0;
}

unsigned char *torrent_piece_buffer_locked(struct torrent *t, uint32_t index)
{
    if (t->buf_of[index] == 0) {
        if (t->n_free == 0)
            return NULL;
        t->buf_of[index] = 1 + t->free_bufs[--t->n_free];
    }
    return t->piece_mem + (size_t)(t->buf_of[index] - 1) * t->mi.piece_length;
}

void torrent_release_buffer_locked(struct torrent *t, uint32_t index)
{
    if (t->buf_of == NULL || t->buf_of[index] == 0)
        return;
    t->free_bufs[t->n_free++] = t->buf_of[index] - 1;
    t->buf_of[index] = 0;
}

int torrent_open(struct torrent *t, const char *torrent_file, const struct torrent_config *cfg,
                 bool seeding_only, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    t->listen_fd = t->stop_pipe[0] = t->stop_pipe[1] = -1;
    t->seeding_only = seeding_only;
    metainfo_init(&t->mi);
    /* Each of these can fail (out of memory or another resource); pthread functions return the
     * error number rather than setting errno. What was made is recorded in t->made, so that
     * torrent_stop and torrent_close touch only that. */
    int prc = pthread_mutex_init(&t->lock, NULL);
    if (prc == 0)
        t->made |= MADE_LOCK;
    if (prc == 0 && (prc = pthread_cond_init(&t->changed, NULL)) == 0)
        t->made |= MADE_CHANGED;
    if (prc == 0 && (prc = pthread_cond_init(&t->announce_cond, NULL)) == 0)
        t->made |= MADE_ANNOUNCE_COND;
    if (prc != 0) {
        snprintf(err, errlen, "cannot create the torrent's lock: %s", strerror(prc));
        return -1;
    }
    if (limiter_init(&t->up, cfg->up_rate, clock_ms()) == 0)
        t->made |= MADE_UP;
    if (!(t->made & MADE_UP) || limiter_init(&t->down, cfg->down_rate, clock_ms()) < 0) {
        snprintf(err, errlen, "cannot create a rate limiter: %s", strerror(errno));
        return -1;
    }
    t->made |= MADE_DOWN;
    make_peer_id(t->peer_id);
    rate_init(&t->down_rate, cfg->status_rate_window_ms ? cfg->status_rate_window_ms : 5000,
              clock_ms());
    rate_init(&t->up_rate, cfg->status_rate_window_ms ? cfg->status_rate_window_ms : 5000,
              clock_ms());
    struct choker_config cc;
    choker_config_defaults(&cc, cfg->seed ? cfg->seed : rand_u64());
    cc.upload_slots = cfg->upload_slots;
    cc.rechoke_ms = cfg->rechoke_ms;
    cc.policy = cfg->choker_policy;
    cc.optimistic_every = cfg->no_optimistic ? 0 : cc.optimistic_every;
    choker_init(&t->choker, &cc, clock_ms());

    unsigned char *raw;
    size_t rawlen;
    if (read_file(torrent_file, &raw, &rawlen, err, errlen) < 0)
        return -1;
    char why[256];
    int rc = metainfo_parse(&t->mi, raw, rawlen, why, sizeof why);
    free(raw);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", torrent_file, why);
        return -1;
    }
    if (storage_open(&t->store, &t->mi, cfg->dir, !seeding_only, err, errlen) < 0)
        return -1;

    /* Resuming: hash what is on disk to find the pieces we already have. Files created empty
     * just now hold nothing, and reading zeros back would only cost time. */
    struct bitfield have;
    if (bitfield_init(&have, t->mi.piece_count) < 0 ||
        (!t->store.fresh && check_pieces(t, &have, err, errlen) < 0)) {
        bitfield_free(&have);
        return -1;
    }
    if (seeding_only && !bitfield_all(&have)) {
        snprintf(err, errlen,
                 "the content in %s does not match the torrent: %zu of %u pieces fail their "
                 "hash check",
                 cfg->dir, (size_t)t->mi.piece_count - bitfield_count(&have), t->mi.piece_count);
        bitfield_free(&have);
        return -1;
    }
    struct picker_config pc;
    picker_config_defaults(&pc, t->mi.piece_count, t->mi.piece_length, t->mi.total_length,
                           cfg->seed ? cfg->seed : rand_u64());
    pc.policy = cfg->picker_policy;
    /* A download puts each piece in progress together in a buffer of its own (see
     * make_piece_buffers), and the picker starts no more pieces than there are buffers. */
    if (!seeding_only) {
        t->n_bufs = piece_buffer_count(cfg, pc.max_partial, t->mi.piece_length);
        pc.max_partial = t->n_bufs;
    }
    rc = picker_init(&t->picker, &pc, &have);
    bitfield_free(&have);
    t->have_log = calloc(t->mi.piece_count, sizeof *t->have_log);
    t->writing = calloc(t->mi.piece_count, sizeof *t->writing);
    t->hash_due = calloc(t->mi.piece_count, sizeof *t->hash_due);
    t->banned = calloc(TORRENT_BANS, sizeof *t->banned);
    if (rc < 0 || t->have_log == NULL || t->writing == NULL || t->hash_due == NULL ||
        t->banned == NULL || make_piece_buffers(t) < 0 ||
        smartban_init(&t->smartban, t->mi.piece_count, t->mi.piece_length, t->mi.total_length, 0) <
            0 ||
        bitfield_init(&t->offer, t->mi.piece_count) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Under an upload limit, the peers we upload to are served a piece's worth at a time
     * (core/turns.h). A turn held four times as long as a piece takes at the limit is taken over,
     * and every connection of the limit may wait at once. */
    if (cfg->up_rate != 0 && !cfg->no_upload_turns) {
        uint64_t max_ms = (uint64_t)t->mi.piece_length * 4000 / cfg->up_rate;
        if (turns_init(&t->turns, t->mi.piece_length, max_ms < 50 ? 50 : max_ms,
                       2 * cfg->max_peers + 8) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        t->turns_on = true;
    }
    /* Completed pieces are hashed on a thread of their own (hasher.h), from their buffers: the
     * hasher needs no scratch buffer of its own. */
    if (hasher_start(&t->hasher, peer_verify_piece, t) < 0) {
        snprintf(err, errlen, "cannot start the hashing thread: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ===================================================================== listener =========== */

/* ===================================================================== who may connect ==== */

/* Returns true when a and b name the same IP address, whatever their ports. */
static bool same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    struct sockaddr_storage x, y;
    memcpy(&x, a,
           a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    memcpy(&y, b,
           b->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    struct sockaddr_storage *both[2] = {&x, &y};
    for (int i = 0; i < 2; i++) {
        if (both[i]->ss_family == AF_INET)
            ((struct sockaddr_in *)both[i])->sin_port = 0;
        else if (both[i]->ss_family == AF_INET6)
            ((struct sockaddr_in6 *)both[i])->sin6_port = 0;
        else
            return false;
    }
    return net_same_addr((struct sockaddr *)&x, (struct sockaddr *)&y) == 1;
}

void torrent_ban_locked(struct torrent *t, const struct sockaddr *addr)
{
    if (torrent_banned_locked(t, addr))
        return;
    size_t len =
        addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    memset(&t->banned[t->ban_next], 0, sizeof t->banned[t->ban_next]);
    memcpy(&t->banned[t->ban_next], addr, len);
    t->ban_next = (t->ban_next + 1) % TORRENT_BANS;
    if (t->nbanned < TORRENT_BANS)
        t->nbanned++;
}

bool torrent_banned_locked(const struct torrent *t, const struct sockaddr *addr)
{
    for (size_t i = 0; i < t->nbanned; i++)
        if (same_host((const struct sockaddr *)&t->banned[i], addr))
            return true;
    return false;
}

/* The budget of incoming connections still in their handshake: half of max_peers, 8 to 64. At
 * the start of a swarm every peer dials every other at once, so the budget must hold a burst of
 * honest newcomers whose threads have not read their handshakes yet. */
static size_t max_pending(const struct torrent *t)
{
    if (t->cfg.max_pending > 0)
        return t->cfg.max_pending;
    size_t n = t->cfg.max_peers / 2;
    return n < 8 ? 8 : n > 64 ? 64 : n;
}

/* The connections one IP address may hold: a quarter of max_peers, at least 4. One address is
 * usually one computer, and a real client needs one connection to it (libtorrent allows one per
 * address unless told otherwise); a few more let peers behind one NAT, or a test on one
 * loopback address, work together. */
static size_t max_per_address(const struct torrent *t)
{
    if (t->cfg.max_per_address > 0)
        return t->cfg.max_per_address;
    size_t n = t->cfg.max_peers / 4;
    return n < 4 ? 4 : n;
}

enum {
    /* Connections from one address still in their handshake: a real client needs one at a time. */
    MAX_PENDING_PER_ADDRESS = 2,
    /* When the pending budget is full, a newcomer may close a connection that has waited this
     * long without a handshake. A real peer sends its handshake within a round trip; one that
     * is still silent after this long is likely a squatter. */
    PENDING_GRACE_MS = 250
};

/* Says whether p holds a slot of max_peers: it finished its handshake, or we dialled it (a
 * connection we chose to make). An incoming connection still in its handshake holds a slot of
 * the small pending budget instead, so connections that never handshake cannot take the slots
 * of real peers. */
static bool holds_slot(const struct peer *p)
{
    return !p->finished && !p->kill && (p->handshaken || p->outgoing);
}

/* Says whether p is an incoming connection still in its handshake. */
static bool pending(const struct peer *p)
{
    return !p->finished && !p->kill && !p->handshaken && !p->outgoing;
}

/* At the connection cap, makes room for a newcomer by closing the connection that has gone
 * longest without a block moving either way, if that is longer than a sixth of the peer time out
 * (30 s by default). Without this, anyone could fill every slot with connections that handshake
 * and then send only keep-alives, which keep the idle time out from ever firing, and lock every
 * real peer out for good. Real clients do the same: a full client drops its least useful peer.
 * keep is never chosen. Returns true when a connection was told to close. Called with the lock
 * held. */
static bool evict_idlest_locked(struct torrent *t, uint64_t now, const struct peer *keep)
{
    uint64_t idle_min = t->cfg.peer_timeout_ms / 6;
    struct peer *victim = NULL;
    uint64_t victim_active = 0;
    for (struct peer *p = t->peers; p != NULL; p = p->next) {
        if (p == keep || !holds_slot(p))
            continue;
        uint64_t active =
            p->last_block_ms > p->last_upload_ms ? p->last_block_ms : p->last_upload_ms;
        if (now < active || now - active < idle_min)
            continue;
        if (victim == NULL || active < victim_active) {
            victim = p;
            victim_active = active;
        }
    }
    if (victim == NULL)
        return false;
    if (t->cfg.verbose)
        printf("peer %s: no block either way for %llu ms, closed to make room\n", victim->name,
               (unsigned long long)(now - victim_active));
    victim->kill = true;
    peer_wake(victim);
    return true;
}

bool torrent_room_for_handshaken_locked(struct torrent *t, const struct peer *p)
{
    size_t held = 0, here = 0;
    for (struct peer *q = t->peers; q != NULL; q = q->next) {
        if (q == p || !holds_slot(q))
            continue;
        held++;
        here += same_host((struct sockaddr *)&q->addr, (struct sockaddr *)&p->addr);
    }
    if (here >= max_per_address(t))
        return false;
    /* A peer we dialled took its slot when we dialled it. */
    return p->outgoing || held < t->cfg.max_peers || evict_idlest_locked(t, clock_ms(), p);
}

/* Decides whether to take a new incoming connection from addr, before it has said anything: not
 * from a banned address, not past two connections in their handshake from one address or
 * max_per_address in all, and within the pending budget. When that is full, the connection that
 * has waited longest for its handshake is closed to make room, if it waited PENDING_GRACE_MS:
 * it is the likeliest squatter, and a squatter cannot hold a slot for long that way, however many
 * addresses it has. Otherwise the newcomer is refused. Called with the lock held. */
static bool admit_incoming_locked(struct torrent *t, const struct sockaddr *addr)
{
    if (t->stopping || torrent_banned_locked(t, addr))
        return false;
    size_t npending = 0, pending_here = 0, here = 0;
    struct peer *oldest = NULL;
    for (struct peer *p = t->peers; p != NULL; p = p->next) {
        if (p->finished || p->kill)
            continue;
        bool same = same_host((struct sockaddr *)&p->addr, addr);
        here += same;
        if (!pending(p))
            continue;
        npending++;
        pending_here += same;
        if (oldest == NULL || p->since_ms < oldest->since_ms)
            oldest = p;
    }
    if (pending_here >= MAX_PENDING_PER_ADDRESS || here >= max_per_address(t))
        return false;
    if (npending >= max_pending(t)) {
        if (clock_ms() - oldest->since_ms < PENDING_GRACE_MS)
            return false;
        if (t->cfg.verbose)
            printf("peer %s: no handshake yet, closed to make room\n", oldest->name);
        oldest->kill = true;
        peer_wake(oldest);
    }
    return true;
}

static void *listener_main(void *arg)
{
    struct torrent *t = arg;
    for (;;) {
        struct pollfd pfd[2] = {{.fd = t->listen_fd, .events = POLLIN},
                                {.fd = t->stop_pipe[0], .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents)
            break;
        if (!(pfd[0].revents & POLLIN))
            continue;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept(t->listen_fd, (struct sockaddr *)&ss, &len);
        if (fd < 0) {
            /* Out of descriptors (EMFILE), the pending connection stays queued and poll() would
             * report it again at once: pause a little instead of spinning, still ready to stop. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                struct pollfd stop = {.fd = t->stop_pipe[0], .events = POLLIN};
                (void)poll(&stop, 1, 100);
            }
            continue;
        }
        /* A newcomer waits in the pending budget until its handshake; only then does it take
         * one of the max_peers slots (torrent_room_for_handshaken_locked, from its thread). */
        pthread_mutex_lock(&t->lock);
        if (!admit_incoming_locked(t, (struct sockaddr *)&ss) ||
            peer_spawn(t, fd, (struct sockaddr *)&ss, len) < 0)
            close(fd);
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

/* ===================================================================== announcer ========== */

/* Fills the announce parameters from the torrent's counters. Called with the lock held. */
static void announce_params_locked(struct torrent *t, struct announce_params *ap,
                                   enum tracker_event ev)
{
    announce_defaults(ap);
    ap->url = t->mi.announce;
    memcpy(ap->info_hash, t->mi.info_hash, 20);
    memcpy(ap->peer_id, t->peer_id, 20);
    ap->port = (uint16_t)t->port;
    ap->uploaded = t->uploaded;
    ap->downloaded = t->downloaded;
    uint64_t have = 0;
    for (uint32_t i = 0; i < t->mi.piece_count; i++)
        if (bitfield_get(&t->picker.have, i))
            have += picker_piece_size(&t->picker, i);
    ap->left = t->mi.total_length - have;
    ap->event = ev;
    ap->timeout_ms = t->cfg.announce_timeout_ms;
    if (t->locallen > 0) {
        ap->local = (const struct sockaddr *)&t->local;
        ap->locallen = t->locallen;
    }
}

/* Returns true when a live connection already goes to addr (the peer's listening address). */
static bool connected_to(struct torrent *t, const struct sockaddr *addr)
{
    for (struct peer *p = t->peers; p != NULL; p = p->next)
        if (!p->finished &&
            ((p->outgoing && net_same_addr((struct sockaddr *)&p->addr, addr)) ||
             (p->has_dialled && net_same_addr((struct sockaddr *)&p->dialled, addr))))
            return true;
    return false;
}

/* Turns a tracker's peer entry into a socket address. Returns its length, or 0. */
static socklen_t peer_sockaddr(const struct tracker_peer *tp, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (tp->family == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, tp->ip, 4);
        in->sin_port = htons(tp->port);
        return sizeof *in;
    }
    if (tp->family == 6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, tp->ip, 16);
        in6->sin6_port = htons(tp->port);
        return sizeof *in6;
    }
    return 0;
}

int torrent_add_peer(struct torrent *t, const struct sockaddr *addr, socklen_t addrlen)
{
    pthread_mutex_lock(&t->lock);
    size_t held = 0, here = 0;
    for (struct peer *p = t->peers; p != NULL; p = p->next) {
        held += holds_slot(p);
        here += !p->finished && !p->kill && same_host((struct sockaddr *)&p->addr, addr);
    }
    int rc = -1;
    if (!t->stopping && held < t->cfg.max_peers && here < max_per_address(t) &&
        !connected_to(t, addr) && !torrent_banned_locked(t, addr))
        rc = peer_spawn(t, -1, addr, addrlen);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

/* Waits on the announcer's condition until deadline (CLOCK_REALTIME, as pthread_cond_timedwait
 * measures) or a wake-up. Called with the lock held. */
static void announcer_sleep_locked(struct torrent *t, const struct timespec *deadline)
{
    if (!t->stopping && !t->announce_completed)
        pthread_cond_timedwait(&t->announce_cond, &t->lock, deadline);
}

static void *announcer_main(void *arg)
{
    struct torrent *t = arg;
    enum tracker_event ev = TRACKER_EVENT_STARTED;
    int backoff_s = 1;
    struct announce_result *r = malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        if (t->announce_completed) {
            ev = TRACKER_EVENT_COMPLETED;
            t->announce_completed = false;
        }
        struct announce_params ap;
        announce_params_locked(t, &ap, ev);
        pthread_mutex_unlock(&t->lock);

        char err[256];
        int rc = announce(&ap, r, err, sizeof err);
        int wait_s;
        if (rc < 0) {
            fprintf(stderr, "minitorrent: tracker: %s (trying again in %d s)\n", err, backoff_s);
            wait_s = backoff_s;
            backoff_s = backoff_s < 30 ? backoff_s * 2 : 60;
        } else {
            if (t->cfg.verbose)
                printf("tracker: %zu peers, next announce in %lld s\n", r->npeers,
                       (long long)r->interval);
            ev = TRACKER_EVENT_NONE;
            backoff_s = 1;
            wait_s = r->interval > 0 && r->interval < 3600 ? (int)r->interval : 1800;
            for (size_t i = 0; i < r->npeers; i++) {
                struct sockaddr_storage ss;
                socklen_t len = peer_sockaddr(&r->peers[i], &ss);
                if (len > 0)
                    (void)torrent_add_peer(t, (struct sockaddr *)&ss, len);
            }
        }
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += wait_s;
        pthread_mutex_lock(&t->lock);
        announcer_sleep_locked(t, &deadline);
    }
    pthread_mutex_unlock(&t->lock);
    free(r);
    return NULL;
}

/* ===================================================================== start and stop ===== */

int torrent_start(struct torrent *t, char *err, size_t errlen)
{
    t->listen_fd = net_listen(t->cfg.bind, t->cfg.port, SOCK_STREAM, err, errlen);
    if (t->listen_fd < 0)
        return -1;
    t->port = net_local_port(t->listen_fd);
    if (t->cfg.bind != NULL) {
        /* Outgoing connections leave from our own address too, so that in a swarm of
         * 127.0.0.x peers everyone is seen at the address the tracker knows. */
        socklen_t len = sizeof t->local;
        if (getsockname(t->listen_fd, (struct sockaddr *)&t->local, &len) == 0) {
            t->locallen = len;
            if (t->local.ss_family == AF_INET)
                ((struct sockaddr_in *)&t->local)->sin_port = 0;
            else
                ((struct sockaddr_in6 *)&t->local)->sin6_port = 0;
        }
    }
    if (pipe(t->stop_pipe) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    if (thread_start(&t->listener, listener_main, t, false, 0) != 0 ||
        thread_start(&t->announcer, announcer_main, t, false, 0) != 0) {
        snprintf(err, errlen, "cannot start threads");
        return -1;
    }
    t->threads_started = true;
    if (t->cfg.trace_file != NULL && trace_start(&t->trace, t, t->cfg.trace_file, err, errlen) < 0)
        return -1;
    return 0;
}

void torrent_announce_completed(struct torrent *t)
{
    pthread_mutex_lock(&t->lock);
    t->announce_completed = true;
    pthread_cond_signal(&t->announce_cond);
    pthread_mutex_unlock(&t->lock);
}

void torrent_reap(struct torrent *t)
{
    pthread_mutex_lock(&t->lock);
    struct peer **pp = &t->peers;
    while (*pp != NULL) {
        struct peer *p = *pp;
        if (!p->finished) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        t->npeers--;
        /* The thread has set finished as its last shared act; joining it now is quick. */
        pthread_mutex_unlock(&t->lock);
        pthread_join(p->thread, NULL);
        peer_free(p);
        pthread_mutex_lock(&t->lock);
        pp = &t->peers; /* the list may have changed while unlocked: start again */
    }
    pthread_mutex_unlock(&t->lock);
}

void torrent_stop(struct torrent *t)
{
    if (!(t->made & MADE_ANNOUNCE_COND))
        return; /* torrent_open failed before any thread could start */
    pthread_mutex_lock(&t->lock);
    bool started = t->threads_started;
    t->stopping = true;
    pthread_cond_broadcast(&t->announce_cond);
    pthread_cond_broadcast(&t->changed);
    for (struct peer *p = t->peers; p != NULL; p = p->next)
        peer_wake(p);
    pthread_mutex_unlock(&t->lock);
    if (!started)
        return;
    /* The trace's last line is written while the peers are still there to be counted. */
    if (trace_stop(&t->trace) < 0 && t->fatal[0] == '\0')
        snprintf(t->fatal, sizeof t->fatal, "cannot write the trace: %s", strerror(errno));
    (void)!write(t->stop_pipe[1], "x", 1);
    pthread_join(t->listener, NULL);
    pthread_join(t->announcer, NULL);
    /* No thread adds peers now; wait for every peer thread to see the flag and end. */
    for (;;) {
        torrent_reap(t);
        pthread_mutex_lock(&t->lock);
        size_t left = t->npeers;
        if (left > 0)
            pthread_cond_wait(&t->changed, &t->lock);
        pthread_mutex_unlock(&t->lock);
        if (left == 0)
            break;
    }
    /* No peer pushes pieces now: the hasher gives its verdict on those still queued and ends. */
    hasher_stop(&t->hasher);
    /* Tell the tracker we are gone, briefly: a dead tracker must not hold up the exit. */
    struct announce_params ap;
    pthread_mutex_lock(&t->lock);
    announce_params_locked(t, &ap, TRACKER_EVENT_STOPPED);
    pthread_mutex_unlock(&t->lock);
    ap.timeout_ms = 2000;
    ap.udp_retries = 0;
    struct announce_result *r = malloc(sizeof *r);
    char err[256];
    if (r != NULL)
        (void)announce(&ap, r, err, sizeof err);
    free(r);
    t->threads_started = false;
}

void torrent_close(struct torrent *t)
{
    hasher_stop(&t->hasher); /* when torrent_stop did not run; it uses what is freed below */
    if (t->listen_fd >= 0)
        close(t->listen_fd);
    for (int i = 0; i < 2; i++)
        if (t->stop_pipe[i] >= 0)
            close(t->stop_pipe[i]);
    picker_free(&t->picker);
    free(t->have_log);
    free(t->writing);
    free(t->hash_due);
    free(t->piece_mem);
    free(t->buf_of);
    free(t->free_bufs);
    smartban_free(&t->smartban);
    turns_free(&t->turns);
    free(t->banned);
    free(t->choker_peers);
    free(t->choker_who);
    bitfield_free(&t->offer);
    storage_close(&t->store);
    metainfo_free(&t->mi);
    if (t->made & MADE_UP)
        limiter_free(&t->up);
    if (t->made & MADE_DOWN)
        limiter_free(&t->down);
    if (t->made & MADE_CHANGED)
        pthread_cond_destroy(&t->changed);
    if (t->made & MADE_ANNOUNCE_COND)
        pthread_cond_destroy(&t->announce_cond);
    if (t->made & MADE_LOCK)
        pthread_mutex_destroy(&t->lock);
    t->made = 0;
}

/* ===================================================================== choking ============ */

/* Makes the choker's scratch arrays hold at least n peers. They belong to the torrent (two
 * torrents in one process each have their own) and grow with the peer list, so no peer is ever
 * left out of a round. Returns 0, or -1 when memory runs out. Called with the lock held. */
static int choker_room_locked(struct torrent *t, size_t n)
{
    if (n <= t->choker_cap)
        return 0;
    size_t cap = t->choker_cap ? t->choker_cap : 64;
    while (cap < n)
        cap *= 2;
    struct choker_peer *cp = realloc(t->choker_peers, cap * sizeof *cp);
    if (cp == NULL)
        return -1;
    t->choker_peers = cp;
    struct peer **who = realloc(t->choker_who, cap * sizeof *who);
    if (who == NULL)
        return -1;
    t->choker_who = who;
    t->choker_cap = cap;
    return 0;
}

void torrent_tick(struct torrent *t)
{
    uint64_t now = clock_ms();
    pthread_mutex_lock(&t->lock);
    /* Out of memory, the round waits for the next tick rather than leave some peers out. */
    if (choker_room_locked(t, t->npeers) < 0) {
        pthread_mutex_unlock(&t->lock);
        return;
    }
    struct choker_peer *cp = t->choker_peers;
    struct peer **who = t->choker_who;
    size_t n = 0, unchoked = 0;
    bool waiting = false; /* an interested peer is choked */
    for (struct peer *p = t->peers; p != NULL; p = p->next) {
        if (p->finished || !p->handshaken)
            continue;
        cp[n] = (struct choker_peer){
            .id = p->key,
            .interested = p->peer_interested,
            .snubbed = choker_is_snubbed(&t->choker.cfg, p->am_interested, p->last_block_ms, now),
            .rate_to_us = rate_get(&p->to_us, now),
            .rate_from_us = rate_get(&p->from_us, now),
            .unchoked = p->want_unchoke,
            .optimistic = p->optimistic,
        };
        unchoked += p->want_unchoke && p->peer_interested; /* a slot held by one who no
                                                               longer wants it is free */
        waiting |= p->peer_interested && !p->want_unchoke;
        who[n++] = p;
    }
    /* Real clients fill a free slot at once rather than keep a newcomer waiting for the next
     * round; only the periodic rounds rank peers against each other. */
    bool force = waiting && unchoked < t->choker.cfg.upload_slots + 1;
    if (choker_run(&t->choker, cp, n, picker_complete(&t->picker), now, force)) {
        for (size_t i = 0; i < n; i++) {
            struct peer *p = who[i];
            bool change = p->want_unchoke != cp[i].unchoked;
            p->want_unchoke = cp[i].unchoked;
            p->optimistic = cp[i].optimistic;
            if (change)
                peer_wake(p);
        }
    }
    pthread_mutex_unlock(&t->lock);
}

/* ===================================================================== watching =========== */

void torrent_stats(struct torrent *t, struct torrent_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&t->lock);
    out->pieces_total = t->mi.piece_count;
    out->pieces_have = t->picker.have_count;
    out->bytes_total = t->mi.total_length;
    for (uint32_t i = 0; i < t->mi.piece_count; i++)
        if (bitfield_get(&t->picker.have, i))
            out->bytes_have += picker_piece_size(&t->picker, i);
    out->downloaded = t->downloaded;
    out->uploaded = t->uploaded;
    out->wasted = t->wasted;
    for (struct peer *p = t->peers; p != NULL; p = p->next)
        out->peers += !p->finished && p->handshaken;
    out->complete = picker_complete(&t->picker);
    snprintf(out->fatal, sizeof out->fatal, "%s", t->fatal);
    pthread_mutex_unlock(&t->lock);
}

/* Appends the IP address of a peer (without its port) to out. */
static void append_ip(char *out, size_t cap, const struct peer *p)
{
    char ip[NET_ADDRSTRLEN];
    snprintf(ip, sizeof ip, "%s", p->name);
    char *colon = strrchr(ip, ':');
    if (colon != NULL)
        *colon = '\0';
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "%s%s", len > 0 && out[len - 1] != '=' ? "," : "", ip);
}

void torrent_status_line(struct torrent *t, uint64_t t_ms, char *out, size_t cap)
{
    struct torrent_stats st;
    torrent_stats(t, &st);
    char unchoked[1024] = "unchoked=", optimistic[NET_ADDRSTRLEN + 16] = "optimistic=";
    uint64_t now = clock_ms();
    pthread_mutex_lock(&t->lock);
    uint64_t down = rate_get(&t->down_rate, now), up = rate_get(&t->up_rate, now);
    for (struct peer *p = t->peers; p != NULL; p = p->next) {
        if (p->finished || !p->handshaken || !p->want_unchoke || t->cfg.no_upload)
            continue;
        if (strlen(unchoked) + NET_ADDRSTRLEN < sizeof unchoked)
            append_ip(unchoked, sizeof unchoked, p);
        if (p->optimistic)
            append_ip(optimistic, sizeof optimistic, p);
    }
    pthread_mutex_unlock(&t->lock);
    if (strcmp(optimistic, "optimistic=") == 0)
        strcat(optimistic, "-");
    snprintf(out, cap,
             "status t_ms=%llu have=%u/%u bytes=%llu down_Bps=%llu up_Bps=%llu uploaded=%llu "
             "peers=%zu %s %s complete=%d",
             (unsigned long long)t_ms, st.pieces_have, st.pieces_total,
             (unsigned long long)st.bytes_have, (unsigned long long)down, (unsigned long long)up,
             (unsigned long long)st.uploaded, st.peers, unchoked, optimistic, st.complete ? 1 : 0);
}

void torrent_wait(struct torrent *t, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&t->lock);
    if (!t->stopping)
        pthread_cond_timedwait(&t->changed, &t->lock, &deadline);
    pthread_mutex_unlock(&t->lock);
}
