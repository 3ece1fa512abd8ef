/*
 * tracker_server.c - one poll() loop serving the HTTP and UDP tracker protocols.
 *
 * Reading order: the clock and address helpers, then the one function that records an announce
 * (both protocols share it), then HTTP (accept, read, answer, write), then UDP, then the loop, and
 * last the start/stop API.
 */
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE /* for SO_NOSIGPIPE, hidden by a strict _POSIX_C_SOURCE */
#endif
#include "tracker_server.h"

#include "bencode.h"
#include "bytes.h"
#include "clock.h"
#include "io.h"
#include "net.h"
#include "randbytes.h"
#include "threads.h"
#include "tracker_http.h"
#include "tracker_udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One HTTP client: its socket, the request read so far, and the reply being written. */
struct tracker_conn {
    int fd;               /* -1: a free slot */
    uint64_t seq;         /* accept order: the smallest open seq is the oldest connection */
    uint64_t deadline_ms; /* on the monotonic clock: closed if not done by then */
    struct sockaddr_storage from;
    char req[TRACKER_SERVER_REQUEST_MAX];
    size_t len;
    unsigned char *out; /* the whole reply, header and body; NULL while still reading */
    size_t outlen, outoff;
};

enum {
    DEFAULT_NUMWANT = 50,  /* peers in a reply when the client does not say */
    UDP_DRAIN_MAX = 64,    /* datagrams handled per wake-up, so HTTP gets its turn too */
    ACCEPT_DRAIN_MAX = 64, /* connections accepted per wake-up, likewise */
    ACCEPT_PAUSE_MS = 100, /* out of descriptors: stop accepting this long, then try again */
    SWEEP_POLL_MS = 1000   /* the loop wakes at least this often to sweep stale peers */
};

void tracker_server_config_default(struct tracker_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->http_port = "6969";
    /* A public tracker says 1800 s; a classroom swarm wants fresh peer lists within a minute. */
    cfg->interval_s = 60;
    cfg->expire_every_s = 5;
    cfg->max_conns = 256;
    cfg->conn_timeout_ms = 5000;
}

/* ================================================================ clocks and addresses */

/* The tracker's own clock in seconds: the configured one (a test's fake clock) or real time. */
static int64_t tracker_now(const struct tracker_server *srv)
{
    if (srv->cfg.clock_s != NULL)
        return srv->cfg.clock_s(srv->cfg.clock_ctx);
    return (int64_t)(clock_ms() / 1000);
}

/* The tracker's clock in milliseconds, for the rates of the peers: the test's fake clock in
 * whole seconds, or the monotonic clock. */
static int64_t tracker_now_ms(const struct tracker_server *srv)
{
    if (srv->cfg.clock_s != NULL)
        return srv->cfg.clock_s(srv->cfg.clock_ctx) * 1000;
    return (int64_t)clock_ms();
}

/* Turns a socket address into the core's peer form: family 4 or 6 and the address bytes. An IPv4
 * client of a dual-stack socket arrives as ::ffff:a.b.c.d and is recorded as plain IPv4, so that
 * it lands in the compact "peers" string that every client reads. Returns 0, or -1 for a family
 * we do not know. */
static int peer_from_sockaddr(const struct sockaddr_storage *ss, struct tracker_peer *p)
{
    memset(p, 0, sizeof *p);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        p->family = 4;
        memcpy(p->ip, &in->sin_addr, 4);
        return 0;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            p->family = 4;
            memcpy(p->ip, &in6->sin6_addr.s6_addr[12], 4);
        } else {
            p->family = 6;
            memcpy(p->ip, &in6->sin6_addr, 16);
        }
        return 0;
    }
    return -1;
}

/* Writes the bytes a UDP connection id is bound to: the client's IP address, without the port.
 * The id proves that the client receives packets at that address; the port does not matter, and
 * real clients rely on that: libtorrent shares one cache of connection ids between all its
 * sockets, so it may announce from another port than the one it connected from (opentracker, a
 * widely used tracker, binds ids to the address alone for the same reason). */
static size_t cid_key(const struct sockaddr_storage *ss, unsigned char out[16])
{
    struct tracker_peer p;
    if (peer_from_sockaddr(ss, &p) < 0)
        memset(p.ip, 0, sizeof p.ip);
    memcpy(out, p.ip, 16);
    return 16;
}

/* Writes the first 4 bytes of an info hash in hex, enough to tell torrents apart in a log. */
static void short_hash(const unsigned char h[20], char out[9])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 4; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[8] = '\0';
}

/* ================================================================ the shared announce */

/* An announce as both protocols deliver it, with the address taken from the socket. */
struct announce_in {
    unsigned char info_hash[20];
    unsigned char peer_id[20];
    struct sockaddr_storage from;
    uint16_t port;
    uint64_t left;
    uint64_t uploaded, downloaded; /* the client's counters, for the rates the web view shows */
    enum tracker_event event;
    long numwant;                             /* -1: the default */
    unsigned char key[TRACKER_STATE_KEY_MAX]; /* BEP 7's key, which lets a peer move */
    size_t key_len;                           /* 0: none sent */
};

/* What the reply to an announce carries. */
struct announce_out {
    struct tracker_peer peers[TRACKER_STATE_PICK_MAX];
    size_t npeers;
    struct tracker_scrape_counts counts;
};

/* Sweeps out peers that stopped announcing, when a sweep is due. Called with srv->lock held,
 * from the loop and before every request, so a test's fake clock takes effect at the next
 * request without waiting for the loop to wake. */
static void maybe_expire(struct tracker_server *srv, int64_t now)
{
    if (now < srv->next_expire_s)
        return;
    srv->stats.expired += tracker_state_expire(&srv->state, now);
    srv->next_expire_s = now + srv->cfg.expire_every_s;
    srv->stats.torrents = srv->state.ntorrents;
    srv->stats.peers = srv->state.npeers_total;
}

/* Records an announce and chooses the peers to send back (never the caller itself). Returns 0,
 * or -1 with a message fit for a "failure reason". */
static int record_announce(struct tracker_server *srv, const struct announce_in *in,
                           struct announce_out *out, char *err, size_t errlen)
{
    struct tracker_state_announce a;
    memset(&a, 0, sizeof a);
    memcpy(a.info_hash, in->info_hash, 20);
    if (peer_from_sockaddr(&in->from, &a.peer) < 0) {
        snprintf(err, errlen, "unsupported address family");
        return -1;
    }
    /* The address is the socket's, never the "ip" parameter: anyone could name a victim's
     * address there and have a swarm connect to it. The port is the one the peer listens on. */
    a.peer.port = in->port;
    memcpy(a.peer.peer_id, in->peer_id, 20);
    a.left = in->left;
    a.uploaded = in->uploaded;
    a.downloaded = in->downloaded;
    a.event = in->event;
    memcpy(a.key, in->key, in->key_len);
    a.key_len = in->key_len;
    size_t numwant = in->numwant < 0 ? DEFAULT_NUMWANT : (size_t)in->numwant;

    pthread_mutex_lock(&srv->lock);
    int64_t now = tracker_now(srv);
    a.now_ms = tracker_now_ms(srv);
    maybe_expire(srv, now);
    int rc = tracker_state_announce(&srv->state, &a, now, err, errlen);
    out->npeers = 0;
    if (rc == TRACKER_STATE_OK && in->event != TRACKER_EVENT_STOPPED)
        out->npeers = tracker_state_pick(&srv->state, in->info_hash, in->peer_id, out->peers,
                                         numwant, &srv->rng);
    tracker_state_scrape(&srv->state, in->info_hash, &out->counts);
    srv->stats.torrents = srv->state.ntorrents;
    srv->stats.peers = srv->state.npeers_total;
    pthread_mutex_unlock(&srv->lock);

    if (srv->cfg.log != NULL) {
        char addr[NET_ADDRSTRLEN], hash[9];
        static const char *const events[] = {"", " completed", " started", " stopped"};
        net_addr_str((const struct sockaddr *)&in->from, addr, sizeof addr);
        short_hash(in->info_hash, hash);
        fprintf(srv->cfg.log, "announce %s from %s (peer port %u)%s: %s, %zu peers listed\n", hash,
                addr, (unsigned)in->port, events[in->event], rc == TRACKER_STATE_OK ? "ok" : err,
                out->npeers);
        fflush(srv->cfg.log);
    }
    return rc == TRACKER_STATE_OK ? 0 : -1;
}

/* ================================================================ HTTP */

/* Closes a connection and frees its slot, counting why in *reason (NULL: a normal end). The
 * counters change before the socket closes, so a client that sees its connection end also sees
 * the counters that say why. */
static void conn_close(struct tracker_server *srv, struct tracker_conn *c, uint64_t *reason)
{
    pthread_mutex_lock(&srv->lock);
    srv->stats.http_open--;
    if (reason != NULL)
        (*reason)++;
    pthread_mutex_unlock(&srv->lock);
    close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
    c->len = c->outlen = c->outoff = 0;
}

/* Writes as much of the reply as the socket takes now. Returns 1 when it is all sent, 0 when
 * more remains (wait for POLLOUT), -1 when the client has gone. */
static int conn_flush(struct tracker_conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t w = io_send(c->fd, c->out + c->outoff, c->outlen - c->outoff);
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        c->outoff += (size_t)w;
    }
    return 1;
}

/* Puts the header for status and the bencoded body b together as the connection's reply. */
static void conn_set_reply(struct tracker_conn *c, int status, const struct benc_buf *b)
{
    char head[256];
    long hn = tracker_http_response_header(status, b->len, head, sizeof head);
    if (hn < 0)
        return; /* cannot happen for our four statuses; the connection then just closes */
    c->out = malloc((size_t)hn + b->len);
    if (c->out == NULL)
        return;
    memcpy(c->out, head, (size_t)hn);
    if (b->len > 0)
        memcpy(c->out + hn, b->data, b->len);
    c->outlen = (size_t)hn + b->len;
    c->outoff = 0;
}

/* Sets a bencoded "failure reason" reply with the given HTTP status. */
static void conn_set_failure(struct tracker_conn *c, int status, const char *reason)
{
    struct benc_buf b;
    benc_buf_init(&b);
    char err[128];
    if (tracker_http_encode_failure(&b, reason, err, sizeof err) == 0)
        conn_set_reply(c, status, &b);
    benc_buf_free(&b);
}

/* Answers an announce: record it, then list other peers, compact or not as the client asked. */
static void http_announce(struct tracker_server *srv, struct tracker_conn *c,
                          const struct tracker_http_request *req)
{
    struct announce_in in;
    memcpy(in.info_hash, req->info_hash, 20);
    memcpy(in.peer_id, req->peer_id, 20);
    in.from = c->from;
    in.port = req->port;
    in.left = req->left;
    in.uploaded = req->uploaded;
    in.downloaded = req->downloaded;
    in.event = req->event;
    in.numwant = req->numwant;
    /* TRACKER_HTTP_KEY_MAX and TRACKER_STATE_KEY_MAX are both 32; the parser enforced it. */
    in.key_len = req->key_len <= sizeof in.key ? req->key_len : sizeof in.key;
    memcpy(in.key, req->key, in.key_len);
    struct announce_out *out = malloc(sizeof *out);
    char err[256];
    if (out == NULL) {
        conn_set_failure(c, 503, "out of memory");
        return;
    }
    if (record_announce(srv, &in, out, err, sizeof err) < 0) {
        /* Status 200: clients show a failure reason only in a successful HTTP reply. */
        conn_set_failure(c, 200, err);
        free(out);
        return;
    }
    struct tracker_http_reply_info info = {
        .interval = (uint32_t)srv->cfg.interval_s,
        .min_interval = 0,
        .complete = out->counts.complete,
        .incomplete = out->counts.incomplete,
    };
    struct benc_buf b;
    benc_buf_init(&b);
    if (tracker_http_encode_announce_reply(&b, &info, out->peers, out->npeers, req->compact,
                                           req->no_peer_id, err, sizeof err) == 0)
        conn_set_reply(c, 200, &b);
    else
        conn_set_failure(c, 200, err);
    benc_buf_free(&b);
    free(out);
}

/* Answers a scrape (BEP 48): counts for the torrents asked for, or for every torrent when the
 * request names none. */
static void http_scrape(struct tracker_server *srv, struct tracker_conn *c,
                        const struct tracker_http_request *req)
{
    pthread_mutex_lock(&srv->lock);
    maybe_expire(srv, tracker_now(srv));
    size_t n = req->nscrape > 0 ? req->nscrape : srv->state.ntorrents;
    unsigned char(*hashes)[20] = malloc((n + 1) * sizeof *hashes);
    struct tracker_scrape_counts *counts = malloc((n + 1) * sizeof *counts);
    if (hashes != NULL && counts != NULL) {
        for (size_t i = 0; i < n; i++) {
            const unsigned char *h =
                req->nscrape > 0 ? req->scrape_hashes[i] : srv->state.torrents[i].info_hash;
            memcpy(hashes[i], h, 20);
            tracker_state_scrape(&srv->state, h, &counts[i]);
        }
    }
    pthread_mutex_unlock(&srv->lock);

    struct benc_buf b;
    benc_buf_init(&b);
    char err[128];
    if (hashes == NULL || counts == NULL)
        conn_set_failure(c, 503, "out of memory");
    else if (tracker_http_encode_scrape_reply(&b, (const unsigned char(*)[20])hashes, counts, n,
                                              err, sizeof err) == 0)
        conn_set_reply(c, 200, &b);
    else
        conn_set_failure(c, 200, err);
    benc_buf_free(&b);
    free(hashes);
    free(counts);
}

/* Tells whether a request line is a well-formed "GET target HTTP/1.x", so that a rejected query
 * is answered as a tracker failure (status 200) and anything else as a bad HTTP request (400). */
static int looks_like_get(const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    return n > 4 + 9 && memcmp(line, "GET ", 4) == 0 && memcmp(line + n - 9, " HTTP/1.", 8) == 0;
}

/* Handles a complete request (its headers ended): parse the request line and prepare the reply.
 * The headers themselves carry nothing a tracker needs. */
static void http_request(struct tracker_server *srv, struct tracker_conn *c)
{
    const char *nl = memchr(c->req, '\n', c->len);
    size_t linelen = nl != NULL ? (size_t)(nl - c->req) + 1 : c->len;
    struct tracker_http_request *req = malloc(sizeof *req); /* about 1.4 KiB: keep it off the
                                                               stack of a long-lived loop */
    char err[256];
    if (req == NULL) {
        conn_set_failure(c, 503, "out of memory");
        return;
    }
    int rc = tracker_http_parse_request_line(c->req, linelen, req, err, sizeof err);
    if (srv->cfg.log != NULL && rc != TRACKER_HTTP_OK) {
        char addr[NET_ADDRSTRLEN];
        fprintf(srv->cfg.log, "refused a request from %s: %s\n",
                net_addr_str((const struct sockaddr *)&c->from, addr, sizeof addr), err);
        fflush(srv->cfg.log);
    }
    if (rc == TRACKER_HTTP_ENOTFOUND)
        conn_set_failure(c, 404, err);
    else if (rc != TRACKER_HTTP_OK)
        conn_set_failure(c, looks_like_get(c->req, linelen) ? 200 : 400, err);
    else if (req->kind == TRACKER_HTTP_ANNOUNCE)
        http_announce(srv, c, req);
    else
        http_scrape(srv, c, req);
    free(req);
}

/* Returns 1 when the bytes read so far end the request's headers with an empty line. Only the
 * last few bytes are new, so the search starts just before them. */
static int headers_complete(const struct tracker_conn *c, size_t old_len)
{
    size_t from = old_len >= 3 ? old_len - 3 : 0;
    for (size_t i = from; i < c->len; i++) {
        if (c->req[i] != '\n')
            continue;
        if (i >= 1 && c->req[i - 1] == '\n')
            return 1;
        if (i >= 2 && c->req[i - 1] == '\r' && c->req[i - 2] == '\n')
            return 1;
    }
    return 0;
}

/* Reads what a client sent; once the request is complete (or too large), prepares the reply and
 * starts sending it. Returns 0 to keep the connection, -1 to close it. */
static int conn_readable(struct tracker_server *srv, struct tracker_conn *c)
{
    size_t old = c->len;
    ssize_t r;
    do
        r = recv(c->fd, c->req + c->len, sizeof c->req - c->len, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    if (r == 0)
        return -1; /* the client closed before finishing its request */
    c->len += (size_t)r;
    if (headers_complete(c, old))
        http_request(srv, c);
    else if (c->len == sizeof c->req)
        conn_set_failure(c, 400, "request too large");
    else
        return 0;
    if (c->out == NULL)
        return -1; /* no reply could be made (out of memory): just close */
    int f = conn_flush(c);
    if (f == 1) {
        pthread_mutex_lock(&srv->lock);
        srv->stats.http_replied++;
        pthread_mutex_unlock(&srv->lock);
    }
    return f == 0 ? 0 : -1;
}

/* Finds a free connection slot, closing the oldest connection when every slot is taken. */
static struct tracker_conn *conn_slot(struct tracker_server *srv)
{
    struct tracker_conn *oldest = NULL;
    for (size_t i = 0; i < srv->cfg.max_conns; i++) {
        struct tracker_conn *c = &srv->conns[i];
        if (c->fd < 0)
            return c;
        if (oldest == NULL || c->seq < oldest->seq)
            oldest = c;
    }
    conn_close(srv, oldest, &srv->stats.http_evicted);
    return oldest;
}

/* Accepts waiting connections. Returns 0, or -1 when the process is out of descriptors, and the
 * caller then stops listening for a moment (the pending connection would wake poll() at once
 * again and again). */
static int http_accept(struct tracker_server *srv, uint64_t *seq)
{
    for (int k = 0; k < ACCEPT_DRAIN_MAX; k++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        int fd = accept(srv->http_fd, (struct sockaddr *)&from, &fromlen);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                return -1;
            return 0; /* EAGAIN (none left), EINTR, ECONNABORTED: try again at the next wake */
        }
        /* A blocking connection could stall the one loop that serves everyone (a client that
         * stops reading its reply would block the write), so one we cannot make non-blocking
         * is closed at once; the client may try again. */
        if (net_set_nonblocking(fd) < 0) {
            close(fd);
            continue;
        }
#ifdef SO_NOSIGPIPE
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
        struct tracker_conn *c = conn_slot(srv);
        c->fd = fd;
        c->seq = (*seq)++;
        c->deadline_ms = clock_ms() + (uint64_t)srv->cfg.conn_timeout_ms;
        c->from = from;
        c->len = 0;
        pthread_mutex_lock(&srv->lock);
        srv->stats.http_open++;
        srv->stats.http_accepted++;
        pthread_mutex_unlock(&srv->lock);
    }
    return 0;
}

/* ================================================================ UDP */

/* Sends one datagram back to the client; a failure only loses that reply, as UDP may anyway. */
static void udp_reply(struct tracker_server *srv, const struct sockaddr_storage *to,
                      socklen_t tolen, const unsigned char *p, size_t n)
{
    if (n > 0)
        (void)sendto(srv->udp_fd, p, n, 0, (const struct sockaddr *)to, tolen);
}

/* Sends a BEP 15 error packet with the request's transaction id. */
static void udp_error(struct tracker_server *srv, const struct sockaddr_storage *to,
                      socklen_t tolen, uint32_t tid, const char *msg)
{
    unsigned char out[TRACKER_UDP_ERROR_MIN + 128];
    if (srv->cfg.log != NULL) {
        char addr[NET_ADDRSTRLEN];
        fprintf(srv->cfg.log, "refused a UDP request from %s: %s\n",
                net_addr_str((const struct sockaddr *)to, addr, sizeof addr), msg);
        fflush(srv->cfg.log);
    }
    udp_reply(srv, to, tolen, out, tracker_udp_encode_error(out, sizeof out, tid, msg));
}

/* Tells whether a connection id was issued to this address recently (BEP 15's proof that the
 * client receives packets at the address it sends from). */
static int udp_cid_ok(struct tracker_server *srv, const struct sockaddr_storage *from, uint64_t cid)
{
    unsigned char key[16];
    size_t kn = cid_key(from, key);
    return tracker_udp_cid_valid(srv->secret, key, kn, tracker_now(srv), cid);
}

/* Answers a UDP announce: check the connection id, record, and list peers of the request's own
 * address family (BEP 15). */
static void udp_announce(struct tracker_server *srv, const unsigned char *p, size_t n,
                         const struct sockaddr_storage *from, socklen_t fromlen)
{
    struct tracker_udp_announce_req req;
    char err[128];
    uint32_t tid = get_u32be(p + 12);
    if (tracker_udp_parse_announce_req(p, n, &req, err, sizeof err) != TRACKER_UDP_OK) {
        udp_error(srv, from, fromlen, tid, err);
        return;
    }
    if (!udp_cid_ok(srv, from, req.connection_id)) {
        udp_error(srv, from, fromlen, tid, "unknown or expired connection id");
        return;
    }
    if (req.port == 0) {
        udp_error(srv, from, fromlen, tid, "port must be 1..65535");
        return;
    }
    struct announce_in in;
    memcpy(in.info_hash, req.info_hash, 20);
    memcpy(in.peer_id, req.peer_id, 20);
    in.from = *from;
    in.port = req.port;
    in.left = req.left;
    in.uploaded = req.uploaded;
    in.downloaded = req.downloaded;
    in.event = req.event;
    in.numwant = req.num_want < 0 ? -1 : req.num_want;
    /* BEP 15 always carries a 32-bit key. It is kept as the 8 hex digits that libtorrent sends
     * as its HTTP "key", so one client is recognised over both protocols. A key of 0 counts as
     * none: simple clients leave the field at 0, and an attacker could guess that too. */
    in.key_len = 0;
    if (req.key != 0)
        in.key_len = (size_t)snprintf((char *)in.key, sizeof in.key, "%08X", (unsigned)req.key);
    struct announce_out *out = malloc(sizeof *out);
    if (out == NULL) {
        udp_error(srv, from, fromlen, tid, "out of memory");
        return;
    }
    if (record_announce(srv, &in, out, err, sizeof err) < 0) {
        udp_error(srv, from, fromlen, tid, err);
        free(out);
        return;
    }
    struct tracker_peer self;
    peer_from_sockaddr(from, &self);
    struct tracker_udp_announce_resp resp = {
        .transaction_id = req.transaction_id,
        .interval = (uint32_t)srv->cfg.interval_s,
        .leechers = out->counts.incomplete,
        .seeders = out->counts.complete,
    };
    unsigned char pkt[TRACKER_UDP_PACKET_MAX];
    size_t len = tracker_udp_encode_announce_resp(pkt, sizeof pkt, &resp, out->peers, out->npeers,
                                                  self.family);
    udp_reply(srv, from, fromlen, pkt, len);
    free(out);
}

/* Answers a UDP scrape: one triple of counts per info hash asked for, in the same order. */
static void udp_scrape(struct tracker_server *srv, const unsigned char *p, size_t n,
                       const struct sockaddr_storage *from, socklen_t fromlen)
{
    uint64_t cid;
    uint32_t tid = get_u32be(p + 12);
    const unsigned char *hashes;
    size_t nh;
    char err[128];
    if (tracker_udp_parse_scrape_req(p, n, &cid, &tid, &hashes, &nh, err, sizeof err) !=
        TRACKER_UDP_OK) {
        udp_error(srv, from, fromlen, tid, err);
        return;
    }
    if (!udp_cid_ok(srv, from, cid)) {
        udp_error(srv, from, fromlen, tid, "unknown or expired connection id");
        return;
    }
    struct tracker_scrape_counts counts[TRACKER_UDP_SCRAPE_MAX];
    pthread_mutex_lock(&srv->lock);
    maybe_expire(srv, tracker_now(srv));
    for (size_t i = 0; i < nh; i++)
        tracker_state_scrape(&srv->state, hashes + 20 * i, &counts[i]);
    pthread_mutex_unlock(&srv->lock);
    unsigned char pkt[TRACKER_UDP_PACKET_MAX];
    udp_reply(srv, from, fromlen, pkt,
              tracker_udp_encode_scrape_resp(pkt, sizeof pkt, tid, counts, nh));
}

/* Handles one datagram. Packets too short to carry an action and a transaction id, and connect
 * requests without BEP 15's magic number, are dropped without a word: answering unverified
 * senders with more bytes than they sent would make the tracker an amplifier for attacks. */
static void udp_packet(struct tracker_server *srv, const unsigned char *p, size_t n,
                       const struct sockaddr_storage *from, socklen_t fromlen)
{
    if (n < 16)
        return;
    uint32_t action = get_u32be(p + 8);
    uint32_t tid = get_u32be(p + 12);
    char err[128];
    if (action == TRACKER_UDP_ACTION_CONNECT) {
        if (tracker_udp_parse_connect_req(p, n, &tid, err, sizeof err) != TRACKER_UDP_OK)
            return;
        unsigned char key[16], pkt[TRACKER_UDP_CONNECT_LEN];
        size_t kn = cid_key(from, key);
        uint64_t cid = tracker_udp_cid_issue(srv->secret, key, kn, tracker_now(srv));
        udp_reply(srv, from, fromlen, pkt, tracker_udp_encode_connect_resp(pkt, tid, cid));
    } else if (action == TRACKER_UDP_ACTION_ANNOUNCE) {
        udp_announce(srv, p, n, from, fromlen);
    } else if (action == TRACKER_UDP_ACTION_SCRAPE) {
        udp_scrape(srv, p, n, from, fromlen);
    } else {
        udp_error(srv, from, fromlen, tid, "unknown action");
    }
}

/* Reads and answers the datagrams waiting on the UDP socket. */
static void udp_drain(struct tracker_server *srv)
{
    /* Larger than any request we accept; a longer datagram is cut, and its tail is ignored. */
    unsigned char buf[TRACKER_UDP_PACKET_MAX + 64];
    for (int k = 0; k < UDP_DRAIN_MAX; k++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(srv->udp_fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0)
            return; /* EAGAIN: drained; other errors concern one earlier datagram */
        pthread_mutex_lock(&srv->lock);
        srv->stats.udp_packets++;
        pthread_mutex_unlock(&srv->lock);
        udp_packet(srv, buf, (size_t)n, &from, fromlen);
    }
}

/* ================================================================ the loop */

/* Runs the poll() loop until tracker_server_stop() writes to the wake-up pipe. */
static void *server_loop(void *arg)
{
    struct tracker_server *srv = arg;
    struct pollfd *pfd = srv->pfd;
    struct tracker_conn **who = srv->who;
    uint64_t seq = 0;
    uint64_t accept_paused_until = 0;

    for (;;) {
        uint64_t now = clock_ms();
        int timeout = SWEEP_POLL_MS;
        size_t n = 0;
        pfd[n++] = (struct pollfd){.fd = srv->wake[0], .events = POLLIN};
        size_t http_i = n;
        pfd[n++] =
            (struct pollfd){.fd = now >= accept_paused_until ? srv->http_fd : -1, .events = POLLIN};
        if (now < accept_paused_until)
            timeout = (int)(accept_paused_until - now);
        size_t udp_i = n;
        pfd[n++] = (struct pollfd){.fd = srv->udp_fd, .events = POLLIN}; /* -1 is skipped */
        size_t first_conn = n;
        for (size_t i = 0; i < srv->cfg.max_conns; i++) {
            struct tracker_conn *c = &srv->conns[i];
            if (c->fd < 0)
                continue;
            if (c->deadline_ms <= now) {
                conn_close(srv, c, &srv->stats.http_timed_out);
                continue;
            }
            if (c->deadline_ms - now < (uint64_t)timeout)
                timeout = (int)(c->deadline_ms - now);
            who[n] = c;
            pfd[n++] = (struct pollfd){.fd = c->fd, .events = c->out ? POLLOUT : POLLIN};
        }

        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR)
            break; /* EINVAL or ENOMEM: the poll set itself is broken, and retrying would spin */
        if (r > 0 && pfd[0].revents != 0)
            break; /* tracker_server_stop() */

        pthread_mutex_lock(&srv->lock);
        maybe_expire(srv, tracker_now(srv));
        pthread_mutex_unlock(&srv->lock);
        if (r <= 0)
            continue;

        /* Connections first, then new ones: accepting may close the oldest connection, whose
         * pollfd entry must not be read after its slot is reused. */
        for (size_t i = first_conn; i < n; i++) {
            struct tracker_conn *c = who[i];
            if (pfd[i].revents == 0)
                continue;
            int keep;
            if (c->out == NULL) {
                keep = conn_readable(srv, c) == 0;
            } else {
                int f = conn_flush(c);
                keep = f == 0;
                if (f == 1) {
                    pthread_mutex_lock(&srv->lock);
                    srv->stats.http_replied++;
                    pthread_mutex_unlock(&srv->lock);
                }
            }
            if (!keep)
                conn_close(srv, c, NULL);
        }
        if (pfd[udp_i].revents != 0)
            udp_drain(srv);
        if (pfd[http_i].revents != 0 && http_accept(srv, &seq) < 0)
            accept_paused_until = clock_ms() + ACCEPT_PAUSE_MS;
    }
    return NULL;
}

/* ================================================================ start and stop */

/* Writes "SCHEME://ADDR:PORT/announce" for a bound socket into out. */
static void socket_url(int fd, const char *scheme, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char addr[NET_ADDRSTRLEN] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        net_addr_str((const struct sockaddr *)&ss, addr, sizeof addr);
    snprintf(out, cap, "%s://%s/announce", scheme, addr);
}

int tracker_server_start(struct tracker_server *srv, const struct tracker_server_config *cfg,
                         char *err, size_t errlen)
{
    memset(srv, 0, sizeof *srv);
    srv->cfg = *cfg;
    srv->http_fd = srv->udp_fd = srv->wake[0] = srv->wake[1] = -1;
    srv->udp_port = -1;
    int have_lock = 0, have_state = 0;
    if (srv->cfg.interval_s < 1 || srv->cfg.max_conns < 1 || srv->cfg.conn_timeout_ms < 1 ||
        srv->cfg.expire_every_s < 1) {
        snprintf(err, errlen, "tracker configuration out of range");
        return -1;
    }

    struct tracker_state_config scfg;
    tracker_state_config_default(&scfg, srv->cfg.interval_s);
    if (srv->cfg.peer_ttl_s > 0)
        scfg.peer_ttl_s = srv->cfg.peer_ttl_s;
    if (tracker_state_init(&srv->state, &scfg, rand_u64(), err, errlen) != TRACKER_STATE_OK)
        goto fail;
    have_state = 1;
    int e = pthread_mutex_init(&srv->lock, NULL);
    if (e != 0) {
        snprintf(err, errlen, "cannot create the tracker's lock: %s", strerror(e));
        goto fail;
    }
    have_lock = 1;
    rand_bytes(srv->secret, sizeof srv->secret);
    srv->rng = rand_u64();
    srv->next_expire_s = tracker_now(srv) + srv->cfg.expire_every_s;

    /* Every buffer the loop needs is allocated here, so a tracker that starts never fails for
     * want of memory later: the poll set holds the wake-up pipe, the two listening sockets and
     * every connection. */
    srv->conns = calloc(srv->cfg.max_conns, sizeof *srv->conns);
    srv->pfd = calloc(srv->cfg.max_conns + 3, sizeof *srv->pfd);
    srv->who = calloc(srv->cfg.max_conns + 3, sizeof *srv->who);
    if (srv->conns == NULL || srv->pfd == NULL || srv->who == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < srv->cfg.max_conns; i++)
        srv->conns[i].fd = -1;

    /* Both listening sockets are non-blocking, so one slow client or an empty queue never stalls
     * the loop. */
    srv->http_fd = net_listen(srv->cfg.bind, srv->cfg.http_port, SOCK_STREAM, err, errlen);
    if (srv->http_fd < 0)
        goto fail;
    if (net_set_nonblocking(srv->http_fd) < 0) {
        snprintf(err, errlen, "cannot make the HTTP socket non-blocking: %s", strerror(errno));
        goto fail;
    }
    srv->http_port = net_local_port(srv->http_fd);
    socket_url(srv->http_fd, "http", srv->http_url, sizeof srv->http_url);
    if (srv->cfg.udp_port != NULL) {
        srv->udp_fd = net_listen(srv->cfg.bind, srv->cfg.udp_port, SOCK_DGRAM, err, errlen);
        if (srv->udp_fd < 0)
            goto fail;
        if (net_set_nonblocking(srv->udp_fd) < 0) {
            snprintf(err, errlen, "cannot make the UDP socket non-blocking: %s", strerror(errno));
            goto fail;
        }
        srv->udp_port = net_local_port(srv->udp_fd);
        socket_url(srv->udp_fd, "udp", srv->udp_url, sizeof srv->udp_url);
    }
    if (pipe(srv->wake) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        srv->wake[0] = srv->wake[1] = -1;
        goto fail;
    }
    e = thread_start(&srv->thread, server_loop, srv, false, 0);
    if (e != 0) {
        snprintf(err, errlen, "cannot start the tracker thread: %s", strerror(e));
        goto fail;
    }
    return 0;

fail:
    if (srv->http_fd >= 0)
        close(srv->http_fd);
    if (srv->udp_fd >= 0)
        close(srv->udp_fd);
    if (srv->wake[0] >= 0) {
        close(srv->wake[0]);
        close(srv->wake[1]);
    }
    free(srv->conns);
    free(srv->pfd);
    free(srv->who);
    if (have_lock)
        pthread_mutex_destroy(&srv->lock);
    if (have_state)
        tracker_state_free(&srv->state);
    memset(srv, 0, sizeof *srv);
    srv->http_fd = srv->udp_fd = -1;
    return -1;
}

void tracker_server_stop(struct tracker_server *srv)
{
    if (srv->conns == NULL)
        return; /* never started, or already stopped */
    char byte = 1;
    ssize_t w;
    do
        w = write(srv->wake[1], &byte, 1);
    while (w < 0 && errno == EINTR);
    pthread_join(srv->thread, NULL);
    for (size_t i = 0; i < srv->cfg.max_conns; i++)
        if (srv->conns[i].fd >= 0)
            conn_close(srv, &srv->conns[i], NULL);
    free(srv->conns);
    free(srv->pfd);
    free(srv->who);
    srv->conns = NULL;
    srv->pfd = NULL;
    srv->who = NULL;
    close(srv->http_fd);
    if (srv->udp_fd >= 0)
        close(srv->udp_fd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    srv->http_fd = srv->udp_fd = -1;
    tracker_state_free(&srv->state);
    pthread_mutex_destroy(&srv->lock);
}

void tracker_server_stats(struct tracker_server *srv, struct tracker_server_stats *out)
{
    pthread_mutex_lock(&srv->lock);
    *out = srv->stats;
    pthread_mutex_unlock(&srv->lock);
}

size_t tracker_server_peers(struct tracker_server *srv, struct tracker_server_peer_view *out,
                            size_t cap)
{
    size_t total = 0;
    pthread_mutex_lock(&srv->lock);
    for (size_t t = 0; t < srv->state.ntorrents; t++) {
        const struct tracker_torrent *tt = &srv->state.torrents[t];
        for (size_t i = 0; i < tt->npeers; i++, total++) {
            if (total >= cap)
                continue;
            const struct tracker_state_peer *p = &tt->peers[i];
            struct tracker_server_peer_view *v = &out[total];
            memcpy(v->info_hash, tt->info_hash, sizeof v->info_hash);
            if (inet_ntop(p->addr.family == 6 ? AF_INET6 : AF_INET, p->addr.ip, v->addr,
                          sizeof v->addr) == NULL)
                snprintf(v->addr, sizeof v->addr, "?");
            v->port = p->addr.port;
            v->left = p->left;
            v->last_seen = p->last_seen;
            v->up_Bps = p->up_Bps;
            v->down_Bps = p->down_Bps;
        }
    }
    pthread_mutex_unlock(&srv->lock);
    return total;
}
