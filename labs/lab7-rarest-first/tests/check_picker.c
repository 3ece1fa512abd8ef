/*
 * check_picker.c - the piece picker against scripted swarm states.
 *
 * Each test builds a small torrent, tells the picker what the connected peers have, and checks
 * which block it asks for: the rarest piece, a random one early on, the pieces already started
 * before new ones, the end game. Random choices come from the picker's seed; tests that try many
 * seeds name the failing one in their message, so a failure replays exactly; the statistical
 * tests draw their pickers' seeds from a seed they print. A last test runs a random swarm and
 * checks the picker's bookkeeping against a naive recount after every step.
 */
#include "testlib.h"
#include "picker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK 16384u /* the block size every test uses: BitTorrent's 16 KiB */

/* ck_assert records every check that passes (in a pipe or file, for its failure report), which
 * is slow in loops of thousands of steps; this tests the condition first and calls Check only
 * to report a failure. */
#define check_msg(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* ===================================================================== helpers ============ */

/* Sets up a picker of `pieces` pieces of `plen` bytes (the last holding what is left of total)
 * with the given random-first count, partial-piece cap and seed; fails the test on error. */
static void mk(struct picker *p, uint32_t pieces, uint32_t plen, uint64_t total,
               uint32_t random_first, uint32_t max_partial, uint64_t seed)
{
    struct picker_config cfg;
    picker_config_defaults(&cfg, pieces, plen, total, seed);
    cfg.random_first = random_first;
    cfg.max_partial = max_partial;
    ck_assert_int_eq(picker_init(p, &cfg, NULL), 0);
}

/* Makes a bitfield from a string of '0' and '1', piece 0 first, e.g. "1101". */
static void bf(struct bitfield *b, const char *bits)
{
    size_t n = strlen(bits);
    ck_assert_int_eq(bitfield_init(b, n), 0);
    for (size_t i = 0; i < n; i++)
        if (bits[i] == '1')
            bitfield_set(b, i);
}

/* Makes a bitfield of n pieces with every piece set: a seeder's. */
static void bf_all(struct bitfield *b, size_t n)
{
    ck_assert_int_eq(bitfield_init(b, n), 0);
    bitfield_set_all(b);
}

/* Asks the picker for a block (no busy callback) and fails the test when there is none. */
static struct picker_block next(struct picker *p, const struct bitfield *peer)
{
    struct picker_block b;
    ck_assert_msg(picker_next(p, peer, NULL, NULL, &b), "picker_next found nothing");
    return b;
}

/* Asserts one block's fields. */
static void block_is(const struct picker_block *b, uint32_t index, uint32_t begin, uint32_t len)
{
    ck_assert_msg(b->index == index && b->begin == begin && b->length == len,
                  "block (%u, %u, %u), want (%u, %u, %u)", b->index, b->begin, b->length, index,
                  begin, len);
}

/* Recounts the picker's bookkeeping the slow way and fails when a cached count disagrees. */
static void check_invariants(const struct picker *p, const char *where)
{
    check_msg(p->npartial <= p->cfg.max_partial, "%s: %u partial pieces", where, p->npartial);
    check_msg(p->have_count == bitfield_count(&p->have), "%s: have_count", where);
    uint32_t flagged = 0;
    for (uint32_t i = 0; i < p->cfg.piece_count; i++)
        flagged += p->in_progress[i];
    check_msg(flagged == p->npartial, "%s: in_progress flags", where);
    for (uint32_t i = 0; i < p->npartial; i++) {
        const struct picker_partial *pp = &p->partial[i];
        uint32_t received = 0, unrequested = 0;
        for (uint32_t b = 0; b < pp->nblocks; b++) {
            received += pp->have[b];
            unrequested += !pp->have[b] && pp->requests[b] == 0;
        }
        check_msg(p->in_progress[pp->index], "%s: piece %u not flagged", where, pp->index);
        check_msg(!bitfield_get(&p->have, pp->index), "%s: piece %u ours and partial", where,
                  pp->index);
        check_msg(pp->received == received, "%s: piece %u received %u, counted %u", where,
                  pp->index, pp->received, received);
        check_msg(pp->unrequested == unrequested, "%s: piece %u unrequested %u, counted %u", where,
                  pp->index, pp->unrequested, unrequested);
    }
}

/* Writes the picker's download state on one line into buf (Check shows only the first line of
 * a message): the pieces we have, and per piece in progress each block as '#' (received) or the
 * number of requests out for it. What a failing end-game test shows, so the expectation can be
 * checked by hand. */
static const char *picker_text(const struct picker *p, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(
        buf, cap, " %u of %u pieces ours; in progress (# received, n requests out):", p->have_count,
        p->cfg.piece_count);
    for (uint32_t i = 0; i < p->npartial && len < cap; i++) {
        const struct picker_partial *pp = &p->partial[i];
        len += (size_t)snprintf(buf + len, cap - len, "%s piece %u [", i > 0 ? "," : "", pp->index);
        for (uint32_t b = 0; b < pp->nblocks && len < cap; b++) {
            const char *sep = b > 0 ? " " : "";
            if (pp->have[b])
                len += (size_t)snprintf(buf + len, cap - len, "%s#", sep);
            else
                len += (size_t)snprintf(buf + len, cap - len, "%s%u", sep, pp->requests[b]);
        }
        if (len < cap)
            len += (size_t)snprintf(buf + len, cap - len, "]");
    }
    uint32_t unstarted = 0;
    for (uint32_t i = 0; i < p->cfg.piece_count; i++)
        unstarted += !bitfield_get(&p->have, i) && !p->in_progress[i];
    if (len < cap)
        snprintf(buf + len, cap - len, "%s; %u pieces we lack not started",
                 p->npartial == 0 ? " none" : "", unstarted);
    return buf;
}

/* Fails the test unless picker_endgame() says want, showing the picker's state. The end game
 * begins when every block we lack has been requested at least once, and not before. */
#define expect_endgame(p, want)                                                                    \
    do {                                                                                           \
        bool got_ = picker_endgame(p);                                                             \
        if (got_ != (want)) {                                                                      \
            char t_[4096];                                                                         \
            ck_abort_msg("expected picker_endgame() %s, got %s; the picker:%s",                    \
                         (want) ? "true" : "false", got_ ? "true" : "false",                       \
                         picker_text(p, t_, sizeof t_));                                           \
        }                                                                                          \
    } while (0)

/* Fails the test unless the availability counts are want[0..n), showing both lists and what
 * happened before (step). */
static void expect_avail(const struct picker *p, const uint32_t *want, uint32_t n, const char *step)
{
    char g[256], w[256];
    size_t gl = 0, wl = 0;
    bool same = true;
    for (uint32_t i = 0; i < n; i++) {
        same &= p->avail[i] == want[i];
        gl += (size_t)snprintf(g + gl, sizeof g - gl, " %u", p->avail[i]);
        wl += (size_t)snprintf(w + wl, sizeof w - wl, " %u", want[i]);
        if (gl >= sizeof g || wl >= sizeof w)
            break;
    }
    if (!same)
        ck_abort_msg("%s: expected availability (piece 0 first)%s, got%s", step, w, g);
}

/* ===================================================================== set-up ============= */

START_TEST(picker_config_defaults_values)
{
    struct picker_config cfg;
    picker_config_defaults(&cfg, 10, 256 * 1024, 10 * 256 * 1024, 7);
    ck_assert_uint_eq(cfg.piece_count, 10);
    ck_assert_uint_eq(cfg.piece_length, 256 * 1024);
    ck_assert(cfg.total_length == 10 * 256 * 1024);
    ck_assert_uint_eq(cfg.block_length, BLK);
    ck_assert_uint_eq(cfg.random_first, 4);
    ck_assert_uint_eq(cfg.max_partial, 64);
    ck_assert(cfg.seed == 7);
    /* Small pieces: enough pieces in progress for 1024 blocks on their way, or a swarm of 16 KiB
     * pieces could ask each peer for only a block or two at a time. */
    picker_config_defaults(&cfg, 1000, BLK, 1000 * BLK, 7);
    ck_assert_uint_eq(cfg.max_partial, 1024);
    picker_config_defaults(&cfg, 1000, 2 * BLK, 2000 * BLK, 7);
    ck_assert_uint_eq(cfg.max_partial, 512);
    picker_config_defaults(&cfg, 10, 64 * BLK, 640 * BLK, 7);
    ck_assert_uint_eq(cfg.max_partial, 64);
}
END_TEST

START_TEST(picker_init_with_have_is_seeding)
{
    struct picker p;
    struct picker_config cfg;
    struct bitfield have, peer;
    picker_config_defaults(&cfg, 5, BLK, 5 * BLK, 1);
    bf_all(&have, 5);
    bf_all(&peer, 5);
    ck_assert_int_eq(picker_init(&p, &cfg, &have), 0);
    ck_assert(picker_complete(&p));
    expect_endgame(&p, false); /* nothing is missing, so there is no end game either */
    ck_assert(!picker_interesting(&p, &peer));
    struct picker_block b;
    ck_assert(!picker_next(&p, &peer, NULL, NULL, &b));
    ck_assert(picker_block_done(&p, 3, 0));
    check_invariants(&p, "seeding");
    picker_free(&p);
    bitfield_free(&have);
    bitfield_free(&peer);
}
END_TEST

START_TEST(picker_init_with_some_pieces)
{
    struct picker p;
    struct picker_config cfg;
    struct bitfield have, peer;
    picker_config_defaults(&cfg, 4, BLK, 4 * BLK, 1);
    cfg.random_first = 0;
    bf(&have, "1101");
    bf_all(&peer, 4);
    ck_assert_int_eq(picker_init(&p, &cfg, &have), 0);
    ck_assert_uint_eq(p.have_count, 3);
    ck_assert(!picker_complete(&p));
    ck_assert(picker_interesting(&p, &peer));
    picker_add_peer(&p, &peer);
    struct picker_block b = next(&p, &peer);
    block_is(&b, 2, 0, BLK); /* the only piece we lack */
    picker_free(&p);
    bitfield_free(&have);
    bitfield_free(&peer);
}
END_TEST

START_TEST(picker_piece_sizes)
{
    struct picker p;
    mk(&p, 4, 100000, 3 * 100000 + 1234, 0, 8, 1);
    ck_assert_uint_eq(picker_piece_size(&p, 0), 100000);
    ck_assert_uint_eq(picker_piece_size(&p, 2), 100000);
    ck_assert_uint_eq(picker_piece_size(&p, 3), 1234);
    ck_assert_uint_eq(picker_piece_size(&p, 4), 0); /* no such piece */
    ck_assert_uint_eq(picker_piece_size(&p, UINT32_MAX), 0);
    picker_free(&p);
}
END_TEST

/* ===================================================================== availability ======= */

START_TEST(picker_rarest_availability_add_remove_have)
{
    struct picker p;
    struct bitfield a, b, c;
    mk(&p, 4, BLK, 4 * BLK, 0, 8, 1);
    bf(&a, "1110");
    bf(&b, "1100");
    bf(&c, "1000");
    picker_add_peer(&p, &a);
    picker_add_peer(&p, &b);
    picker_add_peer(&p, &c);
    const uint32_t want1[4] = {3, 2, 1, 0};
    expect_avail(&p, want1, 4, "peers with 1110, 1100 and 1000 added");
    picker_add_have(&p, 3);
    picker_add_have(&p, 4);          /* out of range: ignored */
    picker_add_have(&p, UINT32_MAX); /* likewise */
    picker_remove_peer(&p, &b);
    const uint32_t want2[4] = {2, 1, 1, 1};
    expect_avail(&p, want2, 4,
                 "then HAVE 3, HAVE 4 and HAVE 4294967295 (both out of range), and the peer "
                 "with 1100 removed");
    /* Removing more than was added never wraps a count below zero. */
    picker_remove_peer(&p, &b);
    picker_remove_peer(&p, &b);
    const uint32_t want3[4] = {0, 0, 1, 1};
    expect_avail(&p, want3, 4, "then the peer with 1100 removed twice more (no count below 0)");
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
    bitfield_free(&c);
}
END_TEST

START_TEST(picker_interesting_follows_what_we_lack)
{
    struct picker p;
    struct bitfield have, peer;
    struct picker_config cfg;
    picker_config_defaults(&cfg, 6, BLK, 6 * BLK, 1);
    bf(&have, "110000");
    ck_assert_int_eq(picker_init(&p, &cfg, &have), 0);
    bf(&peer, "110000");
    ck_assert(!picker_interesting(&p, &peer)); /* it has only what we have */
    bitfield_set(&peer, 5);
    ck_assert(picker_interesting(&p, &peer));
    picker_free(&p);
    bitfield_free(&have);
    bitfield_free(&peer);
}
END_TEST

/* ===================================================================== rarest first ======= */

START_TEST(picker_rarest_piece_chosen)
{
    /* Five one-block pieces. Peers A 11111, B 11110, C 11001 and D 10000 give availabilities
     * 4, 3, 2, 2, 2; HAVE messages for pieces 1, 2, 3 and 3 again make them 4, 4, 3, 4, 2. The
     * rarest is then piece 4, the next piece 2, and pieces 0, 1 and 3 tie. */
    struct picker p;
    struct bitfield a, b, c, d;
    mk(&p, 5, BLK, 5 * BLK, 0, 8, 42);
    bf(&a, "11111");
    bf(&b, "11110");
    bf(&c, "11001");
    bf(&d, "10000");
    picker_add_peer(&p, &a);
    picker_add_peer(&p, &b);
    picker_add_peer(&p, &c);
    picker_add_peer(&p, &d);
    picker_add_have(&p, 1);
    picker_add_have(&p, 2);
    picker_add_have(&p, 3);
    picker_add_have(&p, 3);
    const uint32_t want[5] = {4, 4, 3, 4, 2};
    expect_avail(&p, want, 5,
                 "peers with 11111, 11110, 11001 and 10000, then HAVE 1, 2, 3 and 3 again");
    struct picker_block blk = next(&p, &a);
    block_is(&blk, 4, 0, BLK);
    blk = next(&p, &a);
    block_is(&blk, 2, 0, BLK);
    blk = next(&p, &b);
    ck_assert(blk.index == 0 || blk.index == 1 || blk.index == 3);
    check_invariants(&p, "rarest");
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
    bitfield_free(&c);
    bitfield_free(&d);
}
END_TEST

START_TEST(picker_rarest_among_what_the_peer_has)
{
    /* The globally rarest piece is of no use when the asking peer lacks it. */
    struct picker p;
    struct bitfield a, b;
    mk(&p, 4, BLK, 4 * BLK, 0, 8, 3);
    bf(&a, "1111");
    bf(&b, "1110");
    picker_add_peer(&p, &a);
    picker_add_peer(&p, &b);
    picker_add_have(&p, 0);
    picker_add_have(&p, 1); /* avail = 3, 3, 2, 1 */
    struct picker_block blk = next(&p, &b);
    block_is(&blk, 2, 0, BLK); /* B's rarest; piece 3 only A has */
    blk = next(&p, &a);
    block_is(&blk, 3, 0, BLK);
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
}
END_TEST

START_TEST(picker_rarest_follows_have)
{
    /* A HAVE message makes a piece more common, so the picker turns to another. */
    struct picker p;
    struct bitfield a;
    mk(&p, 3, BLK, 3 * BLK, 0, 8, 5);
    bf(&a, "111");
    picker_add_peer(&p, &a);
    picker_add_have(&p, 0);
    picker_add_have(&p, 2); /* avail = 2, 1, 2 */
    struct picker_block blk = next(&p, &a);
    block_is(&blk, 1, 0, BLK);
    picker_add_have(&p, 0);
    picker_add_have(&p, 0); /* avail = 4, 1, 2 */
    blk = next(&p, &a);
    block_is(&blk, 2, 0, BLK);
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

/* A small deterministic generator (xorshift64*) for the tests' own random choices: seeds of
 * pickers, random swarms. The seed a test starts from is printed. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Returns Pearson's chi-square statistic of counts[0..k) against a uniform expectation. */
static double chi_square(const unsigned *counts, size_t k)
{
    double total = 0, x = 0;
    for (size_t i = 0; i < k; i++)
        total += counts[i];
    double expect = total / (double)k;
    for (size_t i = 0; i < k; i++)
        x += (counts[i] - expect) * (counts[i] - expect) / expect;
    return x;
}

/* The chi-square value that k equally likely outcomes exceed with probability below one in a
 * million (k - 1 degrees of freedom): a fair choice fails this test about once in a million
 * seeds, a biased one by a wide margin. */
static double chi_square_limit(size_t k)
{
    switch (k) {
    case 4:
        return 31.0;
    case 8:
        return 41.0;
    default:
        ck_abort_msg("no chi-square limit for %zu outcomes", k);
        return 0;
    }
}

/* Formats counts[0..k) as "i:count i:count ..." into buf, for a failure message. */
static const char *fmt_counts(char *buf, size_t cap, const unsigned *counts, const uint32_t *ids,
                              size_t k)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < k && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%u:%u", i ? " " : "",
                                 ids ? ids[i] : (uint32_t)i, counts[i]);
    return buf;
}

START_TEST(picker_rarest_ties_equally_likely)
{
    /* Twelve one-block pieces: 0, 2, 5 and 8 have three copies, the other eight one copy each.
     * Started from 4000 pickers with seeds drawn from a printed seed, the first piece must
     * always be one of the eight rare ones, each about 500 times: every tied piece equally
     * likely, whether it comes first in the scan, last, or after a more common piece. */
    enum { N = 12, RARE = 8, TRIALS = 4000 };
    const uint32_t rare[RARE] = {1, 3, 4, 6, 7, 9, 10, 11};
    const uint64_t seed = 20261204;
    printf("picker_rarest_ties_equally_likely: seed %llu\n", (unsigned long long)seed);
    uint64_t rng = seed;
    unsigned count[RARE] = {0};
    struct bitfield all, common;
    bf_all(&all, N);
    bf(&common, "101001001000");
    for (int t = 0; t < TRIALS; t++) {
        struct picker p;
        uint64_t pseed = rnd(&rng);
        mk(&p, N, BLK, N * BLK, 0, 8, pseed);
        picker_add_peer(&p, &all);
        picker_add_peer(&p, &common);
        picker_add_peer(&p, &common);
        uint32_t got = next(&p, &all).index;
        int k = 0;
        while (k < RARE && rare[k] != got)
            k++;
        check_msg(k < RARE,
                  "seed %llu, picker seed %llu: started piece %u, which three peers "
                  "have, while eight pieces have one copy",
                  (unsigned long long)seed, (unsigned long long)pseed, got);
        count[k]++;
        picker_free(&p);
    }
    char buf[256];
    double x = chi_square(count, RARE);
    ck_assert_msg(x < chi_square_limit(RARE),
                  "seed %llu: the eight tied pieces were started first this often in %d pickers "
                  "(piece:times) %s; equally likely is about %d each, and chi-square %.1f is "
                  "above %.0f",
                  (unsigned long long)seed, TRIALS, fmt_counts(buf, sizeof buf, count, rare, RARE),
                  TRIALS / RARE, x, chi_square_limit(RARE));
    bitfield_free(&all);
    bitfield_free(&common);
}
END_TEST

START_TEST(picker_rarest_ties_within_rarest_only)
{
    /* Ties are broken only among the rarest: the common pieces are never chosen first. */
    for (uint64_t seed = 1; seed <= 500; seed++) {
        struct picker p;
        struct bitfield a, b;
        mk(&p, 6, BLK, 6 * BLK, 0, 8, seed);
        bf(&a, "111111");
        bf(&b, "110110"); /* pieces 2 and 5 only A has */
        picker_add_peer(&p, &a);
        picker_add_peer(&p, &b);
        struct picker_block blk = next(&p, &a);
        ck_assert_msg(blk.index == 2 || blk.index == 5, "seed %llu picked %u",
                      (unsigned long long)seed, blk.index);
        picker_free(&p);
        bitfield_free(&a);
        bitfield_free(&b);
    }
}
END_TEST

/* Records the order in which a picker with this seed starts 16 equally rare pieces. */
static void pick_order(uint64_t seed, uint32_t *order)
{
    struct picker p;
    struct bitfield a;
    mk(&p, 16, BLK, 16 * BLK, 0, 32, seed);
    bf_all(&a, 16);
    picker_add_peer(&p, &a);
    for (int i = 0; i < 16; i++)
        order[i] = next(&p, &a).index;
    picker_free(&p);
    bitfield_free(&a);
}

START_TEST(picker_rarest_seed_replays)
{
    uint32_t x[16], y[16], z[16];
    pick_order(99, x);
    pick_order(99, y);
    ck_assert_mem_eq(x, y, sizeof x); /* the same seed: the same choices */
    pick_order(100, z);
    ck_assert_msg(memcmp(x, z, sizeof x) != 0, "seeds 99 and 100 chose the same 16 pieces");
    /* Every piece is chosen exactly once: the order is a permutation. */
    unsigned seen[16] = {0};
    for (int i = 0; i < 16; i++)
        seen[x[i]]++;
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(seen[i], 1);
}
END_TEST

/* Returns the seed that picker_init's mix (seed * K + 1) turns into 0, the one state a xorshift
 * generator never leaves: K is odd, so it has an inverse modulo 2^64 (found by Newton's method),
 * and seed = -1/K gives seed * K + 1 == 0. */
static uint64_t seed_mixing_to_zero(void)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t inv = k; /* correct to 3 bits; each step doubles that */
    for (int i = 0; i < 6; i++)
        inv *= 2 - k * inv;
    return 0 - inv;
}

START_TEST(picker_no_seed_breaks_the_generator)
{
    /* A generator stuck at 0 always replaces the choice, so ties would always go to the last
     * piece: the order would be 15, 14, ..., 0. A working one gives a shuffled permutation
     * (descending by chance has odds 1 in 16!). */
    const uint64_t seeds[] = {0, 1, UINT64_MAX, seed_mixing_to_zero()};
    ck_assert(seed_mixing_to_zero() * 0x9E3779B97F4A7C15ull + 1 == 0);
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        uint32_t o[16];
        unsigned seen[16] = {0};
        bool descending = true;
        pick_order(seeds[s], o);
        for (int i = 0; i < 16; i++) {
            seen[o[i]]++;
            descending = descending && o[i] == (uint32_t)(15 - i);
        }
        for (int i = 0; i < 16; i++)
            ck_assert_uint_eq(seen[i], 1);
        ck_assert_msg(!descending, "seed %llu: the tie-breaker is stuck",
                      (unsigned long long)seeds[s]);
    }
}
END_TEST

/* ===================================================================== random first ======= */

START_TEST(picker_rarest_random_first_ignores_rarity)
{
    /* Piece 0 is the rarest by far; while we have fewer than random_first pieces the picker
     * chooses among all of them alike, rarity aside: over 2000 seeds drawn from a printed seed,
     * each of the four pieces comes first about 500 times. */
    enum { N = 4, TRIALS = 2000 };
    const uint64_t seed = 4242;
    printf("picker_rarest_random_first_ignores_rarity: seed %llu\n", (unsigned long long)seed);
    uint64_t rng = seed;
    unsigned count[N] = {0};
    struct bitfield a, b;
    bf(&a, "1111");
    bf(&b, "0111");
    for (int t = 0; t < TRIALS; t++) {
        struct picker p;
        mk(&p, N, BLK, N * BLK, 2, 8, rnd(&rng));
        picker_add_peer(&p, &a);
        for (int i = 0; i < 5; i++)
            picker_add_peer(&p, &b);
        count[next(&p, &a).index]++;
        picker_free(&p);
    }
    char buf[128];
    double x = chi_square(count, N);
    ck_assert_msg(x < chi_square_limit(N),
                  "seed %llu, random_first 2, nothing downloaded yet, piece 0 the rarest: "
                  "pieces started first (piece:times) %s in %d pickers; expected about %d each "
                  "(chi-square %.1f, above %.0f)",
                  (unsigned long long)seed, fmt_counts(buf, sizeof buf, count, NULL, N), TRIALS,
                  TRIALS / N, x, chi_square_limit(N));
    bitfield_free(&a);
    bitfield_free(&b);
}
END_TEST

START_TEST(picker_rarest_never_starts_what_we_have_or_fetch)
{
    /* Six two-block pieces. We already have pieces 1 and 4, which are as rare as can be (only A
     * has them); of the four we lack, piece 5 is the rarest (one copy against three). In the
     * random first phase and after it, the picker starts only pieces we lack, each once (a piece
     * in progress is not started again), and after the random phase piece 5 first. */
    for (uint64_t seed = 1; seed <= 200; seed++) {
        for (uint32_t random_first = 0; random_first <= 8; random_first += 8) {
            struct picker p;
            struct picker_config cfg;
            struct bitfield have, a, b;
            picker_config_defaults(&cfg, 6, 2 * BLK, 12 * BLK, seed);
            cfg.random_first = random_first;
            bf(&have, "010010");
            bf_all(&a, 6);
            bf(&b, "101100");
            ck_assert_int_eq(picker_init(&p, &cfg, &have), 0);
            picker_add_peer(&p, &a);
            picker_add_peer(&p, &b);
            picker_add_peer(&p, &b); /* avail: 3 1 3 3 1 1 */
            unsigned started[6] = {0};
            int64_t first = -1;
            struct picker_block got;
            while (!picker_endgame(&p) && picker_next(&p, &a, NULL, NULL, &got)) {
                if (got.begin != 0)
                    continue;
                started[got.index]++;
                if (first < 0)
                    first = got.index;
            }
            for (uint32_t i = 0; i < 6; i++) {
                bool ours = i == 1 || i == 4;
                check_msg(started[i] == (ours ? 0u : 1u),
                          "seed %llu, random_first %u, we have pieces 1 and 4: piece %u was "
                          "started %u times, expected %u",
                          (unsigned long long)seed, random_first, i, started[i], ours ? 0 : 1);
            }
            if (random_first == 0)
                check_msg(first == 5,
                          "seed %llu: availability 3 1 3 3 1 1, we have pieces 1 and 4: the first "
                          "piece started is %lld, expected 5, the rarest we lack",
                          (unsigned long long)seed, (long long)first);
            picker_free(&p);
            bitfield_free(&have);
            bitfield_free(&a);
            bitfield_free(&b);
        }
    }
}
END_TEST

START_TEST(picker_rarest_after_random_first)
{
    /* With random_first = 2: the first two pieces are random; once we have two, the rarest. */
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct picker p;
        struct bitfield all, common;
        mk(&p, 8, BLK, 8 * BLK, 2, 8, seed);
        bf_all(&all, 8);
        bf(&common, "11111110"); /* piece 7 is the rarest */
        picker_add_peer(&p, &all);
        for (int i = 0; i < 3; i++)
            picker_add_peer(&p, &common);
        for (int k = 0; k < 2; k++) {
            struct picker_block blk = next(&p, &all);
            ck_assert_int_eq(picker_received(&p, &blk), PICKER_PIECE_COMPLETE);
            picker_verified(&p, blk.index, true);
        }
        ck_assert_uint_eq(p.have_count, 2);
        struct picker_block blk = next(&p, &all);
        if (!bitfield_get(&p.have, 7))
            ck_assert_msg(blk.index == 7, "seed %llu: after random first, picked %u not 7",
                          (unsigned long long)seed, blk.index);
        picker_free(&p);
        bitfield_free(&all);
        bitfield_free(&common);
    }
}
END_TEST

START_TEST(picker_random_first_is_seeded)
{
    struct picker p1, p2;
    struct bitfield a;
    bf_all(&a, 32);
    mk(&p1, 32, BLK, 32 * BLK, 4, 8, 1234);
    mk(&p2, 32, BLK, 32 * BLK, 4, 8, 1234);
    picker_add_peer(&p1, &a);
    picker_add_peer(&p2, &a);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(next(&p1, &a).index, next(&p2, &a).index);
    picker_free(&p1);
    picker_free(&p2);
    bitfield_free(&a);
}
END_TEST

/* ===================================================================== partial pieces ===== */

START_TEST(picker_partial_pieces_first)
{
    /* Four-block pieces: the picker hands out the blocks of one piece in order before it starts
     * the next, whichever peer asks, as long as that peer has the piece. */
    struct picker p;
    struct bitfield a, b, c;
    mk(&p, 4, 4 * BLK, 16 * BLK, 0, 8, 9);
    bf_all(&a, 4);
    bf_all(&b, 4);
    bf(&c, "0001");
    picker_add_peer(&p, &a);
    picker_add_peer(&p, &b);
    picker_add_peer(&p, &c);
    struct picker_block first = next(&p, &a);
    ck_assert_uint_eq(first.begin, 0);
    struct picker_block blk = next(&p, &b);
    block_is(&blk, first.index, BLK, BLK);
    blk = next(&p, &a);
    block_is(&blk, first.index, 2 * BLK, BLK);
    if (first.index != 3) {
        /* C lacks the partial piece, so it starts piece 3, the only one it has. */
        blk = next(&p, &c);
        block_is(&blk, 3, 0, BLK);
    }
    blk = next(&p, &b);
    block_is(&blk, first.index, 3 * BLK, BLK);
    check_invariants(&p, "partial first");
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
    bitfield_free(&c);
}
END_TEST

START_TEST(picker_rarest_random_first_starts_rarer_over_partial)
{
    /* Even while we pick at random (our first random_first pieces), a peer that holds a piece
     * rarer than the one in progress is asked to start a new piece, not to finish the one others
     * can send too. Otherwise newcomers would have the seed finish the pieces they fetch from each
     * other, all end up with the same few pieces, and have nothing to trade. (The same rule once
     * rarest first rules: picker_rarest_new_piece_before_commoner_partial.) */
    struct picker p;
    struct bitfield a, b;
    mk(&p, 2, 2 * BLK, 4 * BLK, 4, 8, 9);
    bf(&a, "11");
    bf(&b, "10");
    picker_add_peer(&p, &a);
    picker_add_peer(&p, &b); /* avail = 2, 1: piece 1 is rarer */
    struct picker_block blk = next(&p, &b);
    block_is(&blk, 0, 0, BLK); /* B only has piece 0 */
    blk = next(&p, &a);
    block_is(&blk, 1, 0, BLK); /* A (the seed) starts piece 1, which only it has */
    blk = next(&p, &a);
    block_is(&blk, 1, BLK, BLK); /* of the two in progress, the rarer is finished first */
    blk = next(&p, &a);
    block_is(&blk, 0, BLK, BLK); /* then piece 0, which B could also have sent */
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
}
END_TEST

START_TEST(picker_rarest_partial_among_started)
{
    /* Of the pieces in progress, the peer is asked for the rarest it has, even when a commoner
     * one was started earlier: the commoner piece can still be finished from its other owners.
     * Piece 0 is started first (by B) and held by A and B; piece 1 is started second (by C,
     * which then leaves) and held by A alone. */
    struct picker p;
    struct bitfield a, b, c;
    mk(&p, 3, 2 * BLK, 6 * BLK, 0, 8, 9);
    bf(&a, "110");
    bf(&b, "100");
    bf(&c, "010");
    picker_add_peer(&p, &a);
    picker_add_peer(&p, &b);
    picker_add_peer(&p, &c);
    struct picker_block blk = next(&p, &b);
    block_is(&blk, 0, 0, BLK);
    blk = next(&p, &c);
    block_is(&blk, 1, 0, BLK);
    picker_remove_peer(&p, &c); /* availability now 2, 1, 0 */
    blk = next(&p, &a);
    block_is(&blk, 1, BLK, BLK); /* the rarer partial piece, though started second */
    blk = next(&p, &a);
    block_is(&blk, 0, BLK, BLK);
    check_invariants(&p, "rarest partial first");
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
    bitfield_free(&c);
}
END_TEST

START_TEST(picker_rarest_new_piece_before_commoner_partial)
{
    /* A piece in progress goes first only while nothing rarer can be started from the peer. We
     * start piece 0 from leecher L1 (all it has). Then the seed, which has everything, is asked
     * for piece 2, which only it holds, rather than for the rest of piece 0, which three peers
     * have, or for piece 1, which two have. L3 then starts piece 1, and L2 finishes piece 0.
     * Before this rule the seed sent the rest of piece 0, and in a swarm the pieces only the
     * seed held reached the leechers last. */
    struct picker p;
    struct bitfield seed, l1, l2, l3;
    mk(&p, 3, 2 * BLK, 6 * BLK, 0, 8, 5);
    bf_all(&seed, 3);
    bf(&l1, "100");
    bf(&l2, "100");
    bf(&l3, "010");
    picker_add_peer(&p, &seed);
    picker_add_peer(&p, &l1);
    picker_add_peer(&p, &l2);
    picker_add_peer(&p, &l3); /* availability 3, 2, 1; random first is off */
    struct picker_block blk = next(&p, &l1);
    block_is(&blk, 0, 0, BLK);
    blk = next(&p, &seed);
    ck_assert_msg(blk.index == 2 && blk.begin == 0,
                  "the seed was asked for block (%u, %u, %u), want (2, 0, %u): piece 2 has 1 copy, "
                  "piece 1 has 2, and piece 0, in progress, has 3",
                  blk.index, blk.begin, blk.length, BLK);
    blk = next(&p, &l3);
    block_is(&blk, 1, 0, BLK);
    blk = next(&p, &l2);
    /* The commoner piece in progress, from a peer with nothing rarer. */
    block_is(&blk, 0, BLK, BLK);
    check_invariants(&p, "rarer new piece before a commoner partial one");
    picker_free(&p);
    bitfield_free(&seed);
    bitfield_free(&l1);
    bitfield_free(&l2);
    bitfield_free(&l3);
}
END_TEST

START_TEST(picker_max_partial_respected)
{
    /* max_partial = 2: with two pieces fully requested and more missing, nothing new starts. */
    struct picker p;
    struct bitfield a;
    mk(&p, 6, 2 * BLK, 12 * BLK, 0, 2, 4);
    bf_all(&a, 6);
    picker_add_peer(&p, &a);
    struct picker_block got[4];
    for (int i = 0; i < 4; i++)
        got[i] = next(&p, &a);
    ck_assert_uint_eq(p.npartial, 2);
    struct picker_block blk;
    ck_assert(!picker_next(&p, &a, NULL, NULL, &blk));
    expect_endgame(&p, false); /* four pieces are not even started: no end game */
    /* Finishing one piece frees a slot. */
    ck_assert_int_eq(picker_received(&p, &got[0]), PICKER_BLOCK_NEW);
    ck_assert_int_eq(picker_received(&p, &got[1]), PICKER_PIECE_COMPLETE);
    ck_assert(!picker_next(&p, &a, NULL, NULL, &blk)); /* still in progress until verified */
    picker_verified(&p, got[0].index, true);
    blk = next(&p, &a);
    ck_assert(blk.index != got[0].index && blk.index != got[2].index);
    ck_assert_uint_eq(p.npartial, 2);
    check_invariants(&p, "max_partial");
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_max_partial_zero_means_one)
{
    struct picker p;
    struct bitfield a;
    mk(&p, 3, BLK, 3 * BLK, 0, 0, 4);
    bf_all(&a, 3);
    picker_add_peer(&p, &a);
    next(&p, &a);
    struct picker_block blk;
    ck_assert(!picker_next(&p, &a, NULL, NULL, &blk));
    ck_assert_uint_eq(p.npartial, 1);
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_peer_with_nothing_we_need)
{
    struct picker p;
    struct bitfield none, a;
    mk(&p, 3, BLK, 3 * BLK, 0, 8, 4);
    bf(&none, "000");
    bf(&a, "010");
    picker_add_peer(&p, &a);
    struct picker_block blk;
    ck_assert(!picker_next(&p, &none, NULL, NULL, &blk));
    ck_assert_uint_eq(p.npartial, 0); /* asking did not start anything */
    next(&p, &a);
    ck_assert(!picker_next(&p, &a, NULL, NULL, &blk)); /* its one block is asked for already */
    picker_free(&p);
    bitfield_free(&none);
    bitfield_free(&a);
}
END_TEST

/* ===================================================================== block sizes ======== */

START_TEST(picker_short_last_piece_and_block)
{
    /* 64 KiB pieces (4 blocks); the last piece is 20000 bytes: one full block and 3616 bytes. */
    struct picker p;
    struct bitfield a;
    mk(&p, 4, 4 * BLK, 3 * 4 * BLK + 20000, 0, 8, 4);
    bf(&a, "0001");
    picker_add_peer(&p, &a);
    struct picker_block blk = next(&p, &a);
    block_is(&blk, 3, 0, BLK);
    blk = next(&p, &a);
    block_is(&blk, 3, BLK, 20000 - BLK);
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){3, 0, BLK}), PICKER_BLOCK_NEW);
    ck_assert_int_eq(picker_received(&p, &blk), PICKER_PIECE_COMPLETE);
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_piece_not_a_multiple_of_the_block)
{
    /* 40000-byte pieces: blocks of 16384, 16384 and 7232 bytes, in every piece. */
    struct picker p;
    struct bitfield a;
    mk(&p, 2, 40000, 80000, 0, 8, 4);
    bf(&a, "10");
    picker_add_peer(&p, &a);
    struct picker_block blk = next(&p, &a);
    block_is(&blk, 0, 0, BLK);
    blk = next(&p, &a);
    block_is(&blk, 0, BLK, BLK);
    blk = next(&p, &a);
    block_is(&blk, 0, 2 * BLK, 40000 - 2 * BLK);
    ck_assert_uint_eq(p.partial[0].nblocks, 3);
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_blocks_cover_the_torrent)
{
    /* Whatever the geometry, the blocks handed out tile every piece exactly: contiguous, no
     * overlap, and the lengths add up to the total. */
    const struct {
        uint32_t plen;
        uint64_t total;
    } geo[] = {{BLK, 5 * BLK}, {4 * BLK, 10 * 4 * BLK + 1}, {40000, 123457}, {BLK * 16, 1}};
    for (size_t g = 0; g < sizeof geo / sizeof geo[0]; g++) {
        uint32_t n = (uint32_t)((geo[g].total + geo[g].plen - 1) / geo[g].plen);
        struct picker p;
        struct bitfield a;
        mk(&p, n, geo[g].plen, geo[g].total, 0, 4, g);
        bf_all(&a, n);
        picker_add_peer(&p, &a);
        uint64_t sum = 0;
        uint32_t *next_begin = calloc(n, sizeof *next_begin);
        struct picker_block blk;
        while (picker_next(&p, &a, NULL, NULL, &blk)) {
            ck_assert_msg(blk.begin == next_begin[blk.index], "geometry %zu piece %u", g,
                          blk.index);
            ck_assert(blk.length > 0 && blk.length <= BLK);
            next_begin[blk.index] += blk.length;
            sum += blk.length;
            enum picker_arrival r = picker_received(&p, &blk);
            if (r == PICKER_PIECE_COMPLETE) {
                ck_assert_uint_eq(next_begin[blk.index], picker_piece_size(&p, blk.index));
                picker_verified(&p, blk.index, true);
            } else {
                ck_assert_int_eq(r, PICKER_BLOCK_NEW);
            }
        }
        ck_assert_msg(sum == geo[g].total, "geometry %zu: %llu bytes of %llu", g,
                      (unsigned long long)sum, (unsigned long long)geo[g].total);
        ck_assert(picker_complete(&p));
        free(next_begin);
        picker_free(&p);
        bitfield_free(&a);
    }
}
END_TEST

/* ===================================================================== give up ============ */

START_TEST(picker_endgame_left_when_a_request_is_given_up)
{
    struct picker p;
    struct bitfield a;
    mk(&p, 1, 2 * BLK, 2 * BLK, 0, 8, 4);
    bf(&a, "1");
    picker_add_peer(&p, &a);
    struct picker_block b0 = next(&p, &a);
    struct picker_block b1 = next(&p, &a);
    expect_endgame(&p, true);
    picker_giveup(&p, &b0); /* the peer choked us */
    expect_endgame(&p, false);
    struct picker_block again = next(&p, &a);
    block_is(&again, b0.index, b0.begin, b0.length);
    expect_endgame(&p, true);
    /* Giving up a block twice, one never asked for, or of a piece not in progress is ignored. */
    picker_giveup(&p, &b1);
    picker_giveup(&p, &b1);
    picker_giveup(&p, &(struct picker_block){0, 1, BLK});        /* not block-aligned */
    picker_giveup(&p, &(struct picker_block){0, 99 * BLK, BLK}); /* past the piece */
    picker_giveup(&p, &(struct picker_block){7, 0, BLK});        /* no such piece */
    check_invariants(&p, "giveup");
    again = next(&p, &a);
    block_is(&again, b1.index, b1.begin, b1.length);
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

/* ===================================================================== arrivals =========== */

START_TEST(picker_received_classifications)
{
    /* Three two-block pieces; the peer offers piece 1 only, so the test knows what is started. */
    struct picker p;
    struct bitfield a;
    mk(&p, 3, 2 * BLK, 6 * BLK, 0, 8, 4);
    bf(&a, "010");
    picker_add_peer(&p, &a);
    struct picker_block b0 = next(&p, &a);
    struct picker_block b1 = next(&p, &a);
    block_is(&b0, 1, 0, BLK);
    block_is(&b1, 1, BLK, BLK);

    ck_assert_int_eq(picker_received(&p, &b0), PICKER_BLOCK_NEW);
    ck_assert_int_eq(picker_received(&p, &b0), PICKER_BLOCK_DUPLICATE);
    /* Wrong shapes of a block of the piece in progress. */
    struct picker_block bad = b1;
    bad.length = BLK - 1;
    ck_assert_int_eq(picker_received(&p, &bad), PICKER_BLOCK_UNWANTED);
    bad.length = BLK + 1;
    ck_assert_int_eq(picker_received(&p, &bad), PICKER_BLOCK_UNWANTED);
    bad.length = 0;
    ck_assert_int_eq(picker_received(&p, &bad), PICKER_BLOCK_UNWANTED);
    bad = b1;
    bad.begin = 1; /* not on a block boundary */
    ck_assert_int_eq(picker_received(&p, &bad), PICKER_BLOCK_UNWANTED);
    bad.begin = 2 * BLK; /* past the end of a two-block piece */
    ck_assert_int_eq(picker_received(&p, &bad), PICKER_BLOCK_UNWANTED);
    bad.begin = UINT32_MAX - BLK + 1;
    ck_assert_int_eq(picker_received(&p, &bad), PICKER_BLOCK_UNWANTED);
    /* Blocks of pieces not in progress, or not in the torrent. */
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, 0, BLK}), PICKER_BLOCK_UNWANTED);
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){3, 0, BLK}), PICKER_BLOCK_UNWANTED);
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){UINT32_MAX, 0, BLK}),
                     PICKER_BLOCK_UNWANTED);
    check_invariants(&p, "after rejects");
    ck_assert_uint_eq(p.partial[0].received, 1); /* none of the rejects counted */

    ck_assert_int_eq(picker_received(&p, &b1), PICKER_PIECE_COMPLETE);
    ck_assert_int_eq(picker_received(&p, &b1), PICKER_BLOCK_DUPLICATE); /* awaiting the hash */
    picker_verified(&p, 1, true);
    ck_assert(bitfield_get(&p.have, 1));
    ck_assert_uint_eq(p.have_count, 1);
    /* A late copy of a block of a piece that is ours now is a duplicate. */
    ck_assert_int_eq(picker_received(&p, &b0), PICKER_BLOCK_DUPLICATE);
    check_invariants(&p, "end");
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_received_wrong_length_of_short_last_block)
{
    struct picker p;
    struct bitfield a;
    mk(&p, 1, 4 * BLK, BLK + 100, 0, 8, 4);
    bf(&a, "1");
    picker_add_peer(&p, &a);
    next(&p, &a);
    next(&p, &a);
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, BLK, BLK}),
                     PICKER_BLOCK_UNWANTED);
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, BLK, 99}),
                     PICKER_BLOCK_UNWANTED);
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, BLK, 100}), PICKER_BLOCK_NEW);
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, 0, BLK}), PICKER_PIECE_COMPLETE);
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_endgame_counts_an_unrequested_arrival)
{
    /* A block that arrives without being asked for (its piece is in progress) is kept, and the
     * picker does not ask for it afterwards. */
    struct picker p;
    struct bitfield a;
    mk(&p, 1, 3 * BLK, 3 * BLK, 0, 8, 4);
    bf(&a, "1");
    picker_add_peer(&p, &a);
    next(&p, &a); /* starts piece 0 with block 0 */
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, 2 * BLK, BLK}),
                     PICKER_BLOCK_NEW);
    check_invariants(&p, "unsolicited");
    struct picker_block blk = next(&p, &a);
    block_is(&blk, 0, BLK, BLK);
    expect_endgame(&p, true); /* block 2 is in, 0 and 1 are requested */
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

/* ===================================================================== verification ======= */

START_TEST(picker_verify_failure_restarts_piece)
{
    /* A piece fails its hash check while other pieces are still missing: the picker must ask
     * for all its blocks again (before it starts anything new), not forget about it. */
    struct picker p;
    struct bitfield a;
    mk(&p, 3, 2 * BLK, 6 * BLK, 0, 8, 4);
    bf_all(&a, 3);
    picker_add_peer(&p, &a);
    struct picker_block b0 = next(&p, &a);
    struct picker_block b1 = next(&p, &a);
    uint32_t idx = b0.index;
    ck_assert_int_eq(picker_received(&p, &b0), PICKER_BLOCK_NEW);
    ck_assert_int_eq(picker_received(&p, &b1), PICKER_PIECE_COMPLETE);
    picker_verified(&p, idx, false);
    ck_assert(!bitfield_get(&p.have, idx));
    ck_assert_uint_eq(p.have_count, 0);
    check_invariants(&p, "after bad hash");
    ck_assert(!picker_block_done(&p, idx, 0)); /* its data is gone */
    struct picker_block again = next(&p, &a);
    block_is(&again, idx, 0, BLK);
    again = next(&p, &a);
    block_is(&again, idx, BLK, BLK);
    ck_assert_int_eq(picker_received(&p, &b0), PICKER_BLOCK_NEW);
    ck_assert_int_eq(picker_received(&p, &b1), PICKER_PIECE_COMPLETE);
    picker_verified(&p, idx, true);
    ck_assert(bitfield_get(&p.have, idx));
    ck_assert_uint_eq(p.npartial, 0);
    check_invariants(&p, "after good hash");
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_endgame_copies_kept_after_verify_failure)
{
    /* In the end game a block is asked of two peers; A's copy arrives and completes the piece,
     * B's request is still out when the hash fails. The block B is fetching counts as requested,
     * and the other block is asked for again. */
    struct picker p;
    struct bitfield a;
    mk(&p, 1, 2 * BLK, 2 * BLK, 0, 8, 4);
    bf(&a, "1");
    picker_add_peer(&p, &a);
    struct picker_block b0 = next(&p, &a); /* from A */
    struct picker_block b1 = next(&p, &a); /* from A */
    expect_endgame(&p, true);
    struct picker_block dup = next(&p, &a); /* from B: no busy callback, so any block */
    block_is(&dup, 0, 0, BLK);
    ck_assert_int_eq(picker_received(&p, &b0), PICKER_BLOCK_NEW); /* A answers */
    ck_assert_int_eq(picker_received(&p, &b1), PICKER_PIECE_COMPLETE);
    picker_verified(&p, 0, false);
    check_invariants(&p, "bad hash in end game");
    ck_assert_uint_eq(p.partial[0].requests[0], 1); /* B's copy is still out */
    ck_assert_uint_eq(p.partial[0].unrequested, 1);
    struct picker_block again = next(&p, &a);
    block_is(&again, 0, BLK, BLK); /* block 1 again; block 0 is on its way from B */
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_verified_ignores_unknown_pieces)
{
    struct picker p;
    mk(&p, 2, BLK, 2 * BLK, 0, 8, 4);
    picker_verified(&p, 0, true); /* not in progress: no effect */
    picker_verified(&p, 5, true);
    picker_verified(&p, 1, false);
    ck_assert_uint_eq(p.have_count, 0);
    ck_assert(!bitfield_get(&p.have, 0));
    picker_free(&p);
}
END_TEST

START_TEST(picker_complete_after_every_piece)
{
    struct picker p;
    struct bitfield a;
    mk(&p, 5, 2 * BLK, 9 * BLK, 2, 2, 77);
    bf_all(&a, 5);
    picker_add_peer(&p, &a);
    for (int k = 0; k < 5; k++) {
        ck_assert(!picker_complete(&p));
        struct picker_block b;
        ck_assert(picker_next(&p, &a, NULL, NULL, &b));
        enum picker_arrival r;
        while ((r = picker_received(&p, &b)) != PICKER_PIECE_COMPLETE)
            ck_assert(picker_next(&p, &a, NULL, NULL, &b));
        picker_verified(&p, b.index, true);
    }
    ck_assert(picker_complete(&p));
    expect_endgame(&p, false);
    ck_assert(!picker_interesting(&p, &a));
    picker_free(&p);
    bitfield_free(&a);
}
END_TEST

/* ===================================================================== end game =========== */

START_TEST(picker_endgame_entered_exactly)
{
    /* Three two-block pieces, one already ours: the end game begins with the request for the
     * last unrequested block, not one block earlier. */
    struct picker p;
    struct picker_config cfg;
    struct bitfield have, a;
    picker_config_defaults(&cfg, 3, 2 * BLK, 6 * BLK, 4);
    cfg.random_first = 0;
    bf(&have, "010");
    bf_all(&a, 3);
    ck_assert_int_eq(picker_init(&p, &cfg, &have), 0);
    picker_add_peer(&p, &a);
    for (int i = 0; i < 3; i++) {
        next(&p, &a);
        ck_assert_msg(!picker_endgame(&p), "end game after %d of 4 requests", i + 1);
    }
    next(&p, &a);
    expect_endgame(&p, true);
    picker_free(&p);
    bitfield_free(&have);
    bitfield_free(&a);
}
END_TEST

START_TEST(picker_endgame_not_entered_with_pieces_unstarted)
{
    /* Every block of the pieces in progress is requested, but a missing piece that no
     * connected peer has has not started: that is not the end game. */
    struct picker p;
    struct bitfield a;
    mk(&p, 2, BLK, 2 * BLK, 0, 8, 4);
    bf(&a, "10");
    picker_add_peer(&p, &a);
    next(&p, &a);
    expect_endgame(&p, false);
    struct picker_block blk;
    ck_assert(!picker_next(&p, &a, NULL, NULL, &blk)); /* so no duplicate requests either */
    /* A peer with the other piece arrives and it starts too: now every block we lack is
     * requested, and that is the end game. */
    struct bitfield b;
    bf(&b, "01");
    picker_add_peer(&p, &b);
    next(&p, &b);
    expect_endgame(&p, true);
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
}
END_TEST

/* One peer's outstanding requests, as the session would keep them, for the busy callback. */
struct fake_peer {
    struct picker_block out[64];
    size_t n;
};

/* The busy callback: whether this peer already has (index, begin) outstanding. */
static bool fake_busy(void *ctx, uint32_t index, uint32_t begin)
{
    const struct fake_peer *fp = ctx;
    for (size_t i = 0; i < fp->n; i++)
        if (fp->out[i].index == index && fp->out[i].begin == begin)
            return true;
    return false;
}

/* Asks the picker on behalf of fp and records the request; returns false when there is none. */
static bool fake_request(struct picker *p, const struct bitfield *has, struct fake_peer *fp,
                         struct picker_block *out)
{
    if (!picker_next(p, has, fake_busy, fp, out))
        return false;
    check_msg(!fake_busy(fp, out->index, out->begin), "block (%u, %u) asked twice of a peer",
              out->index, out->begin);
    check_msg(fp->n < 64, "too many requests");
    fp->out[fp->n++] = *out;
    return true;
}

/* Fails the test unless the picker finds a block to ask peer `name` for, showing its state. */
static void expect_request(struct picker *p, const struct bitfield *has, struct fake_peer *fp,
                           struct picker_block *out, const char *name)
{
    char t[4096];
    if (!fake_request(p, has, fp, out))
        ck_abort_msg("expected a block to ask peer %s for, picker_next() found none; the "
                     "picker:%s",
                     name, picker_text(p, t, sizeof t));
}

/* Fails the test if the picker finds a block to ask peer `name` for, showing which. */
static void expect_no_request(struct picker *p, const struct bitfield *has, struct fake_peer *fp,
                              struct picker_block *out, const char *name)
{
    char t[4096];
    if (fake_request(p, has, fp, out))
        ck_abort_msg("expected nothing to ask peer %s for, picker_next() chose block (%u, %u); "
                     "the picker:%s",
                     name, out->index, out->begin, picker_text(p, t, sizeof t));
}

/* Removes (index, begin) from fp's outstanding requests; returns whether it was there. */
static bool fake_remove(struct fake_peer *fp, uint32_t index, uint32_t begin)
{
    for (size_t i = 0; i < fp->n; i++)
        if (fp->out[i].index == index && fp->out[i].begin == begin) {
            fp->out[i] = fp->out[--fp->n];
            return true;
        }
    return false;
}

START_TEST(picker_endgame_duplicates_to_other_peers_only)
{
    struct picker p;
    struct bitfield has;
    struct fake_peer A = {0}, B = {0}, C = {0};
    struct picker_block blk;
    mk(&p, 1, 2 * BLK, 2 * BLK, 0, 8, 4);
    bf(&has, "1");
    for (int i = 0; i < 3; i++)
        picker_add_peer(&p, &has);
    expect_request(&p, &has, &A, &blk, "A");
    expect_request(&p, &has, &A, &blk, "A");
    expect_endgame(&p, true);
    /* A has both blocks outstanding: nothing more to ask of it. */
    expect_no_request(&p, &has, &A, &blk, "A");
    /* B gets both, one at a time, least-requested first; then nothing. */
    expect_request(&p, &has, &B, &blk, "B");
    expect_request(&p, &has, &B, &blk, "B");
    expect_no_request(&p, &has, &B, &blk, "B");
    ck_assert_uint_eq(p.partial[0].requests[0], 2);
    ck_assert_uint_eq(p.partial[0].requests[1], 2);
    /* C too. */
    expect_request(&p, &has, &C, &blk, "C");
    expect_request(&p, &has, &C, &blk, "C");
    expect_no_request(&p, &has, &C, &blk, "C");

    /* Block 1 arrives from B: the shell asks which outstanding requests to cancel. */
    ck_assert(fake_remove(&B, 0, BLK));
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, BLK, BLK}), PICKER_BLOCK_NEW);
    ck_assert(picker_block_done(&p, 0, BLK));
    ck_assert(!picker_block_done(&p, 0, 0));
    struct fake_peer *others[2] = {&A, &C};
    for (int i = 0; i < 2; i++) {
        ck_assert(fake_remove(others[i], 0, BLK)); /* CANCEL sent */
        picker_giveup(&p, &(struct picker_block){0, BLK, BLK});
    }
    ck_assert_uint_eq(p.partial[0].requests[1], 0);
    check_invariants(&p, "after cancels");
    /* B is free for block 1 now but that block is done; block 0 it already has outstanding. */
    expect_no_request(&p, &has, &B, &blk, "B");
    ck_assert_int_eq(picker_received(&p, &(struct picker_block){0, 0, BLK}), PICKER_PIECE_COMPLETE);
    ck_assert(picker_block_done(&p, 0, 0));
    picker_verified(&p, 0, true);
    ck_assert(picker_block_done(&p, 0, 0));
    ck_assert(picker_block_done(&p, 0, BLK));
    ck_assert(!picker_block_done(&p, 1, 0)); /* no such piece */
    ck_assert(picker_complete(&p));
    picker_free(&p);
    bitfield_free(&has);
}
END_TEST

START_TEST(picker_endgame_prefers_least_requested)
{
    /* Three blocks; block 1 has been duplicated already: a new peer gets block 0 or 2 first. */
    struct picker p;
    struct bitfield has;
    struct fake_peer A = {0}, B = {0}, C = {0};
    struct picker_block blk;
    mk(&p, 1, 3 * BLK, 3 * BLK, 0, 8, 4);
    bf(&has, "1");
    picker_add_peer(&p, &has);
    for (int i = 0; i < 3; i++)
        expect_request(&p, &has, &A, &blk, "A");
    /* B already fetches block 0 and 2 (say an earlier round), so it can only add block 1. */
    B.out[B.n++] = (struct picker_block){0, 0, BLK};
    B.out[B.n++] = (struct picker_block){0, 2 * BLK, BLK};
    expect_request(&p, &has, &B, &blk, "B");
    block_is(&blk, 0, BLK, BLK);
    expect_request(&p, &has, &C, &blk, "C");
    ck_assert_msg(blk.begin != BLK, "C was given the block already asked twice");
    /* Now two of the blocks are asked twice and one once: D must get that one, whichever of 0
     * and 2 it is, and not simply the first block still missing. */
    struct fake_peer D = {0};
    uint32_t want = blk.begin == 0 ? 2 * BLK : 0;
    expect_request(&p, &has, &D, &blk, "D");
    ck_assert_msg(blk.begin == want,
                  "end game, copies in flight: block 0 %s, block 1 twice, block 2 %s; D was "
                  "given the block at %u, expected the one asked once, at %u",
                  want == 0 ? "once" : "twice", want == 0 ? "twice" : "once", blk.begin, want);
    picker_free(&p);
    bitfield_free(&has);
}
END_TEST

START_TEST(picker_endgame_only_pieces_the_peer_has)
{
    struct picker p;
    struct bitfield a, b;
    struct fake_peer A = {0}, B = {0};
    struct picker_block blk;
    mk(&p, 2, BLK, 2 * BLK, 0, 8, 4);
    bf(&a, "11");
    bf(&b, "01");
    picker_add_peer(&p, &a);
    picker_add_peer(&p, &b);
    ck_assert(fake_request(&p, &a, &A, &blk));
    ck_assert(fake_request(&p, &a, &A, &blk));
    expect_endgame(&p, true);
    ck_assert(fake_request(&p, &b, &B, &blk));
    block_is(&blk, 1, 0, BLK);
    ck_assert(!fake_request(&p, &b, &B, &blk)); /* B lacks piece 0 */
    picker_free(&p);
    bitfield_free(&a);
    bitfield_free(&b);
}
END_TEST

/* ===================================================================== random swarm ======= */

START_TEST(picker_swarm_random_keeps_invariants)
{
    /* Peers with random piece sets ask, answer, choke us and leave at random; a tenth of the
     * pieces fail their hash check once. After every step the picker's counts must match a
     * recount, each block's request count must equal the peers fetching it, the end game must
     * match its definition, and in the end the whole torrent must arrive. */
    enum { NPEERS = 6, PIECES = 24 };
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 7;
        struct picker p;
        struct picker_config cfg;
        picker_config_defaults(&cfg, PIECES, 3 * BLK, (uint64_t)PIECES * 3 * BLK - 5000, seed);
        cfg.max_partial = 1 + (uint32_t)(rnd(&rng) % 6);
        cfg.random_first = (uint32_t)(rnd(&rng) % 5);
        ck_assert_int_eq(picker_init(&p, &cfg, NULL), 0);
        struct bitfield has[NPEERS];
        struct fake_peer *fp = calloc(NPEERS, sizeof *fp);
        bool *failed_once = calloc(PIECES, sizeof *failed_once);
        for (int i = 0; i < NPEERS; i++) {
            ck_assert_int_eq(bitfield_init(&has[i], PIECES), 0);
            for (int k = 0; k < PIECES; k++)
                if (i == 0 || rnd(&rng) % 3 == 0) /* peer 0 is a seeder, so all can finish */
                    bitfield_set(&has[i], k);
            picker_add_peer(&p, &has[i]);
        }
        int step;
        for (step = 0; step < 20000 && !picker_complete(&p); step++) {
            int i = (int)(rnd(&rng) % NPEERS);
            unsigned action = (unsigned)(rnd(&rng) % 10);
            struct picker_block blk;
            if (action < 5) {
                if (fp[i].n < 8)
                    fake_request(&p, &has[i], &fp[i], &blk);
            } else if (action < 9 && fp[i].n > 0) {
                /* The peer answers one of its requests. */
                size_t k = (size_t)(rnd(&rng) % fp[i].n);
                blk = fp[i].out[k];
                fake_remove(&fp[i], blk.index, blk.begin);
                enum picker_arrival r = picker_received(&p, &blk);
                check_msg(r != PICKER_BLOCK_UNWANTED, "seed %llu step %d: unwanted",
                          (unsigned long long)seed, step);
                /* Cancel the other copies of that block (end game). */
                if (picker_block_done(&p, blk.index, blk.begin))
                    for (int j = 0; j < NPEERS; j++)
                        if (fake_remove(&fp[j], blk.index, blk.begin))
                            picker_giveup(&p, &blk);
                if (r == PICKER_PIECE_COMPLETE) {
                    bool good = failed_once[blk.index] || rnd(&rng) % 10 != 0;
                    failed_once[blk.index] = true;
                    picker_verified(&p, blk.index, good);
                }
            } else if (action == 9) {
                /* The peer chokes us: every request of it is given back. */
                for (size_t k = 0; k < fp[i].n; k++)
                    picker_giveup(&p, &fp[i].out[k]);
                fp[i].n = 0;
            }
            check_invariants(&p, "random swarm");
            /* Each block's request count is the number of peers fetching it. */
            for (uint32_t q = 0; q < p.npartial; q++) {
                const struct picker_partial *pp = &p.partial[q];
                for (uint32_t b = 0; b < pp->nblocks; b++) {
                    unsigned fetching = 0;
                    for (int j = 0; j < NPEERS; j++)
                        fetching += fake_busy(&fp[j], pp->index, b * BLK);
                    check_msg(pp->requests[b] == fetching,
                              "seed %llu step %d: piece %u block %u counts %u requests, "
                              "%u peers fetch it",
                              (unsigned long long)seed, step, pp->index, b, pp->requests[b],
                              fetching);
                }
            }
            /* The end game, recomputed from its definition. */
            bool naive = !picker_complete(&p);
            for (uint32_t k = 0; k < PIECES && naive; k++) {
                if (bitfield_get(&p.have, k))
                    continue;
                if (!p.in_progress[k]) {
                    naive = false;
                    break;
                }
                for (uint32_t q = 0; q < p.npartial; q++)
                    if (p.partial[q].index == k)
                        for (uint32_t b = 0; b < p.partial[q].nblocks; b++)
                            if (!p.partial[q].have[b] && p.partial[q].requests[b] == 0)
                                naive = false;
            }
            check_msg(picker_endgame(&p) == naive, "seed %llu step %d: end game %d",
                      (unsigned long long)seed, step, picker_endgame(&p));
        }
        check_msg(picker_complete(&p), "seed %llu: not complete after %d steps",
                  (unsigned long long)seed, step);
        for (int i = 0; i < NPEERS; i++)
            bitfield_free(&has[i]);
        free(fp);
        free(failed_once);
        picker_free(&p);
    }
}
END_TEST

/* ===================================================================== policies =========== */

/* The default policy is rarest first: lab 7's rule. */
START_TEST(picker_default_policy_is_rarest_first)
{
    struct picker_config cfg;
    picker_config_defaults(&cfg, 8, BLK, 8 * BLK, 1);
    ck_assert_int_eq(cfg.policy, PICKER_RAREST_FIRST);
}
END_TEST

/* Sequential asks for the pieces in order, from the first, even before it has any (no random
 * first pieces) and whatever their rarity. picker_next() itself does this (first_startable()),
 * so lab 7 gives it. */
START_TEST(picker_sequential_policy_takes_the_lowest)
{
    struct picker_config cfg;
    picker_config_defaults(&cfg, 8, BLK, 8 * BLK, 3);
    cfg.policy = PICKER_SEQUENTIAL;
    struct picker p;
    ck_assert_int_eq(picker_init(&p, &cfg, NULL), 0);
    struct bitfield all, rare;
    bf_all(&all, 8);
    bf(&rare, "00000001");
    picker_add_peer(&p, &all);
    picker_add_peer(&p, &all);
    picker_add_peer(&p, &rare); /* piece 7 is the most common, piece 0..6 rarer */
    for (uint32_t i = 0; i < 8; i++) {
        struct picker_block b = next(&p, &all);
        block_is(&b, i, 0, BLK);
    }
    bitfield_free(&all);
    bitfield_free(&rare);
    picker_free(&p);
}
END_TEST

/* Random ignores rarity: where rarest first always starts the one rare piece, random starts
 * each of the eight pieces first about as often, from pickers whose seeds come from a printed
 * seed. Its random_first is 0, so this is the policy, not the random first phase. */
START_TEST(picker_policy_random_ignores_rarity)
{
    enum { N = 8, TRIALS = 1600 };
    const uint64_t seed = 777;
    printf("picker_policy_random_ignores_rarity: seed %llu\n", (unsigned long long)seed);
    uint64_t rng = seed;
    struct bitfield all, common;
    bf_all(&all, N);
    bf(&common, "11111011"); /* piece 5 is the rarest: only `all` has it */
    unsigned firsts[N] = {0};
    for (int t = 0; t < TRIALS; t++) {
        uint64_t pseed = rnd(&rng);
        for (int policy = 0; policy < 2; policy++) {
            struct picker_config cfg;
            picker_config_defaults(&cfg, N, BLK, N * BLK, pseed);
            cfg.random_first = 0;
            cfg.policy = policy == 0 ? PICKER_RAREST_FIRST : PICKER_RANDOM;
            struct picker p;
            ck_assert_int_eq(picker_init(&p, &cfg, NULL), 0);
            picker_add_peer(&p, &all);
            picker_add_peer(&p, &common);
            picker_add_peer(&p, &common);
            struct picker_block b = next(&p, &all);
            if (policy == 0)
                check_msg(b.index == 5, "picker seed %llu: rarest first started piece %u, not 5",
                          (unsigned long long)pseed, b.index);
            else
                firsts[b.index]++;
            picker_free(&p);
        }
    }
    char buf[160];
    double x = chi_square(firsts, N);
    ck_assert_msg(x < chi_square_limit(N),
                  "seed %llu: the random policy started first (piece:times) %s in %d pickers, "
                  "piece 5 the rarest; expected about %d each (chi-square %.1f, above %.0f)",
                  (unsigned long long)seed, fmt_counts(buf, sizeof buf, firsts, NULL, N), TRIALS,
                  TRIALS / N, x, chi_square_limit(N));
    bitfield_free(&all);
    bitfield_free(&common);
}
END_TEST

static Suite *picker_suite(void)
{
    Suite *s = suite_create("picker");
    /* picker_rarest_: counting which peers have which piece, and choosing the rarest, ties at
     * random, after the random first pieces (lab 7). */
    TCase *tc = tk_tcase(s, "picker_rarest", 60);
    tk_add_test(tc, picker_rarest_partial_among_started);
    tk_add_test(tc, picker_rarest_new_piece_before_commoner_partial);
    tk_add_test(tc, picker_rarest_availability_add_remove_have);
    tk_add_test(tc, picker_rarest_piece_chosen);
    tk_add_test(tc, picker_rarest_among_what_the_peer_has);
    tk_add_test(tc, picker_rarest_follows_have);
    tk_add_test(tc, picker_rarest_ties_equally_likely);
    tk_add_test(tc, picker_rarest_ties_within_rarest_only);
    tk_add_test(tc, picker_rarest_seed_replays);
    tk_add_test(tc, picker_rarest_random_first_ignores_rarity);
    tk_add_test(tc, picker_rarest_random_first_starts_rarer_over_partial);
    tk_add_test(tc, picker_rarest_never_starts_what_we_have_or_fetch);
    tk_add_test(tc, picker_rarest_after_random_first);

    /* picker_endgame_: entering and leaving the end game, and its duplicate requests (lab 7). */
    tc = tk_tcase(s, "picker_endgame", 60);
    tk_add_test(tc, picker_endgame_left_when_a_request_is_given_up);
    tk_add_test(tc, picker_endgame_counts_an_unrequested_arrival);
    tk_add_test(tc, picker_endgame_copies_kept_after_verify_failure);
    tk_add_test(tc, picker_endgame_entered_exactly);
    tk_add_test(tc, picker_endgame_not_entered_with_pieces_unstarted);
    tk_add_test(tc, picker_endgame_duplicates_to_other_peers_only);
    tk_add_test(tc, picker_endgame_prefers_least_requested);
    tk_add_test(tc, picker_endgame_only_pieces_the_peer_has);

    /* picker_policy_: the random policy, a baseline of the experiments (lab 7). */
    tc = tk_tcase(s, "picker_policy", 60);
    tk_add_test(tc, picker_policy_random_ignores_rarity);

    /* picker_swarm_: a random swarm of peers coming, going and delivering (lab 7). */
    tc = tk_tcase(s, "picker_swarm", 60);
    tk_add_test(tc, picker_swarm_random_keeps_invariants);

    /* picker_: geometry, partial pieces first, the sequential policy, the random generator,
     * arrivals and verdicts, which lab 7 gives, so no lab grades them. */
    tc = tk_tcase(s, "picker", 60);
    tk_add_test(tc, picker_config_defaults_values);
    tk_add_test(tc, picker_default_policy_is_rarest_first);
    tk_add_test(tc, picker_sequential_policy_takes_the_lowest);
    tk_add_test(tc, picker_init_with_have_is_seeding);
    tk_add_test(tc, picker_init_with_some_pieces);
    tk_add_test(tc, picker_piece_sizes);
    tk_add_test(tc, picker_interesting_follows_what_we_lack);
    tk_add_test(tc, picker_no_seed_breaks_the_generator);
    tk_add_test(tc, picker_random_first_is_seeded);
    tk_add_test(tc, picker_partial_pieces_first);
    tk_add_test(tc, picker_max_partial_respected);
    tk_add_test(tc, picker_max_partial_zero_means_one);
    tk_add_test(tc, picker_peer_with_nothing_we_need);
    tk_add_test(tc, picker_short_last_piece_and_block);
    tk_add_test(tc, picker_piece_not_a_multiple_of_the_block);
    tk_add_test(tc, picker_blocks_cover_the_torrent);
    tk_add_test(tc, picker_received_classifications);
    tk_add_test(tc, picker_received_wrong_length_of_short_last_block);
    tk_add_test(tc, picker_verify_failure_restarts_piece);
    tk_add_test(tc, picker_verified_ignores_unknown_pieces);
    tk_add_test(tc, picker_complete_after_every_piece);
    return s;
}

TK_MAIN(picker_suite)
