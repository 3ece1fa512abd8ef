/*
 * fuzz_metainfo.c - metainfo_parse() on any .torrent file.
 *
 * A torrent that parses must be one the rest of the client can trust:
 *   - its name and every path component pass metainfo_check_component (no "..", no '/', no NUL),
 *     so no file lands outside the download directory; paths and counts stay within the caps;
 *   - the piece length is within its limits, there is one 20-byte hash per piece and the pieces
 *     exactly cover the total length, which is the sum of the file lengths at increasing offsets;
 *   - the info hash is the SHA-1 of the info dictionary's bytes as they appear in the file;
 *   - writing the torrent again with metainfo_encode() and parsing that gives the same torrent.
 * A torrent that fails leaves the struct empty and an error message behind.
 */
#include "fuzz.h"

#include "metainfo.h"

#include <stdlib.h>
#include <string.h>

static void check_parsed(const struct metainfo *m, const uint8_t *data, size_t size)
{
    char err[256];
    FUZZ_CHECK(m->name != NULL);
    FUZZ_CHECK(metainfo_check_component((const unsigned char *)m->name, strlen(m->name), err,
                                        sizeof err) == 0);
    FUZZ_CHECK(m->piece_length >= METAINFO_MIN_PIECE_LENGTH &&
               m->piece_length <= METAINFO_MAX_PIECE_LENGTH);
    FUZZ_CHECK(m->total_length <= METAINFO_MAX_TOTAL);
    FUZZ_CHECK(m->pieces != NULL || m->piece_count == 0);
    /* The pieces cover the bytes exactly: the last piece holds 1..piece_length of them. */
    FUZZ_CHECK((uint64_t)m->piece_count * m->piece_length >= m->total_length);
    if (m->total_length > 0)
        FUZZ_CHECK((uint64_t)(m->piece_count - 1) * m->piece_length < m->total_length);
    else
        FUZZ_CHECK(m->piece_count == 0);

    FUZZ_CHECK(m->file_count >= 1 && m->file_count <= METAINFO_MAX_FILES);
    FUZZ_CHECK(m->multi_file || m->file_count == 1);
    uint64_t offset = 0;
    for (size_t i = 0; i < m->file_count; i++) {
        const struct metainfo_file *f = &m->files[i];
        FUZZ_CHECK(f->offset == offset);
        offset += f->length;
        FUZZ_CHECK(f->path_len >= 1 && f->path_len <= METAINFO_MAX_DEPTH);
        size_t joined = 0;
        for (size_t k = 0; k < f->path_len; k++) {
            size_t len = strlen(f->path[k]);
            FUZZ_CHECK(metainfo_check_component((const unsigned char *)f->path[k], len, err,
                                                sizeof err) == 0);
            /* path_str is the components joined by '/'. */
            FUZZ_CHECK(memcmp(f->path_str + joined, f->path[k], len) == 0);
            joined += len;
            FUZZ_CHECK(f->path_str[joined] == (k + 1 < f->path_len ? '/' : '\0'));
            joined++;
        }
        FUZZ_CHECK(joined - 1 <= METAINFO_MAX_PATH);
    }
    FUZZ_CHECK(offset == m->total_length);

    size_t urls = 0;
    for (size_t t = 0; t < m->tier_count; t++)
        urls += m->tiers[t].count;
    FUZZ_CHECK(urls <= METAINFO_MAX_TRACKERS);

    /* The info hash covers the info dictionary's exact bytes. */
    struct bencode_doc doc;
    FUZZ_CHECK(bencode_decode(&doc, data, size, BENCODE_LENIENT_ORDER, NULL) == 0);
    const struct bencode_value *info = bencode_dict_get_dict(doc.root, "info");
    FUZZ_CHECK(info != NULL);
    unsigned char hash[SHA1_DIGEST_LEN];
    sha1(data + info->start, info->end - info->start, hash);
    FUZZ_CHECK(memcmp(hash, m->info_hash, SHA1_DIGEST_LEN) == 0);
    bencode_doc_free(&doc);
}

/* Writes m out again with metainfo_encode() and checks that it parses to the same torrent. */
static void check_roundtrip(const struct metainfo *m)
{
    struct metainfo_spec_file *files = calloc(m->file_count, sizeof *files);
    FUZZ_CHECK(files != NULL);
    for (size_t i = 0; i < m->file_count; i++) {
        files[i].path = (const char *const *)m->files[i].path;
        files[i].path_len = m->files[i].path_len;
        files[i].length = m->files[i].length;
    }
    struct metainfo_spec spec = {
        .announce = m->announce,
        .name = m->name,
        .piece_length = m->piece_length,
        .multi_file = m->multi_file,
        .files = files,
        .file_count = m->file_count,
        .pieces = m->pieces,
        .piece_count = m->piece_count,
        .is_private = m->is_private,
    };
    struct benc_buf b;
    char err[256];
    benc_buf_init(&b);
    FUZZ_CHECK(metainfo_encode(&spec, &b, err, sizeof err) == 0);

    struct metainfo m2;
    FUZZ_CHECK(metainfo_parse(&m2, b.data, b.len, err, sizeof err) == 0);
    FUZZ_CHECK(strcmp(m2.name, m->name) == 0);
    FUZZ_CHECK((m2.announce == NULL) == (m->announce == NULL));
    FUZZ_CHECK(m->announce == NULL || strcmp(m2.announce, m->announce) == 0);
    FUZZ_CHECK(m2.piece_length == m->piece_length && m2.piece_count == m->piece_count);
    FUZZ_CHECK(m2.piece_count == 0 ||
               memcmp(m2.pieces, m->pieces, (size_t)m->piece_count * 20) == 0);
    FUZZ_CHECK(m2.total_length == m->total_length && m2.multi_file == m->multi_file);
    FUZZ_CHECK(m2.is_private == m->is_private && m2.file_count == m->file_count);
    for (size_t i = 0; i < m->file_count; i++)
        FUZZ_CHECK(m2.files[i].length == m->files[i].length &&
                   strcmp(m2.files[i].path_str, m->files[i].path_str) == 0);
    metainfo_free(&m2);
    benc_buf_free(&b);
    free(files);
}

int fuzz_target_metainfo(const uint8_t *data, size_t size)
{
    struct metainfo m;
    char err[256];
    memset(err, 'X', sizeof err);
    if (metainfo_parse(&m, data, size, err, sizeof err) == 0) {
        check_parsed(&m, data, size);
        check_roundtrip(&m);
    } else {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        FUZZ_CHECK(m.name == NULL && m.files == NULL && m.pieces == NULL && m.tiers == NULL);
    }
    metainfo_free(&m);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_metainfo(data, size);
}
#endif
