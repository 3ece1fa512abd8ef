/*
 * check_bitfield.c - the piece bitfield: BEP 3 bit order, wire import/export with validation,
 * and the fast count checked against a naive loop on thousands of random bitfields.
 */
#include "testlib.h"
#include "bitfield.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The fixed seed of the random tests; a failing assertion prints it with the case number. */
#define SEED 20240611u

/* A small deterministic generator (xorshift32), so a failure replays exactly. */
static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Counts set bits one piece at a time: slow and obviously right. */
static size_t naive_count(const struct bitfield *bf)
{
    size_t n = 0;
    for (size_t i = 0; i < bf->nbits; i++)
        n += bitfield_get(bf, i);
    return n;
}

/* Fills a bitfield with random bits at a random density. */
static void random_fill(struct bitfield *bf, uint32_t *rng)
{
    uint32_t density = rng_next(rng) % 101; /* percent, so all-set and none-set both occur */
    for (size_t i = 0; i < bf->nbits; i++)
        if (rng_next(rng) % 100 < density)
            bitfield_set(bf, i);
}

START_TEST(bitfield_bit_order_is_bep3)
{
    struct bitfield bf;
    ck_assert_int_eq(bitfield_init(&bf, 20), 0);
    ck_assert_uint_eq(bf.nbytes, 3);
    bitfield_set(&bf, 0);  /* high bit of byte 0 */
    bitfield_set(&bf, 7);  /* low bit of byte 0 */
    bitfield_set(&bf, 9);  /* second-highest bit of byte 1 */
    bitfield_set(&bf, 19); /* last piece: bit 3 from the top of byte 2 */
    const unsigned char want[3] = {0x81, 0x40, 0x10};
    ck_assert_mem_eq(bf.bits, want, 3);
    ck_assert(bitfield_is_valid(&bf));
    bitfield_free(&bf);
}
END_TEST

START_TEST(bitfield_set_get_clear)
{
    struct bitfield bf;
    ck_assert_int_eq(bitfield_init(&bf, 13), 0);
    ck_assert(bitfield_none(&bf));
    ck_assert(!bitfield_get(&bf, 5));
    ck_assert_int_eq(bitfield_set(&bf, 5), 0);
    ck_assert(bitfield_get(&bf, 5));
    ck_assert(!bitfield_get(&bf, 4));
    ck_assert(!bitfield_get(&bf, 6));
    ck_assert_uint_eq(bitfield_count(&bf), 1);
    ck_assert_int_eq(bitfield_clear(&bf, 5), 0);
    ck_assert(!bitfield_get(&bf, 5));
    ck_assert(bitfield_none(&bf));
    ck_assert(bitfield_is_valid(&bf));
    bitfield_free(&bf);
}
END_TEST

START_TEST(bitfield_out_of_range_rejected)
{
    struct bitfield bf;
    ck_assert_int_eq(bitfield_init(&bf, 10), 0);
    /* Index 10..15 would land on spare bits of the last byte: they must never be set. */
    for (size_t i = 10; i < 20; i++) {
        ck_assert_int_eq(bitfield_set(&bf, i), -1);
        ck_assert_int_eq(bitfield_clear(&bf, i), -1);
        ck_assert(!bitfield_get(&bf, i));
    }
    ck_assert(bitfield_none(&bf));
    ck_assert(bitfield_is_valid(&bf));
    bitfield_free(&bf);
}
END_TEST

START_TEST(bitfield_count_matches_naive_random)
{
    uint32_t rng = SEED;
    printf("bitfield_count_matches_naive_random: seed %u\n", SEED);
    for (int c = 0; c < 5000; c++) {
        struct bitfield bf;
        size_t nbits = rng_next(&rng) % 1200;
        ck_assert_int_eq(bitfield_init(&bf, nbits), 0);
        random_fill(&bf, &rng);
        size_t naive = naive_count(&bf);
        ck_assert_msg(bitfield_count(&bf) == naive,
                      "seed %u case %d: nbits %zu count %zu naive %zu", SEED, c, nbits,
                      bitfield_count(&bf), naive);
        ck_assert_msg(bitfield_all(&bf) == (naive == nbits), "seed %u case %d: all", SEED, c);
        ck_assert_msg(bitfield_none(&bf) == (naive == 0), "seed %u case %d: none", SEED, c);
        ck_assert_msg(bitfield_is_valid(&bf), "seed %u case %d: invariant", SEED, c);
        bitfield_free(&bf);
    }
}
END_TEST

START_TEST(bitfield_all_and_none)
{
    struct bitfield bf;
    for (size_t n = 0; n <= 17; n++) {
        ck_assert_int_eq(bitfield_init(&bf, n), 0);
        ck_assert(bitfield_none(&bf));
        ck_assert(bitfield_all(&bf) == (n == 0));
        bitfield_set_all(&bf);
        ck_assert_msg(bitfield_is_valid(&bf), "set_all(%zu) set a spare bit", n);
        ck_assert_uint_eq(bitfield_count(&bf), n);
        ck_assert(bitfield_all(&bf));
        if (n > 0) {
            bitfield_clear(&bf, n - 1);
            ck_assert(!bitfield_all(&bf));
        }
        bitfield_clear_all(&bf);
        ck_assert(bitfield_none(&bf));
        bitfield_free(&bf);
    }
}
END_TEST

START_TEST(bitfield_import_export_roundtrip)
{
    struct bitfield bf;
    ck_assert_int_eq(bitfield_init(&bf, 12), 0);
    const unsigned char wire[2] = {0xA5, 0xF0}; /* pieces 0,2,5,7,8,9,10,11 */
    ck_assert_int_eq(bitfield_import(&bf, wire, 2), 0);
    ck_assert(bitfield_get(&bf, 0) && !bitfield_get(&bf, 1) && bitfield_get(&bf, 2));
    ck_assert(bitfield_get(&bf, 11));
    ck_assert_uint_eq(bitfield_count(&bf), 8);
    unsigned char out[4] = {0};
    ck_assert_uint_eq(bitfield_export(&bf, out, sizeof out), 2);
    ck_assert_mem_eq(out, wire, 2);
    ck_assert_uint_eq(bitfield_export(&bf, out, 1), 0); /* too small a buffer */
    bitfield_free(&bf);
}
END_TEST

START_TEST(bitfield_import_wrong_size_rejected)
{
    struct bitfield bf;
    ck_assert_int_eq(bitfield_init(&bf, 12), 0);
    bitfield_set(&bf, 3);
    const unsigned char wire[3] = {0xFF, 0xF0, 0x00};
    ck_assert_int_eq(bitfield_import(&bf, wire, 1), -1);
    ck_assert_int_eq(bitfield_import(&bf, wire, 3), -1);
    ck_assert_int_eq(bitfield_import(&bf, wire, 0), -1);
    /* A rejected import leaves the old contents alone. */
    ck_assert_uint_eq(bitfield_count(&bf), 1);
    ck_assert(bitfield_get(&bf, 3));
    bitfield_free(&bf);
}
END_TEST

START_TEST(bitfield_import_spare_bits_rejected)
{
    struct bitfield bf;
    ck_assert_int_eq(bitfield_init(&bf, 12), 0);
    /* 12 pieces use the high nibble of byte 1; each of the 4 low bits is a spare bit. */
    for (int b = 0; b < 4; b++) {
        unsigned char wire[2] = {0x00, (unsigned char)(0xF0 | (1u << b))};
        ck_assert_msg(bitfield_import(&bf, wire, 2) == -1, "spare bit %d accepted", b);
        ck_assert(!bitfield_bytes_ok(12, wire, 2));
    }
    ck_assert(bitfield_none(&bf));
    /* With a multiple of 8 pieces there are no spare bits: 0xFF is fine. */
    ck_assert(bitfield_bytes_ok(16, (const unsigned char *)"\xff\xff", 2));
    bitfield_free(&bf);
}
END_TEST

START_TEST(bitfield_is_valid_catches_broken_invariant)
{
    struct bitfield bf;
    ck_assert_int_eq(bitfield_init(&bf, 9), 0);
    ck_assert(bitfield_is_valid(&bf));
    bf.bits[1] |= 0x01; /* a spare bit, set behind the API's back */
    ck_assert(!bitfield_is_valid(&bf));
    bf.bits[1] = 0;
    bf.nbytes = 3; /* a wrong byte length */
    ck_assert(!bitfield_is_valid(&bf));
    bf.nbytes = 2;
    bitfield_free(&bf);
}
END_TEST

START_TEST(bitfield_first_wanted_matches_naive_random)
{
    uint32_t rng = SEED ^ 0x5a5a5a5au;
    printf("bitfield_first_wanted_matches_naive_random: seed %u\n", SEED);
    for (int c = 0; c < 2000; c++) {
        size_t nbits = 1 + rng_next(&rng) % 300;
        struct bitfield theirs, ours;
        ck_assert_int_eq(bitfield_init(&theirs, nbits), 0);
        ck_assert_int_eq(bitfield_init(&ours, nbits), 0);
        random_fill(&theirs, &rng);
        random_fill(&ours, &rng);
        size_t start = rng_next(&rng) % (nbits + 2);
        size_t naive = nbits;
        for (size_t i = start; i < nbits; i++)
            if (bitfield_get(&theirs, i) && !bitfield_get(&ours, i)) {
                naive = i;
                break;
            }
        size_t got = bitfield_first_wanted(&theirs, &ours, start);
        ck_assert_msg(got == naive, "seed %u case %d: nbits %zu start %zu got %zu naive %zu", SEED,
                      c, nbits, start, got, naive);
        size_t any = bitfield_first_wanted(&theirs, &ours, 0);
        ck_assert(bitfield_interesting(&theirs, &ours) == (any < nbits));
        bitfield_free(&theirs);
        bitfield_free(&ours);
    }
}
END_TEST

START_TEST(bitfield_first_wanted_examples)
{
    struct bitfield theirs, ours;
    ck_assert_int_eq(bitfield_init(&theirs, 20), 0);
    ck_assert_int_eq(bitfield_init(&ours, 20), 0);
    ck_assert_uint_eq(bitfield_first_wanted(&theirs, &ours, 0), 20); /* they have nothing */
    bitfield_set_all(&theirs);
    bitfield_set(&ours, 0);
    bitfield_set(&ours, 1);
    ck_assert_uint_eq(bitfield_first_wanted(&theirs, &ours, 0), 2);
    ck_assert_uint_eq(bitfield_first_wanted(&theirs, &ours, 11), 11);
    bitfield_set_all(&ours);
    ck_assert_uint_eq(bitfield_first_wanted(&theirs, &ours, 0), 20); /* we have it all */
    ck_assert(!bitfield_interesting(&theirs, &ours));
    bitfield_free(&theirs);
    bitfield_free(&ours);
}
END_TEST

static Suite *bitfield_suite(void)
{
    Suite *s = suite_create("bitfield");
    TCase *tc = tcase_create("bitfield");
    tcase_add_test(tc, bitfield_bit_order_is_bep3);
    tcase_add_test(tc, bitfield_set_get_clear);
    tcase_add_test(tc, bitfield_out_of_range_rejected);
    tcase_add_test(tc, bitfield_count_matches_naive_random);
    tcase_add_test(tc, bitfield_all_and_none);
    tcase_add_test(tc, bitfield_import_export_roundtrip);
    tcase_add_test(tc, bitfield_import_wrong_size_rejected);
    tcase_add_test(tc, bitfield_import_spare_bits_rejected);
    tcase_add_test(tc, bitfield_is_valid_catches_broken_invariant);
    tcase_add_test(tc, bitfield_first_wanted_matches_naive_random);
    tcase_add_test(tc, bitfield_first_wanted_examples);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(bitfield_suite)
