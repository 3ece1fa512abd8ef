/*
 * linereader.c - the buffered line reader: search what we have for '\n', and read more only when
 * the buffer holds no complete line.
 */
#include "linereader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void linereader_init(struct linereader *lr, int fd)
{
    lr->fd = fd;
    lr->start = lr->end = 0;
}

/* Copies buf[start..start+n) out as a NUL-terminated line and consumes skip more bytes. */
static void take(struct linereader *lr, size_t n, size_t skip, char *line, size_t *len)
{
    memcpy(line, lr->buf + lr->start, n);
    line[n] = '\0';
    *len = n;
    lr->start += n + skip;
}

enum linereader_status linereader_next(struct linereader *lr, char *line, size_t *len)
{
    for (;;) {
        size_t avail = lr->end - lr->start;
        char *nl = memchr(lr->buf + lr->start, '\n', avail);
        if (nl != NULL) {
            take(lr, (size_t)(nl - (lr->buf + lr->start)), 1, line, len);
            return LINE_OK;
        }
        if (avail > LINEREADER_MAX)
            return LINE_TOO_LONG;

        /* No complete line yet: slide the partial line to the front, then read more after it. */
        memmove(lr->buf, lr->buf + lr->start, avail);
        lr->start = 0;
        lr->end = avail;
        ssize_t r = read(lr->fd, lr->buf + lr->end, sizeof lr->buf - lr->end);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return LINE_ERROR;
        }
        if (r == 0) {
            if (avail == 0)
                return LINE_EOF;
            take(lr, avail, 0, line, len); /* the last line had no newline */
            return LINE_OK;
        }
        lr->end += (size_t)r;
    }
}
