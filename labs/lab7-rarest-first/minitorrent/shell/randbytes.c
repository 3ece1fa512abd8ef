/*
 * randbytes.c - /dev/urandom, with a fallback. (arc4random and getrandom would do, but neither is
 * in POSIX.)
 */
#include "randbytes.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

void rand_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        while (got < n) {
            ssize_t r = read(fd, p + got, n - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
    }
    if (got == n)
        return;
    /* The fallback: a splitmix64 stream seeded from the clock and the process id. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    for (; got < n; got++) {
        x += 0x9E3779B97F4A7C15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        p[got] = (unsigned char)(z ^ (z >> 31));
    }
}

uint64_t rand_u64(void)
{
    uint64_t v;
    rand_bytes(&v, sizeof v);
    return v;
}
