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
    /* TODO(lab6): write wire_handshake_check_prefix(). README.md says what it must do. */
    (void)in;
    (void)len;
    return -1;
}

/* Takes the handshake apart at its fixed offsets (the mirror of wire_handshake_encode). */
int wire_handshake_parse(const unsigned char *in, size_t len, struct wire_handshake *hs)
{
    /* TODO(lab6): write wire_handshake_parse(). README.md says what it must do. */
    (void)in;
    (void)len;
    (void)hs;
    return -1;
}

/* ===================================================================== encoders =========== */

/* A keep-alive is a length prefix of 0 and nothing else: no id, no payload. */
size_t wire_put_keepalive(unsigned char *out)
{
    /* TODO(lab6): write wire_put_keepalive(). README.md says what it must do. */
    (void)out;
    return 0;
}

/* The four messages without a payload: the length (1) counts the id byte alone. */
size_t wire_put_simple(unsigned char *out, enum wire_type type)
{
    /* TODO(lab6): write wire_put_simple(). README.md says what it must do. */
    (void)out;
    (void)type;
    return 0;
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
    /* TODO(lab6): write wire_put_have(). README.md says what it must do. */
    (void)out;
    (void)index;
    return 0;
}

/* The length prefix and id of a BITFIELD of nbytes bytes, so a sender can write the bits from
 * its own buffer. The length counts the id too, and must fit in 32 bits. */
size_t wire_put_bitfield_header(unsigned char *out, size_t nbytes)
{
    /* TODO(lab6): write wire_put_bitfield_header(). README.md says what it must do. */
    (void)out;
    (void)nbytes;
    return 0;
}

/* A whole BITFIELD, refused (0) when it does not fit in cap bytes. The test is written as a
 * subtraction so that a huge nbytes cannot wrap the sum around and pass. */
size_t wire_put_bitfield(unsigned char *out, size_t cap, const unsigned char *bits, size_t nbytes)
{
    /* TODO(lab6): write wire_put_bitfield(). README.md says what it must do. */
    (void)out;
    (void)cap;
    (void)bits;
    (void)nbytes;
    return 0;
}

/* Writes a REQUEST or CANCEL: the two share one layout and differ only in the id. */
static size_t put_block_msg(unsigned char *out, uint8_t id, uint32_t index, uint32_t begin,
                            uint32_t length)
{
    /* TODO(lab6): write put_block_msg(). README.md says what it must do. */
    (void)out;
    (void)id;
    (void)index;
    (void)begin;
    (void)length;
    return 0;
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
    /* TODO(lab6): write wire_put_piece_header(). README.md says what it must do. */
    (void)out;
    (void)index;
    (void)begin;
    (void)len;
    return 0;
}

/* A whole PIECE, header and block, refused (0) when it does not fit in cap bytes. */
size_t wire_put_piece(unsigned char *out, size_t cap, uint32_t index, uint32_t begin,
                      const unsigned char *block, size_t len)
{
    /* TODO(lab6): write wire_put_piece(). README.md says what it must do. */
    (void)out;
    (void)cap;
    (void)index;
    (void)begin;
    (void)block;
    (void)len;
    return 0;
}

/* PORT (BEP 5): length 3, the id and a 2-byte port. */
size_t wire_put_port(unsigned char *out, uint16_t port)
{
    /* TODO(lab6): write wire_put_port(). README.md says what it must do. */
    (void)out;
    (void)port;
    return 0;
}

/* ===================================================================== decoding =========== */

/* The sizes BEP 3 fixes for each id; checked as soon as the id is known, before the payload is
 * read or stored. */
int wire_check_size(uint8_t id, size_t payload_len)
{
    /* TODO(lab6): write wire_check_size(). README.md says what it must do. */
    (void)id;
    (void)payload_len;
    return -1;
}

/* Reads the fields of one message out of its payload; no copy, data points into payload. */
int wire_decode(uint8_t id, const unsigned char *payload, size_t payload_len, struct wire_msg *m)
{
    /* TODO(lab6): write wire_decode(). README.md says what it must do. */
    (void)id;
    (void)payload;
    (void)payload_len;
    (void)m;
    return -1;
}

/* Every piece has piece_length bytes but the last, which holds what is left of the torrent. */
uint32_t wire_piece_size(const struct wire_geometry *g, uint32_t index)
{
    /* TODO(lab6): write wire_piece_size(). README.md says what it must do. */
    (void)g;
    (void)index;
    return 0;
}

/* The checks a decoded message needs the torrent for: every number in it came from the peer and
 * is about to index our bitfields and our file. */
int wire_validate(const struct wire_msg *m, const struct wire_geometry *g)
{
    /* TODO(lab6): write wire_validate(). README.md says what it must do. */
    (void)m;
    (void)g;
    return -1;
}

/* The framer's cap for a torrent: the larger of its BITFIELD and the largest PIECE we accept. */
uint32_t wire_max_len_for(uint32_t piece_count)
{
    /* TODO(lab6): write wire_max_len_for(). README.md says what it must do. */
    (void)piece_count;
    return 0;
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
    /* TODO(lab6): write finish_message(). README.md says what it must do. */
    (void)f;
    (void)payload;
    (void)msg;
    (void)fail; /* used by the code you write here */
    return -1;
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
    /* TODO(lab6): write step_handshake(). README.md says what it must do. */
    (void)f;
    (void)in;
    (void)avail;
    (void)took;
    (void)hs;
    return -1;
}

/* WIRE_WANT_LENGTH: collects the 4-byte big-endian length prefix, which may arrive split across
 * calls, in f->head. A length of 0 is a keep-alive, a whole message by itself; any other length
 * is checked against the cap and moves on to the id. */
static int step_length(struct wire_framer *f, const unsigned char *in, size_t avail, size_t *took,
                       struct wire_msg *msg)
{
    /* TODO(lab6): write step_length(). README.md says what it must do. */
    (void)f;
    (void)in;
    (void)avail;
    (void)took;
    (void)msg;
    return -1;
}

/* WIRE_WANT_ID: takes the message id, and with it decides what to do with the payload. */
static int step_id(struct wire_framer *f, const unsigned char *in, size_t *took,
                   struct wire_msg *msg)
{
    /* TODO(lab6): write step_id(). README.md says what it must do. */
    (void)f;
    (void)in;
    (void)took;
    (void)msg;
    (void)finish_message; /* used by the code you write here */
    return -1;
}

/* WIRE_WANT_PAYLOAD: collects the payload of a message we decode. When the whole payload is in
 * this chunk it is decoded in place, with no copy; otherwise it is gathered in the
 * per-connection buffer f->buf across calls. */
static int step_payload(struct wire_framer *f, const unsigned char *in, size_t avail, size_t *took,
                        struct wire_msg *msg)
{
    /* TODO(lab6): write step_payload(). README.md says what it must do. */
    (void)f;
    (void)in;
    (void)avail;
    (void)took;
    (void)msg;
    (void)reserve; /* used by the code you write here */
    return -1;
}

/* WIRE_SKIP_PAYLOAD: counts off the payload of a message we do not decode, keeping none of it. */
static int step_skip(struct wire_framer *f, size_t avail, size_t *took, struct wire_msg *msg)
{
    /* TODO(lab6): write step_skip(). README.md says what it must do. */
    (void)f;
    (void)avail;
    (void)took;
    (void)msg;
    return -1;
}

/* Runs the step of the current state until the input is used up, a frame is complete, or an
 * error happens. */
int wire_framer_feed(struct wire_framer *f, const unsigned char *in, size_t len, size_t *used,
                     struct wire_handshake *hs, struct wire_msg *msg)
{
    /* TODO(lab6): write wire_framer_feed(). README.md says what it must do. */
    (void)f;
    (void)in;
    (void)len;
    (void)used;
    (void)hs;
    (void)msg;
    (void)step_handshake; /* used by the code you write here */
    (void)step_length; /* used by the code you write here */
    (void)step_id; /* used by the code you write here */
    (void)step_payload; /* used by the code you write here */
    (void)step_skip; /* used by the code you write here */
    return -1;
}
