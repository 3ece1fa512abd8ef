/*
 * sha1_ni.c - SHA-1 compression with the x86 SHA extensions ("SHA-NI"), chosen at run time.
 *
 * Read sha1.c first: this file computes exactly the same function, but four rounds per
 * instruction. Intel and AMD CPUs since about 2017 (AMD Zen, Intel Goldmont and Ice Lake) have
 * four SHA-1 instructions working on 128-bit registers of four 32-bit words:
 *
 *   sha1rnds4(abcd, e+w, f)   four rounds with round function f (0: Ch, 1: parity, 2: Maj,
 *                             3: parity), given A..D and the first round's E + W[t..t+3];
 *   sha1nexte(abcd_old, w)    the E for the next four rounds (ROTL30 of the old A) plus W;
 *   sha1msg1 / sha1msg2       the two halves of the message schedule for four new words.
 *
 * The functions are compiled with __attribute__((target("sha,sse4.1"))) so the rest of the
 * build keeps its default flags, and sha1_init() only uses them after CPUID says the CPU has
 * them. On other machines (ARM Macs, other compilers) the file compiles to a stub that is never
 * chosen.
 *
 * Why it is not faster still: each sha1rnds4 needs the A..D that the one before it produced, so
 * the 20 of a block form one chain, and the next block starts from the end of this one. The speed
 * is the latency of that instruction times 20 per block; the schedule and sha1nexte work runs
 * beside the chain at no cost. OpenSSL's hand-written assembly, which orders the same
 * instructions differently, measures the same speed (make bench prints both). Going faster takes
 * more than one chain: hashing several independent pieces at once, interleaved ("multi-buffer"
 * hashing), which a client checking many pieces on disk at start-up could use.
 */
#include "sha1.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>

/* Asks CPUID for SHA (leaf 7, EBX bit 29), SSSE3 and SSE4.1 (leaf 1, ECX bits 9 and 19). */
static int cpu_has_shani(void)
{
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    if (!(ecx & (1u << 9)) || !(ecx & (1u << 19)))
        return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return 0;
    return (ebx >> 29) & 1;
}

int sha1_shani_available(void)
{
    /* CPUID is slow (a virtual machine traps it), so ask once. Threads may race to fill the
     * cache, but they all store the same answer; the atomic makes that race well-defined. */
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        v = cpu_has_shani();
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

/* Four rounds i*4 .. i*4+3 with round function f, then the schedule for rounds 16 further on.
 * m[i & 3] holds W[4i .. 4i+3]; once used, its slot receives W[4i+16 .. 4i+19], computed from
 * the four groups W[4i..], W[4i+4..], W[4i+8..], W[4i+12..] - the recurrence of sha1.c, four
 * words at a time: sha1msg1 does the W[t-16] ^ W[t-14] part, the XOR adds W[t-8], and sha1msg2
 * adds W[t-3] and rotates (it handles the words that depend on each other within the group). */
#define QROUND(i, f)                                                                               \
    do {                                                                                           \
        if ((i) == 0)                                                                              \
            ew = _mm_add_epi32(e0, m[0]);                                                          \
        else                                                                                       \
            ew = _mm_sha1nexte_epu32(prev, m[(i)&3]);                                              \
        prev = abcd;                                                                               \
        abcd = _mm_sha1rnds4_epu32(abcd, ew, f);                                                   \
        if ((i) < 16)                                                                              \
            m[(i)&3] = _mm_sha1msg2_epu32(                                                         \
                _mm_xor_si128(_mm_sha1msg1_epu32(m[(i)&3], m[((i) + 1) & 3]), m[((i) + 2) & 3]),   \
                m[((i) + 3) & 3]);                                                                 \
    } while (0)

__attribute__((target("sha,sse4.1"))) void
sha1_compress_shani(uint32_t state[5], const unsigned char *p, size_t nblocks)
{
    /* Reverses the 16 bytes of a register: the message words are big-endian, and the
     * instructions want W[t] in the highest lane. */
    const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    /* The instructions keep A in the highest lane and D in the lowest, E alone in the highest
     * lane of its own register: load state[0..3] and reverse the order of the four words. */
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0x1B);
    __m128i e0 = _mm_set_epi32((int)state[4], 0, 0, 0);

    while (nblocks-- > 0) {
        __m128i abcd_start = abcd, e_start = e0;
        __m128i m[4], ew, prev;
        for (int k = 0; k < 4; k++)
            m[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * k)), bswap);

        QROUND(0, 0);
        QROUND(1, 0);
        QROUND(2, 0);
        QROUND(3, 0);
        QROUND(4, 0);
        QROUND(5, 1);
        QROUND(6, 1);
        QROUND(7, 1);
        QROUND(8, 1);
        QROUND(9, 1);
        QROUND(10, 2);
        QROUND(11, 2);
        QROUND(12, 2);
        QROUND(13, 2);
        QROUND(14, 2);
        QROUND(15, 3);
        QROUND(16, 3);
        QROUND(17, 3);
        QROUND(18, 3);
        QROUND(19, 3);

        /* The final E is ROTL30 of the A before the last four rounds; sha1nexte computes it and
         * adds the starting E in the same step. Then the feed-forward for A..D. */
        e0 = _mm_sha1nexte_epu32(prev, e_start);
        abcd = _mm_add_epi32(abcd, abcd_start);
        p += SHA1_BLOCK_LEN;
    }

    _mm_storeu_si128((__m128i *)state, _mm_shuffle_epi32(abcd, 0x1B));
    state[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}

#else

/* No SHA-NI on this machine or compiler: never chosen, and falls back to portable code. */
int sha1_shani_available(void)
{
    return 0;
}

void sha1_compress_shani(uint32_t state[5], const unsigned char *p, size_t nblocks)
{
    sha1_compress_portable(state, p, nblocks);
}

#endif
