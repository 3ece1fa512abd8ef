/*
 * bitfield.c - the piece bitfield: set, test, count, and the BITFIELD message's byte layout.
 *
 * The idea to keep an invariant checker beside a fast count comes from Transmission's bitfield
 * code: the fast path (a word at a time) is tested against a naive bit-by-bit loop.
 */
#include "bitfield.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== bit positions ====== */

/* Returns the mask selecting piece i inside its byte: piece 0 is the high bit (0x80). */
static unsigned char bit_mask(size_t i)
{
    return (unsigned char)(0x80u >> (i % 8));
}

/* Returns the mask of the bits of the last byte that belong to real pieces. With 10 pieces the
 * last byte holds pieces 8 and 9 in its two high bits, so the mask is 0xC0; when nbits is a
 * multiple of 8 every bit is real and the mask is 0xFF. */
static unsigned char last_byte_mask(size_t nbits)
{
    size_t used = nbits % 8;
    return used == 0 ? 0xFF : (unsigned char)(0xFF00u >> used);
}

size_t bitfield_byte_len(size_t nbits)
{
    /* Written as nbits / 8 + (remainder != 0) rather than (nbits + 7) / 8 so it cannot overflow. */
    return nbits / 8 + (nbits % 8 != 0);
}

/* ===================================================================== life cycle ========= */

int bitfield_init(struct bitfield *bf, size_t nbits)
{
    bf->nbits = nbits;
    bf->nbytes = bitfield_byte_len(nbits);
    /* calloc(0) may return NULL on some systems; allocate one byte so bits is never NULL. */
    bf->bits = calloc(bf->nbytes ? bf->nbytes : 1, 1);
    if (bf->bits == NULL) {
        bf->nbits = bf->nbytes = 0;
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void bitfield_free(struct bitfield *bf)
{
    free(bf->bits);
    bf->bits = NULL;
    bf->nbits = bf->nbytes = 0;
}

/* ===================================================================== single bits ======== */

int bitfield_set(struct bitfield *bf, size_t i)
{
    if (i >= bf->nbits) {
        errno = ERANGE;
        return -1;
    }
    bf->bits[i / 8] |= bit_mask(i);
    return 0;
}

int bitfield_clear(struct bitfield *bf, size_t i)
{
    if (i >= bf->nbits) {
        errno = ERANGE;
        return -1;
    }
    bf->bits[i / 8] &= (unsigned char)~bit_mask(i);
    return 0;
}

bool bitfield_get(const struct bitfield *bf, size_t i)
{
    return i < bf->nbits && (bf->bits[i / 8] & bit_mask(i)) != 0;
}

/* ===================================================================== whole-set queries == */

/* Counts the set bits of a 64-bit word with the classic "sideways addition": add neighbouring
 * bits in pairs, then nibbles, then bytes, and let one multiplication sum the eight bytes into
 * the top byte. A compiler builtin (__builtin_popcountll) would do the same in one instruction,
 * but it is not standard C. */
static unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555u);
    x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
    return (unsigned)((x * 0x0101010101010101u) >> 56);
}

size_t bitfield_count(const struct bitfield *bf)
{
    size_t n = 0, i = 0;
    /* Eight bytes at a time. memcpy loads a word from any address without alignment trouble;
     * byte order does not matter because we only count bits. Spare bits are zero by the
     * invariant, so they never add to the count. */
    for (; i + 8 <= bf->nbytes; i += 8) {
        uint64_t w;
        memcpy(&w, bf->bits + i, sizeof w);
        n += popcount64(w);
    }
    for (; i < bf->nbytes; i++)
        n += popcount64(bf->bits[i]);
    return n;
}

bool bitfield_all(const struct bitfield *bf)
{
    return bitfield_count(bf) == bf->nbits;
}

bool bitfield_none(const struct bitfield *bf)
{
    for (size_t i = 0; i < bf->nbytes; i++)
        if (bf->bits[i] != 0)
            return false;
    return true;
}

void bitfield_set_all(struct bitfield *bf)
{
    if (bf->nbytes == 0)
        return;
    memset(bf->bits, 0xFF, bf->nbytes);
    bf->bits[bf->nbytes - 1] = last_byte_mask(bf->nbits); /* keep the spare bits zero */
}

void bitfield_clear_all(struct bitfield *bf)
{
    if (bf->nbytes > 0)
        memset(bf->bits, 0, bf->nbytes);
}

/* ===================================================================== wire bytes ========= */

bool bitfield_bytes_ok(size_t nbits, const unsigned char *bytes, size_t len)
{
    if (len != bitfield_byte_len(nbits))
        return false;
    /* A peer that sets a bit past the last piece is either broken or sending for another
     * torrent; BEP 3 says such a connection should be dropped. */
    return len == 0 || (bytes[len - 1] & (unsigned char)~last_byte_mask(nbits)) == 0;
}

int bitfield_import(struct bitfield *bf, const unsigned char *bytes, size_t len)
{
    if (!bitfield_bytes_ok(bf->nbits, bytes, len)) {
        errno = EINVAL;
        return -1;
    }
    if (len > 0)
        memcpy(bf->bits, bytes, len);
    return 0;
}

size_t bitfield_export(const struct bitfield *bf, unsigned char *out, size_t cap)
{
    if (cap < bf->nbytes)
        return 0;
    if (bf->nbytes > 0)
        memcpy(out, bf->bits, bf->nbytes);
    return bf->nbytes;
}

bool bitfield_is_valid(const struct bitfield *bf)
{
    if (bf->bits == NULL || bf->nbytes != bitfield_byte_len(bf->nbits))
        return false;
    return bitfield_bytes_ok(bf->nbits, bf->bits, bf->nbytes);
}

/* ===================================================================== picker helpers ===== */

size_t bitfield_first_wanted(const struct bitfield *theirs, const struct bitfield *ours,
                             size_t start)
{
    if (theirs->nbits != ours->nbits || start >= theirs->nbits)
        return theirs->nbits;
    /* Walk byte by byte: "they have and we lack" is theirs & ~ours. In the first byte, mask off
     * the pieces before start. Spare bits of theirs are zero, so no index past nbits comes out. */
    for (size_t j = start / 8; j < theirs->nbytes; j++) {
        unsigned wanted = theirs->bits[j] & (unsigned char)~ours->bits[j];
        if (j == start / 8)
            wanted &= 0xFFu >> (start % 8);
        if (wanted == 0)
            continue;
        size_t bit = 0;
        while ((wanted & (0x80u >> bit)) == 0)
            bit++;
        return j * 8 + bit;
    }
    return theirs->nbits;
}

bool bitfield_interesting(const struct bitfield *theirs, const struct bitfield *ours)
{
    return bitfield_first_wanted(theirs, ours, 0) < theirs->nbits;
}
