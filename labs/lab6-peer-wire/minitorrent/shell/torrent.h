/*
 * torrent.h - one torrent being shared: the state every peer thread works on.
 *
 * A running torrent is a handful of threads around one mutex:
 *   - a listener accepts peers that connect to us;
 *   - an announcer talks to the tracker now and then and dials the peers it names;
 *   - one thread per connected peer runs that connection (peer.c);
 *   - a hasher verifies the pieces the peer threads complete (hasher.h);
 *   - the caller's thread watches progress and decides when to stop.
 * What they share (the piece picker, which pieces we have, the list of peers, the counters) lives
 * in struct torrent and is touched only with t->lock held. The protocol decisions themselves are
 * the core's: session.c for one connection, picker.c for what to request.
 */
#ifndef TORRENT_H
#define TORRENT_H

#include "choker.h"
#include "hasher.h"
#include "limiter.h"
#include "metainfo.h"
#include "picker.h"
#include "rate.h"
#include "smartban.h"
#include "storage.h"
#include "trace.h"
#include "turns.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct torrent_config {
    const char *dir;          /* where the files are (default ".") */
    const char *bind;         /* our address, for listening and for dialling out; NULL: any */
    const char *port;         /* listening port; "0" picks a free one */
    size_t max_peers;         /* connections at once, both directions (default 50) */
    size_t pipeline;          /* requests outstanding per peer (default 64) */
    uint64_t seed;            /* for the picker's random choices; 0: a random seed */
    int announce_timeout_ms;  /* per tracker request (default 10000) */
    uint64_t up_rate;         /* bytes per second we send at most; 0: no limit */
    uint64_t down_rate;       /* bytes per second we receive at most; 0: no limit */
    bool no_upload;           /* never unchoke anyone (a client-server experiment's clients) */
    unsigned upload_slots;    /* regular unchoke slots (default 4, the course notes' number) */
    uint64_t rechoke_ms;      /* time between re-chokes (default 10000; the optimistic unchoke moves
                                 every third one) */
    uint64_t peer_timeout_ms; /* drop a peer silent for this long (default 180000) */
    uint64_t handshake_timeout_ms; /* drop a connection with no handshake by then (default 10000,
                                      and never more than peer_timeout_ms) */
    size_t max_pending;            /* incoming connections still in their handshake, held apart from
                                      max_peers (0: half of max_peers, 8 to 64) */
    size_t max_per_address; /* connections from or to one IP address (0: a quarter of max_peers,
                               at least 4); still in the handshake, at most 2 of them */
    int verbose;            /* print connections and tracker replies */
    enum picker_policy picker_policy; /* how new pieces are chosen (default rarest first) */
    enum choker_policy choker_policy; /* who gets the upload slots (default tit-for-tat) */
    bool no_optimistic;               /* no optimistic unchoke (an experiment's baseline) */
    bool no_upload_turns; /* under an upload limit, share it block by block rather than serve one
                             peer a piece's worth at a time (core/turns.h; an experiment's
                             baseline) */
    uint64_t peer_rate_window_ms;   /* the choker's per-peer rates average this long (20000) */
    uint64_t status_rate_window_ms; /* the status line's rates average this long (5000) */
    const char *trace_file;         /* write a trace of the upload here (trace.h); NULL: none */
    uint32_t piece_buffers; /* pieces assembled in memory at once when downloading (0: as many as
                               the picker may have in progress, within TORRENT_BUFFER_BYTES) */
};

/* Fills cfg with the defaults. */
void torrent_config_defaults(struct torrent_config *cfg);

struct peer; /* one connection; see peer.h */

/* Addresses of peers dropped for bad data, refused for the rest of the download. A bounded list:
 * past TORRENT_BANS the oldest entry makes room (a real client keeps a larger table, or bans
 * whole address ranges). */
enum { TORRENT_BANS = 256 };

/* The memory the piece buffers of a download may take at most, unless cfg.piece_buffers says
 * otherwise; at least two buffers are made whatever the piece size. */
enum { TORRENT_BUFFER_BYTES = 32 * 1024 * 1024 };

/* The bits of torrent.made. */
enum { MADE_LOCK = 1, MADE_CHANGED = 2, MADE_ANNOUNCE_COND = 4, MADE_UP = 8, MADE_DOWN = 16 };

struct torrent {
    struct torrent_config cfg;
    struct metainfo mi;
    struct storage store;
    unsigned char peer_id[20];
    bool seeding_only; /* opened by `seed`: the content must be complete */
    int listen_fd;
    int port;
    struct sockaddr_storage local; /* cfg.bind as an address, for dialling out from it */
    socklen_t locallen;
    int stop_pipe[2]; /* written once to wake the listener at shutdown */

    struct limiter up, down; /* --up-rate and --down-rate, shared by every connection */
    struct hasher hasher;    /* verifies completed pieces off the peer threads (own lock) */

    pthread_mutex_t lock;         /* guards everything below */
    pthread_cond_t changed;       /* the download completed, an error stops it, a peer left or
                                     wants a slot, or the torrent is stopping: what the main loop
                                     and torrent_stop wait for (not every verified piece) */
    pthread_cond_t announce_cond; /* wakes the announcer early */
    struct picker picker;
    uint32_t *have_log; /* pieces in the order we verified them: peers send HAVE from it */
    uint32_t *writing;  /* per piece: copies of its blocks into its buffer in flight, outside the
                           lock (peer.c) */
    uint8_t *hash_due;  /* per piece: 1 when complete and waiting for those copies to end */
    /* The piece buffers of a download: each piece in progress is put together in one of them, is
     * written to disk whole, and is hashed from it (peer.c). The picker may have no more pieces
     * in progress than there are buffers, so a piece that needs one always finds one free. */
    unsigned char *piece_mem; /* n_bufs buffers of piece_length bytes, one after the other */
    uint32_t n_bufs;
    uint32_t *buf_of;    /* per piece: 1 + the number of its buffer; 0 when it has none */
    uint32_t *free_bufs; /* the numbers of the free buffers, a stack: the latest freed is reused
                            first, while its bytes are still in the processor's cache */
    uint32_t n_free;
    uint32_t have_log_len;
    struct smartban smartban;        /* who sent which block, to find a liar (core/smartban.h) */
    struct bitfield offer;           /* scratch, under the lock: what a peer may be asked for now */
    struct sockaddr_storage *banned; /* TORRENT_BANS addresses (ports ignored); see above */
    size_t nbanned, ban_next;
    struct peer *peers; /* every connection, live or finished but not yet reaped */
    size_t npeers;
    uint64_t next_key;
    uint64_t downloaded, uploaded; /* payload bytes: verified pieces in, blocks out */
    uint64_t wasted;               /* bytes of pieces that failed their hash */
    uint64_t hash_failures;
    uint64_t received;  /* block bytes kept (for the trace; downloaded counts verified pieces) */
    uint64_t pick_ns;   /* time spent in picker_next, in nanoseconds (for the trace) */
    struct turns turns; /* who is served now, under an upload limit (core/turns.h) */
    bool turns_on;      /* an upload limit is set and upload turns are not turned off */
    struct rate down_rate, up_rate; /* payload bytes per second, for the status line */
    struct choker choker;
    struct choker_peer *choker_peers; /* torrent_tick's scratch, grown to the number of peers */
    struct peer **choker_who;
    size_t choker_cap;
    bool stopping;
    bool announce_completed; /* the download finished: tell the tracker */
    char fatal[256];         /* set when the torrent cannot go on (a disk error) */

    /* Every byte written to a socket, messages included: what the upload limit counts. An atomic
     * counter, since the peer threads add to it without the lock. */
    _Atomic uint64_t wire_up;
    struct trace trace; /* --trace: the sampler, when cfg.trace_file is set */
    /* For tests only: called before each block is copied into its piece's buffer, without the
     * lock, so a test can hold a copy back while the other blocks of its piece arrive. NULL in
     * the programs. */
    void (*test_before_write)(struct torrent *t, uint32_t index, uint32_t begin);

    pthread_t listener, announcer;
    bool threads_started;
    unsigned made; /* MADE_* bits: what torrent_open set up, for torrent_close to undo */
};

/* Loads the .torrent file, opens the files under cfg->dir and checks which pieces are already
 * there (a download resumes from them). With seeding_only the files must exist and be complete.
 * Returns 0, or -1 with a message in err. */
int torrent_open(struct torrent *t, const char *torrent_file, const struct torrent_config *cfg,
                 bool seeding_only, char *err, size_t errlen);

/* Starts listening (t->port tells where) and the listener and announcer threads. */
int torrent_start(struct torrent *t, char *err, size_t errlen);

/* Asks the announcer to tell the tracker that the download completed. */
void torrent_announce_completed(struct torrent *t);

/* Joins and frees the peers whose threads have finished. Call it now and then. */
void torrent_reap(struct torrent *t);

/* Stops every thread, closes every connection, and tells the tracker we are leaving. */
void torrent_stop(struct torrent *t);

/* Frees everything torrent_open allocated. */
void torrent_close(struct torrent *t);

/* A snapshot of the counters, for the progress display. */
struct torrent_stats {
    uint32_t pieces_have, pieces_total;
    uint64_t bytes_have, bytes_total;
    uint64_t downloaded, uploaded, wasted;
    size_t peers;
    bool complete;
    char fatal[256];
};
void torrent_stats(struct torrent *t, struct torrent_stats *out);

/* Writes one machine-readable status line (without newline) for `minitorrent swarm`:
 * "status t_ms=... have=P/N bytes=... down_Bps=... up_Bps=... uploaded=... peers=... unchoked=A,B
 * optimistic=A|- complete=0|1", peers named by IP address. */
void torrent_status_line(struct torrent *t, uint64_t t_ms, char *out, size_t cap);

/* Runs the choker when a re-choke is due (and at once when a peer is interested while an upload
 * slot is free), and hands its decisions to the peer threads. The caller's loop calls it often. */
void torrent_tick(struct torrent *t);

/* Returns the buffer piece index is assembled in, giving it a free one when it has none yet, or
 * NULL when none is free (which the picker's limit on pieces in progress rules out). Called with
 * the lock held. */
unsigned char *torrent_piece_buffer_locked(struct torrent *t, uint32_t index);

/* Gives piece index's buffer back to the free ones (its piece was verified). Called with the
 * lock held. */
void torrent_release_buffer_locked(struct torrent *t, uint32_t index);

/* Waits until the download completes, an error stops it, a peer leaves or asks for an upload
 * slot, the torrent stops, or timeout_ms passes. */
void torrent_wait(struct torrent *t, int timeout_ms);

/* Dials a peer at addr (used by the announcer, and by tests). Returns 0, or -1 when the peer limit
 * is reached, the address is banned, or the thread cannot start. */
int torrent_add_peer(struct torrent *t, const struct sockaddr *addr, socklen_t addrlen);

/* Bans addr's IP address for the rest of the download: no connection from or to it again.
 * Called with the lock held (peer.c, when it drops a peer for bad data). */
void torrent_ban_locked(struct torrent *t, const struct sockaddr *addr);

/* Returns true when addr's IP address is banned. Called with the lock held. */
bool torrent_banned_locked(const struct torrent *t, const struct sockaddr *addr);

/* Says whether a connection that just finished its handshake may stay: the peers past their
 * handshake stay within max_peers (the idlest may be closed to make room) and those of one
 * address within max_per_address. Called with the lock held. */
bool torrent_room_for_handshaken_locked(struct torrent *t, const struct peer *p);

#endif
