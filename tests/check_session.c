/*
 * check_session.c - the per-peer session driven by scripted byte streams: what a peer sends goes
 * in through session_feed, in chunks of every size, and the tests assert on the events that come
 * out and on the bytes the session queues in its outbox.
 */
#include "testlib.h"
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== fixtures =========== */

/* 21 bytes leave room for the literal's NUL; only the first 20 are used. */
static const unsigned char HASH[21] = "0123456789abcdefghij";
static const unsigned char OTHER_HASH[21] = "0123456789abcdefghiX";
static const unsigned char OUR_ID[21] = "-MT0001-ourselves000";
static const unsigned char PEER_ID[21] = "-LT2080-thepeer00000";

/* 4 pieces: three of 32 KiB and a short last one of 5000 bytes. */
#define PIECE_LEN 32768u
#define LAST_LEN 5000u

/* Writes n bytes as hex into buf (cap bytes), for failure messages. */
static const char *hex(const unsigned char *p, size_t n, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n && 2 * i + 3 <= cap; i++)
        snprintf(buf + 2 * i, 3, "%02x", p[i]);
    return buf;
}

/* Fails, naming the function, when an encoder of the wire codec does not write want[0..wn). */
static void require_encoded(const char *call, const unsigned char *got, size_t gn,
                            const unsigned char *want, size_t wn)
{
    char gs[80], ws[80];
    ck_assert_msg(gn == wn && memcmp(got, want, wn) == 0,
                  "%s wrote %zu bytes [%s], expected %zu [%s]: the session sends every "
                  "message through the wire codec; make `make check ONLY=wire` pass first",
                  call, gn, hex(got, gn, gs, sizeof gs), wn, hex(want, wn, ws, sizeof ws));
}

/* Every session test starts here: the session encodes, frames and checks every message through
 * the wire codec (lab 6), so when the codec is not written yet, the failure says which of its
 * functions to look at, instead of a puzzling session error further on. */
static void require_wire_codec(void)
{
    unsigned char b[128];
    const unsigned char unchoke[] = {0, 0, 0, 1, 1};
    require_encoded("wire_put_unchoke(out)", b, wire_put_unchoke(b), unchoke, sizeof unchoke);
    const unsigned char have[] = {0, 0, 0, 5, 4, 0, 0, 0, 3};
    require_encoded("wire_put_have(out, 3)", b, wire_put_have(b, 3), have, sizeof have);
    const unsigned char req[] = {0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0};
    require_encoded("wire_put_request(out, 1, 16384, 16384)", b,
                    wire_put_request(b, 1, 16384, 16384), req, sizeof req);
    const unsigned char piece[] = {0, 0, 0, 109, 7, 0, 0, 0, 1, 0, 0, 0, 0};
    require_encoded("wire_put_piece_header(out, 1, 0, 100)", b, wire_put_piece_header(b, 1, 0, 100),
                    piece, sizeof piece);

    /* A handshake then an UNCHOKE, in one chunk, through a framer. */
    struct wire_handshake hs = {{0}, {0}, {0}};
    memcpy(hs.info_hash, HASH, 20);
    memcpy(hs.peer_id, PEER_ID, 20);
    wire_handshake_encode(b, &hs);
    memcpy(b + WIRE_HANDSHAKE_LEN, unchoke, sizeof unchoke);
    size_t n = WIRE_HANDSHAKE_LEN + sizeof unchoke;
    struct wire_framer f;
    struct wire_handshake got_hs;
    struct wire_msg m;
    size_t used = 0;
    wire_framer_init(&f, true, 0);
    int rc = wire_framer_feed(&f, b, n, &used, &got_hs, &m);
    ck_assert_msg(rc == WIRE_GOT_HANDSHAKE && used == WIRE_HANDSHAKE_LEN &&
                      memcmp(got_hs.info_hash, HASH, 20) == 0,
                  "wire_framer_feed() fed a valid handshake and an UNCHOKE (%zu bytes) returned "
                  "%d (%s) after using %zu bytes, expected %d (WIRE_GOT_HANDSHAKE) after %d, with "
                  "the info hash filled in: the session reads every message through the wire "
                  "codec; make `make check ONLY=wire` pass first",
                  n, rc, rc < 0 ? wire_strerror(rc) : "not an error", used, WIRE_GOT_HANDSHAKE,
                  WIRE_HANDSHAKE_LEN);
    rc = wire_framer_feed(&f, b + used, n - used, &used, &got_hs, &m);
    ck_assert_msg(rc == WIRE_GOT_MESSAGE && m.type == WIRE_UNCHOKE,
                  "wire_framer_feed() fed an UNCHOKE (00000001 01) after the handshake returned "
                  "%d with type %d, expected %d (WIRE_GOT_MESSAGE) with type %d: the session "
                  "reads every message through the wire codec; make `make check ONLY=wire` pass "
                  "first",
                  rc, rc == WIRE_GOT_MESSAGE ? m.type : 0, WIRE_GOT_MESSAGE, WIRE_UNCHOKE);
    wire_framer_free(&f);

    /* The range checks the session relies on, at the edge of a 4-piece torrent. */
    const struct wire_geometry g = {4, PIECE_LEN, 3 * PIECE_LEN + LAST_LEN};
    struct wire_msg hv = {0};
    hv.type = WIRE_HAVE;
    hv.index = 3;
    rc = wire_validate(&hv, &g);
    ck_assert_msg(rc == 0,
                  "wire_validate() of a HAVE 3 in a torrent of 4 pieces returned %d, expected 0: "
                  "the session checks every message through the wire codec; make `make check "
                  "ONLY=wire` pass first",
                  rc);
}

static void make_config(struct session_config *cfg)
{
    require_wire_codec();
    session_config_defaults(cfg);
    memcpy(cfg->info_hash, HASH, 20);
    memcpy(cfg->peer_id, OUR_ID, 20);
    cfg->geom.piece_count = 4;
    cfg->geom.piece_length = PIECE_LEN;
    cfg->geom.total_length = 3 * PIECE_LEN + LAST_LEN;
}

/* A growing byte stream: what the scripted peer "sends". */
struct stream {
    unsigned char buf[80000];
    size_t n;
};

static void put(struct stream *st, const unsigned char *p, size_t n)
{
    ck_assert(st->n + n <= sizeof st->buf);
    memcpy(st->buf + st->n, p, n);
    st->n += n;
}

static void put_handshake(struct stream *st, const unsigned char *hash, const unsigned char *id)
{
    struct wire_handshake hs = {{0, 0, 0, 0, 0, 0x10, 0, 0}, {0}, {0}};
    memcpy(hs.info_hash, hash, 20);
    memcpy(hs.peer_id, id, 20);
    wire_handshake_encode(st->buf + st->n, &hs);
    st->n += WIRE_HANDSHAKE_LEN;
}

/* Each appends one encoded message. */
static void put_simple(struct stream *st, enum wire_type t)
{
    st->n += wire_put_simple(st->buf + st->n, t);
}

static void put_have(struct stream *st, uint32_t i)
{
    st->n += wire_put_have(st->buf + st->n, i);
}

static void put_bitfield(struct stream *st, const unsigned char *bits, size_t n)
{
    st->n += wire_put_bitfield(st->buf + st->n, sizeof st->buf - st->n, bits, n);
}

static void put_request(struct stream *st, uint32_t i, uint32_t b, uint32_t l)
{
    st->n += wire_put_request(st->buf + st->n, i, b, l);
}

static void put_cancel(struct stream *st, uint32_t i, uint32_t b, uint32_t l)
{
    st->n += wire_put_cancel(st->buf + st->n, i, b, l);
}

/* A PIECE whose data bytes are (begin + k) mod 251, so a test can recognise them. */
static void put_piece(struct stream *st, uint32_t i, uint32_t b, uint32_t l)
{
    st->n += wire_put_piece_header(st->buf + st->n, i, b, l);
    for (uint32_t k = 0; k < l; k++)
        st->buf[st->n++] = (unsigned char)((b + k) % 251);
}

/* Appends a one-line description of an event to log. */
static void log_event(char *log, size_t cap, const struct session_event *ev)
{
    size_t n = strlen(log);
    const struct session_block *b = &ev->block;
    switch (ev->type) {
    case SESSION_EV_NONE:
        break;
    case SESSION_EV_HANDSHAKE:
        snprintf(log + n, cap - n, "HANDSHAKE %.8s r5=%02x\n", (const char *)ev->peer_id,
                 ev->reserved[5]);
        break;
    case SESSION_EV_KEEPALIVE:
        snprintf(log + n, cap - n, "KEEPALIVE\n");
        break;
    case SESSION_EV_CHOKED:
        n += (size_t)snprintf(log + n, cap - n, "CHOKED");
        for (size_t i = 0; i < ev->nblocks; i++)
            n += (size_t)snprintf(log + n, cap - n, " %u:%u:%u", ev->blocks[i].index,
                                  ev->blocks[i].begin, ev->blocks[i].length);
        snprintf(log + n, cap - n, "\n");
        break;
    case SESSION_EV_UNCHOKED:
        snprintf(log + n, cap - n, "UNCHOKED\n");
        break;
    case SESSION_EV_INTERESTED:
        snprintf(log + n, cap - n, "INTERESTED\n");
        break;
    case SESSION_EV_NOT_INTERESTED:
        snprintf(log + n, cap - n, "NOT_INTERESTED\n");
        break;
    case SESSION_EV_HAVE:
        snprintf(log + n, cap - n, "HAVE %u\n", b->index);
        break;
    case SESSION_EV_BITFIELD:
        snprintf(log + n, cap - n, "BITFIELD\n");
        break;
    case SESSION_EV_BLOCK: {
        /* Check the data is the pattern put_piece wrote, byte for byte. */
        uint32_t bad = 0;
        for (uint32_t k = 0; k < b->length; k++)
            bad += ev->data[k] != (unsigned char)((b->begin + k) % 251);
        snprintf(log + n, cap - n, "BLOCK %u:%u:%u%s%s%s\n", b->index, b->begin, b->length,
                 ev->unsolicited ? " unsolicited" : "", ev->withdrawn ? " withdrawn" : "",
                 bad ? " CORRUPT" : "");
        break;
    }
    case SESSION_EV_REQUEST:
        snprintf(log + n, cap - n, "REQUEST %u:%u:%u\n", b->index, b->begin, b->length);
        break;
    case SESSION_EV_REQUEST_DROPPED:
        snprintf(log + n, cap - n, "DROPPED %u:%u:%u\n", b->index, b->begin, b->length);
        break;
    case SESSION_EV_CANCEL:
        snprintf(log + n, cap - n, "CANCEL %u:%u:%u%s\n", b->index, b->begin, b->length,
                 ev->unqueued ? " unqueued" : "");
        break;
    case SESSION_EV_SKIPPED:
        snprintf(log + n, cap - n, "SKIPPED %u\n", ev->msg_id);
        break;
    case SESSION_EV_ERROR:
        snprintf(log + n, cap - n, "ERROR %d %s\n", ev->error, ev->message);
        break;
    }
}

/* Feeds bytes in chunks of `chunk` bytes (0: all at once), the way a shell would after each
 * read(), logging every event. Stops at the first error. Returns the last event type. */
static int feed(struct session *s, const unsigned char *in, size_t len, size_t chunk, uint64_t now,
                char *log, size_t cap)
{
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t at = 0; at < len || len == 0;) {
        size_t n = len - at < chunk ? len - at : chunk;
        for (size_t off = 0;;) {
            struct session_event ev;
            size_t used = 0;
            int t = session_feed(s, in + at + off, n - off, now, &used, &ev);
            ck_assert_int_eq(t, ev.type);
            off += used;
            log_event(log, cap, &ev);
            if (t == SESSION_EV_ERROR)
                return t;
            if (t == SESSION_EV_NONE) {
                ck_assert_uint_eq(off, n);
                break;
            }
        }
        at += n;
        if (len == 0)
            break;
    }
    return SESSION_EV_NONE;
}

/* Empties the outbox into dst (if not NULL) and returns how many bytes were there. */
static size_t drain(struct session *s, unsigned char *dst, uint64_t now)
{
    size_t n;
    const unsigned char *p = session_outbox(s, &n);
    if (dst && n)
        memcpy(dst, p, n);
    session_sent(s, n, now);
    return n;
}

/* A session that has exchanged handshakes with the scripted peer; our handshake is drained. */
static void open_session(struct session *s, const struct session_config *cfg)
{
    ck_assert_int_eq(session_init(s, cfg, 0), 0);
    ck_assert_uint_eq(drain(s, NULL, 0), WIRE_HANDSHAKE_LEN);
    struct stream st = {.n = 0};
    put_handshake(&st, HASH, PEER_ID);
    char log[128] = "";
    feed(s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "HANDSHAKE -LT2080- r5=10\n");
    ck_assert_int_eq(s->state, SESSION_OPEN);
}

/* ===================================================================== handshake ========== */

START_TEST(session_start_handshake_queued_at_init)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    ck_assert(s.am_choking && s.peer_choking && !s.am_interested && !s.peer_interested);
    size_t n;
    const unsigned char *out = session_outbox(&s, &n);
    ck_assert_uint_eq(n, WIRE_HANDSHAKE_LEN);
    struct wire_handshake hs = {{0}, {0}, {0}};
    memcpy(hs.info_hash, HASH, 20);
    memcpy(hs.peer_id, OUR_ID, 20);
    unsigned char want[WIRE_HANDSHAKE_LEN];
    wire_handshake_encode(want, &hs);
    ck_assert_mem_eq(out, want, WIRE_HANDSHAKE_LEN);
    session_sent(&s, 20, 0); /* a partial write */
    ck_assert_ptr_eq(session_outbox(&s, &n), s.out + 20);
    ck_assert_uint_eq(n, 48);
    session_sent(&s, 48, 0);
    ck_assert_ptr_null(session_outbox(&s, &n));
    session_free(&s);
}
END_TEST

START_TEST(session_start_info_hash_mismatch_is_error)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    struct stream st = {.n = 0};
    put_handshake(&st, OTHER_HASH, PEER_ID);
    char log[256] = "";
    ck_assert_int_eq(feed(&s, st.buf, st.n, 0, 0, log, sizeof log), SESSION_EV_ERROR);
    ck_assert_str_eq(log, "ERROR -2 info hash mismatch: peer wants another torrent\n");
    session_free(&s);
}
END_TEST

START_TEST(session_connected_to_self_is_error)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    /* Play our own handshake back to ourselves, as when the tracker lists us. */
    size_t n;
    const unsigned char *mine = session_outbox(&s, &n);
    struct stream st = {.n = 0};
    put(&st, mine, n);
    char log[256] = "";
    ck_assert_int_eq(feed(&s, st.buf, st.n, 1, 0, log, sizeof log), SESSION_EV_ERROR);
    ck_assert_str_eq(log, "ERROR -3 connected to self\n");
    session_free(&s);
}
END_TEST

START_TEST(session_start_not_bittorrent_fails_at_first_byte)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    /* The start of an MSE (encrypted) handshake: random-looking bytes. We must fail at once so
     * the shell closes and aria2 retries with a plain handshake. */
    const unsigned char mse[1] = {0xa7};
    struct session_event ev;
    size_t used;
    ck_assert_int_eq(session_feed(&s, mse, 1, 0, &used, &ev), SESSION_EV_ERROR);
    ck_assert_int_eq(ev.error, SESSION_E_PROTOCOL);
    ck_assert_int_eq(ev.wire_error, WIRE_E_NOT_BITTORRENT);
    ck_assert_str_eq(ev.message, "protocol error: not a BitTorrent handshake");
    session_free(&s);
}
END_TEST

/* ===================================================================== download ========== */

/* The whole leecher conversation, fed in chunks of `chunk` bytes; returns the event log. */
static void scripted_download(size_t chunk, char *log, size_t cap)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    ck_assert_uint_eq(drain(&s, NULL, 0), WIRE_HANDSHAKE_LEN);

    /* The peer: handshake, bitfield (pieces 0, 1, 2), have 3, unchoke. */
    struct stream a = {.n = 0};
    put_handshake(&a, HASH, PEER_ID);
    const unsigned char bits[1] = {0xe0};
    put_bitfield(&a, bits, 1);
    put_have(&a, 3);
    put_simple(&a, WIRE_UNCHOKE);
    feed(&s, a.buf, a.n, chunk, 10, log, cap);
    ck_assert(!s.peer_choking);
    ck_assert_uint_eq(bitfield_count(&s.peer_has), 4);

    /* We: interested, then three requests; the outbox must hold exactly these bytes. */
    ck_assert_int_eq(session_set_interested(&s, true), 0);
    ck_assert_int_eq(session_request(&s, 0, 0, 16384), 0);
    ck_assert_int_eq(session_request(&s, 3, 0, LAST_LEN), 0);
    ck_assert_int_eq(session_request(&s, 0, 16384, 16384), 0);
    ck_assert_uint_eq(session_pipeline_room(&s), cfg.pipeline_depth - 3);
    unsigned char out[256], want[256];
    size_t wn = wire_put_interested(want);
    wn += wire_put_request(want + wn, 0, 0, 16384);
    wn += wire_put_request(want + wn, 3, 0, LAST_LEN);
    wn += wire_put_request(want + wn, 0, 16384, 16384);
    ck_assert_uint_eq(drain(&s, out, 20), wn);
    ck_assert_mem_eq(out, want, wn);

    /* The peer answers out of order, then sends one block we never asked for. */
    struct stream *b = malloc(sizeof *b);
    ck_assert_ptr_nonnull(b);
    b->n = 0;
    put_piece(b, 3, 0, LAST_LEN);
    put_piece(b, 0, 16384, 16384);
    put_piece(b, 0, 0, 16384);
    put_piece(b, 1, 0, 100);
    feed(&s, b->buf, b->n, chunk, 30, log, cap);
    ck_assert_uint_eq(s.n_ours, 0);
    ck_assert_uint_eq(s.payload_down, 16384 * 2 + LAST_LEN + 100);
    free(b);
    session_free(&s);
}

static const char DOWNLOAD_LOG[] = "HANDSHAKE -LT2080- r5=10\n"
                                   "BITFIELD\n"
                                   "HAVE 3\n"
                                   "UNCHOKED\n"
                                   "BLOCK 3:0:5000\n"
                                   "BLOCK 0:16384:16384\n"
                                   "BLOCK 0:0:16384\n"
                                   "BLOCK 1:0:100 unsolicited\n";

START_TEST(session_scripted_download_any_chunking)
{
    const size_t chunks[] = {0, 1, 2, 3, 5, 13, 17, 68, 69, 1000, 16397};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        char log[1024] = "";
        scripted_download(chunks[i], log, sizeof log);
        ck_assert_msg(strcmp(log, DOWNLOAD_LOG) == 0, "chunk %zu:\n%s", chunks[i], log);
    }
}
END_TEST

START_TEST(session_choke_returns_outstanding_requests)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    struct stream st = {.n = 0};
    const unsigned char bits[1] = {0xf0};
    put_bitfield(&st, bits, 1);
    put_simple(&st, WIRE_UNCHOKE);
    char log[512] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_int_eq(session_request(&s, 1, 0, 16384), 0);
    ck_assert_int_eq(session_request(&s, 1, 16384, 16384), 0);
    ck_assert_int_eq(session_request(&s, 2, 0, 16384), 0);

    /* The peer chokes; a block it had already sent still arrives afterwards. */
    st.n = 0;
    put_simple(&st, WIRE_CHOKE);
    put_piece(&st, 1, 0, 16384);
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "BITFIELD\nUNCHOKED\n"
                          "CHOKED 1:0:16384 1:16384:16384 2:0:16384\n"
                          "BLOCK 1:0:16384 unsolicited withdrawn\n");
    ck_assert_uint_eq(s.n_ours, 0);
    ck_assert_uint_eq(session_pipeline_room(&s), 0);
    ck_assert_int_eq(session_request(&s, 1, 0, 16384), SESSION_E_CHOKED);
    session_free(&s);
}
END_TEST

/* A block may come after we withdrew its request (we cancelled it, or the peer choked us while
 * it was on the wire): the session flags it "withdrawn", an honest late answer. A second copy of
 * that block, and a block we never asked for, are not: only a peer that sends blocks nobody
 * asked for makes those, and the shell strikes it. */
START_TEST(session_late_block_is_withdrawn_unasked_block_is_not)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    struct stream st = {.n = 0};
    const unsigned char bits[1] = {0xf0};
    put_bitfield(&st, bits, 1);
    put_simple(&st, WIRE_UNCHOKE);
    char log[1024] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_int_eq(session_request(&s, 1, 0, 16384), 0);
    ck_assert_int_eq(session_request(&s, 2, 0, 16384), 0);
    ck_assert_int_eq(session_cancel(&s, 1, 0, 16384), 0);
    st.n = 0;
    put_piece(&st, 1, 0, 16384);     /* sent before our CANCEL reached the peer */
    put_piece(&st, 1, 0, 16384);     /* the same block again: answers nothing now */
    put_piece(&st, 0, 16384, 16384); /* never asked for */
    put_piece(&st, 2, 0, 16384);     /* asked for */
    log[0] = '\0';
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "BLOCK 1:0:16384 unsolicited withdrawn\n"
                          "BLOCK 1:0:16384 unsolicited\n"
                          "BLOCK 0:16384:16384 unsolicited\n"
                          "BLOCK 2:0:16384\n");
    session_free(&s);
}
END_TEST

START_TEST(session_request_refusals)
{
    struct session_config cfg;
    make_config(&cfg);
    cfg.pipeline_depth = 2;
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    ck_assert_int_eq(session_request(&s, 0, 0, 16384), SESSION_E_STATE); /* no handshake yet */
    session_free(&s);

    open_session(&s, &cfg);
    ck_assert_int_eq(session_request(&s, 0, 0, 16384), SESSION_E_CHOKED);
    struct stream st = {.n = 0};
    const unsigned char bits[1] = {0xd0}; /* pieces 0, 1, 3 */
    put_bitfield(&st, bits, 1);
    put_simple(&st, WIRE_UNCHOKE);
    char log[256] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_int_eq(session_request(&s, 2, 0, 16384), SESSION_E_NOT_AVAILABLE);
    ck_assert_int_eq(session_request(&s, 4, 0, 16384), SESSION_E_RANGE);
    ck_assert_int_eq(session_request(&s, 3, 0, LAST_LEN + 1), SESSION_E_RANGE);
    ck_assert_int_eq(session_request(&s, 0, PIECE_LEN - 100, 16384), SESSION_E_RANGE);
    ck_assert_int_eq(session_request(&s, 0, 0, 0), SESSION_E_RANGE);
    ck_assert_int_eq(session_request(&s, 0, 0, 16384), 0);
    ck_assert_int_eq(session_request(&s, 0, 0, 16384), SESSION_E_STATE); /* duplicate */
    ck_assert_int_eq(session_request(&s, 0, 16384, 16384), 0);
    ck_assert_int_eq(session_request(&s, 1, 0, 16384), SESSION_E_PIPELINE_FULL);
    ck_assert_uint_eq(s.n_ours, 2);
    /* Cancelling frees a slot and sends CANCEL; cancelling twice is refused. */
    ck_assert_int_eq(session_cancel(&s, 0, 0, 16384), 0);
    ck_assert_int_eq(session_cancel(&s, 0, 0, 16384), SESSION_E_STATE);
    ck_assert_int_eq(session_request(&s, 1, 0, 16384), 0);
    unsigned char out[128], want[128];
    size_t wn = wire_put_request(want, 0, 0, 16384);
    wn += wire_put_request(want + wn, 0, 16384, 16384);
    wn += wire_put_cancel(want + wn, 0, 0, 16384);
    wn += wire_put_request(want + wn, 1, 0, 16384);
    ck_assert_uint_eq(drain(&s, out, 0), wn);
    ck_assert_mem_eq(out, want, wn);
    session_free(&s);
}
END_TEST

/* ===================================================================== peer's pieces ====== */

START_TEST(session_late_bitfield_replaces)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    struct stream st = {.n = 0};
    const unsigned char first[1] = {0x80}, second[1] = {0x30};
    put_bitfield(&st, first, 1);
    put_simple(&st, WIRE_UNCHOKE);
    put_have(&st, 1);
    put_bitfield(&st, second, 1); /* mid-connection, as aria2 does */
    char log[256] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "BITFIELD\nUNCHOKED\nHAVE 1\nBITFIELD\n");
    ck_assert(!bitfield_get(&s.peer_has, 0) && !bitfield_get(&s.peer_has, 1));
    ck_assert(bitfield_get(&s.peer_has, 2) && bitfield_get(&s.peer_has, 3));
    ck_assert(bitfield_is_valid(&s.peer_has));
    session_free(&s);
}
END_TEST

START_TEST(session_bad_have_and_bitfield_are_errors)
{
    struct session_config cfg;
    make_config(&cfg);
    struct {
        const char *name;
        const unsigned char bits[2];
        size_t nbits_bytes;
        bool is_have;
        const char *want;
    } cases[] = {
        {"have 4",
         {0},
         0,
         true,
         "ERROR -1 protocol error: have: piece index out of range (index 4 begin 0 length 0)\n"},
        {"bitfield too long",
         {0xf0, 0},
         2,
         false,
         "ERROR -1 protocol error: bitfield: bitfield of the wrong size or with spare bits set "
         "(index 0 begin 0 length 0)\n"},
        {"bitfield spare bit",
         {0xf8},
         1,
         false,
         "ERROR -1 protocol error: bitfield: bitfield of the wrong size or with spare bits set "
         "(index 0 begin 0 length 0)\n"},
        {"bitfield empty",
         {0},
         0,
         false,
         "ERROR -1 protocol error: bitfield: bitfield of the wrong size or with spare bits set "
         "(index 0 begin 0 length 0)\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct session s;
        open_session(&s, &cfg);
        struct stream st = {.n = 0};
        if (cases[i].is_have)
            put_have(&st, 4);
        else
            put_bitfield(&st, cases[i].bits, cases[i].nbits_bytes);
        char log[512] = "";
        ck_assert_int_eq(feed(&s, st.buf, st.n, 0, 0, log, sizeof log), SESSION_EV_ERROR);
        ck_assert_msg(strcmp(log, cases[i].want) == 0, "%s: %s", cases[i].name, log);
        ck_assert(bitfield_none(&s.peer_has));
        session_free(&s);
    }
}
END_TEST

/* ===================================================================== uploading ========== */

START_TEST(session_peer_requests_bounded_and_cancelled)
{
    struct session_config cfg;
    make_config(&cfg);
    cfg.max_peer_requests = 4;
    struct session s;
    open_session(&s, &cfg);
    struct stream st = {.n = 0};
    put_simple(&st, WIRE_INTERESTED);
    put_request(&st, 0, 0, 16384); /* we still choke it: dropped */
    char log[1024] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "INTERESTED\nDROPPED 0:0:16384\n");
    ck_assert_uint_eq(s.n_theirs, 0);

    ck_assert_int_eq(session_set_choking(&s, false), 0);
    st.n = 0;
    for (uint32_t i = 0; i < 6; i++)
        put_request(&st, i % 3, (i / 3) * 16384, 16384);
    put_cancel(&st, 1, 0, 16384);
    put_cancel(&st, 2, 16384, 16384); /* never queued: nothing to remove */
    log[0] = '\0';
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "REQUEST 0:0:16384\nREQUEST 1:0:16384\nREQUEST 2:0:16384\n"
                          "REQUEST 0:16384:16384\nDROPPED 1:16384:16384\nDROPPED 2:16384:16384\n"
                          "CANCEL 1:0:16384\nCANCEL 2:16384:16384\n");
    ck_assert_uint_eq(s.n_theirs, 3);

    struct session_block b;
    ck_assert(session_next_peer_request(&s, &b));
    ck_assert(b.index == 0 && b.begin == 0 && b.length == 16384);
    ck_assert(session_next_peer_request(&s, &b));
    ck_assert(b.index == 2 && b.begin == 0);
    /* Choking the peer forgets its remaining requests. */
    ck_assert_int_eq(session_set_choking(&s, true), 0);
    ck_assert(!session_next_peer_request(&s, &b));
    session_free(&s);
}
END_TEST

/* A CANCEL for a block we served already, still waiting in the outbox, takes its PIECE message
 * out unsent, so no upload is spent on a block the peer no longer wants. A message the socket has
 * begun to send must go out whole (the peer's framer counts on its length), so that one stays, as
 * does everything else queued around the block taken out. */
START_TEST(session_cancel_takes_unsent_block_from_outbox)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    ck_assert_int_eq(session_set_choking(&s, false), 0);
    struct stream st = {.n = 0};
    for (uint32_t i = 0; i < 3; i++)
        put_request(&st, i, 0, 16384);
    char log[1024] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);

    /* Serve the three blocks, each filled with its own byte, with a HAVE between the first two. */
    static unsigned char data[3][16384];
    struct session_block b;
    for (int i = 0; i < 3; i++) {
        ck_assert(session_next_peer_request(&s, &b));
        memset(data[i], 'a' + i, sizeof data[i]);
        ck_assert_int_eq(session_send_block(&s, b.index, b.begin, data[i], b.length), 0);
        if (i == 0)
            ck_assert_int_eq(session_send_have(&s, 3), 0);
    }
    static unsigned char want[3 * 16400];
    size_t un = wire_put_unchoke(want);
    size_t p0 = wire_put_piece(want + un, sizeof want - un, 0, 0, data[0], 16384);
    size_t hn = wire_put_have(want + un + p0, 3);
    size_t p2 =
        wire_put_piece(want + un + p0 + hn, sizeof want - un - p0 - hn, 2, 0, data[2], 16384);
    ck_assert_uint_eq(s.payload_up, 3 * 16384);

    /* The socket takes the UNCHOKE and the first 5 bytes of block 0's message. */
    session_sent(&s, un + 5, 0);
    st.n = 0;
    put_cancel(&st, 1, 0, 16384); /* queued and unsent: taken out */
    put_cancel(&st, 0, 0, 16384); /* begun: stays */
    put_cancel(&st, 1, 0, 16384); /* gone already: nothing to do */
    log[0] = '\0';
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "CANCEL 1:0:16384 unqueued\nCANCEL 0:0:16384\nCANCEL 1:0:16384\n");
    ck_assert_uint_eq(s.payload_up, 2 * 16384);

    static unsigned char out[3 * 16400];
    size_t rest = p0 - 5 + hn + p2;
    ck_assert_uint_eq(drain(&s, out, 0), rest);
    ck_assert_mem_eq(out, want + un + 5, rest);

    /* With the outbox empty, a block served next is taken back by a CANCEL just the same. */
    st.n = 0;
    put_request(&st, 3, 0, LAST_LEN);
    log[0] = '\0';
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert(session_next_peer_request(&s, &b));
    ck_assert_int_eq(session_send_block(&s, b.index, b.begin, data[0], b.length), 0);
    st.n = 0;
    put_cancel(&st, 3, 0, LAST_LEN);
    log[0] = '\0';
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "CANCEL 3:0:5000 unqueued\n");
    size_t left;
    ck_assert_ptr_null(session_outbox(&s, &left));
    session_free(&s);
}
END_TEST

/* With the default configuration, the 500 requests libtorrent keeps outstanding at a fast peer
 * are all queued. A dropped request is never answered without BEP 6, so libtorrent stalled for a
 * minute on its own request time out when this queue held 256 (seen in `make interop`). */
START_TEST(session_peer_requests_default_fits_libtorrent_depth)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    ck_assert_int_eq(session_set_choking(&s, false), 0);
    struct stream st = {.n = 0};
    for (uint32_t i = 0; i < 500; i++)
        put_request(&st, i % 3, (i / 3 % 2) * 16384, 16384);
    static char log[32768];
    log[0] = '\0';
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_msg(s.n_theirs == 500 && strstr(log, "DROPPED") == NULL,
                  "fed 500 requests, expected all queued, got %zu queued, first drop: %.40s",
                  s.n_theirs, strstr(log, "DROPPED") ? strstr(log, "DROPPED") : "none");
    session_free(&s);
}
END_TEST

/* The peer's requests wait in a ring: serving the oldest moves no other entry (a queue shifted
 * with memmove costs up to 2048 moves per block served), and the order holds when the ring wraps
 * around its end and a CANCEL takes an entry out of the middle. */
START_TEST(session_peer_queue_is_a_ring)
{
    struct session_config cfg;
    make_config(&cfg);
    cfg.max_peer_requests = 4;
    struct session s;
    open_session(&s, &cfg);
    ck_assert_int_eq(session_set_choking(&s, false), 0);
    struct stream st = {.n = 0};
    for (uint32_t i = 0; i < 4; i++) /* A B C D: blocks 0:0 1:0 2:0 3:0 */
        put_request(&st, i, 0, i == 3 ? LAST_LEN : 16384);
    char log[1024] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_uint_eq(s.n_theirs, 4);

    struct session_block before[4], b;
    memcpy(before, s.theirs, sizeof before);
    ck_assert(session_next_peer_request(&s, &b));
    ck_assert(b.index == 0);
    for (int i = 1; i < 4; i++)
        ck_assert_msg(memcmp(&s.theirs[i], &before[i], sizeof b) == 0,
                      "serving the oldest request moved entry %d of the queue", i);
    ck_assert(session_next_peer_request(&s, &b));
    ck_assert(b.index == 1);

    /* E F wrap around the end; D, now in the middle, is cancelled. */
    st.n = 0;
    put_request(&st, 0, 16384, 16384);
    put_request(&st, 1, 16384, 16384);
    put_request(&st, 2, 16384, 16384); /* the ring is full: dropped */
    put_cancel(&st, 3, 0, LAST_LEN);
    log[0] = '\0';
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_str_eq(log, "REQUEST 0:16384:16384\nREQUEST 1:16384:16384\n"
                          "DROPPED 2:16384:16384\nCANCEL 3:0:5000\n");
    ck_assert_uint_eq(s.n_theirs, 3);
    const uint32_t want[][2] = {{2, 0}, {0, 16384}, {1, 16384}};
    for (int i = 0; i < 3; i++) {
        ck_assert(session_next_peer_request(&s, &b));
        ck_assert_msg(b.index == want[i][0] && b.begin == want[i][1],
                      "request %d out of the ring: %u:%u, expected %u:%u", i, b.index, b.begin,
                      want[i][0], want[i][1]);
    }
    ck_assert(!session_next_peer_request(&s, &b));
    /* Empty again after wrapping: a new request is served next. */
    st.n = 0;
    put_request(&st, 3, 0, LAST_LEN);
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert(session_next_peer_request(&s, &b));
    ck_assert(b.index == 3 && b.length == LAST_LEN);
    session_free(&s);
}
END_TEST

START_TEST(session_out_of_range_request_is_error)
{
    struct session_config cfg;
    make_config(&cfg);
    const uint32_t bad[][3] = {
        {4, 0, 16384},                  /* no piece 4 */
        {3, 0, LAST_LEN + 1},           /* past the short last piece */
        {0, 0, WIRE_MAX_BLOCK_LEN + 1}, /* too large */
        {0, 0xffffc000u, 0x8000},       /* begin + length wraps around 2^32 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct session s;
        open_session(&s, &cfg);
        ck_assert_int_eq(session_set_choking(&s, false), 0);
        struct stream st = {.n = 0};
        put_request(&st, bad[i][0], bad[i][1], bad[i][2]);
        char log[512] = "";
        ck_assert_int_eq(feed(&s, st.buf, st.n, 0, 0, log, sizeof log), SESSION_EV_ERROR);
        ck_assert_msg(strstr(log, "ERROR -1 protocol error: request:") == log, "case %zu: %s", i,
                      log);
        ck_assert_uint_eq(s.n_theirs, 0);
        session_free(&s);
    }
}
END_TEST

START_TEST(session_serves_block)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    const unsigned char data[5] = "hello";
    ck_assert_int_eq(session_send_block(&s, 3, 4995, data, 5), SESSION_E_CHOKING);
    ck_assert_int_eq(session_set_choking(&s, false), 0);
    ck_assert_int_eq(session_send_block(&s, 3, 4996, data, 5), SESSION_E_RANGE);
    ck_assert_int_eq(session_send_block(&s, 3, 4995, data, 5), 0);
    unsigned char out[64], want[64];
    size_t wn = wire_put_unchoke(want);
    wn += wire_put_piece(want + wn, sizeof want - wn, 3, 4995, data, 5);
    ck_assert_uint_eq(drain(&s, out, 0), wn);
    ck_assert_mem_eq(out, want, wn);
    ck_assert_uint_eq(s.payload_up, 5);

    /* The same block through the space the session hands out (the shell reads from disk into
     * it), with the same refusals; a block taken back leaves the outbox as it was. */
    int err = 0;
    ck_assert_ptr_null(session_block_space(&s, 3, 4996, 5, &err));
    ck_assert_int_eq(err, SESSION_E_RANGE);
    unsigned char *space = session_block_space(&s, 3, 4995, 5, &err);
    ck_assert_ptr_nonnull(space);
    session_unsend_block(&s, 5);
    size_t left;
    ck_assert_ptr_null(session_outbox(&s, &left));
    ck_assert_uint_eq(s.payload_up, 5);
    ck_assert_int_eq(session_send_have(&s, 1), 0);
    unsigned char have[16];
    size_t hn = wire_put_have(have, 1);
    space = session_block_space(&s, 3, 4995, 5, &err);
    ck_assert_ptr_nonnull(space);
    memcpy(space, data, 5);
    ck_assert_uint_eq(drain(&s, out, 0), hn + wn - 5);
    ck_assert_mem_eq(out, have, hn);
    ck_assert_mem_eq(out + hn, want + 5, wn - 5); /* the PIECE message, without the UNCHOKE */
    ck_assert_uint_eq(s.payload_up, 10);
    ck_assert_int_eq(session_set_choking(&s, true), 0);
    ck_assert_ptr_null(session_block_space(&s, 3, 4995, 5, &err));
    ck_assert_int_eq(err, SESSION_E_CHOKING);
    session_free(&s);
}
END_TEST

/* ===================================================================== small rules ======== */

START_TEST(session_flags_sent_only_on_change)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    ck_assert_int_eq(session_set_interested(&s, false), 0); /* already not interested */
    ck_assert_int_eq(session_set_choking(&s, true), 0);     /* already choking */
    ck_assert_uint_eq(drain(&s, NULL, 0), 0);
    ck_assert_int_eq(session_set_interested(&s, true), 0);
    ck_assert_int_eq(session_set_interested(&s, true), 0);
    ck_assert_int_eq(session_set_choking(&s, false), 0);
    ck_assert_int_eq(session_set_interested(&s, false), 0);
    unsigned char out[64], want[64];
    size_t wn = wire_put_interested(want);
    wn += wire_put_unchoke(want + wn);
    wn += wire_put_not_interested(want + wn);
    ck_assert_uint_eq(drain(&s, out, 0), wn);
    ck_assert_mem_eq(out, want, wn);
    ck_assert(!s.am_interested && !s.am_choking);
    session_free(&s);
}
END_TEST

START_TEST(session_start_bitfield_only_first)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    struct bitfield ours, wrong;
    ck_assert_int_eq(bitfield_init(&ours, 4), 0);
    ck_assert_int_eq(bitfield_init(&wrong, 9), 0);
    bitfield_set(&ours, 0);
    bitfield_set(&ours, 3);
    ck_assert_int_eq(session_send_bitfield(&s, &wrong), SESSION_E_RANGE);
    ck_assert_int_eq(session_send_bitfield(&s, &ours), 0);
    ck_assert_int_eq(session_send_have(&s, 1), 0);
    ck_assert_int_eq(session_send_have(&s, 4), SESSION_E_RANGE);
    ck_assert_int_eq(session_send_bitfield(&s, &ours), SESSION_E_STATE);
    unsigned char out[128], want[128];
    size_t n = drain(&s, out, 0);
    const unsigned char bits[1] = {0x90};
    size_t wn = wire_put_bitfield(want, sizeof want, bits, 1);
    wn += wire_put_have(want + wn, 1);
    ck_assert_uint_eq(n, WIRE_HANDSHAKE_LEN + wn);
    ck_assert_mem_eq(out + WIRE_HANDSHAKE_LEN, want, wn);
    bitfield_free(&ours);
    bitfield_free(&wrong);
    session_free(&s);
}
END_TEST

START_TEST(session_unknown_messages_skipped)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    struct stream st = {.n = 0};
    const unsigned char ext[] = {0, 0, 0, 6, 20, 0, 'd', '1', ':', 'e'}; /* BEP 10 handshake */
    put(&st, ext, sizeof ext);
    st.n += wire_put_port(st.buf + st.n, 6881);
    const unsigned char odd[] = {0, 0, 0, 1, 0xc8}; /* id 200, no payload */
    put(&st, odd, sizeof odd);
    st.n += wire_put_keepalive(st.buf + st.n);
    char log[256] = "";
    ck_assert_int_eq(feed(&s, st.buf, st.n, 1, 0, log, sizeof log), SESSION_EV_NONE);
    ck_assert_str_eq(log, "SKIPPED 20\nSKIPPED 9\nSKIPPED 200\nKEEPALIVE\n");
    session_free(&s);
}
END_TEST

START_TEST(session_timers)
{
    struct session_config cfg;
    make_config(&cfg);
    cfg.keepalive_ms = 1000;
    cfg.idle_timeout_ms = 5000;
    struct session s;
    open_session(&s, &cfg); /* handshake sent and received at time 0 */
    ck_assert_int_eq(session_tick(&s, 999), 0);
    ck_assert_uint_eq(drain(&s, NULL, 999), 0);
    ck_assert_int_eq(session_tick(&s, 1000), 0);
    ck_assert_int_eq(session_tick(&s, 1001), 0); /* one keep-alive queued, not two */
    unsigned char out[16];
    ck_assert_uint_eq(drain(&s, out, 1001), 4);
    ck_assert_mem_eq(out, "\0\0\0\0", 4);
    ck_assert_int_eq(session_tick(&s, 2000), 0); /* 999 ms since that send: nothing */
    ck_assert_uint_eq(drain(&s, NULL, 2000), 0);

    /* Hearing from the peer at 4000 moves the idle deadline to 9000. */
    unsigned char ka[4];
    char log[64] = "";
    feed(&s, ka, wire_put_keepalive(ka), 0, 4000, log, sizeof log);
    ck_assert_int_eq(session_tick(&s, 8999), 0);
    ck_assert_int_eq(session_tick(&s, 9000), SESSION_E_TIMEOUT);
    ck_assert_int_eq(s.state, SESSION_FAILED);
    session_free(&s);
}
END_TEST

START_TEST(session_outbox_full_refuses_without_change)
{
    struct session_config cfg;
    make_config(&cfg);
    cfg.outbox_max = WIRE_HANDSHAKE_LEN + 5 + WIRE_REQUEST_SIZE; /* handshake, interested, 1 */
    struct session s;
    ck_assert_int_eq(session_init(&s, &cfg, 0), 0);
    struct stream st = {.n = 0};
    put_handshake(&st, HASH, PEER_ID);
    const unsigned char bits[1] = {0xf0};
    put_bitfield(&st, bits, 1);
    put_simple(&st, WIRE_UNCHOKE);
    char log[256] = "";
    feed(&s, st.buf, st.n, 0, 0, log, sizeof log);
    ck_assert_int_eq(session_set_interested(&s, true), 0);
    ck_assert_int_eq(session_request(&s, 0, 0, 16384), 0);
    ck_assert_int_eq(session_request(&s, 1, 0, 16384), SESSION_E_OUTBOX_FULL);
    ck_assert_uint_eq(s.n_ours, 1); /* the refused request is not counted as outstanding */
    ck_assert_int_eq(session_set_interested(&s, false), SESSION_E_OUTBOX_FULL);
    ck_assert(s.am_interested);
    drain(&s, NULL, 0);
    ck_assert_int_eq(session_request(&s, 1, 0, 16384), 0);
    session_free(&s);
}
END_TEST

START_TEST(session_error_is_sticky)
{
    struct session_config cfg;
    make_config(&cfg);
    struct session s;
    open_session(&s, &cfg);
    const unsigned char huge[4] = {0xff, 0xff, 0xff, 0xff};
    char log[256] = "";
    ck_assert_int_eq(feed(&s, huge, 4, 0, 0, log, sizeof log), SESSION_EV_ERROR);
    ck_assert_str_eq(log, "ERROR -1 protocol error: message length above the cap\n");
    struct session_event ev;
    size_t used = 99;
    const unsigned char unchoke[5] = {0, 0, 0, 1, 1};
    ck_assert_int_eq(session_feed(&s, unchoke, 5, 0, &used, &ev), SESSION_EV_ERROR);
    ck_assert_uint_eq(used, 0);
    ck_assert(s.peer_choking);
    ck_assert_int_eq(session_set_interested(&s, true), SESSION_E_STATE);
    ck_assert_int_eq(session_tick(&s, 0), SESSION_E_PROTOCOL);
    session_free(&s);
}
END_TEST

/* A small deterministic generator (xorshift32) for the random test; the seed is printed. */
static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

START_TEST(session_random_peer_keeps_invariants)
{
    /* A random peer sends random (mostly well-formed, sometimes out-of-range) messages while we
     * randomly request, choke and serve. Whatever happens, the queues stay within their bounds,
     * the peer's bitfield stays valid and the session either goes on or fails cleanly. */
    const uint32_t seed = 424242u;
    printf("session_random_peer_keeps_invariants: seed %u\n", seed);
    uint32_t rng = seed;
    struct session_config cfg;
    make_config(&cfg);
    cfg.pipeline_depth = 3;
    cfg.max_peer_requests = 5;
    int failed = 0;
    for (int c = 0; c < 300; c++) {
        struct session s;
        open_session(&s, &cfg);
        for (int step = 0; step < 60 && s.state != SESSION_FAILED; step++) {
            struct stream st = {.n = 0};
            uint32_t r = rng_next(&rng);
            /* A valid block most of the time; one time in 30 an index or length out of range. */
            uint32_t idx = rng_next(&rng) % 4;
            uint32_t begin = idx == 3 ? 0 : (rng_next(&rng) % 2) * 16384;
            uint32_t len = idx == 3 ? LAST_LEN : 16384;
            uint32_t bad = rng_next(&rng) % 60;
            if (bad == 0)
                idx = 4;
            else if (bad == 1)
                len = 100000;
            switch (r % 10) {
            case 0:
            case 1:
                put_simple(&st, (enum wire_type)(rng_next(&rng) % 4));
                break;
            case 2:
                put_have(&st, idx);
                break;
            case 3: {
                unsigned char bits[1] = {(unsigned char)(rng_next(&rng) & 0xf8)};
                put_bitfield(&st, bits, 1);
                break;
            }
            case 4:
            case 5:
                put_request(&st, idx, begin, len);
                break;
            case 6:
                put_cancel(&st, idx, begin, len);
                break;
            case 7:
                put_piece(&st, idx, begin, len > 16384 ? 16384 : len);
                break;
            case 8:
                session_request(&s, idx, begin, 16384); /* refusals are fine */
                session_set_interested(&s, rng_next(&rng) % 2);
                break;
            case 9: {
                struct session_block b;
                session_set_choking(&s, rng_next(&rng) % 3 == 0);
                if (session_next_peer_request(&s, &b)) {
                    static unsigned char zeros[16384];
                    session_send_block(&s, b.index, b.begin, zeros,
                                       b.length > sizeof zeros ? sizeof zeros : b.length);
                }
                drain(&s, NULL, 0);
                break;
            }
            }
            static char log[4096];
            log[0] = '\0';
            feed(&s, st.buf, st.n, 1 + rng_next(&rng) % 20000, 0, log, sizeof log);
            ck_assert_msg(s.n_ours <= cfg.pipeline_depth, "seed %u case %d", seed, c);
            ck_assert_msg(s.n_theirs <= cfg.max_peer_requests, "seed %u case %d", seed, c);
            ck_assert_msg(bitfield_is_valid(&s.peer_has), "seed %u case %d", seed, c);
            ck_assert_msg(s.out_end - s.out_start <= cfg.outbox_max, "seed %u case %d", seed, c);
        }
        failed += s.state == SESSION_FAILED;
        session_free(&s);
    }
    /* Both outcomes must occur, or the test is not exploring much. */
    ck_assert_int_gt(failed, 0);
    ck_assert_int_lt(failed, 300);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("session");
    /* session_: a whole peer conversation through the wire codec: requests, pieces, choking,
     * timers (lab 6 grades these). */
    TCase *tc = tk_tcase(s, "session", 60);
    tk_add_test(tc, session_connected_to_self_is_error);
    tk_add_test(tc, session_scripted_download_any_chunking);
    tk_add_test(tc, session_choke_returns_outstanding_requests);
    tk_add_test(tc, session_late_block_is_withdrawn_unasked_block_is_not);
    tk_add_test(tc, session_request_refusals);
    tk_add_test(tc, session_late_bitfield_replaces);
    tk_add_test(tc, session_bad_have_and_bitfield_are_errors);
    tk_add_test(tc, session_peer_requests_bounded_and_cancelled);
    tk_add_test(tc, session_cancel_takes_unsent_block_from_outbox);
    tk_add_test(tc, session_peer_requests_default_fits_libtorrent_depth);
    tk_add_test(tc, session_peer_queue_is_a_ring);
    tk_add_test(tc, session_out_of_range_request_is_error);
    tk_add_test(tc, session_serves_block);
    tk_add_test(tc, session_flags_sent_only_on_change);
    tk_add_test(tc, session_unknown_messages_skipped);
    tk_add_test(tc, session_timers);
    tk_add_test(tc, session_outbox_full_refuses_without_change);
    tk_add_test(tc, session_error_is_sticky);
    tk_add_test(tc, session_random_peer_keeps_invariants);

    /* session_start_: what the session does before the framer has a message to give (the
     * handshake it queues, an early refusal), given code that no lab grades. */
    tc = tk_tcase(s, "session_start", 10);
    tk_add_test(tc, session_start_handshake_queued_at_init);
    tk_add_test(tc, session_start_info_hash_mismatch_is_error);
    tk_add_test(tc, session_start_not_bittorrent_fails_at_first_byte);
    tk_add_test(tc, session_start_bitfield_only_first);
    return s;
}

TK_MAIN(session_suite)
