/*
 * storage.c - files on disk behind the torrent's byte stream (see storage.h).
 *
 * Reading order: naming a file's path (for messages), walking to a file one folder at a time
 * without following links, the checks and the creation done once at the start, then the cache of
 * open files and the reads and writes that use it.
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

/* ================================================================ a file's path */

/* Returns how many components the path of file i has under the download folder: NAME and the
 * file's own path in a multi-file torrent, NAME alone in a single-file one. */
static size_t path_count(const struct metainfo *mi, size_t i)
{
    return mi->multi_file ? 1 + mi->files[i].path_len : 1;
}

/* Returns component k of the path of file i (see path_count). */
static const char *path_part(const struct metainfo *mi, size_t i, size_t k)
{
    if (k == 0)
        return mi->name;
    return mi->files[i].path[k - 1];
}

/* Writes "DIR/NAME/a/b" for the first upto components of file i's path into out, for messages. */
static const char *path_text(const struct storage *st, size_t i, size_t upto, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s", st->dir);
    for (size_t k = 0; k < upto && n < cap; k++)
        n += (size_t)snprintf(out + n, cap - n, "/%s", path_part(st->mi, i, k));
    return out;
}

/* Describes why component k of file i could not be opened: a symbolic link where links are not
 * followed gets a message of its own, since "Too many levels of symbolic links" would puzzle. */
static void open_failed(const struct storage *st, int parent, size_t i, size_t k, int e, char *err,
                        size_t errlen)
{
    char path[1024];
    struct stat sb;
    path_text(st, i, k + 1, path, sizeof path);
    if (st->writable && fstatat(parent, path_part(st->mi, i, k), &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(sb.st_mode)) {
        snprintf(err, errlen,
                 "%s is a symbolic link: get does not follow links inside its folder, so that no "
                 "torrent can make it write elsewhere; remove the link or download to another "
                 "folder",
                 path);
        return;
    }
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
}

/* ================================================================ walking to a file */

/*
 * Opens the folder that holds file i, one component at a time from the download folder: each
 * folder is opened with openat() relative to the one before, with O_NOFOLLOW when downloading,
 * so no symbolic link on the way is followed (a path string given to open() would follow every
 * link in it). With make, missing folders are created. Returns the folder's descriptor (the
 * caller closes it unless it is st->dir_fd), -2 when a folder is missing and make is false, or -1
 * with a message.
 */
static int walk_to_folder(const struct storage *st, size_t i, bool make, char *err, size_t errlen)
{
    int nofollow = st->writable ? O_NOFOLLOW : 0;
    int dfd = st->dir_fd;
    size_t n = path_count(st->mi, i);
    for (size_t k = 0; k + 1 < n; k++) {
        const char *name = path_part(st->mi, i, k);
        int next = openat(dfd, name, O_RDONLY | O_DIRECTORY | nofollow);
        if (next < 0 && errno == ENOENT && make) {
            if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST) {
                char path[1024];
                snprintf(err, errlen, "cannot create the folder %s: %s",
                         path_text(st, i, k + 1, path, sizeof path), strerror(errno));
                goto fail;
            }
            next = openat(dfd, name, O_RDONLY | O_DIRECTORY | nofollow);
        }
        if (next < 0) {
            if (errno == ENOENT && !make) {
                if (dfd != st->dir_fd)
                    close(dfd);
                return -2;
            }
            open_failed(st, dfd, i, k, errno, err, errlen);
            goto fail;
        }
        if (dfd != st->dir_fd)
            close(dfd);
        dfd = next;
    }
    return dfd;
fail:
    if (dfd != st->dir_fd)
        close(dfd);
    return -1;
}

/* Opens file i with flags (O_RDWR, O_RDONLY, maybe O_CREAT), never following a link when
 * downloading. Returns the descriptor, or -1 with a message (errno kept). */
static int open_file(const struct storage *st, size_t i, int flags, char *err, size_t errlen)
{
    int dfd = walk_to_folder(st, i, (flags & O_CREAT) != 0, err, errlen);
    if (dfd == -2) {
        char path[1024];
        snprintf(err, errlen, "cannot open %s: a folder on its path is missing",
                 path_text(st, i, path_count(st->mi, i), path, sizeof path));
        errno = ENOENT;
        return -1;
    }
    if (dfd < 0)
        return -1;
    size_t last = path_count(st->mi, i) - 1;
    int fd = openat(dfd, path_part(st->mi, i, last), flags | (st->writable ? O_NOFOLLOW : 0), 0644);
    int saved = errno;
    if (fd < 0)
        open_failed(st, dfd, i, last, saved, err, errlen);
    if (dfd != st->dir_fd)
        close(dfd);
    errno = saved;
    return fd;
}

/* ================================================================ checks and creation */

/* Checks what already exists at file i's place before a download touches anything: a link or
 * something that is not a regular file is refused, and so is a file larger than the torrent
 * says (its extra bytes are somebody's data: cutting them off would destroy it). A missing file
 * is fine, and so is a shorter one, which is only extended and then hash-checked. Returns 0, or
 * -1 with a message. */
static int check_existing(const struct storage *st, size_t i, char *err, size_t errlen)
{
    int dfd = walk_to_folder(st, i, false, err, errlen);
    if (dfd == -2)
        return 0; /* a folder is missing, so the file is too */
    if (dfd < 0)
        return -1;
    size_t last = path_count(st->mi, i) - 1;
    struct stat sb;
    int rc = 0;
    char path[1024];
    path_text(st, i, last + 1, path, sizeof path);
    if (fstatat(dfd, path_part(st->mi, i, last), &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "cannot look at %s: %s", path, strerror(errno));
            rc = -1;
        }
    } else if (S_ISLNK(sb.st_mode)) {
        open_failed(st, dfd, i, last, ELOOP, err, errlen);
        rc = -1;
    } else if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "%s is in the way: it exists and is not a regular file", path);
        rc = -1;
    } else if ((uint64_t)sb.st_size > st->mi->files[i].length) {
        snprintf(err, errlen,
                 "%s already holds %lld bytes, more than the %llu this torrent says: it is not "
                 "this torrent's download, and get will not cut it short; move it away or delete "
                 "it, then try again",
                 path, (long long)sb.st_size, (unsigned long long)st->mi->files[i].length);
        rc = -1;
    }
    if (dfd != st->dir_fd)
        close(dfd);
    return rc;
}

/* Creates file i, or extends an existing shorter one, to its full length (sparse where the
 * system allows), so every block can be written at its place in any order. Returns 0, or -1 with
 * a message. */
static int create_file(struct storage *st, size_t i, char *err, size_t errlen)
{
    char path[1024];
    int fd = open_file(st, i, O_RDWR | O_CREAT, err, errlen);
    if (fd < 0)
        return -1;
    uint64_t want = st->mi->files[i].length;
    struct stat sb;
    int rc = 0;
    path_text(st, i, path_count(st->mi, i), path, sizeof path);
    if (fstat(fd, &sb) < 0) {
        snprintf(err, errlen, "cannot look at %s: %s", path, strerror(errno));
        rc = -1;
    } else if ((uint64_t)sb.st_size > want) {
        /* It grew since check_existing() looked: someone else is writing there. */
        snprintf(err, errlen,
                 "%s changed while get was starting: it is now larger than the "
                 "torrent says",
                 path);
        rc = -1;
    } else {
        if (sb.st_size != 0)
            st->fresh = false;
        if ((uint64_t)sb.st_size < want && ftruncate(fd, (off_t)want) < 0) {
            snprintf(err, errlen, "cannot set the size of %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    close(fd);
    return rc;
}

/* Checks that file i is there with its exact length, for seeding. Returns 0, or -1. */
static int check_for_seeding(struct storage *st, size_t i, char *err, size_t errlen)
{
    char path[1024];
    int fd = open_file(st, i, O_RDONLY, err, errlen);
    if (fd < 0)
        return -1;
    struct stat sb;
    int rc = 0;
    path_text(st, i, path_count(st->mi, i), path, sizeof path);
    if (fstat(fd, &sb) < 0) {
        snprintf(err, errlen, "cannot look at %s: %s", path, strerror(errno));
        rc = -1;
    } else if ((uint64_t)sb.st_size != st->mi->files[i].length) {
        snprintf(err, errlen, "%s is %lld bytes; the torrent says %llu", path,
                 (long long)sb.st_size, (unsigned long long)st->mi->files[i].length);
        rc = -1;
    }
    close(fd);
    return rc;
}

/* Creates every folder of path that is missing, like mkdir -p. Returns 0, or -1 with errno. */
static int make_folders(const char *dir)
{
    size_t n = strlen(dir);
    char *path = malloc(n + 2);
    if (path == NULL)
        return -1;
    memcpy(path, dir, n);
    path[n] = '/';
    path[n + 1] = '\0';
    int rc = 0;
    for (char *p = path + 1; *p != '\0' && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            rc = -1;
        *p = '/';
    }
    int saved = errno;
    free(path);
    errno = saved;
    return rc;
}

int storage_open(struct storage *st, const struct metainfo *mi, const char *dir, bool create,
                 char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->mi = mi;
    st->dir_fd = -1;
    st->writable = create;
    st->fresh = create;
    for (size_t k = 0; k < STORAGE_OPEN_MAX; k++)
        st->slots[k].fd = -1;
    int e = pthread_mutex_init(&st->lock, NULL);
    if (e == 0 && (e = pthread_cond_init(&st->freed, NULL)) != 0)
        pthread_mutex_destroy(&st->lock);
    if (e != 0) {
        snprintf(err, errlen, "cannot create the storage's lock: %s", strerror(e));
        return -1;
    }
    st->have_lock = true;

    uint64_t *lengths = malloc(mi->file_count * sizeof *lengths);
    st->dir = strdup(dir);
    if (lengths == NULL || st->dir == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < mi->file_count; i++)
        lengths[i] = mi->files[i].length;
    if (layout_init(&st->layout, mi->piece_length, lengths, mi->file_count, err, errlen) < 0)
        goto fail;

    /* The download folder itself is the user's choice, so a link there is followed. */
    if (create && make_folders(dir) < 0) {
        snprintf(err, errlen, "cannot create the folder %s: %s", dir, strerror(errno));
        goto fail;
    }
    st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (st->dir_fd < 0) {
        snprintf(err, errlen, "cannot open the folder %s: %s", dir, strerror(errno));
        goto fail;
    }

    /* Downloading: look at everything first, so that a refusal leaves the folder as it was. */
    for (size_t i = 0; create && i < mi->file_count; i++)
        if (check_existing(st, i, err, errlen) < 0)
            goto fail;
    for (size_t i = 0; i < mi->file_count; i++) {
        if ((create ? create_file(st, i, err, errlen) : check_for_seeding(st, i, err, errlen)) < 0)
            goto fail;
    }
    free(lengths);
    return 0;
fail:
    free(lengths);
    storage_close(st);
    return -1;
}

void storage_close(struct storage *st)
{
    /* A storage that storage_open() never got far with is all zeros (descriptor 0 is not ours):
     * the lock is the first thing it sets up, so without it there is nothing to close. */
    if (!st->have_lock)
        return;
    for (size_t k = 0; k < STORAGE_OPEN_MAX; k++)
        if (st->slots[k].fd >= 0)
            close(st->slots[k].fd);
    if (st->dir_fd >= 0)
        close(st->dir_fd);
    pthread_cond_destroy(&st->freed);
    pthread_mutex_destroy(&st->lock);
    free(st->dir);
    layout_free(&st->layout);
    memset(st, 0, sizeof *st);
}

/* ================================================================ the cache of open files */

/*
 * Gets a descriptor for file i and marks its slot in use; *slot says which, for slot_release().
 * A file already open is shared. Otherwise an empty slot is taken, or the least recently used
 * slot that nobody is using is closed and reused; when all of them are in use (more threads in
 * I/O than slots), the caller waits until one is released. The lock is held while opening, which
 * keeps the code simple; an open takes microseconds. Returns the descriptor, or -1 with errno.
 */
static int slot_acquire(struct storage *st, size_t i, size_t *slot)
{
    pthread_mutex_lock(&st->lock);
    struct storage_slot *victim;
    for (;;) {
        victim = NULL;
        for (size_t k = 0; k < STORAGE_OPEN_MAX; k++) {
            struct storage_slot *s = &st->slots[k];
            if (s->fd >= 0 && s->file == i) {
                s->users++;
                s->last_use = ++st->clock;
                *slot = k;
                pthread_mutex_unlock(&st->lock);
                return s->fd;
            }
            if (s->users > 0)
                continue;
            /* An empty slot beats any open one; among open ones, the least recently used. */
            if (victim == NULL || (victim->fd >= 0 && s->fd < 0) ||
                ((victim->fd >= 0) == (s->fd >= 0) && s->last_use < victim->last_use))
                victim = s;
        }
        if (victim != NULL)
            break;
        pthread_cond_wait(&st->freed, &st->lock);
    }
    if (victim->fd >= 0) {
        close(victim->fd);
        victim->fd = -1;
        st->open_count--;
    }
    char scratch[256]; /* the message is not needed: the caller reports errno */
    int fd = open_file(st, i, st->writable ? O_RDWR : O_RDONLY, scratch, sizeof scratch);
    if (fd < 0) {
        int saved = errno;
        pthread_mutex_unlock(&st->lock);
        errno = saved;
        return -1;
    }
    victim->fd = fd;
    victim->file = i;
    victim->users = 1;
    victim->last_use = ++st->clock;
    st->opens++;
    st->open_count++;
    *slot = (size_t)(victim - st->slots);
    pthread_mutex_unlock(&st->lock);
    return fd;
}

/* Ends one use of a slot, waking a thread that waits for a free slot. */
static void slot_release(struct storage *st, size_t slot)
{
    pthread_mutex_lock(&st->lock);
    if (--st->slots[slot].users == 0)
        pthread_cond_broadcast(&st->freed);
    pthread_mutex_unlock(&st->lock);
}

/* ================================================================ reads and writes */

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
        size_t slot;
        int fd = slot_acquire(st, seg.file, &slot);
        if (fd < 0)
            return -1;
        uint64_t done = 0;
        int rc = 0;
        while (done < seg.length) {
            size_t n = (size_t)(seg.length - done);
            off_t at = (off_t)(seg.file_offset + done);
            ssize_t r = write ? pwrite(fd, buf, n, at) : pread(fd, buf, n, at);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                if (r == 0)
                    errno = EIO; /* the file is shorter than the torrent says: changed under us */
                rc = -1;
                break;
            }
            done += (uint64_t)r;
            buf += r;
        }
        int saved = errno;
        slot_release(st, slot);
        if (rc < 0) {
            errno = saved;
            return -1;
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
    return storage_piece_matches(st, index, buf);
}

int storage_piece_matches(const struct storage *st, uint32_t index, const unsigned char *data)
{
    unsigned char digest[SHA1_DIGEST_LEN];
    sha1(data, layout_piece_size(&st->layout, index), digest);
    return memcmp(digest, metainfo_piece_hash(st->mi, index), SHA1_DIGEST_LEN) == 0;
}
