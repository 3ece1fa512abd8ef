/*
 * fuzz_linereader.c - the TCP uppercase servers' input path: linereader_next() reading from a
 * real socket that the fuzz input is written into.
 *
 * The input goes into one end of a socketpair, which is then closed; the reader reads the
 * other end until it reports the end of the stream or a line that is too long. Each result must
 * match fuzz_line_model(), the reader's specification computed from the whole input at once:
 * the same lines with the same bytes, no newline inside a line, a NUL after each, and
 * LINE_TOO_LONG exactly when a line passes LINEREADER_MAX bytes.
 *
 * The line buffer is allocated with exactly the LINEREADER_MAX + 1 bytes linereader.h asks
 * for, so AddressSanitizer reports a reader that writes one byte more.
 */
#include "fuzz.h"

#include "linereader.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int fuzz_target_linereader(const uint8_t *data, size_t size)
{
    int sv[2];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct fuzz_writer *w = fuzz_write_and_close(sv[0], data, size);

    struct linereader *lr = malloc(sizeof *lr);
    char *line = malloc(LINEREADER_MAX + 1);
    FUZZ_CHECK(lr != NULL && line != NULL);
    linereader_init(lr, sv[1]);

    size_t pos = 0;
    for (;;) {
        size_t start = pos, want_len = 0, len = 0;
        int want = fuzz_line_model(data, size, &pos, &want_len);
        enum linereader_status st = linereader_next(lr, line, &len);
        if (want == 1) {
            FUZZ_CHECK(st == LINE_EOF);
            break;
        }
        if (want == 2) {
            FUZZ_CHECK(st == LINE_TOO_LONG);
            break; /* upper_session stops here too: the rest of the stream is never read */
        }
        FUZZ_CHECK(st == LINE_OK && len == want_len && line[len] == '\0');
        FUZZ_CHECK(memcmp(line, data + start, len) == 0);
        FUZZ_CHECK(memchr(line, '\n', len) == NULL);
    }

    /* Closing our end first lets a writer thread still blocked in send() fail with EPIPE. */
    close(sv[1]);
    fuzz_writer_join(w);
    free(line);
    free(lr);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_linereader(data, size);
}
#endif
