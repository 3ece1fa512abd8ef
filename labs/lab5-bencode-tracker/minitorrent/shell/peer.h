/*
 * peer.h - one connection to another peer, run by its own thread.
 *
 * The thread owns the socket and the protocol session (core/session.c). It sleeps in poll() on
 * two things: its socket, and a wake-up pipe that other threads write a byte to when something
 * concerns it (a piece to announce with HAVE, a change of choke, the torrent stopping). Everything
 * it shares with other threads lives in struct torrent, under the torrent's lock.
 */
#ifndef PEER_H
#define PEER_H

#include "bitfield.h"
#include "net.h"
#include "rate.h"
#include "session.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct torrent;

struct peer {
    struct torrent *t;
    struct peer *next;
    uint64_t key; /* a number that names this connection in the torrent's tables */
    int fd;       /* -1 until an outgoing connection is made */
    int wake[2];  /* the wake-up pipe: other threads write, the peer's thread reads */
    bool outgoing;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char name[NET_ADDRSTRLEN];
    pthread_t thread;

    /* Under the torrent's lock. */
    bool finished; /* the thread has ended; the reaper joins and frees */
    bool kill;     /* asked to close (a duplicate connection, a bad peer) */
    bool handshaken;
    unsigned char peer_id[20];
    struct bitfield counted; /* the pieces of this peer counted in the picker's availability */
    bool counted_valid;
    uint32_t haves_sent;       /* how far into the torrent's have_log this peer has been told */
    uint32_t strikes;          /* offences: a piece that failed because of its blocks, or a block
                                  we never asked it for */
    uint64_t since_ms;         /* when the connection was made (accepted, or dial started) */
    bool want_unchoke;         /* the choking decision for this peer */
    bool wake_pending;         /* a wake-up byte is in the pipe and the thread has not looked yet */
    bool have_quiet;           /* HAVEs went out less than HAVE_BATCH_MS ago: newer pieces wait for
                                  the thread's own timer instead of waking it one by one */
    uint64_t have_quiet_until; /* when that window ends (written by the peer's thread only) */
    bool have_timer;           /* the thread sleeps with the window's end as its time out, since a
                                  HAVE waits: the verifier need not wake it for another one */
    struct sockaddr_storage
        dialled; /* for an incoming connection: the address we once dialled
                    for the same peer (a duplicate, closed), not to dial again */
    bool has_dialled;
    bool optimistic;         /* it holds the optimistic unchoke slot */
    bool peer_interested;    /* it is interested in us (mirrors the session, for the choker) */
    bool am_interested;      /* we are interested in it */
    bool starved;            /* it unchokes us and we want something of it, but nothing is
                                requested: a piece we finish may free one to ask for */
    struct rate to_us;       /* block bytes per second it sends us */
    struct rate from_us;     /* block bytes per second we send it */
    uint64_t last_block_ms;  /* when its last block arrived, to spot a peer that snubs us */
    uint64_t last_upload_ms; /* when we last sent it a block (both start at the connection) */
    unsigned trace_waiting;  /* its requests waiting at us, blocks in the outbox included (copied
                                by its thread at every turn, for the trace) */

    /* Only the peer's own thread touches these. */
    struct session s;
    bool in_turns; /* it asked for an upload turn: it holds it or waits for it (peer.c) */
    bool session_ready;
};

/* Creates a peer for an accepted socket (fd >= 0) or for an address to dial (fd == -1), links it
 * into the torrent and starts its thread. Call with the torrent's lock held. Returns 0 or -1. */
int peer_spawn(struct torrent *t, int fd, const struct sockaddr *addr, socklen_t addrlen);

/* Wakes the peer's thread so it looks at the shared state again. Call with the torrent's lock
 * held; a thread that has a wake-up pending is not written to again. */
void peer_wake(struct peer *p);

/* Frees a peer whose thread has been joined. */
void peer_free(struct peer *p);

/* Hashes piece index of the torrent ctx (a struct torrent) from the buffer it was put together in
 * and records the verdict: a good piece is announced to every peer and its buffer freed, a bad
 * one is fetched again and its senders are struck. The torrent's hasher thread calls it (see
 * hasher.h). */
void peer_verify_piece(void *ctx, uint32_t index);

#endif
