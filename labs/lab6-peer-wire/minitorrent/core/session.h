/*
 * session.h - one peer connection's protocol state, sans-I/O.
 *
 * The session knows everything BEP 3 says about one connection: the four choke/interest flags,
 * which pieces the peer has, the blocks we asked it for, the blocks it asked us for, and the
 * bytes waiting to be sent. It touches no socket, file or clock:
 *
 *   - bytes the socket delivered go into session_feed(), which hands back one event at a time
 *     ("peer unchoked us", "block received", "protocol error: ...");
 *   - the shell's decisions (be interested, request a block, serve a block) are calls such as
 *     session_request(), which append the encoded message to the session's outbox;
 *   - the shell writes out whatever session_outbox() shows and reports it with session_sent();
 *   - time comes in as a number of milliseconds (session_tick), so tests run timers instantly.
 *
 * Which blocks to request and whom to unchoke are decided elsewhere (the piece picker and the
 * choker); the session only keeps the state those decisions need and refuses ones the protocol
 * forbids.
 */
#ifndef SESSION_H
#define SESSION_H

#include "bitfield.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ===================================================================== configuration ====== */

struct session_config {
    unsigned char info_hash[20]; /* the torrent this connection is for */
    unsigned char peer_id[20];   /* our own id: seeing it in the peer's handshake means "self" */
    unsigned char reserved[8];   /* our handshake's reserved bits; all zero: no extensions */
    struct wire_geometry geom;   /* piece count and sizes, for range checks */
    uint32_t max_msg_len;        /* framer cap; 0: wire_max_len_for(piece count) */
    size_t pipeline_depth;       /* requests we keep outstanding to this peer */
    size_t max_peer_requests;    /* requests of the peer we queue; more are dropped (ring) */
    size_t outbox_max;           /* bytes the outbox may hold before actions are refused */
    uint64_t keepalive_ms;       /* send a keep-alive after this long without sending */
    uint64_t idle_timeout_ms;    /* give up on a peer silent for this long */
};

/* Fills cfg with the defaults (pipeline 16, 2048 queued peer requests, 1 MiB outbox, keep-alive
 * after 90 s, idle timeout 180 s) and zeroes the rest; the caller then sets the hash, our peer
 * id and the geometry. */
void session_config_defaults(struct session_config *cfg);

/* ===================================================================== events and errors == */

/* A block: piece index, byte offset inside the piece, length. */
struct session_block {
    uint32_t index;
    uint32_t begin;
    uint32_t length;
};

enum session_event_type {
    SESSION_EV_NONE,            /* all input consumed; nothing more to report */
    SESSION_EV_HANDSHAKE,       /* the peer's handshake was accepted: peer_id, reserved */
    SESSION_EV_KEEPALIVE,       /* the peer is still there */
    SESSION_EV_CHOKED,          /* the peer choked us; blocks/nblocks: our requests it dropped */
    SESSION_EV_UNCHOKED,        /* the peer unchoked us: we may request */
    SESSION_EV_INTERESTED,      /* the peer wants something we have */
    SESSION_EV_NOT_INTERESTED,  /* ...and no longer does */
    SESSION_EV_HAVE,            /* the peer has piece block.index now */
    SESSION_EV_BITFIELD,        /* the peer's whole piece set was (re)placed */
    SESSION_EV_BLOCK,           /* a block arrived: block, data; unsolicited if not requested */
    SESSION_EV_REQUEST,         /* the peer wants block; queued for session_next_peer_request */
    SESSION_EV_REQUEST_DROPPED, /* a request of the peer we did not queue (we choke it, or full) */
    SESSION_EV_CANCEL,          /* the peer withdrew block; removed from our queue, or from
                                   the outbox if it waits there unsent (unqueued) */
    SESSION_EV_SKIPPED,         /* a message we do not speak (msg_id), ignored */
    SESSION_EV_ERROR            /* fatal: error, message; close the connection */
};

enum session_err {
    SESSION_E_PROTOCOL = -1,      /* the peer broke BEP 3 (see wire_error) */
    SESSION_E_INFO_HASH = -2,     /* its handshake names another torrent */
    SESSION_E_SELF = -3,          /* its peer id is ours: we connected to ourselves */
    SESSION_E_TIMEOUT = -4,       /* nothing heard for idle_timeout_ms */
    SESSION_E_NOMEM = -5,         /* an allocation failed */
    SESSION_E_CHOKED = -6,        /* action refused: the peer is choking us */
    SESSION_E_PIPELINE_FULL = -7, /* action refused: pipeline_depth requests outstanding */
    SESSION_E_RANGE = -8,         /* action refused: block or piece outside the torrent */
    SESSION_E_NOT_AVAILABLE = -9, /* action refused: the peer does not have that piece */
    SESSION_E_STATE = -10,        /* action refused: not allowed now (e.g. a late BITFIELD) */
    SESSION_E_OUTBOX_FULL = -11,  /* action refused: flush the outbox first */
    SESSION_E_CHOKING = -12       /* action refused: we are choking the peer */
};

/* Returns a short English description of a session_err code. */
const char *session_strerror(int err);

/* What session_feed found. Pointers stay valid until the next call on the session. */
struct session_event {
    enum session_event_type type;
    struct session_block block; /* HAVE (index), BLOCK, REQUEST(_DROPPED), CANCEL */
    const unsigned char *data;  /* BLOCK: block.length bytes */
    bool unsolicited;           /* BLOCK: not among our outstanding requests */
    bool withdrawn; /* BLOCK, unsolicited: it answers a request we cancelled, or one the peer's
                       CHOKE dropped (an honest late block); false: we never asked for it */
    bool unqueued;  /* CANCEL: the block was served already and waited in the outbox, unsent;
                       it was taken out, so its bytes will not be uploaded after all */
    const struct session_block *blocks; /* CHOKED: the requests to give back to the picker */
    size_t nblocks;
    const unsigned char *peer_id;  /* HANDSHAKE: 20 bytes */
    const unsigned char *reserved; /* HANDSHAKE: 8 bytes */
    uint8_t msg_id;                /* SKIPPED */
    int error;                     /* ERROR: a session_err */
    int wire_error;                /* ERROR with SESSION_E_PROTOCOL: the wire_err */
    const char *message;           /* ERROR: a sentence for the log */
};

/* ===================================================================== the session ======== */

enum session_state {
    SESSION_HANDSHAKING, /* ours is queued; waiting for theirs */
    SESSION_OPEN,        /* handshakes exchanged: messages flow */
    SESSION_FAILED       /* a fatal error happened; close the connection */
};

struct session {
    struct session_config cfg;
    enum session_state state;
    struct wire_framer framer;

    /* BEP 3's four flags; a connection starts choked and not interested on both sides. */
    bool am_choking, am_interested, peer_choking, peer_interested;

    unsigned char peer_id[20];      /* from its handshake */
    unsigned char peer_reserved[8]; /* its extension bits, which we ignore */
    struct bitfield peer_has;       /* from BITFIELD and HAVE */
    uint64_t msgs_received;         /* messages after the handshake, to spot a late BITFIELD */
    uint64_t msgs_sent;             /* the same for ours: BITFIELD may only go first */

    struct session_block *ours; /* our outstanding requests, at most cfg.pipeline_depth */
    size_t n_ours;
    struct session_block *dropped;   /* the list a CHOKED event points to */
    struct session_block *withdrawn; /* requests we withdrew lately: a ring of 2 * pipeline_depth
                                        (see session.c) */
    size_t n_withdrawn, withdrawn_next;
    struct session_block *theirs; /* the peer's queued requests: a ring of max_peer_requests,
                                     the oldest at theirs_head, n_theirs in all */
    size_t theirs_head, n_theirs;

    unsigned char *out; /* the outbox: bytes [out_start, out_end) wait to be sent */
    size_t out_start, out_end, out_cap;
    size_t out_msg; /* where the first message not yet begun starts: [out_msg, out_end) holds
                       whole messages, none of whose bytes went out (see session_sent) */

    uint64_t last_recv_ms, last_send_ms;
    uint64_t payload_down, payload_up; /* block bytes received and queued, for the choker */

    int error;
    char errmsg[160];
};

/* Sets up a session and queues our handshake. now_ms starts the idle and keep-alive clocks.
 * Returns 0, or SESSION_E_NOMEM (then nothing needs freeing). */
int session_init(struct session *s, const struct session_config *cfg, uint64_t now_ms);

/* Frees everything the session holds. */
void session_free(struct session *s);

/* Feeds received bytes and returns the next event (also stored in *ev), with *used set to the
 * bytes consumed. Call again with the rest until it returns SESSION_EV_NONE (all consumed) or
 * SESSION_EV_ERROR (close the connection; later calls return the same error). */
int session_feed(struct session *s, const unsigned char *in, size_t len, uint64_t now_ms,
                 size_t *used, struct session_event *ev);

/* Runs the timers: queues a keep-alive when we have sent nothing for keepalive_ms, and fails the
 * session when the peer has been silent for idle_timeout_ms. Returns 0 or a session_err. */
int session_tick(struct session *s, uint64_t now_ms);

/* ===================================================================== actions ============ */
/* Each returns 0 once the message is in the outbox, or a negative session_err (state unchanged). */

/* Tells the peer whether we are interested; sends only when the flag changes. */
int session_set_interested(struct session *s, bool interested);

/* Chokes or unchokes the peer; sends only when the flag changes. Choking discards the peer's
 * queued requests, as BEP 3 says. */
int session_set_choking(struct session *s, bool choking);

/* Announces a piece we now have. */
int session_send_have(struct session *s, uint32_t index);

/* Sends our piece set; allowed only as our first message after the handshake. A client with no
 * piece may skip it. */
int session_send_bitfield(struct session *s, const struct bitfield *ours);

/* Requests a block: the peer must have unchoked us and have the piece, the block must lie in
 * the piece, and fewer than pipeline_depth requests may be outstanding. */
int session_request(struct session *s, uint32_t index, uint32_t begin, uint32_t length);

/* Cancels an outstanding request (end game); a block not outstanding is refused with
 * SESSION_E_STATE. */
int session_cancel(struct session *s, uint32_t index, uint32_t begin, uint32_t length);

/* How many more requests may go out now: 0 while choked. */
size_t session_pipeline_room(const struct session *s);

/* Takes the oldest queued request of the peer; returns false when there is none. */
bool session_next_peer_request(struct session *s, struct session_block *out);

/* Sends a block the peer requested (data read from disk by the shell); refused while we choke. */
int session_send_block(struct session *s, uint32_t index, uint32_t begin, const unsigned char *data,
                       size_t len);

/* The same without a copy: queues the PIECE message's header and returns where its len bytes of
 * block go in the outbox, for the shell to read them from disk straight there; NULL with *err
 * set when session_send_block would refuse. The bytes must be filled in, or the message taken
 * back with session_unsend_block, before any other call on the session. */
unsigned char *session_block_space(struct session *s, uint32_t index, uint32_t begin, size_t len,
                                   int *err);

/* Takes back the PIECE message of len bytes that session_block_space just queued (the shell
 * could not read the block), leaving the outbox as it was before. */
void session_unsend_block(struct session *s, size_t len);

/* ===================================================================== outbox ============= */

/* Returns the bytes waiting to be sent and their count in *len (NULL when none). */
const unsigned char *session_outbox(const struct session *s, size_t *len);

/* Records that the first n outbox bytes were written to the socket at now_ms. */
void session_sent(struct session *s, size_t n, uint64_t now_ms);

#endif
