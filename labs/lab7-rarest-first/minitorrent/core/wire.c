/*
 * wire.c - BEP 3 peer wire: handshake, encoders, decoder, checks against the torrent, and the
 * incremental framer.
 */
#include "wire.h"
#include "bitfield.h"
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

const char *wire_strerror(int err)
{
    switch (err) {
    case WIRE_E_NOT_BITTORRENT:
        return "not a BitTorrent handshake";
    case WIRE_E_TOO_LONG:
        return "message length above the cap";
    case WIRE_E_BAD_SIZE:
        return "payload size wrong for the message id";
    case WIRE_E_BAD_INDEX:
        return "piece index out of range";
    case WIRE_E_BAD_BLOCK:
        return "block outside its piece or too large";
    case WIRE_E_BAD_BITFIELD:
        return "bitfield of the wrong size or with spare bits set";
    case WIRE_E_NOMEM:
        return "out of memory";
    default:
        return "unknown wire error";
    }
}

/* ===================================================================== handshake ========== */

void wire_handshake_encode(unsigned char *out, const struct wire_handshake *hs)
{
    out[0] = WIRE_PSTRLEN;
    memcpy(out + 1, WIRE_PSTR, WIRE_PSTRLEN);
    memcpy(out + 20, hs->reserved, 8);
    memcpy(out + 28, hs->info_hash, 20);
    memcpy(out + 48, hs->peer_id, 20);
}

/* Checks only the bytes that are there, so a caller can give up after the first wrong byte.
 * aria2 opens with an encrypted (MSE) handshake and only falls back to the plain one once we
 * close, so waiting for 68 bytes before checking would stall the connection for good. */
int wire_handshake_check_prefix(const unsigned char *in, size_t len)
{
    /* Byte 0 must be 19, bytes 1..19 "BitTorrent protocol"; the rest carries no fixed value. */
    for (size_t i = 0; i < len && i <= WIRE_PSTRLEN; i++) {
        unsigned char want = i == 0 ? WIRE_PSTRLEN : (unsigned char)WIRE_PSTR[i - 1];
        if (in[i] != want)
            return WIRE_E_NOT_BITTORRENT;
    }
    return 0;
}

/* Takes the handshake apart at its fixed offsets (the mirror of wire_handshake_encode). */
int wire_handshake_parse(const unsigned char *in, size_t len, struct wire_handshake *hs)
{
    if (wire_handshake_check_prefix(in, len) < 0)
        return WIRE_E_NOT_BITTORRENT;
    if (len < WIRE_HANDSHAKE_LEN)
        return 0;
    memcpy(hs->reserved, in + 20, 8);
    memcpy(hs->info_hash, in + 28, 20);
    memcpy(hs->peer_id, in + 48, 20);
    return WIRE_HANDSHAKE_LEN;
}

/* ===================================================================== encoders =========== */

/* A keep-alive is a length prefix of 0 and nothing else: no id, no payload. */
size_t wire_put_keepalive(unsigned char *out)
{
    put_u32be(out, 0);
    return WIRE_KEEPALIVE_SIZE;
}

/* The four messages without a payload: the length (1) counts the id byte alone. */
size_t wire_put_simple(unsigned char *out, enum wire_type type)
{
    if (type < WIRE_CHOKE || type > WIRE_NOT_INTERESTED)
        return 0;
    put_u32be(out, 1);
    out[4] = (unsigned char)type;
    return WIRE_SIMPLE_SIZE;
}

/* The four one-liners below only name the id, so that callers read like the protocol. */
size_t wire_put_choke(unsigned char *out)
{
    return wire_put_simple(out, WIRE_CHOKE);
}

size_t wire_put_unchoke(unsigned char *out)
{
    return wire_put_simple(out, WIRE_UNCHOKE);
}

size_t wire_put_interested(unsigned char *out)
{
    return wire_put_simple(out, WIRE_INTERESTED);
}

size_t wire_put_not_interested(unsigned char *out)
{
    return wire_put_simple(out, WIRE_NOT_INTERESTED);
}

/* HAVE: length 5 (the id and a 4-byte piece index). */
size_t wire_put_have(unsigned char *out, uint32_t index)
{
    put_u32be(out, 5);
    out[4] = WIRE_HAVE;
    put_u32be(out + 5, index);
    return WIRE_HAVE_SIZE;
}

/* The length prefix and id of a BITFIELD of nbytes bytes, so a sender can write the bits from
 * its own buffer. The length counts the id too, and must fit in 32 bits. */
size_t wire_put_bitfield_header(unsigned char *out, size_t nbytes)
{
    if (nbytes > UINT32_MAX - 1)
        return 0;
    put_u32be(out, (uint32_t)(1 + nbytes));
    out[4] = WIRE_BITFIELD;
    return WIRE_BITFIELD_HEADER_SIZE;
}

/* A whole BITFIELD, refused (0) when it does not fit in cap bytes. The test is written as a
 * subtraction so that a huge nbytes cannot wrap the sum around and pass. */
size_t wire_put_bitfield(unsigned char *out, size_t cap, const unsigned char *bits, size_t nbytes)
{
    if (cap < WIRE_BITFIELD_HEADER_SIZE || cap - WIRE_BITFIELD_HEADER_SIZE < nbytes)
        return 0;
    if (wire_put_bitfield_header(out, nbytes) == 0)
        return 0;
    if (nbytes > 0)
        memcpy(out + WIRE_BITFIELD_HEADER_SIZE, bits, nbytes);
    return WIRE_BITFIELD_HEADER_SIZE + nbytes;
}

/* Writes a REQUEST or CANCEL: the two share one layout and differ only in the id. */
static size_t put_block_msg(unsigned char *out, uint8_t id, uint32_t index, uint32_t begin,
                            uint32_t length)
{
    put_u32be(out, 13);
    out[4] = id;
    put_u32be(out + 5, index);
    put_u32be(out + 9, begin);
    put_u32be(out + 13, length);
    return WIRE_REQUEST_SIZE;
}

/* REQUEST and CANCEL only name their id; put_block_msg writes them. */
size_t wire_put_request(unsigned char *out, uint32_t index, uint32_t begin, uint32_t length)
{
    return put_block_msg(out, WIRE_REQUEST, index, begin, length);
}

size_t wire_put_cancel(unsigned char *out, uint32_t index, uint32_t begin, uint32_t length)
{
    return put_block_msg(out, WIRE_CANCEL, index, begin, length);
}

/* The 13-byte header of a PIECE that carries len bytes of block (the block itself is not
 * copied); 0 when the message length, 9 + len, would not fit in 32 bits. */
size_t wire_put_piece_header(unsigned char *out, uint32_t index, uint32_t begin, size_t len)
{
    /* The header alone lets a sender pass the block straight from its own buffer (writev, or two
     * writes) instead of copying it behind the header. */
    if (len > UINT32_MAX - 9)
        return 0;
    put_u32be(out, (uint32_t)(9 + len));
    out[4] = WIRE_PIECE;
    put_u32be(out + 5, index);
    put_u32be(out + 9, begin);
    return WIRE_PIECE_HEADER_SIZE;
}

/* A whole PIECE, header and block, refused (0) when it does not fit in cap bytes. */
size_t wire_put_piece(unsigned char *out, size_t cap, uint32_t index, uint32_t begin,
                      const unsigned char *block, size_t len)
{
    if (cap < WIRE_PIECE_HEADER_SIZE || cap - WIRE_PIECE_HEADER_SIZE < len)
        return 0;
    if (wire_put_piece_header(out, index, begin, len) == 0)
        return 0;
    if (len > 0)
        memcpy(out + WIRE_PIECE_HEADER_SIZE, block, len);
    return WIRE_PIECE_HEADER_SIZE + len;
}

/* PORT (BEP 5): length 3, the id and a 2-byte port. */
size_t wire_put_port(unsigned char *out, uint16_t port)
{
    put_u32be(out, 3);
    out[4] = WIRE_PORT;
    put_u16be(out + 5, port);
    return WIRE_PORT_SIZE;
}

/* ===================================================================== decoding =========== */

/* The sizes BEP 3 fixes for each id; checked as soon as the id is known, before the payload is
 * read or stored. */
int wire_check_size(uint8_t id, size_t payload_len)
{
    switch (id) {
    case WIRE_CHOKE:
    case WIRE_UNCHOKE:
    case WIRE_INTERESTED:
    case WIRE_NOT_INTERESTED:
        return payload_len == 0 ? 0 : WIRE_E_BAD_SIZE;
    case WIRE_HAVE:
        return payload_len == 4 ? 0 : WIRE_E_BAD_SIZE;
    case WIRE_REQUEST:
    case WIRE_CANCEL:
        return payload_len == 12 ? 0 : WIRE_E_BAD_SIZE;
    case WIRE_PIECE:
        return payload_len >= 8 ? 0 : WIRE_E_BAD_SIZE;
    default:
        /* BITFIELD depends on the torrent (wire_validate checks it); unknown ids and PORT are
         * skipped whatever their size. */
        return 0;
    }
}

/* Reads the fields of one message out of its payload; no copy, data points into payload. */
int wire_decode(uint8_t id, const unsigned char *payload, size_t payload_len, struct wire_msg *m)
{
    memset(m, 0, sizeof *m);
    m->id = id;
    if (wire_check_size(id, payload_len) < 0)
        return WIRE_E_BAD_SIZE;
    switch (id) {
    case WIRE_CHOKE:
    case WIRE_UNCHOKE:
    case WIRE_INTERESTED:
    case WIRE_NOT_INTERESTED:
        m->type = id;
        break;
    case WIRE_HAVE:
        m->type = WIRE_HAVE;
        m->index = get_u32be(payload);
        break;
    case WIRE_BITFIELD:
        m->type = WIRE_BITFIELD;
        m->data = payload;
        m->data_len = payload_len;
        break;
    case WIRE_REQUEST:
    case WIRE_CANCEL:
        m->type = id;
        m->index = get_u32be(payload);
        m->begin = get_u32be(payload + 4);
        m->length = get_u32be(payload + 8);
        break;
    case WIRE_PIECE:
        m->type = WIRE_PIECE;
        m->index = get_u32be(payload);
        m->begin = get_u32be(payload + 4);
        m->data = payload + 8;
        m->data_len = payload_len - 8;
        /* The framer's cap keeps payloads far below 4 GiB, so this cannot truncate. */
        m->length = (uint32_t)m->data_len;
        break;
    case WIRE_PORT:
        if (payload_len == 2) {
            m->type = WIRE_PORT;
            m->port = get_u16be(payload);
            break;
        }
        /* A PORT of another size is as meaningless to us as an unknown id: skip it. */
        m->type = WIRE_UNKNOWN;
        m->data_len = payload_len;
        break;
    default:
        m->type = WIRE_UNKNOWN;
        m->data_len = payload_len;
        break;
    }
    return 0;
}

/* Every piece has piece_length bytes but the last, which holds what is left of the torrent. */
uint32_t wire_piece_size(const struct wire_geometry *g, uint32_t index)
{
    if (index >= g->piece_count)
        return 0;
    uint64_t start = (uint64_t)index * g->piece_length;
    if (start >= g->total_length)
        return 0; /* the geometry does not add up; treat every block as out of range */
    uint64_t left = g->total_length - start;
    return left < g->piece_length ? (uint32_t)left : g->piece_length;
}

/* The checks a decoded message needs the torrent for: every number in it came from the peer and
 * is about to index our bitfields and our file. */
int wire_validate(const struct wire_msg *m, const struct wire_geometry *g)
{
    switch (m->type) {
    case WIRE_HAVE:
        return m->index < g->piece_count ? 0 : WIRE_E_BAD_INDEX;
    case WIRE_BITFIELD:
        /* The exact byte count, and the spare bits after the last piece all zero. */
        return bitfield_bytes_ok(g->piece_count, m->data, m->data_len) ? 0 : WIRE_E_BAD_BITFIELD;
    case WIRE_REQUEST:
    case WIRE_CANCEL:
    case WIRE_PIECE:
        if (m->index >= g->piece_count)
            return WIRE_E_BAD_INDEX;
        /* 64-bit arithmetic, so begin + length cannot wrap around and slip past the check. */
        if (m->length == 0 || m->length > WIRE_MAX_BLOCK_LEN ||
            (uint64_t)m->begin + m->length > wire_piece_size(g, m->index))
            return WIRE_E_BAD_BLOCK;
        return 0;
    default:
        return 0;
    }
}

/* The framer's cap for a torrent: the larger of its BITFIELD and the largest PIECE we accept. */
uint32_t wire_max_len_for(uint32_t piece_count)
{
    uint32_t bitfield_len = 1 + (uint32_t)bitfield_byte_len(piece_count);
    return bitfield_len > WIRE_DEFAULT_MAX_LEN ? bitfield_len : WIRE_DEFAULT_MAX_LEN;
}

/* ===================================================================== framer ============= */

void wire_framer_init(struct wire_framer *f, bool expect_handshake, uint32_t max_len)
{
    memset(f, 0, sizeof *f);
    f->state = expect_handshake ? WIRE_WANT_HANDSHAKE : WIRE_WANT_LENGTH;
    f->max_len = max_len ? max_len : WIRE_DEFAULT_MAX_LEN;
    f->buf = NULL;
}

void wire_framer_free(struct wire_framer *f)
{
    free(f->buf);
    f->buf = NULL;
    f->buf_cap = 0;
}

/* Moves the framer to WIRE_FAILED and returns the error, so callers can write `rc = fail(...)`. */
static int fail(struct wire_framer *f, int err)
{
    f->state = WIRE_FAILED;
    f->error = err;
    return err;
}

/* Makes the buffer hold at least n bytes. n was checked against max_len before we get here, so a
 * peer can make us allocate at most max_len bytes per connection. */
static int reserve(struct wire_framer *f, size_t n)
{
    if (n <= f->buf_cap)
        return 0;
    unsigned char *p = realloc(f->buf, n);
    if (p == NULL)
        return WIRE_E_NOMEM;
    f->buf = p;
    f->buf_cap = n;
    return 0;
}

/* Decodes a finished payload into msg and gets ready for the next length prefix. */
static int finish_message(struct wire_framer *f, const unsigned char *payload, struct wire_msg *msg)
{
    int rc = wire_decode(f->id, payload, f->payload_len, msg);
    if (rc < 0)
        return fail(f, rc);
    f->state = WIRE_WANT_LENGTH;
    f->head_have = 0;
    return WIRE_GOT_MESSAGE;
}

/* The framer's steps, one per state. Each reads from in[0..avail) (avail > 0), stores in *took
 * how many of those bytes it consumed, and returns WIRE_NEED_MORE, a WIRE_GOT_... value when a
 * frame is complete, or an error (after fail(), which moves the framer to WIRE_FAILED). */

/* WIRE_WANT_HANDSHAKE: collects the 68 handshake bytes, checking them as they come, so a
 * non-BitTorrent stream fails at its first wrong byte instead of after 68 bytes that may never
 * come. */
static int step_handshake(struct wire_framer *f, const unsigned char *in, size_t avail,
                          size_t *took, struct wire_handshake *hs)
{
    size_t n = WIRE_HANDSHAKE_LEN - f->head_have;
    if (n > avail)
        n = avail;
    memcpy(f->head + f->head_have, in, n);
    f->head_have += n;
    *took = n;
    if (wire_handshake_check_prefix(f->head, f->head_have) < 0)
        return fail(f, WIRE_E_NOT_BITTORRENT);
    if (f->head_have < WIRE_HANDSHAKE_LEN)
        return WIRE_NEED_MORE;
    wire_handshake_parse(f->head, WIRE_HANDSHAKE_LEN, hs);
    f->state = WIRE_WANT_LENGTH;
    f->head_have = 0;
    return WIRE_GOT_HANDSHAKE;
}

/* WIRE_WANT_LENGTH: collects the 4-byte big-endian length prefix, which may arrive split across
 * calls, in f->head. A length of 0 is a keep-alive, a whole message by itself; any other length
 * is checked against the cap and moves on to the id. */
static int step_length(struct wire_framer *f, const unsigned char *in, size_t avail, size_t *took,
                       struct wire_msg *msg)
{
    size_t n = 4 - f->head_have;
    if (n > avail)
        n = avail;
    memcpy(f->head + f->head_have, in, n);
    f->head_have += n;
    *took = n;
    if (f->head_have < 4)
        return WIRE_NEED_MORE;
    uint32_t msg_len = get_u32be(f->head);
    if (msg_len == 0) {
        memset(msg, 0, sizeof *msg);
        msg->type = WIRE_KEEPALIVE;
        f->head_have = 0;
        return WIRE_GOT_MESSAGE;
    }
    /* The cap is checked before anything is allocated or waited for: a length of 0xFFFFFFFF is
     * refused here, with nothing allocated. */
    if (msg_len > f->max_len)
        return fail(f, WIRE_E_TOO_LONG);
    f->payload_len = msg_len - 1;
    f->state = WIRE_WANT_ID;
    return WIRE_NEED_MORE;
}

/* WIRE_WANT_ID: takes the message id, and with it decides what to do with the payload. */
static int step_id(struct wire_framer *f, const unsigned char *in, size_t *took,
                   struct wire_msg *msg)
{
    f->id = in[0];
    *took = 1;
    /* Knowing the id, we can reject a wrong size (say a HAVE of 1 MB) before reading it. */
    if (wire_check_size(f->id, f->payload_len) < 0)
        return fail(f, WIRE_E_BAD_SIZE);
    f->payload_have = 0;
    if (f->payload_len == 0)
        return finish_message(f, NULL, msg);
    /* Ids we do not speak, and a PORT of a size we would not decode, are counted off as they
     * arrive and never stored. */
    bool kept = f->id <= WIRE_CANCEL || (f->id == WIRE_PORT && f->payload_len == 2);
    f->state = kept ? WIRE_WANT_PAYLOAD : WIRE_SKIP_PAYLOAD;
    return WIRE_NEED_MORE;
}

/* WIRE_WANT_PAYLOAD: collects the payload of a message we decode. When the whole payload is in
 * this chunk it is decoded in place, with no copy; otherwise it is gathered in the
 * per-connection buffer f->buf across calls. */
static int step_payload(struct wire_framer *f, const unsigned char *in, size_t avail, size_t *took,
                        struct wire_msg *msg)
{
    uint32_t need = f->payload_len - f->payload_have;
    if (f->payload_have == 0 && avail >= need) {
        *took = need;
        return finish_message(f, in, msg);
    }
    *took = 0;
    int err = reserve(f, f->payload_len);
    if (err < 0)
        return fail(f, err);
    size_t n = need < avail ? need : avail;
    memcpy(f->buf + f->payload_have, in, n);
    f->payload_have += (uint32_t)n;
    *took = n;
    if (f->payload_have == f->payload_len)
        return finish_message(f, f->buf, msg);
    return WIRE_NEED_MORE;
}

/* WIRE_SKIP_PAYLOAD: counts off the payload of a message we do not decode, keeping none of it. */
static int step_skip(struct wire_framer *f, size_t avail, size_t *took, struct wire_msg *msg)
{
    uint32_t need = f->payload_len - f->payload_have;
    size_t n = need < avail ? need : avail;
    f->payload_have += (uint32_t)n;
    *took = n;
    if (f->payload_have < f->payload_len)
        return WIRE_NEED_MORE;
    memset(msg, 0, sizeof *msg);
    msg->type = WIRE_UNKNOWN;
    msg->id = f->id;
    msg->data_len = f->payload_len;
    f->state = WIRE_WANT_LENGTH;
    f->head_have = 0;
    return WIRE_GOT_MESSAGE;
}

/* Runs the step of the current state until the input is used up, a frame is complete, or an
 * error happens. */
int wire_framer_feed(struct wire_framer *f, const unsigned char *in, size_t len, size_t *used,
                     struct wire_handshake *hs, struct wire_msg *msg)
{
    size_t pos = 0;
    int rc = WIRE_NEED_MORE;

    /* Each pass of the loop runs the step of the current state. It stops at the end of the input,
     * at the end of a frame (rc becomes positive) or at an error (rc becomes negative, state
     * WIRE_FAILED). */
    while (rc == WIRE_NEED_MORE && f->state != WIRE_FAILED && pos < len) {
        size_t avail = len - pos, took = 0;
        switch (f->state) {
        case WIRE_WANT_HANDSHAKE:
            rc = step_handshake(f, in + pos, avail, &took, hs);
            break;
        case WIRE_WANT_LENGTH:
            rc = step_length(f, in + pos, avail, &took, msg);
            break;
        case WIRE_WANT_ID:
            rc = step_id(f, in + pos, &took, msg);
            break;
        case WIRE_WANT_PAYLOAD:
            rc = step_payload(f, in + pos, avail, &took, msg);
            break;
        case WIRE_SKIP_PAYLOAD:
            rc = step_skip(f, avail, &took, msg);
            break;
        case WIRE_FAILED:
            break;
        }
        pos += took;
    }
    /* On an error, *used still tells how far we got, which helps a test or a log message. */
    *used = pos;
    return f->state == WIRE_FAILED ? f->error : rc;
}
