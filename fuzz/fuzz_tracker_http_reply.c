/*
 * fuzz_tracker_http_reply.c - what an HTTP tracker (or anyone pretending to be one) sends back:
 * the HTTP response splitter, then the bencoded announce and scrape replies.
 *
 * Input layout:
 *   byte 0      bits 0-1: 0 = a whole HTTP response (split it, then parse its body both ways),
 *               1 = an announce body, 2 = a scrape body (3 counts as 0); bits 2-6: how many peers
 *               the caller has room for (0..31), to exercise the cap; bit 7: the server closed
 *               the connection (eof)
 *   the rest    the bytes received
 *
 * Invariants:
 *   - a complete response stays complete, with the same body, when more bytes arrive or the
 *     connection closes; its body lies inside the received bytes and within the cap;
 *   - an announce reply never stores more peers than there is room for, and every stored peer
 *     has a family of 4 or 6 and a non-zero port; the texts are NUL-terminated and printable;
 *   - the peers survive a round trip through our own reply encoder, in the compact form (IPv4
 *     first, then IPv6) and in the list-of-dictionaries form (same order, same peer ids).
 */
#include "fuzz.h"

#include "tracker_http.h"

#include <string.h>

/* The info hash the scrape parser looks for; fuzz/dict/tracker_http_reply.dict holds it too. */
static const unsigned char scrape_hash[20] = "fuzz-scrape-hash-20b";

enum { MAX_PEERS = 31 };

/* Says whether a reply text is NUL-terminated and holds only printable ASCII. */
static int printable_text(const char *s, size_t cap)
{
    const char *end = memchr(s, '\0', cap);
    if (end == NULL)
        return 0;
    for (; s < end; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

static int same_peer(const struct tracker_peer *a, const struct tracker_peer *b, int with_id)
{
    if (a->family != b->family || a->port != b->port)
        return 0;
    if (memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) != 0)
        return 0;
    if (with_id && (a->has_peer_id != b->has_peer_id ||
                    (a->has_peer_id && memcmp(a->peer_id, b->peer_id, 20) != 0)))
        return 0;
    return 1;
}

/* Encodes the peers with our tracker's encoder and parses them back. */
static void check_roundtrip(const struct tracker_peer *peers, size_t n, int compact)
{
    struct tracker_http_reply_info info = {1800, 0, 1, 2};
    struct benc_buf b;
    char err[256];
    benc_buf_init(&b);
    FUZZ_CHECK(
        tracker_http_encode_announce_reply(&b, &info, peers, n, compact, 0, err, sizeof err) == 0);
    struct tracker_http_reply r2;
    struct tracker_peer back[MAX_PEERS];
    FUZZ_CHECK(tracker_http_parse_announce_reply(b.data, b.len, &r2, back, MAX_PEERS, err,
                                                 sizeof err) == TRACKER_HTTP_OK);
    FUZZ_CHECK(r2.npeers == n && r2.interval == 1800 && r2.nskipped == 0);
    if (compact) {
        /* "peers" holds the IPv4 peers and "peers6" the IPv6 ones, each in the original order. */
        size_t k = 0;
        for (int fam = 4; fam <= 6; fam += 2)
            for (size_t i = 0; i < n; i++)
                if (peers[i].family == fam)
                    FUZZ_CHECK(same_peer(&peers[i], &back[k++], 0));
    } else {
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(same_peer(&peers[i], &back[i], 1));
    }
    benc_buf_free(&b);
}

static void check_announce(const unsigned char *body, size_t n, size_t max)
{
    struct tracker_http_reply r;
    struct tracker_peer peers[MAX_PEERS];
    char err[256];
    memset(err, 'X', sizeof err); /* so we can tell that a failure wrote its message */
    int rc = tracker_http_parse_announce_reply(body, n, &r, peers, max, err, sizeof err);
    FUZZ_CHECK(rc == TRACKER_HTTP_OK || rc == TRACKER_HTTP_EFAILURE || rc == TRACKER_HTTP_EBAD);
    FUZZ_CHECK(rc == TRACKER_HTTP_OK || memchr(err, '\0', sizeof err) != NULL);
    FUZZ_CHECK(printable_text(r.failure, sizeof r.failure));
    FUZZ_CHECK(printable_text(r.warning, sizeof r.warning));
    if (rc != TRACKER_HTTP_OK)
        return;
    FUZZ_CHECK(r.npeers <= max && r.interval >= 0);
    for (size_t i = 0; i < r.npeers; i++)
        FUZZ_CHECK((peers[i].family == 4 || peers[i].family == 6) && peers[i].port != 0);
    check_roundtrip(peers, r.npeers, 1);
    check_roundtrip(peers, r.npeers, 0);
}

static void check_scrape(const unsigned char *body, size_t n)
{
    struct tracker_scrape_counts c;
    char err[256];
    memset(err, 'X', sizeof err);
    int rc = tracker_http_parse_scrape_reply(body, n, scrape_hash, &c, err, sizeof err);
    FUZZ_CHECK(rc == TRACKER_HTTP_OK || rc == TRACKER_HTTP_EFAILURE || rc == TRACKER_HTTP_EBAD);
    if (rc != TRACKER_HTTP_OK)
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
}

int fuzz_target_tracker_http_reply(const uint8_t *data, size_t size)
{
    struct fuzz_reader in = {data, size};
    uint8_t ctl = fuzz_take_u8(&in);
    int mode = ctl & 3;
    size_t max = (ctl >> 2) & 31;
    int eof = (ctl & 0x80) != 0;

    if (mode == 1) {
        check_announce(in.p, in.n, max);
        return 0;
    }
    if (mode == 2) {
        check_scrape(in.p, in.n);
        return 0;
    }

    struct tracker_http_response r;
    char err[256];
    int rc = tracker_http_parse_response(in.p, in.n, eof, &r, err, sizeof err);
    FUZZ_CHECK(rc == TRACKER_HTTP_OK || rc == TRACKER_HTTP_NEED_MORE || rc == TRACKER_HTTP_EBAD);
    if (rc == TRACKER_HTTP_NEED_MORE)
        FUZZ_CHECK(!eof);
    if (rc != TRACKER_HTTP_OK)
        return 0;
    FUZZ_CHECK(r.body >= in.p && r.body + r.body_len <= in.p + in.n);
    FUZZ_CHECK(r.body_len <= TRACKER_HTTP_BODY_MAX);

    /* Complete now means complete for good: the connection closing changes nothing. */
    struct tracker_http_response r2;
    FUZZ_CHECK(tracker_http_parse_response(in.p, in.n, 1, &r2, err, sizeof err) == TRACKER_HTTP_OK);
    FUZZ_CHECK(r2.status == r.status && r2.body == r.body && r2.body_len == r.body_len);

    check_announce(r.body, r.body_len, max);
    check_scrape(r.body, r.body_len);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_tracker_http_reply(data, size);
}
#endif
