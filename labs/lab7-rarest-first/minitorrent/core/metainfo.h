/*
 * metainfo.h - .torrent files (BEP 3): parse and validate them, compute the info hash, and write
 * new ones.
 *
 * A .torrent is one bencoded dictionary:
 *
 *   announce       the tracker's URL
 *   announce-list  (BEP 12, optional) tiers of tracker URLs: a list of lists of strings
 *   info           what is shared, and the only part the info hash covers:
 *     name           the file's name (single-file) or the top directory's name (multi-file)
 *     piece length   bytes per piece; the last piece may be shorter
 *     pieces         the SHA-1 of every piece, 20 bytes each, concatenated
 *     length         single-file mode: the file's size
 *     files          multi-file mode: a list of {length, path: [dir, ..., filename]}
 *     private        (BEP 27, optional) 1: use only the trackers, no DHT or peer exchange
 *
 * The info hash names the torrent everywhere (tracker requests, the peer handshake). It is the
 * SHA-1 of the info dictionary's bytes EXACTLY as they appear in the file, which is why the
 * bencode decoder records every value's byte span: re-encoding could change the bytes (a torrent
 * with keys out of order, say) and so the hash.
 *
 * Because file names come from strangers, every path component is checked: a torrent must never
 * make the client write outside its download directory ("..", "/etc/passwd", "a/../../b").
 */
#ifndef METAINFO_H
#define METAINFO_H

#include <stddef.h>
#include <stdint.h>

#include "bencode.h"
#include "sha1.h"

/* Limits. Pieces smaller than a block or larger than 16 MiB are refused; the caps on files and
 * paths keep a hostile torrent from making the client allocate without bound. */
#define METAINFO_MIN_PIECE_LENGTH (16u * 1024)
#define METAINFO_MAX_PIECE_LENGTH (16u * 1024 * 1024)
#define METAINFO_MAX_FILES 100000
#define METAINFO_MAX_PATH 4096                 /* bytes in a file's joined relative path */
#define METAINFO_MAX_DEPTH 32                  /* components in one file's path */
#define METAINFO_MAX_TRACKERS 256              /* URLs in announce-list, all tiers together */
#define METAINFO_MAX_TOTAL (UINT64_C(1) << 50) /* 1 PiB, far above any real torrent */

struct metainfo_file {
    char **path;     /* path components, NUL-terminated; single-file mode: { name } */
    size_t path_len; /* number of components */
    char *path_str;  /* the components joined with '/', relative to the torrent's root */
    uint64_t length; /* bytes, may be 0 */
    uint64_t offset; /* where the file starts in the torrent's byte stream */
};

struct metainfo_tier {
    char **urls;
    size_t count;
};

struct metainfo {
    char *announce;              /* NULL when the torrent has none */
    struct metainfo_tier *tiers; /* announce-list, or NULL */
    size_t tier_count;
    char *name;
    uint32_t piece_length;
    uint32_t piece_count;
    unsigned char *pieces; /* piece_count * 20 bytes */
    uint64_t total_length;
    struct metainfo_file *files; /* single-file mode has exactly one */
    size_t file_count;
    int multi_file; /* 1 when the info dict had "files" */
    int is_private; /* BEP 27: private == 1 */
    unsigned char info_hash[SHA1_DIGEST_LEN];
};

/* Empties m so metainfo_free() is safe on it. */
void metainfo_init(struct metainfo *m);

/* Parses and validates a .torrent held in buf[0..len). Returns 0, or -1 with a message such as
 * "info.files[2].path[0]: \"..\" is not allowed" in err (err may be NULL). Everything m points to
 * is copied, so buf may be freed afterwards. On failure m is left empty. Dictionary keys out of
 * order are accepted (old torrent makers wrote them); everything else is checked strictly. */
int metainfo_parse(struct metainfo *m, const unsigned char *buf, size_t len, char *err,
                   size_t errlen);

/* Frees everything metainfo_parse() allocated and empties m. */
void metainfo_free(struct metainfo *m);

/* Returns the 20-byte expected hash of piece i (i < piece_count). */
const unsigned char *metainfo_piece_hash(const struct metainfo *m, uint32_t i);

/* Writes a 20-byte hash as 40 lowercase hex digits and a NUL. */
void metainfo_hash_hex(const unsigned char hash[SHA1_DIGEST_LEN], char out[41]);

/* Checks one path component (or the torrent's name): not empty, not "." or "..", no '/' or NUL.
 * Returns 0, or -1 with the reason in err. */
int metainfo_check_component(const unsigned char *s, size_t len, char *err, size_t errlen);

/* ---- writing a new .torrent ----------------------------------------------------------------- */

struct metainfo_spec_file {
    const char *const *path; /* components, e.g. {"docs", "readme.txt"} */
    size_t path_len;
    uint64_t length;
};

/* One BEP 12 tier: URLs a client tries in turn (after shuffling them) before the next tier. */
struct metainfo_spec_tier {
    const char *const *urls;
    size_t count;
};

struct metainfo_spec {
    const char *announce; /* tracker URL, or NULL */
    const char *name;
    uint32_t piece_length;
    int multi_file; /* 0: one file, files[0].length is its size and its path is unused */
    const struct metainfo_spec_file *files;
    size_t file_count;
    const unsigned char *pieces; /* piece hashes, computed by the caller (hashing is I/O) */
    uint32_t piece_count;
    int is_private;

    /* Optional fields outside the info dict, so they never change the info hash. A spec that
     * leaves them zero (as designated initialisers do) writes exactly what it did before. */
    const struct metainfo_spec_tier *tiers; /* "announce-list" (BEP 12), or NULL */
    size_t tier_count;                      /* tiers; 0 writes no announce-list */
    const char *created_by;                 /* "created by", e.g. "minitorrent 0.1.0", or NULL */
    int64_t creation_date;                  /* "creation date" in Unix seconds; 0 omits it */
};

/* Writes the .torrent described by spec into out (an initialised benc_buf; the bytes are in
 * out->data, out->len) with every dictionary's keys sorted. The spec is checked by the same rules
 * as metainfo_parse(). Returns 0, or -1 with a message in err. */
int metainfo_encode(const struct metainfo_spec *spec, struct benc_buf *out, char *err,
                    size_t errlen);

#endif
