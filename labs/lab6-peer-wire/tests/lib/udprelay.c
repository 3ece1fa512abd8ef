/*
 * udprelay.c - the misbehaving relay: one socket faces the client, one faces the server, and a
 * thread moves datagrams between them according to the options.
 */
#include "udprelay.h"
#include "net.h"
#include "upper.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct udprelay {
    struct udprelay_opts o;
    struct udprelay_stats st;
    int client_side, server_side, forger, stop[2];
    struct sockaddr_storage client;
    socklen_t clientlen;
    unsigned rng;
    char held[65536];
    ssize_t heldlen;        /* -1 when nothing is held */
    int replies_since_hold; /* replies passed since one was held */
    pthread_t thread;
};

/* A small linear congruential generator: the same seed gives the same drops on every machine. */
static double next_random(struct udprelay *r)
{
    r->rng = r->rng * 1103515245u + 12345u;
    return (double)((r->rng >> 8) & 0xffffff) / (double)0x1000000;
}

static int random_drop(struct udprelay *r)
{
    return r->o.drop_rate > 0 && next_random(r) < r->o.drop_rate;
}

static void to_client(struct udprelay *r, int fd, const char *buf, size_t n)
{
    (void)sendto(fd, buf, n, 0, (struct sockaddr *)&r->client, r->clientlen);
}

/* Handles one datagram from the client. */
static void on_request(struct udprelay *r, char *buf, ssize_t n)
{
    int index = r->st.requests++;
    if (r->heldlen >= 0 && r->replies_since_hold > 0) {
        to_client(r, r->client_side, r->held, (size_t)r->heldlen); /* the late reply */
        r->heldlen = -1;
        r->st.late++;
    }
    if (r->o.forge_replies) {
        char fake[65536];
        memcpy(fake, buf, (size_t)n);
        upper_ascii(fake, (size_t)n);
        to_client(r, r->forger, fake, (size_t)n);
        r->st.forged++;
    }
    if (index < r->o.drop_first_requests || random_drop(r)) {
        r->st.dropped++;
        return;
    }
    (void)send(r->server_side, buf, (size_t)n, 0);
}

/* Handles one datagram from the server. */
static void on_reply(struct udprelay *r, char *buf, ssize_t n)
{
    int index = r->st.replies++;
    if (index + 1 == r->o.hold_reply) {
        memcpy(r->held, buf, (size_t)n);
        r->heldlen = n;
        r->replies_since_hold = 0;
        return;
    }
    if (r->o.drop_all_replies || random_drop(r)) {
        r->st.dropped++;
        return;
    }
    to_client(r, r->client_side, buf, (size_t)n);
    r->replies_since_hold++;
}

static void *relay_thread(void *arg)
{
    struct udprelay *r = arg;
    static char buf[65536]; /* one relay at a time per test process */
    for (;;) {
        struct pollfd pfd[3] = {{.fd = r->client_side, .events = POLLIN},
                                {.fd = r->server_side, .events = POLLIN},
                                {.fd = r->stop[0], .events = POLLIN}};
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[2].revents)
            break;
        if (pfd[0].revents & POLLIN) {
            r->clientlen = sizeof r->client;
            ssize_t n = recvfrom(r->client_side, buf, sizeof buf, 0, (struct sockaddr *)&r->client,
                                 &r->clientlen);
            if (n >= 0)
                on_request(r, buf, n);
        }
        if (pfd[1].revents & POLLIN) {
            ssize_t n = recv(r->server_side, buf, sizeof buf, 0);
            if (n >= 0)
                on_reply(r, buf, n);
        }
    }
    return NULL;
}

int udprelay_start(struct udprelay **out, int server_port, const struct udprelay_opts *o)
{
    struct udprelay *r = calloc(1, sizeof *r);
    char err[NET_ERRLEN];
    r->o = *o;
    r->rng = o->seed;
    r->heldlen = -1;
    r->client_side = net_listen("127.0.0.1", "0", SOCK_DGRAM, err, sizeof err);
    r->forger = net_listen("127.0.0.1", "0", SOCK_DGRAM, err, sizeof err);
    r->server_side = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in srv;
    memset(&srv, 0, sizeof srv);
    srv.sin_family = AF_INET;
    srv.sin_port = htons((unsigned short)server_port);
    srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (r->client_side < 0 || r->forger < 0 || r->server_side < 0 ||
        connect(r->server_side, (struct sockaddr *)&srv, sizeof srv) < 0 || pipe(r->stop) < 0) {
        free(r);
        return -1;
    }
    pthread_create(&r->thread, NULL, relay_thread, r);
    *out = r;
    return net_local_port(r->client_side);
}

void udprelay_stop(struct udprelay *r, struct udprelay_stats *stats)
{
    (void)!write(r->stop[1], "x", 1);
    pthread_join(r->thread, NULL);
    if (stats != NULL)
        *stats = r->st;
    close(r->client_side);
    close(r->server_side);
    close(r->forger);
    close(r->stop[0]);
    close(r->stop[1]);
    free(r);
}
