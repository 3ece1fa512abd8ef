/*
 * fuzz.h - the fuzz targets: one function per parser that reads bytes from strangers.
 *
 * Each fuzz/fuzz_NAME.c holds one target, fuzz_target_NAME(), which runs a parser on arbitrary
 * bytes and then checks the invariants that must hold whatever the bytes were (spans inside the
 * input, round trips that give the same answer, queues within their caps). A broken invariant
 * calls fuzz_fail(), which aborts, so a bug that corrupts no memory still shows as a crash.
 *
 * The same function runs in two places, so nothing is written twice:
 *   - under libFuzzer (make fuzz): each file, compiled with -DFUZZ_LIBFUZZER, defines
 *     LLVMFuzzerTestOneInput() as a one-line call to its target;
 *   - in the normal test suite (tests/check_fuzz_regressions.c), which calls the targets on every
 *     seed file and on every input that once crashed them.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Every target returns 0 (libFuzzer reserves other values) and aborts on a broken invariant. */
int fuzz_target_bencode(const uint8_t *data, size_t size);
int fuzz_target_metainfo(const uint8_t *data, size_t size);
int fuzz_target_wire(const uint8_t *data, size_t size);
int fuzz_target_session(const uint8_t *data, size_t size);
int fuzz_target_tracker_http_reply(const uint8_t *data, size_t size);
int fuzz_target_tracker_http_request(const uint8_t *data, size_t size);
int fuzz_target_tracker_udp(const uint8_t *data, size_t size);
int fuzz_target_url(const uint8_t *data, size_t size);
int fuzz_target_linereader(const uint8_t *data, size_t size);
int fuzz_target_upper_session(const uint8_t *data, size_t size);
int fuzz_target_upper_datagram(const uint8_t *data, size_t size);

/* ---- helpers the targets share ----------------------------------------------------------- */

/* Reports a broken invariant on stderr and aborts: libFuzzer then saves the input as a crash. */
void fuzz_fail(const char *file, int line, const char *what);

/* Like assert(), but never compiled out by NDEBUG: the check is the point of the harness. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, #cond);                                                  \
    } while (0)

/* Many targets read a few "control" bytes first (a mode, a chunk size, a piece count), and use
 * the rest as the data to parse. The fuzzer mutates both alike, so it explores settings and
 * inputs together. Reading past the end yields zeros, never an error. */
struct fuzz_reader {
    const uint8_t *p;
    size_t n;
};
uint8_t fuzz_take_u8(struct fuzz_reader *r);
uint16_t fuzz_take_u16(struct fuzz_reader *r);
uint32_t fuzz_take_u32(struct fuzz_reader *r);

/* Copies n bytes into a fresh heap block with a NUL after them, for parsers that want a C
 * string. The block holds exactly n + 1 bytes, so AddressSanitizer catches a read past the NUL.
 * Returns NULL only when malloc fails. */
char *fuzz_strndup(const uint8_t *p, size_t n);

/* Runs fn(arg) on the one helper thread, which is created on first use and then reused (a
 * thread per execution would cost more than most parsers). fuzz_background_wait() returns once
 * the job is done; start the next job only after that. */
void fuzz_background_start(void (*fn)(void *), void *arg);
void fuzz_background_wait(void);

/* Writes data[0..n) into fd (a stream socket) and then closes fd, without ever deadlocking the
 * caller that reads the other end: what fits in the socket buffer is written at once; only when
 * something is left does the helper thread finish the job. Returns a handle for
 * fuzz_writer_join (call it after the reader is done), or NULL when everything was written. */
struct fuzz_writer;
struct fuzz_writer *fuzz_write_and_close(int fd, const uint8_t *data, size_t n);
void fuzz_writer_join(struct fuzz_writer *w);

/* The line reader's specification, computed from the whole stream at once: what the next
 * linereader_next() must return when the unread input is in[*pos..n) and the writer then closes.
 * Returns 0 for a line (at in + *pos, *len bytes; *pos moves past it and its newline), 1 at end
 * of stream, 2 for a line over LINEREADER_MAX bytes. */
int fuzz_line_model(const uint8_t *in, size_t n, size_t *pos, size_t *len);

#endif
