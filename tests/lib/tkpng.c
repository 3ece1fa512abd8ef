/*
 * tkpng.c - PNG decoding for screenshot checks: chunk walking, inflate (RFC 1951, after Mark
 * Adler's puff), and the five PNG row filters.
 *
 * Only what screenshots need: bit depth 8, colour types 0, 2, 4 and 6, no interlacing. The CRCs
 * and the Adler-32 checksum are not verified; a real decoder would, but a corrupt screenshot
 * fails the test's pixel checks anyway.
 */
#include "tkpng.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== inflate ============== */

struct inflate {
    const unsigned char *in;
    size_t inlen, inpos;
    unsigned bitbuf, bitcnt;
    unsigned char *out;
    size_t outlen, outcap;
    int bad; /* set when the input ran out or the output would overflow */
};

/* Takes need bits from the input, least significant first, as deflate packs them. */
static unsigned bits(struct inflate *s, unsigned need)
{
    unsigned long val = s->bitbuf;
    while (s->bitcnt < need) {
        if (s->inpos == s->inlen) {
            s->bad = 1;
            return 0;
        }
        val |= (unsigned long)s->in[s->inpos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    s->bitbuf = (unsigned)(val >> need);
    s->bitcnt -= need;
    return (unsigned)(val & ((1UL << need) - 1));
}

enum { MAXBITS = 15, MAXLCODES = 286, MAXDCODES = 30, FIXLCODES = 288 };

/* A canonical Huffman code: how many codes of each length, and the symbols in code order. */
struct huffman {
    short count[MAXBITS + 1];
    short symbol[FIXLCODES];
};

/* Builds a code from the code length of each symbol. Returns 0, or -1 when the lengths
 * over-subscribe the code space. An incomplete code is allowed (deflate uses one for a single
 * distance code). */
static int build(struct huffman *h, const short *length, int n)
{
    short offs[MAXBITS + 1];
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++)
        h->count[length[i]]++;
    if (h->count[0] == n)
        return 0;
    int left = 1;
    for (int len = 1; len <= MAXBITS; len++) {
        left <<= 1;
        left -= h->count[len];
        if (left < 0)
            return -1;
    }
    offs[1] = 0;
    for (int len = 1; len < MAXBITS; len++)
        offs[len + 1] = (short)(offs[len] + h->count[len]);
    for (int i = 0; i < n; i++)
        if (length[i] != 0)
            h->symbol[offs[length[i]]++] = (short)i;
    return 0;
}

/* Decodes one symbol, a bit at a time: slow, but short and obviously right. */
static int decode(struct inflate *s, const struct huffman *h)
{
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAXBITS; len++) {
        code |= (int)bits(s, 1);
        if (s->bad)
            return -1;
        int count = h->count[len];
        if (code - count < first)
            return h->symbol[index + (code - first)];
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    return -1;
}

static int put(struct inflate *s, unsigned char c)
{
    if (s->outlen == s->outcap) {
        s->bad = 1;
        return -1;
    }
    s->out[s->outlen++] = c;
    return 0;
}

/* Decodes one compressed block's symbols until the end-of-block code. */
static int codes(struct inflate *s, const struct huffman *lencode, const struct huffman *distcode)
{
    static const short lbase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const short lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const short dbase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                    33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static const short dext[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                   6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (;;) {
        int sym = decode(s, lencode);
        if (sym < 0)
            return -1;
        if (sym < 256) {
            if (put(s, (unsigned char)sym) < 0)
                return -1;
        } else if (sym == 256) {
            return 0;
        } else {
            sym -= 257;
            if (sym >= 29)
                return -1;
            size_t len = (size_t)lbase[sym] + bits(s, (unsigned)lext[sym]);
            int d = decode(s, distcode);
            if (d < 0 || d >= 30)
                return -1;
            size_t dist = (size_t)dbase[d] + bits(s, (unsigned)dext[d]);
            if (s->bad || dist > s->outlen)
                return -1;
            while (len--)
                if (put(s, s->out[s->outlen - dist]) < 0)
                    return -1;
        }
    }
}

/* A stored block: its length, the length's complement, then raw bytes. */
static int stored(struct inflate *s)
{
    s->bitbuf = 0;
    s->bitcnt = 0;
    if (s->inlen - s->inpos < 4)
        return -1;
    unsigned len = s->in[s->inpos] | (unsigned)s->in[s->inpos + 1] << 8;
    unsigned nlen = s->in[s->inpos + 2] | (unsigned)s->in[s->inpos + 3] << 8;
    s->inpos += 4;
    if (len != (~nlen & 0xffff) || s->inlen - s->inpos < len)
        return -1;
    while (len--)
        if (put(s, s->in[s->inpos++]) < 0)
            return -1;
    return 0;
}

/* A block with the fixed codes of RFC 1951 section 3.2.6. They are rebuilt for every block,
 * which costs microseconds and keeps the decoder free of static state. */
static int fixed(struct inflate *s)
{
    struct huffman lencode, distcode;
    short lengths[FIXLCODES];
    int i;
    for (i = 0; i < 144; i++)
        lengths[i] = 8;
    for (; i < 256; i++)
        lengths[i] = 9;
    for (; i < 280; i++)
        lengths[i] = 7;
    for (; i < FIXLCODES; i++)
        lengths[i] = 8;
    build(&lencode, lengths, FIXLCODES);
    for (i = 0; i < MAXDCODES; i++)
        lengths[i] = 5;
    build(&distcode, lengths, MAXDCODES);
    return codes(s, &lencode, &distcode);
}

/* A block that carries its own codes, themselves Huffman-coded. */
static int dynamic(struct inflate *s)
{
    static const short order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                    11, 4,  12, 3, 13, 2, 14, 1, 15};
    short lengths[MAXLCODES + MAXDCODES];
    struct huffman lencode, distcode;
    int nlen = (int)bits(s, 5) + 257, ndist = (int)bits(s, 5) + 1, ncode = (int)bits(s, 4) + 4;
    if (s->bad || nlen > MAXLCODES || ndist > MAXDCODES)
        return -1;
    int i;
    for (i = 0; i < ncode; i++)
        lengths[order[i]] = (short)bits(s, 3);
    for (; i < 19; i++)
        lengths[order[i]] = 0;
    if (s->bad || build(&lencode, lengths, 19) < 0)
        return -1;
    for (i = 0; i < nlen + ndist;) {
        int sym = decode(s, &lencode);
        if (sym < 0)
            return -1;
        if (sym < 16) {
            lengths[i++] = (short)sym;
            continue;
        }
        short len = 0;
        int rep;
        if (sym == 16) {
            if (i == 0)
                return -1;
            len = lengths[i - 1];
            rep = 3 + (int)bits(s, 2);
        } else if (sym == 17) {
            rep = 3 + (int)bits(s, 3);
        } else {
            rep = 11 + (int)bits(s, 7);
        }
        if (i + rep > nlen + ndist)
            return -1;
        while (rep--)
            lengths[i++] = len;
    }
    if (lengths[256] == 0)
        return -1;
    if (build(&lencode, lengths, nlen) < 0 || build(&distcode, lengths + nlen, ndist) < 0)
        return -1;
    return codes(s, &lencode, &distcode);
}

/* Inflates a zlib stream (2-byte header, deflate blocks) into out[0..cap). Returns the number
 * of bytes produced, or -1. */
static long zlib_inflate(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap)
{
    if (inlen < 2 || (in[0] & 0x0f) != 8 || ((in[0] << 8) | in[1]) % 31 != 0 || (in[1] & 0x20))
        return -1;
    struct inflate s = {.in = in, .inlen = inlen, .inpos = 2, .out = out, .outcap = cap};
    int last;
    do {
        last = (int)bits(&s, 1);
        unsigned type = bits(&s, 2);
        if (s.bad)
            return -1;
        int rc = type == 0 ? stored(&s) : type == 1 ? fixed(&s) : type == 2 ? dynamic(&s) : -1;
        if (rc < 0 || s.bad)
            return -1;
    } while (!last);
    return (long)s.outlen;
}

/* ===================================================================== PNG ================= */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return a;
    return pb <= pc ? b : c;
}

int tk_png_decode(const unsigned char *png, size_t len, struct tk_image *img, char *err,
                  size_t errlen)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memset(img, 0, sizeof *img);
    if (len < 8 || memcmp(png, sig, 8) != 0) {
        snprintf(err, errlen, "not a PNG file");
        return -1;
    }
    unsigned w = 0, h = 0, channels = 0;
    unsigned char *idat = NULL, *raw = NULL;
    size_t idat_len = 0;
    int rc = -1;
    for (size_t pos = 8; pos + 12 <= len;) {
        uint32_t n = be32(png + pos);
        const unsigned char *type = png + pos + 4, *data = png + pos + 8;
        if (n > len - pos - 12) {
            snprintf(err, errlen, "chunk runs past the end of the file");
            goto out;
        }
        if (memcmp(type, "IHDR", 4) == 0) {
            if (n != 13) {
                snprintf(err, errlen, "bad IHDR");
                goto out;
            }
            w = be32(data);
            h = be32(data + 4);
            unsigned depth = data[8], color = data[9], interlace = data[12];
            channels = color == 0 ? 1 : color == 2 ? 3 : color == 4 ? 2 : color == 6 ? 4 : 0;
            if (depth != 8 || channels == 0 || interlace != 0 || w == 0 || h == 0 || w > 16384 ||
                h > 16384) {
                snprintf(err, errlen,
                         "unsupported PNG: %ux%u, depth %u, colour type %u, interlace %u", w, h,
                         depth, color, interlace);
                goto out;
            }
        } else if (memcmp(type, "IDAT", 4) == 0) {
            unsigned char *p = realloc(idat, idat_len + n);
            if (p == NULL) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            idat = p;
            memcpy(idat + idat_len, data, n);
            idat_len += n;
        } else if (memcmp(type, "IEND", 4) == 0) {
            break;
        }
        pos += 12 + (size_t)n;
    }
    if (channels == 0 || idat == NULL) {
        snprintf(err, errlen, "no IHDR or no IDAT chunk");
        goto out;
    }
    size_t stride = (size_t)w * channels, want = (size_t)h * (stride + 1);
    raw = malloc(want);
    img->rgba = malloc((size_t)w * h * 4);
    if (raw == NULL || img->rgba == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    long got = zlib_inflate(idat, idat_len, raw, want);
    if (got != (long)want) {
        snprintf(err, errlen, "image data does not inflate to %zu bytes", want);
        goto out;
    }
    /* Undo the row filters in place: each row starts with its filter type. */
    for (unsigned y = 0; y < h; y++) {
        unsigned char *row = raw + (size_t)y * (stride + 1) + 1;
        const unsigned char *up = y > 0 ? row - (stride + 1) : NULL;
        unsigned filter = row[-1];
        for (size_t x = 0; x < stride; x++) {
            int a = x >= channels ? row[x - channels] : 0, b = up ? up[x] : 0;
            int c = (up && x >= channels) ? up[x - channels] : 0, add;
            switch (filter) {
            case 0:
                add = 0;
                break;
            case 1:
                add = a;
                break;
            case 2:
                add = b;
                break;
            case 3:
                add = (a + b) / 2;
                break;
            case 4:
                add = paeth(a, b, c);
                break;
            default:
                snprintf(err, errlen, "bad filter type %u in row %u", filter, y);
                goto out;
            }
            row[x] = (unsigned char)(row[x] + add);
        }
        for (unsigned x = 0; x < w; x++) {
            const unsigned char *p = row + (size_t)x * channels;
            unsigned char *q = img->rgba + ((size_t)y * w + x) * 4;
            if (channels <= 2) {
                q[0] = q[1] = q[2] = p[0];
                q[3] = channels == 2 ? p[1] : 255;
            } else {
                q[0] = p[0];
                q[1] = p[1];
                q[2] = p[2];
                q[3] = channels == 4 ? p[3] : 255;
            }
        }
    }
    img->width = w;
    img->height = h;
    rc = 0;
out:
    free(idat);
    free(raw);
    if (rc < 0)
        tk_image_free(img);
    return rc;
}

int tk_png_read(const char *path, struct tk_image *img, char *err, size_t errlen)
{
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s", path);
        return -1;
    }
    unsigned char *data = NULL;
    size_t len = 0, cap = 0, n;
    unsigned char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            unsigned char *p = realloc(data, cap);
            if (p == NULL) {
                free(data);
                fclose(f);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            data = p;
        }
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(f);
    int rc = tk_png_decode(data ? data : (const unsigned char *)"", len, img, err, errlen);
    free(data);
    return rc;
}

void tk_image_free(struct tk_image *img)
{
    free(img->rgba);
    img->rgba = NULL;
    img->width = img->height = 0;
}
