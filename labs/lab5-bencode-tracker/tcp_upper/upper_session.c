/*
 * upper_session.c - the framing fix: read whole lines, write whole replies.
 *
 * tcp_upper_server1 calls recv() once and treats whatever arrived as the message. TCP promises
 * only a stream of bytes, so that one call may return half a line or two lines. Here a
 * per-connection line reader collects bytes until a newline (common/linereader.c), and writen()
 * keeps sending until the whole reply has gone (common/io.c).
 */
#include "upper_session.h"
#include "io.h"
#include "linereader.h"
#include "upper.h"

#include <stdio.h>
#include <stdlib.h>

int upper_session(int fd)
{
    /* Per-connection state on the heap, never in a static buffer: server3 runs many of these at
     * once, one per thread. */
    struct linereader *lr = malloc(sizeof *lr);
    char *line = malloc(LINEREADER_MAX + 2);
    int rc = -1;
    if (lr == NULL || line == NULL)
        goto out;
    linereader_init(lr, fd);

    for (;;) {
        size_t len;
        enum linereader_status st = linereader_next(lr, line, &len);
        if (st == LINE_EOF) {
            rc = 0;
            break;
        }
        if (st == LINE_ERROR)
            break;
        if (st == LINE_TOO_LONG) {
            char msg[80];
            int n = snprintf(msg, sizeof msg, "error: line too long (the limit is %d bytes)\n",
                             LINEREADER_MAX);
            (void)writen(fd, msg, (size_t)n);
            rc = 0;
            break;
        }
        upper_ascii(line, len);
        line[len] = '\n';
        if (writen(fd, line, len + 1) < 0)
            break; /* EPIPE or ECONNRESET: the client left without reading its replies */
    }
out:
    free(line);
    free(lr);
    return rc;
}
