/*
 * bencode.c - a strict, zero-copy bencode decoder and a checked bencode writer (see bencode.h).
 *
 * The decoder runs the same recursive-descent parser twice over the input:
 *
 *   pass 1 validates everything and counts the values, allocating nothing;
 *   pass 2 allocates exactly that many nodes and fills them in.
 *
 * Two passes sound wasteful, but they buy two things students can check by reading: memory is
 * exactly one node per value (never a guess that grows with realloc and moves pointers), and all
 * the error handling lives in one place. The parse is linear, so the second pass costs as much as
 * the first, and both are far cheaper than hashing the pieces the torrent describes.
 *
 * Children of a list or dict must end up next to each other so the caller can index items[k].
 * Pass 2 pushes each finished value onto a scratch stack; when a container closes, its children
 * are the top entries of that stack, and they move as one block into the final array.
 */
#include "bencode.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================================== */
/* Decoder                                                                               */
/* ===================================================================================== */

struct parser {
    const unsigned char *buf;
    size_t len, pos;
    unsigned flags;
    struct bencode_error *err;
    int build;                 /* 0 in pass 1 (count only), 1 in pass 2 (fill nodes) */
    size_t count;              /* values seen so far */
    struct bencode_value *out; /* pass 2: final node array, exactly count long */
    size_t out_len;
    struct bencode_value *scratch; /* pass 2: finished values whose parent is still open */
    size_t scratch_len;
};

/* Records the first error with its offset and a printf-style explanation; always returns -1. */
static int fail(struct parser *p, enum bencode_error_code code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct parser *p, enum bencode_error_code code, size_t offset, const char *fmt, ...)
{
    if (p->err != NULL) {
        char why[96];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        p->err->code = code;
        p->err->offset = offset;
        snprintf(p->err->msg, sizeof p->err->msg, "offset %zu: %s", offset, why);
    }
    return -1;
}

/* Describes one input byte for an error message: 'x' when printable, 0xNN otherwise. */
static const char *show_byte(unsigned char c, char out[8])
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, 8, "'%c'", c);
    else
        snprintf(out, 8, "0x%02x", c);
    return out;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Compares two byte strings as BEP 3 sorts keys: raw bytes, and a prefix comes first. */
static int key_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n > 0 ? memcmp(a, b, n) : 0; /* memcmp may not see a NULL pointer, even for 0 bytes */
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* Adds a finished value: pass 1 only counts it, pass 2 pushes it onto the scratch stack. */
static void emit(struct parser *p, const struct bencode_value *v)
{
    p->count++;
    if (p->build)
        p->scratch[p->scratch_len++] = *v;
}

/* Parses "i<digits>e" at p->pos. */
static int parse_int(struct parser *p)
{
    size_t start = p->pos++; /* skip 'i' */
    int neg = 0;
    if (p->pos < p->len && p->buf[p->pos] == '-') {
        neg = 1;
        p->pos++;
    }
    size_t digits = p->pos;
    /* A negative number may reach 2^63 in magnitude, a positive one only 2^63 - 1. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t mag = 0;
    while (p->pos < p->len && is_digit(p->buf[p->pos])) {
        unsigned d = p->buf[p->pos] - '0';
        if (mag > (limit - d) / 10)
            return fail(p, BENCODE_E_INT_RANGE, start, "integer does not fit in 64 bits");
        mag = mag * 10 + d;
        p->pos++;
    }
    if (p->pos >= p->len)
        return fail(p, BENCODE_E_EOF, start, "unterminated integer");
    if (p->buf[p->pos] != 'e') {
        char b[8];
        return fail(p, BENCODE_E_BAD_INT, p->pos, "unexpected %s in integer",
                    show_byte(p->buf[p->pos], b));
    }
    if (p->pos == digits)
        return fail(p, BENCODE_E_BAD_INT, start, "integer without digits");
    if (p->buf[digits] == '0' && p->pos - digits > 1)
        return fail(p, BENCODE_E_BAD_INT, start, "leading zero in integer");
    if (neg && mag == 0)
        return fail(p, BENCODE_E_BAD_INT, start, "negative zero \"i-0e\" is not allowed");
    p->pos++; /* skip 'e' */

    struct bencode_value v = {.type = BENCODE_INT, .start = start, .end = p->pos};
    /* Negate in unsigned arithmetic so -2^63 does not overflow. */
    v.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    emit(p, &v);
    return 0;
}

/* Parses "<length>:<bytes>" at p->pos; also hands back where the bytes are, for dict keys. */
static int parse_str(struct parser *p, const unsigned char **sp, size_t *lenp)
{
    size_t start = p->pos;
    size_t n = 0;
    while (p->pos < p->len && is_digit(p->buf[p->pos])) {
        n = n * 10 + (size_t)(p->buf[p->pos] - '0');
        /* Stop as soon as the length exceeds the whole input: that also rules out overflow. */
        if (n > p->len)
            return fail(p, BENCODE_E_LEN_RANGE, start, "string length exceeds the input");
        p->pos++;
    }
    if (p->pos >= p->len)
        return fail(p, BENCODE_E_EOF, start, "input ended inside a string length");
    if (p->buf[p->pos] != ':') {
        char b[8];
        return fail(p, BENCODE_E_BAD_LEN, p->pos, "expected ':' after string length, got %s",
                    show_byte(p->buf[p->pos], b));
    }
    if (p->buf[start] == '0' && p->pos - start > 1)
        return fail(p, BENCODE_E_BAD_LEN, start, "leading zero in string length");
    p->pos++; /* skip ':' */
    if (n > p->len - p->pos)
        return fail(p, BENCODE_E_LEN_RANGE, start,
                    "string of %zu bytes runs past the end of the input (%zu left)", n,
                    p->len - p->pos);

    struct bencode_value v = {.type = BENCODE_STR, .start = start, .end = p->pos + n};
    v.s = p->buf + p->pos;
    v.len = n;
    *sp = v.s;
    *lenp = n;
    p->pos += n;
    emit(p, &v);
    return 0;
}

/* qsort comparator over pointers to key nodes, for the duplicate check of unsorted dicts. */
static int key_ptr_cmp(const void *a, const void *b)
{
    const struct bencode_value *x = *(const struct bencode_value *const *)a;
    const struct bencode_value *y = *(const struct bencode_value *const *)b;
    return key_cmp(x->s, x->len, y->s, y->len);
}

/* Finds a duplicate among the pairs of an unsorted dict (pass 2 only) by sorting its keys. */
static int check_dup_keys(struct parser *p, const struct bencode_value *pairs, size_t npairs)
{
    const struct bencode_value **keys = malloc(npairs * sizeof *keys);
    if (keys == NULL)
        return fail(p, BENCODE_E_NOMEM, pairs[0].start, "out of memory");
    for (size_t k = 0; k < npairs; k++)
        keys[k] = &pairs[2 * k];
    qsort(keys, npairs, sizeof *keys, key_ptr_cmp);
    int rc = 0;
    for (size_t k = 1; k < npairs; k++) {
        if (key_cmp(keys[k - 1]->s, keys[k - 1]->len, keys[k]->s, keys[k]->len) == 0) {
            /* qsort is not stable: report whichever copy comes later in the input. */
            const struct bencode_value *dup =
                keys[k]->start > keys[k - 1]->start ? keys[k] : keys[k - 1];
            rc = fail(p, BENCODE_E_KEY_DUP, dup->start, "duplicate dictionary key \"%.*s\"",
                      (int)(dup->len > 40 ? 40 : dup->len), (const char *)dup->s);
            break;
        }
    }
    free(keys);
    return rc;
}

static int parse_value(struct parser *p, int depth);

/* Parses "l...e" or "d...e" at p->pos; depth is the nesting level of this container. */
static int parse_container(struct parser *p, int depth)
{
    size_t start = p->pos;
    int is_dict = p->buf[p->pos] == 'd';
    if (depth > BENCODE_MAX_DEPTH)
        return fail(p, BENCODE_E_DEPTH, start, "nesting deeper than %d levels", BENCODE_MAX_DEPTH);
    p->pos++; /* skip 'l' or 'd' */

    size_t base = p->scratch_len; /* pass 2: our children start here on the scratch stack */
    size_t n = 0;                 /* children (list) or pairs (dict) */
    const unsigned char *prev = NULL;
    size_t prev_len = 0;
    int unsorted = 0;

    for (;;) {
        if (p->pos >= p->len)
            return fail(p, BENCODE_E_EOF, start, "unterminated %s",
                        is_dict ? "dictionary" : "list");
        if (p->buf[p->pos] == 'e')
            break;
        if (is_dict) {
            size_t kpos = p->pos;
            if (!is_digit(p->buf[kpos]))
                return fail(p, BENCODE_E_KEY_TYPE, kpos, "dictionary key is not a byte string");
            const unsigned char *key;
            size_t klen;
            if (parse_str(p, &key, &klen) < 0)
                return -1;
            if (prev != NULL) {
                int c = key_cmp(prev, prev_len, key, klen);
                if (c == 0)
                    return fail(p, BENCODE_E_KEY_DUP, kpos, "duplicate dictionary key \"%.*s\"",
                                (int)(klen > 40 ? 40 : klen), (const char *)key);
                if (c > 0) {
                    if (!(p->flags & BENCODE_LENIENT_ORDER))
                        return fail(p, BENCODE_E_KEY_ORDER, kpos,
                                    "dictionary key \"%.*s\" is out of order",
                                    (int)(klen > 40 ? 40 : klen), (const char *)key);
                    unsorted = 1;
                }
            }
            prev = key;
            prev_len = klen;
            if (p->pos >= p->len)
                return fail(p, BENCODE_E_EOF, kpos, "dictionary key without a value");
            if (p->buf[p->pos] == 'e')
                return fail(p, BENCODE_E_EOF, kpos, "dictionary key without a value");
        }
        if (parse_value(p, depth + 1) < 0)
            return -1;
        n++;
    }
    p->pos++; /* skip 'e' */

    struct bencode_value v = {
        .type = is_dict ? BENCODE_DICT : BENCODE_LIST, .start = start, .end = p->pos};
    v.count = n;
    v.items = NULL;
    if (p->build) {
        /* Move our children from the scratch stack into the final array as one block. */
        size_t nchild = p->scratch_len - base;
        if (nchild > 0) {
            v.items = p->out + p->out_len;
            memcpy(v.items, p->scratch + base, nchild * sizeof *v.items);
            p->out_len += nchild;
        }
        p->scratch_len = base;
        if (unsorted && check_dup_keys(p, v.items, n) < 0)
            return -1;
    }
    emit(p, &v);
    return 0;
}

/* Parses any value at p->pos, dispatching on its first byte. */
static int parse_value(struct parser *p, int depth)
{
    if (p->pos >= p->len)
        return fail(p, BENCODE_E_EOF, p->pos, "input ended where a value was expected");
    unsigned char c = p->buf[p->pos];
    if (c == 'i')
        return parse_int(p);
    if (is_digit(c)) {
        const unsigned char *s;
        size_t n;
        return parse_str(p, &s, &n);
    }
    if (c == 'l' || c == 'd')
        return parse_container(p, depth);
    char b[8];
    return fail(p, BENCODE_E_BAD_CHAR, p->pos, "%s cannot start a value", show_byte(c, b));
}

/* Runs one pass over the whole input, including the check for trailing bytes. */
static int run_pass(struct parser *p)
{
    p->pos = 0;
    p->count = 0;
    if (p->len == 0)
        return fail(p, BENCODE_E_EMPTY, 0, "empty input");
    if (parse_value(p, 1) < 0)
        return -1;
    if (p->pos != p->len && !(p->flags & BENCODE_ALLOW_TRAILING))
        return fail(p, BENCODE_E_TRAILING, p->pos, "%zu unexpected bytes after the value",
                    p->len - p->pos);
    return 0;
}

int bencode_decode(struct bencode_doc *doc, const unsigned char *buf, size_t len, unsigned flags,
                   struct bencode_error *err)
{
    struct parser p = {.buf = buf, .len = len, .flags = flags, .err = err};
    int rc = -1;
    memset(doc, 0, sizeof *doc);
    if (err != NULL) {
        err->code = BENCODE_OK;
        err->offset = 0;
        err->msg[0] = '\0';
    }
    if (buf == NULL && len > 0) {
        fail(&p, BENCODE_E_EMPTY, 0, "no buffer");
        goto out;
    }

    /* Pass 1: validate and count. */
    if (run_pass(&p) < 0)
        goto out;
    size_t total = p.count;

    /* Pass 2: one node per value, plus a scratch stack that never holds more than that. */
    p.out = malloc(total * sizeof *p.out);
    p.scratch = malloc(total * sizeof *p.scratch);
    if (p.out == NULL || p.scratch == NULL) {
        fail(&p, BENCODE_E_NOMEM, 0, "out of memory for %zu values", total);
        goto out;
    }
    p.build = 1;
    if (run_pass(&p) < 0)
        goto out;
    /* The top-level value is the one entry left on the scratch stack; it goes last. */
    p.out[p.out_len] = p.scratch[0];
    doc->root = &p.out[p.out_len];
    doc->nodes = p.out;
    doc->node_count = total;
    doc->consumed = p.pos;
    p.out = NULL; /* now owned by doc */
    rc = 0;
out:
    free(p.out);
    free(p.scratch);
    return rc;
}

void bencode_doc_free(struct bencode_doc *doc)
{
    free(doc->nodes);
    memset(doc, 0, sizeof *doc);
}

/* ===================================================================================== */
/* Lookups                                                                               */
/* ===================================================================================== */

const struct bencode_value *bencode_dict_get(const struct bencode_value *dict, const char *key)
{
    if (dict == NULL || dict->type != BENCODE_DICT)
        return NULL;
    size_t klen = strlen(key);
    /* A linear scan: dictionaries in torrents have a handful of keys, and it works for lenient
     * (unsorted) dictionaries too. A binary search would need the sorted guarantee. */
    for (size_t k = 0; k < dict->count; k++) {
        const struct bencode_value *kv = &dict->items[2 * k];
        if (kv->len == klen && memcmp(kv->s, key, klen) == 0)
            return &dict->items[2 * k + 1];
    }
    return NULL;
}

/* Returns the value for key only when it has the given type. */
static const struct bencode_value *get_typed(const struct bencode_value *dict, const char *key,
                                             enum bencode_type t)
{
    const struct bencode_value *v = bencode_dict_get(dict, key);
    return v != NULL && v->type == t ? v : NULL;
}

const struct bencode_value *bencode_dict_get_int(const struct bencode_value *dict, const char *key)
{
    return get_typed(dict, key, BENCODE_INT);
}

const struct bencode_value *bencode_dict_get_str(const struct bencode_value *dict, const char *key)
{
    return get_typed(dict, key, BENCODE_STR);
}

const struct bencode_value *bencode_dict_get_list(const struct bencode_value *dict, const char *key)
{
    return get_typed(dict, key, BENCODE_LIST);
}

const struct bencode_value *bencode_dict_get_dict(const struct bencode_value *dict, const char *key)
{
    return get_typed(dict, key, BENCODE_DICT);
}

int bencode_str_eq(const struct bencode_value *v, const char *s)
{
    size_t n = strlen(s);
    return v != NULL && v->type == BENCODE_STR && v->len == n && memcmp(v->s, s, n) == 0;
}

const char *bencode_type_name(enum bencode_type t)
{
    switch (t) {
    case BENCODE_INT:
        return "integer";
    case BENCODE_STR:
        return "string";
    case BENCODE_LIST:
        return "list";
    case BENCODE_DICT:
        return "dictionary";
    }
    return "?";
}

/* ===================================================================================== */
/* Writer                                                                                */
/* ===================================================================================== */

void benc_buf_init(struct benc_buf *b)
{
    memset(b, 0, sizeof *b);
}

void benc_buf_free(struct benc_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Marks the buffer failed with a message (only the first one is kept); returns -1. */
static int wfail(struct benc_buf *b, const char *msg)
{
    if (!b->failed) {
        b->failed = 1;
        snprintf(b->err, sizeof b->err, "%s", msg);
    }
    return -1;
}

/* Makes room for n more bytes, doubling the capacity so appends cost O(1) amortised. */
static int reserve(struct benc_buf *b, size_t n)
{
    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 2 - b->len)
        return wfail(b, "output too large");
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n)
        cap *= 2;
    unsigned char *d = realloc(b->data, cap);
    if (d == NULL)
        return wfail(b, "out of memory");
    b->data = d;
    b->cap = cap;
    return 0;
}

static int append(struct benc_buf *b, const void *p, size_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* Checks that a value may start here; is_key_ok says whether it could serve as a dict key. */
static int before_value(struct benc_buf *b, int is_key_ok)
{
    if (b->failed)
        return -1;
    if (b->depth == 0) {
        if (b->top_done)
            return wfail(b, "a second top-level value");
        return 0;
    }
    struct benc_frame *f = &b->stack[b->depth - 1];
    if (f->is_dict && !f->want_value && !is_key_ok)
        return wfail(b, "dictionary key must be a byte string");
    return 0;
}

/* Updates the key/value state after a complete value was written. */
static void after_value(struct benc_buf *b)
{
    if (b->depth == 0) {
        b->top_done = 1;
        return;
    }
    struct benc_frame *f = &b->stack[b->depth - 1];
    if (f->is_dict)
        f->want_value = !f->want_value;
}

int benc_put_int(struct benc_buf *b, int64_t v)
{
    if (before_value(b, 0) < 0)
        return -1;
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "i%" PRId64 "e", v);
    if (append(b, tmp, (size_t)n) < 0)
        return -1;
    after_value(b);
    return 0;
}

int benc_put_str(struct benc_buf *b, const void *p, size_t n)
{
    if (before_value(b, 1) < 0)
        return -1;
    struct benc_frame *f = b->depth > 0 ? &b->stack[b->depth - 1] : NULL;
    int is_key = f != NULL && f->is_dict && !f->want_value;
    if (is_key && f->has_key && key_cmp(b->data + f->last_key, f->last_len, p, n) >= 0)
        return wfail(b, "dictionary keys must be written in increasing byte order");
    char tmp[32];
    int hn = snprintf(tmp, sizeof tmp, "%zu:", n);
    if (append(b, tmp, (size_t)hn) < 0 || append(b, p, n) < 0)
        return -1;
    if (is_key) {
        f->has_key = 1;
        f->last_key = b->len - n;
        f->last_len = n;
    }
    after_value(b);
    return 0;
}

int benc_put_cstr(struct benc_buf *b, const char *s)
{
    return benc_put_str(b, s, strlen(s));
}

/* Opens a list or a dict. */
static int begin(struct benc_buf *b, int is_dict)
{
    if (before_value(b, 0) < 0)
        return -1;
    if (b->depth >= BENCODE_MAX_DEPTH)
        return wfail(b, "nesting too deep");
    if (append(b, is_dict ? "d" : "l", 1) < 0)
        return -1;
    struct benc_frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->is_dict = is_dict;
    return 0;
}

int benc_list_begin(struct benc_buf *b)
{
    return begin(b, 0);
}

int benc_dict_begin(struct benc_buf *b)
{
    return begin(b, 1);
}

int benc_end(struct benc_buf *b)
{
    if (b->failed)
        return -1;
    if (b->depth == 0)
        return wfail(b, "benc_end without an open list or dictionary");
    if (b->stack[b->depth - 1].want_value)
        return wfail(b, "dictionary key without a value");
    if (append(b, "e", 1) < 0)
        return -1;
    b->depth--;
    after_value(b);
    return 0;
}

int benc_put_raw(struct benc_buf *b, const void *p, size_t n)
{
    if (before_value(b, 0) < 0)
        return -1;
    if (n == 0)
        return wfail(b, "empty raw value");
    if (append(b, p, n) < 0)
        return -1;
    after_value(b);
    return 0;
}

int benc_buf_finish(struct benc_buf *b, char *err, size_t errlen)
{
    if (!b->failed && b->depth > 0)
        wfail(b, "a list or dictionary was left open");
    if (!b->failed && !b->top_done)
        wfail(b, "nothing was written");
    if (b->failed) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s", b->err);
        return -1;
    }
    return 0;
}
