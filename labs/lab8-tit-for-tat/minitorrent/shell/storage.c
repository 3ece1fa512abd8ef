/*
 * storage.c - files on disk behind the torrent's byte stream.
 */
#include "storage.h"
#include "sha1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates every directory on the way to path (like mkdir -p on its parent). */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(path, 0755);
        int saved = errno;
        *p = '/';
        if (r < 0 && saved != EEXIST) {
            errno = saved;
            return -1;
        }
    }
    return 0;
}

/* Builds dir/NAME or dir/NAME/PATH for file i; returns a malloc'd string or NULL. */
static char *file_path(const struct metainfo *mi, const char *dir, size_t i)
{
    const char *rel = mi->files[i].path_str;
    size_t n = strlen(dir) + strlen(mi->name) + strlen(rel) + 3;
    char *path = malloc(n);
    if (path == NULL)
        return NULL;
    if (mi->multi_file)
        snprintf(path, n, "%s/%s/%s", dir, mi->name, rel);
    else
        snprintf(path, n, "%s/%s", dir, mi->name);
    return path;
}

int storage_open(struct storage *st, const struct metainfo *mi, const char *dir, bool create,
                 char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->mi = mi;
    st->writable = create;
    st->fresh = create;
    uint64_t *lengths = malloc(mi->file_count * sizeof *lengths);
    st->fds = malloc(mi->file_count * sizeof *st->fds);
    char *path = NULL;
    if (lengths == NULL || st->fds == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < mi->file_count; i++) {
        lengths[i] = mi->files[i].length;
        st->fds[i] = -1;
    }
    st->nfds = mi->file_count;
    if (layout_init(&st->layout, mi->piece_length, lengths, mi->file_count, err, errlen) < 0)
        goto fail;

    for (size_t i = 0; i < mi->file_count; i++) {
        path = file_path(mi, dir, i);
        if (path == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        uint64_t want = mi->files[i].length;
        if (create) {
            if (make_parents(path) < 0) {
                snprintf(err, errlen, "cannot create the folders for %s: %s", path,
                         strerror(errno));
                goto fail;
            }
            int fd = open(path, O_RDWR | O_CREAT, 0644);
            struct stat sb;
            if (fd < 0 || fstat(fd, &sb) < 0) {
                snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
                if (fd >= 0)
                    close(fd);
                goto fail;
            }
            if (sb.st_size != 0)
                st->fresh = false;
            /* The file gets its final size at once (sparse where the system allows), so every
             * block can be written at its place in any order. A longer file is cut back: bytes
             * past the torrent's end are not the torrent's. */
            if ((uint64_t)sb.st_size != want && ftruncate(fd, (off_t)want) < 0) {
                snprintf(err, errlen, "cannot set the size of %s: %s", path, strerror(errno));
                close(fd);
                goto fail;
            }
            st->fds[i] = fd;
        } else {
            int fd = open(path, O_RDONLY);
            struct stat sb;
            if (fd < 0 || fstat(fd, &sb) < 0) {
                snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
                if (fd >= 0)
                    close(fd);
                goto fail;
            }
            if ((uint64_t)sb.st_size != want) {
                snprintf(err, errlen, "%s is %lld bytes; the torrent says %llu", path,
                         (long long)sb.st_size, (unsigned long long)want);
                close(fd);
                goto fail;
            }
            st->fds[i] = fd;
        }
        free(path);
        path = NULL;
    }
    free(lengths);
    return 0;
fail:
    free(path);
    free(lengths);
    storage_close(st);
    return -1;
}

void storage_close(struct storage *st)
{
    for (size_t i = 0; st->fds != NULL && i < st->nfds; i++)
        if (st->fds[i] >= 0)
            close(st->fds[i]);
    free(st->fds);
    layout_free(&st->layout);
    memset(st, 0, sizeof *st);
}

/* Reads or writes one byte range, segment by segment, looping over short transfers. */
static int transfer(struct storage *st, uint64_t off, unsigned char *buf, size_t len, bool write)
{
    struct layout_iter it;
    struct layout_segment seg;
    if (layout_iter_begin(&it, &st->layout, off, len) < 0) {
        errno = EINVAL;
        return -1;
    }
    while (layout_iter_next(&it, &seg)) {
        int fd = st->fds[seg.file];
        uint64_t done = 0;
        while (done < seg.length) {
            size_t n = (size_t)(seg.length - done);
            off_t at = (off_t)(seg.file_offset + done);
            ssize_t r = write ? pwrite(fd, buf, n, at) : pread(fd, buf, n, at);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return -1;
            if (r == 0) {
                errno = EIO; /* the file is shorter than the torrent says: changed under us */
                return -1;
            }
            done += (uint64_t)r;
            buf += r;
        }
    }
    return 0;
}

int storage_read(struct storage *st, uint64_t off, void *buf, size_t len)
{
    return transfer(st, off, buf, len, false);
}

int storage_write(struct storage *st, uint64_t off, const void *buf, size_t len)
{
    if (!st->writable) {
        errno = EBADF;
        return -1;
    }
    /* transfer() does not write through buf when writing; the cast only shares the loop. */
    return transfer(st, off, (unsigned char *)(uintptr_t)buf, len, true);
}

int storage_verify_piece(struct storage *st, uint32_t index, unsigned char *buf)
{
    uint32_t size = layout_piece_size(&st->layout, index);
    if (size == 0) {
        errno = EINVAL;
        return -1;
    }
    if (storage_read(st, layout_piece_offset(&st->layout, index), buf, size) < 0)
        return -1;
    unsigned char digest[SHA1_DIGEST_LEN];
    sha1(buf, size, digest);
    return memcmp(digest, metainfo_piece_hash(st->mi, index), SHA1_DIGEST_LEN) == 0;
}
