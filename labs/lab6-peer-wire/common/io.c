/*
 * io.c - readn and writen: loops around read and send that cope with short counts and EINTR.
 */
#include "io.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t readn(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue; /* a signal arrived before any byte did: just ask again */
            return -1;
        }
        if (r == 0)
            break; /* end of stream: the peer closed or half-closed */
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Linux's MSG_NOSIGNAL asks one send() not to raise SIGPIPE. macOS has no such flag and uses the
 * SO_NOSIGPIPE socket option instead (set in net.c); 0 here keeps the code the same on both. */
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0
#endif

ssize_t writen(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    size_t done = 0;
    int use_send = 1;
    while (done < n) {
        ssize_t w =
            use_send ? send(fd, p + done, n - done, SEND_FLAGS) : write(fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOTSOCK && use_send) {
                use_send = 0; /* a pipe or a file: plain write() does the same job */
                continue;
            }
            return -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

ssize_t io_send(int fd, const void *buf, size_t n)
{
    ssize_t w;
    do
        w = send(fd, buf, n, SEND_FLAGS);
    while (w < 0 && errno == EINTR);
    return w;
}

void io_ignore_sigpipe(void)
{
    struct sigaction sa;
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGPIPE, &sa, NULL);
}
