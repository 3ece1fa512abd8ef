/*
 * sha1file - hashes a file with the toolkit's own SHA-1 and reports the speed, for `make bench`
 * to compare with sha1sum on the same file in the same run.
 *
 *   sha1file FILE [--portable]
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
#include <time.h>
#include <unistd.h>

enum { CHUNK = 1 << 20 };

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--portable") != 0)) {
        fprintf(stderr, "usage: sha1file FILE [--portable]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "sha1file: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    unsigned char *buf = malloc(CHUNK);
    struct sha1_ctx c;
    if (argc == 3)
        sha1_init_impl(&c, SHA1_IMPL_PORTABLE);
    else
        sha1_init(&c);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, CHUNK)) > 0) {
        sha1_update(&c, buf, (size_t)n);
        total += (unsigned long long)n;
    }
    if (n < 0) {
        fprintf(stderr, "sha1file: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    const char *impl = sha1_impl_name(&c);
    unsigned char digest[SHA1_DIGEST_LEN];
    sha1_final(&c, digest);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (int i = 0; i < SHA1_DIGEST_LEN; i++)
        printf("%02x", digest[i]);
    printf("  %s\n", argv[1]);
    fprintf(stderr, "sha1file: %llu bytes in %.3f s (%.1f MB/s, %s)\n", total, s,
            s > 0 ? (double)total / s / 1e6 : 0.0, impl);
    free(buf);
    close(fd);
    return 0;
}
