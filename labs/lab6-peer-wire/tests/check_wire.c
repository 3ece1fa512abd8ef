/*
 * check_wire.c - the peer wire codec: golden bytes for the handshake and every message, the
 * framer fed at every split point, coalesced and one byte at a time, and hostile input (huge
 * lengths, wrong sizes, out-of-range blocks, non-BitTorrent first bytes).
 */
#include "testlib.h"
#include "wire.h"
#include "bytes.h"

#include <stdio.h>
#include <string.h>

/* ===================================================================== helpers ============ */

/* Decodes a hex string ("00 00 00 05 04 ...", spaces ignored) into out; returns the byte count. */
static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            ck_assert(n < cap);
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    ck_assert_msg(hi < 0, "odd number of hex digits");
    return n;
}

/* Asserts that got[0..n) equals the hex string, and prints the call that wrote the bytes (the
 * expression n, through the macro below), what it wrote and what was expected when it does not. */
#define assert_hex(got, n, hex) assert_hex_of(got, n, hex, #n)
static void assert_hex_of(const unsigned char *got, size_t n, const char *hex, const char *call)
{
    unsigned char want[256];
    size_t wn = unhex(hex, want, sizeof want);
    char gs[600] = "";
    for (size_t i = 0; i < n && i < 256; i++)
        snprintf(gs + 2 * i, 3, "%02x", got[i]);
    ck_assert_msg(n == wn && memcmp(got, want, n) == 0, "%s wrote %zu bytes [%s], expected [%s]",
                  call, n, gs, hex);
}

/* 21 bytes leave room for the literal's NUL; only the first 20 are used. */
static const unsigned char INFO_HASH[21] = "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x11\x22"
                                           "\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc";
static const unsigned char PEER_ID[20] = {'-', 'M', 'T', '0', '0', '0', '1', '-', 'a', 'b',
                                          'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'};

#define HANDSHAKE_HEX                                                                              \
    "13 426974546f7272656e742070726f746f636f6c"                                                    \
    "00 00 00 00 00 10 00 05"                                                                      \
    "123456789abcdef0112233445566778899aabbcc"                                                     \
    "2d4d54303030312d6162636465666768696a6b6c"

/* Appends a one-line description of a frame to log, so whole runs compare as strings. */
static void log_frame(char *log, size_t cap, int rc, const struct wire_handshake *hs,
                      const struct wire_msg *m)
{
    size_t n = strlen(log);
    if (rc == WIRE_GOT_HANDSHAKE) {
        snprintf(log + n, cap - n, "HS r5=%02x ih0=%02x id=%.8s\n", hs->reserved[5],
                 hs->info_hash[0], (const char *)hs->peer_id);
        return;
    }
    if (rc < 0) {
        snprintf(log + n, cap - n, "ERR %d\n", rc);
        return;
    }
    n += (size_t)snprintf(log + n, cap - n, "T%d id%u i%u b%u l%u p%u n%zu", m->type, m->id,
                          m->index, m->begin, m->length, m->port, m->data_len);
    for (size_t i = 0; m->data && i < m->data_len && n + 3 < cap; i++)
        n += (size_t)snprintf(log + n, cap - n, "%s%02x", i ? "" : " ", m->data[i]);
    snprintf(log + n, cap - n, "\n");
}

/* Feeds one chunk to the framer until it is used up, logging every frame. Returns the last
 * result (negative on error). */
static int feed_chunk(struct wire_framer *f, const unsigned char *in, size_t len, char *log,
                      size_t cap)
{
    size_t off = 0;
    for (;;) {
        struct wire_handshake hs;
        struct wire_msg m;
        size_t used = 0;
        int rc = wire_framer_feed(f, in + off, len - off, &used, &hs, &m);
        ck_assert_uint_le(used, len - off);
        off += used;
        if (rc != WIRE_NEED_MORE)
            log_frame(log, cap, rc, &hs, &m);
        if (rc < 0)
            return rc;
        if (rc == WIRE_NEED_MORE) {
            ck_assert_uint_eq(off, len); /* "need more" only once everything was consumed */
            return rc;
        }
    }
}

/* A stream with the handshake and one of every message, including ones we skip. */
static size_t build_stream(unsigned char *out, size_t cap)
{
    return unhex(HANDSHAKE_HEX "00000003 05 ff80" /* bitfield, 9 pieces */
                               "00000000"         /* keep-alive */
                               "00000001 01"      /* unchoke */
                               "00000005 04 00000008"
                               "00000004 14 00 6162" /* extension protocol, id 20: skipped */
                               "0000000d 06 00000001 00004000 00004000"
                               "0000000c 07 00000001 00004000 616263"
                               "0000000d 08 00000001 00004000 00004000"
                               "00000003 09 1ae1" /* port 6881 */
                               "00000002 63 ee"   /* id 99: skipped */
                               "00000001 00"      /* choke */
                               "00000001 02"
                               "00000001 03",
                 out, cap);
}

static const char STREAM_LOG[] = "HS r5=10 ih0=12 id=-MT0001-\n"
                                 "T5 id5 i0 b0 l0 p0 n2 ff80\n"
                                 "T-1 id0 i0 b0 l0 p0 n0\n"
                                 "T1 id1 i0 b0 l0 p0 n0\n"
                                 "T4 id4 i8 b0 l0 p0 n0\n"
                                 "T-2 id20 i0 b0 l0 p0 n3\n"
                                 "T6 id6 i1 b16384 l16384 p0 n0\n"
                                 "T7 id7 i1 b16384 l3 p0 n3 616263\n"
                                 "T8 id8 i1 b16384 l16384 p0 n0\n"
                                 "T9 id9 i0 b0 l0 p6881 n0\n"
                                 "T-2 id99 i0 b0 l0 p0 n1\n"
                                 "T0 id0 i0 b0 l0 p0 n0\n"
                                 "T2 id2 i0 b0 l0 p0 n0\n"
                                 "T3 id3 i0 b0 l0 p0 n0\n";

/* ===================================================================== golden bytes ======= */

START_TEST(wire_handshake_golden)
{
    struct wire_handshake hs = {{0, 0, 0, 0, 0, 0x10, 0, 0x05}, {0}, {0}};
    memcpy(hs.info_hash, INFO_HASH, 20);
    memcpy(hs.peer_id, PEER_ID, 20);
    unsigned char out[WIRE_HANDSHAKE_LEN];
    wire_handshake_encode(out, &hs);
    assert_hex(out, sizeof out, HANDSHAKE_HEX);

    struct wire_handshake back;
    ck_assert_int_eq(wire_handshake_parse(out, sizeof out, &back), WIRE_HANDSHAKE_LEN);
    ck_assert_mem_eq(back.reserved, hs.reserved, 8); /* reserved bits are exposed */
    ck_assert_mem_eq(back.info_hash, INFO_HASH, 20);
    ck_assert_mem_eq(back.peer_id, PEER_ID, 20);
    ck_assert_int_eq(wire_handshake_parse(out, 67, &back), 0); /* one byte short: need more */
}
END_TEST

START_TEST(wire_refuses_bad_pstr_in_handshake)
{
    unsigned char hs[WIRE_HANDSHAKE_LEN];
    struct wire_handshake out;
    unhex(HANDSHAKE_HEX, hs, sizeof hs);
    hs[0] = 18; /* wrong pstrlen */
    ck_assert_int_eq(wire_handshake_parse(hs, sizeof hs, &out), WIRE_E_NOT_BITTORRENT);
    ck_assert_int_eq(wire_handshake_check_prefix(hs, 1), WIRE_E_NOT_BITTORRENT);
    hs[0] = 19;
    hs[11] = 't'; /* "BitTorrent protocol" -> "BitTorrentt..." at byte 11 */
    ck_assert_int_eq(wire_handshake_parse(hs, sizeof hs, &out), WIRE_E_NOT_BITTORRENT);
    ck_assert_int_eq(wire_handshake_check_prefix(hs, 11), 0); /* still plausible */
    ck_assert_int_eq(wire_handshake_check_prefix(hs, 12), WIRE_E_NOT_BITTORRENT);
}
END_TEST

START_TEST(wire_messages_golden)
{
    unsigned char b[64];
    assert_hex(b, wire_put_keepalive(b), "00000000");
    assert_hex(b, wire_put_choke(b), "00000001 00");
    assert_hex(b, wire_put_unchoke(b), "00000001 01");
    assert_hex(b, wire_put_interested(b), "00000001 02");
    assert_hex(b, wire_put_not_interested(b), "00000001 03");
    assert_hex(b, wire_put_have(b, 0x01020304), "00000005 04 01020304");
    const unsigned char bits[2] = {0xff, 0x80};
    assert_hex(b, wire_put_bitfield(b, sizeof b, bits, 2), "00000003 05 ff80");
    assert_hex(b, wire_put_bitfield_header(b, 2), "00000003 05");
    assert_hex(b, wire_put_request(b, 1, 0x4000, 0x4000), "0000000d 06 00000001 00004000 00004000");
    assert_hex(b, wire_put_piece(b, sizeof b, 1, 0x4000, (const unsigned char *)"abc", 3),
               "0000000c 07 00000001 00004000 616263");
    assert_hex(b, wire_put_piece_header(b, 1, 0x4000, 16384), "00004009 07 00000001 00004000");
    assert_hex(b, wire_put_cancel(b, 0xfffffffe, 0, 0x4000),
               "0000000d 08 fffffffe 00000000 00004000");
    assert_hex(b, wire_put_port(b, 6881), "00000003 09 1ae1");
}
END_TEST

START_TEST(wire_refuses_small_buffers_in_encoders)
{
    unsigned char b[16];
    const unsigned char bits[12] = {0};
    ck_assert_uint_eq(wire_put_bitfield(b, sizeof b, bits, 12), 0);
    ck_assert_uint_eq(wire_put_bitfield(b, 4, bits, 0), 0);
    ck_assert_uint_eq(wire_put_piece(b, sizeof b, 0, 0, bits, 4), 0);
    ck_assert_uint_eq(wire_put_simple(b, WIRE_HAVE), 0); /* HAVE is not a payload-less message */
}
END_TEST

/* ===================================================================== decoding =========== */

START_TEST(wire_decode_wrong_sizes_rejected)
{
    unsigned char p[16] = {0};
    struct wire_msg m;
    ck_assert_int_eq(wire_decode(WIRE_CHOKE, p, 1, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_INTERESTED, p, 4, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_HAVE, p, 3, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_HAVE, p, 5, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_REQUEST, p, 11, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_REQUEST, p, 13, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_CANCEL, p, 16, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_PIECE, p, 7, &m), WIRE_E_BAD_SIZE);
    ck_assert_int_eq(wire_decode(WIRE_PIECE, p, 8, &m), 0); /* an empty block decodes... */
    ck_assert_int_eq(m.type, WIRE_PIECE);
    ck_assert_uint_eq(m.data_len, 0);
}
END_TEST

START_TEST(wire_decode_unknown_ids_skipped)
{
    unsigned char p[4] = {1, 2, 3, 4};
    struct wire_msg m;
    ck_assert_int_eq(wire_decode(20, p, 4, &m), 0);
    ck_assert_int_eq(m.type, WIRE_UNKNOWN);
    ck_assert_uint_eq(m.id, 20);
    ck_assert_int_eq(wire_decode(255, p, 0, &m), 0);
    ck_assert_int_eq(m.type, WIRE_UNKNOWN);
    ck_assert_int_eq(wire_decode(WIRE_PORT, p, 4, &m), 0); /* a PORT of the wrong size */
    ck_assert_int_eq(m.type, WIRE_UNKNOWN);
    ck_assert_int_eq(wire_decode(WIRE_PORT, p, 2, &m), 0);
    ck_assert_int_eq(m.type, WIRE_PORT);
    ck_assert_uint_eq(m.port, 0x0102);
}
END_TEST

/* A torrent of 3 pieces of 256 KiB, the last one 1000 bytes. */
static const struct wire_geometry GEOM = {3, 262144, 2 * 262144 + 1000};

/* Builds a REQUEST, CANCEL or PIECE message in m, for the range checks. */
static struct wire_msg block_msg(int type, uint32_t index, uint32_t begin, uint32_t length)
{
    struct wire_msg m = {0};
    m.type = type;
    m.id = (uint8_t)type;
    m.index = index;
    m.begin = begin;
    m.length = length;
    return m;
}

START_TEST(wire_validate_requests_in_range)
{
    ck_assert_uint_eq(wire_piece_size(&GEOM, 0), 262144);
    ck_assert_uint_eq(wire_piece_size(&GEOM, 2), 1000);
    ck_assert_uint_eq(wire_piece_size(&GEOM, 3), 0);
    struct wire_msg m = block_msg(WIRE_REQUEST, 0, 0, 16384);
    ck_assert_int_eq(wire_validate(&m, &GEOM), 0);
    m = block_msg(WIRE_REQUEST, 1, 262144 - 16384, 16384); /* the last block of a full piece */
    ck_assert_int_eq(wire_validate(&m, &GEOM), 0);
    m = block_msg(WIRE_REQUEST, 2, 0, 1000); /* all of the short last piece */
    ck_assert_int_eq(wire_validate(&m, &GEOM), 0);
    m = block_msg(WIRE_REQUEST, 0, 0, WIRE_MAX_BLOCK_LEN); /* 128 KiB is the largest allowed */
    ck_assert_int_eq(wire_validate(&m, &GEOM), 0);
}
END_TEST

START_TEST(wire_validate_requests_out_of_range_rejected)
{
    struct wire_msg m = block_msg(WIRE_REQUEST, 3, 0, 16384);
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_INDEX);
    m = block_msg(WIRE_REQUEST, 0xffffffffu, 0, 16384);
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_INDEX);
    m = block_msg(WIRE_REQUEST, 2, 0, 1001); /* one byte past the short last piece */
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_REQUEST, 2, 999, 2);
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_REQUEST, 0, 262144 - 16383, 16384); /* crosses into the next piece */
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_REQUEST, 0, 0, WIRE_MAX_BLOCK_LEN + 1); /* too large */
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_REQUEST, 0, 0, 0); /* empty */
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_CANCEL, 0, 0xffffc000u, 0x4000); /* begin + length wraps in 32 bits */
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_PIECE, 2, 500, 501);
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_HAVE, 3, 0, 0);
    ck_assert_int_eq(wire_validate(&m, &GEOM), WIRE_E_BAD_INDEX);
    m = block_msg(WIRE_HAVE, 2, 0, 0);
    ck_assert_int_eq(wire_validate(&m, &GEOM), 0);
}
END_TEST

START_TEST(wire_validate_bitfield_size_and_spare_bits)
{
    struct wire_geometry g = {12, 16384, 12 * 16384};
    struct wire_msg m = {0};
    m.type = WIRE_BITFIELD;
    unsigned char bits[3] = {0xff, 0xf0, 0};
    m.data = bits;
    m.data_len = 2;
    ck_assert_int_eq(wire_validate(&m, &g), 0);
    m.data_len = 1;
    ck_assert_int_eq(wire_validate(&m, &g), WIRE_E_BAD_BITFIELD);
    m.data_len = 3;
    ck_assert_int_eq(wire_validate(&m, &g), WIRE_E_BAD_BITFIELD);
    m.data_len = 2;
    bits[1] = 0xf8; /* piece 12 does not exist */
    ck_assert_int_eq(wire_validate(&m, &g), WIRE_E_BAD_BITFIELD);
}
END_TEST

START_TEST(wire_max_len_fits_blocks_and_big_bitfields)
{
    ck_assert_uint_eq(wire_max_len_for(100), WIRE_DEFAULT_MAX_LEN);
    ck_assert_uint_ge(WIRE_DEFAULT_MAX_LEN, 9 + WIRE_BLOCK_LEN);
    /* Two million pieces need a 250000-byte bitfield, plus the id byte. */
    ck_assert_uint_eq(wire_max_len_for(2000000), 250001);
}
END_TEST

/* ===================================================================== framer ============= */

START_TEST(wire_framer_coalesced)
{
    unsigned char s[512];
    size_t n = build_stream(s, sizeof s);
    struct wire_framer f;
    char log[4096] = "";
    wire_framer_init(&f, true, 0);
    ck_assert_int_eq(feed_chunk(&f, s, n, log, sizeof log), WIRE_NEED_MORE);
    ck_assert_str_eq(log, STREAM_LOG);
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_one_byte_at_a_time)
{
    unsigned char s[512];
    size_t n = build_stream(s, sizeof s);
    struct wire_framer f;
    char log[4096] = "";
    wire_framer_init(&f, true, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(feed_chunk(&f, s + i, 1, log, sizeof log), WIRE_NEED_MORE);
    ck_assert_str_eq(log, STREAM_LOG);
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_split_at_every_boundary)
{
    /* Two cuts (i <= j) give three chunks; every byte boundary of every message is cut at least
     * once by i alone, and every pair of boundaries by (i, j). */
    unsigned char s[512];
    size_t n = build_stream(s, sizeof s);
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            struct wire_framer f;
            char log[4096] = "";
            wire_framer_init(&f, true, 0);
            feed_chunk(&f, s, i, log, sizeof log);
            feed_chunk(&f, s + i, j - i, log, sizeof log);
            feed_chunk(&f, s + j, n - j, log, sizeof log);
            ck_assert_msg(strcmp(log, STREAM_LOG) == 0,
                          "the test stream cut at %zu and %zu gave:\n%sexpected:\n%s", i, j, log,
                          STREAM_LOG);
            ck_assert_int_eq(f.state, WIRE_WANT_LENGTH);
            wire_framer_free(&f);
        }
    }
}
END_TEST

START_TEST(wire_framer_piece_without_copy_when_contiguous)
{
    unsigned char s[64];
    size_t n = unhex("0000000c 07 00000001 00004000 616263", s, sizeof s);
    struct wire_framer f;
    struct wire_handshake hs;
    struct wire_msg m;
    size_t used;
    wire_framer_init(&f, false, 0);
    ck_assert_int_eq(wire_framer_feed(&f, s, n, &used, &hs, &m), WIRE_GOT_MESSAGE);
    ck_assert_ptr_eq(m.data, s + 13); /* points into our own bytes: no copy */
    ck_assert_ptr_null(f.buf);        /* and nothing was allocated */
    /* Split inside the payload: the framer must collect it in its buffer (one copy). */
    ck_assert_int_eq(wire_framer_feed(&f, s, 15, &used, &hs, &m), WIRE_NEED_MORE);
    ck_assert_int_eq(wire_framer_feed(&f, s + 15, n - 15, &used, &hs, &m), WIRE_GOT_MESSAGE);
    ck_assert_ptr_eq(m.data, f.buf + 8);
    ck_assert_mem_eq(m.data, "abc", 3);
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_huge_length_rejected_without_allocation)
{
    const unsigned char s[5] = {0xff, 0xff, 0xff, 0xff, 0x07};
    struct wire_framer f;
    struct wire_handshake hs;
    struct wire_msg m;
    size_t used;
    wire_framer_init(&f, false, 0);
    /* Rejected on the 4th byte, before the id or any payload. */
    ck_assert_int_eq(wire_framer_feed(&f, s, 3, &used, &hs, &m), WIRE_NEED_MORE);
    ck_assert_int_eq(wire_framer_feed(&f, s + 3, 2, &used, &hs, &m), WIRE_E_TOO_LONG);
    ck_assert_uint_eq(used, 1);
    ck_assert_ptr_null(f.buf);
    ck_assert_uint_eq(f.buf_cap, 0);
    /* A failed framer stays failed. */
    ck_assert_int_eq(wire_framer_feed(&f, s, 1, &used, &hs, &m), WIRE_E_TOO_LONG);
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_cap_is_exact)
{
    unsigned char s[32];
    struct wire_framer f;
    struct wire_handshake hs;
    struct wire_msg m;
    size_t used;
    /* A cap of 13 admits a REQUEST (length 13) and nothing longer. */
    wire_framer_init(&f, false, 13);
    size_t n = wire_put_request(s, 1, 2, 3);
    ck_assert_int_eq(wire_framer_feed(&f, s, n, &used, &hs, &m), WIRE_GOT_MESSAGE);
    n = wire_put_piece(s, sizeof s, 0, 0, (const unsigned char *)"a", 1); /* length 10 */
    ck_assert_int_eq(wire_framer_feed(&f, s, n, &used, &hs, &m), WIRE_GOT_MESSAGE);
    const unsigned char big[4] = {0, 0, 0, 14};
    ck_assert_int_eq(wire_framer_feed(&f, big, 4, &used, &hs, &m), WIRE_E_TOO_LONG);
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_wrong_size_rejected_before_payload)
{
    /* A HAVE that claims a megabyte is refused at its id byte, without waiting for the bytes. */
    const unsigned char s[5] = {0x00, 0x01, 0x00, 0x00, WIRE_HAVE};
    struct wire_framer f;
    struct wire_handshake hs;
    struct wire_msg m;
    size_t used;
    wire_framer_init(&f, false, 2u << 20);
    ck_assert_int_eq(wire_framer_feed(&f, s, 5, &used, &hs, &m), WIRE_E_BAD_SIZE);
    ck_assert_ptr_null(f.buf);
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_unknown_skipped_without_buffer)
{
    unsigned char s[600];
    /* An extension message (id 20) of 500 bytes, split, then an UNCHOKE. */
    put_u32be(s, 501); /* id + 500 bytes */
    s[4] = 20;
    memset(s + 5, 'x', 500);
    put_u32be(s + 505, 1);
    s[509] = WIRE_UNCHOKE;
    struct wire_framer f;
    char log[256] = "";
    wire_framer_init(&f, false, 0);
    ck_assert_int_eq(feed_chunk(&f, s, 100, log, sizeof log), WIRE_NEED_MORE);
    ck_assert_int_eq(feed_chunk(&f, s + 100, 410, log, sizeof log), WIRE_NEED_MORE);
    ck_assert_str_eq(log, "T-2 id20 i0 b0 l0 p0 n500\nT1 id1 i0 b0 l0 p0 n0\n");
    ck_assert_ptr_null(f.buf); /* skipped, not stored */
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_refuses_not_bittorrent_early)
{
    struct wire_framer f;
    struct wire_handshake hs;
    struct wire_msg m;
    size_t used;
    /* An encrypted (MSE) handshake starts with random bytes: byte 0 is unlikely to be 19. */
    const unsigned char mse[4] = {0x8f, 0x12, 0x34, 0x56};
    wire_framer_init(&f, true, 0);
    ck_assert_int_eq(wire_framer_feed(&f, mse, 1, &used, &hs, &m), WIRE_E_NOT_BITTORRENT);
    wire_framer_free(&f);

    /* When byte 0 happens to be 19, the first wrong letter gives it away. */
    unsigned char s[WIRE_HANDSHAKE_LEN];
    unhex(HANDSHAKE_HEX, s, sizeof s);
    s[5] = 'X'; /* "BitTXrrent" */
    wire_framer_init(&f, true, 0);
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(wire_framer_feed(&f, s + i, 1, &used, &hs, &m), WIRE_NEED_MORE);
    ck_assert_int_eq(wire_framer_feed(&f, s + 5, 1, &used, &hs, &m), WIRE_E_NOT_BITTORRENT);
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_handshake_then_message_in_one_chunk)
{
    unsigned char s[WIRE_HANDSHAKE_LEN + 5];
    unhex(HANDSHAKE_HEX "00000001 01", s, sizeof s);
    struct wire_framer f;
    struct wire_handshake hs;
    struct wire_msg m;
    size_t used;
    wire_framer_init(&f, true, 0);
    ck_assert_int_eq(wire_framer_feed(&f, s, sizeof s, &used, &hs, &m), WIRE_GOT_HANDSHAKE);
    ck_assert_uint_eq(used, WIRE_HANDSHAKE_LEN); /* stops at the end of the frame */
    ck_assert_mem_eq(hs.peer_id, PEER_ID, 20);
    ck_assert_int_eq(wire_framer_feed(&f, s + used, sizeof s - used, &used, &hs, &m),
                     WIRE_GOT_MESSAGE);
    ck_assert_int_eq(m.type, WIRE_UNCHOKE);
    ck_assert_uint_eq(used, 5);
    wire_framer_free(&f);
}
END_TEST

/* A small deterministic generator (xorshift32) for the garbage test; the seed is printed. */
static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

START_TEST(wire_refuses_random_garbage_safely)
{
    /* Random bytes after a valid handshake, in random chunks: the framer must only ever return
     * a result, never crash, never consume more than it was given, and never let its buffer
     * pass the cap. Small length prefixes are made likely so that many frames complete. */
    const uint32_t seed = 0xC0FFEEu;
    printf("wire_refuses_random_garbage_safely: seed %u\n", seed);
    uint32_t rng = seed;
    static unsigned char s[4096];
    for (int c = 0; c < 2000; c++) {
        size_t n = unhex(HANDSHAKE_HEX, s, sizeof s);
        while (n + 5 < sizeof s) {
            uint32_t r = rng_next(&rng);
            if (r % 4 == 0) { /* a plausible header: small length, id 0..21 */
                put_u32be(s + n, rng_next(&rng) % 40);
                s[n + 4] = (unsigned char)(rng_next(&rng) % 22);
                n += 5;
            } else {
                s[n++] = (unsigned char)r;
            }
        }
        struct wire_framer f;
        wire_framer_init(&f, true, 1 + rng_next(&rng) % 64);
        for (size_t at = 0; at < n;) {
            size_t chunk = 1 + rng_next(&rng) % 50;
            if (chunk > n - at)
                chunk = n - at;
            struct wire_handshake hs;
            struct wire_msg m;
            size_t used = 0;
            int rc = wire_framer_feed(&f, s + at, chunk, &used, &hs, &m);
            ck_assert_msg(used <= chunk, "seed %u case %d", seed, c);
            ck_assert_msg(f.buf_cap <= f.max_len, "seed %u case %d: buffer %zu", seed, c,
                          f.buf_cap);
            ck_assert_msg(rc >= WIRE_E_NOMEM && rc <= WIRE_GOT_MESSAGE, "seed %u case %d", seed, c);
            if (rc < 0)
                break;
            if (rc == WIRE_GOT_MESSAGE && m.data != NULL)
                ck_assert_msg(m.data_len < f.max_len, "seed %u case %d", seed, c);
            ck_assert_msg(used > 0 || chunk == 0, "seed %u case %d: no progress", seed, c);
            at += used;
        }
        wire_framer_free(&f);
    }
}
END_TEST

/* ===================================================================== lab 6 contract ==== */
/* The tests below check the rest of what lab 6 writes: the size table, the checks against the
 * torrent, the cap, the encoders' refusals and the framer's handshake state. Each failure says
 * what went in, what was expected and what came out. */

/* Asserts that an int result is what the contract says, naming the call. */
#define EXPECT_INT(call, want)                                                                     \
    do {                                                                                           \
        int got_ = (int)(call);                                                                    \
        ck_assert_msg(got_ == (want), "%s returned %d, expected %d (%s)", #call, got_,             \
                      (int)(want), #want);                                                         \
    } while (0)

START_TEST(wire_check_size_per_id)
{
    /* Each id with the payload sizes just inside and just outside what BEP 3 fixes for it. */
    EXPECT_INT(wire_check_size(WIRE_CHOKE, 0), 0);
    EXPECT_INT(wire_check_size(WIRE_NOT_INTERESTED, 1), WIRE_E_BAD_SIZE);
    EXPECT_INT(wire_check_size(WIRE_HAVE, 4), 0);
    EXPECT_INT(wire_check_size(WIRE_HAVE, 3), WIRE_E_BAD_SIZE);
    EXPECT_INT(wire_check_size(WIRE_HAVE, 5), WIRE_E_BAD_SIZE);
    EXPECT_INT(wire_check_size(WIRE_REQUEST, 12), 0);
    EXPECT_INT(wire_check_size(WIRE_CANCEL, 12), 0);
    EXPECT_INT(wire_check_size(WIRE_CANCEL, 11), WIRE_E_BAD_SIZE);
    EXPECT_INT(wire_check_size(WIRE_PIECE, 8), 0);
    EXPECT_INT(wire_check_size(WIRE_PIECE, 8 + 16384), 0);
    EXPECT_INT(wire_check_size(WIRE_PIECE, 7), WIRE_E_BAD_SIZE);
    /* BITFIELD depends on the torrent (wire_validate's job); ids we do not speak, and PORT, are
     * skipped whatever their size. */
    EXPECT_INT(wire_check_size(WIRE_BITFIELD, 0), 0);
    EXPECT_INT(wire_check_size(WIRE_BITFIELD, 250000), 0);
    EXPECT_INT(wire_check_size(WIRE_PORT, 5), 0);
    EXPECT_INT(wire_check_size(20, 1000), 0);
}
END_TEST

START_TEST(wire_checks_against_the_torrent_at_the_edges)
{
    /* 3 pieces of 256 KiB, the last one 1000 bytes (GEOM). */
    ck_assert_msg(wire_piece_size(&GEOM, 1) == 262144 && wire_piece_size(&GEOM, 2) == 1000 &&
                      wire_piece_size(&GEOM, 3) == 0,
                  "wire_piece_size of pieces 1, 2, 3 of {3 pieces of 262144, 525288 bytes}: got "
                  "%u, %u, %u, expected 262144, 1000, 0",
                  wire_piece_size(&GEOM, 1), wire_piece_size(&GEOM, 2), wire_piece_size(&GEOM, 3));
    struct wire_msg m = block_msg(WIRE_HAVE, 2, 0, 0); /* the last piece */
    EXPECT_INT(wire_validate(&m, &GEOM), 0);
    m = block_msg(WIRE_HAVE, 3, 0, 0); /* one past it */
    EXPECT_INT(wire_validate(&m, &GEOM), WIRE_E_BAD_INDEX);
    m = block_msg(WIRE_PIECE, 3, 0, 16384);
    EXPECT_INT(wire_validate(&m, &GEOM), WIRE_E_BAD_INDEX);
    m = block_msg(WIRE_REQUEST, 0, 0, 0); /* an empty block asks for nothing */
    EXPECT_INT(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_CANCEL, 1, 16384, 0);
    EXPECT_INT(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_REQUEST, 0, 0, WIRE_MAX_BLOCK_LEN);
    EXPECT_INT(wire_validate(&m, &GEOM), 0);
    m = block_msg(WIRE_REQUEST, 0, 0, WIRE_MAX_BLOCK_LEN + 1);
    EXPECT_INT(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_REQUEST, 2, 999, 1); /* the last byte of the last piece */
    EXPECT_INT(wire_validate(&m, &GEOM), 0);
    m = block_msg(WIRE_REQUEST, 2, 1000, 1); /* one past it */
    EXPECT_INT(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);
    m = block_msg(WIRE_REQUEST, 1, 0xffffffffu, 2); /* begin + length is 1 in 32 bits */
    EXPECT_INT(wire_validate(&m, &GEOM), WIRE_E_BAD_BLOCK);

    /* A bitfield for 12 pieces: exactly 2 bytes, the last 4 bits zero. */
    struct wire_geometry g = {12, 16384, 12 * 16384};
    unsigned char bits[3] = {0xff, 0xf0, 0};
    struct wire_msg bf = {0};
    bf.type = WIRE_BITFIELD;
    bf.data = bits;
    bf.data_len = 2;
    EXPECT_INT(wire_validate(&bf, &g), 0);
    for (int spare = 0; spare < 4; spare++) {
        bits[1] = (unsigned char)(0xf0 | 1u << spare); /* piece 15 - spare, which does not exist */
        int rc = wire_validate(&bf, &g);
        ck_assert_msg(
            rc == WIRE_E_BAD_BITFIELD,
            "wire_validate of BITFIELD ff %02x for 12 pieces (spare bit set) returned %d, "
            "expected %d (WIRE_E_BAD_BITFIELD)",
            bits[1], rc, WIRE_E_BAD_BITFIELD);
    }
    bits[1] = 0xf0;
    bf.data_len = 3;
    EXPECT_INT(wire_validate(&bf, &g), WIRE_E_BAD_BITFIELD);
    /* Messages without numbers have nothing to check. */
    struct wire_msg plain = {0};
    plain.type = WIRE_UNCHOKE;
    EXPECT_INT(wire_validate(&plain, &g), 0);
}
END_TEST

START_TEST(wire_cap_for_the_torrent)
{
    /* Small torrents: the largest PIECE sets the cap; huge ones: their BITFIELD (plus its id). */
    ck_assert_msg(wire_max_len_for(1) == WIRE_DEFAULT_MAX_LEN,
                  "wire_max_len_for(1) = %u, expected %u", wire_max_len_for(1),
                  WIRE_DEFAULT_MAX_LEN);
    uint32_t big =
        (WIRE_DEFAULT_MAX_LEN + 7) * 8; /* a bitfield of WIRE_DEFAULT_MAX_LEN + 7 bytes */
    ck_assert_msg(wire_max_len_for(big) == WIRE_DEFAULT_MAX_LEN + 8,
                  "wire_max_len_for(%u) = %u, expected %u", big, wire_max_len_for(big),
                  WIRE_DEFAULT_MAX_LEN + 8);
    ck_assert_msg(wire_max_len_for(big + 1) == WIRE_DEFAULT_MAX_LEN + 9,
                  "wire_max_len_for(%u) = %u, expected %u", big + 1, wire_max_len_for(big + 1),
                  WIRE_DEFAULT_MAX_LEN + 9);
}
END_TEST

START_TEST(wire_encoders_write_exact_fits_and_refuse_the_rest)
{
    unsigned char b[32];
    const unsigned char bits[4] = {0xa5, 0x5a, 0xff, 0x01};
    /* Header and bits fill the 9 bytes exactly. */
    assert_hex(b, wire_put_bitfield(b, 9, bits, 4), "00000005 05 a55aff01");
    EXPECT_INT(wire_put_bitfield(b, 8, bits, 4), 0);
    assert_hex(b, wire_put_bitfield(b, 5, bits, 0), "00000001 05"); /* empty, still a message */
    EXPECT_INT(wire_put_bitfield(b, 32, bits, SIZE_MAX - 2), 0);    /* the sum would wrap */
    assert_hex(b, wire_put_piece(b, 16, 7, 9, bits, 3), "0000000c 07 00000007 00000009 a55aff");
    EXPECT_INT(wire_put_piece(b, 15, 7, 9, bits, 3), 0);
    EXPECT_INT(wire_put_piece(b, 32, 7, 9, bits, SIZE_MAX - 5), 0);
    EXPECT_INT(wire_put_simple(b, WIRE_NOT_INTERESTED), WIRE_SIMPLE_SIZE);
    EXPECT_INT(wire_put_simple(b, WIRE_HAVE), 0);
    EXPECT_INT(wire_put_simple(b, WIRE_KEEPALIVE), 0);
#if SIZE_MAX > UINT32_MAX
    /* Where size_t is wider than 32 bits, a block whose length prefix would not fit. */
    EXPECT_INT(wire_put_piece_header(b, 0, 0, (size_t)UINT32_MAX - 9), WIRE_PIECE_HEADER_SIZE);
    EXPECT_INT(wire_put_piece_header(b, 0, 0, (size_t)UINT32_MAX - 8), 0);
    EXPECT_INT(wire_put_bitfield_header(b, (size_t)UINT32_MAX), 0);
#endif
}
END_TEST

START_TEST(wire_framer_handshake_checked_byte_by_byte)
{
    unsigned char s[WIRE_HANDSHAKE_LEN];
    unhex(HANDSHAKE_HEX, s, sizeof s);
    EXPECT_INT(wire_handshake_check_prefix(s, 0), 0);
    EXPECT_INT(wire_handshake_check_prefix(s, 11), 0);
    EXPECT_INT(wire_handshake_check_prefix(s, sizeof s), 0);
    /* The reserved bytes, info hash and peer id may hold anything. */
    memset(s + 20, 0xff, sizeof s - 20);
    EXPECT_INT(wire_handshake_check_prefix(s, sizeof s), 0);
    EXPECT_INT(wire_handshake_parse(s, sizeof s, &(struct wire_handshake){{0}, {0}, {0}}),
               WIRE_HANDSHAKE_LEN);

    /* In the framer, fed one byte at a time: "BitTorrent protocoL" fails at its last letter,
     * byte 19, and not before. */
    s[19] = 'L';
    struct wire_framer f;
    struct wire_handshake hs;
    struct wire_msg m;
    size_t used;
    wire_framer_init(&f, true, 0);
    for (size_t i = 0; i < 19; i++) {
        int rc = wire_framer_feed(&f, s + i, 1, &used, &hs, &m);
        ck_assert_msg(rc == WIRE_NEED_MORE && used == 1,
                      "handshake byte %zu (%02x) fed alone: returned %d after using %zu bytes, "
                      "expected WIRE_NEED_MORE (0) after 1",
                      i, s[i], rc, used);
    }
    int rc = wire_framer_feed(&f, s + 19, 1, &used, &hs, &m);
    ck_assert_msg(rc == WIRE_E_NOT_BITTORRENT,
                  "handshake byte 19 'L' instead of 'l': returned %d, expected %d "
                  "(WIRE_E_NOT_BITTORRENT) at once",
                  rc, WIRE_E_NOT_BITTORRENT);
    EXPECT_INT(wire_framer_feed(&f, s, 1, &used, &hs, &m), WIRE_E_NOT_BITTORRENT); /* sticky */
    wire_framer_free(&f);
}
END_TEST

START_TEST(wire_framer_payload_split_in_three)
{
    /* A 20-byte PIECE arrives in pieces 7 + 10 + 12 bytes (the cuts inside the header, then
     * inside the block), then a HAVE whole: no byte may be lost or read twice. */
    unsigned char s[64];
    size_t n = unhex("0000001d 07 00000002 00000010 0102030405060708090a0b0c0d0e0f1011121314"
                     "00000005 04 00000002",
                     s, sizeof s);
    struct wire_framer f;
    char log[512] = "";
    wire_framer_init(&f, false, 0);
    const size_t cuts[] = {7, 17, 29, n};
    size_t at = 0;
    for (size_t i = 0; i < 4; i++) {
        int rc = feed_chunk(&f, s + at, cuts[i] - at, log, sizeof log);
        ck_assert_msg(rc == WIRE_NEED_MORE, "chunk [%zu, %zu): returned %d, log so far:\n%s", at,
                      cuts[i], rc, log);
        at = cuts[i];
    }
    ck_assert_msg(strcmp(log, "T7 id7 i2 b16 l20 p0 n20 0102030405060708090a0b0c0d0e0f1011121314\n"
                              "T4 id4 i2 b0 l0 p0 n0\n") == 0,
                  "PIECE 2:16 with 20 bytes 01..14 then HAVE 2, cut at 7, 17, 29: got\n%s", log);
    wire_framer_free(&f);
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("wire");
    /* wire_refuses_: refusals of bad input and small buffers, which the given checks make
     * (and which a stub that refuses everything would pass too), so no lab grades them. */
    TCase *tc = tk_tcase(s, "wire_refuses", 60);
    tk_add_test(tc, wire_refuses_bad_pstr_in_handshake);
    tk_add_test(tc, wire_refuses_small_buffers_in_encoders);
    tk_add_test(tc, wire_refuses_not_bittorrent_early);
    tk_add_test(tc, wire_refuses_random_garbage_safely);

    /* wire_validate_ and wire_max_len_: the given range checks and sizes, not graded either. */
    tc = tk_tcase(s, "wire_validate", 10);
    tk_add_test(tc, wire_validate_requests_in_range);
    tk_add_test(tc, wire_validate_requests_out_of_range_rejected);
    tk_add_test(tc, wire_validate_bitfield_size_and_spare_bits);

    tc = tk_tcase(s, "wire_max_len", 10);
    tk_add_test(tc, wire_max_len_fits_blocks_and_big_bitfields);

    /* wire_: the handshake, the message encoders and decoder and the framer (lab 6 grades
     * these). */
    tc = tk_tcase(s, "wire", 60);
    tk_add_test(tc, wire_handshake_golden);
    tk_add_test(tc, wire_messages_golden);
    tk_add_test(tc, wire_decode_wrong_sizes_rejected);
    tk_add_test(tc, wire_decode_unknown_ids_skipped);
    tk_add_test(tc, wire_framer_coalesced);
    tk_add_test(tc, wire_framer_one_byte_at_a_time);
    tk_add_test(tc, wire_framer_split_at_every_boundary);
    tk_add_test(tc, wire_framer_piece_without_copy_when_contiguous);
    tk_add_test(tc, wire_framer_huge_length_rejected_without_allocation);
    tk_add_test(tc, wire_framer_cap_is_exact);
    tk_add_test(tc, wire_framer_wrong_size_rejected_before_payload);
    tk_add_test(tc, wire_framer_unknown_skipped_without_buffer);
    tk_add_test(tc, wire_framer_handshake_then_message_in_one_chunk);
    tk_add_test(tc, wire_check_size_per_id);
    tk_add_test(tc, wire_checks_against_the_torrent_at_the_edges);
    tk_add_test(tc, wire_cap_for_the_torrent);
    tk_add_test(tc, wire_encoders_write_exact_fits_and_refuse_the_rest);
    tk_add_test(tc, wire_framer_handshake_checked_byte_by_byte);
    tk_add_test(tc, wire_framer_payload_split_in_three);
    return s;
}

TK_MAIN(wire_suite)
