/*
 * filedist_server - client-server file distribution (lab 4): sends one file to every client that
 * connects, in 256 KiB chunks, each preceded by its SHA-1, with one upload limit u_s shared by all
 * the clients.
 *
 * The course notes' client-server distribution: the server alone uploads N copies of the file, so
 * with N clients no schedule can finish before N*F/u_s. filedist_client measures the time D that
 * the clients really took and prints it next to that bound; the lab compares the two, and lab 8
 * compares both with a BitTorrent swarm, where the clients upload to each other.
 *
 * One thread per client, as in tcp_upper_server3; the file is read into memory once, and every
 * thread sends from it. A real server would send from the file with sendfile() or mmap() and serve
 * files larger than memory.
 */
#include "cli.h"
#include "clock.h"
#include "fdtransfer.h"
#include "io.h"
#include "net.h"
#include "threads.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: filedist_server [-p PORT] [-b ADDR] [-v] [--up-rate RATE] [--chunk SIZE] FILE\n"
    "Sends FILE to every client that connects, in chunks each preceded by its SHA-1.\n"
    "  -p, --port PORT     port to listen on (default 12100; 0 picks a free one)\n"
    "  -b, --bind ADDR     address to bind (default: every address)\n"
    "  -v, --verbose       print each client as it comes and goes\n"
    "  --up-rate RATE      upload limit u_s shared by all clients, bytes per second, with K, M or\n"
    "                      G for powers of 1024 (default 0: unlimited)\n"
    "  --chunk SIZE        chunk size (default 256K; at most 4M)\n"
    "  -h, --help          show this help\n";

/* The largest file the server reads into memory. */
#define MAX_FILE (1ull << 30)

/* What every client thread shares: the file, its hello and the upload limit. */
struct shared {
    const unsigned char *data;
    struct fd_hello hello;
    struct fd_pacer pacer;
    int verbose;
};

/* What one client thread needs; allocated by the main thread, freed by the client thread. */
struct client {
    int fd;
    struct shared *sh;
    char who[NET_ADDRSTRLEN];
};

/* Parses a size or rate such as 512K, 1.5M or 20000 (K, M, G are powers of 1024). Returns 0, or -1
 * when s is not such a number. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || v < 0)
        return -1;
    double mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1024.0, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1024.0 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1024.0 * 1024 * 1024, end++;
    if (*end != '\0' || v * mul > 1e18)
        return -1;
    *out = (uint64_t)(v * mul);
    return 0;
}

/* Reads a whole file into memory. Returns the buffer (free it), or NULL with a message in err. */
static unsigned char *read_file(const char *path, uint64_t *size, char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 20, len = 0;
    buf = malloc(cap);
    while (buf != NULL) {
        if (len == cap) {
            unsigned char *p = cap * 2 > MAX_FILE ? NULL : realloc(buf, cap * 2);
            if (p == NULL) {
                snprintf(err, errlen, "%s: larger than %llu bytes, or out of memory", path,
                         (unsigned long long)MAX_FILE);
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    fclose(f);
    *size = len;
    return buf;
}

/* Sends the hello and every chunk to one client, then closes its connection. */
static void *client_thread(void *arg)
{
    struct client *c = arg;
    struct shared *sh = c->sh;
    uint64_t t0 = clock_ms();
    int rc = fd_send_hello(c->fd, &sh->hello);
    for (uint32_t i = 0; rc == 0 && i < sh->hello.chunk_count; i++)
        rc = fd_send_chunk(c->fd, &sh->pacer, i, sh->data + (uint64_t)i * sh->hello.chunk_size,
                           fd_chunk_length(&sh->hello, i));
    if (sh->verbose) {
        if (rc == 0)
            printf("%s: sent %llu bytes in %.2f s\n", c->who,
                   (unsigned long long)sh->hello.file_size, (clock_ms() - t0) / 1000.0);
        else
            printf("%s: stopped: %s\n", c->who, strerror(errno));
        fflush(stdout);
    }
    close(c->fd);
    free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *port = "12100", *bind = NULL, *path = NULL;
    uint64_t rate = 0, chunk = FD_CHUNK_SIZE;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if ((strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0) && has_value &&
                   cli_valid_port(argv[i + 1])) {
            port = argv[++i];
        } else if ((strcmp(a, "-b") == 0 || strcmp(a, "--bind") == 0) && has_value) {
            bind = argv[++i];
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else if (strcmp(a, "--up-rate") == 0 && has_value &&
                   parse_size(argv[i + 1], &rate) == 0) {
            i++;
        } else if (strcmp(a, "--chunk") == 0 && has_value && parse_size(argv[i + 1], &chunk) == 0 &&
                   chunk > 0 && chunk <= FD_MAX_CHUNK_SIZE) {
            i++;
        } else if (a[0] != '-' && path == NULL) {
            path = a;
        } else {
            fprintf(stderr, "filedist_server: bad option or value: %s\n%s", a, usage);
            return 2;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "filedist_server: which file?\n%s", usage);
        return 2;
    }

    char err[256];
    /* Static, so that it outlives main() for client threads still sending when the server stops. */
    static struct shared sh;
    sh.verbose = verbose;
    uint64_t size;
    unsigned char *data = read_file(path, &size, err, sizeof err);
    if (data == NULL) {
        fprintf(stderr, "filedist_server: %s\n", err);
        return 1;
    }
    sh.data = data;
    sh.hello = (struct fd_hello){.file_size = size,
                                 .chunk_size = (uint32_t)chunk,
                                 .chunk_count = fd_chunk_count(size, (uint32_t)chunk),
                                 .up_rate = rate};
    if (fd_pacer_init(&sh.pacer, rate) < 0) {
        fprintf(stderr, "filedist_server: cannot set up the rate limit\n");
        free(data);
        return 1;
    }
    io_ignore_sigpipe();
    cli_catch_stop_signals();
    int lfd = net_listen(bind, port, SOCK_STREAM, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "filedist_server: %s\n", err);
        free(data);
        return 1;
    }
    cli_announce_listening(lfd);

    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = cli_accept(lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) {
            if (!cli_stop_requested)
                perror("filedist_server: accept");
            break;
        }
        struct client *c = malloc(sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->sh = &sh;
        net_addr_str((struct sockaddr *)&ss, c->who, sizeof c->who);
        if (verbose) {
            printf("%s: connected\n", c->who);
            fflush(stdout);
        }
        pthread_t tid;
        if (thread_start(&tid, client_thread, c, true, 0) != 0) {
            close(fd);
            free(c);
        }
    }
    /* Threads still sending use data and the pacer: a real server would count and wait for
     * them; this one exits, which ends them too. */
    close(lfd);
    return 0;
}
