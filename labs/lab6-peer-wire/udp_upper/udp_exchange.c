/*
 * udp_exchange.c - send a line, wait for its reply with a deadline, send again with a doubled
 * wait: the textbook's UDPClient, made to survive a real network.
 */
#include "udp_exchange.h"
#include "clock.h"
#include "net.h"
#include "upper.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

/* The real clock: the monotonic one, which never jumps (see common/clock.h). */
static uint64_t real_now_ms(void *ctx)
{
    (void)ctx;
    return clock_ms();
}

/* The real wait: poll() on one socket. A signal cuts poll() short with EINTR; it then waits again
 * for the time that is left, so the caller's deadline stays where it was. */
static int real_wait_readable(void *ctx, int fd, int timeout_ms)
{
    (void)ctx;
    uint64_t deadline = clock_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = clock_ms();
        int left = now < deadline ? (int)(deadline - now) : 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r > 0;
    }
}

void udp_client_init(struct udp_client *c, int fd, const struct sockaddr_storage *server,
                     socklen_t serverlen, long timeout_ms, long retries)
{
    c->fd = fd;
    c->server = *server;
    c->serverlen = serverlen;
    c->timeout_ms = timeout_ms;
    c->retries = retries;
    c->clock = (struct udp_clock){.now_ms = real_now_ms, .wait_readable = real_wait_readable};
}

int udp_await_reply(struct udp_client *c, const char *want, size_t len, long wait_ms)
{
    /* The deadline is fixed once, here: a stream of stray datagrams must not keep the client
     * waiting for ever by restarting the wait each time one arrives. */
    uint64_t deadline = c->clock.now_ms(c->clock.ctx) + (uint64_t)wait_ms;
    for (;;) {
        uint64_t now = c->clock.now_ms(c->clock.ctx);
        if (now >= deadline)
            return 0;
        int r = c->clock.wait_readable(c->clock.ctx, c->fd, (int)(deadline - now));
        if (r <= 0)
            return r;

        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n =
            recvfrom(c->fd, c->reply, sizeof c->reply, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            /* An ICMP "port unreachable" for an earlier datagram can surface here as
             * ECONNREFUSED on some systems; it is no reason to stop waiting. */
            if (errno == EINTR || errno == ECONNREFUSED)
                continue;
            return -1;
        }
        if (!net_same_addr((struct sockaddr *)&from, (struct sockaddr *)&c->server))
            continue; /* not from the server: anyone can send us a datagram */
        if ((size_t)n != len || memcmp(c->reply, want, len) != 0)
            continue; /* a late or duplicated answer to an earlier line */
        return 1;
    }
}

int udp_exchange(struct udp_client *c, const char *line, size_t len, char *want)
{
    memcpy(want, line, len);
    upper_ascii(want, len);
    long wait = c->timeout_ms;
    for (long attempt = 0; attempt <= c->retries; attempt++) {
        if (sendto(c->fd, line, len, 0, (struct sockaddr *)&c->server, c->serverlen) < 0)
            return -1;
        int r = udp_await_reply(c, want, len, wait);
        if (r != 0)
            return r;
        /* Exponential back-off: a congested network gets more time, not more load. The ceiling
         * keeps the wait a sensible time (and an int, for poll()) however many tries there are. */
        wait = wait > UDP_MAX_WAIT_MS / 2 ? UDP_MAX_WAIT_MS : wait * 2;
    }
    return 0;
}
