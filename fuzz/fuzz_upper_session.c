/*
 * fuzz_upper_session.c - the whole TCP uppercase conversation: upper_session(fd) on a socket
 * whose client sends the fuzz input and then closes its sending side.
 *
 * The replies must be exactly what the specification says, computed from the whole input at
 * once (fuzz_line_model plus the ASCII rule): one line in capitals for each line received, and
 * after a line over LINEREADER_MAX bytes one "error: ..." line and the end of the session.
 *
 * Two ways to drive the socket, both without any chance of a deadlock:
 *   - small inputs (most of them) are written whole before the session runs, and the replies are
 *     read after it returns; both directions then fit in the socket buffers, so this needs no
 *     thread and stays fast;
 *   - larger ones run the session on a helper thread while this thread writes and reads with
 *     poll(), as a real client does.
 */
#include "fuzz.h"

#include "linereader.h"
#include "upper_session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A Unix socket counts each queued write with its overhead, so "fits in the buffer" is judged
 * by the number of replies as well as by bytes. */
enum { SMALL_BYTES = 16 * 1024, SMALL_LINES = 64 };

/* Builds the replies the session must send for this input. Returns a heap buffer (*len bytes). */
static char *expected_replies(const uint8_t *data, size_t size, size_t *len)
{
    char msg[80];
    int mlen =
        snprintf(msg, sizeof msg, "error: line too long (the limit is %d bytes)\n", LINEREADER_MAX);
    char *out = malloc(2 * size + (size_t)mlen + 1); /* at most one added newline per byte */
    FUZZ_CHECK(out != NULL && mlen > 0);
    size_t o = 0, pos = 0;
    for (;;) {
        size_t start = pos, n = 0;
        int r = fuzz_line_model(data, size, &pos, &n);
        if (r == 1)
            break;
        if (r == 2) {
            memcpy(out + o, msg, (size_t)mlen);
            o += (size_t)mlen;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            char c = (char)data[start + i];
            out[o++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        }
        out[o++] = '\n';
    }
    *len = o;
    return out;
}

/* The replies received so far. */
struct replies {
    char *buf;
    size_t len, cap;
};

/* Reads what fd has into r: returns 1 at the end of the stream, 0 when a non-blocking read
 * would wait. */
static int read_replies(int fd, struct replies *r)
{
    for (;;) {
        if (r->len == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 4096;
            r->buf = realloc(r->buf, r->cap);
            FUZZ_CHECK(r->buf != NULL);
        }
        ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        FUZZ_CHECK(n >= 0);
        if (n == 0)
            return 1;
        r->len += (size_t)n;
    }
}

struct session_thread {
    int fd;
    int rc;
};

static void session_job(void *arg)
{
    struct session_thread *t = arg;
    t->rc = upper_session(t->fd);
    /* Both directions: our client sees the end of the replies, and its further writes fail with
     * EPIPE instead of waiting for a reader that is gone. */
    shutdown(t->fd, SHUT_RDWR);
}

/* Runs the session on the helper thread while this one writes the input and reads the replies
 * at the same time. */
static int run_threaded(int client, int server, const uint8_t *data, size_t size,
                        struct replies *got)
{
    struct session_thread t = {server, -1};
    fuzz_background_start(session_job, &t);
    FUZZ_CHECK(fcntl(client, F_SETFL, O_NONBLOCK) == 0);
    size_t sent = 0;
    int writing = 1, eof = 0;
    while (!eof) {
        struct pollfd p = {client, (short)(POLLIN | (writing ? POLLOUT : 0)), 0};
        int ready = poll(&p, 1, -1);
        if (ready < 0 && errno == EINTR)
            continue; /* libFuzzer's SIGALRM (its -timeout watchdog) interrupts system calls */
        FUZZ_CHECK(ready > 0);
        if (writing && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t r = send(client, data + sent, size - sent, MSG_NOSIGNAL);
            if (r > 0)
                sent += (size_t)r;
            if ((r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
                sent == size) {
                shutdown(client, SHUT_WR); /* all sent, or the server stopped reading (EPIPE) */
                writing = 0;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            eof = read_replies(client, got);
    }
    fuzz_background_wait();
    return t.rc;
}

int fuzz_target_upper_session(const uint8_t *data, size_t size)
{
    size_t want_len;
    char *want = expected_replies(data, size, &want_len);
    size_t lines = 0;
    for (size_t i = 0; i < size && lines <= SMALL_LINES; i++)
        lines += data[i] == '\n';

    int sv[2];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct replies got = {NULL, 0, 0};
    int rc;
    if (size <= SMALL_BYTES && lines <= SMALL_LINES) {
        /* Everything fits: write, close our sending side, run the session, read the replies.
         * shutdown(), not close(): closing a Unix socket with unread input would turn the end
         * of the replies into ECONNRESET. */
        FUZZ_CHECK(size == 0 || send(sv[0], data, size, MSG_NOSIGNAL) == (ssize_t)size);
        FUZZ_CHECK(shutdown(sv[0], SHUT_WR) == 0);
        rc = upper_session(sv[1]);
        FUZZ_CHECK(shutdown(sv[1], SHUT_WR) == 0);
        FUZZ_CHECK(read_replies(sv[0], &got) == 1);
    } else {
        rc = run_threaded(sv[0], sv[1], data, size, &got);
    }
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(got.len == want_len && (want_len == 0 || memcmp(got.buf, want, want_len) == 0));

    close(sv[0]);
    close(sv[1]);
    free(got.buf);
    free(want);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_upper_session(data, size);
}
#endif
