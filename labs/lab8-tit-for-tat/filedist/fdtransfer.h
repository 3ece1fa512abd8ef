/*
 * fdtransfer.h - moving the file distribution protocol over a connected TCP socket: the server's
 * paced sending of one chunk, the client's checked receiving of one chunk, and the upload limit
 * that every client's thread on the server shares.
 */
#ifndef FDTRANSFER_H
#define FDTRANSFER_H

#include "fdproto.h"
#include "tokenbucket.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The server's upload limit u_s: one token bucket shared by all its client threads, so that the
 * clients together never get more than rate bytes per second, however many there are. */
struct fd_pacer {
    pthread_mutex_t lock;
    struct tokenbucket tb;
};

/* The pacer lets bytes out in slices of this size, so that the clients share the rate fairly. */
#define FD_SLICE (16u * 1024u)

/* Sets up a pacer for rate bytes per second (0: unlimited). Returns 0 or -1. */
int fd_pacer_init(struct fd_pacer *p, uint64_t rate);
void fd_pacer_free(struct fd_pacer *p);

/* Waits until n bytes (at most FD_SLICE) may be sent under the shared limit, and takes them from
 * the bucket. Returns 0. */
int fd_pace(struct fd_pacer *p, size_t n);

/* Sends the hello. Returns 0 or FD_E_IO (errno set). */
int fd_send_hello(int fd, const struct fd_hello *h);

/* Sends chunk index, data[0..len), preceded by its header (with the data's SHA-1), every byte
 * paced by p. Returns 0 or FD_E_IO (errno set; EPIPE when the client has gone). */
int fd_send_chunk(int fd, struct fd_pacer *p, uint32_t index, const unsigned char *data,
                  uint32_t len);

/* Receives and checks the hello. Returns 0 or a negative FD_E_ error. */
int fd_recv_hello(int fd, struct fd_hello *h);

/* Receives chunk index of the file h describes into buf (h->chunk_size bytes of room) and checks
 * it against its SHA-1. Returns the chunk's length, or FD_E_EOF, FD_E_IO, FD_E_CHUNK or FD_E_HASH.
 */
long fd_recv_chunk(int fd, const struct fd_hello *h, uint32_t index, unsigned char *buf);

#endif
