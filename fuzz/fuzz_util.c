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

/* ---- one helper thread, reused ---------------------------------------------------------- */

/* Some targets need a second thread: a peer that writes while the code under test reads. Under
 * AddressSanitizer, creating and joining a thread maps and unmaps its stack and costs more than
 * the parser itself, so one helper thread is created on first use and then runs one job after
 * another for the whole fuzzing run. Only one job runs at a time. */
static pthread_mutex_t job_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cv = PTHREAD_COND_INITIALIZER;
static void (*job_fn)(void *);
static void *job_arg;
static int job_pending, job_done, helper_started;

static void *helper_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&job_mu);
    for (;;) {
        while (!job_pending)
            pthread_cond_wait(&job_cv, &job_mu);
        void (*fn)(void *) = job_fn;
        void *arg = job_arg;
        job_pending = 0;
        pthread_mutex_unlock(&job_mu);
        fn(arg);
        pthread_mutex_lock(&job_mu);
        job_done = 1;
        pthread_cond_broadcast(&job_cv);
    }
    return NULL;
}

void fuzz_background_start(void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&job_mu);
    if (!helper_started) {
        pthread_t t;
        FUZZ_CHECK(pthread_create(&t, NULL, helper_main, NULL) == 0);
        pthread_detach(t);
        helper_started = 1;
    }
    job_fn = fn;
    job_arg = arg;
    job_done = 0;
    job_pending = 1;
    pthread_cond_broadcast(&job_cv);
    pthread_mutex_unlock(&job_mu);
}

void fuzz_background_wait(void)
{
    pthread_mutex_lock(&job_mu);
    while (!job_done)
        pthread_cond_wait(&job_cv, &job_mu);
    pthread_mutex_unlock(&job_mu);
}

/* ---- a writer that cannot deadlock ------------------------------------------------------- */

struct fuzz_writer {
    int fd;
    const uint8_t *data;
    size_t n;
};

/* The helper's job: write the rest with blocking sends, then close so the reader sees EOF.
 * MSG_NOSIGNAL turns a reader that stopped early into EPIPE instead of a SIGPIPE. */
static void writer_job(void *arg)
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
}

struct fuzz_writer *fuzz_write_and_close(int fd, const uint8_t *data, size_t n)
{
    /* First try without blocking: almost every fuzz input fits in the socket buffer. */
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

    /* The buffer is full: the helper thread writes the rest while the caller reads. */
    FUZZ_CHECK(fcntl(fd, F_SETFL, flags) == 0);
    struct fuzz_writer *w = malloc(sizeof *w);
    FUZZ_CHECK(w != NULL);
    w->fd = fd;
    w->data = data + done;
    w->n = n - done;
    fuzz_background_start(writer_job, w);
    return w;
}

void fuzz_writer_join(struct fuzz_writer *w)
{
    if (w == NULL)
        return;
    fuzz_background_wait();
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
