/*
 * filedist_client - downloads a file from filedist_server with N clients at once, checks every
 * chunk against its SHA-1, and compares the distribution time with the client-server bound.
 *
 * The N clients are N threads of this one process, each with its own TCP connection, so the
 * server sees N clients; in the course notes' setting they would be N hosts. D, the distribution
 * time, is when the last client has the whole file, counted from when they all started. The
 * server's upload rate u_s comes in its hello, and with it the bound N*F/u_s (bound.h): D can
 * come close to it, but never beat it.
 */
#include "bound.h"
#include "clock.h"
#include "fdtransfer.h"
#include "io.h"
#include "net.h"
#include "threads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: filedist_client HOST PORT [-n N] [-o DIR]\n"
    "Downloads the server's file with N clients at once (threads, each with its own connection),\n"
    "checks every chunk's SHA-1, and prints the distribution time D against N*F/u_s.\n"
    "  -n, --clients N   clients at once (default 1, at most 256)\n"
    "  -o, --output DIR  write each client's copy to DIR/copy1, DIR/copy2... (default: keep none)\n"
    "  -h, --help        show this help\n";

#define MAX_CLIENTS 256

/* One client: its inputs, and what it reports. */
struct client {
    int number;
    const char *host, *port, *dir;
    uint64_t start_ms;
    struct fd_hello hello;
    double seconds; /* from the common start to the last byte verified */
    char err[256];  /* empty when the download worked */
};

/* Downloads the whole file over one connection, checking every chunk. */
static void *client_thread(void *arg)
{
    struct client *c = arg;
    unsigned char *buf = NULL;
    FILE *out = NULL;
    int fd = net_connect(c->host, c->port, c->err, sizeof c->err);
    if (fd < 0)
        return NULL;
    c->err[0] = '\0';
    int rc = fd_recv_hello(fd, &c->hello);
    if (rc < 0) {
        snprintf(c->err, sizeof c->err, "hello: %s", fd_strerror(rc));
        goto out;
    }
    buf = malloc(c->hello.chunk_size);
    if (buf == NULL) {
        snprintf(c->err, sizeof c->err, "out of memory");
        goto out;
    }
    if (c->dir != NULL) {
        char path[1024];
        snprintf(path, sizeof path, "%s/copy%d", c->dir, c->number);
        out = fopen(path, "wb");
        if (out == NULL) {
            snprintf(c->err, sizeof c->err, "%.200s: %s", path, strerror(errno));
            goto out;
        }
    }
    for (uint32_t i = 0; i < c->hello.chunk_count; i++) {
        long n = fd_recv_chunk(fd, &c->hello, i, buf);
        if (n < 0) {
            snprintf(c->err, sizeof c->err, "chunk %u: %s", i, fd_strerror((int)n));
            goto out;
        }
        if (out != NULL && fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
            snprintf(c->err, sizeof c->err, "writing the copy: %s", strerror(errno));
            goto out;
        }
    }
    c->seconds = (clock_ms() - c->start_ms) / 1000.0;
out:
    if (out != NULL && fclose(out) != 0 && c->err[0] == '\0')
        snprintf(c->err, sizeof c->err, "writing the copy: %s", strerror(errno));
    free(buf);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *host = NULL, *port = NULL, *dir = NULL;
    long n = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if ((strcmp(a, "-n") == 0 || strcmp(a, "--clients") == 0) && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 1 || n > MAX_CLIENTS) {
                fprintf(stderr, "filedist_client: -n wants 1 to %d\n", MAX_CLIENTS);
                return 2;
            }
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            dir = argv[++i];
        } else if (a[0] != '-' && host == NULL) {
            host = a;
        } else if (a[0] != '-' && port == NULL) {
            port = a;
        } else {
            fprintf(stderr, "filedist_client: bad option: %s\n%s", a, usage);
            return 2;
        }
    }
    if (host == NULL || port == NULL) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    io_ignore_sigpipe();

    struct client *cs = calloc((size_t)n, sizeof *cs);
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    if (cs == NULL || tids == NULL) {
        fprintf(stderr, "filedist_client: out of memory\n");
        return 1;
    }
    uint64_t start = clock_ms();
    long started = 0;
    for (long i = 0; i < n; i++) {
        cs[i] = (struct client){
            .number = (int)i + 1, .host = host, .port = port, .dir = dir, .start_ms = start};
        if (thread_start(&tids[i], client_thread, &cs[i], false, 0) != 0) {
            snprintf(cs[i].err, sizeof cs[i].err, "cannot start a thread");
            break;
        }
        started++;
    }
    for (long i = 0; i < started; i++)
        pthread_join(tids[i], NULL);

    int failed = 0;
    double d = 0;
    for (long i = 0; i < n; i++) {
        if (cs[i].err[0] != '\0' || i >= started) {
            fprintf(stderr, "filedist_client: client %ld: %s\n", i + 1,
                    cs[i].err[0] ? cs[i].err : "not started");
            failed = 1;
            continue;
        }
        printf("client %ld: %llu bytes in %u chunks, every chunk verified, %.2f s\n", i + 1,
               (unsigned long long)cs[i].hello.file_size, cs[i].hello.chunk_count, cs[i].seconds);
        if (cs[i].seconds > d)
            d = cs[i].seconds;
    }
    if (!failed) {
        const struct fd_hello *h = &cs[0].hello;
        printf("distribution time D (the last client to finish): %.2f s\n", d);
        if (h->up_rate == 0) {
            printf("the server's upload is unlimited: N*F/u_s puts no bound on D\n");
        } else {
            struct kr_params p;
            kr_params_uniform(&p, h->file_size, (unsigned)n, h->up_rate, 0, 0);
            double bound = kr_bound_client_server(&p, NULL);
            printf("client-server bound N*F/u_s = %ld * %llu B / %llu B/s = %.2f s\n", n,
                   (unsigned long long)h->file_size, (unsigned long long)h->up_rate, bound);
            if (bound > 0)
                printf("D / bound = %.2f\n", d / bound);
        }
    }
    free(cs);
    free(tids);
    return failed;
}
