/*
 * session.c - the per-peer state machine: handshake checks, the four flags, the peer's pieces,
 * both request queues, the outbox and the timers.
 */
#include "session.h"
#include "bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *session_strerror(int err)
{
    switch (err) {
    case SESSION_E_PROTOCOL:
        return "protocol error";
    case SESSION_E_INFO_HASH:
        return "info hash mismatch";
    case SESSION_E_SELF:
        return "connected to self";
    case SESSION_E_TIMEOUT:
        return "peer idle too long";
    case SESSION_E_NOMEM:
        return "out of memory";
    case SESSION_E_CHOKED:
        return "peer is choking us";
    case SESSION_E_PIPELINE_FULL:
        return "request pipeline full";
    case SESSION_E_RANGE:
        return "block outside the torrent";
    case SESSION_E_NOT_AVAILABLE:
        return "peer does not have that piece";
    case SESSION_E_STATE:
        return "not allowed in this state";
    case SESSION_E_OUTBOX_FULL:
        return "outbox full";
    case SESSION_E_CHOKING:
        return "we are choking the peer";
    default:
        return "unknown session error";
    }
}

void session_config_defaults(struct session_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* 16 blocks of 16 KiB keep 256 KiB in flight: enough to fill a fast loopback link without
     * the end game turning wasteful. Real clients adapt the depth to the measured rate. */
    cfg->pipeline_depth = 16;
    /* Without the Fast extension (BEP 6) a dropped request is never answered, and the peer
     * waits for its own request time out (a minute in libtorrent) before it asks again. Real
     * clients pipeline deeply on a fast link: libtorrent keeps up to 500 requests outstanding
     * (max_out_request_queue) to a peer that did not tell it a limit with BEP 10's "reqq", so
     * a smaller queue here stalls a download from us. 2048 entries of 12 bytes stay small, and
     * the queue is a ring, so serving one costs the same however long the queue is. */
    cfg->max_peer_requests = 2048;
    cfg->outbox_max = 1u << 20;
    /* BEP 3 peers drop a connection after about two minutes of silence; a keep-alive at 90 s
     * stays well inside that, and we wait a little longer than two minutes ourselves. */
    cfg->keepalive_ms = 90000;
    cfg->idle_timeout_ms = 180000;
}

/* ===================================================================== helpers ============ */

/* Returns now - then, or 0 if the caller's clock went backwards. */
static uint64_t elapsed(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* Returns the name of a message type, for error messages. */
static const char *msg_name(int type)
{
    static const char *const names[] = {"choke",  "unchoke",  "interested", "not interested",
                                        "have",   "bitfield", "request",    "piece",
                                        "cancel", "port"};
    if (type >= 0 && type <= WIRE_PORT)
        return names[type];
    return type == WIRE_KEEPALIVE ? "keep-alive" : "unknown";
}

/* Marks the session failed with a formatted reason and fills ev with the ERROR event. */
static int fail(struct session *s, struct session_event *ev, int err, int wire_err, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    s->state = SESSION_FAILED;
    s->error = err;
    ev->type = SESSION_EV_ERROR;
    ev->error = err;
    ev->wire_error = wire_err;
    ev->message = s->errmsg;
    return SESSION_EV_ERROR;
}

/* Returns the index of block b in list[0..n), or n when it is not there. */
static size_t find_block(const struct session_block *list, size_t n, uint32_t index, uint32_t begin,
                         uint32_t length)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].index == index && list[i].begin == begin && list[i].length == length)
            return i;
    return n;
}

/* Removes entry i from list[0..*n), keeping the order. Used for our own requests, at most
 * pipeline_depth of them (64 in minitorrent), where the order tells which is oldest. */
static void remove_at(struct session_block *list, size_t *n, size_t i)
{
    memmove(list + i, list + i + 1, (*n - i - 1) * sizeof *list);
    (*n)--;
}

/* ---- the peer's requests: a ring ------------------------------------------------------------
 * The peer's requests wait in a ring of max_peer_requests entries: theirs[theirs_head] is the
 * oldest, and the n_theirs entries follow it, wrapping at the end of the array. Taking the oldest
 * (once per block served) and adding one are O(1); only a CANCEL, rare outside the end game, looks
 * through the ring and closes the gap it leaves. */

/* Returns the position in the array of the i-th oldest queued request of the peer. */
static size_t theirs_at(const struct session *s, size_t i)
{
    return (s->theirs_head + i) % s->cfg.max_peer_requests;
}

/* Appends a request of the peer at the newest end; the caller checked there is room. */
static void theirs_push(struct session *s, struct session_block b)
{
    s->theirs[theirs_at(s, s->n_theirs)] = b;
    s->n_theirs++;
}

/* Removes the peer's request for b, if queued, keeping the order of the others. Returns true
 * when it was there. */
static bool theirs_remove(struct session *s, const struct session_block *b)
{
    size_t i = 0;
    while (i < s->n_theirs) {
        const struct session_block *q = &s->theirs[theirs_at(s, i)];
        if (q->index == b->index && q->begin == b->begin && q->length == b->length)
            break;
        i++;
    }
    if (i == s->n_theirs)
        return false;
    for (; i + 1 < s->n_theirs; i++)
        s->theirs[theirs_at(s, i)] = s->theirs[theirs_at(s, i + 1)];
    s->n_theirs--;
    return true;
}

/* ---- requests we withdrew ------------------------------------------------------------------
 * A block we asked for may still arrive after we cancelled the request, or after the peer choked
 * us (it was on the wire already). Such a block is honest, unlike one never asked for, so the
 * last few withdrawn requests are remembered, in a ring of 2 * pipeline_depth entries where the
 * newest overwrites the oldest: a choke withdraws at most pipeline_depth at once. */

/* Remembers that we withdrew our request for b. */
static void withdrawn_add(struct session *s, const struct session_block *b)
{
    size_t cap = 2 * s->cfg.pipeline_depth;
    s->withdrawn[s->withdrawn_next] = *b;
    s->withdrawn_next = (s->withdrawn_next + 1) % cap;
    if (s->n_withdrawn < cap)
        s->n_withdrawn++;
}

/* Returns true when b answers a request we withdrew, and forgets that request: a second copy of
 * the same block is no longer an answer to anything. */
static bool withdrawn_take(struct session *s, uint32_t index, uint32_t begin, uint32_t length)
{
    for (size_t i = 0; i < s->n_withdrawn; i++) {
        struct session_block *w = &s->withdrawn[i];
        if (w->index == index && w->begin == begin && w->length == length) {
            w->length = 0; /* no block has length 0, so this entry matches nothing now */
            return true;
        }
    }
    return false;
}

/* Says whether [begin, begin + length) is a valid block of piece index in this torrent. */
static bool block_in_range(const struct session *s, uint32_t index, uint32_t begin, uint32_t length)
{
    struct wire_msg m = {0};
    m.type = WIRE_REQUEST;
    m.index = index;
    m.begin = begin;
    m.length = length;
    return wire_validate(&m, &s->cfg.geom) == 0;
}

/* ===================================================================== outbox ============= */

/* Makes room for n more bytes at the end of the outbox and returns where to write them, or NULL
 * when the outbox would pass outbox_max (the shell must flush first) or memory ran out. */
static unsigned char *outbox_grow(struct session *s, size_t n, int *err)
{
    size_t pending = s->out_end - s->out_start;
    if (n > s->cfg.outbox_max || pending > s->cfg.outbox_max - n) {
        *err = SESSION_E_OUTBOX_FULL;
        return NULL;
    }
    if (s->out_end + n > s->out_cap && s->out_start > 0) {
        /* Slide the unsent bytes to the front before growing. */
        memmove(s->out, s->out + s->out_start, pending);
        s->out_msg -= s->out_start;
        s->out_start = 0;
        s->out_end = pending;
    }
    if (s->out_end + n > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap * 2 : 1024;
        if (cap < s->out_end + n)
            cap = s->out_end + n;
        if (cap > s->cfg.outbox_max)
            cap = s->cfg.outbox_max;
        unsigned char *p = realloc(s->out, cap);
        if (p == NULL) {
            *err = SESSION_E_NOMEM;
            return NULL;
        }
        s->out = p;
        s->out_cap = cap;
    }
    unsigned char *dst = s->out + s->out_end;
    s->out_end += n;
    return dst;
}

/* Appends an encoded message (at most 17 bytes, built in a local buffer) to the outbox. */
static int outbox_put(struct session *s, const unsigned char *msg, size_t n)
{
    int err = 0;
    unsigned char *dst = outbox_grow(s, n, &err);
    if (dst == NULL)
        return err;
    memcpy(dst, msg, n);
    return 0;
}

const unsigned char *session_outbox(const struct session *s, size_t *len)
{
    *len = s->out_end - s->out_start;
    return *len ? s->out + s->out_start : NULL;
}

/* Empties the outbox, keeping its memory. */
static void outbox_reset(struct session *s)
{
    s->out_start = s->out_end = s->out_msg = 0;
}

void session_sent(struct session *s, size_t n, uint64_t now_ms)
{
    size_t pending = s->out_end - s->out_start;
    if (n > pending)
        n = pending;
    s->out_start += n;
    /* Move out_msg past every message the socket has begun: a message partly sent must go out
     * whole, so only those after it may still be taken back (session_feed, on a CANCEL). Every
     * message after the handshake starts with its 4-byte length. */
    while (s->out_msg < s->out_start)
        s->out_msg += 4 + get_u32be(s->out + s->out_msg);
    if (s->out_start == s->out_end)
        outbox_reset(s);
    if (n > 0)
        s->last_send_ms = now_ms;
}

/* Takes the PIECE message for block b out of the outbox, if it is there and none of it has been
 * sent: the peer cancelled its request, so sending the block would waste our upload on a block
 * it no longer wants (typically the end game, where it got the block from someone else first).
 * Returns true if it was taken out. The search is linear, but the outbox holds a few dozen
 * messages at most and a CANCEL is rare outside the end game. */
static bool outbox_take_block(struct session *s, const struct session_block *b)
{
    size_t at = s->out_msg;
    while (at < s->out_end) {
        const unsigned char *m = s->out + at;
        size_t n = 4 + (size_t)get_u32be(m);
        /* A keep-alive is only its length prefix, so the id is read only from a PIECE's size. */
        bool piece =
            n == (size_t)WIRE_PIECE_HEADER_SIZE + b->length && m[4] == (unsigned)WIRE_PIECE;
        if (piece && get_u32be(m + 5) == b->index && get_u32be(m + 9) == b->begin) {
            memmove(s->out + at, s->out + at + n, s->out_end - at - n);
            s->out_end -= n;
            if (s->out_start == s->out_end)
                outbox_reset(s);
            s->msgs_sent--;
            s->payload_up -= b->length;
            return true;
        }
        at += n;
    }
    return false;
}

/* ===================================================================== life cycle ========= */

int session_init(struct session *s, const struct session_config *cfg, uint64_t now_ms)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    /* Zeroes in the configuration mean "the default", so a half-filled config still works. */
    struct session_config def;
    session_config_defaults(&def);
    if (s->cfg.pipeline_depth == 0)
        s->cfg.pipeline_depth = def.pipeline_depth;
    if (s->cfg.max_peer_requests == 0)
        s->cfg.max_peer_requests = def.max_peer_requests;
    if (s->cfg.outbox_max < WIRE_HANDSHAKE_LEN)
        s->cfg.outbox_max = def.outbox_max;
    if (s->cfg.keepalive_ms == 0)
        s->cfg.keepalive_ms = def.keepalive_ms;
    if (s->cfg.idle_timeout_ms == 0)
        s->cfg.idle_timeout_ms = def.idle_timeout_ms;
    if (s->cfg.max_msg_len == 0)
        s->cfg.max_msg_len = wire_max_len_for(cfg->geom.piece_count);

    s->state = SESSION_HANDSHAKING;
    s->am_choking = s->peer_choking = true;
    s->am_interested = s->peer_interested = false;
    s->last_recv_ms = s->last_send_ms = now_ms;
    wire_framer_init(&s->framer, true, s->cfg.max_msg_len);

    s->ours = calloc(s->cfg.pipeline_depth, sizeof *s->ours);
    s->dropped = calloc(s->cfg.pipeline_depth, sizeof *s->dropped);
    s->withdrawn = calloc(2 * s->cfg.pipeline_depth, sizeof *s->withdrawn);
    s->theirs = calloc(s->cfg.max_peer_requests, sizeof *s->theirs);
    if (s->ours == NULL || s->dropped == NULL || s->withdrawn == NULL || s->theirs == NULL)
        goto fail;
    if (bitfield_init(&s->peer_has, cfg->geom.piece_count) < 0)
        goto fail;

    /* Both sides send their handshake at once. A client serving many torrents would read the
     * peer's info hash first to know which torrent to answer for; we serve one. */
    struct wire_handshake hs;
    memcpy(hs.reserved, cfg->reserved, 8);
    memcpy(hs.info_hash, cfg->info_hash, 20);
    memcpy(hs.peer_id, cfg->peer_id, 20);
    int err = 0;
    unsigned char *dst = outbox_grow(s, WIRE_HANDSHAKE_LEN, &err);
    if (dst == NULL)
        goto fail;
    wire_handshake_encode(dst, &hs);
    /* The handshake has no length prefix, so the message boundaries start after it. */
    s->out_msg = WIRE_HANDSHAKE_LEN;
    return 0;

fail:
    session_free(s);
    return SESSION_E_NOMEM;
}

void session_free(struct session *s)
{
    wire_framer_free(&s->framer);
    bitfield_free(&s->peer_has);
    free(s->ours);
    free(s->dropped);
    free(s->withdrawn);
    free(s->theirs);
    free(s->out);
    s->ours = s->dropped = s->withdrawn = s->theirs = NULL;
    s->out = NULL;
    s->n_ours = s->n_theirs = s->theirs_head = 0;
    s->n_withdrawn = s->withdrawn_next = 0;
    s->out_start = s->out_end = s->out_cap = 0;
}

/* ===================================================================== receiving ========== */

/* Checks the peer's handshake: the right torrent, and not ourselves. */
static int on_handshake(struct session *s, const struct wire_handshake *hs,
                        struct session_event *ev)
{
    if (memcmp(hs->info_hash, s->cfg.info_hash, 20) != 0)
        return fail(s, ev, SESSION_E_INFO_HASH, 0,
                    "info hash mismatch: peer wants another torrent");
    /* A tracker's peer list may include ourselves; real clients connect, see their own id and
     * hang up. */
    if (memcmp(hs->peer_id, s->cfg.peer_id, 20) == 0)
        return fail(s, ev, SESSION_E_SELF, 0, "connected to self");
    /* Copy what the event shows into the session: hs lives on session_feed's stack. */
    memcpy(s->peer_id, hs->peer_id, 20);
    memcpy(s->peer_reserved, hs->reserved, 8);
    s->state = SESSION_OPEN;
    ev->type = SESSION_EV_HANDSHAKE;
    ev->peer_id = s->peer_id;
    ev->reserved = s->peer_reserved;
    return SESSION_EV_HANDSHAKE;
}

/* The peer choked us: without the fast extension (BEP 6) it drops every request we made, so hand
 * them back to the shell for the picker to give to another peer. */
static int on_choke(struct session *s, struct session_event *ev)
{
    s->peer_choking = true;
    memcpy(s->dropped, s->ours, s->n_ours * sizeof *s->ours);
    for (size_t i = 0; i < s->n_ours; i++)
        withdrawn_add(s, &s->ours[i]);
    ev->blocks = s->dropped;
    ev->nblocks = s->n_ours;
    s->n_ours = 0;
    ev->type = SESSION_EV_CHOKED;
    return SESSION_EV_CHOKED;
}

/* A block arrived. One we did not ask for is flagged unsolicited, and one that answers a request
 * we withdrew (cancelled, or dropped by the peer's choke) also withdrawn: that one an honest peer
 * may send, a block never asked for it does not. The shell decides what to keep. */
static int on_piece(struct session *s, const struct wire_msg *m, struct session_event *ev)
{
    size_t i = find_block(s->ours, s->n_ours, m->index, m->begin, m->length);
    ev->unsolicited = i == s->n_ours;
    ev->withdrawn = ev->unsolicited && withdrawn_take(s, m->index, m->begin, m->length);
    if (!ev->unsolicited)
        remove_at(s->ours, &s->n_ours, i);
    s->payload_down += m->length;
    ev->data = m->data;
    ev->type = SESSION_EV_BLOCK;
    return SESSION_EV_BLOCK;
}

/* The peer asked for a block: queue it, or drop it when we choke the peer or the queue is full.
 * Dropping costs nothing: the peer re-asks after we unchoke it, or times the request out. */
static int on_request(struct session *s, struct session_event *ev)
{
    if (s->am_choking || s->n_theirs == s->cfg.max_peer_requests) {
        ev->type = SESSION_EV_REQUEST_DROPPED;
        return SESSION_EV_REQUEST_DROPPED;
    }
    theirs_push(s, ev->block);
    ev->type = SESSION_EV_REQUEST;
    return SESSION_EV_REQUEST;
}

/* Applies one checked message to the session and describes it in ev. */
static int on_message(struct session *s, const struct wire_msg *m, struct session_event *ev)
{
    int vr = wire_validate(m, &s->cfg.geom);
    if (vr < 0)
        return fail(s, ev, SESSION_E_PROTOCOL, vr,
                    "protocol error: %s: %s (index %u begin %u length %u)", msg_name(m->type),
                    wire_strerror(vr), m->index, m->begin, m->length);
    if (m->type != WIRE_KEEPALIVE)
        s->msgs_received++;
    ev->block.index = m->index;
    ev->block.begin = m->begin;
    ev->block.length = m->length;

    switch (m->type) {
    case WIRE_KEEPALIVE:
        ev->type = SESSION_EV_KEEPALIVE;
        break;
    case WIRE_CHOKE:
        return on_choke(s, ev);
    case WIRE_UNCHOKE:
        s->peer_choking = false;
        ev->type = SESSION_EV_UNCHOKED;
        break;
    case WIRE_INTERESTED:
        s->peer_interested = true;
        ev->type = SESSION_EV_INTERESTED;
        break;
    case WIRE_NOT_INTERESTED:
        s->peer_interested = false;
        ev->type = SESSION_EV_NOT_INTERESTED;
        break;
    case WIRE_HAVE:
        bitfield_set(&s->peer_has, m->index); /* in range: wire_validate checked it */
        ev->type = SESSION_EV_HAVE;
        break;
    case WIRE_BITFIELD:
        /* BEP 3 allows BITFIELD only as the first message. aria2 sends it later too, in the
         * middle of a connection, so a later one is accepted and replaces the whole set rather
         * than closing the connection. Its size and spare bits were checked above. */
        bitfield_import(&s->peer_has, m->data, m->data_len);
        ev->type = SESSION_EV_BITFIELD;
        break;
    case WIRE_REQUEST:
        return on_request(s, ev);
    case WIRE_PIECE:
        return on_piece(s, m, ev);
    case WIRE_CANCEL:
        /* Not served yet: forget the request. Served, but still in the outbox: take it out. */
        if (!theirs_remove(s, &ev->block))
            ev->unqueued = outbox_take_block(s, &ev->block);
        ev->type = SESSION_EV_CANCEL;
        break;
    default:
        /* PORT (we run no DHT), the extension protocol (id 20) and any other id. */
        ev->msg_id = m->id;
        ev->type = SESSION_EV_SKIPPED;
        break;
    }
    return (int)ev->type;
}

int session_feed(struct session *s, const unsigned char *in, size_t len, uint64_t now_ms,
                 size_t *used, struct session_event *ev)
{
    memset(ev, 0, sizeof *ev);
    *used = 0;
    if (s->state == SESSION_FAILED) {
        /* Repeat the error that ended the session, so a careless caller cannot go on. */
        ev->type = SESSION_EV_ERROR;
        ev->error = s->error;
        ev->message = s->errmsg;
        return SESSION_EV_ERROR;
    }
    if (len > 0)
        s->last_recv_ms = now_ms;

    struct wire_handshake hs;
    struct wire_msg m;
    int rc = wire_framer_feed(&s->framer, in, len, used, &hs, &m);
    if (rc < 0)
        return fail(s, ev, SESSION_E_PROTOCOL, rc, "protocol error: %s", wire_strerror(rc));
    if (rc == WIRE_NEED_MORE) {
        ev->type = SESSION_EV_NONE;
        return SESSION_EV_NONE;
    }
    if (rc == WIRE_GOT_HANDSHAKE)
        return on_handshake(s, &hs, ev);
    return on_message(s, &m, ev);
}

int session_tick(struct session *s, uint64_t now_ms)
{
    if (s->state == SESSION_FAILED)
        return s->error;
    if (elapsed(now_ms, s->last_recv_ms) >= s->cfg.idle_timeout_ms) {
        struct session_event ev;
        fail(s, &ev, SESSION_E_TIMEOUT, 0, "peer idle for %llu ms",
             (unsigned long long)elapsed(now_ms, s->last_recv_ms));
        return SESSION_E_TIMEOUT;
    }
    /* Only when the outbox is empty: queued bytes will count as a sign of life once sent. */
    if (s->out_end == s->out_start && elapsed(now_ms, s->last_send_ms) >= s->cfg.keepalive_ms) {
        unsigned char msg[WIRE_KEEPALIVE_SIZE];
        return outbox_put(s, msg, wire_put_keepalive(msg));
    }
    return 0;
}

/* ===================================================================== actions ============ */

/* Refuses actions on a failed session. */
static int check_alive(const struct session *s)
{
    return s->state == SESSION_FAILED ? SESSION_E_STATE : 0;
}

/* Queues one fixed-size message and counts it as sent. */
static int send_msg(struct session *s, const unsigned char *msg, size_t n)
{
    int err = outbox_put(s, msg, n);
    if (err == 0)
        s->msgs_sent++;
    return err;
}

int session_set_interested(struct session *s, bool interested)
{
    int err = check_alive(s);
    if (err < 0 || s->am_interested == interested)
        return err;
    unsigned char msg[WIRE_SIMPLE_SIZE];
    err = send_msg(s, msg, interested ? wire_put_interested(msg) : wire_put_not_interested(msg));
    if (err == 0)
        s->am_interested = interested;
    return err;
}

int session_set_choking(struct session *s, bool choking)
{
    int err = check_alive(s);
    if (err < 0 || s->am_choking == choking)
        return err;
    unsigned char msg[WIRE_SIMPLE_SIZE];
    err = send_msg(s, msg, choking ? wire_put_choke(msg) : wire_put_unchoke(msg));
    if (err < 0)
        return err;
    s->am_choking = choking;
    /* BEP 3: once choked, a peer's pending requests are discarded; it asks again after the next
     * unchoke. (With the fast extension we would send REJECT_REQUEST for each instead.) */
    if (choking)
        s->n_theirs = s->theirs_head = 0;
    return 0;
}

int session_send_have(struct session *s, uint32_t index)
{
    int err = check_alive(s);
    if (err < 0)
        return err;
    if (index >= s->cfg.geom.piece_count)
        return SESSION_E_RANGE;
    unsigned char msg[WIRE_HAVE_SIZE];
    return send_msg(s, msg, wire_put_have(msg, index));
}

int session_send_bitfield(struct session *s, const struct bitfield *ours)
{
    int err = check_alive(s);
    if (err < 0)
        return err;
    if (s->msgs_sent > 0)
        return SESSION_E_STATE; /* strict clients close on a late BITFIELD; send HAVEs instead */
    if (ours->nbits != s->cfg.geom.piece_count)
        return SESSION_E_RANGE;
    unsigned char *dst = outbox_grow(s, WIRE_BITFIELD_HEADER_SIZE + ours->nbytes, &err);
    if (dst == NULL)
        return err;
    wire_put_bitfield_header(dst, ours->nbytes);
    bitfield_export(ours, dst + WIRE_BITFIELD_HEADER_SIZE, ours->nbytes);
    s->msgs_sent++;
    return 0;
}

size_t session_pipeline_room(const struct session *s)
{
    if (s->state != SESSION_OPEN || s->peer_choking)
        return 0;
    return s->cfg.pipeline_depth - s->n_ours;
}

int session_request(struct session *s, uint32_t index, uint32_t begin, uint32_t length)
{
    int err = check_alive(s);
    if (err < 0)
        return err;
    if (s->state != SESSION_OPEN)
        return SESSION_E_STATE;
    if (s->peer_choking)
        return SESSION_E_CHOKED;
    if (s->n_ours == s->cfg.pipeline_depth)
        return SESSION_E_PIPELINE_FULL;
    if (!block_in_range(s, index, begin, length))
        return SESSION_E_RANGE;
    if (!bitfield_get(&s->peer_has, index))
        return SESSION_E_NOT_AVAILABLE;
    if (find_block(s->ours, s->n_ours, index, begin, length) < s->n_ours)
        return SESSION_E_STATE; /* already outstanding to this peer */
    unsigned char msg[WIRE_REQUEST_SIZE];
    err = send_msg(s, msg, wire_put_request(msg, index, begin, length));
    if (err < 0)
        return err;
    s->ours[s->n_ours++] = (struct session_block){index, begin, length};
    return 0;
}

int session_cancel(struct session *s, uint32_t index, uint32_t begin, uint32_t length)
{
    int err = check_alive(s);
    if (err < 0)
        return err;
    size_t i = find_block(s->ours, s->n_ours, index, begin, length);
    if (i == s->n_ours)
        return SESSION_E_STATE;
    unsigned char msg[WIRE_REQUEST_SIZE];
    err = send_msg(s, msg, wire_put_cancel(msg, index, begin, length));
    if (err < 0)
        return err;
    withdrawn_add(s, &s->ours[i]);
    remove_at(s->ours, &s->n_ours, i);
    return 0;
}

bool session_next_peer_request(struct session *s, struct session_block *out)
{
    if (s->n_theirs == 0)
        return false;
    *out = s->theirs[s->theirs_head];
    s->theirs_head = theirs_at(s, 1);
    s->n_theirs--;
    return true;
}

int session_send_block(struct session *s, uint32_t index, uint32_t begin, const unsigned char *data,
                       size_t len)
{
    int err = 0;
    unsigned char *dst = session_block_space(s, index, begin, len, &err);
    if (dst == NULL)
        return err;
    memcpy(dst, data, len);
    return 0;
}

unsigned char *session_block_space(struct session *s, uint32_t index, uint32_t begin, size_t len,
                                   int *err)
{
    *err = check_alive(s);
    if (*err < 0)
        return NULL;
    *err = 0;
    if (s->am_choking) {
        *err = SESSION_E_CHOKING;
        return NULL;
    }
    if (len > UINT32_MAX || !block_in_range(s, index, begin, (uint32_t)len)) {
        *err = SESSION_E_RANGE;
        return NULL;
    }
    /* The block goes into the outbox right behind its 13-byte header, so the socket sends both
     * in one write. The shell reads the block from disk straight into the space returned: one
     * copy fewer than reading it into a buffer of its own and copying that in. */
    unsigned char *dst = outbox_grow(s, WIRE_PIECE_HEADER_SIZE + len, err);
    if (dst == NULL)
        return NULL;
    wire_put_piece_header(dst, index, begin, len);
    s->msgs_sent++;
    s->payload_up += len;
    return dst + WIRE_PIECE_HEADER_SIZE;
}

void session_unsend_block(struct session *s, size_t len)
{
    /* The message is the last thing in the outbox, since nothing was queued after it. */
    size_t n = WIRE_PIECE_HEADER_SIZE + len;
    if (n > s->out_end - s->out_start)
        return; /* not what session_block_space queued: leave the outbox alone */
    s->out_end -= n;
    if (s->out_start == s->out_end)
        outbox_reset(s);
    s->msgs_sent--;
    s->payload_up -= len;
}
