/*
 * fdtransfer.c - the file distribution protocol over a TCP socket (see fdtransfer.h).
 */
#include "fdtransfer.h"

#include "clock.h"
#include "io.h"
#include "sha1.h"

#include <errno.h>
#include <string.h>
#include <time.h>

int fd_pacer_init(struct fd_pacer *p, uint64_t rate)
{
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        return -1;
    /* A burst of one slice: the clients start at the limit, with no head start. */
    tb_init(&p->tb, rate, FD_SLICE, clock_ms());
    return 0;
}

void fd_pacer_free(struct fd_pacer *p)
{
    pthread_mutex_destroy(&p->lock);
}

/* Sleeps for ms milliseconds, going back to sleep when a signal interrupts. */
static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int fd_pace(struct fd_pacer *p, size_t n)
{
    while (n > 0) {
        /* The bucket is shared by every client thread: take and ask under the lock, but sleep
         * outside it, so that the others can take their turn meanwhile. */
        pthread_mutex_lock(&p->lock);
        uint64_t now = clock_ms();
        size_t got = tb_take(&p->tb, n, now);
        uint64_t wait = got < n ? tb_wait_ms(&p->tb, n - got, now) : 0;
        pthread_mutex_unlock(&p->lock);
        n -= got;
        if (n > 0)
            sleep_ms(wait > 0 ? wait : 1);
    }
    return 0;
}

int fd_send_hello(int fd, const struct fd_hello *h)
{
    unsigned char b[FD_HELLO_LEN];
    fd_put_hello(b, h);
    return writen(fd, b, sizeof b) < 0 ? FD_E_IO : 0;
}

int fd_send_chunk(int fd, struct fd_pacer *p, uint32_t index, const unsigned char *data,
                  uint32_t len)
{
    struct fd_chunk c = {.index = index, .length = len};
    sha1(data, len, c.sha1);
    unsigned char head[FD_CHUNK_HEADER_LEN];
    fd_put_chunk_header(head, &c);
    fd_pace(p, sizeof head);
    if (writen(fd, head, sizeof head) < 0)
        return FD_E_IO;
    /* The data goes out one slice at a time, each one paced: the limit is on every byte, not on
     * whole chunks, so that N clients share u_s evenly instead of taking turns. */
    for (uint32_t off = 0; off < len;) {
        size_t n = len - off < FD_SLICE ? len - off : FD_SLICE;
        fd_pace(p, n);
        if (writen(fd, data + off, n) < 0)
            return FD_E_IO;
        off += (uint32_t)n;
    }
    return 0;
}

int fd_recv_hello(int fd, struct fd_hello *h)
{
    unsigned char b[FD_HELLO_LEN];
    ssize_t got = readn(fd, b, sizeof b);
    if (got < 0)
        return FD_E_IO;
    if ((size_t)got < sizeof b)
        return FD_E_EOF;
    return fd_parse_hello(b, h);
}

long fd_recv_chunk(int fd, const struct fd_hello *h, uint32_t index, unsigned char *buf)
{
    unsigned char head[FD_CHUNK_HEADER_LEN];
    ssize_t got = readn(fd, head, sizeof head);
    if (got < 0)
        return FD_E_IO;
    if ((size_t)got < sizeof head)
        return FD_E_EOF;
    struct fd_chunk c;
    int rc = fd_parse_chunk_header(head, h, index, &c);
    if (rc < 0)
        return rc;
    /* The length was checked against the hello, so it fits in buf. */
    got = readn(fd, buf, c.length);
    if (got < 0)
        return FD_E_IO;
    if ((size_t)got < c.length)
        return FD_E_EOF;
    unsigned char digest[FD_HASH_LEN];
    sha1(buf, c.length, digest);
    if (memcmp(digest, c.sha1, FD_HASH_LEN) != 0)
        return FD_E_HASH;
    return (long)c.length;
}
