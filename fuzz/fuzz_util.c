/*
 * fuzz_util.c - what the fuzz targets share: the invariant failure, the control-byte reader, a
 * C-string copy, and a writer that feeds a file descriptor without deadlocking.
 */
#include "fuzz.h"

#include "linereader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
    abort();
}

uint8_t fuzz_take_u8(struct fuzz_reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

uint16_t fuzz_take_u16(struct fuzz_reader *r)
{
    uint16_t hi = fuzz_take_u8(r);
    return (uint16_t)(hi << 8 | fuzz_take_u8(r));
}

uint32_t fuzz_take_u32(struct fuzz_reader *r)
{
    uint32_t hi = fuzz_take_u16(r);
    return hi << 16 | fuzz_take_u16(r);
}

char *fuzz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        return NULL;
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* ---- a writer that cannot deadlock ------------------------------------------------------- */

struct fuzz_writer {
    pthread_t thread;
    int fd;
    const uint8_t *data;
    size_t n;
};

/* The thread's body: write the rest with blocking writes, then close so the reader sees EOF.
 * MSG_NOSIGNAL turns a reader that stopped early into EPIPE instead of a SIGPIPE. */
static void *writer_main(void *arg)
{
    struct fuzz_writer *w = arg;
    size_t done = 0;
    while (done < w->n) {
        ssize_t r = send(w->fd, w->data + done, w->n - done, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* the reader closed its end: nothing more to deliver */
        done += (size_t)r;
    }
    close(w->fd);
    return NULL;
}

struct fuzz_writer *fuzz_write_and_close(int fd, const uint8_t *data, size_t n)
{
    /* First try without blocking: almost every fuzz input fits in the socket buffer, and a
     * thread per execution would cost more than the parser itself. */
    int flags = fcntl(fd, F_GETFL);
    FUZZ_CHECK(flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
    size_t done = 0;
    while (done < n) {
        ssize_t r = send(fd, data + done, n - done, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            FUZZ_CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        done += (size_t)r;
    }
    if (done == n) {
        close(fd);
        return NULL;
    }

    /* The buffer is full: a thread writes the rest while the caller reads. */
    FUZZ_CHECK(fcntl(fd, F_SETFL, flags) == 0);
    struct fuzz_writer *w = malloc(sizeof *w);
    FUZZ_CHECK(w != NULL);
    w->fd = fd;
    w->data = data + done;
    w->n = n - done;
    FUZZ_CHECK(pthread_create(&w->thread, NULL, writer_main, w) == 0);
    return w;
}

void fuzz_writer_join(struct fuzz_writer *w)
{
    if (w == NULL)
        return;
    pthread_join(w->thread, NULL);
    free(w);
}

/* ---- the line reader's specification ------------------------------------------------------ */

int fuzz_line_model(const uint8_t *in, size_t n, size_t *pos, size_t *len)
{
    size_t avail = n - *pos;
    if (avail == 0)
        return 1;
    const uint8_t *nl = memchr(in + *pos, '\n', avail);
    size_t k = nl != NULL ? (size_t)(nl - (in + *pos)) : avail;
    /* A line fits when it and its newline fit in the reader's LINEREADER_MAX + 1 byte buffer;
     * a last line without a newline fits when it is at most LINEREADER_MAX bytes. */
    if (k > LINEREADER_MAX)
        return 2;
    *len = k;
    *pos += k + (nl != NULL ? 1 : 0);
    return 0;
}
