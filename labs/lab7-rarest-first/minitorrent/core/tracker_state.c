/*
 * tracker_state.c - the tracker's memory (see tracker_state.h).
 *
 * Three tables have the same shape: the torrents (keyed by info hash), inside each torrent its
 * peers (keyed by peer id), and the addresses (keyed by a 20-byte form of the IP address) that
 * count the entries of each address, once per torrent and once over the whole tracker. Every key
 * is 20 bytes, so one small hash index serves all three. An index
 * does not own the entries: it maps a key to a position in a dense array, which keeps iteration
 * (expiry, picking peers) a plain loop over memory. Removing entry i moves the array's last entry
 * into position i ("swap-remove") and tells the index where it went.
 */
#include "tracker_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- small helpers */

/* Writes a message into the caller's error buffer, if it gave one. */
static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* Advances a splitmix64 state and returns the next 64 random bits. */
uint64_t tracker_state_rand(uint64_t *rng)
{
    uint64_t z = (*rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Returns a random number in [0, n) for n > 0; the modulo bias is negligible for n < 2^32. */
static size_t rand_below(uint64_t *rng, size_t n)
{
    return (size_t)(tracker_state_rand(rng) % n);
}

/* ---------------------------------------------------------------- the hash index */

/*
 * A "table" describes a dense array for the index functions: where it starts, how big an entry
 * is, and at which offset inside an entry the 20-byte key sits.
 */
struct table {
    const unsigned char *base;
    size_t stride, key_off;
    const unsigned char *hash_key;
};

/* Returns the key of entry pos of a table. */
static const unsigned char *table_key(const struct table *t, size_t pos)
{
    return t->base + pos * t->stride + t->key_off;
}

/* Hashes a 20-byte key into a home slot of the index. */
static size_t home_slot(const struct table *t, const struct tracker_index *ix,
                        const unsigned char *key)
{
    return (size_t)tracker_udp_siphash(t->hash_key, key, 20) & ix->mask;
}

/* Probes for key: returns the slot that holds it (*found = 1) or the empty slot where it would
 * go (*found = 0). The index is at most half full, so an empty slot always ends the search. */
static size_t index_probe(const struct table *t, const struct tracker_index *ix,
                          const unsigned char *key, int *found)
{
    size_t i = home_slot(t, ix, key);
    for (;;) {
        uint32_t s = ix->slot[i];
        if (s == 0) {
            *found = 0;
            return i;
        }
        if (memcmp(table_key(t, s - 1), key, 20) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & ix->mask;
    }
}

/* Finds key in a table; returns its array position, or -1. */
static long index_find(const struct table *t, const struct tracker_index *ix,
                       const unsigned char *key)
{
    int found;
    if (ix->slot == NULL)
        return -1;
    size_t i = index_probe(t, ix, key, &found);
    return found ? (long)ix->slot[i] - 1 : -1;
}

/*
 * Empties slot i without breaking later probe chains (backward-shift deletion): each following
 * entry whose home slot is not in the cyclic range (i, j] could have sat in the hole, so it moves
 * back into it, and the hole moves to where it was. Linear probing needs this or "tombstones".
 */
static void index_delete_slot(const struct table *t, struct tracker_index *ix, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & ix->mask;
        if (ix->slot[j] == 0)
            break;
        size_t home = home_slot(t, ix, table_key(t, ix->slot[j] - 1));
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            ix->slot[i] = ix->slot[j];
            i = j;
        }
    }
    ix->slot[i] = 0;
}

/* Builds a fresh index with room for cap entries over the first n entries of a table. Returns 0,
 * or -1 when out of memory (the old index is then kept). */
static int index_rebuild(const struct table *t, struct tracker_index *ix, size_t cap, size_t n)
{
    size_t slots = 8;
    while (slots < 2 * cap)
        slots *= 2;
    uint32_t *s = calloc(slots, sizeof *s);
    if (s == NULL)
        return -1;
    free(ix->slot);
    ix->slot = s;
    ix->mask = slots - 1;
    for (size_t pos = 0; pos < n; pos++) {
        int found;
        size_t i = index_probe(t, ix, table_key(t, pos), &found);
        ix->slot[i] = (uint32_t)(pos + 1);
    }
    return 0;
}

/*
 * Removes entry pos from a dense array of n entries and from its index: the last entry moves into
 * pos, and its slot is pointed at the new position. The caller then decrements its count.
 */
static void table_swap_remove(const struct table *t, struct tracker_index *ix, unsigned char *base,
                              size_t pos, size_t n)
{
    int found;
    size_t i = index_probe(t, ix, table_key(t, pos), &found);
    index_delete_slot(t, ix, i);
    size_t last = n - 1;
    if (pos != last) {
        size_t j = index_probe(t, ix, table_key(t, last), &found);
        ix->slot[j] = (uint32_t)(pos + 1);
        memcpy(base + pos * t->stride, base + last * t->stride, t->stride);
    }
}

/* Describes the torrent array of ts as a table. */
static struct table torrent_table(const struct tracker_state *ts)
{
    struct table t = {(const unsigned char *)ts->torrents, sizeof(struct tracker_torrent),
                      offsetof(struct tracker_torrent, info_hash), ts->hash_key};
    return t;
}

/* Describes the peer array of one torrent as a table. */
static struct table peer_table(const struct tracker_state *ts, const struct tracker_torrent *tor)
{
    struct table t = {(const unsigned char *)tor->peers, sizeof(struct tracker_state_peer),
                      offsetof(struct tracker_state_peer, addr) +
                          offsetof(struct tracker_peer, peer_id),
                      ts->hash_key};
    return t;
}

/* Describes an address table as a table. */
static struct table addr_table(const struct tracker_state *ts, const struct tracker_addr_table *at)
{
    struct table t = {(const unsigned char *)at->items, sizeof(struct tracker_addr),
                      offsetof(struct tracker_addr, addr_key), ts->hash_key};
    return t;
}

/* ---------------------------------------------------------------- set-up */

/* Fills the default configuration; see tracker_state.h. */
void tracker_state_config_default(struct tracker_state_config *cfg, int64_t interval_s)
{
    cfg->max_torrents = 1024;
    cfg->max_peers_per_torrent = 10000;
    cfg->max_peers_total = 100000;
    cfg->peer_ttl_s = 2 * interval_s;
    cfg->max_torrents_per_addr = 64;
    cfg->max_peers_per_addr = 6250;
    cfg->max_peers_per_addr_torrent = 625;
}

/* Returns the default cap per address for a table of the given cap: a sixteenth of it, but at
 * least 16, so that a small tracker (a test's) still lets one address do something useful. */
static size_t share_of(size_t cap)
{
    size_t s = cap / 16;
    if (s < 16)
        s = cap < 16 ? cap : 16;
    return s;
}

/* Prepares an empty tracker; see tracker_state.h. */
int tracker_state_init(struct tracker_state *ts, const struct tracker_state_config *cfg,
                       uint64_t seed, char *err, size_t errlen)
{
    memset(ts, 0, sizeof *ts);
    if (cfg->max_torrents == 0 || cfg->max_peers_per_torrent == 0 || cfg->max_peers_total == 0 ||
        cfg->max_torrents > TRACKER_STATE_LIMIT_MAX ||
        cfg->max_peers_per_torrent > TRACKER_STATE_LIMIT_MAX ||
        cfg->max_peers_total > TRACKER_STATE_LIMIT_MAX || cfg->peer_ttl_s <= 0) {
        set_err(err, errlen, "tracker limits must be 1..2^24 and the peer time-to-live positive");
        return TRACKER_STATE_EINVAL;
    }
    ts->cfg = *cfg;
    if (ts->cfg.max_torrents_per_addr == 0)
        ts->cfg.max_torrents_per_addr = share_of(cfg->max_torrents);
    if (ts->cfg.max_peers_per_addr == 0)
        ts->cfg.max_peers_per_addr = share_of(cfg->max_peers_total);
    if (ts->cfg.max_peers_per_addr_torrent == 0)
        ts->cfg.max_peers_per_addr_torrent = share_of(cfg->max_peers_per_torrent);
    if (ts->cfg.max_torrents_per_addr > cfg->max_torrents ||
        ts->cfg.max_peers_per_addr > cfg->max_peers_total ||
        ts->cfg.max_peers_per_addr_torrent > cfg->max_peers_per_torrent) {
        set_err(err, errlen, "a cap per address must not exceed the tracker's cap");
        memset(ts, 0, sizeof *ts);
        return TRACKER_STATE_EINVAL;
    }
    /* The hash key comes from the seed through the generator, so nearby seeds give unrelated
     * keys. The shell seeds from /dev/urandom; tests use a fixed seed. */
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = tracker_state_rand(&seed);
        for (int k = 0; k < 8; k++)
            ts->hash_key[i + k] = (unsigned char)(r >> (8 * k));
    }
    return TRACKER_STATE_OK;
}

/* Frees an address table's memory. */
static void addrs_free(struct tracker_addr_table *at)
{
    free(at->items);
    free(at->index.slot);
    memset(at, 0, sizeof *at);
}

/* Frees one torrent's memory. */
static void torrent_free(struct tracker_torrent *tor)
{
    free(tor->peers);
    free(tor->index.slot);
    addrs_free(&tor->addrs);
    memset(tor, 0, sizeof *tor);
}

/* Frees everything; see tracker_state.h. */
void tracker_state_free(struct tracker_state *ts)
{
    for (size_t i = 0; i < ts->ntorrents; i++)
        torrent_free(&ts->torrents[i]);
    free(ts->torrents);
    free(ts->index.slot);
    addrs_free(&ts->addrs);
    struct tracker_state_config cfg = ts->cfg;
    memset(ts, 0, sizeof *ts);
    ts->cfg = cfg;
}

/* ---------------------------------------------------------------- growing and shrinking */

/* Returns the next capacity for an array that is full at cap, never above limit. */
static size_t grow_cap(size_t cap, size_t limit)
{
    size_t next = cap == 0 ? 4 : 2 * cap;
    return next > limit ? limit : next;
}

/* Makes room for one more torrent; returns 0, or -1 when out of memory. */
static int torrents_reserve(struct tracker_state *ts)
{
    if (ts->ntorrents < ts->cap)
        return 0;
    size_t cap = grow_cap(ts->cap, ts->cfg.max_torrents);
    struct tracker_torrent *arr = realloc(ts->torrents, cap * sizeof *arr);
    if (arr == NULL)
        return -1;
    ts->torrents = arr;
    struct table t = torrent_table(ts);
    if (index_rebuild(&t, &ts->index, cap, ts->ntorrents) < 0)
        return -1; /* the larger array is kept; ts->cap stays, so nothing is inconsistent */
    ts->cap = cap;
    return 0;
}

/* Makes room for one more peer in a torrent; returns 0, or -1 when out of memory. */
static int peers_reserve(const struct tracker_state *ts, struct tracker_torrent *tor)
{
    if (tor->npeers < tor->cap)
        return 0;
    size_t cap = grow_cap(tor->cap, ts->cfg.max_peers_per_torrent);
    struct tracker_state_peer *arr = realloc(tor->peers, cap * sizeof *arr);
    if (arr == NULL)
        return -1;
    tor->peers = arr;
    struct table t = peer_table(ts, tor);
    if (index_rebuild(&t, &tor->index, cap, tor->npeers) < 0)
        return -1;
    tor->cap = cap;
    return 0;
}

/* ---------------------------------------------------------------- counting per address */

/* Writes the key under which an address is counted: the family, then the 4 bytes of an IPv4
 * address or the first 8 of an IPv6 one (its /64: one subscriber's usual share), zeros after. */
static void addr_key_of(const struct tracker_peer *p, unsigned char key[20])
{
    memset(key, 0, 20);
    key[0] = (unsigned char)p->family;
    memcpy(key + 1, p->ip, p->family == 4 ? 4 : 8);
}

/* Finds an address in a table; returns its entry, or NULL. */
static struct tracker_addr *addr_find(const struct tracker_state *ts,
                                      const struct tracker_addr_table *at,
                                      const unsigned char key[20])
{
    struct table t = addr_table(ts, at);
    long pos = index_find(&t, &at->index, key);
    return pos < 0 ? NULL : &at->items[pos];
}

/* Makes room for one more address in a table that may hold up to limit; returns 0 or -1. */
static int addrs_reserve(const struct tracker_state *ts, struct tracker_addr_table *at,
                         size_t limit)
{
    if (at->n < at->cap)
        return 0;
    size_t cap = grow_cap(at->cap, limit);
    struct tracker_addr *arr = realloc(at->items, cap * sizeof *arr);
    if (arr == NULL)
        return -1;
    at->items = arr;
    struct table t = addr_table(ts, at);
    if (index_rebuild(&t, &at->index, cap, at->n) < 0)
        return -1;
    at->cap = cap;
    return 0;
}

/* Returns the entry of an address, adding it with zero counts when it is new. The caller has
 * reserved room, so this cannot fail. */
static struct tracker_addr *addr_get(const struct tracker_state *ts, struct tracker_addr_table *at,
                                     const unsigned char key[20])
{
    struct table t = addr_table(ts, at);
    int found;
    size_t i = index_probe(&t, &at->index, key, &found);
    if (found)
        return &at->items[at->index.slot[i] - 1];
    struct tracker_addr *e = &at->items[at->n];
    memset(e, 0, sizeof *e);
    memcpy(e->addr_key, key, 20);
    at->index.slot[i] = (uint32_t)(at->n + 1);
    at->n++;
    return e;
}

/* Forgets the entry e of an address table (its counts reached zero). */
static void addr_drop(const struct tracker_state *ts, struct tracker_addr_table *at,
                      struct tracker_addr *e)
{
    struct table t = addr_table(ts, at);
    table_swap_remove(&t, &at->index, (unsigned char *)at->items, (size_t)(e - at->items), at->n);
    at->n--;
}

/* Tells whether the address with this key may hold one more peer entry in torrent tor (NULL: a
 * torrent that does not exist yet). Returns TRACKER_STATE_OK or TRACKER_STATE_EFULL with a
 * message. */
static int addr_may_join(const struct tracker_state *ts, const struct tracker_torrent *tor,
                         const unsigned char key[20], char *err, size_t errlen)
{
    const struct tracker_addr *here = tor != NULL ? addr_find(ts, &tor->addrs, key) : NULL;
    const struct tracker_addr *all = addr_find(ts, &ts->addrs, key);
    if (here != NULL && here->peers >= ts->cfg.max_peers_per_addr_torrent) {
        set_err(err, errlen, "tracker full for your address: too many peers in this torrent");
        return TRACKER_STATE_EFULL;
    }
    if (all != NULL && all->peers >= ts->cfg.max_peers_per_addr) {
        set_err(err, errlen, "tracker full for your address: too many peers");
        return TRACKER_STATE_EFULL;
    }
    if (here == NULL && all != NULL && all->torrents >= ts->cfg.max_torrents_per_addr) {
        set_err(err, errlen, "tracker full for your address: too many torrents");
        return TRACKER_STATE_EFULL;
    }
    return TRACKER_STATE_OK;
}

/* Reserves room to count one more entry of an address in tor and over the tracker. */
static int addr_reserve_join(struct tracker_state *ts, struct tracker_torrent *tor)
{
    if (addrs_reserve(ts, &ts->addrs, ts->cfg.max_peers_total) < 0)
        return -1;
    return addrs_reserve(ts, &tor->addrs, ts->cfg.max_peers_per_torrent);
}

/* Counts one more peer entry of an address in tor; addr_reserve_join() made the room. */
static void addr_join(struct tracker_state *ts, struct tracker_torrent *tor,
                      const unsigned char key[20])
{
    struct tracker_addr *here = addr_get(ts, &tor->addrs, key);
    struct tracker_addr *all = addr_get(ts, &ts->addrs, key);
    here->peers++;
    all->peers++;
    if (here->peers == 1)
        all->torrents++;
}

/* Counts one peer entry of an address in tor less, forgetting the address where it reaches 0. */
static void addr_leave(struct tracker_state *ts, struct tracker_torrent *tor,
                       const unsigned char key[20])
{
    struct tracker_addr *here = addr_find(ts, &tor->addrs, key);
    struct tracker_addr *all = addr_find(ts, &ts->addrs, key);
    if (here == NULL || all == NULL)
        return; /* cannot happen while the invariants hold; tracker_state_check() says so */
    here->peers--;
    all->peers--;
    if (here->peers == 0) {
        all->torrents--;
        addr_drop(ts, &tor->addrs, here);
    }
    if (all->peers == 0)
        addr_drop(ts, &ts->addrs, all);
}

/* Removes peer pos of a torrent, keeping the counters right. */
static void peer_remove(struct tracker_state *ts, struct tracker_torrent *tor, size_t pos)
{
    unsigned char key[20];
    addr_key_of(&tor->peers[pos].addr, key);
    addr_leave(ts, tor, key);
    if (tor->peers[pos].left == 0)
        tor->seeders--;
    struct table t = peer_table(ts, tor);
    table_swap_remove(&t, &tor->index, (unsigned char *)tor->peers, pos, tor->npeers);
    tor->npeers--;
    ts->npeers_total--;
}

/* Forgets torrent pos (which has no peers left). */
static void torrent_remove(struct tracker_state *ts, size_t pos)
{
    struct tracker_torrent gone = ts->torrents[pos];
    struct table t = torrent_table(ts);
    table_swap_remove(&t, &ts->index, (unsigned char *)ts->torrents, pos, ts->ntorrents);
    ts->ntorrents--;
    /* Free after the index update: the swap-remove still read the old entry's key. */
    torrent_free(&gone);
}

/* ---------------------------------------------------------------- announce */

/* Finds a torrent, or adds an empty one; returns its position, or a negative result. */
static long torrent_find_or_add(struct tracker_state *ts, const unsigned char info_hash[20],
                                char *err, size_t errlen)
{
    struct table t = torrent_table(ts);
    long pos = index_find(&t, &ts->index, info_hash);
    if (pos >= 0)
        return pos;
    if (ts->ntorrents >= ts->cfg.max_torrents) {
        set_err(err, errlen, "tracker full: too many torrents");
        return TRACKER_STATE_EFULL;
    }
    if (torrents_reserve(ts) < 0) {
        set_err(err, errlen, "out of memory");
        return TRACKER_STATE_ENOMEM;
    }
    t = torrent_table(ts); /* the array may have moved */
    struct tracker_torrent *tor = &ts->torrents[ts->ntorrents];
    memset(tor, 0, sizeof *tor);
    memcpy(tor->info_hash, info_hash, 20);
    int found;
    size_t i = index_probe(&t, &ts->index, info_hash, &found);
    ts->index.slot[i] = (uint32_t)(ts->ntorrents + 1);
    return (long)ts->ntorrents++;
}

/* Adds a new peer to a torrent; returns its position, or a negative result. */
static long peer_add(struct tracker_state *ts, struct tracker_torrent *tor,
                     const struct tracker_peer *addr, char *err, size_t errlen)
{
    if (tor->npeers >= ts->cfg.max_peers_per_torrent) {
        set_err(err, errlen, "tracker full: too many peers in this torrent");
        return TRACKER_STATE_EFULL;
    }
    if (ts->npeers_total >= ts->cfg.max_peers_total) {
        set_err(err, errlen, "tracker full: too many peers");
        return TRACKER_STATE_EFULL;
    }
    if (peers_reserve(ts, tor) < 0 || addr_reserve_join(ts, tor) < 0) {
        set_err(err, errlen, "out of memory");
        return TRACKER_STATE_ENOMEM;
    }
    unsigned char key[20];
    addr_key_of(addr, key);
    addr_join(ts, tor, key);
    struct tracker_state_peer *p = &tor->peers[tor->npeers];
    memset(p, 0, sizeof *p);
    p->addr = *addr;
    p->addr.has_peer_id = 1;
    p->left = 1; /* counted as a leecher until the caller sets left */
    struct table t = peer_table(ts, tor);
    int found;
    size_t i = index_probe(&t, &tor->index, addr->peer_id, &found);
    tor->index.slot[i] = (uint32_t)(tor->npeers + 1);
    ts->npeers_total++;
    return (long)tor->npeers++;
}

/* Tells whether an announce may change the existing entry p: it comes from the entry's own
 * address and port, or it carries the key the entry was announced with. */
static int may_change(const struct tracker_state_peer *p, const struct tracker_state_announce *a)
{
    size_t iplen = a->peer.family == 4 ? 4 : 16;
    if (p->addr.family == a->peer.family && memcmp(p->addr.ip, a->peer.ip, iplen) == 0 &&
        p->addr.port == a->peer.port)
        return 1;
    return a->key_len > 0 && a->key_len == p->key_len && memcmp(a->key, p->key, a->key_len) == 0;
}

/* Moves the address counts of peer p of tor to the announce's address, if that changed. Returns
 * TRACKER_STATE_OK, or a negative result when the new address is at a cap (nothing changes). */
static int move_address(struct tracker_state *ts, struct tracker_torrent *tor,
                        const struct tracker_state_peer *p, const struct tracker_peer *to,
                        char *err, size_t errlen)
{
    unsigned char old_key[20], new_key[20];
    addr_key_of(&p->addr, old_key);
    addr_key_of(to, new_key);
    if (memcmp(old_key, new_key, 20) == 0)
        return TRACKER_STATE_OK;
    int rc = addr_may_join(ts, tor, new_key, err, errlen);
    if (rc != TRACKER_STATE_OK)
        return rc;
    if (addr_reserve_join(ts, tor) < 0) {
        set_err(err, errlen, "out of memory");
        return TRACKER_STATE_ENOMEM;
    }
    addr_leave(ts, tor, old_key);
    addr_join(ts, tor, new_key);
    return TRACKER_STATE_OK;
}

/* Returns the rate of delta bytes in dt_ms (> 0) milliseconds, in bytes per second. The counters
 * come from the network, so a huge delta must not overflow the multiplication: it is divided
 * first, losing only the part of a byte per millisecond that does not matter then. */
static uint64_t rate_Bps(uint64_t delta, int64_t dt_ms)
{
    uint64_t dt = (uint64_t)dt_ms;
    if (delta <= UINT64_MAX / 1000)
        return delta * 1000 / dt;
    uint64_t per_ms = delta / dt;
    return per_ms <= UINT64_MAX / 1000 ? per_ms * 1000 : UINT64_MAX;
}

/* Updates peer p's rates from the counters of announce a (see tracker_state_announce); fresh
 * says that p was made by this announce, so there is nothing to compare with. */
static void update_rates(struct tracker_state_peer *p, const struct tracker_state_announce *a,
                         int fresh)
{
    if (fresh || a->uploaded < p->uploaded || a->downloaded < p->downloaded) {
        p->up_Bps = p->down_Bps = 0;
    } else if (a->now_ms > p->counted_ms) {
        p->up_Bps = rate_Bps(a->uploaded - p->uploaded, a->now_ms - p->counted_ms);
        p->down_Bps = rate_Bps(a->downloaded - p->downloaded, a->now_ms - p->counted_ms);
    } else {
        /* No time passed (or the caller's clock went back): keep the rates, and the counters
         * they are measured from, so that the next announce measures over the whole stretch. */
        return;
    }
    p->uploaded = a->uploaded;
    p->downloaded = a->downloaded;
    p->counted_ms = a->now_ms;
}

/* Records an announce; see tracker_state.h. */
int tracker_state_announce(struct tracker_state *ts, const struct tracker_state_announce *a,
                           int64_t now, char *err, size_t errlen)
{
    if (a->peer.family != 4 && a->peer.family != 6) {
        set_err(err, errlen, "peer address family must be 4 or 6");
        return TRACKER_STATE_EINVAL;
    }
    if (a->key_len > TRACKER_STATE_KEY_MAX) {
        set_err(err, errlen, "key too long");
        return TRACKER_STATE_EINVAL;
    }
    struct table tt = torrent_table(ts);
    long tpos = index_find(&tt, &ts->index, a->info_hash);
    struct tracker_torrent *tor = tpos >= 0 ? &ts->torrents[tpos] : NULL;
    long ppos = -1;
    if (tor != NULL) {
        struct table pt = peer_table(ts, tor);
        ppos = index_find(&pt, &tor->index, a->peer.peer_id);
    }
    /* Someone else's peer id: the entry stays as its owner left it. A real tracker might also
     * keep both entries apart by (peer id, address); refusing is simpler and as safe. */
    if (ppos >= 0 && !may_change(&tor->peers[ppos], a)) {
        set_err(err, errlen,
                "this peer id is registered from another address; announce from that address "
                "and port, or with the same key");
        return TRACKER_STATE_EDENIED;
    }

    if (a->event == TRACKER_EVENT_STOPPED) {
        /* A peer saying goodbye: forget it, and the torrent too if it was the last one. */
        if (tor == NULL)
            return TRACKER_STATE_OK;
        if (ppos >= 0)
            peer_remove(ts, tor, (size_t)ppos);
        if (tor->npeers == 0)
            torrent_remove(ts, (size_t)tpos);
        return TRACKER_STATE_OK;
    }

    int fresh = 0;
    if (ppos < 0) {
        /* A new entry: the caps per address come first, so that a refused announce creates
         * nothing, not even a torrent. */
        unsigned char key[20];
        addr_key_of(&a->peer, key);
        int rc = addr_may_join(ts, tor, key, err, errlen);
        if (rc != TRACKER_STATE_OK)
            return rc;
        int created = tor == NULL;
        if (created) {
            tpos = torrent_find_or_add(ts, a->info_hash, err, errlen);
            if (tpos < 0)
                return (int)tpos;
            tor = &ts->torrents[tpos];
        }
        ppos = peer_add(ts, tor, &a->peer, err, errlen);
        if (ppos < 0) {
            if (created) /* do not leave an empty torrent behind a refused peer */
                torrent_remove(ts, (size_t)tpos);
            return (int)ppos;
        }
        fresh = 1;
    } else {
        /* The owner itself, perhaps from a new address (it proved itself with its key). */
        int rc = move_address(ts, tor, &tor->peers[ppos], &a->peer, err, errlen);
        if (rc != TRACKER_STATE_OK)
            return rc;
    }

    struct tracker_state_peer *p = &tor->peers[ppos];
    p->addr.family = a->peer.family;
    memcpy(p->addr.ip, a->peer.ip, sizeof p->addr.ip);
    p->addr.port = a->peer.port;
    if (a->key_len > 0) {
        memcpy(p->key, a->key, a->key_len);
        p->key_len = a->key_len;
    }
    if (p->left == 0 && a->left != 0)
        tor->seeders--;
    else if (p->left != 0 && a->left == 0)
        tor->seeders++;
    p->left = a->left;
    p->last_seen = now;
    update_rates(p, a, fresh);

    /* Count each peer's completion once, even if its client repeats the event. */
    if (a->event == TRACKER_EVENT_COMPLETED && !p->completed) {
        p->completed = 1;
        if (tor->downloaded < UINT32_MAX)
            tor->downloaded++;
    }
    return TRACKER_STATE_OK;
}

/* ---------------------------------------------------------------- picking peers */

/*
 * Robert Floyd's sampling algorithm chooses k distinct numbers out of [0, m) with exactly k random
 * draws: for j from m-k to m-1, draw t in [0, j]; take t unless it was already taken, else take j.
 * Every k-subset comes out equally likely. The "already taken" test is a scan of at most
 * TRACKER_STATE_PICK_MAX numbers, so a pick costs O(k^2) whatever the swarm's size.
 */

/* Tells whether v is among the first n numbers of set. */
static int taken(const size_t *set, size_t n, size_t v)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == v)
            return 1;
    return 0;
}

/* Chooses random peers of a torrent; see tracker_state.h. */
size_t tracker_state_pick(const struct tracker_state *ts, const unsigned char info_hash[20],
                          const unsigned char *exclude_id, struct tracker_peer *out, size_t numwant,
                          uint64_t *rng)
{
    struct table tt = torrent_table(ts);
    long tpos = index_find(&tt, &ts->index, info_hash);
    if (tpos < 0)
        return 0;
    const struct tracker_torrent *tor = &ts->torrents[tpos];

    /* The caller's own entry is left out by renumbering: "others" are positions 0..m-1 of the
     * array with the excluded position skipped. */
    long skip = -1;
    if (exclude_id != NULL) {
        struct table pt = peer_table(ts, tor);
        skip = index_find(&pt, &tor->index, exclude_id);
    }
    size_t m = tor->npeers - (skip >= 0 ? 1 : 0);
    size_t k = numwant < m ? numwant : m;
    if (k > TRACKER_STATE_PICK_MAX)
        k = TRACKER_STATE_PICK_MAX;

    size_t chosen[TRACKER_STATE_PICK_MAX];
    size_t n = 0;
    if (k == m) {
        for (size_t i = 0; i < m; i++)
            chosen[n++] = i;
    } else {
        for (size_t j = m - k; j < m; j++) {
            size_t t = rand_below(rng, j + 1);
            chosen[n] = taken(chosen, n, t) ? j : t;
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t pos = chosen[i];
        if (skip >= 0 && pos >= (size_t)skip)
            pos++;
        out[i] = tor->peers[pos].addr;
    }
    return n;
}

/* ---------------------------------------------------------------- expiry and scrape */

/* Forgets peers not heard from in peer_ttl_s seconds; see tracker_state.h. */
size_t tracker_state_expire(struct tracker_state *ts, int64_t now)
{
    size_t removed = 0;
    /* Both loops run backwards: a swap-remove moves the last entry, which was already visited,
     * into the current position, so no entry is skipped. */
    for (size_t ti = ts->ntorrents; ti-- > 0;) {
        struct tracker_torrent *tor = &ts->torrents[ti];
        for (size_t pi = tor->npeers; pi-- > 0;) {
            if (now - tor->peers[pi].last_seen > ts->cfg.peer_ttl_s) {
                peer_remove(ts, tor, pi);
                removed++;
            }
        }
        if (tor->npeers == 0)
            torrent_remove(ts, ti);
    }
    return removed;
}

/* Fills one torrent's scrape counts; see tracker_state.h. */
int tracker_state_scrape(const struct tracker_state *ts, const unsigned char info_hash[20],
                         struct tracker_scrape_counts *out)
{
    struct table tt = torrent_table(ts);
    long tpos = index_find(&tt, &ts->index, info_hash);
    memset(out, 0, sizeof *out);
    if (tpos < 0)
        return 0;
    const struct tracker_torrent *tor = &ts->torrents[tpos];
    out->complete = tor->seeders;
    out->incomplete = (uint32_t)tor->npeers - tor->seeders;
    out->downloaded = tor->downloaded;
    return 1;
}

/* ---------------------------------------------------------------- invariants */

/* Checks that an index holds exactly the n entries of its table, each findable by its key. */
static int index_check(const struct table *t, const struct tracker_index *ix, size_t n)
{
    size_t used = 0;
    if (ix->slot == NULL)
        return n == 0 ? 0 : -1;
    for (size_t i = 0; i <= ix->mask; i++) {
        uint32_t s = ix->slot[i];
        if (s == 0)
            continue;
        used++;
        if (s > n)
            return -1;
    }
    if (used != n || 2 * used > ix->mask + 1)
        return -1;
    for (size_t pos = 0; pos < n; pos++)
        if (index_find(t, ix, table_key(t, pos)) != (long)pos)
            return -1;
    return 0;
}

/* Checks that one torrent's address table counts exactly its peers, within the cap per address,
 * and adds each address's entries into the tracker-wide tallies (peers[], torrents[], indexed
 * like ts->addrs). Returns 0 or -1. */
static int torrent_addrs_check(const struct tracker_state *ts, const struct tracker_torrent *tor,
                               uint32_t *peers, uint32_t *torrents)
{
    struct table at = addr_table(ts, &tor->addrs);
    if (index_check(&at, &tor->addrs.index, tor->addrs.n) < 0)
        return -1;
    uint32_t *count = calloc(tor->addrs.n + 1, sizeof *count);
    if (count == NULL)
        return -1;
    int rc = 0;
    for (size_t pi = 0; pi < tor->npeers && rc == 0; pi++) {
        unsigned char key[20];
        addr_key_of(&tor->peers[pi].addr, key);
        long pos = index_find(&at, &tor->addrs.index, key);
        if (pos < 0)
            rc = -1;
        else
            count[pos]++;
    }
    struct table gt = addr_table(ts, &ts->addrs);
    for (size_t i = 0; i < tor->addrs.n && rc == 0; i++) {
        const struct tracker_addr *e = &tor->addrs.items[i];
        long g = index_find(&gt, &ts->addrs.index, e->addr_key);
        if (e->peers == 0 || e->peers != count[i] ||
            e->peers > ts->cfg.max_peers_per_addr_torrent || g < 0) {
            rc = -1;
        } else {
            peers[g] += e->peers;
            torrents[g]++;
        }
    }
    free(count);
    return rc;
}

/* Checks the address tables against the peers and the caps per address. Returns 0, or -1 with a
 * message. */
static int addrs_check(const struct tracker_state *ts, char *err, size_t errlen)
{
    struct table gt = addr_table(ts, &ts->addrs);
    if (index_check(&gt, &ts->addrs.index, ts->addrs.n) < 0) {
        set_err(err, errlen, "the address index disagrees with the address array");
        return -1;
    }
    uint32_t *peers = calloc(ts->addrs.n + 1, sizeof *peers);
    uint32_t *torrents = calloc(ts->addrs.n + 1, sizeof *torrents);
    int rc = peers == NULL || torrents == NULL ? -1 : 0;
    for (size_t ti = 0; ti < ts->ntorrents && rc == 0; ti++)
        rc = torrent_addrs_check(ts, &ts->torrents[ti], peers, torrents);
    if (rc < 0)
        set_err(err, errlen, "a torrent's address counts disagree with its peers");
    for (size_t i = 0; i < ts->addrs.n && rc == 0; i++) {
        const struct tracker_addr *e = &ts->addrs.items[i];
        if (e->peers == 0 || e->peers != peers[i] || e->torrents != torrents[i] ||
            e->peers > ts->cfg.max_peers_per_addr || e->torrents > ts->cfg.max_torrents_per_addr) {
            set_err(err, errlen, "an address's counts are wrong or above a cap per address");
            rc = -1;
        }
    }
    free(peers);
    free(torrents);
    return rc;
}

/* Checks every invariant; see tracker_state.h. */
int tracker_state_check(const struct tracker_state *ts, char *err, size_t errlen)
{
    if (ts->ntorrents > ts->cfg.max_torrents) {
        set_err(err, errlen, "more torrents than the cap");
        return -1;
    }
    struct table tt = torrent_table(ts);
    if (index_check(&tt, &ts->index, ts->ntorrents) < 0) {
        set_err(err, errlen, "torrent index disagrees with the torrent array");
        return -1;
    }
    size_t total = 0;
    for (size_t ti = 0; ti < ts->ntorrents; ti++) {
        const struct tracker_torrent *tor = &ts->torrents[ti];
        if (tor->npeers == 0 || tor->npeers > ts->cfg.max_peers_per_torrent) {
            set_err(err, errlen, "a torrent has no peers or more than the cap");
            return -1;
        }
        struct table pt = peer_table(ts, tor);
        if (index_check(&pt, &tor->index, tor->npeers) < 0) {
            set_err(err, errlen, "a peer index disagrees with its peer array");
            return -1;
        }
        uint32_t seeders = 0;
        for (size_t pi = 0; pi < tor->npeers; pi++)
            seeders += tor->peers[pi].left == 0;
        if (seeders != tor->seeders) {
            set_err(err, errlen, "a torrent's seeder count is wrong");
            return -1;
        }
        total += tor->npeers;
    }
    if (total != ts->npeers_total || total > ts->cfg.max_peers_total) {
        set_err(err, errlen, "the total peer count is wrong or above the cap");
        return -1;
    }
    return addrs_check(ts, err, errlen);
}
