/*
 * sha1.h - SHA-1 (FIPS 180-4), the hash BitTorrent v1 uses for the info hash and for every piece.
 *
 * SHA-1 is broken for collision resistance, which is why BitTorrent v2 moved to SHA-256; v1 still
 * uses it, and a client that wants to talk to real swarms must too.
 *
 * Use it in one shot:
 *
 *     unsigned char digest[SHA1_DIGEST_LEN];
 *     sha1(data, len, digest);
 *
 * or streaming, when the data arrives in pieces (blocks from peers, chunks read from a file):
 *
 *     struct sha1_ctx c;
 *     sha1_init(&c);
 *     sha1_update(&c, part1, n1);
 *     sha1_update(&c, part2, n2);
 *     sha1_final(&c, digest);
 *
 * The portable C code in sha1.c is the one to read. On x86-64 CPUs with the SHA extensions
 * ("SHA-NI"), sha1_init() picks the hardware version in sha1_ni.c instead, which gives the same
 * digests about twice as fast. sha1_init_impl() forces one or the other, for tests and benchmarks.
 */
#ifndef SHA1_H
#define SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20
#define SHA1_BLOCK_LEN 64

/* A compression function: folds nblocks whole 64-byte blocks at p into the 5-word state. */
typedef void (*sha1_compress_fn)(uint32_t state[5], const unsigned char *p, size_t nblocks);

struct sha1_ctx {
    uint32_t h[5];                     /* the chaining state H0..H4 */
    uint64_t total;                    /* bytes hashed so far; the padding records it in bits */
    unsigned char buf[SHA1_BLOCK_LEN]; /* a partial block waiting for more bytes */
    size_t buf_len;
    sha1_compress_fn compress; /* portable or SHA-NI, chosen by sha1_init */
};

enum sha1_impl {
    SHA1_IMPL_AUTO,     /* the fastest this CPU supports */
    SHA1_IMPL_PORTABLE, /* plain C, any machine */
    SHA1_IMPL_SHANI,    /* x86-64 SHA extensions */
};

/* Starts a new hash with the fastest implementation this CPU supports. */
void sha1_init(struct sha1_ctx *c);

/* Starts a new hash with a chosen implementation; returns -1 (and uses the portable one) when
 * this CPU or build lacks it. */
int sha1_init_impl(struct sha1_ctx *c, enum sha1_impl impl);

/* Adds len bytes. Any length works; whole blocks are hashed straight from data, without a copy. */
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);

/* Pads, writes the 20-byte digest to out, and wipes the context's buffer. */
void sha1_final(struct sha1_ctx *c, unsigned char out[SHA1_DIGEST_LEN]);

/* Hashes one buffer in one call. */
void sha1(const void *data, size_t len, unsigned char out[SHA1_DIGEST_LEN]);

/* Returns 1 when the SHA-NI implementation is compiled in and this CPU supports it. */
int sha1_shani_available(void);

/* Returns "portable" or "sha-ni": which implementation a context uses. */
const char *sha1_impl_name(const struct sha1_ctx *c);

/* The compression functions themselves, exposed so tests can compare them block by block. */
void sha1_compress_portable(uint32_t state[5], const unsigned char *p, size_t nblocks);
/* Defined in sha1_ni.c; only call it when sha1_shani_available() says 1. */
void sha1_compress_shani(uint32_t state[5], const unsigned char *p, size_t nblocks);

#endif
