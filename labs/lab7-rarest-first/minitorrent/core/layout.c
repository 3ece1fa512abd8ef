/*
 * layout.c - pieces, blocks and file segments of a torrent's byte stream (see layout.h).
 *
 * The only table is file_offsets: entry f is where file f starts in the stream, and the extra
 * last entry is the total length. File f holds the bytes [file_offsets[f], file_offsets[f + 1]),
 * which is empty for a zero-length file. Finding the file that holds a byte is a binary search
 * over this table, so a torrent with a hundred thousand files costs 17 steps per lookup.
 */
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int layout_init(struct layout *l, uint32_t piece_length, const uint64_t *file_lengths,
                size_t file_count, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    const char *why = NULL;
    if (piece_length == 0)
        why = "piece length is 0";
    else if (file_count == 0 || file_count > SIZE_MAX / sizeof(uint64_t) - 1)
        why = "no files";
    if (why != NULL)
        goto fail;

    l->file_offsets = malloc((file_count + 1) * sizeof *l->file_offsets);
    if (l->file_offsets == NULL) {
        why = "out of memory";
        goto fail;
    }
    uint64_t off = 0;
    for (size_t f = 0; f < file_count; f++) {
        l->file_offsets[f] = off;
        if (file_lengths[f] > UINT64_MAX - off) {
            why = "file lengths overflow";
            goto fail;
        }
        off += file_lengths[f];
    }
    l->file_offsets[file_count] = off;
    if (off == 0) {
        why = "total length is 0";
        goto fail;
    }
    /* Rounding up: (off - 1) / piece_length + 1 cannot overflow, unlike off + piece_length - 1. */
    uint64_t pieces = (off - 1) / piece_length + 1;
    if (pieces > UINT32_MAX) {
        why = "more than 2^32 - 1 pieces";
        goto fail;
    }
    l->total_length = off;
    l->piece_length = piece_length;
    l->piece_count = (uint32_t)pieces;
    l->file_count = file_count;
    return 0;

fail:
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "layout: %s", why);
    layout_free(l);
    return -1;
}

void layout_free(struct layout *l)
{
    free(l->file_offsets);
    memset(l, 0, sizeof *l);
}

/* ===================================================================================== */
/* Pieces and blocks                                                                     */
/* ===================================================================================== */

uint64_t layout_piece_offset(const struct layout *l, uint32_t piece)
{
    return (uint64_t)piece * l->piece_length;
}

uint32_t layout_piece_size(const struct layout *l, uint32_t piece)
{
    if (piece >= l->piece_count)
        return 0;
    /* Every piece is full except possibly the last, which gets what is left. */
    uint64_t left = l->total_length - layout_piece_offset(l, piece);
    return left < l->piece_length ? (uint32_t)left : l->piece_length;
}

uint32_t layout_block_count(const struct layout *l, uint32_t piece)
{
    uint32_t size = layout_piece_size(l, piece);
    /* Written as (size - 1) / B + 1 rather than (size + B - 1) / B, which could overflow. */
    return size == 0 ? 0 : (size - 1) / LAYOUT_BLOCK_LEN + 1;
}

uint32_t layout_block_size(const struct layout *l, uint32_t piece, uint32_t block)
{
    uint32_t size = layout_piece_size(l, piece);
    if (block >= layout_block_count(l, piece))
        return 0;
    uint32_t left = size - block * LAYOUT_BLOCK_LEN;
    return left < LAYOUT_BLOCK_LEN ? left : LAYOUT_BLOCK_LEN;
}

/* ===================================================================================== */
/* File segments                                                                         */
/* ===================================================================================== */

/* Finds the file holding byte pos (pos < total): the last f with file_offsets[f] <= pos. Since
 * pos < total, some file ends after pos, and zero-length files (which end where they start)
 * are passed over automatically. */
static size_t file_at(const struct layout *l, uint64_t pos)
{
    /* Invariant: file_offsets[lo] <= pos < file_offsets[hi]. */
    size_t lo = 0, hi = l->file_count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->file_offsets[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int layout_iter_begin(struct layout_iter *it, const struct layout *l, uint64_t off, uint64_t len)
{
    it->l = l;
    it->pos = it->end = 0;
    it->file = 0;
    /* Written to avoid computing off + len, which could wrap around. */
    if (off > l->total_length || len > l->total_length - off)
        return -1;
    it->pos = off;
    it->end = off + len;
    if (len > 0)
        it->file = file_at(l, off);
    return 0;
}

int layout_iter_next(struct layout_iter *it, struct layout_segment *seg)
{
    if (it->pos >= it->end)
        return 0;
    const uint64_t *fo = it->l->file_offsets;
    /* Step past files that end at or before pos: the one just finished, and any empty ones. */
    while (fo[it->file + 1] <= it->pos)
        it->file++;
    uint64_t file_end = fo[it->file + 1];
    uint64_t stop = file_end < it->end ? file_end : it->end;
    seg->file = it->file;
    seg->file_offset = it->pos - fo[it->file];
    seg->length = stop - it->pos;
    it->pos = stop;
    return 1;
}

long layout_map(const struct layout *l, uint64_t off, uint64_t len, struct layout_segment *out,
                size_t max)
{
    struct layout_iter it;
    struct layout_segment seg;
    if (layout_iter_begin(&it, l, off, len) < 0)
        return -1;
    long n = 0;
    while (layout_iter_next(&it, &seg)) {
        if ((size_t)n < max)
            out[n] = seg;
        n++;
    }
    return n;
}
