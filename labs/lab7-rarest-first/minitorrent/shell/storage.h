/*
 * storage.h - a torrent's bytes on disk: one byte stream cut across one or more files.
 *
 * Peers talk about pieces and blocks; the disk holds files. The storage opens every file of the
 * torrent under a download directory and uses the layout (core/layout.c) to turn "bytes
 * [off, off+len) of the torrent" into reads and writes of the right stretches of the right files.
 * pread and pwrite take the offset with them, so many peer threads can use the same descriptors
 * at once without a lock.
 */
#ifndef STORAGE_H
#define STORAGE_H

#include "layout.h"
#include "metainfo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct storage {
    const struct metainfo *mi;
    struct layout layout;
    int *fds; /* one per file of the torrent, -1 for zero-length files */
    size_t nfds;
    bool writable;
    bool fresh; /* every file was created empty just now: there is nothing to check */
};

/* Opens the torrent's files under dir: dir/NAME for a single-file torrent, dir/NAME/PATH... for
 * a multi-file one. With create, missing directories and files are created and every file is set
 * to its length (existing data is kept, for resuming); without it, every file must exist with
 * the right size and is opened read-only (seeding). Returns 0, or -1 with a message in err. */
int storage_open(struct storage *st, const struct metainfo *mi, const char *dir, bool create,
                 char *err, size_t errlen);

void storage_close(struct storage *st);

/* Reads or writes len bytes at offset off of the torrent. Return 0, or -1 with errno set. */
int storage_read(struct storage *st, uint64_t off, void *buf, size_t len);
int storage_write(struct storage *st, uint64_t off, const void *buf, size_t len);

/* Reads piece index and compares its SHA-1 with the torrent's. buf must hold piece_length bytes.
 * Returns 1 when it matches, 0 when it does not, -1 on a read error. */
int storage_verify_piece(struct storage *st, uint32_t index, unsigned char *buf);

#endif
