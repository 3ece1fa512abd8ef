/*
 * tracker_udp.c - BEP 15 packets, compact peers, connection ids and retry timing (see
 * tracker_udp.h).
 *
 * Every encoder writes numbers with put_u32be()/put_u64be() at the offsets BEP 15's tables give,
 * and every parser checks the packet's length before it reads a field. The offsets are written
 * out as numbers on purpose: they are the protocol, and a reader can hold them against the BEP.
 */
#include "tracker_udp.h"

#include "bytes.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- small helpers */

/* Writes a message into the caller's error buffer, if it gave one. */
static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* Copies a tracker's error text into err as "tracker error: ...", replacing bytes that are not
 * printable ASCII, so a hostile message cannot put control characters on a terminal. */
static void copy_tracker_message(const unsigned char *msg, size_t n, char *err, size_t errlen)
{
    static const char prefix[] = "tracker error: ";
    if (err == NULL || errlen == 0)
        return;
    size_t o = 0;
    for (size_t i = 0; prefix[i] != '\0' && o + 1 < errlen; i++)
        err[o++] = prefix[i];
    for (size_t i = 0; i < n && o + 1 < errlen; i++)
        err[o++] = (msg[i] >= 0x20 && msg[i] < 0x7f) ? (char)msg[i] : '?';
    err[o] = '\0';
}

/*
 * Checks the 8-byte header every reply starts with: the transaction id must be the one the client
 * chose (else the packet answers another request), an error reply is turned into
 * TRACKER_UDP_ETRACKER, and the action and minimum length must fit the expected reply.
 */
static int check_reply_header(const unsigned char *p, size_t n, uint32_t want_action, uint32_t tid,
                              size_t min_len, char *err, size_t errlen)
{
    if (n < 8) {
        set_err(err, errlen, "reply too short for a tracker packet (under 8 bytes)");
        return TRACKER_UDP_EMALFORMED;
    }
    uint32_t action = get_u32be(p);
    if (get_u32be(p + 4) != tid) {
        set_err(err, errlen, "transaction id does not match the request (stray or old reply)");
        return TRACKER_UDP_ETID;
    }
    if (action == TRACKER_UDP_ACTION_ERROR) {
        copy_tracker_message(p + 8, n - 8, err, errlen);
        return TRACKER_UDP_ETRACKER;
    }
    if (action != want_action) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "wrong action %lu in reply (expected %lu)", (unsigned long)action,
                     (unsigned long)want_action);
        return TRACKER_UDP_EMALFORMED;
    }
    if (n < min_len) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "reply too short: %zu bytes, need at least %zu", n, min_len);
        return TRACKER_UDP_EMALFORMED;
    }
    return TRACKER_UDP_OK;
}

/* Checks a request's action field (at offset 8) and minimum length on the tracker side. */
static int check_request(const unsigned char *p, size_t n, uint32_t want_action, size_t min_len,
                         char *err, size_t errlen)
{
    if (n < min_len) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "request too short: %zu bytes, need at least %zu", n, min_len);
        return TRACKER_UDP_EMALFORMED;
    }
    uint32_t action = get_u32be(p + 8);
    if (action != want_action) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "wrong action %lu in request (expected %lu)",
                     (unsigned long)action, (unsigned long)want_action);
        return TRACKER_UDP_EMALFORMED;
    }
    return TRACKER_UDP_OK;
}

/* ---------------------------------------------------------------- compact peers (BEP 23) */

/* Decodes compact peers of one family; see tracker_udp.h. */
long tracker_compact_decode(const unsigned char *p, size_t n, int family, struct tracker_peer *out,
                            size_t max, char *err, size_t errlen)
{
    size_t alen = family == 6 ? 16 : 4;
    size_t entry = alen + 2;
    if (family != 4 && family != 6) {
        set_err(err, errlen, "address family must be 4 or 6");
        return -1;
    }
    if (n % entry != 0) {
        set_err(err, errlen,
                family == 4 ? "compact peers length is not a multiple of 6"
                            : "compact peers6 length is not a multiple of 18");
        return -1;
    }
    size_t stored = 0;
    for (size_t off = 0; off < n && stored < max; off += entry) {
        uint16_t port = get_u16be(p + off + alen);
        if (port == 0)
            continue; /* nobody listens on port 0; a real client would not dial it either */
        struct tracker_peer *peer = &out[stored++];
        memset(peer, 0, sizeof *peer);
        peer->family = family;
        memcpy(peer->ip, p + off, alen);
        peer->port = port;
    }
    return (long)stored;
}

/* Encodes the peers of one family in compact form; see tracker_udp.h. */
size_t tracker_compact_encode(const struct tracker_peer *peers, size_t n, int family,
                              unsigned char *out, size_t cap)
{
    size_t alen = family == 6 ? 16 : 4;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (peers[i].family != family)
            continue;
        if (cap - o < alen + 2)
            break;
        memcpy(out + o, peers[i].ip, alen);
        put_u16be(out + o + alen, peers[i].port);
        o += alen + 2;
    }
    return o;
}

/* ---------------------------------------------------------------- connect */

/*
 * connect request:  0 u64 protocol id 0x41727101980 | 8 u32 action 0 | 12 u32 transaction id
 * connect response: 0 u32 action 0 | 4 u32 transaction id | 8 u64 connection id
 */

/* Writes a connect request; see tracker_udp.h. */
size_t tracker_udp_encode_connect_req(unsigned char out[TRACKER_UDP_CONNECT_LEN], uint32_t tid)
{
    put_u64be(out, TRACKER_UDP_PROTOCOL_ID);
    put_u32be(out + 8, TRACKER_UDP_ACTION_CONNECT);
    put_u32be(out + 12, tid);
    return TRACKER_UDP_CONNECT_LEN;
}

/* Parses a connect request on the tracker side; see tracker_udp.h. */
int tracker_udp_parse_connect_req(const unsigned char *p, size_t n, uint32_t *tid, char *err,
                                  size_t errlen)
{
    int rc = check_request(p, n, TRACKER_UDP_ACTION_CONNECT, TRACKER_UDP_CONNECT_LEN, err, errlen);
    if (rc != TRACKER_UDP_OK)
        return rc;
    if (get_u64be(p) != TRACKER_UDP_PROTOCOL_ID) {
        set_err(err, errlen, "connect request lacks the protocol id 0x41727101980");
        return TRACKER_UDP_EMALFORMED;
    }
    *tid = get_u32be(p + 12);
    return TRACKER_UDP_OK;
}

/* Writes a connect response; see tracker_udp.h. */
size_t tracker_udp_encode_connect_resp(unsigned char out[TRACKER_UDP_CONNECT_LEN], uint32_t tid,
                                       uint64_t connection_id)
{
    put_u32be(out, TRACKER_UDP_ACTION_CONNECT);
    put_u32be(out + 4, tid);
    put_u64be(out + 8, connection_id);
    return TRACKER_UDP_CONNECT_LEN;
}

/* Parses a connect response on the client side; see tracker_udp.h. */
int tracker_udp_parse_connect_resp(const unsigned char *p, size_t n, uint32_t tid,
                                   uint64_t *connection_id, char *err, size_t errlen)
{
    int rc = check_reply_header(p, n, TRACKER_UDP_ACTION_CONNECT, tid, TRACKER_UDP_CONNECT_LEN, err,
                                errlen);
    if (rc != TRACKER_UDP_OK)
        return rc;
    *connection_id = get_u64be(p + 8);
    return TRACKER_UDP_OK;
}

/* ---------------------------------------------------------------- announce */

/*
 * announce request (98 bytes):
 *   0 u64 connection id | 8 u32 action 1 | 12 u32 transaction id | 16 info_hash[20] |
 *   36 peer_id[20] | 56 u64 downloaded | 64 u64 left | 72 u64 uploaded | 80 u32 event |
 *   84 u32 IP | 88 u32 key | 92 i32 num_want | 96 u16 port
 * announce response: 0 u32 action 1 | 4 u32 tid | 8 u32 interval | 12 u32 leechers |
 *   16 u32 seeders | 20 peers, 6 (IPv4) or 18 (IPv6) bytes each
 */

/* Writes an announce request; see tracker_udp.h. */
size_t tracker_udp_encode_announce_req(unsigned char out[TRACKER_UDP_ANNOUNCE_REQ_LEN],
                                       const struct tracker_udp_announce_req *req)
{
    put_u64be(out, req->connection_id);
    put_u32be(out + 8, TRACKER_UDP_ACTION_ANNOUNCE);
    put_u32be(out + 12, req->transaction_id);
    memcpy(out + 16, req->info_hash, 20);
    memcpy(out + 36, req->peer_id, 20);
    put_u64be(out + 56, req->downloaded);
    put_u64be(out + 64, req->left);
    put_u64be(out + 72, req->uploaded);
    put_u32be(out + 80, (uint32_t)req->event);
    put_u32be(out + 84, req->ip);
    put_u32be(out + 88, req->key);
    put_u32be(out + 92, (uint32_t)req->num_want);
    put_u16be(out + 96, req->port);
    return TRACKER_UDP_ANNOUNCE_REQ_LEN;
}

/* Parses an announce request on the tracker side; see tracker_udp.h. */
int tracker_udp_parse_announce_req(const unsigned char *p, size_t n,
                                   struct tracker_udp_announce_req *req, char *err, size_t errlen)
{
    int rc =
        check_request(p, n, TRACKER_UDP_ACTION_ANNOUNCE, TRACKER_UDP_ANNOUNCE_REQ_LEN, err, errlen);
    if (rc != TRACKER_UDP_OK)
        return rc;
    uint32_t event = get_u32be(p + 80);
    if (event > TRACKER_EVENT_STOPPED) {
        set_err(err, errlen, "announce event must be 0..3 (none, completed, started, stopped)");
        return TRACKER_UDP_EMALFORMED;
    }
    uint16_t port = get_u16be(p + 96);
    if (port == 0) {
        set_err(err, errlen, "announce port must be 1..65535");
        return TRACKER_UDP_EMALFORMED;
    }
    req->connection_id = get_u64be(p);
    req->transaction_id = get_u32be(p + 12);
    memcpy(req->info_hash, p + 16, 20);
    memcpy(req->peer_id, p + 36, 20);
    req->downloaded = get_u64be(p + 56);
    req->left = get_u64be(p + 64);
    req->uploaded = get_u64be(p + 72);
    req->event = (enum tracker_event)event;
    req->ip = get_u32be(p + 84);
    req->key = get_u32be(p + 88);
    /* Two's complement is what BEP 15 means by "-1"; the cast reads the bits back as signed. */
    uint32_t nw = get_u32be(p + 92);
    req->num_want = nw > INT32_MAX ? -(int32_t)(~nw) - 1 : (int32_t)nw;
    req->port = port;
    return TRACKER_UDP_OK;
}

/* Writes an announce response; see tracker_udp.h. */
size_t tracker_udp_encode_announce_resp(unsigned char *out, size_t cap,
                                        const struct tracker_udp_announce_resp *resp,
                                        const struct tracker_peer *peers, size_t npeers, int family)
{
    if (cap < TRACKER_UDP_ANNOUNCE_RESP_MIN)
        return 0;
    put_u32be(out, TRACKER_UDP_ACTION_ANNOUNCE);
    put_u32be(out + 4, resp->transaction_id);
    put_u32be(out + 8, resp->interval);
    put_u32be(out + 12, resp->leechers);
    put_u32be(out + 16, resp->seeders);
    return TRACKER_UDP_ANNOUNCE_RESP_MIN +
           tracker_compact_encode(peers, npeers, family, out + TRACKER_UDP_ANNOUNCE_RESP_MIN,
                                  cap - TRACKER_UDP_ANNOUNCE_RESP_MIN);
}

/* Parses an announce response on the client side; see tracker_udp.h. */
int tracker_udp_parse_announce_resp(const unsigned char *p, size_t n, uint32_t tid, int family,
                                    struct tracker_udp_announce_resp *resp,
                                    struct tracker_peer *peers, size_t max, size_t *npeers,
                                    char *err, size_t errlen)
{
    int rc = check_reply_header(p, n, TRACKER_UDP_ACTION_ANNOUNCE, tid,
                                TRACKER_UDP_ANNOUNCE_RESP_MIN, err, errlen);
    if (rc != TRACKER_UDP_OK)
        return rc;
    resp->transaction_id = tid;
    resp->interval = get_u32be(p + 8);
    resp->leechers = get_u32be(p + 12);
    resp->seeders = get_u32be(p + 16);

    /* The peers run to the end of the packet; a trailing partial entry is ignored rather than
     * refused, in the spirit of BEP 15's "do not expect packets to be exactly of a certain size".
     */
    size_t entry = family == 6 ? TRACKER_COMPACT6_LEN : TRACKER_COMPACT4_LEN;
    size_t body = n - TRACKER_UDP_ANNOUNCE_RESP_MIN;
    body -= body % entry;
    long got = tracker_compact_decode(p + TRACKER_UDP_ANNOUNCE_RESP_MIN, body, family, peers, max,
                                      err, errlen);
    if (got < 0)
        return TRACKER_UDP_EMALFORMED;
    *npeers = (size_t)got;
    return TRACKER_UDP_OK;
}

/* ---------------------------------------------------------------- scrape */

/*
 * scrape request:  0 u64 connection id | 8 u32 action 2 | 12 u32 tid | 16 info_hash[20] ...
 * scrape response: 0 u32 action 2 | 4 u32 tid | 8 then per hash: u32 seeders, u32 completed,
 *                  u32 leechers
 */

/* Writes a scrape request; see tracker_udp.h. */
size_t tracker_udp_encode_scrape_req(unsigned char *out, size_t cap, uint64_t connection_id,
                                     uint32_t tid, const unsigned char (*hashes)[20],
                                     size_t nhashes)
{
    if (nhashes == 0 || nhashes > TRACKER_UDP_SCRAPE_MAX)
        return 0;
    size_t len = TRACKER_UDP_SCRAPE_REQ_MIN + 20 * nhashes;
    if (cap < len)
        return 0;
    put_u64be(out, connection_id);
    put_u32be(out + 8, TRACKER_UDP_ACTION_SCRAPE);
    put_u32be(out + 12, tid);
    for (size_t i = 0; i < nhashes; i++)
        memcpy(out + 16 + 20 * i, hashes[i], 20);
    return len;
}

/* Parses a scrape request on the tracker side; see tracker_udp.h. */
int tracker_udp_parse_scrape_req(const unsigned char *p, size_t n, uint64_t *connection_id,
                                 uint32_t *tid, const unsigned char **hashes, size_t *nhashes,
                                 char *err, size_t errlen)
{
    int rc =
        check_request(p, n, TRACKER_UDP_ACTION_SCRAPE, TRACKER_UDP_SCRAPE_REQ_MIN, err, errlen);
    if (rc != TRACKER_UDP_OK)
        return rc;
    size_t count = (n - TRACKER_UDP_SCRAPE_REQ_MIN) / 20;
    if (count == 0) {
        set_err(err, errlen, "scrape request names no info hash");
        return TRACKER_UDP_EMALFORMED;
    }
    if (count > TRACKER_UDP_SCRAPE_MAX)
        count = TRACKER_UDP_SCRAPE_MAX;
    *connection_id = get_u64be(p);
    *tid = get_u32be(p + 12);
    *hashes = p + TRACKER_UDP_SCRAPE_REQ_MIN;
    *nhashes = count;
    return TRACKER_UDP_OK;
}

/* Writes a scrape response; see tracker_udp.h. */
size_t tracker_udp_encode_scrape_resp(unsigned char *out, size_t cap, uint32_t tid,
                                      const struct tracker_scrape_counts *counts, size_t n)
{
    if (n > TRACKER_UDP_SCRAPE_MAX || cap < TRACKER_UDP_SCRAPE_RESP_MIN + 12 * n)
        return 0;
    put_u32be(out, TRACKER_UDP_ACTION_SCRAPE);
    put_u32be(out + 4, tid);
    for (size_t i = 0; i < n; i++) {
        unsigned char *e = out + 8 + 12 * i;
        put_u32be(e, counts[i].complete);
        put_u32be(e + 4, counts[i].downloaded);
        put_u32be(e + 8, counts[i].incomplete);
    }
    return TRACKER_UDP_SCRAPE_RESP_MIN + 12 * n;
}

/* Parses a scrape response on the client side; see tracker_udp.h. */
int tracker_udp_parse_scrape_resp(const unsigned char *p, size_t n, uint32_t tid,
                                  struct tracker_scrape_counts *counts, size_t nhashes, char *err,
                                  size_t errlen)
{
    if (nhashes > TRACKER_UDP_SCRAPE_MAX) {
        set_err(err, errlen, "too many hashes asked for in one scrape");
        return TRACKER_UDP_EMALFORMED;
    }
    int rc = check_reply_header(p, n, TRACKER_UDP_ACTION_SCRAPE, tid,
                                TRACKER_UDP_SCRAPE_RESP_MIN + 12 * nhashes, err, errlen);
    if (rc != TRACKER_UDP_OK)
        return rc;
    for (size_t i = 0; i < nhashes; i++) {
        const unsigned char *e = p + 8 + 12 * i;
        counts[i].complete = get_u32be(e);
        counts[i].downloaded = get_u32be(e + 4);
        counts[i].incomplete = get_u32be(e + 8);
    }
    return TRACKER_UDP_OK;
}

/* ---------------------------------------------------------------- error */

/* error response: 0 u32 action 3 | 4 u32 tid | 8 message bytes to the end of the packet */

/* Writes an error response; see tracker_udp.h. */
size_t tracker_udp_encode_error(unsigned char *out, size_t cap, uint32_t tid, const char *msg)
{
    if (cap < TRACKER_UDP_ERROR_MIN)
        return 0;
    put_u32be(out, TRACKER_UDP_ACTION_ERROR);
    put_u32be(out + 4, tid);
    size_t len = strlen(msg);
    if (len > cap - TRACKER_UDP_ERROR_MIN)
        len = cap - TRACKER_UDP_ERROR_MIN;
    memcpy(out + TRACKER_UDP_ERROR_MIN, msg, len);
    return TRACKER_UDP_ERROR_MIN + len;
}

/* ---------------------------------------------------------------- SipHash-2-4 */

/*
 * SipHash (Aumasson and Bernstein, 2012) is a short keyed hash: without the key, nobody can
 * predict its output, which is what makes a stateless connection id unforgeable. It reads the key
 * and the message as little-endian 64-bit words, mixes them with add-rotate-xor rounds
 * ("SipRound"), 2 per message word and 4 at the end.
 */

/* Reads 8 bytes as a little-endian number, as SipHash's definition does. */
static uint64_t get_u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Rotates x left by b bits. */
static uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

/* One SipRound over the four state words. */
static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

/* Computes SipHash-2-4; see tracker_udp.h. */
uint64_t tracker_udp_siphash(const unsigned char key[16], const unsigned char *data, size_t n)
{
    uint64_t k0 = get_u64le(key), k1 = get_u64le(key + 8);
    /* The constants spell "somepseudorandomlygeneratedbytes" in ASCII. */
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    size_t full = n - n % 8;

    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = get_u64le(data + i);
        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    }
    /* The last word holds the leftover bytes and, in its top byte, the message length. */
    uint64_t last = (uint64_t)(n & 0xff) << 56;
    for (size_t i = 0; i < n % 8; i++)
        last |= (uint64_t)data[full + i] << (8 * i);
    v[3] ^= last;
    sip_round(v);
    sip_round(v);
    v[0] ^= last;

    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---------------------------------------------------------------- connection ids */

#define CID_ADDR_MAX 64 /* a sockaddr_in6 is 28 bytes; addresses longer than this are cut */

/* Hashes the address and a window number into a connection id. */
static uint64_t cid_for_window(const unsigned char secret[16], const unsigned char *addr,
                               size_t addrlen, uint64_t window)
{
    unsigned char buf[CID_ADDR_MAX + 8];
    if (addrlen > CID_ADDR_MAX)
        addrlen = CID_ADDR_MAX;
    memcpy(buf, addr, addrlen);
    put_u64be(buf + addrlen, window);
    return tracker_udp_siphash(secret, buf, addrlen + 8);
}

/* Returns the number of the 60-second window that holds now_s (times before 0 count as 0). */
static uint64_t cid_window(int64_t now_s)
{
    return now_s < 0 ? 0 : (uint64_t)now_s / TRACKER_UDP_CID_WINDOW_S;
}

/* Computes the connection id for an address at now_s; see tracker_udp.h. */
uint64_t tracker_udp_cid_issue(const unsigned char secret[16], const unsigned char *addr,
                               size_t addrlen, int64_t now_s)
{
    return cid_for_window(secret, addr, addrlen, cid_window(now_s));
}

/* Checks a connection id against the current window and the two before it; see tracker_udp.h. */
int tracker_udp_cid_valid(const unsigned char secret[16], const unsigned char *addr, size_t addrlen,
                          int64_t now_s, uint64_t cid)
{
    uint64_t w = cid_window(now_s);
    for (uint64_t k = 0; k < TRACKER_UDP_CID_WINDOWS && k <= w; k++) {
        if (cid_for_window(secret, addr, addrlen, w - k) == cid)
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- client timing */

/* Returns the reply timeout for a given attempt; see tracker_udp.h. */
long tracker_udp_timeout_s(unsigned attempt)
{
    if (attempt > TRACKER_UDP_MAX_ATTEMPT)
        return -1;
    return 15L << attempt;
}
