/*
 * tcpcopy - the loopback TCP limit of this machine: one thread sends a file's bytes over a
 * loopback TCP connection, another receives them, and the rate is reported. `make bench` compares
 * minitorrent's transfers with it, since no TCP protocol can beat a plain copy.
 *
 *   tcpcopy FILE
 *
 * Prints "tcpcopy: N bytes in S s (R MB/s)".
 */
#include "io.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CHUNK = 256 * 1024 };

struct sender {
    const char *path;
    int port;
    int ok;
};

/* Connects to the receiver and sends the file in large chunks. */
static void *send_file(void *arg)
{
    struct sender *s = arg;
    char err[NET_ERRLEN], port[16];
    snprintf(port, sizeof port, "%d", s->port);
    int fd = net_connect("127.0.0.1", port, err, sizeof err);
    int in = open(s->path, O_RDONLY);
    unsigned char *buf = malloc(CHUNK);
    ssize_t n;
    if (fd >= 0 && in >= 0 && buf != NULL) {
        while ((n = read(in, buf, CHUNK)) > 0)
            if (writen(fd, buf, (size_t)n) < 0)
                break;
        s->ok = n == 0;
    }
    free(buf);
    if (in >= 0)
        close(in);
    if (fd >= 0)
        close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tcpcopy FILE\n");
        return 2;
    }
    io_ignore_sigpipe();
    char err[NET_ERRLEN];
    int lfd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "tcpcopy: %s\n", err);
        return 1;
    }
    struct sender s = {argv[1], net_local_port(lfd), 0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t tid;
    pthread_create(&tid, NULL, send_file, &s);
    int fd = accept(lfd, NULL, NULL);
    unsigned char *buf = malloc(CHUNK);
    unsigned long long total = 0;
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, CHUNK)) > 0)
        total += (unsigned long long)n;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(tid, NULL);
    if (!s.ok) {
        fprintf(stderr, "tcpcopy: could not send %s\n", argv[1]);
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("tcpcopy: %llu bytes in %.3f s (%.1f MB/s)\n", total, secs,
           secs > 0 ? (double)total / secs / 1e6 : 0.0);
    free(buf);
    close(fd);
    close(lfd);
    return 0;
}
