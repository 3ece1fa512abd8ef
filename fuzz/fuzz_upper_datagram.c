/*
 * fuzz_upper_datagram.c - the UDP uppercase server's per-datagram path: receive one datagram,
 * upper_ascii() it in place, send it back.
 *
 * The server's loop lives in main(), so the harness repeats its three steps on a Unix datagram
 * socketpair: the fuzz input is sent as one datagram, received into a buffer of the server's
 * size, converted and sent back. The reply must have the same length, with exactly the bytes
 * a-z in capitals; every other byte (UTF-8, NUL, control characters) must come back unchanged.
 */
#include "fuzz.h"

#include "upper.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The largest UDP payload over IPv4, the size of the server's receive buffer. */
enum { MAX_DATAGRAM = 65507 };

int fuzz_target_upper_datagram(const uint8_t *data, size_t size)
{
    if (size > MAX_DATAGRAM)
        return 0; /* no such UDP datagram exists */
    int sv[2];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    char *buf = malloc(MAX_DATAGRAM + 1);
    FUZZ_CHECK(buf != NULL);

    /* The client's datagram, then the server's three steps. */
    FUZZ_CHECK(send(sv[0], data, size, 0) == (ssize_t)size);
    ssize_t n = recv(sv[1], buf, MAX_DATAGRAM + 1, 0);
    FUZZ_CHECK(n == (ssize_t)size);
    upper_ascii(buf, (size_t)n);
    FUZZ_CHECK(send(sv[1], buf, (size_t)n, 0) == n);

    /* The client's view: the reply, checked byte by byte against the rule. */
    ssize_t m = recv(sv[0], buf, MAX_DATAGRAM + 1, 0);
    FUZZ_CHECK(m == n);
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        uint8_t want = c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
        FUZZ_CHECK((uint8_t)buf[i] == want);
    }
    free(buf);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_upper_datagram(data, size);
}
#endif
