/*
 * fdproto.h - the file distribution protocol of lab 4: one server sends one file to each client,
 * in chunks, each chunk preceded by its SHA-1 so that the client can check it. Sans-I/O: these
 * functions turn numbers into bytes and bytes into numbers; fdtransfer.c moves them.
 *
 * Everything on the wire has an explicit size and is big-endian (minitorrent/core/bytes.h):
 *
 *   the hello, once, server to client (FD_HELLO_LEN = 28 bytes):
 *     magic "FDS1" (4) | file size (8) | chunk size (4) | chunk count (4) | upload rate u_s (8)
 *   then each chunk, in order (FD_CHUNK_HEADER_LEN = 28 bytes, then the data):
 *     chunk index (4) | data length (4) | SHA-1 of the data (20) | the data
 *
 * The server's upload rate is in the hello so that the client can print the client-server bound
 * N*F/u_s next to the time it measured (0 means unlimited). A real protocol would also carry the
 * file's name and a hash of the whole file; BitTorrent puts both in the .torrent (lab 5).
 */
#ifndef FDPROTO_H
#define FDPROTO_H

#include <stddef.h>
#include <stdint.h>

#define FD_MAGIC "FDS1"
#define FD_HELLO_LEN 28
#define FD_CHUNK_HEADER_LEN 28
#define FD_HASH_LEN 20
#define FD_CHUNK_SIZE (256u * 1024u)  /* the course notes' 256 KiB chunks */
#define FD_MAX_CHUNK_SIZE (4u << 20)  /* the largest chunk a client accepts: 4 MiB */
#define FD_MAX_FILE_SIZE (1ull << 40) /* the largest file a client accepts: 1 TiB */

/* What the hello says. */
struct fd_hello {
    uint64_t file_size;
    uint32_t chunk_size;
    uint32_t chunk_count;
    uint64_t up_rate; /* the server's upload limit in bytes per second; 0: unlimited */
};

/* What a chunk header says. */
struct fd_chunk {
    uint32_t index;
    uint32_t length;
    unsigned char sha1[FD_HASH_LEN];
};

/* Errors, as negative numbers; fd_strerror() names them. */
enum fd_error {
    FD_E_MAGIC = -1, /* the stream does not start with "FDS1" */
    FD_E_HELLO = -2, /* a hello whose sizes are out of range or do not add up */
    FD_E_CHUNK = -3, /* a chunk header with the wrong index or length */
    FD_E_HASH = -4,  /* a chunk whose data does not match its SHA-1 */
    FD_E_EOF = -5,   /* the stream ended inside the transfer */
    FD_E_IO = -6,    /* a read or write failed: errno says why */
    FD_E_NOMEM = -7
};

const char *fd_strerror(int err);

/* The number of chunks of size chunk_size that a file of file_size bytes needs. */
uint32_t fd_chunk_count(uint64_t file_size, uint32_t chunk_size);

/* The length of chunk index of the file the hello describes (the last is usually shorter). */
uint32_t fd_chunk_length(const struct fd_hello *h, uint32_t index);

/* Writes the FD_HELLO_LEN bytes of the hello into out. */
void fd_put_hello(unsigned char out[FD_HELLO_LEN], const struct fd_hello *h);

/* Reads a hello from its FD_HELLO_LEN bytes. Returns 0, FD_E_MAGIC when the magic is wrong, or
 * FD_E_HELLO when the chunk size is 0 or above FD_MAX_CHUNK_SIZE, the file size above
 * FD_MAX_FILE_SIZE, or the chunk count is not fd_chunk_count(file size, chunk size). */
int fd_parse_hello(const unsigned char in[FD_HELLO_LEN], struct fd_hello *h);

/* Writes the FD_CHUNK_HEADER_LEN bytes of a chunk header into out. */
void fd_put_chunk_header(unsigned char out[FD_CHUNK_HEADER_LEN], const struct fd_chunk *c);

/* Reads a chunk header and checks it against what the hello promised: the chunk must be the one
 * expected next (index == want_index) and its length fd_chunk_length(h, index). Returns 0 or
 * FD_E_CHUNK. The length is checked before the client reads or allocates anything for the data. */
int fd_parse_chunk_header(const unsigned char in[FD_CHUNK_HEADER_LEN], const struct fd_hello *h,
                          uint32_t want_index, struct fd_chunk *c);

#endif
