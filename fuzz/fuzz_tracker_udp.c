/*
 * fuzz_tracker_udp.c - every BEP 15 packet parser, the tracker's and the client's, on any
 * datagram.
 *
 * Input layout:
 *   byte 0      which parser: (byte % 6) = 0 connect request, 1 connect response, 2 announce
 *               request, 3 announce response, 4 scrape request, 5 scrape response;
 *               bit 6: expect the transaction id the packet carries (else a fixed one, so the
 *               "stray reply" path runs too); bit 7: announce peers are IPv6
 *   byte 1      room for peers (0..63), or how many hashes a scrape asked for (0..79: above 74
 *               is refused by the parser)
 *   the rest    the datagram
 *
 * Invariant: whatever a parser accepts, our own encoder writes back as the same bytes (the
 * parsers ignore trailing bytes, so only the part they read is compared). An announce response
 * is compared through a second parse instead, because the encoder cannot write the entries with
 * port 0 that the parser skips. Error texts are NUL-terminated.
 */
#include "fuzz.h"

#include "bytes.h"
#include "tracker_udp.h"

#include <string.h>

enum { MAX_PEERS = 63 };

static const uint32_t fixed_tid = 0x46555a5a; /* "FUZZ" */

int fuzz_target_tracker_udp(const uint8_t *data, size_t size)
{
    struct fuzz_reader in = {data, size};
    uint8_t sel = fuzz_take_u8(&in);
    uint8_t arg = fuzz_take_u8(&in);
    const unsigned char *p = in.p;
    size_t n = in.n;
    uint32_t tid = (sel & 0x40) && n >= 8 ? get_u32be(p + 4) : fixed_tid;
    int family = (sel & 0x80) ? 6 : 4;
    unsigned char out[TRACKER_UDP_PACKET_MAX * 2];
    char err[256];
    memset(err, 'X', sizeof err);
    int rc;

    switch (sel % 6) {
    case 0: { /* tracker side: connect request */
        uint32_t t;
        rc = tracker_udp_parse_connect_req(p, n, &t, err, sizeof err);
        if (rc == TRACKER_UDP_OK) {
            FUZZ_CHECK(tracker_udp_encode_connect_req(out, t) == TRACKER_UDP_CONNECT_LEN);
            FUZZ_CHECK(memcmp(out, p, TRACKER_UDP_CONNECT_LEN) == 0);
        }
        break;
    }
    case 1: { /* client side: connect response */
        uint64_t cid;
        rc = tracker_udp_parse_connect_resp(p, n, tid, &cid, err, sizeof err);
        if (rc == TRACKER_UDP_OK) {
            FUZZ_CHECK(tracker_udp_encode_connect_resp(out, tid, cid) == TRACKER_UDP_CONNECT_LEN);
            FUZZ_CHECK(memcmp(out, p, TRACKER_UDP_CONNECT_LEN) == 0);
        }
        break;
    }
    case 2: { /* tracker side: announce request */
        struct tracker_udp_announce_req req;
        rc = tracker_udp_parse_announce_req(p, n, &req, err, sizeof err);
        if (rc == TRACKER_UDP_OK) {
            FUZZ_CHECK(req.port != 0 && req.event <= TRACKER_EVENT_STOPPED);
            FUZZ_CHECK(tracker_udp_encode_announce_req(out, &req) == TRACKER_UDP_ANNOUNCE_REQ_LEN);
            FUZZ_CHECK(memcmp(out, p, TRACKER_UDP_ANNOUNCE_REQ_LEN) == 0);
        }
        break;
    }
    case 3: { /* client side: announce response */
        struct tracker_udp_announce_resp resp;
        struct tracker_peer peers[MAX_PEERS];
        size_t max = arg % (MAX_PEERS + 1), np = 0;
        rc = tracker_udp_parse_announce_resp(p, n, tid, family, &resp, peers, max, &np, err,
                                             sizeof err);
        if (rc == TRACKER_UDP_OK) {
            FUZZ_CHECK(np <= max && resp.transaction_id == tid);
            for (size_t i = 0; i < np; i++)
                FUZZ_CHECK(peers[i].family == family && peers[i].port != 0);
            size_t len =
                tracker_udp_encode_announce_resp(out, sizeof out, &resp, peers, np, family);
            FUZZ_CHECK(len == TRACKER_UDP_ANNOUNCE_RESP_MIN +
                                  np * (family == 6 ? TRACKER_COMPACT6_LEN : TRACKER_COMPACT4_LEN));
            FUZZ_CHECK(memcmp(out, p, TRACKER_UDP_ANNOUNCE_RESP_MIN) == 0);
            struct tracker_udp_announce_resp resp2;
            struct tracker_peer back[MAX_PEERS];
            size_t np2 = 0;
            FUZZ_CHECK(tracker_udp_parse_announce_resp(out, len, tid, family, &resp2, back,
                                                       MAX_PEERS, &np2, err,
                                                       sizeof err) == TRACKER_UDP_OK);
            FUZZ_CHECK(np2 == np);
            for (size_t i = 0; i < np; i++)
                FUZZ_CHECK(back[i].port == peers[i].port &&
                           memcmp(back[i].ip, peers[i].ip, 16) == 0);
        }
        break;
    }
    case 4: { /* tracker side: scrape request */
        uint64_t cid;
        uint32_t t;
        const unsigned char *hashes;
        size_t nh;
        rc = tracker_udp_parse_scrape_req(p, n, &cid, &t, &hashes, &nh, err, sizeof err);
        if (rc == TRACKER_UDP_OK) {
            FUZZ_CHECK(nh >= 1 && nh <= TRACKER_UDP_SCRAPE_MAX);
            FUZZ_CHECK(hashes == p + TRACKER_UDP_SCRAPE_REQ_MIN && 16 + 20 * nh <= n);
            size_t len = tracker_udp_encode_scrape_req(out, sizeof out, cid, t,
                                                       (const unsigned char(*)[20])hashes, nh);
            FUZZ_CHECK(len == 16 + 20 * nh && memcmp(out, p, len) == 0);
        }
        break;
    }
    default: { /* client side: scrape response */
        struct tracker_scrape_counts counts[80];
        size_t nh = arg % 80;
        rc = tracker_udp_parse_scrape_resp(p, n, tid, counts, nh, err, sizeof err);
        if (rc == TRACKER_UDP_OK) {
            size_t len = tracker_udp_encode_scrape_resp(out, sizeof out, tid, counts, nh);
            FUZZ_CHECK(len == 8 + 12 * nh && memcmp(out, p, len) == 0);
        }
        break;
    }
    }
    FUZZ_CHECK(rc == TRACKER_UDP_OK || rc == TRACKER_UDP_EMALFORMED || rc == TRACKER_UDP_ETID ||
               rc == TRACKER_UDP_ETRACKER);
    if (rc != TRACKER_UDP_OK)
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);

    /* Compact peers as an HTTP reply carries them: any length, any family. */
    struct tracker_peer peers[MAX_PEERS];
    long got = tracker_compact_decode(p, n, family, peers, arg % (MAX_PEERS + 1), err, sizeof err);
    size_t entry = family == 6 ? TRACKER_COMPACT6_LEN : TRACKER_COMPACT4_LEN;
    FUZZ_CHECK(got == (n % entry == 0 ? got : -1));
    FUZZ_CHECK(got <= (long)(n / entry) && got <= (long)(arg % (MAX_PEERS + 1)));
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_tracker_udp(data, size);
}
#endif
