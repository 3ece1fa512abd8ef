/*
 * metainfo.c - parse, validate and write .torrent files (see metainfo.h).
 *
 * Parsing happens in two layers: bencode_decode() checks the syntax and gives a tree whose
 * strings point into the input; this file walks the tree, checks every field's type and meaning,
 * and copies what it keeps into struct metainfo. Error messages name the field with a path such as
 * "info.files[3].path[1]", so whoever made a bad torrent can find the problem.
 */
#include "metainfo.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================================== */
/* Small helpers                                                                         */
/* ===================================================================================== */

/* Formats an error message into err (when there is one); always returns -1. */
static int merr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int merr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copies len bytes into a new NUL-terminated string; NULL when out of memory. */
static char *dup_bytes(const unsigned char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p != NULL) {
        if (len > 0)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* Names a bencode type with its article, for messages: "an integer", "a list". */
static const char *a_type(enum bencode_type t)
{
    switch (t) {
    case BENCODE_INT:
        return "an integer";
    case BENCODE_STR:
        return "a string";
    case BENCODE_LIST:
        return "a list";
    case BENCODE_DICT:
        return "a dictionary";
    }
    return "?";
}

/* Looks up key in dict and checks its type. Returns 1 when found (with *out set), 0 when absent,
 * -1 with a message when present with another type. where names dict, e.g. "info". */
static int field(const struct bencode_value *dict, const char *key, enum bencode_type type,
                 const char *where, const struct bencode_value **out, char *err, size_t errlen)
{
    const struct bencode_value *v = bencode_dict_get(dict, key);
    *out = v;
    if (v == NULL)
        return 0;
    if (v->type != type)
        return merr(err, errlen, "%s%s%s is %s, expected %s", where, *where ? "." : "", key,
                    a_type(v->type), a_type(type));
    return 1;
}

/* Like field(), but a missing key is an error too. */
static int required(const struct bencode_value *dict, const char *key, enum bencode_type type,
                    const char *where, const struct bencode_value **out, char *err, size_t errlen)
{
    int rc = field(dict, key, type, where, out, err, errlen);
    if (rc == 0)
        return merr(err, errlen, "%s%s\"%s\" is missing", where, *where ? ": " : "", key);
    return rc;
}

void metainfo_hash_hex(const unsigned char hash[SHA1_DIGEST_LEN], char out[41])
{
    static const char hex[] = "0123456789abcdef";
    for (int k = 0; k < SHA1_DIGEST_LEN; k++) {
        out[2 * k] = hex[hash[k] >> 4];
        out[2 * k + 1] = hex[hash[k] & 15];
    }
    out[40] = '\0';
}

int metainfo_check_component(const unsigned char *s, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return merr(err, errlen, "empty path component");
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return merr(err, errlen, "\"%.*s\" is not allowed as a path component", (int)len,
                    (const char *)s);
    if (memchr(s, '/', len) != NULL)
        return merr(err, errlen, "path component contains '/'");
    if (memchr(s, '\0', len) != NULL)
        return merr(err, errlen, "path component contains a NUL byte");
    /* A real client on Windows would also refuse '\\', ':' and names such as "CON"; on POSIX
     * systems these are ordinary bytes. */
    return 0;
}

/* ===================================================================================== */
/* init / free                                                                           */
/* ===================================================================================== */

void metainfo_init(struct metainfo *m)
{
    memset(m, 0, sizeof *m);
}

void metainfo_free(struct metainfo *m)
{
    free(m->announce);
    for (size_t t = 0; t < m->tier_count; t++) {
        for (size_t u = 0; u < m->tiers[t].count; u++)
            free(m->tiers[t].urls[u]);
        free(m->tiers[t].urls);
    }
    free(m->tiers);
    free(m->name);
    free(m->pieces);
    for (size_t f = 0; f < m->file_count; f++) {
        for (size_t c = 0; c < m->files[f].path_len; c++)
            free(m->files[f].path[c]);
        free(m->files[f].path);
        free(m->files[f].path_str);
    }
    free(m->files);
    metainfo_init(m);
}

const unsigned char *metainfo_piece_hash(const struct metainfo *m, uint32_t i)
{
    return m->pieces + (size_t)i * SHA1_DIGEST_LEN;
}

/* ===================================================================================== */
/* Trackers                                                                              */
/* ===================================================================================== */

/* Copies a tracker URL after checking it holds no NUL byte (it will become a C string). */
static char *copy_url(const struct bencode_value *v, const char *where, char *err, size_t errlen)
{
    if (memchr(v->s, '\0', v->len) != NULL) {
        merr(err, errlen, "%s contains a NUL byte", where);
        return NULL;
    }
    char *s = dup_bytes(v->s, v->len);
    if (s == NULL)
        merr(err, errlen, "out of memory");
    return s;
}

/* Reads "announce" and the optional BEP 12 "announce-list". */
static int parse_trackers(struct metainfo *m, const struct bencode_value *root, char *err,
                          size_t errlen)
{
    const struct bencode_value *v;
    if (field(root, "announce", BENCODE_STR, "", &v, err, errlen) < 0)
        return -1;
    /* An empty announce appears in some trackerless torrents; treat it as absent. */
    if (v != NULL && v->len > 0 && (m->announce = copy_url(v, "announce", err, errlen)) == NULL)
        return -1;

    int found = field(root, "announce-list", BENCODE_LIST, "", &v, err, errlen);
    if (found <= 0)
        return found; /* absent (0) or of the wrong type (-1) */
    m->tiers = calloc(v->count > 0 ? v->count : 1, sizeof *m->tiers);
    if (m->tiers == NULL)
        return merr(err, errlen, "out of memory");
    size_t total = 0;
    for (size_t t = 0; t < v->count; t++) {
        const struct bencode_value *tier = &v->items[t];
        if (tier->type != BENCODE_LIST)
            return merr(err, errlen, "announce-list[%zu] is %s, expected a list", t,
                        a_type(tier->type));
        if (tier->count == 0)
            continue; /* an empty tier says nothing; skip it */
        total += tier->count;
        if (total > METAINFO_MAX_TRACKERS)
            return merr(err, errlen, "announce-list has more than %d URLs", METAINFO_MAX_TRACKERS);
        struct metainfo_tier *mt = &m->tiers[m->tier_count++];
        mt->urls = calloc(tier->count, sizeof *mt->urls);
        if (mt->urls == NULL)
            return merr(err, errlen, "out of memory");
        for (size_t u = 0; u < tier->count; u++) {
            char where[64];
            snprintf(where, sizeof where, "announce-list[%zu][%zu]", t, u);
            const struct bencode_value *url = &tier->items[u];
            if (url->type != BENCODE_STR)
                return merr(err, errlen, "%s is %s, expected a string", where, a_type(url->type));
            if ((mt->urls[mt->count] = copy_url(url, where, err, errlen)) == NULL)
                return -1;
            mt->count++;
        }
    }
    return 0;
}

/* ===================================================================================== */
/* Files                                                                                 */
/* ===================================================================================== */

/* Fills one file entry from its components (bencode strings), joining them with '/'. */
static int set_path(struct metainfo_file *f, const struct bencode_value *comps, size_t n, char *err,
                    size_t errlen)
{
    size_t joined = n - 1; /* the slashes */
    for (size_t c = 0; c < n; c++)
        joined += comps[c].len;
    if (joined > METAINFO_MAX_PATH)
        return merr(err, errlen, "path longer than %d bytes", METAINFO_MAX_PATH);
    f->path = calloc(n, sizeof *f->path);
    f->path_str = malloc(joined + 1);
    if (f->path == NULL || f->path_str == NULL)
        return merr(err, errlen, "out of memory");
    size_t at = 0;
    for (size_t c = 0; c < n; c++) {
        if ((f->path[c] = dup_bytes(comps[c].s, comps[c].len)) == NULL)
            return merr(err, errlen, "out of memory");
        f->path_len = c + 1;
        if (c > 0)
            f->path_str[at++] = '/';
        memcpy(f->path_str + at, comps[c].s, comps[c].len);
        at += comps[c].len;
    }
    f->path_str[at] = '\0';
    return 0;
}

/* Reads one entry of info.files: {length, path}. */
static int parse_file(struct metainfo_file *f, const struct bencode_value *d, size_t i, char *err,
                      size_t errlen)
{
    char where[48], why[96];
    snprintf(where, sizeof where, "info.files[%zu]", i);
    if (d->type != BENCODE_DICT)
        return merr(err, errlen, "%s is %s, expected a dictionary", where, a_type(d->type));
    const struct bencode_value *len, *path;
    if (required(d, "length", BENCODE_INT, where, &len, err, errlen) < 0 ||
        required(d, "path", BENCODE_LIST, where, &path, err, errlen) < 0)
        return -1;
    if (len->i < 0)
        return merr(err, errlen, "%s.length is negative", where);
    if ((uint64_t)len->i > METAINFO_MAX_TOTAL)
        return merr(err, errlen, "%s.length is too large", where);
    f->length = (uint64_t)len->i;
    if (path->count == 0)
        return merr(err, errlen, "%s.path is empty", where);
    if (path->count > METAINFO_MAX_DEPTH)
        return merr(err, errlen, "%s.path has more than %d components", where, METAINFO_MAX_DEPTH);
    for (size_t c = 0; c < path->count; c++) {
        const struct bencode_value *comp = &path->items[c];
        if (comp->type != BENCODE_STR)
            return merr(err, errlen, "%s.path[%zu] is %s, expected a string", where, c,
                        a_type(comp->type));
        if (metainfo_check_component(comp->s, comp->len, why, sizeof why) < 0)
            return merr(err, errlen, "%s.path[%zu]: %s", where, c, why);
    }
    if (set_path(f, path->items, path->count, why, sizeof why) < 0)
        return merr(err, errlen, "%s.path: %s", where, why);
    return 0;
}

static int file_ptr_cmp(const void *a, const void *b)
{
    const struct metainfo_file *x = *(const struct metainfo_file *const *)a;
    const struct metainfo_file *y = *(const struct metainfo_file *const *)b;
    return strcmp(x->path_str, y->path_str);
}

static int path_key_cmp(const void *key, const void *elem)
{
    const struct metainfo_file *y = *(const struct metainfo_file *const *)elem;
    return strcmp((const char *)key, y->path_str);
}

/* Refuses two files with the same path, and a file whose path is another file's directory
 * ("a" and "a/b"): either would make one file overwrite or block another. Sorting the paths
 * puts duplicates side by side; each directory prefix is then found by binary search. */
static int check_path_conflicts(const struct metainfo *m, char *err, size_t errlen)
{
    if (m->file_count < 2)
        return 0;
    const struct metainfo_file **v = malloc(m->file_count * sizeof *v);
    char *prefix = malloc(METAINFO_MAX_PATH + 1);
    int rc = -1;
    if (v == NULL || prefix == NULL) {
        merr(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < m->file_count; i++)
        v[i] = &m->files[i];
    qsort(v, m->file_count, sizeof *v, file_ptr_cmp);
    for (size_t i = 1; i < m->file_count; i++) {
        if (strcmp(v[i - 1]->path_str, v[i]->path_str) == 0) {
            merr(err, errlen, "info.files: two files have the path \"%.200s\"", v[i]->path_str);
            goto out;
        }
    }
    for (size_t i = 0; i < m->file_count; i++) {
        const char *s = m->files[i].path_str;
        for (const char *slash = strchr(s, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
            memcpy(prefix, s, (size_t)(slash - s));
            prefix[slash - s] = '\0';
            if (bsearch(prefix, v, m->file_count, sizeof *v, path_key_cmp) != NULL) {
                merr(err, errlen, "info.files: \"%.200s\" is both a file and a directory", prefix);
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(v);
    free(prefix);
    return rc;
}

/* Reads the file list: info.length (single-file) or info.files (multi-file). */
static int parse_file_list(struct metainfo *m, const struct bencode_value *info, char *err,
                           size_t errlen)
{
    const struct bencode_value *len, *files;
    if (field(info, "length", BENCODE_INT, "info", &len, err, errlen) < 0 ||
        field(info, "files", BENCODE_LIST, "info", &files, err, errlen) < 0)
        return -1;
    if (len != NULL && files != NULL)
        return merr(err, errlen, "info has both \"length\" and \"files\"");
    if (len == NULL && files == NULL)
        return merr(err, errlen, "info has neither \"length\" nor \"files\"");

    if (len != NULL) {
        if (len->i < 0)
            return merr(err, errlen, "info.length is negative");
        if ((uint64_t)len->i > METAINFO_MAX_TOTAL)
            return merr(err, errlen, "info.length is too large");
        m->files = calloc(1, sizeof *m->files);
        if (m->files == NULL)
            return merr(err, errlen, "out of memory");
        m->file_count = 1;
        m->files[0].length = (uint64_t)len->i;
        m->total_length = m->files[0].length;
        /* The single file is named by info.name, already checked as a path component. */
        struct bencode_value name = {.type = BENCODE_STR};
        name.s = (const unsigned char *)m->name;
        name.len = strlen(m->name);
        return set_path(&m->files[0], &name, 1, err, errlen);
    }

    m->multi_file = 1;
    if (files->count == 0)
        return merr(err, errlen, "info.files is empty");
    if (files->count > METAINFO_MAX_FILES)
        return merr(err, errlen, "info.files has more than %d files", METAINFO_MAX_FILES);
    m->files = calloc(files->count, sizeof *m->files);
    if (m->files == NULL)
        return merr(err, errlen, "out of memory");
    m->file_count = files->count;
    uint64_t offset = 0;
    for (size_t i = 0; i < files->count; i++) {
        if (parse_file(&m->files[i], &files->items[i], i, err, errlen) < 0)
            return -1;
        m->files[i].offset = offset;
        offset += m->files[i].length;
        if (offset > METAINFO_MAX_TOTAL)
            return merr(err, errlen, "info.files add up to more than %" PRIu64 " bytes",
                        (uint64_t)METAINFO_MAX_TOTAL);
    }
    m->total_length = offset;
    return check_path_conflicts(m, err, errlen);
}

/* ===================================================================================== */
/* The info dictionary and the whole file                                                */
/* ===================================================================================== */

static int parse_info(struct metainfo *m, const struct bencode_value *info, char *err,
                      size_t errlen)
{
    const struct bencode_value *name, *plen, *pieces, *priv;
    char why[96];
    if (required(info, "name", BENCODE_STR, "info", &name, err, errlen) < 0 ||
        required(info, "piece length", BENCODE_INT, "info", &plen, err, errlen) < 0 ||
        required(info, "pieces", BENCODE_STR, "info", &pieces, err, errlen) < 0 ||
        field(info, "private", BENCODE_INT, "info", &priv, err, errlen) < 0)
        return -1;

    /* The name becomes a file or directory name, so it obeys the path component rules. */
    if (metainfo_check_component(name->s, name->len, why, sizeof why) < 0)
        return merr(err, errlen, "info.name: %s", why);
    if (name->len > METAINFO_MAX_PATH)
        return merr(err, errlen, "info.name is longer than %d bytes", METAINFO_MAX_PATH);
    if ((m->name = dup_bytes(name->s, name->len)) == NULL)
        return merr(err, errlen, "out of memory");

    /* Any length in range is accepted, not only powers of two: BEP 3 does not require them. */
    if (plen->i < METAINFO_MIN_PIECE_LENGTH || plen->i > METAINFO_MAX_PIECE_LENGTH)
        return merr(err, errlen, "info.piece length %" PRId64 " is outside %u..%u", plen->i,
                    METAINFO_MIN_PIECE_LENGTH, METAINFO_MAX_PIECE_LENGTH);
    m->piece_length = (uint32_t)plen->i;

    if (pieces->len == 0 || pieces->len % SHA1_DIGEST_LEN != 0)
        return merr(err, errlen, "info.pieces is %zu bytes, not a positive multiple of 20",
                    pieces->len);
    if (pieces->len / SHA1_DIGEST_LEN > UINT32_MAX)
        return merr(err, errlen, "info.pieces holds too many hashes");
    m->piece_count = (uint32_t)(pieces->len / SHA1_DIGEST_LEN);
    if ((m->pieces = malloc(pieces->len)) == NULL)
        return merr(err, errlen, "out of memory");
    memcpy(m->pieces, pieces->s, pieces->len);

    /* BEP 27 defines only private=1; anything else means a public torrent. */
    m->is_private = priv != NULL && priv->i == 1;

    if (parse_file_list(m, info, err, errlen) < 0)
        return -1;
    if (m->total_length == 0)
        return merr(err, errlen, "the torrent's total length is 0");

    /* Every piece is piece_length bytes except the last, so the count is the ceiling. */
    uint64_t want = (m->total_length + m->piece_length - 1) / m->piece_length;
    if (want != m->piece_count)
        return merr(err, errlen,
                    "info.pieces holds %" PRIu32 " hashes, but %" PRIu64
                    " bytes in pieces of %" PRIu32 " need %" PRIu64,
                    m->piece_count, m->total_length, m->piece_length, want);
    return 0;
}

int metainfo_parse(struct metainfo *m, const unsigned char *buf, size_t len, char *err,
                   size_t errlen)
{
    struct bencode_doc doc;
    struct bencode_error be;
    int rc = -1;
    metainfo_init(m);
    if (bencode_decode(&doc, buf, len, BENCODE_LENIENT_ORDER, &be) < 0)
        return merr(err, errlen, "not a valid bencoded file: %s", be.msg);

    const struct bencode_value *root = doc.root, *info;
    if (root->type != BENCODE_DICT) {
        merr(err, errlen, "the file holds %s, expected a dictionary", a_type(root->type));
        goto out;
    }
    if (parse_trackers(m, root, err, errlen) < 0)
        goto out;
    if (required(root, "info", BENCODE_DICT, "", &info, err, errlen) < 0)
        goto out;
    /* The info hash: SHA-1 over the info dictionary's exact bytes in the file. */
    sha1(buf + info->start, info->end - info->start, m->info_hash);
    if (parse_info(m, info, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    bencode_doc_free(&doc);
    if (rc < 0)
        metainfo_free(m);
    return rc;
}

/* ===================================================================================== */
/* Writing                                                                               */
/* ===================================================================================== */

/* Writes the path list of one file: l<component>...e. */
static void put_path(struct benc_buf *b, const struct metainfo_spec_file *f)
{
    benc_list_begin(b);
    for (size_t c = 0; c < f->path_len; c++)
        benc_put_cstr(b, f->path[c] != NULL ? f->path[c] : "");
    benc_end(b);
}

int metainfo_encode(const struct metainfo_spec *spec, struct benc_buf *out, char *err,
                    size_t errlen)
{
    if (spec->name == NULL || spec->files == NULL || spec->file_count == 0 || spec->pieces == NULL)
        return merr(err, errlen, "the spec needs a name, files and piece hashes");
    if (!spec->multi_file && spec->file_count != 1)
        return merr(err, errlen, "a single-file torrent has exactly one file");

    if (spec->creation_date < 0)
        return merr(err, errlen, "the creation date cannot be negative");
    for (size_t t = 0; t < spec->tier_count; t++)
        if (spec->tiers[t].count == 0 || spec->tiers[t].urls == NULL)
            return merr(err, errlen, "announce-list tier %zu is empty", t);

    /* Keys are written in sorted order; benc_buf checks it, so a slip fails loudly. */
    benc_dict_begin(out);
    if (spec->announce != NULL) {
        benc_put_cstr(out, "announce");
        benc_put_cstr(out, spec->announce);
    }
    if (spec->tier_count > 0) {
        benc_put_cstr(out, "announce-list");
        benc_list_begin(out);
        for (size_t t = 0; t < spec->tier_count; t++) {
            benc_list_begin(out);
            for (size_t u = 0; u < spec->tiers[t].count; u++)
                benc_put_cstr(out, spec->tiers[t].urls[u]);
            benc_end(out);
        }
        benc_end(out);
    }
    if (spec->created_by != NULL) {
        benc_put_cstr(out, "created by");
        benc_put_cstr(out, spec->created_by);
    }
    if (spec->creation_date > 0) {
        benc_put_cstr(out, "creation date");
        benc_put_int(out, spec->creation_date);
    }
    benc_put_cstr(out, "info");
    benc_dict_begin(out);
    if (spec->multi_file) {
        benc_put_cstr(out, "files");
        benc_list_begin(out);
        for (size_t i = 0; i < spec->file_count; i++) {
            benc_dict_begin(out);
            benc_put_cstr(out, "length");
            benc_put_int(out, (int64_t)spec->files[i].length);
            benc_put_cstr(out, "path");
            put_path(out, &spec->files[i]);
            benc_end(out);
        }
        benc_end(out);
    } else {
        benc_put_cstr(out, "length");
        benc_put_int(out, (int64_t)spec->files[0].length);
    }
    benc_put_cstr(out, "name");
    benc_put_cstr(out, spec->name);
    benc_put_cstr(out, "piece length");
    benc_put_int(out, spec->piece_length);
    benc_put_cstr(out, "pieces");
    benc_put_str(out, spec->pieces, (size_t)spec->piece_count * SHA1_DIGEST_LEN);
    if (spec->is_private) {
        benc_put_cstr(out, "private");
        benc_put_int(out, 1);
    }
    benc_end(out);
    benc_end(out);

    char why[160];
    if (benc_buf_finish(out, why, sizeof why) < 0)
        return merr(err, errlen, "cannot encode: %s", why);

    /* Check the result by the reader's rules, so the writer can never produce a torrent that
     * metainfo_parse() (or another client) would refuse. Hashing the small info dict again is
     * cheap next to hashing the pieces. */
    struct metainfo check;
    if (metainfo_parse(&check, out->data, out->len, why, sizeof why) < 0)
        return merr(err, errlen, "invalid torrent: %s", why);
    metainfo_free(&check);
    return 0;
}
