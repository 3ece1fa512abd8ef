/*
 * fdproto.c - the bytes of the file distribution protocol (see fdproto.h).
 */
#include "fdproto.h"

#include "bytes.h"

#include <string.h>

const char *fd_strerror(int err)
{
    switch (err) {
    case FD_E_MAGIC:
        return "not a filedist server (wrong magic)";
    case FD_E_HELLO:
        return "bad hello: sizes out of range";
    case FD_E_CHUNK:
        return "unexpected chunk index or length";
    case FD_E_HASH:
        return "chunk failed its SHA-1 check";
    case FD_E_EOF:
        return "the server closed the connection early";
    case FD_E_IO:
        return "read or write failed";
    case FD_E_NOMEM:
        return "out of memory";
    default:
        return "unknown error";
    }
}

uint32_t fd_chunk_count(uint64_t file_size, uint32_t chunk_size)
{
    if (chunk_size == 0)
        return 0;
    uint64_t n = file_size / chunk_size + (file_size % chunk_size != 0);
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

uint32_t fd_chunk_length(const struct fd_hello *h, uint32_t index)
{
    uint64_t start = (uint64_t)index * h->chunk_size;
    if (index >= h->chunk_count || start >= h->file_size)
        return 0;
    uint64_t left = h->file_size - start;
    return left < h->chunk_size ? (uint32_t)left : h->chunk_size;
}

void fd_put_hello(unsigned char out[FD_HELLO_LEN], const struct fd_hello *h)
{
    memcpy(out, FD_MAGIC, 4);
    put_u64be(out + 4, h->file_size);
    put_u32be(out + 12, h->chunk_size);
    put_u32be(out + 16, h->chunk_count);
    put_u64be(out + 20, h->up_rate);
}

int fd_parse_hello(const unsigned char in[FD_HELLO_LEN], struct fd_hello *h)
{
    if (memcmp(in, FD_MAGIC, 4) != 0)
        return FD_E_MAGIC;
    h->file_size = get_u64be(in + 4);
    h->chunk_size = get_u32be(in + 12);
    h->chunk_count = get_u32be(in + 16);
    h->up_rate = get_u64be(in + 20);
    /* Every size is checked before the client trusts it with a loop or an allocation. */
    if (h->chunk_size == 0 || h->chunk_size > FD_MAX_CHUNK_SIZE ||
        h->file_size > FD_MAX_FILE_SIZE ||
        h->chunk_count != fd_chunk_count(h->file_size, h->chunk_size))
        return FD_E_HELLO;
    return 0;
}

void fd_put_chunk_header(unsigned char out[FD_CHUNK_HEADER_LEN], const struct fd_chunk *c)
{
    put_u32be(out, c->index);
    put_u32be(out + 4, c->length);
    memcpy(out + 8, c->sha1, FD_HASH_LEN);
}

int fd_parse_chunk_header(const unsigned char in[FD_CHUNK_HEADER_LEN], const struct fd_hello *h,
                          uint32_t want_index, struct fd_chunk *c)
{
    c->index = get_u32be(in);
    c->length = get_u32be(in + 4);
    memcpy(c->sha1, in + 8, FD_HASH_LEN);
    if (c->index != want_index || c->length != fd_chunk_length(h, c->index) || c->length == 0)
        return FD_E_CHUNK;
    return 0;
}
