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
    /* TODO(lab1): write udp_await_reply(). README.md says what it must do. */
    (void)c;
    (void)want;
    (void)len;
    (void)wait_ms;
    return -1;
}

int udp_exchange(struct udp_client *c, const char *line, size_t len, char *want)
{
    /* TODO(lab1): write udp_exchange(). README.md says what it must do. */
    (void)c;
    (void)line;
    (void)len;
    (void)want;
    return 0;
}
