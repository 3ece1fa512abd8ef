/*
 * evilpeer.h - a scripted BitTorrent peer for tests, which connects to a running minitorrent and
 * misbehaves in exactly one way.
 *
 * It builds its bytes with the core's own encoders (wire_handshake_encode, wire_put_*), so every
 * byte is right except the one fault a test puts in, and it reads the victim's replies with the
 * core's framer, always with a deadline (poll), never with a blocking read. Besides the peer it
 * offers two probes of the victim process, its resident memory and its open descriptors, which
 * read /proc and return -1 where there is none (the caller then skips with a reason).
 *
 * One bad seeder (ep_bad_seeder_*) runs in a thread of the test: it offers every piece and answers
 * each request with wrong bytes, so a downloader that trusts it never finishes a piece.
 */
#ifndef EVILPEER_H
#define EVILPEER_H

#include "wire.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* EP_SANITIZED is 1 in a build with ASan or TSan (the test and the programs it runs are built
 * alike), where memory figures are inflated by the sanitizer's own bookkeeping. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EP_SANITIZED 1
#endif
#endif
#ifndef EP_SANITIZED
#define EP_SANITIZED 0
#endif

/* One connection to the victim. */
struct ep {
    int fd;
    unsigned char info_hash[20]; /* what our handshake names; ep_load_torrent fills it */
    unsigned char peer_id[20];   /* ours: "-EV0001-" and a number */
    struct wire_geometry geom;   /* the torrent's pieces, for bitfields and requests */
    struct wire_framer framer;   /* parses what the victim sends back */
    bool framer_ready;
    unsigned char in[65536]; /* bytes read but not yet fed to the framer: [in_start, in_end) */
    size_t in_start, in_end;
};

/* Reads the .torrent file at path into e (info hash and geometry) and gives e a peer id built
 * from tag. Returns 0 or -1. */
int ep_load_torrent(struct ep *e, const char *path, unsigned tag);

/* Connects to 127.0.0.1:port. Returns 0 or -1. */
int ep_connect(struct ep *e, int port);

/* Closes the connection and frees the framer. */
void ep_close(struct ep *e);

/* Sends n raw bytes; returns 0, or -1 when the victim has closed (EPIPE, ECONNRESET). */
int ep_send(struct ep *e, const void *buf, size_t n);

/* Sends a correct handshake for e->info_hash and waits for the victim's. Returns 0, or -1 when
 * none came within timeout_ms. */
int ep_handshake(struct ep *e, int timeout_ms);

/* Waits for the victim's next message. Returns 1 with *m filled, 0 when the victim closed the
 * connection, -1 on time out. m->data points into the framer until the next call. */
int ep_next_msg(struct ep *e, int timeout_ms, struct wire_msg *m);

/* Waits for a message of the given wire type, skipping others. Returns as ep_next_msg does. */
int ep_wait_type(struct ep *e, int type, int timeout_ms, struct wire_msg *m);

/* Reads and discards whatever arrives until the victim closes the connection (end of stream or
 * reset). Returns the milliseconds it took, or -1 if it was still open after timeout_ms. */
long long ep_wait_closed(struct ep *e, int timeout_ms);

/* Resident memory of process pid in KiB (/proc/PID/status VmRSS); -1 where /proc has none. */
long ep_rss_kib(pid_t pid);

/* Open descriptors of process pid (/proc/PID/fd); -1 where /proc has none. */
int ep_fd_count(pid_t pid);

/* Scales a deadline by CK_TIMEOUT_MULTIPLIER, as Check scales its time outs: the sanitizer runs
 * are several times slower. */
int ep_scaled_ms(int ms);

/* ---- a seeder that sends wrong data ---------------------------------------------------------- */

struct ep_bad_seeder {
    struct ep e;
    pthread_t thread;
    atomic_bool stop;          /* set by ep_bad_seeder_stop */
    atomic_bool closed;        /* the victim closed the connection */
    atomic_uint blocks_sent;   /* wrong blocks delivered */
    atomic_llong closed_at_ms; /* tk_now_ms() when the victim closed it */
};

/* Connects to the victim at port as a seeder of e's torrent (b->e must have been loaded with
 * ep_load_torrent), handshakes, and starts a thread that offers every piece and answers every
 * request with wrong bytes. Returns 0 or -1. */
int ep_bad_seeder_start(struct ep_bad_seeder *b, int port, int timeout_ms);

/* Stops the thread and closes the connection. */
void ep_bad_seeder_stop(struct ep_bad_seeder *b);

#endif
