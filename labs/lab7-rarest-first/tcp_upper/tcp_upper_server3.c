/*
 * tcp_upper_server3 - one thread per client.
 *
 * The main thread only accepts; each client gets its own thread running the same upper_session()
 * as tcp_upper_server2. A client that connects and stays silent now blocks only its own thread.
 * Four details every threaded server needs:
 * - the new socket goes to its thread in a heap block, never as &fd: the main thread overwrites
 *   its fd variable at the next accept(), perhaps before the new thread has read it;
 * - threads are detached, so nobody has to join them and their resources return when they end;
 * - a cap on concurrent clients, so a flood of connections cannot exhaust threads or memory;
 * - an idle time out, so clients that connect and say nothing cannot keep every slot for ever.
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
#include <sys/time.h>
#include <unistd.h>

static const char usage[] =
    "usage: tcp_upper_server3 [-p PORT] [-b ADDR] [-v] [--max-clients N] [--idle-secs S]\n"
    "A TCP uppercase server with one thread per client.\n"
    "  -p, --port PORT        port to listen on (default 12000; 0 picks a free one)\n"
    "  -b, --bind ADDR        address to bind (default: every IPv6 and IPv4 address)\n"
    "  -v, --verbose          print each client's address and source port as it comes and goes\n"
    "  --max-clients N        serve at most N clients at once (default 1024); others are told\n"
    "                         the server is busy\n"
    "  --idle-secs S          drop a client that sends nothing (or reads nothing) for S seconds\n"
    "                         (default 60)\n"
    "  -h, --help             show this help\n"
    "Prints \"listening on PORT\" once ready; stops cleanly on Ctrl-C or SIGTERM.\n";

/* What one client's thread needs: allocated by the accept loop, owned and freed by the thread. */
struct client {
    char who[NET_ADDRSTRLEN]; /* the client's address and source port, for messages */
    int fd;
    int verbose;
    long idle_secs;
};

/* The number of clients being served, shared by the accept loop and every client thread. */
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static long active_clients = 0;

/* The lines a client hears when the server will not serve it. */
static const char busy_line[] = "error: server busy, try again later\n";
static const char idle_line[] = "error: idle too long, closing the connection\n";

/* Prints "client WHO EVENT" on stdout when verbose, and flushes it so that a test or a script
 * reading the output through a pipe sees the line at once. */
static void say(int verbose, const char *who, const char *event)
{
    if (verbose) {
        printf("client %s %s\n", who, event);
        fflush(stdout);
    }
}

/* Makes every read() and send() on fd give up after secs seconds without progress: they then fail
 * with EAGAIN (or EWOULDBLOCK), which upper_session() passes on as its -1 and errno. A real server
 * with an event loop keeps a timer per connection instead. Returns 0 or -1. */
static int set_idle_timeout(int fd, long secs)
{
    struct timeval tv = {.tv_sec = secs, .tv_usec = 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return -1;
    return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

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

/* Runs one client's session, then gives its slot back, closes the socket and frees the client. */
static void *client_thread(void *arg)
{
    struct client *c = arg;
    if (set_idle_timeout(c->fd, c->idle_secs) < 0) {
        say(c->verbose, c->who, "not served: cannot set its idle time out");
    } else if (upper_session(c->fd) < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            (void)writen(c->fd, idle_line, sizeof idle_line - 1);
            say(c->verbose, c->who, "was idle too long");
        } else {
            say(c->verbose, c->who, strerror(errno));
        }
    }
    /* The slot goes back, and the line is printed, before the socket closes: a client that sees
     * its connection end can count on both. */
    give_slot();
    say(c->verbose, c->who, "left");
    close(c->fd);
    free(c);
    return NULL;
}

/* Accepts clients on lfd until a stop is requested, each served by a thread of its own, at most
 * max_clients at once. Returns 0 after a stop. */
static int serve(int lfd, const struct server_opts *o)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t peerlen = sizeof peer;
        int fd = cli_accept(lfd, (struct sockaddr *)&peer, &peerlen);
        if (fd < 0) {
            if (cli_stop_requested)
                return 0;
            fprintf(stderr, "tcp_upper_server3: accept: %s\n", strerror(errno));
            continue;
        }
        if (!take_slot(o->max_clients)) {
            (void)writen(fd, busy_line, sizeof busy_line - 1);
            close(fd);
            continue;
        }
        /* Each client's block comes from malloc, so the next accept() cannot overwrite it. */
        struct client *c = malloc(sizeof *c);
        if (c == NULL) {
            give_slot();
            close(fd);
            continue;
        }
        net_addr_str((struct sockaddr *)&peer, c->who, sizeof c->who);
        c->fd = fd;
        c->verbose = o->verbose;
        c->idle_secs = o->idle_secs;
        say(c->verbose, c->who, "connected");
        /* A session needs about 10 KiB of stack; a small stack lets a thousand clients fit. */
        pthread_t tid;
        int e = thread_start(&tid, client_thread, c, true, 256 * 1024);
        if (e != 0) {
            fprintf(stderr, "tcp_upper_server3: cannot start a thread: %s\n", strerror(e));
            give_slot();
            close(fd);
            free(c);
        }
    }
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
    rc = serve(lfd, &o);
    if (rc < 0)
        fprintf(stderr, "tcp_upper_server3: serve() returned -1: the server stops\n");
    /* Client threads still running end with the process: their clients see the connection
     * close. A server that must finish its sessions would count them and wait. */
    close(lfd);
    return rc < 0 ? 1 : 0;
}
