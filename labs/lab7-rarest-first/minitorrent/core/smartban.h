/*
 * smartban.h - who sent the bad data? The bookkeeping that finds a lying peer. Sans-I/O.
 *
 * A piece is checked only as a whole, against its SHA-1 from the .torrent file, but its blocks
 * may come from several peers. When the hash fails, which peer lied? This module keeps the
 * record that answers it and says whom to strike; the shell keeps the strikes and drops a peer
 * that collects too many (libtorrent calls the scheme "smart ban"):
 *
 *   - every block stored is recorded with the peer that sent it (smartban_stored);
 *   - a piece that fails with every block from one peer: that peer lied (smartban_failed);
 *   - a piece that fails with blocks of several peers: the liar cannot be told yet, so the
 *     senders and a SHA-1 of each bad block are kept, and the piece is fetched again from one
 *     peer alone (smartban_offer, smartban_claim). When it then passes, every block that differs
 *     from the good copy names a liar (smartban_passed); when it fails again from one peer, that
 *     peer lied;
 *   - a block nobody asked for never enters a piece, and its sender is struck at once
 *     (smartban_admit): a peer that slips unasked blocks into pieces in progress would otherwise
 *     spoil every piece without ever being the only sender of a failed one.
 *
 * Peers are named by a number the caller chooses (never 0). No clock, socket or thread here.
 */
#ifndef SMARTBAN_H
#define SMARTBAN_H

#include "bitfield.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    SMARTBAN_BLOCK_LEN = 16384, /* the block size the record counts in (the wire's) */
    SMARTBAN_MAX_CULPRITS = 8   /* peers one verdict may name; more are let go */
};

/* A piece that failed with blocks of several peers. */
struct smartban_suspect {
    bool used;
    uint32_t index;
    uint64_t *from;              /* per block of the piece: who sent the bad copy */
    unsigned char (*digest)[20]; /* per block: SHA-1 of the bad copy */
    uint64_t refetcher;          /* the one peer fetching the piece again (0: none chosen yet) */
};

struct smartban {
    uint32_t piece_count;
    uint32_t piece_length; /* every piece but the last */
    uint64_t total_length;
    uint32_t blocks_per_piece;
    uint64_t *block_from; /* per block of the torrent: who sent the copy stored (0: nobody) */
    struct smartban_suspect *suspects;
    size_t max_suspects;
};

/* Sets up the record for a torrent. max_suspects bounds the failed pieces remembered at once
 * (0: 16); losing a record only lets a liar go unpunished for that piece. Returns 0 or -1. */
int smartban_init(struct smartban *sb, uint32_t piece_count, uint32_t piece_length,
                  uint64_t total_length, size_t max_suspects);

/* Frees the record. */
void smartban_free(struct smartban *sb);

/* How a block that arrived relates to the requests we sent its sender. */
enum smartban_origin {
    SMARTBAN_REQUESTED,  /* it answers a request still outstanding to this peer */
    SMARTBAN_WITHDRAWN,  /* it answers a request we withdrew (CANCEL, or the peer choked us):
                            an honest peer's block already on its way */
    SMARTBAN_UNREQUESTED /* we never asked this peer for it */
};

/* What to do with that block. */
enum smartban_verdict {
    SMARTBAN_KEEP,  /* hand it to the picker; store it if the picker wants it */
    SMARTBAN_DROP,  /* drop it, blame nobody */
    SMARTBAN_STRIKE /* drop it and give its sender a strike */
};

/* Decides whether an arriving block may enter its piece: only one we asked this peer for. */
enum smartban_verdict smartban_admit(enum smartban_origin origin);

/* Records that the copy of block (index, begin) now stored came from peer. */
void smartban_stored(struct smartban *sb, uint64_t peer, uint32_t index, uint32_t begin);

/* Piece index, whose bytes are in piece (its full size), failed its hash. Writes the peers to
 * strike into culprits (room for SMARTBAN_MAX_CULPRITS) and returns how many: one when a single
 * peer sent the whole piece, none when several did (then the piece becomes a suspect). */
size_t smartban_failed(struct smartban *sb, uint32_t index, const unsigned char *piece,
                       uint64_t *culprits);

/* Piece index passed its hash with these bytes. If it once failed with blocks of several peers,
 * every peer whose earlier block differs from the good one is written to culprits (once each);
 * returns how many. */
size_t smartban_passed(struct smartban *sb, uint32_t index, const unsigned char *piece,
                       uint64_t *culprits);

/* Returns the pieces peer may be asked for now: has, less the suspect pieces another peer is
 * fetching alone. Either has itself or scratch (a bitfield of piece_count bits, overwritten). */
const struct bitfield *smartban_offer(const struct smartban *sb, uint64_t peer,
                                      const struct bitfield *has, struct bitfield *scratch);

/* Peer was asked for a block of piece index: if the piece is a suspect nobody fetches alone
 * yet, peer becomes its one fetcher. */
void smartban_claim(struct smartban *sb, uint64_t peer, uint32_t index);

/* Peer left or choked us: the suspect pieces it was fetching alone go to whoever asks next. */
void smartban_release(struct smartban *sb, uint64_t peer);

/* Returns true when piece index is a suspect (failed with blocks of several peers). */
bool smartban_is_suspect(const struct smartban *sb, uint32_t index);

#endif
