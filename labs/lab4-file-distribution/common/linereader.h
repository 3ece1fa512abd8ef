/*
 * linereader.h - a buffered reader that turns a TCP byte stream back into lines.
 *
 * TCP delivers bytes, not messages: one read may return half a line, or two lines and a bit. The
 * reader keeps what it has read but not yet handed out in its own buffer (per connection, never a
 * static one) and returns one complete line per call.
 */
#ifndef LINEREADER_H
#define LINEREADER_H

#include <stddef.h>

enum { LINEREADER_MAX = 4096 }; /* the longest line, newline excluded, that a reader accepts */

struct linereader {
    int fd;
    size_t start, end;            /* unread bytes are buf[start..end) */
    char buf[LINEREADER_MAX + 1]; /* room for a longest line and its newline */
};

enum linereader_status {
    LINE_OK,       /* *line holds one line, without its newline */
    LINE_EOF,      /* the stream ended with no bytes pending */
    LINE_TOO_LONG, /* more than LINEREADER_MAX bytes came without a newline */
    LINE_ERROR     /* read failed; errno says why */
};

void linereader_init(struct linereader *lr, int fd);

/* Reads the next line into line (which must hold LINEREADER_MAX + 1 bytes), NUL-terminates it and
 * stores its length in *len. A last line that ends at end of stream without a newline is returned
 * as a line too. */
enum linereader_status linereader_next(struct linereader *lr, char *line, size_t *len);

#endif
