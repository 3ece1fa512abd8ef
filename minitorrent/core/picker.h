/*
 * picker.h - the piece picker: which block to ask a peer for next. Sans-I/O and clock-free.
 *
 * The course notes' rule is "rarest first": among the pieces a peer offers, ask for the one the
 * fewest connected peers have, so rare pieces spread before their owners leave. Real clients add
 * three refinements, and so does this picker:
 *   1. partial pieces first: finish a piece already started before starting another, because
 *      only a whole, verified piece can be passed on to others; of those, the rarest the peer
 *      has, so each peer is asked for what fewer others could send. But not before a rarer
 *      piece the peer could start: a piece spreads while we fetch it, and a seed kept busy
 *      finishing what the leechers trade anyway would hold back the pieces only it has;
 *   2. random first pieces: a newcomer with nothing to trade takes any piece at random (the
 *      rarest is slow to get, since few can send it) until it has a few. A peer with a rarer
 *      piece than the one in progress is still asked to start a new one (as in 1), or the
 *      newcomers would all finish the same few pieces and have nothing to trade;
 *   3. end game: once every missing block has been requested, the last ones are asked of
 *      several peers at once, and the losers are cancelled when the first copy arrives.
 * Ties among equally rare pieces are broken at random, from a seed, so two runs with the same seed
 * pick the same pieces and a failing test can be replayed.
 *
 * The picker keeps counts and block states only; piece data lives in the shell.
 */
#ifndef PICKER_H
#define PICKER_H

#include "bitfield.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a new piece is chosen (the refinements above apply to every policy but sequential):
 *   - rarest first, the default and the course notes' rule;
 *   - random: any piece the peer has, ignoring how many copies the swarm holds. It is the
 *     baseline an experiment compares rarest first with;
 *   - sequential: the lowest-numbered piece, as a media player streaming the file would ask.
 *     It makes every peer want the same pieces at once, so the swarm has little to trade. */
enum picker_policy { PICKER_RAREST_FIRST = 0, PICKER_RANDOM, PICKER_SEQUENTIAL };

struct picker_config {
    uint32_t piece_count;
    uint32_t piece_length;     /* every piece but the last */
    uint64_t total_length;     /* the last piece holds what is left */
    uint32_t block_length;     /* 16 KiB on the wire */
    uint32_t random_first;     /* pick at random while we have fewer pieces than this */
    uint32_t max_partial;      /* pieces in progress at once; a new one starts only below this */
    uint64_t seed;             /* for tie-breaking and random first pieces */
    enum picker_policy policy; /* 0: rarest first */
};

/* Fills cfg with the defaults (16 KiB blocks, 4 random first pieces, 64 partial pieces or enough
 * for 1024 blocks when pieces are small) and the given geometry. */
void picker_config_defaults(struct picker_config *cfg, uint32_t piece_count, uint32_t piece_length,
                            uint64_t total_length, uint64_t seed);

/* A block: piece index, byte offset inside the piece, length. */
struct picker_block {
    uint32_t index;
    uint32_t begin;
    uint32_t length;
};

/* A piece being downloaded: the state of each of its blocks. */
struct picker_partial {
    uint32_t index;
    uint32_t nblocks;
    uint32_t received;    /* blocks whose data has arrived */
    uint32_t unrequested; /* blocks no peer has been asked for */
    uint8_t *requests;    /* per block: requests for it still outstanding (asked, not answered) */
    uint8_t *have;        /* per block: 1 once its data arrived */
};

struct picker {
    struct picker_config cfg;
    struct bitfield have;           /* verified pieces */
    uint32_t *avail;                /* per piece: how many connected peers have it */
    struct picker_partial *partial; /* pieces in progress, at most cfg.max_partial */
    uint32_t npartial;
    uint8_t *in_progress; /* per piece: 1 while it is in partial[] */
    uint32_t have_count;
    uint64_t rng;
};

/* Sets up a picker for a torrent of which we already hold the pieces in `have` (NULL: none).
 * Returns 0, or -1 when memory runs out. */
int picker_init(struct picker *p, const struct picker_config *cfg, const struct bitfield *have);
void picker_free(struct picker *p);

/* ---- availability: what the connected peers have ------------------------------------------ */

/* A peer's piece set became known (BITFIELD), or a peer with that set left (remove). */
void picker_add_peer(struct picker *p, const struct bitfield *peer_has);
void picker_remove_peer(struct picker *p, const struct bitfield *peer_has);

/* A connected peer announced one more piece (HAVE). */
void picker_add_have(struct picker *p, uint32_t index);

/* ---- choosing ---------------------------------------------------------------------------------
 */

/* Tells the picker which blocks the asking peer already has outstanding, so the end game never
 * asks the same peer twice for a block. Return true when (index, begin) is outstanding. */
typedef bool (*picker_outstanding_fn)(void *ctx, uint32_t index, uint32_t begin);

/* Chooses the next block to request from a peer that has the pieces in peer_has, and records the
 * request. Returns true and fills *out, or false when the peer has nothing we still need (or, in
 * the end game, nothing it has not already been asked for). */
bool picker_next(struct picker *p, const struct bitfield *peer_has, picker_outstanding_fn busy,
                 void *ctx, struct picker_block *out);

/* Gives back a request that will not be answered: the peer choked us or left, or we sent CANCEL
 * for it because picker_block_done says another peer's copy arrived first (end game). The
 * request the arriving block answered is not given back: picker_received closes it. */
void picker_giveup(struct picker *p, const struct picker_block *b);

/* ---- arrivals -----------------------------------------------------------------------------------
 */

enum picker_arrival {
    PICKER_BLOCK_NEW,       /* stored: the shell keeps its data */
    PICKER_PIECE_COMPLETE,  /* stored, and every block of the piece is in: verify it now */
    PICKER_BLOCK_DUPLICATE, /* we already had it (the end game asked twice): drop the data */
    PICKER_BLOCK_UNWANTED   /* not a block of a piece in progress, or a wrong size: drop it */
};

/* Records that a block's data arrived, and counts the request it answers as no longer
 * outstanding. */
enum picker_arrival picker_received(struct picker *p, const struct picker_block *b);

/* After PICKER_PIECE_COMPLETE the shell hashes the piece and reports the verdict: a good piece
 * becomes ours; a bad one is started again from scratch. */
void picker_verified(struct picker *p, uint32_t index, bool good);

/* ---- questions
 * ----------------------------------------------------------------------------------- */

/* True when every piece is ours. */
bool picker_complete(const struct picker *p);

/* True once every block we lack has been requested at least once: the end game. */
bool picker_endgame(const struct picker *p);

/* True when the block's data has arrived already (so an outstanding request for it can be
 * cancelled), or its piece is ours. */
bool picker_block_done(const struct picker *p, uint32_t index, uint32_t begin);

/* True when peer_has holds a piece we lack: whether to be interested in that peer. */
bool picker_interesting(const struct picker *p, const struct bitfield *peer_has);

/* The size of piece index (the last is usually shorter). */
uint32_t picker_piece_size(const struct picker *p, uint32_t index);

#endif
