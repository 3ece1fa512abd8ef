/*
 * udp_exchange.h - one line out and its reply back, over a network that may lose, repeat, delay
 * and forge datagrams: the heart of udp_upper_client.
 *
 * The wire format is the textbook's (the bare line, no sequence number), so a reply is known by its
 * text alone: it must come from the server's address and equal the line in capitals.
 */
#ifndef UDP_EXCHANGE_H
#define UDP_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
    UDP_MAX_DATAGRAM = 65507, /* the largest UDP payload over IPv4: 65535 - 8 (UDP) - 20 (IP) */
    UDP_MAX_WAIT_MS = 60000   /* the longest wait for one try: the doubling stops here */
};

/* Where the exchange reads the time and how it waits for a datagram. udp_client_init() sets the
 * real ones: the monotonic clock (common/clock.h) and poll(). The tests put a scripted network
 * behind them whose clock moves only when the code waits, so they check every wait to the
 * millisecond, on a loaded machine too. */
struct udp_clock {
    /* Milliseconds since some fixed moment; only differences mean anything. */
    uint64_t (*now_ms)(void *ctx);
    /* Waits until fd is readable or timeout_ms (0 or more) have passed. Returns 1 when fd is
     * readable, 0 when the time is up, -1 on an error (errno set). EINTR is handled inside. */
    int (*wait_readable)(void *ctx, int fd, int timeout_ms);
    void *ctx;
};

struct udp_client {
    int fd;                         /* an unconnected UDP socket */
    struct sockaddr_storage server; /* where requests go, and where replies must come from */
    socklen_t serverlen;
    long timeout_ms;                  /* the first wait, 1 to UDP_MAX_WAIT_MS */
    long retries;                     /* how many more tries after the first, 0 or more */
    struct udp_clock clock;           /* how to read the time and wait */
    char reply[UDP_MAX_DATAGRAM + 1]; /* the last datagram received */
};

/* Fills c with the socket, the server's address, the time out and retries, and the real clock. */
void udp_client_init(struct udp_client *c, int fd, const struct sockaddr_storage *server,
                     socklen_t serverlen, long timeout_ms, long retries);

/* Waits up to wait_ms milliseconds, on c->clock, for the reply to the current line: a datagram
 * from c->server whose bytes are exactly want[0..len). Returns 1 when it arrived (it is then in
 * c->reply), 0 when wait_ms have passed, -1 on a socket error (errno set). Any other datagram is
 * ignored and the wait goes on, to the same deadline. */
int udp_await_reply(struct udp_client *c, const char *want, size_t len, long wait_ms);

/* Sends line[0..len) to c->server and waits for its reply, trying up to c->retries more times:
 * the first wait is c->timeout_ms, and each later one twice the one before, but never more than
 * UDP_MAX_WAIT_MS. want must hold len bytes; it receives the expected reply. Returns 1 when the
 * reply came (in c->reply, len bytes), 0 when every try timed out, -1 on a socket error. */
int udp_exchange(struct udp_client *c, const char *line, size_t len, char *want);

#endif
