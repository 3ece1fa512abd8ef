/*
 * tcp_upper_server3 - one thread per client.
 *
 * The main thread only accepts; each client gets its own thread running the same upper_session()
 * as tcp_upper_server2. A client that connects and stays silent now blocks only its own thread.
 * Three details every threaded server needs:
 * - the new socket goes to its thread in a heap block, never as &fd: the main thread overwrites
 *   its fd variable at the next accept(), perhaps before the new thread has read it;
 * - threads are detached, so nobody has to join them and their resources return when they end;
 * - a cap on concurrent clients, so a flood of connections cannot exhaust threads or memory.
 */
#include "cli.h"
#include "io.h"
#include "net.h"
#include "threads.h"
#include "upper_session.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] =
    "usage: tcp_upper_server3 [-p PORT] [-b ADDR] [-v] [--max-clients N]\n"
    "A TCP uppercase server with one thread per client.\n"
    "  -p, --port PORT        port to listen on (default 12000; 0 picks a free one)\n"
    "  -b, --bind ADDR        address to bind (default: every IPv6 and IPv4 address)\n"
    "  -v, --verbose          print each client's address and source port as it comes and goes\n"
    "  --max-clients N        serve at most N clients at once (default 1024); others are told\n"
    "                         the server is busy\n"
    "  -h, --help             show this help\n";

/* What one client thread needs; allocated by the main thread, freed by the client thread. */
struct client {
    int fd;
    int verbose;
    char who[NET_ADDRSTRLEN];
};

static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static long active_clients = 0;

/* Takes a client slot if one is free. Returns 1 on success, 0 when the server is full. */
static int take_slot(long max)
{
    pthread_mutex_lock(&active_lock);
    int ok = active_clients < max;
    if (ok)
        active_clients++;
    pthread_mutex_unlock(&active_lock);
    return ok;
}

/* Gives a client slot back. */
static void give_slot(void)
{
    pthread_mutex_lock(&active_lock);
    active_clients--;
    pthread_mutex_unlock(&active_lock);
}

/* Runs one client's session, then gives its slot back. */
static void *client_thread(void *arg)
{
    struct client *c = arg;
    if (upper_session(c->fd) < 0 && c->verbose)
        printf("client %s: %s\n", c->who, strerror(errno));
    close(c->fd);
    if (c->verbose) {
        printf("client %s left\n", c->who);
        fflush(stdout);
    }
    free(c);
    give_slot();
    return NULL;
}

int main(int argc, char **argv)
{
    struct server_opts o;
    int rc = cli_server_opts(argc, argv, usage, 1024, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    char err[NET_ERRLEN];
    int lfd = net_listen(o.bind, o.port, SOCK_STREAM, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "tcp_upper_server3: %s\n", err);
        return 1;
    }
    io_ignore_sigpipe();
    cli_catch_stop_signals();
    cli_announce_listening(lfd);

    while (!cli_stop_requested) {
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        int fd = accept(lfd, (struct sockaddr *)&peer, &peerlen);
        if (fd < 0) {
            if (errno != EINTR)
                fprintf(stderr, "tcp_upper_server3: accept: %s\n", strerror(errno));
            continue;
        }
        if (!take_slot(o.max_clients)) {
            static const char busy[] = "error: server busy, try again later\n";
            (void)writen(fd, busy, sizeof busy - 1);
            close(fd);
            continue;
        }
        struct client *c = malloc(sizeof *c);
        if (c == NULL) {
            close(fd);
            give_slot();
            continue;
        }
        c->fd = fd;
        c->verbose = o.verbose;
        net_addr_str((struct sockaddr *)&peer, c->who, sizeof c->who);
        if (o.verbose) {
            printf("client %s connected\n", c->who);
            fflush(stdout);
        }
        /* A session needs about 10 KiB of stack; a small stack lets a thousand clients fit. */
        pthread_t tid;
        int e = thread_start(&tid, client_thread, c, true, 256 * 1024);
        if (e != 0) {
            fprintf(stderr, "tcp_upper_server3: cannot start a thread: %s\n", strerror(e));
            close(fd);
            free(c);
            give_slot();
        }
    }
    close(lfd);
    return 0;
}
