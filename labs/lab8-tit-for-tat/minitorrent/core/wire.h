/*
 * wire.h - the BitTorrent peer wire protocol (BEP 3): handshake, message encoders, an incremental
 * framer and the message decoder. Sans-I/O: bytes in, messages out; no sockets, no clocks.
 *
 * After the 68-byte handshake, every message is
 *
 *     <length: 4 bytes, big-endian> <id: 1 byte> <payload: length - 1 bytes>
 *
 * and a length of 0 (no id, no payload) is a keep-alive. TCP delivers these bytes in chunks of any
 * size, so the framer is a state machine fed whatever arrived, which says "need more bytes" until
 * a whole message is in (the shape of Transmission's readBtLength -> readBtId -> message).
 */
#ifndef WIRE_H
#define WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ===================================================================== constants ========== */

#define WIRE_PSTR "BitTorrent protocol"
#define WIRE_PSTRLEN 19
#define WIRE_HANDSHAKE_LEN 68 /* 1 + 19 + 8 reserved + 20 info hash + 20 peer id */

#define WIRE_BLOCK_LEN 16384u             /* the block size every client requests */
#define WIRE_MAX_BLOCK_LEN (128u * 1024u) /* the largest request we serve (libtorrent's limit) */
#define WIRE_DEFAULT_MAX_LEN (9u + WIRE_MAX_BLOCK_LEN) /* id + index + begin + largest block */

/* Encoded sizes of the fixed-size messages, length prefix included. */
#define WIRE_KEEPALIVE_SIZE 4
#define WIRE_SIMPLE_SIZE 5 /* choke, unchoke, interested, not interested */
#define WIRE_HAVE_SIZE 9
#define WIRE_REQUEST_SIZE 17 /* request and cancel */
#define WIRE_PIECE_HEADER_SIZE 13
#define WIRE_BITFIELD_HEADER_SIZE 5
#define WIRE_PORT_SIZE 7

/* Message types: the wire id for the ones BEP 3 defines, plus two that have no id of their own. */
enum wire_type {
    WIRE_UNKNOWN = -2,   /* an id we do not speak (e.g. 20, the extension protocol): skipped */
    WIRE_KEEPALIVE = -1, /* length 0 */
    WIRE_CHOKE = 0,
    WIRE_UNCHOKE = 1,
    WIRE_INTERESTED = 2,
    WIRE_NOT_INTERESTED = 3,
    WIRE_HAVE = 4,
    WIRE_BITFIELD = 5,
    WIRE_REQUEST = 6,
    WIRE_PIECE = 7,
    WIRE_CANCEL = 8,
    WIRE_PORT = 9 /* BEP 5, DHT port; decoded, but minitorrent has no DHT */
};

/* Errors are negative so they never look like a byte count. */
enum wire_err {
    WIRE_E_NOT_BITTORRENT = -1, /* the first bytes are not a plain BitTorrent handshake */
    WIRE_E_TOO_LONG = -2,       /* a length prefix above the framer's cap */
    WIRE_E_BAD_SIZE = -3,       /* a payload size that does not fit its message id */
    WIRE_E_BAD_INDEX = -4,      /* a piece index >= the piece count */
    WIRE_E_BAD_BLOCK = -5,      /* begin/length outside the piece, zero, or above 128 KiB */
    WIRE_E_BAD_BITFIELD = -6,   /* wrong byte count, or spare bits set */
    WIRE_E_NOMEM = -7           /* the per-connection buffer could not grow */
};

/* Returns a short English description of a wire_err code. */
const char *wire_strerror(int err);

/* ===================================================================== handshake ========== */

struct wire_handshake {
    unsigned char reserved[8]; /* extension bits (BEP 10 sets 0x10 in byte 5); we ignore them */
    unsigned char info_hash[20];
    unsigned char peer_id[20];
};

/* Writes the 68-byte handshake into out. */
void wire_handshake_encode(unsigned char *out, const struct wire_handshake *hs);

/* Says whether the first len bytes received could still begin a plain handshake: returns 0 while
 * they could, WIRE_E_NOT_BITTORRENT as soon as one byte cannot (byte 0 is not 19, or the protocol
 * string differs). */
int wire_handshake_check_prefix(const unsigned char *in, size_t len);

/* Parses a handshake from the start of in: returns WIRE_HANDSHAKE_LEN and fills hs, 0 when fewer
 * than 68 bytes are there yet (and the prefix is fine), or WIRE_E_NOT_BITTORRENT. */
int wire_handshake_parse(const unsigned char *in, size_t len, struct wire_handshake *hs);

/* ===================================================================== encoders =========== */
/* Each writes one whole message into out, which must hold the size named, and returns the number
 * of bytes written (0 when a length does not fit). All numbers go through bytes.h. */

size_t wire_put_keepalive(unsigned char *out);                      /* 4 bytes */
size_t wire_put_simple(unsigned char *out, enum wire_type type);    /* 5 bytes, ids 0-3 */
size_t wire_put_choke(unsigned char *out);                          /* 5 bytes */
size_t wire_put_unchoke(unsigned char *out);                        /* 5 bytes */
size_t wire_put_interested(unsigned char *out);                     /* 5 bytes */
size_t wire_put_not_interested(unsigned char *out);                 /* 5 bytes */
size_t wire_put_have(unsigned char *out, uint32_t index);           /* 9 bytes */
size_t wire_put_bitfield_header(unsigned char *out, size_t nbytes); /* 5 bytes */
size_t wire_put_bitfield(unsigned char *out, size_t cap, const unsigned char *bits, size_t nbytes);
size_t wire_put_request(unsigned char *out, uint32_t index, uint32_t begin, uint32_t length); /*17*/
size_t wire_put_cancel(unsigned char *out, uint32_t index, uint32_t begin, uint32_t length);  /*17*/
size_t wire_put_piece_header(unsigned char *out, uint32_t index, uint32_t begin, size_t len); /*13*/
size_t wire_put_piece(unsigned char *out, size_t cap, uint32_t index, uint32_t begin,
                      const unsigned char *block, size_t len); /* 13 + len */
size_t wire_put_port(unsigned char *out, uint16_t port);       /* 7 bytes */

/* ===================================================================== decoding =========== */

/* One decoded message. The pointer `data` points either into the bytes the caller fed or into
 * the framer's buffer, and stays valid only until the next call that feeds the framer. */
struct wire_msg {
    int type;                  /* enum wire_type */
    uint8_t id;                /* the raw id byte (0 for a keep-alive) */
    uint32_t index;            /* HAVE, REQUEST, PIECE, CANCEL */
    uint32_t begin;            /* REQUEST, PIECE, CANCEL: byte offset inside the piece */
    uint32_t length;           /* REQUEST, CANCEL: block length; PIECE: data_len */
    uint16_t port;             /* PORT */
    const unsigned char *data; /* BITFIELD bits or PIECE block; NULL for the others */
    size_t data_len;           /* bytes at data; for WIRE_UNKNOWN, the skipped payload size */
};

/* Checks that a payload of payload_len bytes (after the id) fits message id: 0 for ids 0-3, 4 for
 * HAVE, 12 for REQUEST and CANCEL, at least 8 for PIECE. Any size is fine for BITFIELD here (its
 * size depends on the torrent) and for ids we do not know. Returns 0 or WIRE_E_BAD_SIZE. */
int wire_check_size(uint8_t id, size_t payload_len);

/* Decodes the payload of message id into m. Unknown ids, and a PORT of the wrong size, become
 * WIRE_UNKNOWN and are not an error. Returns 0 or WIRE_E_BAD_SIZE. */
int wire_decode(uint8_t id, const unsigned char *payload, size_t payload_len, struct wire_msg *m);

/* What the checks that need the torrent know about it; filled by the caller from the metainfo. */
struct wire_geometry {
    uint32_t piece_count;
    uint32_t piece_length; /* every piece but the last */
    uint64_t total_length; /* the last piece holds what is left */
};

/* Returns the real size of piece index (the last one is usually shorter), or 0 when out of
 * range or when the geometry is inconsistent. */
uint32_t wire_piece_size(const struct wire_geometry *g, uint32_t index);

/* Checks a decoded message against the torrent: piece index < piece count; for REQUEST, CANCEL
 * and PIECE, 0 < length <= 128 KiB and begin + length within the piece's real size; for BITFIELD,
 * the exact byte count with spare bits zero. Returns 0 or a wire_err. */
int wire_validate(const struct wire_msg *m, const struct wire_geometry *g);

/* Returns a message-length cap that admits a BITFIELD for piece_count pieces and PIECE messages
 * of up to WIRE_MAX_BLOCK_LEN, and nothing larger. */
uint32_t wire_max_len_for(uint32_t piece_count);

/* ===================================================================== framer ============= */

enum wire_framer_state {
    WIRE_WANT_HANDSHAKE, /* collecting the 68 handshake bytes, checking each as it comes */
    WIRE_WANT_LENGTH,    /* collecting the 4-byte length prefix */
    WIRE_WANT_ID,        /* length known (and checked); waiting for the id byte */
    WIRE_WANT_PAYLOAD,   /* collecting a known message's payload */
    WIRE_SKIP_PAYLOAD,   /* discarding the payload of an id we do not speak, without storing it */
    WIRE_FAILED          /* a fatal error happened; every later call returns it again */
};

/* What wire_framer_feed found. */
enum wire_frame_result {
    WIRE_NEED_MORE = 0,     /* all input consumed, no whole frame yet */
    WIRE_GOT_HANDSHAKE = 1, /* *hs is filled */
    WIRE_GOT_MESSAGE = 2    /* *msg is filled */
};

/* Per-connection framing state; never shared between connections. */
struct wire_framer {
    enum wire_framer_state state;
    uint32_t max_len;                       /* the cap on a message's length prefix */
    unsigned char head[WIRE_HANDSHAKE_LEN]; /* handshake bytes or length prefix, as they arrive */
    size_t head_have;
    uint8_t id;
    uint32_t payload_len;  /* payload bytes of the current message (length - 1) */
    uint32_t payload_have; /* how many of them were copied into buf (or skipped) so far */
    unsigned char *buf;    /* payloads split across feeds are collected here */
    size_t buf_cap;
    int error; /* the wire_err that moved the framer to WIRE_FAILED */
};

/* Starts a framer that first expects the peer's handshake (or, with expect_handshake false,
 * plain messages). max_len caps the length prefix; 0 means WIRE_DEFAULT_MAX_LEN. Allocates
 * nothing: the buffer grows on the first message that needs it, never beyond max_len. */
void wire_framer_init(struct wire_framer *f, bool expect_handshake, uint32_t max_len);

/* Frees the framer's buffer. */
void wire_framer_free(struct wire_framer *f);

/* Feeds len bytes. Consumes input up to the end of the next whole frame and stores how many bytes
 * it used in *used; call again with the rest (in + *used) until it returns WIRE_NEED_MORE, which
 * means all input was consumed. Returns a wire_frame_result, or a negative wire_err after which
 * the connection must be closed. A message's data pointer stays valid until the next call. */
int wire_framer_feed(struct wire_framer *f, const unsigned char *in, size_t len, size_t *used,
                     struct wire_handshake *hs, struct wire_msg *msg);

#endif
