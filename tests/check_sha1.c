/*
 * check_sha1.c - tests for SHA-1: the FIPS 180-4 / RFC 3174 vectors, the padding boundaries,
 * streaming in odd chunk sizes, and the SHA-NI code checked against the portable code.
 *
 * The vector tests run once per implementation (the loop index of a Check loop test picks it);
 * the SHA-NI run skips itself on CPUs without the extensions.
 *
 * Both implementations are also checked against a naive reference written in this file straight
 * from the standard, on random messages of random lengths (the seed is printed).
 *
 * Speed is not tested here: `make bench` measures it (bench/sha1file.c against OpenSSL, through
 * Python's hashlib, and against sha1sum).
 */
#include "testlib.h"
#include "sha1.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static const enum sha1_impl impls[] = {SHA1_IMPL_PORTABLE, SHA1_IMPL_SHANI};

/* Prepares a context for implementation number i of impls[]; returns 0 when unavailable. */
static int start(struct sha1_ctx *c, int i)
{
    return sha1_init_impl(c, impls[i]) == 0;
}

static void to_hex(const unsigned char d[SHA1_DIGEST_LEN], char out[41])
{
    static const char hx[] = "0123456789abcdef";
    for (int k = 0; k < SHA1_DIGEST_LEN; k++) {
        out[2 * k] = hx[d[k] >> 4];
        out[2 * k + 1] = hx[d[k] & 15];
    }
    out[40] = '\0';
}

/* Hashes data with implementation i and compares with the expected hex digest. */
static void expect_digest(int i, const void *data, size_t len, const char *want)
{
    struct sha1_ctx c;
    unsigned char d[SHA1_DIGEST_LEN];
    char hex[41];
    ck_assert(start(&c, i));
    sha1_update(&c, data, len);
    sha1_final(&c, d);
    to_hex(d, hex);
    ck_assert_msg(strcmp(hex, want) == 0, "%s, %zu bytes: got %s want %s", sha1_impl_name(&c), len,
                  hex, want);
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static void fill_random(unsigned char *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        p[k] = (unsigned char)(rnd() >> 56);
}

/* ---- a naive reference, written straight from FIPS 180-4 ---------------------------------- */

/* The textbook SHA-1 of FIPS 180-4 section 6.1.2, as slow and plain as it gets: the full 80-word
 * schedule, the round functions exactly as the standard prints them, and the five variables
 * shuffled after every round. It shares no code or macro with sha1.c, so a trick there that
 * goes wrong (a rewritten round function, the 16-word schedule ring, the in-place block reads,
 * the padding) shows up as a different digest. It hashes a whole message held in memory. */
static uint32_t ref_rotl(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static void ref_block(uint32_t h[5], const unsigned char blk[64])
{
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)blk[4 * t] << 24 | (uint32_t)blk[4 * t + 1] << 16 |
               (uint32_t)blk[4 * t + 2] << 8 | (uint32_t)blk[4 * t + 3];
    for (int t = 16; t < 80; t++)
        w[t] = ref_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) ^ (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & c) ^ (b & d) ^ (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        uint32_t tmp = ref_rotl(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = ref_rotl(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/* Hashes n bytes with the reference: whole blocks, then the padded tail in one or two blocks. */
static void ref_sha1(const unsigned char *m, size_t n, unsigned char out[SHA1_DIGEST_LEN])
{
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    size_t whole = n / 64;
    for (size_t k = 0; k < whole; k++)
        ref_block(h, m + 64 * k);
    unsigned char tail[128] = {0};
    size_t rest = n - 64 * whole;
    memcpy(tail, m + 64 * whole, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8;
    for (int k = 0; k < 8; k++)
        tail[tail_len - 1 - k] = (unsigned char)(bits >> (8 * k));
    ref_block(h, tail);
    if (tail_len == 128)
        ref_block(h, tail + 64);
    for (int k = 0; k < 5; k++) {
        out[4 * k] = (unsigned char)(h[k] >> 24);
        out[4 * k + 1] = (unsigned char)(h[k] >> 16);
        out[4 * k + 2] = (unsigned char)(h[k] >> 8);
        out[4 * k + 3] = (unsigned char)h[k];
    }
}

/* The seed for the differential test: SHA1_TEST_SEED from the environment when set (to replay a
 * failure), otherwise the clock, so every run tries new inputs. Either way it is printed. */
static uint64_t differential_seed(void)
{
    const char *env = getenv("SHA1_TEST_SEED");
    if (env != NULL && *env != '\0')
        return strtoull(env, NULL, 0);
    return (uint64_t)time(NULL) * 2654435761u + 1;
}

/* Skips the SHA-NI run of a loop test when the CPU lacks it. */
#define SKIP_IF_UNAVAILABLE(i)                                                                     \
    do {                                                                                           \
        if (impls[i] == SHA1_IMPL_SHANI && !sha1_shani_available())                                \
            tk_skip("this CPU has no SHA extensions");                                             \
    } while (0)

/* ---- known answers ------------------------------------------------------------------------ */

START_TEST(sha1_vector_empty)
{
    SKIP_IF_UNAVAILABLE(_i);
    expect_digest(_i, "", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}
END_TEST

START_TEST(sha1_vector_abc)
{
    SKIP_IF_UNAVAILABLE(_i);
    expect_digest(_i, "abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
}
END_TEST

START_TEST(sha1_vector_448_bits)
{
    SKIP_IF_UNAVAILABLE(_i);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ck_assert_uint_eq(strlen(m) * 8, 448);
    expect_digest(_i, m, strlen(m), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}
END_TEST

START_TEST(sha1_vector_896_bits)
{
    SKIP_IF_UNAVAILABLE(_i);
    const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    ck_assert_uint_eq(strlen(m) * 8, 896);
    expect_digest(_i, m, strlen(m), "a49b2446a02c645bf419f995b67091253a04a259");
}
END_TEST

START_TEST(sha1_vector_quick_brown_fox)
{
    SKIP_IF_UNAVAILABLE(_i);
    const char *m = "The quick brown fox jumps over the lazy dog";
    expect_digest(_i, m, strlen(m), "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}
END_TEST

START_TEST(sha1_vector_million_a)
{
    SKIP_IF_UNAVAILABLE(_i);
    size_t n = 1000000;
    char *m = malloc(n);
    ck_assert_ptr_nonnull(m);
    memset(m, 'a', n);
    expect_digest(_i, m, n, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");

    /* RFC 3174's way: the same million bytes fed as ten thousand 100-byte updates. */
    struct sha1_ctx c;
    unsigned char d[SHA1_DIGEST_LEN];
    char hex[41];
    ck_assert(start(&c, _i));
    for (int k = 0; k < 10000; k++)
        sha1_update(&c, m, 100);
    sha1_final(&c, d);
    to_hex(d, hex);
    ck_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(m);
}
END_TEST

START_TEST(sha1_vector_padding_boundaries)
{
    /* Lengths around 55/56 and 64 bytes change how many padding blocks there are; the answers
     * came from Python's hashlib. */
    SKIP_IF_UNAVAILABLE(_i);
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
        {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
        {57, "f08f24908d682555111be7ff6f004e78283d989a"},
        {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
        {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
        {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
        {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
        {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
        {128, "ad5b3fdbcb526778c2839d2f151ea753995e26a0"},
    };
    char m[128];
    memset(m, 'a', sizeof m);
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        expect_digest(_i, m, v[k].n, v[k].hex);
}
END_TEST

START_TEST(sha1_oneshot_matches_vector)
{
    unsigned char d[SHA1_DIGEST_LEN];
    char hex[41];
    sha1("abc", 3, d);
    to_hex(d, hex);
    ck_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}
END_TEST

/* ---- streaming and implementations agree -------------------------------------------------- */

START_TEST(sha1_streaming_odd_chunks)
{
    SKIP_IF_UNAVAILABLE(_i);
    uint64_t seed = 0x5a1f0001 + (uint64_t)_i;
    rng_state = seed;
    printf("sha1_streaming_odd_chunks: seed %llu\n", (unsigned long long)seed);
    unsigned char *buf = malloc(20000);
    ck_assert_ptr_nonnull(buf);
    for (int iter = 0; iter < 300; iter++) {
        size_t n = rnd() % 20000;
        fill_random(buf, n);
        unsigned char want[SHA1_DIGEST_LEN], got[SHA1_DIGEST_LEN];
        struct sha1_ctx c;
        /* The reference: the whole buffer in one update, portable code. */
        sha1_init_impl(&c, SHA1_IMPL_PORTABLE);
        sha1_update(&c, buf, n);
        sha1_final(&c, want);
        /* Now in random chunks of 0..150 bytes, including empty updates. */
        ck_assert(start(&c, _i));
        for (size_t off = 0; off < n;) {
            size_t k = rnd() % 151;
            if (k > n - off)
                k = n - off;
            sha1_update(&c, buf + off, k);
            off += k;
        }
        sha1_final(&c, got);
        ck_assert_msg(memcmp(want, got, SHA1_DIGEST_LEN) == 0, "seed %llu iter %d, %zu bytes",
                      (unsigned long long)seed, iter, n);
    }
    free(buf);
}
END_TEST

START_TEST(sha1_matches_naive_reference)
{
    SKIP_IF_UNAVAILABLE(_i);
    uint64_t seed = differential_seed() + (uint64_t)_i;
    rng_state = seed;
    printf("sha1_matches_naive_reference: %s, seed %llu (SHA1_TEST_SEED=%llu replays it)\n",
           _i == 0 ? "portable" : "sha-ni", (unsigned long long)seed,
           (unsigned long long)(seed - (uint64_t)_i));
    enum { MAX_LEN = 5000 };
    unsigned char *buf = malloc(MAX_LEN + 1);
    ck_assert_ptr_nonnull(buf);
    for (int iter = 0; iter < 2000; iter++) {
        /* Half the lengths are small (every padding case and up to a few blocks), half anywhere
         * up to MAX_LEN. Every other pair of iterations starts the data one byte into the
         * buffer, so the in-place block reads also see addresses that are not a multiple of 4. */
        size_t n = iter % 2 ? rnd() % (MAX_LEN + 1) : rnd() % 200;
        unsigned char *m = buf + ((iter >> 1) & 1);
        fill_random(m, n);
        unsigned char want[SHA1_DIGEST_LEN], got[SHA1_DIGEST_LEN];
        ref_sha1(m, n, want);
        struct sha1_ctx c;
        ck_assert(start(&c, _i));
        sha1_update(&c, m, n);
        sha1_final(&c, got);
        ck_assert_msg(memcmp(want, got, SHA1_DIGEST_LEN) == 0, "%s: seed %llu iter %d, %zu bytes",
                      sha1_impl_name(&c), (unsigned long long)seed, iter, n);
    }
    free(buf);
}
END_TEST

START_TEST(sha1_shani_matches_portable)
{
    if (!sha1_shani_available())
        tk_skip("this CPU has no SHA extensions");
    uint64_t seed = 0x5a1f0002;
    rng_state = seed;
    printf("sha1_shani_matches_portable: seed %llu\n", (unsigned long long)seed);
    unsigned char blocks[SHA1_BLOCK_LEN * 8];
    for (int iter = 0; iter < 5000; iter++) {
        uint32_t s1[5], s2[5];
        for (int k = 0; k < 5; k++)
            s1[k] = s2[k] = (uint32_t)rnd();
        size_t nb = 1 + rnd() % 8;
        fill_random(blocks, nb * SHA1_BLOCK_LEN);
        sha1_compress_portable(s1, blocks, nb);
        sha1_compress_shani(s2, blocks, nb);
        ck_assert_msg(memcmp(s1, s2, sizeof s1) == 0, "seed %llu iter %d", (unsigned long long)seed,
                      iter);
    }
}
END_TEST

START_TEST(sha1_auto_picks_fastest)
{
    struct sha1_ctx c;
    sha1_init(&c);
    ck_assert_str_eq(sha1_impl_name(&c), sha1_shani_available() ? "sha-ni" : "portable");
    ck_assert_int_eq(sha1_init_impl(&c, SHA1_IMPL_PORTABLE), 0);
    ck_assert_str_eq(sha1_impl_name(&c), "portable");
    printf("sha1_auto_picks_fastest: SHA-NI %s\n", sha1_shani_available() ? "yes" : "no");
}
END_TEST

static Suite *sha1_suite(void)
{
    Suite *s = suite_create("sha1");
    TCase *tc = tcase_create("vectors");
    /* Loop index 0 is the portable code, 1 is SHA-NI. */
    tcase_add_loop_test(tc, sha1_vector_empty, 0, 2);
    tcase_add_loop_test(tc, sha1_vector_abc, 0, 2);
    tcase_add_loop_test(tc, sha1_vector_448_bits, 0, 2);
    tcase_add_loop_test(tc, sha1_vector_896_bits, 0, 2);
    tcase_add_loop_test(tc, sha1_vector_quick_brown_fox, 0, 2);
    tcase_add_loop_test(tc, sha1_vector_million_a, 0, 2);
    tcase_add_loop_test(tc, sha1_vector_padding_boundaries, 0, 2);
    tcase_add_test(tc, sha1_oneshot_matches_vector);
    suite_add_tcase(s, tc);

    tc = tcase_create("streaming");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, sha1_streaming_odd_chunks, 0, 2);
    tcase_add_loop_test(tc, sha1_matches_naive_reference, 0, 2);
    tcase_add_test(tc, sha1_shani_matches_portable);
    tcase_add_test(tc, sha1_auto_picks_fastest);
    suite_add_tcase(s, tc);

    return s;
}

TK_MAIN(sha1_suite)
