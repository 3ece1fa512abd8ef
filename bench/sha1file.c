/*
 * sha1file - hashes a file with the toolkit's own SHA-1 and reports the speed, for `make bench`
 * to compare with sha1sum and with OpenSSL (bench/sha1_openssl.py) on the same file in the same
 * run.
 *
 *   sha1file FILE [--portable] [--memory]
 *
 * By default it reads the file in 1 MiB chunks and hashes each, the way sha1sum works, so the
 * time includes the read() calls. With --memory it first reads the file (its first 64 MiB at
 * most) into memory, then hashes that buffer twenty times (in 1 MiB updates) and reports the
 * fastest pass: the speed of the hash alone, which is what bench/sha1_openssl.py measures for
 * OpenSSL the same way. Each pass is timed on the processor-time clock, not the wall clock: on a
 * machine shared with other work the wall clock also counts the moments other programs had the
 * processor. The fastest pass is then the one that shared caches and cores disturbed least.
 *
 * Prints "<40 hex digits>  FILE" like sha1sum (so the two can be checked against each other) and,
 * on stderr, "sha1file: N bytes in S s (R MB/s, IMPL)".
 */
#include "sha1.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK = 1 << 20, PASSES = 20, MEMORY_MAX = 64 << 20 };

/* Returns a clock in seconds: the monotonic wall clock, or this process's processor time. */
static double clock_s(clockid_t which)
{
    struct timespec t;
    clock_gettime(which, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* Processor time, where the system has that clock (an optional part of POSIX); otherwise the
 * wall clock, which only makes a loaded machine look slower. */
static double cpu_now(void)
{
#ifdef CLOCK_PROCESS_CPUTIME_ID
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
#else
    return now();
#endif
}

/* Starts a context with the implementation the command line asked for. */
static void start(struct sha1_ctx *c, int portable)
{
    if (portable)
        sha1_init_impl(c, SHA1_IMPL_PORTABLE);
    else
        sha1_init(c);
}

/* Hashes the file read in CHUNK-sized pieces; returns the bytes hashed or -1 on a read error. */
static long long hash_stream(int fd, int portable, unsigned char digest[SHA1_DIGEST_LEN],
                             double *secs, const char **impl)
{
    unsigned char *buf = malloc(CHUNK);
    if (buf == NULL)
        return -1;
    struct sha1_ctx c;
    start(&c, portable);
    double t0 = now();
    long long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, CHUNK)) > 0) {
        sha1_update(&c, buf, (size_t)n);
        total += n;
    }
    *impl = sha1_impl_name(&c);
    sha1_final(&c, digest);
    *secs = now() - t0;
    free(buf);
    return n < 0 ? -1 : total;
}

/* Reads the file (at most MEMORY_MAX bytes of it) into memory, then hashes it PASSES times and
 * keeps the fastest time; returns the bytes hashed or -1 on a read or allocation error. */
static long long hash_memory(int fd, int portable, unsigned char digest[SHA1_DIGEST_LEN],
                             double *secs, const char **impl)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    size_t size = st.st_size < MEMORY_MAX ? (size_t)st.st_size : MEMORY_MAX;
    unsigned char *data = malloc(size > 0 ? size : 1);
    if (data == NULL)
        return -1;
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n <= 0) {
            free(data);
            return -1;
        }
        got += (size_t)n;
    }
    for (int pass = 0; pass < PASSES; pass++) {
        struct sha1_ctx c;
        start(&c, portable);
        double t0 = cpu_now();
        for (size_t off = 0; off < size; off += CHUNK)
            sha1_update(&c, data + off, size - off < CHUNK ? size - off : CHUNK);
        *impl = sha1_impl_name(&c);
        sha1_final(&c, digest);
        double s = cpu_now() - t0;
        if (pass == 0 || s < *secs)
            *secs = s;
    }
    free(data);
    return (long long)size;
}

int main(int argc, char **argv)
{
    int portable = 0, memory = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--portable") == 0)
            portable = 1;
        else if (strcmp(argv[i], "--memory") == 0)
            memory = 1;
        else
            argc = 0; /* an unknown option: fall into the usage message */
    }
    if (argc < 2) {
        fprintf(stderr, "usage: sha1file FILE [--portable] [--memory]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "sha1file: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    unsigned char digest[SHA1_DIGEST_LEN];
    double s = 0;
    const char *impl = "?";
    long long total = memory ? hash_memory(fd, portable, digest, &s, &impl)
                             : hash_stream(fd, portable, digest, &s, &impl);
    close(fd);
    if (total < 0) {
        fprintf(stderr, "sha1file: %s: %s\n", argv[1], errno ? strerror(errno) : "short read");
        return 1;
    }
    for (int i = 0; i < SHA1_DIGEST_LEN; i++)
        printf("%02x", digest[i]);
    printf("  %s\n", argv[1]);
    fprintf(stderr, "sha1file: %lld bytes in %.3f s (%.1f MB/s, %s)\n", total, s,
            s > 0 ? (double)total / s / 1e6 : 0.0, impl);
    return 0;
}
