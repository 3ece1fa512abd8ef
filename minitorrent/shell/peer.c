/*
 * peer.c - the thread that runs one connection.
 *
 * Its loop is the whole life of a connection:
 *
 *     connect (if we dial) -> handshake -> repeat { send what is queued; wait; read and handle
 *     what arrived; look at the shared state and queue HAVEs, choke changes, requests, blocks }
 *
 * The protocol rules are in the session (core/session.c); the choice of blocks is the picker's
 * (core/picker.c). This file moves bytes between them, the socket and the disk.
 */
#include "peer.h"
#include "clock.h"
#include "hasher.h"
#include "io.h"
#include "threads.h"
#include "torrent.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    RECV_BUF = 256 * 1024,     /* bytes read from the socket at once */
    SERVE_OUTBOX = 512 * 1024, /* serve the peer's requests while less than this is queued */
    CONNECT_TIMEOUT_MS = 5000,
    MAX_STRIKES = 2, /* bad pieces from one peer before it is dropped */
    /* After sending HAVEs, a connection sends the next ones at most this much later, together.
     * A swarm of small pieces verifies dozens of pieces a second in every peer; waking every
     * connection's thread for each of them cost more processor time than moving the data. */
    HAVE_BATCH_MS = 100
};

void peer_wake(struct peer *p)
{
    /* One byte in the pipe is enough to wake the thread; more would be system calls for
     * nothing. The flag is cleared by the thread, under the lock, before it reads the shared
     * state, so a change made after that point always writes a new byte. */
    if (p->wake_pending)
        return;
    p->wake_pending = true;
    /* The pipe is non-blocking: if it is full, a wake-up is pending anyway. */
    (void)!write(p->wake[1], "w", 1);
}

void peer_free(struct peer *p)
{
    if (p->wake[0] >= 0)
        close(p->wake[0]);
    if (p->wake[1] >= 0)
        close(p->wake[1]);
    bitfield_free(&p->counted);
    free(p);
}

/* ===================================================================== shared state ======= */

/* Nanoseconds on the monotonic clock, to time the picker for the trace. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Tells the end game which blocks this peer is already fetching for us. */
static bool outstanding(void *ctx, uint32_t index, uint32_t begin)
{
    const struct session *s = ctx;
    for (size_t i = 0; i < s->n_ours; i++)
        if (s->ours[i].index == index && s->ours[i].begin == begin)
            return true;
    return false;
}

/* Makes the picker's count of who has what agree with the peer's latest piece set. */
static void recount_availability(struct torrent *t, struct peer *p)
{
    if (p->counted_valid)
        picker_remove_peer(&t->picker, &p->counted);
    memcpy(p->counted.bits, p->s.peer_has.bits, p->counted.nbytes);
    picker_add_peer(&t->picker, &p->counted);
    p->counted_valid = true;
}

/* Returns the pieces this peer may be asked for: its own, less the pieces that failed with
 * blocks of several peers and are being fetched again by another peer alone (see
 * core/smartban.h). Called with the lock held; the result is valid until the lock is released. */
static const struct bitfield *offer_locked(struct torrent *t, const struct peer *p)
{
    return smartban_offer(&t->smartban, p->key, &p->counted, &t->offer);
}

/* Says whether a HAVE waits to be sent to this peer: the next piece in the torrent's have_log it
 * was not told of, skipping (for good) the pieces it has already, since a peer never loses one.
 * Under the lock. */
static bool haves_waiting_locked(struct torrent *t, struct peer *p)
{
    while (p->haves_sent < t->have_log_len && bitfield_get(&p->counted, t->have_log[p->haves_sent]))
        p->haves_sent++;
    return p->haves_sent < t->have_log_len;
}

/* Queues what the shared state asks of this connection: HAVE for new pieces, the choke decision,
 * our interest, cancels for blocks another peer already delivered, and new requests. Runs with
 * the torrent's lock held; it only fills the outbox. */
static void sync_locked(struct torrent *t, struct peer *p)
{
    struct session *s = &p->s;
    if (s->state != SESSION_OPEN)
        return;
    /* A peer that has the piece already is told nothing: it will never ask us for it, and our
     * having it changes nothing it decides. Late in a download most peers have most pieces, so
     * this saves most of the HAVEs, which in a big swarm are most of the messages (libtorrent
     * offers the same as switching off "redundant haves"). While the batch window is open the
     * HAVEs wait, and go out together when it ends (HAVE_BATCH_MS). */
    bool said = false;
    while (!p->have_quiet && haves_waiting_locked(t, p)) {
        if (session_send_have(s, t->have_log[p->haves_sent]) < 0)
            break;
        said = true;
        p->haves_sent++;
    }
    if (said) {
        p->have_quiet = true;
        p->have_quiet_until = clock_ms() + HAVE_BATCH_MS;
    }
    (void)session_set_choking(s, t->cfg.no_upload || !p->want_unchoke);
    p->am_interested = picker_interesting(&t->picker, &p->counted);
    (void)session_set_interested(s, p->am_interested);

    /* End game: a block that has arrived from someone else is cancelled here. */
    for (size_t i = 0; i < s->n_ours;) {
        struct session_block b = s->ours[i];
        if (picker_block_done(&t->picker, b.index, b.begin) &&
            session_cancel(s, b.index, b.begin, b.length) == 0) {
            struct picker_block pb = {b.index, b.begin, b.length};
            picker_giveup(&t->picker, &pb);
            continue; /* session_cancel removed entry i */
        }
        i++;
    }

    /* How many requests to keep at this peer: about 300 ms of what it sends us (at least two).
     * A deep queue at a slow peer ties blocks to it that a faster peer could have sent, and
     * the pieces they belong to cannot be finished and passed on; a shallow queue at a fast
     * peer leaves its link idle between requests. */
    size_t depth = (size_t)(rate_get(&p->to_us, clock_ms()) * 3 / 10 / WIRE_BLOCK_LEN) + 4;
    if (depth > t->cfg.pipeline)
        depth = t->cfg.pipeline;
    /* In the end game every block we lack is requested already, so each further request asks
     * for a copy that someone else is sending too. Ask a peer for one only when it has nothing
     * else on its way to us: that keeps every connection busy at the end, as the end game is
     * meant to, without the busy ones sending copies for nothing (in a 32-peer swarm of 16 KiB
     * pieces, deeper end-game queues wasted about 9 % of all the bytes uploaded). */
    if (picker_endgame(&t->picker))
        depth = s->n_ours == 0 ? 1 : 0;
    /* Requests go out two at a time: a block that arrives frees one place, and the request for
     * it waits for the next block's, so the peer reads one message for two blocks. Each message
     * wakes the peer's thread, and in a 64-peer swarm of 256 KiB pieces the small messages
     * outnumbered the blocks three to one. A queue of four or more still holds two blocks' worth
     * meanwhile; a shorter one (the end game's) asks at once. */
    size_t room = depth > s->n_ours ? depth - s->n_ours : 0;
    if (depth >= 4 && room < 2)
        room = 0;
    const struct bitfield *offer = offer_locked(t, p);
    while (room-- > 0 && session_pipeline_room(s) > 0) {
        struct picker_block b;
        /* The choice is timed for the trace: it runs under the lock every thread shares, so
         * its cost is paid by every connection (see choose_new_piece in core/picker.c). */
        uint64_t t0 = now_ns();
        bool got = picker_next(&t->picker, offer, outstanding, s, &b);
        t->pick_ns += now_ns() - t0;
        if (!got)
            break;
        if (session_request(s, b.index, b.begin, b.length) < 0) {
            picker_giveup(&t->picker, &b);
            break;
        }
        smartban_claim(&t->smartban, p->key, b.index);
    }
    p->starved = p->am_interested && !s->peer_choking && s->n_ours == 0;

    /* For the trace: how many of its requests wait for us, counting the blocks already in the
     * outbox (a few bytes of other messages there are not a block). */
    size_t queued;
    session_outbox(s, &queued);
    p->trace_waiting = (unsigned)(s->n_theirs + (queued + WIRE_BLOCK_LEN - 1024) / WIRE_BLOCK_LEN);
}

/* Wakes the connection named key, if it is still there, when upload turns pass to it. Under the
 * lock. */
static void wake_key_locked(struct torrent *t, uint64_t key)
{
    if (key == 0)
        return;
    for (struct peer *q = t->peers; q != NULL; q = q->next)
        if (q->key == key && !q->finished) {
            peer_wake(q);
            return;
        }
}

/* Serves the peer's queued requests from disk while the outbox has room. Returns 0, or -1 when
 * the disk cannot be read. */
static int serve_requests(struct torrent *t, struct peer *p)
{
    struct session *s = &p->s;
    size_t queued;
    /* Under an upload limit, queue little more than the limiter lets out, so the rates the
     * choker and the status line see are what really left, not what waits in the outbox. */
    size_t limit = t->cfg.up_rate ? 64 * 1024 : SERVE_OUTBOX;
    while ((session_outbox(s, &queued), queued < limit)) {
        struct session_block b;
        /* Under an upload limit, only the connection whose turn it is queues blocks; the others
         * wait for theirs, woken when it comes (core/turns.h). */
        if (t->turns_on && s->n_theirs > 0) {
            pthread_mutex_lock(&t->lock);
            bool mine = turns_ask(&t->turns, p->key, clock_ms());
            pthread_mutex_unlock(&t->lock);
            p->in_turns = true;
            if (!mine)
                break;
        }
        if (!session_next_peer_request(s, &b))
            break;
        pthread_mutex_lock(&t->lock);
        bool have = bitfield_get(&t->picker.have, b.index);
        pthread_mutex_unlock(&t->lock);
        if (!have)
            continue; /* it asked for a piece we never announced: ignore the request */
        /* The block is read from disk straight into the outbox, behind its message's header.
         * When the session refuses the block (we choke the peer now, say), the request is
         * dropped unread, as BEP 3 allows. */
        int err;
        unsigned char *dst = session_block_space(s, b.index, b.begin, b.length, &err);
        if (dst != NULL) {
            uint64_t off = layout_piece_offset(&t->store.layout, b.index) + b.begin;
            if (storage_read(&t->store, off, dst, b.length) < 0) {
                session_unsend_block(s, b.length); /* no half-read block goes out */
                return -1;
            }
            uint64_t now = clock_ms();
            pthread_mutex_lock(&t->lock);
            t->uploaded += b.length;
            rate_add(&t->up_rate, b.length, now);
            rate_add(&p->from_us, b.length, now);
            p->last_upload_ms = now;
            if (t->turns_on) {
                uint64_t next = turns_used(&t->turns, p->key, b.length, now);
                if (next != p->key)
                    wake_key_locked(t, next); /* a piece's worth sent: the next one's turn */
            }
            pthread_mutex_unlock(&t->lock);
        }
    }
    return 0;
}

/* Gives the peer with this key a strike (what for: a sentence for the log), and drops it after
 * MAX_STRIKES. A dropped peer's address is banned for the rest of the download, so a liar that
 * comes back under a new peer id is refused at once. The peer may have left already; then there
 * is nobody to punish. Called with the lock held. */
static void strike_locked(struct torrent *t, uint64_t key, const char *what, uint32_t index)
{
    for (struct peer *q = t->peers; q != NULL; q = q->next) {
        if (q->key != key || q->finished)
            continue;
        if (++q->strikes >= MAX_STRIKES && !q->kill) {
            q->kill = true;
            torrent_ban_locked(t, (struct sockaddr *)&q->addr);
            peer_wake(q);
        }
        if (t->cfg.verbose)
            printf("peer %s: %s %u (strike %u%s)\n", q->name, what, index, q->strikes,
                   q->kill ? ", dropped and banned" : "");
        return;
    }
}

/* Hashes a piece that got its last block and records the verdict. A good piece is announced to
 * everyone; a bad one is fetched again, and the peers that sent the wrong data get a strike. It
 * runs on the torrent's hasher thread (hasher.h), not on the thread that read the last block, so
 * that thread goes on reading its socket meanwhile. The piece is hashed from the buffer it was
 * put together in (on_block), not read back from disk, and without the lock: nothing writes to
 * the buffer of a complete piece until its verdict. */
void peer_verify_piece(void *ctx, uint32_t index)
{
    struct torrent *t = ctx;
    pthread_mutex_lock(&t->lock);
    const unsigned char *buf = torrent_piece_buffer_locked(t, index);
    uint32_t size = picker_piece_size(&t->picker, index);
    pthread_mutex_unlock(&t->lock);
    int good = storage_piece_matches(&t->store, index, buf);
    pthread_mutex_lock(&t->lock);
    picker_verified(&t->picker, index, good == 1);
    uint64_t culprits[SMARTBAN_MAX_CULPRITS];
    if (good == 1) {
        t->have_log[t->have_log_len++] = index;
        t->downloaded += size;
        size_t n = smartban_passed(&t->smartban, index, buf, culprits);
        for (size_t i = 0; i < n; i++)
            strike_locked(t, culprits[i], "sent bad data for piece", index);
        /* The piece is on disk and no longer in progress: its buffer is free for another. A bad
         * piece keeps its buffer, since it stays in progress and is fetched again into it. */
        torrent_release_buffer_locked(t, index);
        /* Every connection to a peer that lacks it gets to send a HAVE for it: at once where no
         * HAVE went out lately, and otherwise when the connection's batch window ends (see
         * HAVE_BATCH_MS; a connection whose open window holds nothing yet is woken once, to
         * set its timer). A peer that has it is not told (see sync_locked), so its thread is
         * not woken for a HAVE: in a swarm of 64 peers on two cores these wake-ups cost more
         * than the data. */
        for (struct peer *q = t->peers; q != NULL; q = q->next) {
            if (q->finished || (q->have_quiet && q->have_timer))
                continue;
            /* A peer that has the piece is woken only when this piece changes what we ask of
             * it: a connection with nothing requested may now start a new piece (the finished
             * one no longer counts against the pieces in progress), and a peer whose last
             * wanted piece this was should hear at once that we are no longer interested, or
             * its choker may keep an upload slot for us for nothing. */
            if (!bitfield_get(&q->counted, index) || q->starved ||
                (q->am_interested && !picker_interesting(&t->picker, &q->counted)))
                peer_wake(q);
        }
    } else {
        t->wasted += size;
        t->hash_failures++;
        if (t->cfg.verbose)
            printf("piece %u failed its hash check; fetching it again\n", index);
        size_t n = smartban_failed(&t->smartban, index, buf, culprits);
        for (size_t i = 0; i < n; i++)
            strike_locked(t, culprits[i], "sent bad data for piece", index);
    }
    /* The main thread (cmd_client.c) waits on t->changed to see the download complete. It shows
     * progress on a timer of its own, so waking it for every piece (a thousand times a second
     * in a fast download, each time taking the lock to read the counters) would cost every
     * peer thread and gain nothing: only the last piece wakes it. */
    if (picker_complete(&t->picker))
        pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

/* Stores a block that arrived. Only a block we asked this peer for may enter a piece: a peer that
 * sends blocks nobody asked for could spoil the pieces in progress while the blame for the
 * failed hash fell on the honest senders of the other blocks. Such a block is dropped and its
 * sender struck (core/smartban.h).
 *
 * A block is copied into its piece's buffer (torrent.h), and a complete piece is written to disk
 * with one pwrite and handed to the hasher, which hashes it from the same buffer. A block at a
 * time would cost a system call per 16 KiB, and reading the piece back to hash it another copy.
 * The check and the bookkeeping happen under the torrent's lock; the copy and the write to disk
 * do not: every peer thread shares that lock, and a thread waiting in pwrite would hold up all
 * the others. Two rules keep the piece's bytes whole without the lock:
 *   - the picker hands out no block of a complete piece until its verdict, so nothing is ever
 *     copied over a piece while it is written or hashed, or after it is verified;
 *   - a complete piece is written and hashed only once no copy of its blocks is in flight: the
 *     lock counts the copies of each piece (t->writing), and whichever copy ends last, with the
 *     piece complete, writes it out. The last block to arrive is not always the last copied.
 * Returns 0, or -1 on a disk error. */
static int on_block(struct torrent *t, struct peer *p, const struct session_event *ev)
{
    struct picker_block b = {ev->block.index, ev->block.begin, ev->block.length};
    uint64_t now = clock_ms();
    enum smartban_origin origin = !ev->unsolicited ? SMARTBAN_REQUESTED
                                  : ev->withdrawn  ? SMARTBAN_WITHDRAWN
                                                   : SMARTBAN_UNREQUESTED;
    enum smartban_verdict v = smartban_admit(origin);
    pthread_mutex_lock(&t->lock);
    /* A peer already dropped may still have blocks in our read buffer: none of them is kept. */
    if (v == SMARTBAN_KEEP && p->kill)
        v = SMARTBAN_DROP;
    if (v != SMARTBAN_KEEP) {
        if (v == SMARTBAN_STRIKE)
            strike_locked(t, p->key, "sent a block we never asked for, in piece", b.index);
        pthread_mutex_unlock(&t->lock);
        return 0;
    }
    rate_add(&t->down_rate, b.length, now);
    rate_add(&p->to_us, b.length, now);
    p->last_block_ms = now;
    enum picker_arrival a = picker_received(&t->picker, &b);
    bool store = a == PICKER_BLOCK_NEW || a == PICKER_PIECE_COMPLETE;
    unsigned char *piece = NULL;
    if (store) {
        piece = torrent_piece_buffer_locked(t, b.index);
        if (piece == NULL) {
            /* Cannot happen: the picker has no more pieces in progress than there are buffers,
             * and a piece keeps its buffer until it is verified. Stopping with a message is
             * better than writing the block anywhere. */
            snprintf(t->fatal, sizeof t->fatal, "no free buffer for piece %u", b.index);
            pthread_cond_broadcast(&t->changed);
            pthread_mutex_unlock(&t->lock);
            return -1;
        }
        t->writing[b.index]++;
        if (a == PICKER_PIECE_COMPLETE)
            t->hash_due[b.index] = 1;
        t->received += b.length;
        /* Who sent this copy of the block, in case its piece fails its hash. */
        smartban_stored(&t->smartban, p->key, b.index, b.begin);
    }
    pthread_mutex_unlock(&t->lock);
    if (!store)
        return 0;

    if (t->test_before_write != NULL)
        t->test_before_write(t, b.index, b.begin);
    memcpy(piece + b.begin, ev->data, b.length);

    bool complete = false;
    pthread_mutex_lock(&t->lock);
    t->writing[b.index]--;
    if (t->writing[b.index] == 0 && t->hash_due[b.index]) {
        t->hash_due[b.index] = 0;
        complete = true;
    }
    uint32_t size = picker_piece_size(&t->picker, b.index);
    pthread_mutex_unlock(&t->lock);
    if (!complete)
        return 0;
    uint64_t off = layout_piece_offset(&t->store.layout, b.index);
    if (storage_write(&t->store, off, piece, size) < 0) {
        int saved = errno;
        pthread_mutex_lock(&t->lock);
        snprintf(t->fatal, sizeof t->fatal, "cannot write to disk: %s", strerror(saved));
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
        return -1;
    }
    /* The push may wait for room in the queue, which is why it comes after the lock is
     * released: the hasher needs the lock to finish. */
    hasher_push(&t->hasher, b.index);
    return 0;
}

/* Keeps one of two connections to the same peer. When both peers dial each other at once, each
 * side sees a duplicate and both must keep the same one: the connection dialled by the GREATER
 * peer id, as libtorrent decides (aria2 simply refuses the newer connection, and a peer that
 * keeps dialling it would lose both). The address we dialled is remembered on the survivor, so
 * the announcer does not dial it again. Called with the lock held; returns false when this
 * connection must close. */
static bool keep_connection(struct torrent *t, struct peer *p)
{
    for (struct peer *q = t->peers; q != NULL; q = q->next) {
        if (q == p || q->finished || q->kill || !q->handshaken ||
            memcmp(q->peer_id, p->peer_id, 20) != 0)
            continue;
        bool we_are_greater = memcmp(t->peer_id, p->peer_id, 20) > 0;
        bool p_survives = p->outgoing == we_are_greater;
        struct peer *loser = p_survives ? q : p, *winner = p_survives ? p : q;
        if (loser->outgoing && !winner->outgoing) {
            winner->dialled = loser->addr;
            winner->has_dialled = true;
        }
        if (p_survives) {
            q->kill = true;
            peer_wake(q);
        }
        return p_survives;
    }
    return true;
}

/* Handles one event from the session. Returns 0, or -1 to close the connection. */
static int on_event(struct torrent *t, struct peer *p, const struct session_event *ev)
{
    int rc = 0;
    switch (ev->type) {
    case SESSION_EV_HANDSHAKE:
        pthread_mutex_lock(&t->lock);
        memcpy(p->peer_id, ev->peer_id, 20);
        /* Only now does an incoming connection ask for one of the max_peers slots. */
        const char *why = NULL;
        if (!torrent_room_for_handshaken_locked(t, p)) {
            why = "no room for another peer, closing";
        } else {
            p->handshaken = true;
            if (!keep_connection(t, p))
                why = "already connected, closing";
        }
        rc = why == NULL ? 0 : -1;
        pthread_mutex_unlock(&t->lock);
        if (t->cfg.verbose)
            printf("peer %s: %s\n", p->name, why == NULL ? "connected" : why);
        break;
    case SESSION_EV_BITFIELD:
    case SESSION_EV_HAVE:
        pthread_mutex_lock(&t->lock);
        if (ev->type == SESSION_EV_HAVE && p->counted_valid) {
            if (!bitfield_get(&p->counted, ev->block.index)) {
                bitfield_set(&p->counted, ev->block.index);
                picker_add_have(&t->picker, ev->block.index);
            }
        } else {
            recount_availability(t, p);
        }
        pthread_mutex_unlock(&t->lock);
        break;
    case SESSION_EV_CHOKED:
        pthread_mutex_lock(&t->lock);
        smartban_release(&t->smartban, p->key);
        for (size_t i = 0; i < ev->nblocks; i++) {
            struct picker_block b = {ev->blocks[i].index, ev->blocks[i].begin,
                                     ev->blocks[i].length};
            picker_giveup(&t->picker, &b);
        }
        pthread_mutex_unlock(&t->lock);
        break;
    case SESSION_EV_INTERESTED:
    case SESSION_EV_NOT_INTERESTED:
        /* The choker reads this at its next round (torrent_tick). A newly interested peer that
         * we choke wakes the main loop at once, so a free upload slot goes to it now rather than
         * up to a status period later: at the start of a swarm every peer waits on that. */
        pthread_mutex_lock(&t->lock);
        p->peer_interested = ev->type == SESSION_EV_INTERESTED;
        if (p->peer_interested && !p->want_unchoke)
            pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
        break;
    case SESSION_EV_BLOCK:
        rc = on_block(t, p, ev);
        break;
    case SESSION_EV_CANCEL:
        /* A block the peer cancelled after we queued it was taken out of the outbox unsent, so
         * it is not uploaded after all. (The rates keep it: they forget it within seconds.) */
        if (ev->unqueued) {
            pthread_mutex_lock(&t->lock);
            t->uploaded -= ev->block.length;
            pthread_mutex_unlock(&t->lock);
        }
        break;
    case SESSION_EV_ERROR:
        if (t->cfg.verbose)
            printf("peer %s: %s\n", p->name, ev->message);
        rc = -1;
        break;
    default:
        break; /* keep-alives, requests (served later), skipped ids */
    }
    return rc;
}

/* ===================================================================== the thread ========= */

/* Sends what the outbox holds, as far as the socket and the upload limit allow now. When the
 * limit says wait, *wait_ms tells how long. Returns 0 or -1. */
static int flush_outbox(struct torrent *t, struct peer *p, uint64_t *wait_ms)
{
    size_t len;
    const unsigned char *out;
    *wait_ms = 0;
    while ((out = session_outbox(&p->s, &len)) != NULL) {
        uint64_t now = clock_ms();
        size_t granted = limiter_grant(&t->up, len, now, wait_ms);
        if (granted == 0)
            return 0;
        ssize_t w = io_send(p->fd, out, granted);
        int e = errno;
        limiter_settle(&t->up, granted, w > 0 ? (size_t)w : 0, now);
        if (w < 0)
            return e == EAGAIN || e == EWOULDBLOCK ? 0 : -1;
        session_sent(&p->s, (size_t)w, now);
        atomic_fetch_add_explicit(&t->wire_up, (uint64_t)w, memory_order_relaxed);
    }
    return 0;
}

/* Sets up the session and queues our handshake and, if we have pieces, our BITFIELD. The bitfield
 * and the HAVE cursor are taken under the same lock, so no piece is announced twice or missed. */
static int start_session(struct torrent *t, struct peer *p)
{
    struct session_config cfg;
    session_config_defaults(&cfg);
    memcpy(cfg.info_hash, t->mi.info_hash, 20);
    memcpy(cfg.peer_id, t->peer_id, 20);
    cfg.geom.piece_count = t->mi.piece_count;
    cfg.geom.piece_length = t->mi.piece_length;
    cfg.geom.total_length = t->mi.total_length;
    cfg.pipeline_depth = t->cfg.pipeline;
    cfg.outbox_max = SERVE_OUTBOX + 256 * 1024;
    cfg.idle_timeout_ms = t->cfg.peer_timeout_ms;
    /* Keep-alives go out well inside the idle timeout, which the other side may share. */
    if (cfg.keepalive_ms > cfg.idle_timeout_ms / 2)
        cfg.keepalive_ms = cfg.idle_timeout_ms / 2 > 0 ? cfg.idle_timeout_ms / 2 : 1;
    if (session_init(&p->s, &cfg, clock_ms()) < 0)
        return -1;
    p->session_ready = true;
    pthread_mutex_lock(&t->lock);
    if (t->picker.have_count > 0)
        (void)session_send_bitfield(&p->s, &t->picker.have);
    p->haves_sent = t->have_log_len;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

/* Makes the outgoing connection, if this peer is one we dial. */
static int dial(struct torrent *t, struct peer *p)
{
    if (p->fd >= 0)
        return 0;
    char err[NET_ERRLEN];
    const struct sockaddr *local = t->locallen ? (const struct sockaddr *)&t->local : NULL;
    p->fd = net_connect_addr((struct sockaddr *)&p->addr, p->addrlen, local, t->locallen,
                             CONNECT_TIMEOUT_MS, err, sizeof err);
    if (p->fd < 0 && t->cfg.verbose)
        printf("peer %s: %s\n", p->name, err);
    return p->fd < 0 ? -1 : 0;
}

/* Turns off Nagle's algorithm on the connection. With it on, a small message (a REQUEST, a HAVE)
 * that follows another not yet acknowledged waits until the acknowledgement comes, and the
 * receiver delays acknowledgements by up to 40 ms hoping to send them with data: at the start of
 * a download, where requests go out a few at a time, two such waits were measured. The outbox
 * already gathers messages into large writes, which is all Nagle's algorithm would do for us.
 * A system without TCP_NODELAY keeps the default, which is slower but correct; a failure is
 * ignored for the same reason. */
static void no_delay(int fd)
{
#ifdef TCP_NODELAY
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#else
    (void)fd;
#endif
}

/* Reads at most max bytes the socket has, and no more than the download limit grants, and feeds
 * them to the session. Returns 0, or -1 to close. */
static int read_and_handle(struct torrent *t, struct peer *p, unsigned char *buf, size_t max)
{
    uint64_t now = clock_ms(), wait;
    size_t granted = limiter_grant(&t->down, max, now, &wait);
    if (granted == 0)
        return 0; /* another connection took the tokens first; the loop waits and polls again */
    ssize_t n = read(p->fd, buf, granted);
    int e = errno;
    limiter_settle(&t->down, granted, n > 0 ? (size_t)n : 0, now);
    if (n < 0)
        return e == EAGAIN || e == EWOULDBLOCK || e == EINTR ? 0 : -1;
    if (n == 0)
        return -1; /* the peer closed the connection */
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        struct session_event ev;
        session_feed(&p->s, buf + off, (size_t)n - off, clock_ms(), &used, &ev);
        off += used;
        if (ev.type == SESSION_EV_NONE)
            return 0;
        if (on_event(t, p, &ev) < 0)
            return -1;
    }
}

/* Gives everything this connection held in the shared state back: its share of the
 * availability counts and the blocks it was fetching. */
static void release_shared(struct torrent *t, struct peer *p)
{
    pthread_mutex_lock(&t->lock);
    if (p->counted_valid)
        picker_remove_peer(&t->picker, &p->counted);
    p->counted_valid = false;
    if (p->session_ready)
        for (size_t i = 0; i < p->s.n_ours; i++) {
            struct picker_block b = {p->s.ours[i].index, p->s.ours[i].begin, p->s.ours[i].length};
            picker_giveup(&t->picker, &b);
        }
    smartban_release(&t->smartban, p->key);
    if (t->turns_on)
        wake_key_locked(t, turns_forget(&t->turns, p->key, clock_ms()));
    p->finished = true;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

static void *peer_main(void *arg)
{
    struct peer *p = arg;
    struct torrent *t = p->t;
    unsigned char *buf = malloc(RECV_BUF);
    if (buf == NULL || dial(t, p) < 0 || start_session(t, p) < 0)
        goto out;
    no_delay(p->fd);
    if (net_set_nonblocking(p->fd) < 0) {
        if (t->cfg.verbose)
            printf("peer %s: cannot make the socket non-blocking: %s\n", p->name, strerror(errno));
        goto out;
    }
    uint64_t handshake_deadline = clock_ms() + t->cfg.handshake_timeout_ms;
    if (t->cfg.handshake_timeout_ms > t->cfg.peer_timeout_ms)
        handshake_deadline = clock_ms() + t->cfg.peer_timeout_ms;

    for (;;) {
        uint64_t wait_up, wait_down;
        if (flush_outbox(t, p, &wait_up) < 0)
            break;
        size_t pending;
        session_outbox(&p->s, &pending);
        /* The upload limit let the whole outbox go (its burst can be larger than what we queue
         * under a limit), and requests still wait: serve them now and send again. Otherwise the
         * thread would sleep in poll until the peer sent something, and a peer that is only
         * waiting for our blocks sends nothing. */
        if (pending == 0 && wait_up == 0 && p->s.state == SESSION_OPEN && p->s.n_theirs > 0) {
            if (serve_requests(t, p) < 0)
                break;
            session_outbox(&p->s, &pending);
            if (pending > 0)
                continue;
        }
        /* Nothing left to send this peer and nothing asked of us: we leave the upload turns.
         * If the turn is ours (given to us while we waited, perhaps, since when our requests were
         * cancelled), it passes to the next connection waiting; if we wait, we stop waiting. */
        if (p->in_turns && pending == 0 && p->s.n_theirs == 0) {
            p->in_turns = false;
            pthread_mutex_lock(&t->lock);
            wake_key_locked(t, turns_forget(&t->turns, p->key, clock_ms()));
            pthread_mutex_unlock(&t->lock);
        }
        /* Poll for input only when the download limit would grant a read now. */
        wait_down = limiter_wait_ms(&t->down, RECV_BUF, clock_ms());
        short events = (wait_down == 0 ? POLLIN : 0) | (pending && wait_up == 0 ? POLLOUT : 0);
        struct pollfd pfd[2] = {{.fd = p->fd, .events = events},
                                {.fd = p->wake[0], .events = POLLIN}};
        /* The time out drives keep-alives and the idle check, and ends a wait for the rate
         * limits; everything else wakes us. */
        uint64_t timeout = 1000;
        if (wait_up > 0 && wait_up < timeout)
            timeout = wait_up;
        if (wait_down > 0 && wait_down < timeout)
            timeout = wait_down;
        /* A connection waiting for its upload turn looks again when a turn held too long may
         * be taken over (a holder whose socket does not drain). */
        if (t->turns_on && p->s.n_theirs > 0 && t->turns.max_ms < timeout)
            timeout = t->turns.max_ms;
        /* The end of the HAVE batch window is a time out only when a HAVE waits for it: most
         * windows end with nothing held back, and waking for each of them was a sixth of all
         * the wake-ups of a 64-peer swarm. A piece verified later wakes us (peer_verify_piece)
         * unless have_timer says the window's end will. */
        if (p->have_quiet) {
            pthread_mutex_lock(&t->lock);
            p->have_timer = haves_waiting_locked(t, p);
            pthread_mutex_unlock(&t->lock);
            uint64_t now = clock_ms();
            uint64_t left = p->have_quiet_until > now ? p->have_quiet_until - now : 0;
            if (p->have_timer && left < timeout)
                timeout = left;
        }
        if (poll(pfd, 2, (int)timeout) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents & POLLIN) {
            /* A short read has emptied the pipe, so the usual wake-up costs one read, not a
             * second one that only reports the pipe empty. */
            char drain[64];
            while (read(p->wake[0], drain, sizeof drain) == (ssize_t)sizeof drain)
                ;
        }
        pthread_mutex_lock(&t->lock);
        p->wake_pending = false;
        if (p->have_quiet && clock_ms() >= p->have_quiet_until)
            p->have_quiet = false; /* sync_locked below sends what the window held back */
        bool stop = p->kill || t->stopping;
        pthread_mutex_unlock(&t->lock);
        if (stop)
            break;
        if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && wait_down == 0 &&
            read_and_handle(t, p, buf, RECV_BUF) < 0)
            break;
        if (session_tick(&p->s, clock_ms()) < 0) {
            if (t->cfg.verbose)
                printf("peer %s: %s\n", p->name, p->s.errmsg);
            break;
        }
        /* A connection that has not even said which torrent it wants holds a slot of the
         * connection cap for nothing: it gets a much shorter deadline than the idle timeout. */
        if (p->s.state == SESSION_HANDSHAKING && clock_ms() >= handshake_deadline) {
            if (t->cfg.verbose)
                printf("peer %s: no handshake in time, closing\n", p->name);
            break;
        }
        pthread_mutex_lock(&t->lock);
        sync_locked(t, p);
        pthread_mutex_unlock(&t->lock);
        if (serve_requests(t, p) < 0)
            break;
    }
    uint64_t ignored;
    (void)flush_outbox(t, p, &ignored); /* a last try, so a dropped peer sees our last words */
out:
    release_shared(t, p);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    if (p->session_ready)
        session_free(&p->s);
    free(buf);
    return NULL;
}

int peer_spawn(struct torrent *t, int fd, const struct sockaddr *addr, socklen_t addrlen)
{
    struct peer *p = calloc(1, sizeof *p);
    if (p == NULL)
        return -1;
    p->t = t;
    p->fd = fd;
    p->outgoing = fd < 0;
    p->wake[0] = p->wake[1] = -1;
    memcpy(&p->addr, addr, addrlen);
    p->addrlen = addrlen;
    net_addr_str(addr, p->name, sizeof p->name);
    /* Both ends of the wake-up pipe are non-blocking: the reader drains it without waiting, and
     * a writer never blocks on a full pipe (a full pipe means a wake-up is pending anyway). */
    if (pipe(p->wake) < 0 || net_set_nonblocking(p->wake[0]) < 0 ||
        net_set_nonblocking(p->wake[1]) < 0 || bitfield_init(&p->counted, t->mi.piece_count) < 0) {
        peer_free(p);
        return -1;
    }
    p->key = ++t->next_key;
    p->since_ms = clock_ms();
    rate_init(&p->to_us, t->cfg.peer_rate_window_ms ? t->cfg.peer_rate_window_ms : 20000,
              clock_ms());
    rate_init(&p->from_us, t->cfg.peer_rate_window_ms ? t->cfg.peer_rate_window_ms : 20000,
              clock_ms());
    p->last_block_ms = clock_ms();
    p->last_upload_ms = p->last_block_ms;
    if (thread_start(&p->thread, peer_main, p, false, 0) != 0) {
        peer_free(p);
        return -1;
    }
    p->next = t->peers;
    t->peers = p;
    t->npeers++;
    return 0;
}
