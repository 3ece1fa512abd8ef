/*
 * choker.c - tit-for-tat: the regular slots by rate, one optimistic slot at random.
 *
 * A re-choke clears every decision and makes it again from the peers' current state: first the
 * regular slots, picked one at a time as the best-ranked eligible peer not yet picked (with 4
 * slots that is 4 passes over the peers, no sorting and no memory), then the optimistic slot.
 * The only things remembered between runs are the schedule, the optimistic peer's id and the
 * random generator.
 */
#include "choker.h"

#include <string.h>

/* ===================================================================== set-up ============= */

void choker_config_defaults(struct choker_config *cfg, uint64_t seed)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->upload_slots = 4;
    cfg->rechoke_ms = 10000;
    cfg->optimistic_every = 3;
    cfg->snub_ms = 60000;
    cfg->seed = seed;
}

/* splitmix64's finaliser: turns nearby seeds (1, 2, 3...) into unrelated generator states. */
static uint64_t mix_seed(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

void choker_init(struct choker *c, const struct choker_config *cfg, uint64_t now_ms)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (c->cfg.rechoke_ms == 0)
        c->cfg.rechoke_ms = 1;
    c->next_ms = now_ms; /* the first re-choke is due at once */
    c->rng = mix_seed(cfg->seed);
    if (c->rng == 0)
        c->rng = 1; /* xorshift's one state it never leaves */
}

uint64_t choker_next_ms(const struct choker *c)
{
    return c->next_ms;
}

bool choker_is_snubbed(const struct choker_config *cfg, bool am_interested, uint64_t last_block_ms,
                       uint64_t now_ms)
{
    //> lab8 returns false
    return am_interested && now_ms >= last_block_ms && now_ms - last_block_ms >= cfg->snub_ms;
    //< lab8
}

/* ===================================================================== ranking ============ */

/* xorshift64*: small and fast; plenty for choosing a peer at random. */
static uint64_t next_random(struct choker *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545F4914F6CDD1Dull;
}

/* Returns the rate that ranks a peer: what it gives us, or while seeding what it takes. */
static uint64_t rate_of(const struct choker_peer *p, bool seeding)
{
    //> lab8 returns 0
    return seeding ? p->rate_from_us : p->rate_to_us;
    //< lab8
}

/* Returns whether peer a ranks above peer b: faster, or as fast and a lower id. */
static bool ranks_above(const struct choker_peer *a, const struct choker_peer *b, bool seeding)
{
    //> lab8 returns false
    uint64_t ra = rate_of(a, seeding), rb = rate_of(b, seeding);
    return ra != rb ? ra > rb : a->id < b->id;
    //< lab8
}

/* Returns the index of the peer with this id, or n when it is not connected. */
static size_t find_peer(const struct choker_peer *peers, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (peers[i].id == id)
            return i;
    return n;
}

/* Fills the regular slots in turn (CHOKER_ROUND_ROBIN): upload_slots times, unchokes the
 * interested peer whose id comes next after c->rr_base, going round the ids, whatever its rate
 * (snubbed peers too: the policy does not look at what peers send). skip: the index of a peer
 * left out (the optimistic one), n when none. Returns how many peers it unchoked. Until lab 8 is
 * written, tit-for-tat's fill_regular_slots() hands its work to this function; as choker_run()
 * moves the turn on only for the round-robin policy, the slots then go to the interested peers
 * with the lowest ids, so the labs before lab 8 still upload. */
static unsigned fill_round_robin(struct choker *c, struct choker_peer *peers, size_t n, size_t skip)
{
    unsigned slot;
    for (slot = 0; slot < c->cfg.upload_slots; slot++) {
        size_t best = n;
        /* The distance going up from the base, wrapping past the largest id: the smallest comes
         * next. (id - base - 1) wraps in unsigned arithmetic, which is what makes it a circle. */
        for (size_t i = 0; i < n; i++) {
            if (i == skip || peers[i].unchoked || !peers[i].interested)
                continue;
            if (best == n || peers[i].id - c->rr_base - 1 < peers[best].id - c->rr_base - 1)
                best = i;
        }
        if (best == n)
            break;
        peers[best].unchoked = true;
        c->rr_last = peers[best].id;
    }
    return slot;
}

/* Fills the regular slots (tit-for-tat): unchokes the upload_slots best-ranked peers among those
 * that may hold one (interested, not snubbed, not the peer at index skip: the optimistic one,
 * which has a slot of its own; n when none), or every such peer when there are fewer. Returns how
 * many peers it unchoked. It picks one peer per slot, the best-ranked eligible peer not yet
 * unchoked: with 4 slots that is 4 passes over the peers, no sorting and no memory. */
static unsigned fill_regular_slots(struct choker *c, struct choker_peer *peers, size_t n,
                                   bool seeding, size_t skip)
{
    //> lab8 returns fill_round_robin(c, peers, n, skip)
    unsigned slot;
    for (slot = 0; slot < c->cfg.upload_slots; slot++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (i == skip || peers[i].unchoked || !peers[i].interested || peers[i].snubbed)
                continue;
            if (best == n || ranks_above(&peers[i], &peers[best], seeding))
                best = i;
        }
        if (best == n)
            break; /* fewer eligible peers than slots */
        peers[best].unchoked = true;
    }
    return slot;
    //< lab8
}

/* Chooses the optimistic peer at random among the interested peers that the regular slots left
 * choked, other than `avoid` (the previous holder, so the slot really moves) when any other is
 * possible. Returns its index, or n when no peer qualifies. */
static size_t choose_optimistic(struct choker *c, const struct choker_peer *peers, size_t n,
                                size_t avoid)
{
    //> lab8 returns n
    size_t chosen = n;
    uint64_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == avoid || peers[i].unchoked || !peers[i].interested)
            continue;
        /* Reservoir sampling: the k-th candidate replaces the choice with probability 1/k, so
         * each is equally likely without building a list. */
        seen++;
        if (next_random(c) % seen == 0)
            chosen = i;
    }
    if (chosen == n && avoid < n && !peers[avoid].unchoked && peers[avoid].interested)
        chosen = avoid; /* the previous holder is the only one left: it keeps the slot */
    return chosen;
    //< lab8
}

/* ===================================================================== the re-choke ======= */

/* Called once per scheduled re-choke (never for a forced one): counts the run in c->round and
 * returns whether the optimistic slot moves at it. It moves at every optimistic_every-th
 * scheduled run, the first one included (rounds 0, 3, 6... with the default 3: at 0 s, 30 s,
 * 60 s...), and never when optimistic_every is 0. */
static bool rotation_due(struct choker *c)
{
    //> lab8 returns false
    bool rotate = c->cfg.optimistic_every > 0 && c->round % c->cfg.optimistic_every == 0;
    c->round++;
    return rotate;
    //< lab8
}

bool choker_run(struct choker *c, struct choker_peer *peers, size_t n, bool seeding,
                uint64_t now_ms, bool force)
{
    bool due = now_ms >= c->next_ms;
    if (!due && !force)
        return false;

    /* A scheduled run advances the schedule; every optimistic_every-th one also rotates the
     * optimistic slot. A forced run does neither. */
    bool rotate = false;
    if (due) {
        rotate = rotation_due(c);
        /* The next run is the first point of the rechoke_ms grid after now_ms, or the clock's
         * end when that is past UINT64_MAX. */
        uint64_t steps = (now_ms - c->next_ms) / c->cfg.rechoke_ms + 1;
        if (steps > (UINT64_MAX - c->next_ms) / c->cfg.rechoke_ms)
            c->next_ms = UINT64_MAX;
        else
            c->next_ms += steps * c->cfg.rechoke_ms;
    }

    /* The optimistic peer keeps its slot only while it is connected and interested. */
    size_t opt = n;
    if (c->has_optimistic) {
        opt = find_peer(peers, n, c->optimistic_id);
        if (opt < n && !peers[opt].interested)
            opt = n;
        c->has_optimistic = opt < n;
    }

    for (size_t i = 0; i < n; i++)
        peers[i].unchoked = peers[i].optimistic = false;

    /* At a rotation the old optimistic peer competes for the regular slots like any other;
     * between rotations it holds its own slot and stays out of the ranking. */
    if (c->cfg.policy == CHOKER_ROUND_ROBIN) {
        /* A scheduled run moves the turn on; a forced one serves the same round again. */
        if (due)
            c->rr_base = c->rr_last;
        else
            c->rr_last = c->rr_base;
        fill_round_robin(c, peers, n, rotate ? n : opt);
    } else {
        fill_regular_slots(c, peers, n, seeding, rotate ? n : opt);
    }

    if (c->cfg.optimistic_every == 0)
        return true;
    if (rotate || opt == n)
        opt = choose_optimistic(c, peers, n, opt);
    c->has_optimistic = opt < n;
    if (opt < n) {
        c->optimistic_id = peers[opt].id;
        peers[opt].unchoked = true;
        peers[opt].optimistic = true;
    }
    return true;
}
