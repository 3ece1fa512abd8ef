/*
 * layout.h - the arithmetic that maps a torrent's pieces and blocks onto its files.
 *
 * BitTorrent sees a torrent as ONE stream of bytes: the files of a multi-file torrent are simply
 * concatenated in the order the .torrent lists them. That stream is cut into pieces of
 * piece_length bytes (the last piece may be shorter), and each piece is requested from peers in
 * blocks of 16 KiB (the last block of a piece may be shorter too):
 *
 *     files   |--- a.bin (10000) ---||--------- c.bin (30000) ---------|   (+ "empty", 0 bytes)
 *     pieces  |------ piece 0 (20000) ------||------ piece 1 (20000) ------|
 *     blocks  |-- 16384 --|-3616-|           |-- 16384 --|-3616-|
 *
 * So piece 0 is the whole of a.bin plus the first 10000 bytes of c.bin, and writing it to disk
 * means two writes. layout_iter turns any byte range of the stream into such (file, offset,
 * length) segments. Everything here is pure arithmetic: no files are opened.
 */
#ifndef LAYOUT_H
#define LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define LAYOUT_BLOCK_LEN (16u * 1024) /* the block size every client requests */

struct layout {
    uint64_t total_length;
    uint32_t piece_length;
    uint32_t piece_count;
    size_t file_count;
    uint64_t *file_offsets; /* file_count + 1 entries: where each file starts, then the total */
};

/* Sets up the layout of files with the given lengths (zero-length files allowed) cut into pieces
 * of piece_length bytes. Returns 0, or -1 with a message in err (err may be NULL) when the total
 * is 0, piece_length is 0, the sizes overflow, or there would be more than 2^32 - 1 pieces. */
int layout_init(struct layout *l, uint32_t piece_length, const uint64_t *file_lengths,
                size_t file_count, char *err, size_t errlen);

/* Frees the offsets table and empties l. Safe on an emptied layout. */
void layout_free(struct layout *l);

/* Where piece i starts in the stream. */
uint64_t layout_piece_offset(const struct layout *l, uint32_t piece);

/* The size of piece i: piece_length, except the last piece which may be shorter; 0 when i is
 * not a piece of this torrent. */
uint32_t layout_piece_size(const struct layout *l, uint32_t piece);

/* The number of 16 KiB blocks in piece i (the last one may be short); 0 for no such piece. */
uint32_t layout_block_count(const struct layout *l, uint32_t piece);

/* The size of block b of piece i: 16 KiB except the piece's last block; 0 when out of range. */
uint32_t layout_block_size(const struct layout *l, uint32_t piece, uint32_t block);

/* Which file a stretch of bytes belongs to. */
struct layout_segment {
    size_t file;          /* index into the file list */
    uint64_t file_offset; /* where in that file */
    uint64_t length;      /* how many bytes; never 0 */
};

/* Walks the segments of one byte range of the stream, in order:
 *
 *     struct layout_iter it;
 *     struct layout_segment seg;
 *     if (layout_iter_begin(&it, &l, offset, length) < 0)
 *         ... the range is not inside the torrent ...
 *     while (layout_iter_next(&it, &seg))
 *         ... seg.length bytes at seg.file_offset of file seg.file ...
 *
 * Zero-length files hold no bytes, so they never appear in a segment; the shell creates them
 * when it creates the other files. */
struct layout_iter {
    const struct layout *l;
    uint64_t pos, end; /* the part of the range still to walk */
    size_t file;       /* the file that holds pos */
};

/* Starts walking [off, off + len). Returns 0, or -1 when the range runs past the end. */
int layout_iter_begin(struct layout_iter *it, const struct layout *l, uint64_t off, uint64_t len);

/* Gives the next segment and returns 1, or returns 0 when the range is done. */
int layout_iter_next(struct layout_iter *it, struct layout_segment *seg);

/* The same walk into an array: stores at most max segments in out and returns how many the
 * range needs (like snprintf, so a return above max means out was too small), or -1 when the
 * range runs past the end. */
long layout_map(const struct layout *l, uint64_t off, uint64_t len, struct layout_segment *out,
                size_t max);

#endif
