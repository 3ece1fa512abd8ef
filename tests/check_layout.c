/*
 * check_layout.c - tests for the piece, block and file-segment arithmetic.
 *
 * Hand-worked layouts check the exact numbers; a differential test compares the segment walk
 * against a naive byte-by-byte mapping over random layouts with zero-length files.
 */
#include "testlib.h"
#include "layout.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB 1024u
#define MiB (1024u * 1024u)

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* Sets up a layout and fails the test if that is refused. */
static void make(struct layout *l, uint32_t plen, const uint64_t *lens, size_t n)
{
    char err[128];
    ck_assert_msg(layout_init(l, plen, lens, n, err, sizeof err) == 0, "%s", err);
}

/* Asserts one segment's fields. */
static void seg_is(const struct layout_segment *s, size_t file, uint64_t off, uint64_t len)
{
    ck_assert_msg(s->file == file && s->file_offset == off && s->length == len,
                  "segment (%zu, %llu, %llu), want (%zu, %llu, %llu)", s->file,
                  (unsigned long long)s->file_offset, (unsigned long long)s->length, file,
                  (unsigned long long)off, (unsigned long long)len);
}

/* ---- pieces and blocks -------------------------------------------------------------------- */

START_TEST(layout_single_file_short_last_piece)
{
    struct layout l;
    const uint64_t len = 100000;
    make(&l, 16 * KiB, &len, 1);
    ck_assert_uint_eq(l.piece_count, 7); /* ceil(100000 / 16384) */
    ck_assert_uint_eq(layout_piece_size(&l, 0), 16384);
    ck_assert_uint_eq(layout_piece_size(&l, 5), 16384);
    ck_assert_uint_eq(layout_piece_size(&l, 6), 100000 - 6 * 16384);
    ck_assert_uint_eq(layout_piece_size(&l, 7), 0); /* no such piece */
    ck_assert(layout_piece_offset(&l, 6) == 6 * 16384);
    ck_assert_uint_eq(layout_block_count(&l, 6), 1);
    ck_assert_uint_eq(layout_block_size(&l, 6, 0), 1696);
    ck_assert_uint_eq(layout_block_size(&l, 6, 1), 0);
    layout_free(&l);
}
END_TEST

START_TEST(layout_exact_multiple_has_full_last_piece)
{
    struct layout l;
    const uint64_t len = 4 * 256 * KiB;
    make(&l, 256 * KiB, &len, 1);
    ck_assert_uint_eq(l.piece_count, 4);
    ck_assert_uint_eq(layout_piece_size(&l, 3), 256 * KiB);
    ck_assert_uint_eq(layout_block_count(&l, 3), 16);
    ck_assert_uint_eq(layout_block_size(&l, 3, 15), 16 * KiB);
    layout_free(&l);
}
END_TEST

START_TEST(layout_blocks_short_last_block)
{
    /* 256 KiB pieces, 600000 bytes: pieces 262144, 262144, 75712; the last piece has blocks
     * 4 * 16384 + 10176. */
    struct layout l;
    const uint64_t len = 600000;
    make(&l, 256 * KiB, &len, 1);
    ck_assert_uint_eq(l.piece_count, 3);
    ck_assert_uint_eq(layout_piece_size(&l, 2), 75712);
    ck_assert_uint_eq(layout_block_count(&l, 2), 5);
    ck_assert_uint_eq(layout_block_size(&l, 2, 3), 16384);
    ck_assert_uint_eq(layout_block_size(&l, 2, 4), 10176);
    ck_assert_uint_eq(layout_block_size(&l, 2, 5), 0);
    layout_free(&l);
}
END_TEST

START_TEST(layout_non_power_of_two_piece_length)
{
    /* 40000-byte pieces: blocks 16384, 16384, 7232 in each full piece. */
    struct layout l;
    const uint64_t len = 100001;
    make(&l, 40000, &len, 1);
    ck_assert_uint_eq(l.piece_count, 3);
    ck_assert_uint_eq(layout_block_count(&l, 0), 3);
    ck_assert_uint_eq(layout_block_size(&l, 0, 2), 7232);
    ck_assert_uint_eq(layout_piece_size(&l, 2), 20001);
    ck_assert_uint_eq(layout_block_count(&l, 2), 2);
    ck_assert_uint_eq(layout_block_size(&l, 2, 1), 20001 - 16384);
    layout_free(&l);
}
END_TEST

START_TEST(layout_piece_length_extremes)
{
    struct layout l;
    /* 16 MiB pieces: 1024 blocks each. */
    const uint64_t big = 3ull * 16 * MiB + 5;
    make(&l, 16 * MiB, &big, 1);
    ck_assert_uint_eq(l.piece_count, 4);
    ck_assert_uint_eq(layout_block_count(&l, 0), 1024);
    ck_assert_uint_eq(layout_block_count(&l, 3), 1);
    ck_assert_uint_eq(layout_block_size(&l, 3, 0), 5);
    layout_free(&l);
    /* 16 KiB pieces: one block each. */
    const uint64_t small = 16 * KiB * 10;
    make(&l, 16 * KiB, &small, 1);
    ck_assert_uint_eq(l.piece_count, 10);
    ck_assert_uint_eq(layout_block_count(&l, 9), 1);
    ck_assert_uint_eq(layout_block_size(&l, 9, 0), 16 * KiB);
    layout_free(&l);
}
END_TEST

START_TEST(layout_sizes_add_up)
{
    /* For random totals and piece lengths from 16 KiB to 16 MiB: piece sizes add up to the
     * total, and block sizes to each piece. */
    uint64_t seed = 0x1a70001;
    rng_state = seed;
    printf("layout_sizes_add_up: seed %llu\n", (unsigned long long)seed);
    for (int iter = 0; iter < 200; iter++) {
        uint32_t plen = 16 * KiB + (uint32_t)(rnd() % (16 * MiB - 16 * KiB + 1));
        uint64_t total = 1 + rnd() % (64ull * MiB);
        struct layout l;
        make(&l, plen, &total, 1);
        uint64_t sum = 0;
        for (uint32_t p = 0; p < l.piece_count; p++) {
            uint32_t ps = layout_piece_size(&l, p), bsum = 0, nb = layout_block_count(&l, p);
            ck_assert_uint_gt(ps, 0);
            for (uint32_t b = 0; b < nb; b++) {
                uint32_t bs = layout_block_size(&l, p, b);
                ck_assert_msg(bs > 0 && bs <= LAYOUT_BLOCK_LEN, "seed %llu iter %d",
                              (unsigned long long)seed, iter);
                bsum += bs;
            }
            ck_assert_uint_eq(bsum, ps);
            sum += ps;
        }
        ck_assert_msg(sum == total, "seed %llu iter %d", (unsigned long long)seed, iter);
        layout_free(&l);
    }
}
END_TEST

/* ---- file segments ------------------------------------------------------------------------ */

START_TEST(layout_map_multi_file_golden)
{
    /* The picture in layout.h: a.bin 10000, empty 0, c.bin 30000, pieces of 20000. */
    const uint64_t lens[] = {10000, 0, 30000};
    struct layout l;
    struct layout_segment s[4];
    make(&l, 20000, lens, 3);
    ck_assert_uint_eq(l.piece_count, 2);
    ck_assert_int_eq(layout_map(&l, 0, 20000, s, 4), 2);
    seg_is(&s[0], 0, 0, 10000);
    seg_is(&s[1], 2, 0, 10000); /* the empty file is skipped */
    ck_assert_int_eq(layout_map(&l, 20000, 20000, s, 4), 1);
    seg_is(&s[0], 2, 10000, 20000);
    /* A block straddling the boundary. */
    ck_assert_int_eq(layout_map(&l, 9000, 16384, s, 4), 2);
    seg_is(&s[0], 0, 9000, 1000);
    seg_is(&s[1], 2, 0, 15384);
    layout_free(&l);
}
END_TEST

START_TEST(layout_map_piece_spans_many_files)
{
    /* Ten files of 3000 bytes, 16 KiB pieces: piece 0 covers files 0-5, the last partly. */
    uint64_t lens[10];
    for (int k = 0; k < 10; k++)
        lens[k] = 3000;
    struct layout l;
    struct layout_segment s[10];
    make(&l, 16 * KiB, lens, 10);
    ck_assert_uint_eq(l.piece_count, 2);
    ck_assert_int_eq(layout_map(&l, 0, layout_piece_size(&l, 0), s, 10), 6);
    for (int k = 0; k < 5; k++)
        seg_is(&s[k], (size_t)k, 0, 3000);
    seg_is(&s[5], 5, 0, 16384 - 15000);
    /* The short last piece: 30000 - 16384 = 13616 bytes from the middle of file 5 on. */
    ck_assert_uint_eq(layout_piece_size(&l, 1), 13616);
    ck_assert_int_eq(layout_map(&l, 16384, 13616, s, 10), 5);
    seg_is(&s[0], 5, 1384, 1616);
    seg_is(&s[4], 9, 0, 3000);
    layout_free(&l);
}
END_TEST

START_TEST(layout_map_zero_length_files_everywhere)
{
    /* Empty files first, in the middle (two in a row) and last. */
    const uint64_t lens[] = {0, 0, 5, 0, 0, 7, 0};
    struct layout l;
    struct layout_segment s[8];
    make(&l, 16 * KiB, lens, 7);
    ck_assert(l.total_length == 12);
    ck_assert_int_eq(layout_map(&l, 0, 12, s, 8), 2);
    seg_is(&s[0], 2, 0, 5);
    seg_is(&s[1], 5, 0, 7);
    ck_assert_int_eq(layout_map(&l, 5, 1, s, 8), 1);
    seg_is(&s[0], 5, 0, 1);
    ck_assert_int_eq(layout_map(&l, 4, 2, s, 8), 2);
    seg_is(&s[0], 2, 4, 1);
    seg_is(&s[1], 5, 0, 1);
    layout_free(&l);
}
END_TEST

START_TEST(layout_map_ranges_out_of_bounds)
{
    const uint64_t lens[] = {100, 50};
    struct layout l;
    struct layout_segment s[2];
    make(&l, 16 * KiB, lens, 2);
    ck_assert_int_eq(layout_map(&l, 0, 151, s, 2), -1);
    ck_assert_int_eq(layout_map(&l, 151, 0, s, 2), -1);
    ck_assert_int_eq(layout_map(&l, 100, UINT64_MAX, s, 2), -1); /* off + len would wrap */
    ck_assert_int_eq(layout_map(&l, UINT64_MAX, 2, s, 2), -1);
    ck_assert_int_eq(layout_map(&l, 150, 0, s, 2), 0); /* empty range at the very end: fine */
    ck_assert_int_eq(layout_map(&l, 0, 150, s, 2), 2);
    layout_free(&l);
}
END_TEST

START_TEST(layout_map_reports_needed_count)
{
    const uint64_t lens[] = {1, 1, 1, 1};
    struct layout l;
    struct layout_segment s[2];
    make(&l, 16 * KiB, lens, 4);
    memset(s, 0, sizeof s);
    ck_assert_int_eq(layout_map(&l, 0, 4, s, 2), 4); /* needs 4, stored 2 */
    seg_is(&s[1], 1, 0, 1);
    ck_assert_int_eq(layout_map(&l, 0, 4, NULL, 0), 4);
    layout_free(&l);
}
END_TEST

START_TEST(layout_iter_walk)
{
    const uint64_t lens[] = {3, 0, 4};
    struct layout l;
    struct layout_iter it;
    struct layout_segment seg;
    make(&l, 16 * KiB, lens, 3);
    ck_assert_int_eq(layout_iter_begin(&it, &l, 1, 5), 0);
    ck_assert_int_eq(layout_iter_next(&it, &seg), 1);
    seg_is(&seg, 0, 1, 2);
    ck_assert_int_eq(layout_iter_next(&it, &seg), 1);
    seg_is(&seg, 2, 0, 3);
    ck_assert_int_eq(layout_iter_next(&it, &seg), 0);
    ck_assert_int_eq(layout_iter_next(&it, &seg), 0); /* stays done */
    ck_assert_int_eq(layout_iter_begin(&it, &l, 0, 8), -1);
    ck_assert_int_eq(layout_iter_next(&it, &seg), 0); /* a refused range yields nothing */
    layout_free(&l);
}
END_TEST

START_TEST(layout_map_matches_naive)
{
    /* Differential test: for random small layouts, mapping every byte on its own (a linear scan
     * over the files) must agree with the segments of random ranges. */
    uint64_t seed = 0x1a70002;
    rng_state = seed;
    printf("layout_map_matches_naive: seed %llu\n", (unsigned long long)seed);
    for (int iter = 0; iter < 500; iter++) {
        size_t n = 1 + rnd() % 12;
        uint64_t lens[12], total = 0;
        for (size_t f = 0; f < n; f++) {
            lens[f] = rnd() % 3 == 0 ? 0 : rnd() % 5000;
            total += lens[f];
        }
        if (total == 0) {
            lens[n - 1] = 1;
            total = 1;
        }
        struct layout l;
        make(&l, 16 * KiB + (uint32_t)(rnd() % 1000), lens, n);
        for (int r = 0; r < 20; r++) {
            uint64_t off = rnd() % (total + 1);
            uint64_t len = rnd() % (total - off + 1);
            struct layout_iter it;
            struct layout_segment seg;
            ck_assert_int_eq(layout_iter_begin(&it, &l, off, len), 0);
            uint64_t pos = off;
            while (layout_iter_next(&it, &seg)) {
                ck_assert_uint_gt(seg.length, 0);
                ck_assert(seg.file_offset + seg.length <= lens[seg.file]);
                /* Every byte of the segment is where the naive scan puts it. */
                for (uint64_t k = 0; k < seg.length; k += 1 + seg.length / 7) {
                    uint64_t b = pos + k, start = 0;
                    size_t f = 0;
                    while (b >= start + lens[f]) /* naive: walk the files one by one */
                        start += lens[f++];
                    ck_assert_msg(f == seg.file && b - start == seg.file_offset + k,
                                  "seed %llu iter %d: byte %llu", (unsigned long long)seed, iter,
                                  (unsigned long long)b);
                }
                pos += seg.length;
            }
            ck_assert_msg(pos == off + len, "seed %llu iter %d: covered to %llu, want %llu",
                          (unsigned long long)seed, iter, (unsigned long long)pos,
                          (unsigned long long)(off + len));
        }
        layout_free(&l);
    }
}
END_TEST

/* ---- refused layouts ---------------------------------------------------------------------- */

START_TEST(layout_err_zero_total)
{
    const uint64_t lens[] = {0, 0};
    struct layout l;
    char err[128];
    ck_assert_int_eq(layout_init(&l, 16 * KiB, lens, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "layout: total length is 0");
    ck_assert_ptr_null(l.file_offsets);
}
END_TEST

START_TEST(layout_err_zero_piece_length)
{
    const uint64_t len = 5;
    struct layout l;
    char err[128];
    ck_assert_int_eq(layout_init(&l, 0, &len, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "layout: piece length is 0");
}
END_TEST

START_TEST(layout_err_no_files)
{
    struct layout l;
    ck_assert_int_eq(layout_init(&l, 16 * KiB, NULL, 0, NULL, 0), -1);
}
END_TEST

START_TEST(layout_err_overflow)
{
    const uint64_t lens[] = {UINT64_MAX - 10, 11};
    struct layout l;
    char err[128];
    ck_assert_int_eq(layout_init(&l, 16 * KiB, lens, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "layout: file lengths overflow");
}
END_TEST

START_TEST(layout_err_too_many_pieces)
{
    /* 2^32 pieces of 16 KiB would be 64 TiB; one byte more than 2^32 - 1 pieces is refused. */
    const uint64_t len = (uint64_t)UINT32_MAX * 16 * KiB + 1;
    struct layout l;
    char err[128];
    ck_assert_int_eq(layout_init(&l, 16 * KiB, &len, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "layout: more than 2^32 - 1 pieces");
    const uint64_t ok = (uint64_t)UINT32_MAX * 16 * KiB;
    make(&l, 16 * KiB, &ok, 1);
    ck_assert_uint_eq(l.piece_count, UINT32_MAX);
    ck_assert_uint_eq(layout_piece_size(&l, UINT32_MAX - 1), 16 * KiB);
    layout_free(&l);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("pieces");
    tcase_add_test(tc, layout_single_file_short_last_piece);
    tcase_add_test(tc, layout_exact_multiple_has_full_last_piece);
    tcase_add_test(tc, layout_blocks_short_last_block);
    tcase_add_test(tc, layout_non_power_of_two_piece_length);
    tcase_add_test(tc, layout_piece_length_extremes);
    tcase_add_test(tc, layout_sizes_add_up);
    suite_add_tcase(s, tc);

    tc = tcase_create("segments");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, layout_map_multi_file_golden);
    tcase_add_test(tc, layout_map_piece_spans_many_files);
    tcase_add_test(tc, layout_map_zero_length_files_everywhere);
    tcase_add_test(tc, layout_map_ranges_out_of_bounds);
    tcase_add_test(tc, layout_map_reports_needed_count);
    tcase_add_test(tc, layout_iter_walk);
    tcase_add_test(tc, layout_map_matches_naive);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, layout_err_zero_total);
    tcase_add_test(tc, layout_err_zero_piece_length);
    tcase_add_test(tc, layout_err_no_files);
    tcase_add_test(tc, layout_err_overflow);
    tcase_add_test(tc, layout_err_too_many_pieces);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(layout_suite)
