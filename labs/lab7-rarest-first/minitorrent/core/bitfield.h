/*
 * bitfield.h - which pieces a peer has, one bit per piece, in BitTorrent's own bit order.
 *
 * BEP 3 packs piece 0 into the HIGH bit of byte 0, piece 7 into the low bit of byte 0, piece 8
 * into the high bit of byte 1, and so on. The last byte may have unused "spare" bits at its low
 * end; they must be zero. Keeping the bits in exactly the wire layout means a BITFIELD message
 * can be imported and exported with one memcpy.
 *
 * Invariant (checked by bitfield_is_valid): nbytes == ceil(nbits / 8), bits is non-NULL, and
 * every spare bit is zero. Every function below keeps it.
 */
#ifndef BITFIELD_H
#define BITFIELD_H

#include <stdbool.h>
#include <stddef.h>

struct bitfield {
    unsigned char *bits; /* nbytes bytes in wire order; owned by the bitfield */
    size_t nbits;        /* number of pieces */
    size_t nbytes;       /* ceil(nbits / 8) */
};

/* Returns ceil(nbits / 8), the size of a BITFIELD payload for nbits pieces. */
size_t bitfield_byte_len(size_t nbits);

/* Makes an empty bitfield (no piece set) of nbits pieces; returns 0, or -1 with errno ENOMEM. */
int bitfield_init(struct bitfield *bf, size_t nbits);

/* Releases the bits; the struct may be initialised again afterwards. */
void bitfield_free(struct bitfield *bf);

/* Sets bit i; returns 0, or -1 with errno ERANGE when i >= nbits (the bitfield is unchanged). */
int bitfield_set(struct bitfield *bf, size_t i);

/* Clears bit i; returns 0, or -1 with errno ERANGE when i >= nbits. */
int bitfield_clear(struct bitfield *bf, size_t i);

/* Returns whether bit i is set; an index out of range reads as "not set". */
bool bitfield_get(const struct bitfield *bf, size_t i);

/* Counts the set bits, a machine word at a time. */
size_t bitfield_count(const struct bitfield *bf);

/* True when every piece is set (a seeder), or when nbits is 0. */
bool bitfield_all(const struct bitfield *bf);

/* True when no piece is set. */
bool bitfield_none(const struct bitfield *bf);

/* Sets or clears every bit, leaving the spare bits zero. */
void bitfield_set_all(struct bitfield *bf);
void bitfield_clear_all(struct bitfield *bf);

/* Replaces the bits with a BITFIELD payload. The payload must be exactly bitfield_byte_len(nbits)
 * bytes and its spare bits must be zero; otherwise returns -1 with errno EINVAL and leaves the
 * bitfield unchanged. Returns 0 on success. */
int bitfield_import(struct bitfield *bf, const unsigned char *bytes, size_t len);

/* Checks a BITFIELD payload for nbits pieces without importing it (same rules as import). */
bool bitfield_bytes_ok(size_t nbits, const unsigned char *bytes, size_t len);

/* Copies the bits in wire order into out (cap bytes); returns nbytes, or 0 when cap is too small
 * (a bitfield of 0 pieces also exports 0 bytes). */
size_t bitfield_export(const struct bitfield *bf, unsigned char *out, size_t cap);

/* Checks the invariant above; tests assert it after every operation. */
bool bitfield_is_valid(const struct bitfield *bf);

/* Piece-picker helper: returns the first piece index >= start that `theirs` has and `ours` lacks,
 * or theirs->nbits when there is none. Both bitfields must have the same nbits. */
size_t bitfield_first_wanted(const struct bitfield *theirs, const struct bitfield *ours,
                             size_t start);

/* True when `theirs` has at least one piece that `ours` lacks: whether we are interested. */
bool bitfield_interesting(const struct bitfield *theirs, const struct bitfield *ours);

#endif
