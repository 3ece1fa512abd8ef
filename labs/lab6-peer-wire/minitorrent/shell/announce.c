/*
 * announce.c - one announce (or scrape) over HTTP or UDP.
 */
#include "announce.h"
#include "clock.h"
#include "io.h"
#include "net.h"
#include "randbytes.h"
#include "tracker_http.h"
#include "url.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void announce_defaults(struct announce_params *p)
{
    memset(p, 0, sizeof *p);
    p->numwant = 50;
    p->timeout_ms = 10000;
    p->udp_retries = 2;
}

/* Waits until fd is readable or the deadline passes. Returns 1, 0 on time out, -1 on error. */
static int wait_readable(int fd, uint64_t deadline)
{
    for (;;) {
        uint64_t now = clock_ms();
        if (now >= deadline)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r > 0;
    }
}

/* ===================================================================== HTTP =============== */

/* Connects to the tracker, from our own address when we have one: a tracker records the address
 * an announce comes from, and a peer bound to 127.0.0.5 must be listed as 127.0.0.5. */
static int connect_tracker(const struct tracker_url *u, const struct sockaddr *local,
                           socklen_t locallen, int timeout_ms, char *err, size_t errlen)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)u->port);
    if (local == NULL)
        return net_connect(u->host, port, err, errlen);
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = local->sa_family;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        fd =
            net_connect_addr(ai->ai_addr, ai->ai_addrlen, local, locallen, timeout_ms, err, errlen);
    freeaddrinfo(res);
    return fd;
}

/* Sends GET target to the tracker at u and reads the whole response into a malloc'd buffer
 * (*buf, which the caller frees); fills *resp with the status and body. Returns 0 or -1. */
static int http_get(const struct tracker_url *u, const char *target, int timeout_ms,
                    const struct sockaddr *local, socklen_t locallen, unsigned char **buf,
                    struct tracker_http_response *resp, char *err, size_t errlen)
{
    char req[TRACKER_HTTP_TARGET_MAX + 512];
    long reqlen = tracker_http_build_get(u, target, req, sizeof req, err, errlen);
    if (reqlen < 0)
        return -1;
    int fd = connect_tracker(u, local, locallen, timeout_ms, err, errlen);
    if (fd < 0)
        return -1;
    int rc = -1;
    size_t cap = TRACKER_HTTP_HEADERS_MAX + TRACKER_HTTP_BODY_MAX, len = 0;
    *buf = malloc(cap);
    if (*buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (writen(fd, req, (size_t)reqlen) < 0) {
        snprintf(err, errlen, "sending to the tracker: %s", strerror(errno));
        goto out;
    }
    uint64_t deadline = clock_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int eof = 0;
        int w = wait_readable(fd, deadline);
        if (w <= 0) {
            snprintf(err, errlen, "the tracker at %s did not answer within %d ms", u->host,
                     timeout_ms);
            goto out;
        }
        ssize_t n = read(fd, *buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "reading from the tracker: %s", strerror(errno));
            goto out;
        }
        if (n == 0)
            eof = 1;
        len += (size_t)n;
        int r = tracker_http_parse_response(*buf, len, eof, resp, err, errlen);
        if (r == TRACKER_HTTP_OK)
            break;
        if (r != TRACKER_HTTP_NEED_MORE)
            goto out;
        if (eof || len == cap) {
            snprintf(err, errlen, "the tracker's reply is %s", eof ? "cut short" : "too large");
            goto out;
        }
    }
    if (resp->status != 200) {
        snprintf(err, errlen, "the tracker answered with HTTP status %d", resp->status);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    if (rc < 0) {
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

static int announce_http(const struct announce_params *p, const struct tracker_url *u,
                         struct announce_result *r, char *err, size_t errlen)
{
    struct tracker_http_announce a;
    memcpy(a.info_hash, p->info_hash, 20);
    memcpy(a.peer_id, p->peer_id, 20);
    a.port = p->port;
    a.uploaded = p->uploaded;
    a.downloaded = p->downloaded;
    a.left = p->left;
    a.event = p->event;
    a.numwant = p->numwant;
    char target[TRACKER_HTTP_TARGET_MAX];
    if (tracker_http_announce_target(u, &a, target, sizeof target, err, errlen) < 0)
        return -1;
    unsigned char *buf;
    struct tracker_http_response resp;
    if (http_get(u, target, p->timeout_ms, p->local, p->locallen, &buf, &resp, err, errlen) < 0)
        return -1;
    struct tracker_http_reply reply;
    int rc = tracker_http_parse_announce_reply(resp.body, resp.body_len, &reply, r->peers,
                                               ANNOUNCE_MAX_PEERS, err, errlen);
    free(buf);
    if (rc != TRACKER_HTTP_OK)
        return -1;
    r->interval = reply.interval;
    r->complete = reply.complete;
    r->incomplete = reply.incomplete;
    r->npeers = reply.npeers;
    snprintf(r->warning, sizeof r->warning, "%s", reply.warning);
    return 0;
}

/* ===================================================================== UDP ================ */

/* One UDP request and its reply, retried with a doubling time out (BEP 15's schedule, from a
 * shorter start). The parse callback returns TRACKER_UDP_OK, TRACKER_UDP_ETID (someone else's
 * reply: keep waiting) or an error. Returns 0 or -1. */
typedef int (*udp_parse_fn)(const unsigned char *p, size_t n, void *ctx, char *err, size_t errlen);

static int udp_exchange(int fd, const struct sockaddr_storage *to, socklen_t tolen,
                        const unsigned char *req, size_t reqlen, int timeout_ms, int retries,
                        udp_parse_fn parse, void *ctx, char *err, size_t errlen)
{
    unsigned char buf[TRACKER_UDP_PACKET_MAX * 4];
    int wait = timeout_ms;
    for (int attempt = 0; attempt <= retries; attempt++, wait *= 2) {
        if (sendto(fd, req, reqlen, 0, (const struct sockaddr *)to, tolen) < 0) {
            snprintf(err, errlen, "sending to the tracker: %s", strerror(errno));
            return -1;
        }
        uint64_t deadline = clock_ms() + (uint64_t)wait;
        while (wait_readable(fd, deadline) == 1) {
            struct sockaddr_storage from;
            socklen_t fromlen = sizeof from;
            ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
            if (n < 0 || !net_same_addr((struct sockaddr *)&from, (const struct sockaddr *)to))
                continue; /* a stray datagram, or an error report for an old one */
            int r = parse(buf, (size_t)n, ctx, err, errlen);
            if (r == TRACKER_UDP_OK)
                return 0;
            if (r != TRACKER_UDP_ETID)
                return -1;
        }
    }
    snprintf(err, errlen, "the UDP tracker did not answer after %d tries", retries + 1);
    return -1;
}

struct connect_ctx {
    uint32_t tid;
    uint64_t cid;
};

static int parse_connect(const unsigned char *p, size_t n, void *ctx, char *err, size_t errlen)
{
    struct connect_ctx *c = ctx;
    return tracker_udp_parse_connect_resp(p, n, c->tid, &c->cid, err, errlen);
}

struct announce_ctx {
    uint32_t tid;
    int family;
    struct announce_result *r;
};

static int parse_announce(const unsigned char *p, size_t n, void *ctx, char *err, size_t errlen)
{
    struct announce_ctx *a = ctx;
    struct tracker_udp_announce_resp resp;
    int rc = tracker_udp_parse_announce_resp(p, n, a->tid, a->family, &resp, a->r->peers,
                                             ANNOUNCE_MAX_PEERS, &a->r->npeers, err, errlen);
    if (rc == TRACKER_UDP_OK) {
        a->r->interval = resp.interval;
        a->r->complete = resp.seeders;
        a->r->incomplete = resp.leechers;
    }
    return rc;
}

struct scrape_ctx {
    uint32_t tid;
    struct tracker_scrape_counts *out;
};

static int parse_scrape(const unsigned char *p, size_t n, void *ctx, char *err, size_t errlen)
{
    struct scrape_ctx *s = ctx;
    return tracker_udp_parse_scrape_resp(p, n, s->tid, s->out, 1, err, errlen);
}

/* Opens a UDP socket towards the tracker and gets a connection id. Returns the socket or -1. */
static int udp_connect(const struct tracker_url *u, int timeout_ms, int retries,
                       const struct sockaddr *local, socklen_t locallen,
                       struct sockaddr_storage *to, socklen_t *tolen, uint64_t *cid, char *err,
                       size_t errlen)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)u->port);
    int fd = net_udp_socket(u->host, port, to, tolen, err, errlen);
    if (fd < 0)
        return -1;
    /* Send from our own address, for the same reason as connect_tracker(). */
    if (local != NULL && local->sa_family == to->ss_family && bind(fd, local, locallen) < 0) {
        snprintf(err, errlen, "cannot bind the UDP socket to our address: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct connect_ctx c;
    rand_bytes(&c.tid, sizeof c.tid);
    unsigned char req[TRACKER_UDP_CONNECT_LEN];
    tracker_udp_encode_connect_req(req, c.tid);
    if (udp_exchange(fd, to, *tolen, req, sizeof req, timeout_ms, retries, parse_connect, &c, err,
                     errlen) < 0) {
        close(fd);
        return -1;
    }
    *cid = c.cid;
    return fd;
}

static int announce_udp(const struct announce_params *p, const struct tracker_url *u,
                        struct announce_result *r, char *err, size_t errlen)
{
    struct sockaddr_storage to;
    socklen_t tolen;
    struct tracker_udp_announce_req req;
    memset(&req, 0, sizeof req);
    int fd = udp_connect(u, p->timeout_ms, p->udp_retries, p->local, p->locallen, &to, &tolen,
                         &req.connection_id, err, errlen);
    if (fd < 0)
        return -1;
    rand_bytes(&req.transaction_id, sizeof req.transaction_id);
    rand_bytes(&req.key, sizeof req.key);
    memcpy(req.info_hash, p->info_hash, 20);
    memcpy(req.peer_id, p->peer_id, 20);
    req.downloaded = p->downloaded;
    req.left = p->left;
    req.uploaded = p->uploaded;
    req.event = p->event;
    req.num_want = p->numwant;
    req.port = p->port;
    unsigned char pkt[TRACKER_UDP_ANNOUNCE_REQ_LEN];
    tracker_udp_encode_announce_req(pkt, &req);
    /* BEP 15: the peer list's address family is the one the request travelled over. */
    struct announce_ctx a = {req.transaction_id, to.ss_family == AF_INET6 ? 6 : 4, r};
    int rc = udp_exchange(fd, &to, tolen, pkt, sizeof pkt, p->timeout_ms, p->udp_retries,
                          parse_announce, &a, err, errlen);
    close(fd);
    return rc;
}

/* ===================================================================== entry points ======= */

int announce(const struct announce_params *p, struct announce_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    struct tracker_url u;
    if (p->url == NULL) {
        snprintf(err, errlen, "the torrent names no tracker");
        return -1;
    }
    if (url_parse(p->url, &u, err, errlen) < 0)
        return -1;
    return u.scheme == URL_HTTP ? announce_http(p, &u, r, err, errlen)
                                : announce_udp(p, &u, r, err, errlen);
}

int announce_scrape(const char *url, const unsigned char info_hash[20], int timeout_ms,
                    struct tracker_scrape_counts *out, char *err, size_t errlen)
{
    struct tracker_url u;
    if (url_parse(url, &u, err, errlen) < 0)
        return -1;
    if (u.scheme == URL_HTTP) {
        char target[TRACKER_HTTP_TARGET_MAX];
        if (tracker_http_scrape_target(&u, info_hash, target, sizeof target, err, errlen) < 0)
            return -1;
        unsigned char *buf;
        struct tracker_http_response resp;
        if (http_get(&u, target, timeout_ms, NULL, 0, &buf, &resp, err, errlen) < 0)
            return -1;
        int rc =
            tracker_http_parse_scrape_reply(resp.body, resp.body_len, info_hash, out, err, errlen);
        free(buf);
        return rc == TRACKER_HTTP_OK ? 0 : -1;
    }
    struct sockaddr_storage to;
    socklen_t tolen;
    uint64_t cid;
    int fd = udp_connect(&u, timeout_ms, 2, NULL, 0, &to, &tolen, &cid, err, errlen);
    if (fd < 0)
        return -1;
    struct scrape_ctx s = {0, out};
    rand_bytes(&s.tid, sizeof s.tid);
    unsigned char pkt[TRACKER_UDP_PACKET_MAX];
    const unsigned char(*hashes)[20] = (const unsigned char(*)[20])info_hash;
    size_t n = tracker_udp_encode_scrape_req(pkt, sizeof pkt, cid, s.tid, hashes, 1);
    int rc = udp_exchange(fd, &to, tolen, pkt, n, timeout_ms, 2, parse_scrape, &s, err, errlen);
    close(fd);
    return rc;
}
