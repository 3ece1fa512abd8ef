/*
 * check_smartban.c - finding the peer that sent bad data, on scripted block histories.
 *
 * The first tests call the record directly: one sender of a bad piece, several senders (judged
 * when the piece passes), the fetch again from one peer alone, a block never asked for. The
 * simulations then run whole downloads through the picker and the record as the shell does, with
 * honest peers, a peer that answers requests with wrong bytes, and a peer that slips blocks
 * nobody asked for into the pieces in progress (the attack that once kept a download at 5 of 64
 * pieces for good). Random choices come from a printed seed.
 */
#include "testlib.h"
#include "picker.h"
#include "sha1.h"
#include "smartban.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLK = SMARTBAN_BLOCK_LEN };

/* Fills buf with n bytes from a simple generator seeded with seed. */
static void fill(unsigned char *buf, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
}

/* ===================================================================== the record ========= */

START_TEST(smartban_lone_sender_of_bad_piece_is_named)
{
    struct smartban sb;
    ck_assert_int_eq(smartban_init(&sb, 2, 4 * BLK, 8 * BLK, 0), 0);
    static unsigned char piece[4 * BLK];
    fill(piece, sizeof piece, 1);
    for (uint32_t b = 0; b < 4; b++)
        smartban_stored(&sb, 7, 1, b * BLK);
    uint64_t c[SMARTBAN_MAX_CULPRITS];
    ck_assert_uint_eq(smartban_failed(&sb, 1, piece, c), 1);
    ck_assert_uint_eq(c[0], 7);
    ck_assert(!smartban_is_suspect(&sb, 1)); /* nothing left to find out */
    smartban_free(&sb);
}
END_TEST

/* Honest A sends blocks 0, 1 and 3 of a piece, liar B block 2. The piece fails and nobody is
 * blamed yet; it is fetched again from A alone (B is not offered it), passes, and B's block is
 * the one that differs: B is named, A is not. */
START_TEST(smartban_mixed_piece_judged_when_it_passes)
{
    struct smartban sb;
    ck_assert_int_eq(smartban_init(&sb, 3, 4 * BLK, 12 * BLK, 0), 0);
    static unsigned char good[4 * BLK], bad[4 * BLK];
    fill(good, sizeof good, 2);
    memcpy(bad, good, sizeof bad);
    bad[2 * BLK + 100] ^= 1; /* B's block 2 */
    for (uint32_t b = 0; b < 4; b++)
        smartban_stored(&sb, b == 2 ? 2 : 1, 0, b * BLK);
    uint64_t c[SMARTBAN_MAX_CULPRITS];
    ck_assert_uint_eq(smartban_failed(&sb, 0, bad, c), 0);
    ck_assert(smartban_is_suspect(&sb, 0));

    struct bitfield all, scratch;
    ck_assert_int_eq(bitfield_init(&all, 3), 0);
    ck_assert_int_eq(bitfield_init(&scratch, 3), 0);
    bitfield_set_all(&all);
    ck_assert_ptr_eq(smartban_offer(&sb, 2, &all, &scratch), &all); /* nobody claimed it yet */
    smartban_claim(&sb, 1, 0);
    smartban_claim(&sb, 2, 0); /* too late: A fetches it alone */
    const struct bitfield *offer_b = smartban_offer(&sb, 2, &all, &scratch);
    ck_assert(!bitfield_get(offer_b, 0) && bitfield_get(offer_b, 1) && bitfield_get(offer_b, 2));
    ck_assert(bitfield_get(smartban_offer(&sb, 1, &all, &scratch), 0));

    for (uint32_t b = 0; b < 4; b++)
        smartban_stored(&sb, 1, 0, b * BLK);
    ck_assert_uint_eq(smartban_passed(&sb, 0, good, c), 1);
    ck_assert_uint_eq(c[0], 2);
    ck_assert(!smartban_is_suspect(&sb, 0));
    /* A piece that never failed names nobody when it passes. */
    ck_assert_uint_eq(smartban_passed(&sb, 1, good, c), 0);
    bitfield_free(&all);
    bitfield_free(&scratch);
    smartban_free(&sb);
}
END_TEST

/* The peer fetching a suspect piece alone leaves: another may take it. When the piece fails again
 * from one peer alone, that peer is named. */
START_TEST(smartban_refetcher_released_and_named_when_alone)
{
    struct smartban sb;
    ck_assert_int_eq(smartban_init(&sb, 1, 2 * BLK, 2 * BLK - 10, 0), 0);
    static unsigned char bad[2 * BLK];
    fill(bad, sizeof bad, 3);
    smartban_stored(&sb, 1, 0, 0);
    smartban_stored(&sb, 2, 0, BLK);
    uint64_t c[SMARTBAN_MAX_CULPRITS];
    ck_assert_uint_eq(smartban_failed(&sb, 0, bad, c), 0);
    smartban_claim(&sb, 1, 0);
    smartban_release(&sb, 1);
    smartban_claim(&sb, 3, 0);
    struct bitfield all, scratch;
    ck_assert_int_eq(bitfield_init(&all, 1), 0);
    ck_assert_int_eq(bitfield_init(&scratch, 1), 0);
    bitfield_set_all(&all);
    ck_assert(!bitfield_get(smartban_offer(&sb, 1, &all, &scratch), 0));
    smartban_stored(&sb, 3, 0, 0);
    smartban_stored(&sb, 3, 0, BLK);
    ck_assert_uint_eq(smartban_failed(&sb, 0, bad, c), 1);
    ck_assert_uint_eq(c[0], 3);
    /* Blocks outside the torrent are ignored, not written past the record. */
    smartban_stored(&sb, 9, 5, 0);
    smartban_stored(&sb, 9, 0, 2 * BLK);
    smartban_stored(&sb, 9, 0, 7);
    bitfield_free(&all);
    bitfield_free(&scratch);
    smartban_free(&sb);
}
END_TEST

/* Only a block asked of its sender may enter a piece; a late answer to a request we withdrew is
 * dropped without blame, and a block never asked for costs its sender a strike. */
START_TEST(smartban_admit_only_requested_blocks)
{
    ck_assert_int_eq(smartban_admit(SMARTBAN_REQUESTED), SMARTBAN_KEEP);
    ck_assert_int_eq(smartban_admit(SMARTBAN_WITHDRAWN), SMARTBAN_DROP);
    ck_assert_int_eq(smartban_admit(SMARTBAN_UNREQUESTED), SMARTBAN_STRIKE);
}
END_TEST

/* ===================================================================== simulations ======== */

enum { MAXPEERS = 8, MAX_STRIKES = 2 };

enum behaviour {
    HONEST,   /* answers every request with the right bytes */
    LIAR,     /* answers some requests with wrong bytes */
    INJECTOR, /* never asked for anything; sends wrong blocks into pieces in progress */
};

/* A download driven as peer.c drives it: requests from the picker (offered what the record
 * allows), every arrival through smartban_admit, the picker and the record, and a strike count
 * per peer that drops it at MAX_STRIKES. */
struct sim {
    struct picker pk;
    struct smartban sb;
    uint32_t npieces, plen;
    uint64_t total;
    unsigned char *truth, *disk;
    unsigned char (*hash)[20];
    struct bitfield all, scratch;
    enum behaviour who[MAXPEERS + 1]; /* peers 1..npeers */
    int npeers;
    unsigned strikes[MAXPEERS + 1];
    bool dropped[MAXPEERS + 1];
    unsigned failures, rounds;
    uint32_t rng;
};

static void sim_init(struct sim *s, uint32_t npieces, uint32_t plen, uint64_t total, uint32_t seed)
{
    memset(s, 0, sizeof *s);
    s->npieces = npieces;
    s->plen = plen;
    s->total = total;
    s->rng = seed;
    struct picker_config pc;
    picker_config_defaults(&pc, npieces, plen, total, seed);
    pc.max_partial = 4;
    ck_assert_int_eq(picker_init(&s->pk, &pc, NULL), 0);
    ck_assert_int_eq(smartban_init(&s->sb, npieces, plen, total, 0), 0);
    s->truth = malloc(total);
    s->disk = calloc(1, total);
    s->hash = malloc(npieces * sizeof *s->hash);
    ck_assert(s->truth && s->disk && s->hash);
    fill(s->truth, total, seed);
    for (uint32_t i = 0; i < npieces; i++)
        sha1(s->truth + (size_t)i * plen, picker_piece_size(&s->pk, i), s->hash[i]);
    ck_assert_int_eq(bitfield_init(&s->all, npieces), 0);
    ck_assert_int_eq(bitfield_init(&s->scratch, npieces), 0);
    bitfield_set_all(&s->all);
}

static void sim_free(struct sim *s)
{
    picker_free(&s->pk);
    smartban_free(&s->sb);
    free(s->truth);
    free(s->disk);
    free(s->hash);
    bitfield_free(&s->all);
    bitfield_free(&s->scratch);
}

static uint32_t sim_rand(struct sim *s)
{
    s->rng = s->rng * 1103515245u + 12345u;
    return s->rng >> 8;
}

/* A strike for peer; at MAX_STRIKES it is dropped and its suspect pieces are released. */
static void sim_strike(struct sim *s, uint64_t peer)
{
    ck_assert(peer >= 1 && (int)peer <= s->npeers);
    if (++s->strikes[peer] >= MAX_STRIKES && !s->dropped[peer]) {
        s->dropped[peer] = true;
        smartban_release(&s->sb, peer);
    }
}

/* One block arrives from peer, as on_block in peer.c handles it. */
static void sim_arrive(struct sim *s, uint64_t peer, const struct picker_block *b,
                       const unsigned char *data, enum smartban_origin origin)
{
    enum smartban_verdict v = smartban_admit(origin);
    if (v == SMARTBAN_STRIKE)
        sim_strike(s, peer);
    if (v != SMARTBAN_KEEP)
        return;
    enum picker_arrival a = picker_received(&s->pk, b);
    if (a != PICKER_BLOCK_NEW && a != PICKER_PIECE_COMPLETE)
        return;
    size_t off = (size_t)b->index * s->plen + b->begin;
    memcpy(s->disk + off, data, b->length);
    smartban_stored(&s->sb, peer, b->index, b->begin);
    if (a != PICKER_PIECE_COMPLETE)
        return;
    const unsigned char *piece = s->disk + (size_t)b->index * s->plen;
    unsigned char d[20];
    sha1(piece, picker_piece_size(&s->pk, b->index), d);
    bool good = memcmp(d, s->hash[b->index], 20) == 0;
    picker_verified(&s->pk, b->index, good);
    uint64_t c[SMARTBAN_MAX_CULPRITS];
    size_t n = good ? smartban_passed(&s->sb, b->index, piece, c)
                    : smartban_failed(&s->sb, b->index, piece, c);
    s->failures += !good;
    for (size_t i = 0; i < n; i++)
        sim_strike(s, c[i]);
}

/* The injector's move: a wrong copy of the first block of every piece in progress that lacks it
 * (never the last block, so an honest peer completes the piece and takes the blame with it). */
static void sim_inject(struct sim *s, uint64_t peer)
{
    static unsigned char junk[BLK];
    memset(junk, 0xee, sizeof junk);
    for (uint32_t k = 0; k < s->pk.npartial; k++) {
        const struct picker_partial *pp = &s->pk.partial[k];
        if (pp->nblocks < 2 || pp->have[0])
            continue;
        struct picker_block b = {pp->index, 0, BLK};
        sim_arrive(s, peer, &b, junk, SMARTBAN_UNREQUESTED);
    }
}

/* Runs rounds until the download completes or max_rounds pass. In each round every peer that is
 * still connected is asked for up to 3 blocks, the injectors inject, and then the answers
 * arrive. Returns true when the download completed. */
static bool sim_run(struct sim *s, unsigned max_rounds, unsigned lie_percent)
{
    for (s->rounds = 0; s->rounds < max_rounds && !picker_complete(&s->pk); s->rounds++) {
        struct picker_block asked[MAXPEERS + 1][3];
        int nasked[MAXPEERS + 1] = {0};
        for (int p = 1; p <= s->npeers; p++) {
            if (s->dropped[p] || s->who[p] == INJECTOR)
                continue;
            const struct bitfield *offer =
                smartban_offer(&s->sb, (uint64_t)p, &s->all, &s->scratch);
            while (nasked[p] < 3 && picker_next(&s->pk, offer, NULL, NULL, &asked[p][nasked[p]])) {
                smartban_claim(&s->sb, (uint64_t)p, asked[p][nasked[p]].index);
                nasked[p]++;
            }
        }
        for (int p = 1; p <= s->npeers; p++)
            if (!s->dropped[p] && s->who[p] == INJECTOR)
                sim_inject(s, (uint64_t)p);
        for (int p = 1; p <= s->npeers; p++) {
            for (int i = 0; i < nasked[p]; i++) {
                struct picker_block *b = &asked[p][i];
                if (s->dropped[p]) { /* dropped mid-round: its requests are given back */
                    picker_giveup(&s->pk, b);
                    continue;
                }
                static unsigned char data[BLK];
                memcpy(data, s->truth + (size_t)b->index * s->plen + b->begin, b->length);
                if (s->who[p] == LIAR && sim_rand(s) % 100 < lie_percent)
                    data[sim_rand(s) % b->length] ^= 0x5a;
                sim_arrive(s, (uint64_t)p, b, data, SMARTBAN_REQUESTED);
            }
        }
    }
    return picker_complete(&s->pk);
}

/* Item 1's attack: an honest seeder and a peer that sends, unasked, a wrong first block into
 * every piece in progress. No such block enters a piece: no piece fails, the download completes
 * as fast as the honest peer alone allows, and the injector is struck and dropped. */
START_TEST(smartban_unrequested_blocks_never_enter_a_piece)
{
    uint32_t seed = 20261204;
    struct sim s;
    sim_init(&s, 64, 4 * BLK, 64 * 4 * BLK - 1000, seed);
    s.npeers = 2;
    s.who[1] = HONEST;
    s.who[2] = INJECTOR;
    bool done = sim_run(&s, 1000, 0);
    printf("smartban_unrequested_blocks_never_enter_a_piece (seed %u): %s after %u rounds, %u "
           "hash failures, injector %u strikes\n",
           seed, done ? "complete" : "stalled", s.rounds, s.failures, s.strikes[2]);
    ck_assert_msg(done, "seed %u: the download stalled at %u of 64 pieces (%u hash failures)", seed,
                  s.pk.have_count, s.failures);
    ck_assert_msg(s.failures == 0, "seed %u: %u pieces failed: an unasked block entered a piece",
                  seed, s.failures);
    ck_assert_msg(s.dropped[2], "seed %u: the injector was never dropped", seed);
    ck_assert_msg(s.strikes[1] == 0, "seed %u: the honest peer got %u strikes", seed, s.strikes[1]);
    ck_assert(memcmp(s.disk, s.truth, s.total) == 0);
    sim_free(&s);
}
END_TEST

/* Three honest peers and one that answers a third of its requests with a wrong byte, pieces of 4
 * blocks shared among them: over many seeds the liar is always dropped, no honest peer is ever
 * struck, and the file ends up right. */
START_TEST(smartban_random_histories_strike_only_the_liar)
{
    for (uint32_t seed = 1; seed <= 40; seed++) {
        struct sim s;
        sim_init(&s, 32, 4 * BLK, 32 * 4 * BLK, seed);
        s.npeers = 4;
        s.who[1] = s.who[2] = s.who[3] = HONEST;
        s.who[4] = LIAR;
        /* Who answers first varies with the seed: swap the liar into a random position. */
        int at = 1 + (int)(seed % 4);
        s.who[4] = s.who[at];
        s.who[at] = LIAR;
        bool done = sim_run(&s, 2000, 33);
        ck_assert_msg(done, "seed %u: stalled at %u of 32 pieces after %u failures", seed,
                      s.pk.have_count, s.failures);
        ck_assert_msg(memcmp(s.disk, s.truth, s.total) == 0, "seed %u: wrong bytes on disk", seed);
        for (int p = 1; p <= 4; p++) {
            if (p == at)
                ck_assert_msg(s.dropped[p],
                              "seed %u: the liar (peer %d) was not dropped after %u "
                              "failures",
                              seed, p, s.failures);
            else
                ck_assert_msg(s.strikes[p] == 0, "seed %u: honest peer %d got %u strikes", seed, p,
                              s.strikes[p]);
        }
        sim_free(&s);
    }
}
END_TEST

static Suite *smartban_suite(void)
{
    Suite *s = suite_create("smartban");
    TCase *tc = tk_tcase(s, "smartban", 30);
    tk_add_test(tc, smartban_lone_sender_of_bad_piece_is_named);
    tk_add_test(tc, smartban_mixed_piece_judged_when_it_passes);
    tk_add_test(tc, smartban_refetcher_released_and_named_when_alone);
    tk_add_test(tc, smartban_admit_only_requested_blocks);
    tk_add_test(tc, smartban_unrequested_blocks_never_enter_a_piece);
    tk_add_test(tc, smartban_random_histories_strike_only_the_liar);
    return s;
}

TK_MAIN(smartban_suite)
