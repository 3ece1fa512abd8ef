/*
 * check_tracker_server.c - the tracker's sockets, driven by the tracker client (announce.c) and by
 * raw HTTP requests and UDP packets, all on loopback.
 *
 * Each test starts a tracker in its own process (Check forks every test) on 127.0.0.1, port 0,
 * with a fake clock the test moves by hand: peer expiry and UDP connection-id expiry are tested
 * in microseconds. The last tests run the real `minitorrent tracker` program.
 *
 * Two tests make system calls fail on purpose: this program defines its own fcntl() and
 * pthread_mutex_init(), which take the place of the C library's (a program's own definitions win
 * when symbols are resolved) and pass every call through to the real ones unless a test arms a
 * failure. That needs dlsym(RTLD_NEXT), a common extension of glibc and the BSDs: elsewhere those
 * tests skip.
 */
#define _GNU_SOURCE /* RTLD_NEXT in <dlfcn.h> on glibc */
#include "testlib.h"
#include "announce.h"
#include "bytes.h"
#include "io.h"
#include "net.h"
#include "tracker_http.h"
#include "tracker_server.h"
#include "tracker_state.h"
#include "tracker_udp.h"
#include "url.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------- failures on demand */

#ifdef RTLD_NEXT
/* The real functions, found once. */
static int (*real_fcntl)(int, int, ...);
static int (*real_mutex_init)(pthread_mutex_t *, const pthread_mutexattr_t *);
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void find_real(void)
{
    *(void **)&real_fcntl = dlsym(RTLD_NEXT, "fcntl");
    *(void **)&real_mutex_init = dlsym(RTLD_NEXT, "pthread_mutex_init");
}

/* What to break: FAIL_NEXT_NONBLOCK fails the next call that sets O_NONBLOCK, FAIL_THREAD_NONBLOCK
 * every such call from a thread other than the test's own (the tracker's), FAIL_NEXT_MUTEX the
 * next pthread_mutex_init. */
enum { FAIL_NONE, FAIL_NEXT_NONBLOCK, FAIL_THREAD_NONBLOCK, FAIL_NEXT_MUTEX };
static _Atomic int fail_mode = FAIL_NONE;
static pthread_t test_thread;

/* This program's fcntl: the C library's, unless a test armed a failure of O_NONBLOCK. */
int fcntl(int fd, int cmd, ...)
{
    pthread_once(&real_once, find_real);
    va_list ap;
    va_start(ap, cmd);
    /* Every fcntl command takes an int, a pointer or nothing: reading a pointer-sized value and
     * passing it on is what C libraries' own wrappers do. */
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (cmd == F_SETFL && ((intptr_t)arg & O_NONBLOCK) != 0) {
        int mode = atomic_load(&fail_mode);
        int expected = FAIL_NEXT_NONBLOCK;
        if ((mode == FAIL_NEXT_NONBLOCK &&
             atomic_compare_exchange_strong(&fail_mode, &expected, FAIL_NONE)) ||
            (mode == FAIL_THREAD_NONBLOCK && !pthread_equal(pthread_self(), test_thread))) {
            errno = EINVAL;
            return -1;
        }
    }
    return real_fcntl(fd, cmd, arg);
}

/* This program's pthread_mutex_init: the C library's, unless a test armed a failure. */
int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    pthread_once(&real_once, find_real);
    int expected = FAIL_NEXT_MUTEX;
    if (atomic_compare_exchange_strong(&fail_mode, &expected, FAIL_NONE))
        return EAGAIN;
    return real_mutex_init(m, a);
}
#endif

/* ---------------------------------------------------------------- a tracker with a fake clock */

/* The tracker's clock, in seconds; the tracker thread reads it, the test moves it. */
static _Atomic int64_t fake_now = 1000;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return atomic_load(&fake_now);
}

/* Fills cfg for a test: loopback, free ports for HTTP and UDP, the fake clock. */
static void test_config(struct tracker_server_config *cfg)
{
    tracker_server_config_default(cfg);
    cfg->bind = "127.0.0.1";
    cfg->http_port = "0";
    cfg->udp_port = "0";
    cfg->clock_s = fake_clock;
}

static struct tracker_server srv;

/* Starts the tracker with cfg, failing the test if it cannot. */
static void start(const struct tracker_server_config *cfg)
{
    char err[256];
    int rc = tracker_server_start(&srv, cfg, err, sizeof err);
    ck_assert_msg(rc == 0, "tracker_server_start: %s", err);
    ck_assert_int_gt(srv.http_port, 0);
}

/* Starts the tracker with the test defaults. */
static void start_default(void)
{
    struct tracker_server_config cfg;
    test_config(&cfg);
    start(&cfg);
}

/* ---------------------------------------------------------------- the tracker client */

/* A 20-byte id made of one repeated byte, so tests can name hashes and peers by a letter. */
static void fill_id(unsigned char out[20], int c)
{
    memset(out, c, 20);
}

/* Announces peer `id` (listening on port) for torrent `hash` to url. Returns announce()'s result;
 * the message lands in err. */
static int announce_as(const char *url, int hash, int id, uint16_t port, uint64_t left,
                       enum tracker_event ev, struct announce_result *r, char *err, size_t errlen)
{
    struct announce_params p;
    announce_defaults(&p);
    p.url = url;
    fill_id(p.info_hash, hash);
    fill_id(p.peer_id, id);
    p.port = port;
    p.left = left;
    p.event = ev;
    p.timeout_ms = 5000;
    return announce(&p, r, err, errlen);
}

/* The same, failing the test when the announce fails. */
static void announce_ok(const char *url, int hash, int id, uint16_t port, uint64_t left,
                        enum tracker_event ev, struct announce_result *r)
{
    char err[256];
    int rc = announce_as(url, hash, id, port, left, ev, r, err, sizeof err);
    ck_assert_msg(rc == 0, "announce to %s failed: %s", url, err);
}

/* Counts the peers in a reply at ip (dotted text) and port. */
static int count_peer(const struct tracker_peer *peers, size_t n, const char *ip, uint16_t port)
{
    unsigned char want[4];
    ck_assert_int_eq(inet_pton(AF_INET, ip, want), 1);
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += peers[i].family == 4 && memcmp(peers[i].ip, want, 4) == 0 && peers[i].port == port;
    return k;
}

/* ---------------------------------------------------------------- raw HTTP */

struct http_reply {
    int status;
    unsigned char raw[65536];
    size_t len;
    const unsigned char *body;
    size_t body_len;
};

/* Connects to the tracker from local_ip (NULL: any), sends request and reads the reply to the
 * end. Returns 0, or -1 when local_ip cannot be bound here (the caller skips then). */
static int raw_http(const char *local_ip, const char *request, size_t reqlen,
                    struct http_reply *out)
{
    int fd;
    char err[256];
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.http_port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (local_ip != NULL) {
        struct sockaddr_in local = {.sin_family = AF_INET};
        inet_pton(AF_INET, local_ip, &local.sin_addr);
        fd = net_connect_addr((struct sockaddr *)&to, sizeof to, (struct sockaddr *)&local,
                              sizeof local, 5000, err, sizeof err);
        if (fd < 0)
            return -1;
    } else {
        fd = net_connect_addr((struct sockaddr *)&to, sizeof to, NULL, 0, 5000, err, sizeof err);
        ck_assert_msg(fd >= 0, "%s", err);
    }
    ck_assert_int_eq(writen(fd, request, reqlen), (ssize_t)reqlen);
    out->len = 0;
    long long deadline = tk_now_ms() + 5000;
    for (;;) {
        long long left = deadline - tk_now_ms();
        ck_assert_msg(left > 0 && tk_wait_readable(fd, (int)left) == 1,
                      "the tracker did not finish its reply in time");
        ssize_t n = read(fd, out->raw + out->len, sizeof out->raw - out->len);
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    close(fd);
    struct tracker_http_response resp;
    int rc = tracker_http_parse_response(out->raw, out->len, 1, &resp, err, sizeof err);
    ck_assert_msg(rc == TRACKER_HTTP_OK, "bad HTTP reply: %s", err);
    out->status = resp.status;
    out->body = resp.body;
    out->body_len = resp.body_len;
    return 0;
}

/* Sends "GET target HTTP/1.0" with a Host header and reads the reply. */
static int http_get(const char *local_ip, const char *target, struct http_reply *out)
{
    char req[8192];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", target);
    ck_assert(n > 0 && (size_t)n < sizeof req);
    return raw_http(local_ip, req, (size_t)n, out);
}

/* Writes an announce target for torrent `hash` and peer `id` on port, then `extra` parameters. */
static void announce_target(char *out, size_t cap, int hash, int id, int port, const char *extra)
{
    unsigned char h[20], p[20];
    char he[URL_ENCODED_MAX(20)], pe[URL_ENCODED_MAX(20)];
    fill_id(h, hash);
    fill_id(p, id);
    ck_assert_int_ge(url_encode(h, 20, he, sizeof he), 0);
    ck_assert_int_ge(url_encode(p, 20, pe, sizeof pe), 0);
    snprintf(out, cap, "/announce?info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=5%s",
             he, pe, port, extra);
}

/* Tells whether the n bytes at hay contain the m bytes at needle (memmem is not POSIX). */
static int contains(const unsigned char *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

/* Expects a bencoded failure reply with the given HTTP status whose reason contains `words`. */
static void expect_failure(const struct http_reply *r, int status, const char *words)
{
    ck_assert_int_eq(r->status, status);
    struct tracker_http_reply reply;
    struct tracker_peer peers[4];
    char err[256];
    int rc =
        tracker_http_parse_announce_reply(r->body, r->body_len, &reply, peers, 4, err, sizeof err);
    ck_assert_msg(rc == TRACKER_HTTP_EFAILURE, "expected a failure reason, got: %.*s",
                  (int)r->body_len, (const char *)r->body);
    ck_assert_msg(strstr(reply.failure, words) != NULL, "failure reason '%s' should mention '%s'",
                  reply.failure, words);
}

/* ---------------------------------------------------------------- raw UDP */

/* Opens a UDP socket on a loopback address; returns -1 when that address cannot be bound. */
static int udp_open_at(const char *ip)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens a UDP socket on 127.0.0.1. */
static int udp_open(void)
{
    int fd = udp_open_at("127.0.0.1");
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* Sends one packet to the UDP tracker and returns the length of its answer (fails on silence). */
static size_t udp_ask(int fd, const unsigned char *req, size_t n, unsigned char *resp, size_t cap)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.udp_port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ck_assert_int_eq(sendto(fd, req, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);
    ck_assert_msg(tk_wait_readable(fd, 5000) == 1, "the UDP tracker did not answer");
    ssize_t r = recv(fd, resp, cap, 0);
    ck_assert_int_gt(r, 0);
    return (size_t)r;
}

/* Gets a connection id with a connect request. */
static uint64_t udp_cid(int fd)
{
    unsigned char req[TRACKER_UDP_CONNECT_LEN], resp[64];
    tracker_udp_encode_connect_req(req, 0x1234);
    size_t n = udp_ask(fd, req, sizeof req, resp, sizeof resp);
    uint64_t cid;
    char err[128];
    ck_assert_int_eq(tracker_udp_parse_connect_resp(resp, n, 0x1234, &cid, err, sizeof err),
                     TRACKER_UDP_OK);
    return cid;
}

/* Sends an announce of torrent info_hash by peer `id` (one repeated byte) listening on port, with
 * a BEP 15 key, and returns the parse result of the answer, with the tracker's error text in
 * err. */
static int udp_announce_full(int fd, uint64_t cid, const unsigned char info_hash[20], int id,
                             uint16_t port, uint32_t key, enum tracker_event ev, char *err,
                             size_t errlen)
{
    struct tracker_udp_announce_req req;
    memset(&req, 0, sizeof req);
    req.connection_id = cid;
    req.transaction_id = 0x5678;
    memcpy(req.info_hash, info_hash, 20);
    fill_id(req.peer_id, id);
    req.left = 10;
    req.event = ev;
    req.key = key;
    req.num_want = -1;
    req.port = port;
    unsigned char pkt[TRACKER_UDP_ANNOUNCE_REQ_LEN], resp[TRACKER_UDP_PACKET_MAX];
    tracker_udp_encode_announce_req(pkt, &req);
    size_t n = udp_ask(fd, pkt, sizeof pkt, resp, sizeof resp);
    struct tracker_udp_announce_resp ar;
    struct tracker_peer peers[8];
    size_t np;
    return tracker_udp_parse_announce_resp(resp, n, 0x5678, 4, &ar, peers, 8, &np, err, errlen);
}

/* Sends an announce with connection id cid for torrent 'h' by peer 'u' on port 7000. */
static int udp_announce_with(int fd, uint64_t cid, char *err, size_t errlen)
{
    unsigned char h[20];
    fill_id(h, 'h');
    return udp_announce_full(fd, cid, h, 'u', 7000, 0, TRACKER_EVENT_STARTED, err, errlen);
}

/* ================================================================ HTTP announces */

/* The first peer of a torrent is told the interval and counts, and hears of no one. */
START_TEST(tracker_server_http_first_announce)
{
    struct tracker_server_config cfg;
    test_config(&cfg);
    cfg.interval_s = 42;
    start(&cfg);
    ck_assert_str_eq(srv.http_url + strlen(srv.http_url) - 9, "/announce");
    ck_assert(strncmp(srv.http_url, "http://127.0.0.1:", 17) == 0);
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.interval, 42);
    ck_assert_int_eq(r.npeers, 0);
    ck_assert_int_eq(r.complete, 0);
    ck_assert_int_eq(r.incomplete, 1);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.torrents, 1);
    ck_assert_uint_eq(st.peers, 1);
    tracker_server_stop(&srv);
}
END_TEST

/* Two peers of one torrent learn each other's address, and neither is ever told about itself. */
START_TEST(tracker_server_http_two_peers_see_each_other)
{
    start_default();
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    announce_ok(srv.http_url, 'a', '2', 6002, 0, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 1);
    ck_assert_int_eq(r.complete, 1);
    ck_assert_int_eq(r.incomplete, 1);
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_NONE, &r);
    ck_assert_int_eq(r.npeers, 1); /* the caller is left out */
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6002), 1);
    /* Another torrent's swarm is separate. */
    announce_ok(srv.http_url, 'b', '3', 6003, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 0);
    tracker_server_stop(&srv);
}
END_TEST

/* compact=1 gets BEP 23's string: 6 bytes per peer, the address and the port big-endian. */
START_TEST(tracker_server_http_compact_reply)
{
    start_default();
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 0x1234, 100, TRACKER_EVENT_STARTED, &r);
    char target[512];
    announce_target(target, sizeof target, 'a', '2', 6002, "&compact=1");
    struct http_reply *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    http_get(NULL, target, h);
    ck_assert_int_eq(h->status, 200);
    static const unsigned char want[] = "5:peers6:\x7f\x00\x00\x01\x12\x34";
    ck_assert_msg(contains(h->body, h->body_len, want, sizeof want - 1) == 1,
                  "compact peer string missing in: %.*s", (int)h->body_len, h->body);
    free(h);
    tracker_server_stop(&srv);
}
END_TEST

/* Without compact=1 the peers come as a list of dictionaries with ip, peer id and port, and
 * no_peer_id=1 drops the ids. */
START_TEST(tracker_server_http_noncompact_reply)
{
    start_default();
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    char target[512];
    announce_target(target, sizeof target, 'a', '2', 6002, "");
    struct http_reply *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    http_get(NULL, target, h);
    ck_assert_int_eq(h->status, 200);
    static const char want[] = "5:peersld2:ip9:127.0.0.17:peer id20:11111111111111111111"
                               "4:porti6001eee";
    ck_assert_msg(contains(h->body, h->body_len, want, sizeof want - 1),
                  "peer dictionary missing in: %.*s", (int)h->body_len, h->body);

    announce_target(target, sizeof target, 'a', '2', 6002, "&no_peer_id=1");
    http_get(NULL, target, h);
    static const char want2[] = "5:peersld2:ip9:127.0.0.14:porti6001eee";
    ck_assert_msg(contains(h->body, h->body_len, want2, sizeof want2 - 1),
                  "peer dictionary without id missing in: %.*s", (int)h->body_len, h->body);
    free(h);
    tracker_server_stop(&srv);
}
END_TEST

/* A peer that says "stopped" disappears from the others' lists and from the counts. */
START_TEST(tracker_server_http_stopped_removes)
{
    start_default();
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_STOPPED, &r);
    ck_assert_int_eq(r.npeers, 0);
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_NONE, &r);
    ck_assert_int_eq(r.npeers, 0);
    ck_assert_int_eq(r.incomplete, 1);
    tracker_server_stop(&srv);
}
END_TEST

/* The address recorded is the connection's source address, not the "ip" parameter. An announce
 * of the same peer id from another address (the id is public: non-compact replies list it) can
 * neither move the entry nor remove it with "stopped"; only the same BEP 7 key moves it. */
START_TEST(tracker_server_http_peer_id_hijack_refused)
{
    start_default();
    char target[512];
    struct http_reply *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    announce_target(target, sizeof target, 'a', '1', 6001, "&compact=1&ip=10.9.9.9&key=s3cret");
    http_get("127.0.0.1", target, h);
    ck_assert_int_eq(h->status, 200);
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 1);

    /* The attacker, from 127.0.0.2: same peer id and port, no key or a wrong one. */
    announce_target(target, sizeof target, 'a', '1', 6001, "&compact=1");
    if (http_get("127.0.0.2", target, h) < 0) {
        free(h);
        tracker_server_stop(&srv);
        tk_skip("cannot bind 127.0.0.2 on this machine");
    }
    expect_failure(h, 200, "another address");
    announce_target(target, sizeof target, 'a', '1', 6001, "&compact=1&key=guess");
    http_get("127.0.0.2", target, h);
    expect_failure(h, 200, "another address");
    announce_target(target, sizeof target, 'a', '1', 6001, "&event=stopped");
    http_get("127.0.0.3", target, h);
    expect_failure(h, 200, "another address");
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_NONE, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 1);

    /* The owner itself moves, proving itself with its key. */
    announce_target(target, sizeof target, 'a', '1', 6001, "&compact=1&key=s3cret");
    http_get("127.0.0.2", target, h);
    ck_assert_int_eq(h->status, 200);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_NONE, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.2", 6001), 1);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.peers, 2);
    free(h);
    tracker_server_stop(&srv);
}
END_TEST

/* The same over UDP, where the key is BEP 15's 32-bit field. */
START_TEST(tracker_server_udp_peer_id_hijack_refused)
{
    start_default();
    int owner = udp_open();
    int evil = udp_open_at("127.0.0.2");
    if (evil < 0) {
        close(owner);
        tracker_server_stop(&srv);
        tk_skip("cannot bind 127.0.0.2 on this machine");
    }
    unsigned char h[20];
    fill_id(h, 'h');
    char err[256] = "";
    uint64_t cid = udp_cid(owner), ecid = udp_cid(evil);
    ck_assert_int_eq(
        udp_announce_full(owner, cid, h, 'u', 7000, 0xfeed, TRACKER_EVENT_STARTED, err, sizeof err),
        TRACKER_UDP_OK);
    ck_assert_int_eq(
        udp_announce_full(evil, ecid, h, 'u', 7000, 0xbad, TRACKER_EVENT_STOPPED, err, sizeof err),
        TRACKER_UDP_ETRACKER);
    ck_assert_msg(strstr(err, "another address") != NULL, "error packet said: %s", err);
    ck_assert_int_eq(
        udp_announce_full(evil, ecid, h, 'u', 7000, 0, TRACKER_EVENT_NONE, err, sizeof err),
        TRACKER_UDP_ETRACKER);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.peers, 1);
    /* The right key moves it; the count stays at one peer. */
    ck_assert_int_eq(
        udp_announce_full(evil, ecid, h, 'u', 7000, 0xfeed, TRACKER_EVENT_NONE, err, sizeof err),
        TRACKER_UDP_OK);
    struct announce_result r;
    announce_ok(srv.http_url, 'h', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.2", 7000), 1);
    close(owner);
    close(evil);
    tracker_server_stop(&srv);
}
END_TEST

/* The attack: 1024 UDP announces with random info hashes from one address. That address gets
 * its share (64 torrents by default) and is then refused, over UDP and over HTTP alike, while
 * another address still adds a new torrent. Without the cap per address the flood took all 1024
 * torrent slots and every newcomer was told "tracker full". */
START_TEST(tracker_server_flood_from_one_address_is_capped)
{
    start_default();
    int fd = udp_open();
    uint64_t cid = udp_cid(fd);
    const uint64_t seed = 0xf100d;
    uint64_t rng = seed;
    int ok = 0, refused = 0;
    char err[256] = "", last_err[256] = "";
    for (int i = 0; i < 1024; i++) {
        unsigned char h[20];
        for (int k = 0; k < 20; k += 4) {
            uint64_t r = tracker_state_rand(&rng);
            memcpy(h + k, &r, 4);
        }
        int rc = udp_announce_full(fd, cid, h, 'f', (uint16_t)(2000 + i), 0, TRACKER_EVENT_STARTED,
                                   err, sizeof err);
        if (rc == TRACKER_UDP_OK) {
            ok++;
        } else {
            refused++;
            snprintf(last_err, sizeof last_err, "%s", err);
        }
    }
    printf("tracker_server_flood_from_one_address_is_capped (seed %llx): %d accepted, %d "
           "refused: %s\n",
           (unsigned long long)seed, ok, refused, last_err);
    ck_assert_int_eq(ok, 64);
    ck_assert_msg(strstr(last_err, "for your address") != NULL, "refused with: %s", last_err);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.torrents, 64);

    /* The flooder over HTTP: refused too. */
    struct announce_result r;
    ck_assert_int_ne(
        announce_as(srv.http_url, 'z', 'f', 6001, 1, TRACKER_EVENT_STARTED, &r, err, sizeof err),
        0);
    ck_assert_msg(strstr(err, "for your address") != NULL, "announce said: %s", err);
    close(fd);

    /* Someone else: welcome. */
    char target[512];
    announce_target(target, sizeof target, 'n', '2', 6002, "&compact=1");
    struct http_reply *hr = malloc(sizeof *hr);
    ck_assert_ptr_nonnull(hr);
    if (http_get("127.0.0.2", target, hr) < 0) {
        free(hr);
        tracker_server_stop(&srv);
        tk_skip("cannot bind 127.0.0.2, so the other-address case was not run");
    }
    ck_assert_int_eq(hr->status, 200);
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.torrents, 65);
    free(hr);
    tracker_server_stop(&srv);
}
END_TEST

/* A peer that stops announcing is forgotten once its time to live has passed on the clock. */
START_TEST(tracker_server_expiry_of_stale_peer)
{
    struct tracker_server_config cfg;
    test_config(&cfg);
    cfg.peer_ttl_s = 100;
    cfg.expire_every_s = 5;
    start(&cfg);
    struct announce_result r;
    atomic_store(&fake_now, 1000);
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    atomic_store(&fake_now, 1050);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1); /* peer 1 is 50 s old: still alive */
    atomic_store(&fake_now, 1106);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_NONE, &r);
    ck_assert_int_eq(r.npeers, 0); /* peer 1 is 106 s old: gone */
    ck_assert_int_eq(r.incomplete, 1);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.expired, 1);
    ck_assert_uint_eq(st.peers, 1);
    tracker_server_stop(&srv);
}
END_TEST

/* Over IPv6, peers come back in "peers6" (HTTP) and as 18-byte entries (UDP, BEP 15). */
START_TEST(tracker_server_ipv6_peers)
{
    if (!net_have_ipv6())
        tk_skip("no IPv6 loopback on this machine");
    struct tracker_server_config cfg;
    test_config(&cfg);
    cfg.bind = "::1";
    start(&cfg);
    ck_assert_msg(strncmp(srv.http_url, "http://[::1]:", 13) == 0, "%s", srv.http_url);
    ck_assert_msg(strncmp(srv.udp_url, "udp://[::1]:", 12) == 0, "%s", srv.udp_url);
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(r.peers[0].family, 6);
    ck_assert_mem_eq(r.peers[0].ip, in6addr_loopback.s6_addr, 16);
    ck_assert_int_eq(r.peers[0].port, 6001);
    announce_ok(srv.udp_url, 'a', '3', 6003, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 2);
    for (size_t i = 0; i < r.npeers; i++)
        ck_assert_int_eq(r.peers[i].family, 6);
    tracker_server_stop(&srv);
}
END_TEST

/* Without -b the tracker listens on a dual-stack socket, where an IPv4 client shows up as
 * ::ffff:127.0.0.1; it must still be listed as an IPv4 peer, in the "peers" string every client
 * reads. */
START_TEST(tracker_server_dual_stack_lists_ipv4)
{
    struct tracker_server_config cfg;
    test_config(&cfg);
    cfg.bind = NULL;
    start(&cfg);
    char http_url[64], udp_url[64];
    snprintf(http_url, sizeof http_url, "http://127.0.0.1:%d/announce", srv.http_port);
    snprintf(udp_url, sizeof udp_url, "udp://127.0.0.1:%d/announce", srv.udp_port);
    struct announce_result r;
    announce_ok(http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    announce_ok(udp_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 1);
    announce_ok(http_url, 'a', '3', 6003, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6002), 1);
    tracker_server_stop(&srv);
}
END_TEST

/* ================================================================ HTTP scrape */

/* A scrape counts seeders, leechers and completed downloads, for one torrent or for all. */
START_TEST(tracker_server_http_scrape)
{
    start_default();
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 0, TRACKER_EVENT_STARTED, &r);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    announce_ok(srv.http_url, 'a', '3', 6003, 0, TRACKER_EVENT_COMPLETED, &r);
    announce_ok(srv.http_url, 'b', '4', 6004, 100, TRACKER_EVENT_STARTED, &r);
    struct tracker_scrape_counts c;
    char err[256];
    unsigned char hash[20];
    fill_id(hash, 'a');
    ck_assert_msg(announce_scrape(srv.http_url, hash, 5000, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(c.complete, 2);
    ck_assert_uint_eq(c.incomplete, 1);
    ck_assert_uint_eq(c.downloaded, 1);
    /* An unknown torrent scrapes as zeros. */
    fill_id(hash, 'z');
    ck_assert_msg(announce_scrape(srv.http_url, hash, 5000, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(c.complete + c.incomplete + c.downloaded, 0);
    /* No info_hash: every torrent (BEP 48). */
    struct http_reply *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    http_get(NULL, "/scrape", h);
    ck_assert_int_eq(h->status, 200);
    for (int t = 'a'; t <= 'b'; t++) {
        fill_id(hash, t);
        ck_assert_int_eq(
            tracker_http_parse_scrape_reply(h->body, h->body_len, hash, &c, err, sizeof err),
            TRACKER_HTTP_OK);
        ck_assert_uint_eq(c.complete + c.incomplete, t == 'a' ? 3 : 1);
    }
    free(h);
    tracker_server_stop(&srv);
}
END_TEST

/* ================================================================ HTTP errors */

/* Bad announces get a bencoded failure reason saying what is wrong. */
START_TEST(tracker_server_http_bad_queries)
{
    start_default();
    struct http_reply *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    char target[512];

    http_get(NULL, "/announce?peer_id=11111111111111111111&port=1&uploaded=0&downloaded=0&left=0",
             h);
    expect_failure(h, 200, "info_hash");

    http_get(NULL,
             "/announce?info_hash=1234567890123456789&peer_id=11111111111111111111&port=1&"
             "uploaded=0&downloaded=0&left=0",
             h);
    expect_failure(h, 200, "info_hash must be 20 bytes");

    announce_target(target, sizeof target, 'a', '1', 0, "");
    http_get(NULL, target, h);
    expect_failure(h, 200, "port");
    announce_target(target, sizeof target, 'a', '1', 70000, "");
    http_get(NULL, target, h);
    expect_failure(h, 200, "port");

    /* The tracker client reports the failure reason too. */
    struct announce_result r;
    char err[256];
    ck_assert_int_eq(
        announce_as(srv.http_url, 'a', '1', 0, 1, TRACKER_EVENT_STARTED, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "port") != NULL, "announce() said: %s", err);

    http_get(NULL, "/favicon.ico", h);
    expect_failure(h, 404, "unknown path");

    static const char post[] = "POST /announce HTTP/1.0\r\n\r\n";
    raw_http(NULL, post, sizeof post - 1, h);
    expect_failure(h, 400, "GET");

    /* None of these was recorded. */
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.peers, 0);
    free(h);
    tracker_server_stop(&srv);
}
END_TEST

/* A request larger than the buffer gets a 400 and the connection is closed. */
START_TEST(tracker_server_http_request_too_large)
{
    start_default();
    size_t n = TRACKER_SERVER_REQUEST_MAX + 100;
    char *req = malloc(n);
    ck_assert_ptr_nonnull(req);
    memset(req, 'x', n);
    memcpy(req, "GET /announce?", 14);
    struct http_reply *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    /* The tracker answers after TRACKER_SERVER_REQUEST_MAX bytes and closes; sending the rest may
     * then fail with a reset, so send only what it reads. */
    raw_http(NULL, req, TRACKER_SERVER_REQUEST_MAX, h);
    expect_failure(h, 400, "too large");
    free(h);
    free(req);
    tracker_server_stop(&srv);
}
END_TEST

/* A client that connects and never sends is disconnected at its deadline. */
START_TEST(tracker_server_http_silent_client_times_out)
{
    struct tracker_server_config cfg;
    test_config(&cfg);
    cfg.conn_timeout_ms = 300;
    start(&cfg);
    int fd = tk_connect_port("127.0.0.1", srv.http_port);
    ck_assert_int_ge(fd, 0);
    long long t0 = tk_now_ms();
    ck_assert_msg(tk_wait_readable(fd, 5000) == 1, "the silent client was never disconnected");
    char c;
    ck_assert_int_eq(read(fd, &c, 1), 0);
    ck_assert_int_ge(tk_now_ms() - t0, 250);
    close(fd);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.http_timed_out, 1);
    ck_assert_uint_eq(st.http_open, 0);
    tracker_server_stop(&srv);
}
END_TEST

/* A flood of 1000 idle connections never holds more than the cap of descriptors in the tracker,
 * and a real client still gets its answer during the flood and after it. */
START_TEST(tracker_server_flood_keeps_fds_bounded)
{
    enum { FLOOD = 1000, CAP = 256 };
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < FLOOD + CAP + 64) {
        rl.rlim_cur = rl.rlim_max;
        if (rl.rlim_cur < FLOOD + CAP + 64 || setrlimit(RLIMIT_NOFILE, &rl) < 0)
            tk_skip("the descriptor limit is below %d", FLOOD + CAP + 64);
    }
    struct tracker_server_config cfg;
    test_config(&cfg);
    cfg.max_conns = CAP;
    cfg.conn_timeout_ms = 120000; /* so only the cap, never a deadline, closes flood connections */
    start(&cfg);
    int base = tk_count_fds();

    static int fds[FLOOD];
    static struct pollfd pfd[FLOOD];
    for (int i = 0; i < FLOOD; i++) {
        fds[i] = tk_connect_port("127.0.0.1", srv.http_port);
        ck_assert_msg(fds[i] >= 0, "connection %d failed: %s", i, strerror(errno));
    }
    /* The tracker closes the oldest connection for each one past the cap: wait until at least
     * FLOOD - CAP of ours have seen their end of stream. */
    int closed = 0;
    long long deadline = tk_now_ms() + 20000;
    while (closed < FLOOD - CAP) {
        int n = 0;
        for (int i = 0; i < FLOOD; i++)
            if (fds[i] >= 0)
                pfd[n++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        long long left = deadline - tk_now_ms();
        ck_assert_msg(left > 0, "only %d of %d flood connections were closed", closed, FLOOD - CAP);
        int r = poll(pfd, (nfds_t)n, (int)left);
        ck_assert_int_ge(r, 0);
        for (int k = 0; k < n; k++) {
            if (pfd[k].revents == 0)
                continue;
            for (int i = 0; i < FLOOD; i++) {
                if (fds[i] == pfd[k].fd) {
                    close(fds[i]);
                    fds[i] = -1;
                    closed++;
                }
            }
        }
    }
    /* Descriptors now: ours still open, plus the tracker's, which the cap bounds. */
    int tracker_fds = tk_count_fds() - base - (FLOOD - closed);
    ck_assert_msg(tracker_fds <= CAP, "the tracker holds %d connections, over its cap of %d",
                  tracker_fds, CAP);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_le(st.http_open, CAP);
    ck_assert_uint_ge(st.http_evicted, FLOOD - CAP);

    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    for (int i = 0; i < FLOOD; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    announce_ok(srv.http_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    tracker_server_stop(&srv);
}
END_TEST

/* Stopping the tracker closes every descriptor it opened, open connections included. */
START_TEST(tracker_server_stop_releases_everything)
{
    int base = tk_count_fds();
    start_default();
    int fd = tk_connect_port("127.0.0.1", srv.http_port);
    ck_assert_int_ge(fd, 0);
    struct announce_result r;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    tracker_server_stop(&srv);
    ck_assert_int_eq(tk_wait_readable(fd, 5000), 1); /* the tracker's end was closed */
    close(fd);
    ck_assert_int_eq(tk_count_fds(), base);
    /* A second tracker starts cleanly in the same process. */
    start_default();
    tracker_server_stop(&srv);
    ck_assert_int_eq(tk_count_fds(), base);
}
END_TEST

/* When a socket cannot be made non-blocking or the lock cannot be made, the tracker does not
 * start (with a message), rather than run a loop that one slow client could stall or a lock that
 * was never initialised. */
START_TEST(tracker_server_start_checks_its_system_calls)
{
#ifdef RTLD_NEXT
    struct tracker_server_config cfg;
    test_config(&cfg);
    char err[256] = "";
    int base = tk_count_fds();
    atomic_store(&fail_mode, FAIL_NEXT_NONBLOCK);
    ck_assert_int_eq(tracker_server_start(&srv, &cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "non-blocking") != NULL, "message: %s", err);
    ck_assert_int_eq(tk_count_fds(), base);

    atomic_store(&fail_mode, FAIL_NEXT_MUTEX);
    ck_assert_int_eq(tracker_server_start(&srv, &cfg, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "lock") != NULL, "message: %s", err);
    ck_assert_int_eq(tk_count_fds(), base);

    atomic_store(&fail_mode, FAIL_NONE);
    start(&cfg);
    tracker_server_stop(&srv);
#else
    tk_skip("no dlsym(RTLD_NEXT) here to make system calls fail on purpose");
#endif
}
END_TEST

/* A connection that cannot be made non-blocking is closed at once, unanswered: served blocking,
 * a client that stops reading could stall the loop that serves everyone. The next one is served
 * as usual. */
START_TEST(tracker_server_drops_a_connection_it_cannot_make_non_blocking)
{
#ifdef RTLD_NEXT
    test_thread = pthread_self();
    start_default();
    char target[512], req[1024];
    announce_target(target, sizeof target, 'a', '1', 6001, "&compact=1");
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", target);
    atomic_store(&fail_mode, FAIL_THREAD_NONBLOCK);
    int fd = tk_connect_port("127.0.0.1", srv.http_port);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(writen(fd, req, (size_t)n), n);
    ck_assert_int_eq(tk_wait_readable(fd, 5000), 1);
    char buf[256];
    ssize_t r = read(fd, buf, sizeof buf);
    ck_assert_msg(r <= 0, "the tracker answered on a blocking connection: %.*s", (int)r, buf);
    close(fd);
    atomic_store(&fail_mode, FAIL_NONE);
    struct announce_result res;
    announce_ok(srv.http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &res);
    tracker_server_stop(&srv);
#else
    tk_skip("no dlsym(RTLD_NEXT) here to make system calls fail on purpose");
#endif
}
END_TEST

/* ================================================================ UDP */

/* Announce and scrape over UDP through the tracker client; HTTP and UDP share one state. */
START_TEST(tracker_server_udp_announce_and_scrape)
{
    start_default();
    ck_assert_int_gt(srv.udp_port, 0);
    ck_assert(strncmp(srv.udp_url, "udp://127.0.0.1:", 16) == 0);
    struct announce_result r;
    announce_ok(srv.udp_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 0);
    ck_assert_int_eq(r.interval, 60);
    announce_ok(srv.udp_url, 'a', '2', 6002, 0, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 1);
    ck_assert_int_eq(r.complete, 1);
    ck_assert_int_eq(r.incomplete, 1);
    announce_ok(srv.http_url, 'a', '3', 6003, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 2);
    announce_ok(srv.udp_url, 'a', '1', 6001, 100, TRACKER_EVENT_NONE, &r);
    ck_assert_int_eq(r.npeers, 2);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 0);

    struct tracker_scrape_counts c;
    char err[256];
    unsigned char hash[20];
    fill_id(hash, 'a');
    ck_assert_msg(announce_scrape(srv.udp_url, hash, 5000, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(c.complete, 1);
    ck_assert_uint_eq(c.incomplete, 2);

    announce_ok(srv.udp_url, 'a', '2', 6002, 0, TRACKER_EVENT_STOPPED, &r);
    ck_assert_msg(announce_scrape(srv.udp_url, hash, 5000, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(c.complete, 0);
    tracker_server_stop(&srv);
}
END_TEST

/* A connection id the tracker never issued gets an error packet, and nothing is recorded. */
START_TEST(tracker_server_udp_wrong_connection_id)
{
    start_default();
    int fd = udp_open();
    char err[256] = "";
    uint64_t good = udp_cid(fd);
    ck_assert_int_eq(udp_announce_with(fd, good ^ 1, err, sizeof err), TRACKER_UDP_ETRACKER);
    ck_assert_msg(strstr(err, "connection id") != NULL, "error packet said: %s", err);
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.peers, 0);
    ck_assert_int_eq(udp_announce_with(fd, good, err, sizeof err), TRACKER_UDP_OK);
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.peers, 1);
    /* An id is tied to the IP address that asked for it, not to the port: libtorrent shares its
     * ids between its sockets. Another address cannot use it. */
    int same_ip = udp_open();
    ck_assert_int_eq(udp_announce_with(same_ip, good, err, sizeof err), TRACKER_UDP_OK);
    close(same_ip);
    int other = udp_open_at("127.0.0.2");
    if (other >= 0) {
        ck_assert_int_eq(udp_announce_with(other, good, err, sizeof err), TRACKER_UDP_ETRACKER);
        close(other);
    }
    close(fd);
    tracker_server_stop(&srv);
    if (other < 0)
        tk_skip("cannot bind 127.0.0.2, so the other-address case was not run");
}
END_TEST

/* A connection id is good for at least two minutes (BEP 15) and refused some minutes later. */
START_TEST(tracker_server_udp_expired_connection_id)
{
    start_default();
    int fd = udp_open();
    char err[256] = "";
    atomic_store(&fake_now, 6000);
    uint64_t cid = udp_cid(fd);
    atomic_store(&fake_now, 6000 + 110);
    ck_assert_msg(udp_announce_with(fd, cid, err, sizeof err) == TRACKER_UDP_OK, "%s", err);
    atomic_store(&fake_now, 6000 + 4 * TRACKER_UDP_CID_WINDOW_S);
    ck_assert_int_eq(udp_announce_with(fd, cid, err, sizeof err), TRACKER_UDP_ETRACKER);
    ck_assert_msg(strstr(err, "expired") != NULL, "error packet said: %s", err);
    close(fd);
    tracker_server_stop(&srv);
}
END_TEST

/* An unknown action gets an error packet; a runt packet and a connect without the magic number
 * get no answer at all (the tracker must not be an amplifier), and the tracker keeps serving. */
START_TEST(tracker_server_udp_bad_packets)
{
    start_default();
    int fd = udp_open();
    unsigned char pkt[16], resp[256];
    put_u64be(pkt, 1);
    put_u32be(pkt + 8, 7);
    put_u32be(pkt + 12, 0xabcd);
    size_t n = udp_ask(fd, pkt, sizeof pkt, resp, sizeof resp);
    ck_assert_uint_ge(n, 8);
    ck_assert_uint_eq(get_u32be(resp), TRACKER_UDP_ACTION_ERROR);
    ck_assert_uint_eq(get_u32be(resp + 4), 0xabcd);

    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.udp_port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ck_assert_int_eq(sendto(fd, pkt, 5, 0, (struct sockaddr *)&to, sizeof to), 5);
    put_u32be(pkt + 8, TRACKER_UDP_ACTION_CONNECT); /* the magic number is wrong: 1 */
    ck_assert_int_eq(sendto(fd, pkt, 16, 0, (struct sockaddr *)&to, sizeof to), 16);
    /* The next real request's answer is the first datagram back: the two above got none. */
    uint64_t cid = udp_cid(fd);
    (void)cid;
    struct tracker_server_stats st;
    tracker_server_stats(&srv, &st);
    ck_assert_uint_eq(st.udp_packets, 4);
    close(fd);
    tracker_server_stop(&srv);
}
END_TEST

/* ================================================================ the program */

/* Skips the test when bin/minitorrent has not been built yet. */
#define NEED_PROGRAM()                                                                             \
    do {                                                                                           \
        if (access(tk_bin("minitorrent"), X_OK) != 0)                                              \
            tk_skip("%s is not built", tk_bin("minitorrent"));                                     \
    } while (0)

/* Reads the child's output until it contains text; returns 1, or 0 on time out or end. */
static int wait_for_text(struct tk_proc *p, const char *text, int timeout_ms)
{
    long long deadline = tk_now_ms() + timeout_ms;
    while (strstr(p->out, text) == NULL) {
        long long left = deadline - tk_now_ms();
        if (left <= 0 || tk_wait_readable(p->out_fd, (int)left) != 1)
            return 0;
        ssize_t n = read(p->out_fd, p->out + p->out_len, sizeof p->out - 1 - p->out_len);
        if (n <= 0)
            return 0;
        p->out_len += (size_t)n;
        p->out[p->out_len] = '\0';
    }
    return 1;
}

/* Copies the URL after "listening on SCHEME" up to the end of its line. */
static void url_after(const char *out, const char *scheme, char *url, size_t cap)
{
    char key[32];
    snprintf(key, sizeof key, "listening on %s", scheme);
    const char *s = strstr(out, key);
    ck_assert_ptr_nonnull(s);
    s += strlen("listening on ");
    size_t n = strcspn(s, "\r\n");
    ck_assert_uint_lt(n, cap);
    memcpy(url, s, n);
    url[n] = '\0';
}

/* `minitorrent tracker` prints where it listens, answers both protocols and exits 0 on SIGTERM. */
START_TEST(tracker_server_program_runs_and_stops)
{
    NEED_PROGRAM();
    static struct tk_proc p;
    char *argv[] = {"minitorrent", "tracker", "-p", "0", "-u", "0", "-b", "127.0.0.1", NULL};
    ck_assert_int_eq(tk_spawn(&p, argv), 0);
    int port = tk_wait_listening(&p, 5000);
    ck_assert_msg(port > 0, "no \"listening on PORT\" line: %s", p.out);
    ck_assert_msg(wait_for_text(&p, "listening on udp://", 5000), "no UDP line in: %s", p.out);
    ck_assert(wait_for_text(&p, "/announce\n", 5000));
    char http_url[128], udp_url[128], want[64];
    url_after(p.out, "http://", http_url, sizeof http_url);
    url_after(p.out, "udp://", udp_url, sizeof udp_url);
    snprintf(want, sizeof want, "http://127.0.0.1:%d/announce", port);
    ck_assert_str_eq(http_url, want);
    struct announce_result r;
    announce_ok(http_url, 'a', '1', 6001, 100, TRACKER_EVENT_STARTED, &r);
    announce_ok(udp_url, 'a', '2', 6002, 100, TRACKER_EVENT_STARTED, &r);
    ck_assert_int_eq(r.npeers, 1);
    ck_assert_int_eq(count_peer(r.peers, r.npeers, "127.0.0.1", 6001), 1);
    ck_assert_int_eq(tk_stop(&p, 5000), 0);
}
END_TEST

/* --help prints the usage and exits 0; a bad port or option exits 2 with a message. */
START_TEST(tracker_server_program_usage)
{
    NEED_PROGRAM();
    static struct tk_proc p;
    ck_assert_int_eq(tk_spawn(&p, (char *[]){"minitorrent", "tracker", "--help", NULL}), 0);
    ck_assert_int_eq(tk_wait_exit(&p, 5000), 0);
    ck_assert_msg(strstr(p.out, "usage: minitorrent tracker") != NULL, "--help printed: %s", p.out);

    static struct tk_proc q;
    q.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&q, (char *[]){"minitorrent", "tracker", "-p", "70000", NULL}), 0);
    ck_assert_int_eq(tk_wait_exit(&q, 5000), 2);
    ck_assert_msg(strstr(q.out, "bad port '70000'") != NULL, "stderr said: %s", q.out);

    static struct tk_proc b;
    b.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&b, (char *[]){"minitorrent", "tracker", "--interval", "0", NULL}),
                     0);
    ck_assert_int_eq(tk_wait_exit(&b, 5000), 2);
    ck_assert_msg(strstr(b.out, "--interval") != NULL, "stderr said: %s", b.out);
}
END_TEST

static Suite *tracker_server_suite(void)
{
    Suite *s = suite_create("tracker_server");
    TCase *tc = tk_tcase(s, "tracker_server", 60);
    tk_add_test(tc, tracker_server_http_first_announce);
    tk_add_test(tc, tracker_server_http_two_peers_see_each_other);
    tk_add_test(tc, tracker_server_http_compact_reply);
    tk_add_test(tc, tracker_server_http_noncompact_reply);
    tk_add_test(tc, tracker_server_http_stopped_removes);
    tk_add_test(tc, tracker_server_http_peer_id_hijack_refused);
    tk_add_test(tc, tracker_server_udp_peer_id_hijack_refused);
    tk_add_test(tc, tracker_server_flood_from_one_address_is_capped);
    tk_add_test(tc, tracker_server_expiry_of_stale_peer);
    tk_add_test(tc, tracker_server_ipv6_peers);
    tk_add_test(tc, tracker_server_dual_stack_lists_ipv4);
    tk_add_test(tc, tracker_server_http_scrape);
    tk_add_test(tc, tracker_server_http_bad_queries);
    tk_add_test(tc, tracker_server_http_request_too_large);
    tk_add_test(tc, tracker_server_http_silent_client_times_out);
    tk_add_test(tc, tracker_server_flood_keeps_fds_bounded);
    tk_add_test(tc, tracker_server_stop_releases_everything);
    tk_add_test(tc, tracker_server_start_checks_its_system_calls);
    tk_add_test(tc, tracker_server_drops_a_connection_it_cannot_make_non_blocking);
    tk_add_test(tc, tracker_server_udp_announce_and_scrape);
    tk_add_test(tc, tracker_server_udp_wrong_connection_id);
    tk_add_test(tc, tracker_server_udp_expired_connection_id);
    tk_add_test(tc, tracker_server_udp_bad_packets);
    tk_add_test(tc, tracker_server_program_runs_and_stops);
    tk_add_test(tc, tracker_server_program_usage);
    return s;
}

TK_MAIN(tracker_server_suite)
