/*
 * tracker_state.h - what a tracker remembers: torrents, their peers, and their counters.
 *
 * A tracker is a phone book. Each torrent (found by its 20-byte info hash) lists the peers that
 * announced it recently, each found by its 20-byte PEER ID. A peer that has not announced for
 * peer_ttl_s seconds is forgotten, because it probably left without saying "stopped".
 *
 * Peer ids are not secrets: a non-compact reply lists them for everyone to read. So an announce
 * may change or remove an entry only when it comes from the entry's own address and port, or
 * carries the same BEP 7 "key" as the announce that made the entry (a client sends a random key
 * it tells nobody else, precisely so that it can move to a new address and still be known).
 * Anything else is refused (TRACKER_STATE_EDENIED): otherwise anyone who read a peer's id could
 * move that peer's entry to an address of their choosing, or delete it with "stopped".
 *
 * The state does no I/O and reads no clock: every operation takes `now` in seconds, so a test can
 * run an hour of tracker life in a microsecond, and takes its randomness from a caller's seed.
 *
 * Memory is bounded. There are caps on torrents, on peers per torrent and on peers in total; when
 * one is reached a NEW torrent or peer is REFUSED (TRACKER_STATE_EFULL, with a message the shell
 * sends back as a "failure reason"), while peers already known keep being updated. A flood of
 * announces with random info hashes or peer ids therefore fills the tracker up to its caps and no
 * further, and the flood's entries leave by expiry once it stops. (Evicting the stalest entry
 * instead would let a flood push out real peers; refusing keeps the peers that were there first.)
 *
 * The caps alone would still let ONE sender fill the tracker, so there are caps per address too:
 * one address may appear in only so many torrents, hold only so many peer entries in all, and
 * only so many in one torrent (by default a sixteenth of each table). An IPv6 "address" here is
 * its /64 prefix, because one subscriber usually gets a whole /64 and could otherwise use 2^64
 * addresses. A real tracker adds more (rate limits, a /24 grouping for IPv4 behind one provider);
 * these caps make a flood from one machine cost the others only a small share of the tables.
 *
 * Data structures: per table, a dense array of entries plus an open-addressing hash index
 * (linear probing, at most half full, backward-shift deletion). Lookup, insert and delete are O(1)
 * on average; the index hashes ids with SipHash under a key from the caller's seed, so peers that
 * choose their ids cannot pile them into one probe chain. Expiry sweeps everything, O(peers).
 */
#ifndef TRACKER_STATE_H
#define TRACKER_STATE_H

#include "tracker_udp.h" /* struct tracker_peer, enum tracker_event, struct tracker_scrape_counts */

#include <stddef.h>
#include <stdint.h>

/* Limits and timing; tracker_state_config_default() fills sensible values. */
struct tracker_state_config {
    size_t max_torrents;          /* torrents tracked at once */
    size_t max_peers_per_torrent; /* peers in one swarm */
    size_t max_peers_total;       /* peers over all swarms */
    int64_t peer_ttl_s;           /* forget a peer not heard from for longer; e.g. 2 x interval */
    /* The caps per address (an IPv4 address or an IPv6 /64). 0 picks the default: a sixteenth of
     * the matching cap above, but at least 16 (or the whole cap when that is smaller). */
    size_t max_torrents_per_addr;      /* torrents in which one address has a peer */
    size_t max_peers_per_addr;         /* peer entries of one address, over all torrents */
    size_t max_peers_per_addr_torrent; /* peer entries of one address in one torrent */
};

#define TRACKER_STATE_PICK_MAX 200 /* most peers one reply may list, whatever numwant says */
#define TRACKER_STATE_LIMIT_MAX (1u << 24) /* the largest cap the config may set */
#define TRACKER_STATE_KEY_MAX 32           /* the longest BEP 7 key kept; HTTP refuses longer */

/* A hash index over a dense array: slot holds (array position + 1), 0 when empty. */
struct tracker_index {
    uint32_t *slot;
    size_t mask; /* number of slots - 1; the number of slots is a power of two */
};

/* One peer the tracker knows. */
struct tracker_state_peer {
    struct tracker_peer addr;                 /* address, port and peer id (the key) */
    uint64_t left;                            /* bytes still missing: 0 means seeder */
    int64_t last_seen;                        /* `now` of its latest announce */
    int completed;                            /* 1 once its "completed" event was counted */
    unsigned char key[TRACKER_STATE_KEY_MAX]; /* the BEP 7 key it announced with */
    size_t key_len;                           /* 0: it sent none */
    /* Its rates, from the "uploaded" and "downloaded" counters of two announces: the counters
     * and the time (in ms) of the latest one, and the bytes per second between it and the one
     * before. Both rates are 0 after its first announce and after a counter went down. */
    uint64_t uploaded, downloaded;
    int64_t counted_ms;
    uint64_t up_Bps, down_Bps;
};

/* How many peer entries one address holds: in one torrent (torrents unused), or over the whole
 * tracker (torrents: in how many torrents it has at least one). Keyed by addr_key: the family,
 * then the address bytes that count (all 4 of IPv4, the first 8 of IPv6), zeros after. */
struct tracker_addr {
    unsigned char addr_key[20];
    uint32_t peers;
    uint32_t torrents;
};

/* A table of addresses with its index, like the torrent and peer tables. */
struct tracker_addr_table {
    struct tracker_addr *items;
    size_t n, cap;
    struct tracker_index index;
};

/* One torrent's swarm. */
struct tracker_torrent {
    unsigned char info_hash[20]; /* the key */
    struct tracker_state_peer *peers;
    size_t npeers, cap;
    struct tracker_index index;
    uint32_t seeders;                /* peers with left == 0, kept up to date on every change */
    uint32_t downloaded;             /* "completed" events seen; forgotten with the torrent */
    struct tracker_addr_table addrs; /* peer entries per address in this torrent */
};

/* The whole tracker. Caller-owned: tracker_state_init() / tracker_state_free(). */
struct tracker_state {
    struct tracker_state_config cfg;
    struct tracker_torrent *torrents;
    size_t ntorrents, cap;
    struct tracker_index index;
    size_t npeers_total;
    struct tracker_addr_table addrs; /* peer entries and torrents per address, over all */
    unsigned char hash_key[16];
};

/* What one announce tells the tracker. */
struct tracker_state_announce {
    unsigned char info_hash[20];
    struct tracker_peer peer; /* family, ip, port, peer_id (has_peer_id is ignored) */
    uint64_t left;
    enum tracker_event event;
    unsigned char key[TRACKER_STATE_KEY_MAX]; /* the BEP 7 key, if the client sent one */
    size_t key_len;                           /* 0: no key */
    uint64_t uploaded, downloaded;            /* the client's byte counters since it started */
    /* The caller's clock in milliseconds, for the rates only. Announces come seconds apart, and
     * a difference of whole seconds would make a rate up to half wrong; peer expiry keeps to
     * the seconds of `now`. */
    int64_t now_ms;
};

enum tracker_state_result {
    TRACKER_STATE_OK = 0,
    TRACKER_STATE_EFULL = -1, /* a cap refused a new torrent or peer */
    TRACKER_STATE_ENOMEM = -2,
    TRACKER_STATE_EINVAL = -3, /* bad configuration or argument */
    TRACKER_STATE_EDENIED = -4 /* the peer id belongs to another address and key */
};

/* Fills cfg with the defaults: 1024 torrents, 10000 peers per torrent, 100000 in total, a
 * time-to-live of twice the given announce interval, and per address 64 torrents, 6250 peers in
 * all and 625 in one torrent. */
void tracker_state_config_default(struct tracker_state_config *cfg, int64_t interval_s);

/* Prepares an empty tracker; seed keys the hash index. Returns 0, or a negative result with a
 * message in err when the configuration is out of range. */
int tracker_state_init(struct tracker_state *ts, const struct tracker_state_config *cfg,
                       uint64_t seed, char *err, size_t errlen);

/* Frees every torrent and peer; ts can be initialised again afterwards. */
void tracker_state_free(struct tracker_state *ts);

/* Records an announce at time now: inserts or updates the peer (event "stopped" removes it, and
 * a torrent left without peers is forgotten), and counts a peer's first "completed" event. The
 * peer's up and down rates become the growth of its "uploaded" and "downloaded" counters since
 * its previous announce, divided by the time between the two (a->now_ms); a counter that went
 * down (a restarted client counts from 0 again) resets both rates to 0, and an announce at the
 * same millisecond as the previous one leaves them as they were. An
 * existing entry is changed only by an announce from its address and port or with its key (see
 * the top of this file); a new one only within the caps. Returns TRACKER_STATE_OK, or a
 * negative result with a message in err: TRACKER_STATE_EFULL (a cap), TRACKER_STATE_EDENIED
 * (someone else's peer id), TRACKER_STATE_ENOMEM or TRACKER_STATE_EINVAL. */
int tracker_state_announce(struct tracker_state *ts, const struct tracker_state_announce *a,
                           int64_t now, char *err, size_t errlen);

/* Chooses up to numwant peers of a torrent (never more than TRACKER_STATE_PICK_MAX), uniformly at
 * random, leaving out the peer whose id is exclude_id (NULL to leave out no one). Writes them to
 * out and returns how many; rng is the caller's random state, advanced by the call. */
size_t tracker_state_pick(const struct tracker_state *ts, const unsigned char info_hash[20],
                          const unsigned char *exclude_id, struct tracker_peer *out, size_t numwant,
                          uint64_t *rng);

/* Forgets every peer whose last announce is older than peer_ttl_s at time now, and every torrent
 * left without peers. Returns the number of peers removed. Call it every few seconds. */
size_t tracker_state_expire(struct tracker_state *ts, int64_t now);

/* Fills the scrape counts of one torrent (zeros for an unknown one); returns 1 when the tracker
 * knows the torrent, else 0. */
int tracker_state_scrape(const struct tracker_state *ts, const unsigned char info_hash[20],
                         struct tracker_scrape_counts *out);

/* Checks every invariant (indexes agree with arrays, counters match, caps hold); returns 0, or -1
 * with the first broken one in err. For tests and debugging. */
int tracker_state_check(const struct tracker_state *ts, char *err, size_t errlen);

/* One step of the splitmix64 generator: a small, good, seedable source for tracker_state_pick. */
uint64_t tracker_state_rand(uint64_t *rng);

#endif
