/*
 * torrent.h - one torrent being shared: the state every peer thread works on.
 *
 * A running torrent is a handful of threads around one mutex:
 *   - a listener accepts peers that connect to us;
 *   - an announcer talks to the tracker now and then and dials the peers it names;
 *   - one thread per connected peer runs that connection (peer.c);
 *   - the caller's thread watches progress and decides when to stop.
 * What they share (the piece picker, which pieces we have, the list of peers, the counters) lives
 * in struct torrent and is touched only with t->lock held. The protocol decisions themselves are
 * the core's: session.c for one connection, picker.c for what to request.
 */
#ifndef TORRENT_H
#define TORRENT_H

#include "choker.h"
#include "limiter.h"
#include "metainfo.h"
#include "picker.h"
#include "rate.h"
#include "storage.h"

#include <pthread.h>
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
    uint64_t handshake_timeout_ms;    /* drop a connection with no handshake by then (default 10000,
                                         and never more than peer_timeout_ms) */
    int verbose;                      /* print connections and tracker replies */
    enum picker_policy picker_policy; /* how new pieces are chosen (default rarest first) */
    enum choker_policy choker_policy; /* who gets the upload slots (default tit-for-tat) */
    bool no_optimistic;               /* no optimistic unchoke (an experiment's baseline) */
    uint64_t peer_rate_window_ms;     /* the choker's per-peer rates average this long (20000) */
    uint64_t status_rate_window_ms;   /* the status line's rates average this long (5000) */
};

/* Fills cfg with the defaults. */
void torrent_config_defaults(struct torrent_config *cfg);

struct peer; /* one connection; see peer.h */

/* A piece that failed its hash with blocks from more than one peer. Which block was wrong cannot
 * be told yet; once the piece passes, each recorded block is compared with the good one, and the
 * peer whose block differs is the liar. (libtorrent calls this "smart ban".) */
enum { TORRENT_SUSPECTS = 16 };
struct suspect {
    bool used;
    uint32_t index;
    uint64_t *from;              /* per block of the piece: who sent the bad copy */
    unsigned char (*digest)[20]; /* per block: SHA-1 of the bad copy */
    uint64_t refetcher;          /* the one peer asked for the piece again (0: none chosen yet) */
};

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

    pthread_mutex_t lock;         /* guards everything below */
    pthread_cond_t changed;       /* a piece was verified, or the torrent is stopping */
    pthread_cond_t announce_cond; /* wakes the announcer early */
    struct picker picker;
    uint32_t *have_log; /* pieces in the order we verified them: peers send HAVE from it */
    uint32_t have_log_len;
    uint64_t *block_from; /* per 16 KiB block of the torrent: the key of the peer that sent
                             the copy on disk (0: none yet) */
    uint32_t blocks_per_piece;
    struct suspect *suspects; /* pieces that failed with blocks of several peers (peer.c) */
    struct bitfield offer;    /* scratch, under the lock: what a peer may be asked for now */
    struct peer *peers;       /* every connection, live or finished but not yet reaped */
    size_t npeers;
    uint64_t next_key;
    uint64_t downloaded, uploaded; /* payload bytes: verified pieces in, blocks out */
    uint64_t wasted;               /* bytes of pieces that failed their hash */
    uint64_t hash_failures;
    struct rate down_rate, up_rate; /* payload bytes per second, for the status line */
    struct choker choker;
    bool stopping;
    bool announce_completed; /* the download finished: tell the tracker */
    char fatal[256];         /* set when the torrent cannot go on (a disk error) */

    pthread_t listener, announcer;
    bool threads_started;
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

/* Waits until a piece is verified, the torrent stops, or timeout_ms passes. */
void torrent_wait(struct torrent *t, int timeout_ms);

/* Dials a peer at addr (used by the announcer, and by tests). Returns 0, or -1 when the peer limit
 * is reached or the thread cannot start. */
int torrent_add_peer(struct torrent *t, const struct sockaddr *addr, socklen_t addrlen);

#endif
