/*
 * storage.h - a torrent's bytes on disk: one byte stream cut across one or more files.
 *
 * Peers talk about pieces and blocks; the disk holds files. The storage finds every file of the
 * torrent under a download directory and uses the layout (core/layout.c) to turn "bytes
 * [off, off+len) of the torrent" into reads and writes of the right stretches of the right files.
 *
 * Descriptors: a torrent may hold thousands of files, and a process may open only so many
 * (`ulimit -n`, often 1024). So the storage keeps at most STORAGE_OPEN_MAX files open at once, in
 * a small cache that closes the least recently used one to open another. pread and pwrite take
 * the offset with them, so many peer threads share one descriptor without a lock around the I/O;
 * the cache's lock is held only to find or open a descriptor, and a descriptor in use is never
 * closed under its user.
 *
 * Safety when downloading (a writable storage):
 *   - nothing existing is shrunk or overwritten before it is checked: a file LARGER than the
 *     torrent says is refused with a message (its extra bytes are not the torrent's, and cutting
 *     them off would destroy somebody's data); a shorter one is only extended, and its pieces are
 *     hash-checked before the download writes anything;
 *   - symbolic links are never followed below the download folder: every folder on a file's path
 *     and the file itself are opened with O_NOFOLLOW, one component at a time (openat), so a link
 *     planted at a torrent's path cannot make the download write outside the folder.
 * A seed (read-only storage) follows links as the user set them up: it only reads, and serves
 * only what matches the torrent's hashes.
 */
#ifndef STORAGE_H
#define STORAGE_H

#include "layout.h"
#include "metainfo.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most files a storage keeps open at once. A few are enough: peers mostly fetch nearby
 * pieces, and a cache miss costs one open() of a file whose folders are already in the kernel's
 * cache. (A real client makes this a setting, often a few hundred.) */
enum { STORAGE_OPEN_MAX = 8 };

/* One open descriptor of the cache. */
struct storage_slot {
    int fd;            /* -1: empty */
    size_t file;       /* which file of the torrent it is */
    unsigned users;    /* threads doing I/O on it now: it is not closed while this is > 0 */
    uint64_t last_use; /* the cache's clock at its latest use: the smallest is evicted first */
};

struct storage {
    const struct metainfo *mi;
    struct layout layout;
    int dir_fd;    /* the download folder, opened once; every file is found from it */
    char *dir;     /* its name, for messages */
    bool writable; /* opened for downloading: files open read-write, links are not followed */
    bool fresh;    /* every file was created empty just now: there is nothing to check */
    bool have_lock;
    pthread_mutex_t lock; /* guards the slots and the counters below */
    pthread_cond_t freed; /* signalled when a slot's users drop to 0 */
    struct storage_slot slots[STORAGE_OPEN_MAX];
    uint64_t clock;      /* counts uses, for least-recently-used */
    uint64_t opens;      /* files opened by the cache so far (for tests and curiosity) */
    unsigned open_count; /* descriptors the cache holds now */
};

/* Opens the torrent's files under dir: dir/NAME for a single-file torrent, dir/NAME/PATH... for
 * a multi-file one. With create (downloading), missing folders and files are created and shorter
 * files extended to their length (existing data is kept, for resuming), after checking that no
 * existing file is larger than the torrent says and that no link lies on the way; without it
 * (seeding), every file must exist with the right size. Returns 0, or -1 with a message in err;
 * a refusal happens before anything is created. */
int storage_open(struct storage *st, const struct metainfo *mi, const char *dir, bool create,
                 char *err, size_t errlen);

void storage_close(struct storage *st);

/* Reads or writes len bytes at offset off of the torrent. Return 0, or -1 with errno set. Safe to
 * call from many threads at once. */
int storage_read(struct storage *st, uint64_t off, void *buf, size_t len);
int storage_write(struct storage *st, uint64_t off, const void *buf, size_t len);

/* Reads piece index and compares its SHA-1 with the torrent's. buf must hold piece_length bytes.
 * Returns 1 when it matches, 0 when it does not, -1 on a read error. */
int storage_verify_piece(struct storage *st, uint32_t index, unsigned char *buf);

/* Compares the SHA-1 of the bytes of piece index, already in memory (data, as long as the piece),
 * with the torrent's. Returns 1 when it matches, 0 when it does not. */
int storage_piece_matches(const struct storage *st, uint32_t index, const unsigned char *data);

#endif
