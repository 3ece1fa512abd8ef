/*
 * fuzz_session.c - one whole peer connection: session_feed() on everything a peer could send,
 * while we react the way the shell does (unchoke, request, serve, flush, run the timers).
 *
 * Input layout:
 *   byte 0      bit 0: put a valid handshake for our torrent in front of the stream, so the
 *               fuzzer spends its time on messages instead of guessing our info hash;
 *               bit 1: unchoke a peer that says it is interested; bit 2: request blocks when
 *               unchoked; bits 3-7: seed of the chunk sizes the "socket" delivers
 *   byte 1      piece count - 1 (1..256 pieces)
 *   byte 2      piece length: 16 KiB << (byte % 3)
 *   bytes 3-4   bytes cut from the last piece
 *   the rest    the peer's bytes
 *
 * After every event the session's own promises are checked: queues within their configured
 * caps, the peer's bitfield valid, the outbox within its bound and made of whole messages after
 * the part being sent (a CANCEL can take a served block back out of it), blocks inside their
 * pieces, consumed byte counts within the input, and a failed session staying failed.
 */
#include "fuzz.h"

#include "bitfield.h"
#include "bytes.h"
#include "session.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char info_hash[20] = "minitorrent-fuzz-ih!";
static const unsigned char our_id[20] = "-MT0001-fuzz-session";
static const unsigned char peer_id[20] = "-XX0001-remote-peer!";

/* A block of zeros to serve; requests are capped at WIRE_MAX_BLOCK_LEN by wire_validate. */
static const unsigned char zeros[WIRE_MAX_BLOCK_LEN];

/* The invariants that hold between any two calls on a session. */
static void check_session(const struct session *s, const struct session_config *cfg)
{
    FUZZ_CHECK(s->n_ours <= cfg->pipeline_depth);
    FUZZ_CHECK(s->n_theirs <= cfg->max_peer_requests);
    FUZZ_CHECK(s->out_start <= s->out_end && s->out_end <= s->out_cap);
    FUZZ_CHECK(s->out_end - s->out_start <= cfg->outbox_max);
    /* What follows out_msg is whole messages that have not begun to go out: a CANCEL may take a
     * PIECE out of there, so they must parse end to end, exactly. */
    FUZZ_CHECK(s->out_start <= s->out_msg && s->out_msg <= s->out_end);
    for (size_t at = s->out_msg; at < s->out_end;) {
        FUZZ_CHECK(s->out_end - at >= 4);
        at += 4 + (size_t)get_u32be(s->out + at);
        FUZZ_CHECK(at <= s->out_end);
    }
    if (s->peer_has.bits != NULL) {
        FUZZ_CHECK(bitfield_is_valid(&s->peer_has));
        FUZZ_CHECK(s->peer_has.nbits == cfg->geom.piece_count);
    }
    if (s->peer_choking)
        FUZZ_CHECK(s->n_ours == 0 && session_pipeline_room(s) == 0);
    for (size_t i = 0; i < s->n_ours; i++) {
        const struct session_block *b = &s->ours[i];
        FUZZ_CHECK((uint64_t)b->begin + b->length <= wire_piece_size(&cfg->geom, b->index));
    }
}

/* Requests the first block of pieces the peer has, until the pipeline is full. */
static void request_some(struct session *s, const struct session_config *cfg)
{
    for (uint32_t i = 0; i < cfg->geom.piece_count && session_pipeline_room(s) > 0; i++) {
        if (!bitfield_get(&s->peer_has, i))
            continue;
        uint32_t len = wire_piece_size(&cfg->geom, i);
        if (len > WIRE_BLOCK_LEN)
            len = WIRE_BLOCK_LEN;
        /* A refusal (already requested, outbox full) is a legal answer. */
        (void)session_request(s, i, 0, len);
    }
}

/* Reacts to one event the way the shell would, and checks what the event says. */
static void react(struct session *s, const struct session_config *cfg,
                  const struct session_event *ev, uint8_t flags)
{
    switch (ev->type) {
    case SESSION_EV_HANDSHAKE:
        FUZZ_CHECK(s->state == SESSION_OPEN && memcmp(ev->peer_id, s->peer_id, 20) == 0);
        break;
    case SESSION_EV_UNCHOKED:
        FUZZ_CHECK(!s->peer_choking);
        if (flags & 4) {
            (void)session_set_interested(s, true);
            request_some(s, cfg);
        }
        break;
    case SESSION_EV_CHOKED:
        FUZZ_CHECK(s->peer_choking && ev->nblocks <= cfg->pipeline_depth);
        break;
    case SESSION_EV_HAVE:
        FUZZ_CHECK(ev->block.index < cfg->geom.piece_count);
        FUZZ_CHECK(bitfield_get(&s->peer_has, ev->block.index));
        break;
    case SESSION_EV_BITFIELD:
        if (flags & 4)
            request_some(s, cfg);
        break;
    case SESSION_EV_BLOCK:
        FUZZ_CHECK(ev->data != NULL && ev->block.length > 0);
        FUZZ_CHECK((uint64_t)ev->block.begin + ev->block.length <=
                   wire_piece_size(&cfg->geom, ev->block.index));
        if (flags & 4)
            request_some(s, cfg);
        break;
    case SESSION_EV_INTERESTED:
        if (flags & 2)
            (void)session_set_choking(s, false);
        break;
    case SESSION_EV_REQUEST: {
        struct session_block b;
        FUZZ_CHECK(ev->block.length > 0 && ev->block.length <= WIRE_MAX_BLOCK_LEN);
        while (session_next_peer_request(s, &b)) {
            FUZZ_CHECK(b.length <= sizeof zeros);
            if (session_send_block(s, b.index, b.begin, zeros, b.length) != 0)
                break; /* outbox full or choking: a real shell would retry after a flush */
        }
        break;
    }
    case SESSION_EV_ERROR:
        FUZZ_CHECK(s->state == SESSION_FAILED && ev->error < 0 && ev->message != NULL);
        break;
    default:
        break;
    }
}

/* Same chunking rule as fuzz_wire: 1..64 bytes from a xorshift generator, or 1 when seed is 0. */
static size_t next_chunk(uint32_t *state)
{
    if (*state == 0)
        return 1;
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return 1 + *state % 64;
}

int fuzz_target_session(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t flags = fuzz_take_u8(&r);
    struct session_config cfg;
    session_config_defaults(&cfg);
    memcpy(cfg.info_hash, info_hash, 20);
    memcpy(cfg.peer_id, our_id, 20);
    cfg.geom.piece_count = (uint32_t)fuzz_take_u8(&r) + 1;
    cfg.geom.piece_length = 16384u << (fuzz_take_u8(&r) % 3);
    uint32_t cut = fuzz_take_u16(&r) % cfg.geom.piece_length;
    cfg.geom.total_length = (uint64_t)cfg.geom.piece_count * cfg.geom.piece_length - cut;
    cfg.pipeline_depth = 4;
    cfg.max_peer_requests = 8;
    cfg.outbox_max = 256 * 1024; /* small enough that a flood of requests reaches the cap */

    /* The stream: optionally a valid handshake, then the fuzzer's bytes. */
    size_t len = r.n + ((flags & 1) ? WIRE_HANDSHAKE_LEN : 0);
    unsigned char *stream = malloc(len ? len : 1);
    FUZZ_CHECK(stream != NULL);
    size_t off = 0;
    if (flags & 1) {
        struct wire_handshake hs = {{0}, {0}, {0}};
        memcpy(hs.info_hash, info_hash, 20);
        memcpy(hs.peer_id, peer_id, 20);
        wire_handshake_encode(stream, &hs);
        off = WIRE_HANDSHAKE_LEN;
    }
    if (r.n > 0)
        memcpy(stream + off, r.p, r.n);

    struct session s;
    uint64_t now = 1000;
    FUZZ_CHECK(session_init(&s, &cfg, now) == 0);
    uint32_t rng = flags >> 3;
    size_t pos = 0;
    int failed = 0;
    while (pos < len && !failed) {
        size_t chunk = next_chunk(&rng);
        if (chunk > len - pos)
            chunk = len - pos;
        const unsigned char *c = stream + pos;
        size_t left = chunk;
        for (;;) {
            size_t used;
            struct session_event ev;
            int t = session_feed(&s, c, left, now, &used, &ev);
            FUZZ_CHECK(t == (int)ev.type && used <= left);
            if (ev.type == SESSION_EV_BLOCK)
                FUZZ_CHECK((ev.data >= c && ev.data + ev.block.length <= c + used) ||
                           (ev.data >= s.framer.buf &&
                            ev.data + ev.block.length <= s.framer.buf + s.framer.buf_cap));
            c += used;
            left -= used;
            react(&s, &cfg, &ev, flags);
            check_session(&s, &cfg);
            if (t == SESSION_EV_NONE) {
                FUZZ_CHECK(left == 0);
                break;
            }
            if (t == SESSION_EV_ERROR) {
                failed = 1;
                break;
            }
        }
        pos += chunk;

        /* Between reads the shell flushes the outbox (all of it, or half when the chunk size is
         * odd, to leave partial writes behind) and runs the timers; a second passes per read. */
        size_t out_len;
        const unsigned char *out = session_outbox(&s, &out_len);
        if (out != NULL)
            session_sent(&s, chunk % 2 ? out_len / 2 : out_len, now);
        now += 1000;
        if (!failed && session_tick(&s, now) != 0)
            failed = 1;
        check_session(&s, &cfg);
    }

    /* A failed session answers every later call with the same error, consuming nothing. */
    if (s.state == SESSION_FAILED) {
        size_t used = 1;
        struct session_event ev;
        FUZZ_CHECK(session_feed(&s, stream, len, now, &used, &ev) == SESSION_EV_ERROR);
        FUZZ_CHECK(used == 0 && ev.error == s.error);
    }
    session_free(&s);
    free(stream);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_session(data, size);
}
#endif
