/*
 * bencode.h - BitTorrent's serialisation format (BEP 3): a strict decoder and a checked writer.
 *
 * Bencode has four kinds of value:
 *
 *   integer      i42e  i-7e  i0e            (no leading zeros, no "-0", no "ie")
 *   byte string  4:spam  0:                 (length in decimal, a colon, then the raw bytes)
 *   list         l4:spami42ee               (values between "l" and "e")
 *   dictionary   d3:bar4:spam3:fooi42ee     (string keys, sorted as raw bytes, no duplicates)
 *
 * DECODER. bencode_decode() parses a whole buffer into a tree of struct bencode_value. Nothing is
 * copied: a byte string points INTO the caller's buffer, so the buffer must outlive the tree. Every
 * value also records its byte span [start, end) in the input, because BitTorrent's info hash is the
 * SHA-1 of the "info" dictionary's exact bytes. Memory is bounded by the input: every value takes
 * at least two input bytes, so a buffer of n bytes never yields more than n/2 + 1 values, and the
 * nesting depth is capped at BENCODE_MAX_DEPTH so a hostile "llll..." cannot exhaust the stack.
 *
 * Strictness: the decoder rejects every non-canonical form (leading zeros, "-0", trailing bytes,
 * non-string or duplicate keys...). Unsorted dictionary keys are an error too, unless the caller
 * passes BENCODE_LENIENT_ORDER: some old torrent makers wrote keys out of order, and since the info
 * hash is taken over the raw bytes, accepting them changes nothing else. Duplicates stay an error
 * in both modes, because a duplicate key makes the meaning of a dictionary ambiguous.
 *
 * WRITER. struct benc_buf is a growable byte buffer with append functions for each kind of value.
 * It CHECKS what it writes: inside a dictionary it requires a string key before every value and
 * keys in strictly increasing byte order, so it cannot produce a dictionary another client would
 * reject. The first mistake (or a failed allocation) makes the buffer "failed": later calls do
 * nothing, and benc_buf_finish() reports the first error. Callers may therefore write a whole
 * structure and check once at the end.
 */
#ifndef BENCODE_H
#define BENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Deepest nesting the decoder and the writer accept; real torrents use about 4 levels. */
#define BENCODE_MAX_DEPTH 64

/* Flags for bencode_decode(). */
#define BENCODE_LENIENT_ORDER 1u /* accept dictionary keys out of order (duplicates still fail) */
#define BENCODE_ALLOW_TRAILING                                                                     \
    2u /* stop after the first value instead of failing on more bytes                              \
        */

enum bencode_type { BENCODE_INT, BENCODE_STR, BENCODE_LIST, BENCODE_DICT };

/* One decoded value. Which fields mean something depends on type. */
struct bencode_value {
    enum bencode_type type;
    size_t start, end; /* the value's bytes are buf[start .. end) in the input */
    union {
        int64_t i; /* BENCODE_INT */
        struct {   /* BENCODE_STR: len bytes at s, inside the input, NOT NUL-terminated */
            const unsigned char *s;
            size_t len;
        };
        struct { /* BENCODE_LIST: count values; BENCODE_DICT: count pairs, items[2k] is the key
                    (a string) and items[2k + 1] its value */
            struct bencode_value *items;
            size_t count;
        };
    };
};

/* Why decoding failed. */
enum bencode_error_code {
    BENCODE_OK = 0,
    BENCODE_E_EMPTY,     /* no input at all */
    BENCODE_E_EOF,       /* input ended inside a value */
    BENCODE_E_BAD_CHAR,  /* a byte that cannot start a value */
    BENCODE_E_BAD_INT,   /* malformed integer: empty, leading zero, "-0", non-digit */
    BENCODE_E_INT_RANGE, /* integer outside int64_t */
    BENCODE_E_BAD_LEN,   /* malformed string length: leading zero, sign, no colon */
    BENCODE_E_LEN_RANGE, /* string length beyond the end of the input */
    BENCODE_E_DEPTH,     /* nesting deeper than BENCODE_MAX_DEPTH */
    BENCODE_E_KEY_TYPE,  /* dictionary key that is not a byte string */
    BENCODE_E_KEY_ORDER, /* dictionary keys not in increasing order */
    BENCODE_E_KEY_DUP,   /* the same key twice in one dictionary */
    BENCODE_E_TRAILING,  /* bytes after the value */
    BENCODE_E_NOMEM,     /* allocation failed */
};

/* Where and why decoding failed: msg reads like "offset 3: leading zero in integer". */
struct bencode_error {
    enum bencode_error_code code;
    size_t offset; /* byte offset in the input where the problem was found */
    char msg[128];
};

/* A decoded document: owns the value array; the strings still live in the caller's buffer. */
struct bencode_doc {
    struct bencode_value *root;  /* the top-level value, or NULL before a successful decode */
    struct bencode_value *nodes; /* every value, in one allocation */
    size_t node_count;
    size_t consumed; /* bytes the top-level value took (== len unless BENCODE_ALLOW_TRAILING) */
};

/* Decodes buf[0..len) into doc. Returns 0, or -1 with err filled (err may be NULL). On failure doc
 * holds nothing and needs no free; on success release it with bencode_doc_free(). */
int bencode_decode(struct bencode_doc *doc, const unsigned char *buf, size_t len, unsigned flags,
                   struct bencode_error *err);

/* Frees what bencode_decode() allocated and empties doc. Safe on a zeroed or freed doc. */
void bencode_doc_free(struct bencode_doc *doc);

/* Looks up key in a dictionary; NULL when dict is not a dictionary or has no such key. */
const struct bencode_value *bencode_dict_get(const struct bencode_value *dict, const char *key);

/* Typed lookups: return the value when present AND of the wanted type, otherwise NULL. */
const struct bencode_value *bencode_dict_get_int(const struct bencode_value *dict, const char *key);
const struct bencode_value *bencode_dict_get_str(const struct bencode_value *dict, const char *key);
const struct bencode_value *bencode_dict_get_list(const struct bencode_value *dict,
                                                  const char *key);
const struct bencode_value *bencode_dict_get_dict(const struct bencode_value *dict,
                                                  const char *key);

/* Returns 1 when v is a byte string equal to the C string s, else 0. */
int bencode_str_eq(const struct bencode_value *v, const char *s);

/* Returns a short name for a type ("integer", "string", "list", "dictionary") for messages. */
const char *bencode_type_name(enum bencode_type t);

/* ---- writer ------------------------------------------------------------------------------- */

struct benc_frame {
    int is_dict;     /* 1 inside "d...e", 0 inside "l...e" */
    int want_value;  /* in a dict: 1 after a key, until its value is written */
    int has_key;     /* in a dict: 1 once a key was written, so last_key_* mean something */
    size_t last_key; /* offset in data of the previous key's bytes */
    size_t last_len; /* and its length */
};

struct benc_buf {
    unsigned char *data; /* the bytes written so far (not NUL-terminated) */
    size_t len, cap;
    int failed;   /* sticky: once set, every call is a no-op */
    char err[96]; /* the first error, when failed */
    int depth;    /* open lists and dicts */
    int top_done; /* a complete top-level value was written */
    struct benc_frame stack[BENCODE_MAX_DEPTH];
};

void benc_buf_init(struct benc_buf *b);
void benc_buf_free(struct benc_buf *b);

/* Each append returns 0, or -1 when the buffer is (now) failed. */
int benc_put_int(struct benc_buf *b, int64_t v);
int benc_put_str(struct benc_buf *b, const void *p, size_t n);
int benc_put_cstr(struct benc_buf *b, const char *s); /* a NUL-terminated string, e.g. a key */
int benc_list_begin(struct benc_buf *b);
int benc_dict_begin(struct benc_buf *b);
int benc_end(struct benc_buf *b); /* closes the innermost open list or dict */

/* Appends an already-encoded value verbatim (e.g. an info dict kept as raw bytes). The writer
 * trusts it to be exactly one valid value; it is counted as one value for the key/value rules. */
int benc_put_raw(struct benc_buf *b, const void *p, size_t n);

/* Checks that exactly one complete value was written with nothing left open. Returns 0, or -1
 * with a message copied to err (when err is not NULL). */
int benc_buf_finish(struct benc_buf *b, char *err, size_t errlen);

#endif
