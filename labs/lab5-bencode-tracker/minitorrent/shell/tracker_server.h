/*
 * tracker_server.h - the tracker's sockets: an HTTP tracker (BEP 3, BEP 23, BEP 48) and a UDP
 * tracker (BEP 15) around the sans-I/O tracker core.
 *
 * The core (tracker_http.c, tracker_udp.c, tracker_state.c) parses requests, remembers peers and
 * encodes replies; this module only moves bytes and reads clocks. One thread runs one poll() loop
 * over everything: the HTTP listening socket, every HTTP connection, the UDP socket and a wake-up
 * pipe that tracker_server_stop() writes to. A tracker's work per request is tiny (a hash lookup
 * and a reply of a few hundred bytes), so one thread keeps up with far more announces than a
 * classroom swarm makes, and the tracker state needs no locking against other request handlers.
 *
 * HTTP connections are HTTP/1.0: one request, one reply, then the tracker closes. Each
 * connection is non-blocking, reads into a small fixed buffer (a longer request gets a 400) and
 * has a deadline (a client that connects and never sends is closed). The number of connections is
 * capped; when a new one arrives at the cap, the OLDEST is closed, because the connection that has
 * waited longest without finishing its request is the likeliest to be idle or hostile, and it lets
 * a real client in even during a flood of idle connections.
 *
 * What the tracker remembers, and whom it lets change it, is the core's business (see
 * tracker_state.h): an address gets only a small share of the tables, and an announce changes a
 * peer's entry only from that peer's address and port or with its BEP 7 key. This module passes
 * it the socket's address (never the "ip" parameter) and the key, from HTTP or UDP alike.
 *
 * A swarm (`minitorrent swarm`) or a test starts a tracker in its own process with
 * tracker_server_start() and stops it with tracker_server_stop(); `minitorrent tracker` does the
 * same and waits for a signal in between.
 */
#ifndef TRACKER_SERVER_H
#define TRACKER_SERVER_H

#include "tracker_state.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a tracker is told at start; tracker_server_config_default() fills every field. */
struct tracker_server_config {
    const char *bind;      /* address to listen on; NULL: every interface, IPv6 and IPv4 */
    const char *http_port; /* "0": any free port (default "6969") */
    const char *udp_port;  /* NULL: no UDP tracker; "0": any free port */
    int interval_s;        /* the re-announce interval we tell clients (default 60) */
    int64_t peer_ttl_s;    /* forget a peer silent for longer; 0: twice the interval */
    int expire_every_s;    /* how often stale peers are swept out (default 5) */
    size_t max_conns;      /* HTTP connections open at once (default 256) */
    int conn_timeout_ms;   /* an HTTP connection's whole life: request and reply (default 5000) */
    FILE *log;             /* one line per request when not NULL (the -v option) */
    /* The tracker's clock in seconds, for peer expiry and UDP connection ids. NULL: the system's
     * monotonic clock. A test passes a fake clock to run minutes of tracker life at once. */
    int64_t (*clock_s)(void *ctx);
    void *clock_ctx;
};

/* Fills cfg with the defaults above. */
void tracker_server_config_default(struct tracker_server_config *cfg);

/* Counters a test or a swarm can read while the tracker runs. */
struct tracker_server_stats {
    size_t torrents, peers;  /* what the tracker state holds now */
    size_t http_open;        /* HTTP connections open now */
    uint64_t http_accepted;  /* HTTP connections accepted since start */
    uint64_t http_replied;   /* HTTP replies sent in full */
    uint64_t http_timed_out; /* connections closed at their deadline */
    uint64_t http_evicted;   /* connections closed to make room at the cap */
    uint64_t udp_packets;    /* UDP requests received */
    uint64_t expired;        /* peers forgotten because they stopped announcing */
};

/* The largest HTTP request (request line and headers) the tracker reads; a longer one gets a 400.
 * Real clients send well under 1 KiB. */
enum { TRACKER_SERVER_REQUEST_MAX = 8192 };

struct tracker_conn; /* one HTTP client's state, private to tracker_server.c */
struct pollfd;

/* One running tracker. Caller-owned: tracker_server_start() / tracker_server_stop(). */
struct tracker_server {
    struct tracker_server_config cfg;
    int http_fd, udp_fd; /* listening sockets; udp_fd is -1 without a UDP tracker */
    int http_port;       /* the ports actually bound, useful after asking for port 0 */
    int udp_port;        /* -1 without a UDP tracker */
    char http_url[128];  /* "http://127.0.0.1:6969/announce" */
    char udp_url[128];   /* "udp://127.0.0.1:6969/announce", or "" */
    int wake[2];         /* tracker_server_stop() writes here to end the loop */
    pthread_t thread;
    unsigned char secret[16];   /* keys the UDP connection ids; random at every start */
    uint64_t rng;               /* for choosing which peers a reply lists */
    int64_t next_expire_s;      /* the tracker-clock time of the next sweep */
    struct tracker_conn *conns; /* cfg.max_conns slots; fd -1 marks a free one */
    struct pollfd *pfd;         /* the poll set, rebuilt on every turn of the loop */
    struct tracker_conn **who;  /* who[i] is the connection that pfd[i] watches */

    pthread_mutex_t lock; /* guards state and stats, which tracker_server_stats() also reads */
    struct tracker_state state;
    struct tracker_server_stats stats;
};

/* Binds the sockets, starts the tracker's thread and fills srv->http_port, srv->udp_port and the
 * two URLs. Returns 0, or -1 with a message in err (nothing is left open then). */
int tracker_server_start(struct tracker_server *srv, const struct tracker_server_config *cfg,
                         char *err, size_t errlen);

/* Stops the thread, closes every socket and frees the state. */
void tracker_server_stop(struct tracker_server *srv);

/* Copies the current counters into out. */
void tracker_server_stats(struct tracker_server *srv, struct tracker_server_stats *out);

/* One peer as the tracker knows it, copied out for a read-only view (`tracker --web`). */
struct tracker_server_peer_view {
    unsigned char info_hash[20];
    char addr[48]; /* its IP address as text */
    int port;
    uint64_t left;             /* bytes it still misses, from its latest announce; 0: a seeder */
    int64_t last_seen;         /* the tracker clock's time of that announce */
    uint64_t up_Bps, down_Bps; /* its rates between its last two announces (tracker_state.h) */
};

/* Copies up to cap of the peers the tracker knows, over all torrents, into out (under the
 * tracker's lock) and returns how many it knows in all. Read-only: the tracker is not changed. */
size_t tracker_server_peers(struct tracker_server *srv, struct tracker_server_peer_view *out,
                            size_t cap);

#endif
