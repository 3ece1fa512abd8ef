/*
 * fuzz_bencode.c - bencode_decode() on arbitrary bytes.
 *
 * Beyond "no crash", the decoder promises things a fuzzer can check on every input:
 *   - every value's byte span lies inside the input, and a container's children lie inside it,
 *     one after the other;
 *   - strict mode accepts only canonical bencode, so writing the decoded tree back out with the
 *     checked writer must give the input again, byte for byte (decode -> encode -> same bytes);
 *   - with BENCODE_ALLOW_TRAILING, the consumed prefix must decode on its own to the same tree.
 */
#include "fuzz.h"

#include "bencode.h"

#include <string.h>

/* Checks v's span and, recursively, its children's spans against [lo, hi) of the input. */
static void check_spans(const struct bencode_value *v, const uint8_t *data, size_t lo, size_t hi,
                        int strict)
{
    FUZZ_CHECK(lo <= v->start && v->start < v->end && v->end <= hi);
    switch (v->type) {
    case BENCODE_INT:
        FUZZ_CHECK(data[v->start] == 'i' && data[v->end - 1] == 'e');
        break;
    case BENCODE_STR:
        /* The string's bytes are the tail of its span, after "len:". */
        FUZZ_CHECK(v->s + v->len == data + v->end);
        FUZZ_CHECK(v->s > data + v->start && v->s[-1] == ':');
        break;
    case BENCODE_LIST:
    case BENCODE_DICT: {
        size_t n = v->type == BENCODE_DICT ? 2 * v->count : v->count;
        size_t pos = v->start + 1; /* after the 'l' or 'd' */
        for (size_t i = 0; i < n; i++) {
            const struct bencode_value *c = &v->items[i];
            FUZZ_CHECK(c->start == pos); /* children follow each other with no gap */
            check_spans(c, data, v->start + 1, v->end - 1, strict);
            pos = c->end;
        }
        FUZZ_CHECK(pos == v->end - 1 && data[pos] == 'e');
        if (v->type == BENCODE_DICT) {
            for (size_t k = 0; k < v->count; k++) {
                const struct bencode_value *key = &v->items[2 * k];
                FUZZ_CHECK(key->type == BENCODE_STR);
                /* Strict mode: keys strictly increasing as raw bytes, so no duplicates. */
                if (strict && k > 0) {
                    const struct bencode_value *prev = &v->items[2 * k - 2];
                    size_t m = prev->len < key->len ? prev->len : key->len;
                    int c = m > 0 ? memcmp(prev->s, key->s, m) : 0;
                    FUZZ_CHECK(c < 0 || (c == 0 && prev->len < key->len));
                }
            }
        }
        break;
    }
    }
}

/* Writes v back out with the checked writer. */
static void encode(struct benc_buf *b, const struct bencode_value *v)
{
    switch (v->type) {
    case BENCODE_INT:
        benc_put_int(b, v->i);
        break;
    case BENCODE_STR:
        benc_put_str(b, v->s, v->len);
        break;
    case BENCODE_LIST:
        benc_list_begin(b);
        for (size_t i = 0; i < v->count; i++)
            encode(b, &v->items[i]);
        benc_end(b);
        break;
    case BENCODE_DICT:
        benc_dict_begin(b);
        for (size_t i = 0; i < 2 * v->count; i++)
            encode(b, &v->items[i]);
        benc_end(b);
        break;
    }
}

int fuzz_target_bencode(const uint8_t *data, size_t size)
{
    struct bencode_doc doc;
    struct bencode_error err;

    /* Strict: canonical input only, so it must survive a round trip unchanged. */
    if (bencode_decode(&doc, data, size, 0, &err) == 0) {
        FUZZ_CHECK(doc.root != NULL && doc.consumed == size);
        FUZZ_CHECK(doc.root->start == 0 && doc.root->end == size);
        FUZZ_CHECK(doc.node_count <= size / 2 + 1); /* the memory bound bencode.h promises */
        check_spans(doc.root, data, 0, size, 1);

        struct benc_buf b;
        char msg[128];
        benc_buf_init(&b);
        encode(&b, doc.root);
        FUZZ_CHECK(benc_buf_finish(&b, msg, sizeof msg) == 0);
        FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0);
        benc_buf_free(&b);
        bencode_doc_free(&doc);
    } else {
        FUZZ_CHECK(err.code != BENCODE_OK && err.offset <= size);
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
    }

    /* Lenient, as metainfo and tracker replies use it: the first value, keys in any order. */
    const unsigned lenient = BENCODE_LENIENT_ORDER | BENCODE_ALLOW_TRAILING;
    if (bencode_decode(&doc, data, size, lenient, &err) == 0) {
        FUZZ_CHECK(doc.consumed > 0 && doc.consumed <= size);
        FUZZ_CHECK(doc.root->start == 0 && doc.root->end == doc.consumed);
        check_spans(doc.root, data, 0, doc.consumed, 0);

        /* The consumed prefix alone is a complete document with the same number of values. */
        struct bencode_doc again;
        FUZZ_CHECK(bencode_decode(&again, data, doc.consumed, BENCODE_LENIENT_ORDER, &err) == 0);
        FUZZ_CHECK(again.node_count == doc.node_count);
        bencode_doc_free(&again);
        bencode_doc_free(&doc);
    }
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_bencode(data, size);
}
#endif
