/*
 * fuzz_wire.c - the peer-wire framer, decoder and validator on arbitrary bytes.
 *
 * Input layout (the fuzzer mutates all of it):
 *   byte 0      bit 0: the stream starts with a handshake; bit 1: cap messages at the torrent's
 *               size (as a session does) instead of the default; bits 2-7: seed of the chunk sizes
 *   bytes 1-2   piece count - 1        (the torrent's geometry, for wire_validate)
 *   byte 3      piece length: 16 KiB << (byte % 6)
 *   bytes 4-5   bytes cut from the last piece
 *   the rest    the bytes a peer sent
 *
 * Invariants checked on every input:
 *   - TCP may cut a stream anywhere, so feeding it in one piece and feeding it in small random
 *     chunks must give the same frames, the same error and the same final state;
 *   - every frame's data lies inside the input or the framer's own buffer, and within the cap;
 *   - a decoded message that re-encodes (wire_put_*) decodes again to the same message;
 *   - a BITFIELD that passes wire_validate imports into a valid bitfield, and a REQUEST or PIECE
 *     that passes lies inside its piece.
 */
#include "fuzz.h"

#include "bitfield.h"
#include "bytes.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

/* What one framer call produced, enough to compare two runs. Records are compared field by
 * field, never with memcmp, because struct padding holds no defined value. */
struct frame_rec {
    int rc;
    struct wire_msg m; /* data pointer replaced by a hash of the bytes */
    uint32_t data_hash;
    unsigned char hs[WIRE_HANDSHAKE_LEN - 20]; /* reserved, info hash, peer id */
};

/* Says whether two runs produced the same frame. */
static int same_frame(const struct frame_rec *a, const struct frame_rec *b)
{
    return a->rc == b->rc && a->m.type == b->m.type && a->m.id == b->m.id &&
           a->m.index == b->m.index && a->m.begin == b->m.begin && a->m.length == b->m.length &&
           a->m.port == b->m.port && a->m.data_len == b->m.data_len &&
           a->data_hash == b->data_hash && memcmp(a->hs, b->hs, sizeof a->hs) == 0;
}

/* FNV-1a: a cheap hash to compare payloads of two runs. */
static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Re-encodes a decoded message and decodes the payload again: the fields must survive. */
static void check_reencode(const struct wire_msg *m)
{
    unsigned char out[WIRE_REQUEST_SIZE];
    size_t n = 0;
    switch (m->type) {
    case WIRE_CHOKE:
    case WIRE_UNCHOKE:
    case WIRE_INTERESTED:
    case WIRE_NOT_INTERESTED:
        n = wire_put_simple(out, (enum wire_type)m->type);
        break;
    case WIRE_HAVE:
        n = wire_put_have(out, m->index);
        break;
    case WIRE_REQUEST:
        n = wire_put_request(out, m->index, m->begin, m->length);
        break;
    case WIRE_CANCEL:
        n = wire_put_cancel(out, m->index, m->begin, m->length);
        break;
    case WIRE_PORT:
        n = wire_put_port(out, m->port);
        break;
    default:
        return; /* BITFIELD and PIECE carry data: their headers are checked by the framer runs */
    }
    FUZZ_CHECK(n >= 5 && get_u32be(out) == n - 4 && out[4] == m->id);
    struct wire_msg again;
    FUZZ_CHECK(wire_decode(out[4], out + 5, n - 5, &again) == 0);
    FUZZ_CHECK(again.type == m->type && again.index == m->index && again.begin == m->begin &&
               again.length == m->length && again.port == m->port);
}

/* The payload size (after the id) that a decoded message of a known type came from. */
static size_t payload_size(const struct wire_msg *m)
{
    switch (m->type) {
    case WIRE_HAVE:
        return 4;
    case WIRE_BITFIELD:
        return m->data_len;
    case WIRE_REQUEST:
    case WIRE_CANCEL:
        return 12;
    case WIRE_PIECE:
        return 8 + m->data_len;
    case WIRE_PORT:
        return 2;
    default:
        return 0; /* choke, unchoke, interested, not interested */
    }
}

/* Checks one decoded message against the torrent, as a session would. */
static void check_message(const struct wire_msg *m, const struct wire_geometry *g)
{
    if (m->type >= 0)
        FUZZ_CHECK(m->type == m->id && wire_check_size(m->id, payload_size(m)) == 0);
    check_reencode(m);
    if (wire_validate(m, g) != 0)
        return;
    switch (m->type) {
    case WIRE_HAVE:
        FUZZ_CHECK(m->index < g->piece_count);
        break;
    case WIRE_REQUEST:
    case WIRE_CANCEL:
    case WIRE_PIECE: {
        uint32_t psize = wire_piece_size(g, m->index);
        FUZZ_CHECK(m->index < g->piece_count && m->length > 0);
        FUZZ_CHECK((uint64_t)m->begin + m->length <= psize);
        if (m->type == WIRE_PIECE)
            FUZZ_CHECK(m->length == m->data_len);
        break;
    }
    case WIRE_BITFIELD: {
        struct bitfield bf;
        FUZZ_CHECK(bitfield_init(&bf, g->piece_count) == 0);
        FUZZ_CHECK(bitfield_import(&bf, m->data, m->data_len) == 0);
        FUZZ_CHECK(bitfield_is_valid(&bf) && bitfield_count(&bf) <= g->piece_count);
        bitfield_free(&bf);
        break;
    }
    default:
        break;
    }
}

/* The chunk sizes of the second run: 1..16 bytes from a small generator, or 1 byte at a time
 * when the seed is 0 (the worst case for a framer). */
static size_t next_chunk(uint32_t *state)
{
    if (*state == 0)
        return 1;
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return 1 + *state % 16;
}

/* A growable list of records. It starts small: most inputs hold a few frames, and clearing a
 * large array on every execution would cost more than the framer itself. */
struct frame_list {
    struct frame_rec *recs;
    size_t n, cap;
};

static struct frame_rec *frame_list_add(struct frame_list *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->recs = realloc(l->recs, l->cap * sizeof *l->recs);
        FUZZ_CHECK(l->recs != NULL);
    }
    return &l->recs[l->n++];
}

/* Feeds the stream to a fresh framer in chunks (all at once when seed is negative) and appends
 * every frame to list. Returns the framer's final state. */
static enum wire_framer_state run_framer(const uint8_t *in, size_t len, int handshake,
                                         uint32_t max_len, long seed, const struct wire_geometry *g,
                                         struct frame_list *list)
{
    struct wire_framer f;
    wire_framer_init(&f, handshake, max_len);
    uint32_t rng = (uint32_t)seed;
    size_t pos = 0;
    while (pos < len && f.state != WIRE_FAILED) {
        size_t chunk = seed < 0 ? len - pos : next_chunk(&rng);
        if (chunk > len - pos)
            chunk = len - pos;
        const unsigned char *c = in + pos;
        size_t left = chunk;
        for (;;) {
            size_t used = 0;
            struct wire_handshake hs;
            struct wire_msg m;
            int rc = wire_framer_feed(&f, c, left, &used, &hs, &m);
            FUZZ_CHECK(used <= left);
            c += used;
            left -= used;
            if (rc == WIRE_NEED_MORE) {
                FUZZ_CHECK(left == 0);
                break;
            }
            struct frame_rec *r = frame_list_add(list);
            memset(r, 0, sizeof *r);
            r->rc = rc;
            if (rc == WIRE_GOT_HANDSHAKE) {
                memcpy(r->hs, hs.reserved, 8);
                memcpy(r->hs + 8, hs.info_hash, 20);
                memcpy(r->hs + 28, hs.peer_id, 20);
            } else if (rc == WIRE_GOT_MESSAGE) {
                /* The data must point into this chunk or into the framer's buffer. */
                if (m.data != NULL) {
                    int in_chunk = m.data >= in + pos && m.data + m.data_len <= in + pos + chunk;
                    int in_buf = f.buf != NULL && m.data >= f.buf &&
                                 m.data + m.data_len <= f.buf + f.buf_cap;
                    FUZZ_CHECK(in_chunk || in_buf);
                    r->data_hash = fnv1a(m.data, m.data_len);
                }
                FUZZ_CHECK(m.data_len < f.max_len);
                check_message(&m, g);
                r->m = m;
                r->m.data = NULL;
            } else {
                FUZZ_CHECK(rc < 0 && f.state == WIRE_FAILED);
                break;
            }
        }
        pos += chunk;
    }
    FUZZ_CHECK(f.buf_cap <= f.max_len);
    enum wire_framer_state final = f.state;
    wire_framer_free(&f);
    return final;
}

int fuzz_target_wire(const uint8_t *data, size_t size)
{
    struct fuzz_reader r = {data, size};
    uint8_t flags = fuzz_take_u8(&r);
    struct wire_geometry g;
    g.piece_count = (uint32_t)fuzz_take_u16(&r) + 1;
    g.piece_length = 16384u << (fuzz_take_u8(&r) % 6);
    uint32_t cut = fuzz_take_u16(&r) % g.piece_length; /* the last piece is shorter by this */
    g.total_length = (uint64_t)g.piece_count * g.piece_length - cut;
    uint32_t max_len = (flags & 2) ? wire_max_len_for(g.piece_count) : 0;
    int handshake = flags & 1;

    /* The geometry helpers agree with each other. */
    FUZZ_CHECK(wire_piece_size(&g, 0) > 0 && wire_piece_size(&g, g.piece_count) == 0);
    FUZZ_CHECK(wire_piece_size(&g, g.piece_count - 1) == g.piece_length - cut);

    /* The handshake parser alone: accepts exactly when 68 bytes with the right prefix are there. */
    struct wire_handshake hs;
    int hrc = wire_handshake_parse(r.p, r.n, &hs);
    int prefix = wire_handshake_check_prefix(r.p, r.n < WIRE_HANDSHAKE_LEN ? r.n : 20);
    FUZZ_CHECK(hrc == WIRE_HANDSHAKE_LEN || hrc == 0 || hrc == WIRE_E_NOT_BITTORRENT);
    if (hrc == WIRE_HANDSHAKE_LEN)
        FUZZ_CHECK(prefix == 0 && memcmp(hs.info_hash, r.p + 28, 20) == 0);
    if (hrc == 0)
        FUZZ_CHECK(r.n < WIRE_HANDSHAKE_LEN && prefix == 0);

    struct frame_list a = {NULL, 0, 0}, b = {NULL, 0, 0};
    enum wire_framer_state sa = run_framer(r.p, r.n, handshake, max_len, -1, &g, &a);
    enum wire_framer_state sb = run_framer(r.p, r.n, handshake, max_len, flags >> 2, &g, &b);
    FUZZ_CHECK(a.n == b.n && sa == sb);
    for (size_t i = 0; i < a.n; i++)
        FUZZ_CHECK(same_frame(&a.recs[i], &b.recs[i]));
    free(a.recs);
    free(b.recs);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_wire(data, size);
}
#endif
