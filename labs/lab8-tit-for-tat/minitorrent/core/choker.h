/*
 * choker.h - tit-for-tat: whom we upload to. Sans-I/O and clock-free: the peers' state and the
 * time come in as parameters, and the decision goes out in the same array.
 *
 * The course notes' rule (BEP 3, "choking and optimistic unchoking"):
 *   - every 10 s (rechoke_ms), unchoke the 4 (upload_slots) interested peers that send to us
 *     fastest, and choke the others. Changing the set only every 10 s keeps TCP connections
 *     from being switched on and off faster than their congestion window can open;
 *   - every 30 s (every optimistic_every-th re-choke), move one more "optimistic" unchoke to a
 *     random choked, interested peer, whatever its rate. A newcomer has nothing to offer yet, so
 *     without this it would never get its first piece; and it is how we find out whether a peer
 *     we are not trading with would be faster than the current four. Between rotations the
 *     optimistic peer stays unchoked even if it is not among the fastest;
 *   - while seeding we download nothing, so the rate that ranks peers is how fast we upload to
 *     them (the peers that take our data fastest spread it fastest).
 *
 * Decisions this module makes, and what real clients do instead:
 *   - Uninterested peers are never unchoked: they would not request anything. BEP 3 lets a
 *     client unchoke uninterested peers that upload fast, so that they are ready the moment
 *     they become interested; mainline BitTorrent did, most clients since do not bother.
 *   - Snubbed peers (we want their data, but they sent us nothing for snub_ms) lose their
 *     regular slot, as the BitTorrent spec's anti-snubbing rule says, but may still win the
 *     optimistic one. Real clients also give extra optimistic slots when snubbed.
 *   - Equal rates are broken by the lower id. At start-up, when every rate is 0, the regular
 *     slots therefore go to the lowest ids; the optimistic slot moves among the rest. (Real
 *     clients prefer peers already unchoked, or newly connected ones for the optimistic slot.)
 *   - The optimistic peer has its own slot: at most upload_slots + 1 peers are unchoked. It is
 *     left out of the regular ranking until the next rotation, where it competes like any other.
 *   - A forced run (a peer joined or left) recomputes the regular slots, and fills the
 *     optimistic slot if it is empty, but does not move the 10 s and 30 s schedule.
 * Random choices come from a generator seeded by cfg.seed, so a run replays exactly.
 */
#ifndef CHOKER_H
#define CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who gets the regular slots:
 *   - tit-for-tat, the default: the peers that send to us fastest (above);
 *   - round-robin: the interested peers in turn, by id, whatever their rates, upload_slots of
 *     them per re-choke. No client does this; it is the baseline that shows what tit-for-tat
 *     buys, since it gives a free rider the same share as a peer that uploads. */
enum choker_policy { CHOKER_TIT_FOR_TAT = 0, CHOKER_ROUND_ROBIN };

struct choker_config {
    unsigned upload_slots;     /* regular unchoke slots; 4 */
    uint64_t rechoke_ms;       /* how often the slots are re-evaluated; 10000 */
    unsigned optimistic_every; /* rotate the optimistic slot every n-th re-choke; 3 (30 s).
                                  0: no optimistic unchoke at all */
    uint64_t snub_ms;          /* silence after which a peer counts as snubbing us; 60000 */
    uint64_t seed;             /* for the random optimistic choices */
    enum choker_policy policy; /* 0: tit-for-tat */
};

/* Fills cfg with the defaults above and the given seed. */
void choker_config_defaults(struct choker_config *cfg, uint64_t seed);

/* One per connected peer, filled by the shell before each choker_run. */
struct choker_peer {
    uint64_t id;           /* stable key, unique among the connected peers */
    bool interested;       /* the peer is interested in us */
    bool snubbed;          /* we are interested but it sent us nothing for snub_ms */
    uint64_t rate_to_us;   /* bytes/s it sends us (rolling window) */
    uint64_t rate_from_us; /* bytes/s we send it */
    bool unchoked;         /* output: unchoke it */
    bool optimistic;       /* output: it holds the optimistic slot */
};

struct choker {
    struct choker_config cfg;
    uint64_t round;         /* scheduled re-chokes run so far */
    uint64_t next_ms;       /* when the next scheduled re-choke is due */
    bool has_optimistic;    /* whether optimistic_id names a peer */
    uint64_t optimistic_id; /* the peer holding the optimistic slot */
    uint64_t rng;           /* xorshift64* state, never 0 */
    /* Round-robin: the turn goes on after rr_base (the last peer served in the previous round);
     * rr_last is the last one served in this round, the next round's base. */
    uint64_t rr_base, rr_last;
};

/* Sets up a choker whose first re-choke is due at now_ms. Zero upload_slots is allowed (only the
 * optimistic slot); rechoke_ms 0 is taken as 1 ms. */
void choker_init(struct choker *c, const struct choker_config *cfg, uint64_t now_ms);

/* Runs a re-choke if one is due at now_ms, or if force is true (a peer joined or left), setting
 * unchoked and optimistic on every peer, and returns true. When nothing is due it returns false
 * and leaves the array untouched: the shell keeps the choke states it has. seeding selects the
 * rate: rate_from_us while seeding, rate_to_us otherwise. A scheduled run that comes late (the
 * shell was busy) counts as one round and the next is due on the rechoke_ms grid after now_ms. */
bool choker_run(struct choker *c, struct choker_peer *peers, size_t n, bool seeding,
                uint64_t now_ms, bool force);

/* Returns when the next scheduled re-choke is due: the shell's timer deadline. */
uint64_t choker_next_ms(const struct choker *c);

/* Returns whether a peer snubs us: we are interested in it, and it has sent us no block since
 * last_block_ms (its connection time, if it never sent one) for cfg->snub_ms or longer. */
bool choker_is_snubbed(const struct choker_config *cfg, bool am_interested, uint64_t last_block_ms,
                       uint64_t now_ms);

#endif
