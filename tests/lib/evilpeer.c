/*
 * evilpeer.c - a scripted misbehaving peer for the hostile-peer tests; see evilpeer.h.
 */
#include "evilpeer.h"
#include "metainfo.h"
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ep_scaled_ms(int ms)
{
    const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
    double k = m != NULL ? atof(m) : 1.0;
    return k > 1.0 ? (int)(ms * k) : ms;
}

int ep_load_torrent(struct ep *e, const char *path, unsigned tag)
{
    memset(e, 0, sizeof *e);
    e->fd = -1;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    static unsigned char buf[1 << 20]; /* test torrents are a few KiB; one test thread loads */
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct metainfo m;
    metainfo_init(&m);
    char err[256];
    if (metainfo_parse(&m, buf, n, err, sizeof err) < 0)
        return -1;
    memcpy(e->info_hash, m.info_hash, 20);
    e->geom.piece_count = m.piece_count;
    e->geom.piece_length = m.piece_length;
    e->geom.total_length = m.total_length;
    metainfo_free(&m);
    char id[32];
    snprintf(id, sizeof id, "-EV0001-%012u", tag);
    memcpy(e->peer_id, id, 20);
    return 0;
}

int ep_connect(struct ep *e, int port)
{
    e->fd = tk_connect_port("127.0.0.1", port);
    if (e->fd < 0)
        return -1;
    wire_framer_init(&e->framer, true, wire_max_len_for(e->geom.piece_count));
    e->framer_ready = true;
    e->in_start = e->in_end = 0;
    return 0;
}

void ep_close(struct ep *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
    if (e->framer_ready)
        wire_framer_free(&e->framer);
    e->framer_ready = false;
}

int ep_send(struct ep *e, const void *buf, size_t n)
{
    /* send() with MSG_NOSIGNAL where there is one; the test library ignores SIGPIPE anyway. */
#ifdef MSG_NOSIGNAL
    int flags = MSG_NOSIGNAL;
#else
    int flags = 0;
#endif
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = send(e->fd, p, n, flags);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into e->in, waiting until deadline. Returns bytes read, 0 when the victim
 * closed (end of stream or reset), -1 on time out. */
static ssize_t fill(struct ep *e, long long deadline)
{
    if (e->in_start == e->in_end)
        e->in_start = e->in_end = 0;
    for (;;) {
        long long left = deadline - tk_now_ms();
        if (left < 0 || tk_wait_readable(e->fd, (int)left) != 1)
            return -1;
        ssize_t r = read(e->fd, e->in + e->in_end, sizeof e->in - e->in_end);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return 0; /* a reset counts as closing, as a peer sees it */
        e->in_end += (size_t)r;
        return r;
    }
}

/* Feeds buffered bytes to the framer until it yields a frame. Returns the wire_frame_result or a
 * negative wire_err; WIRE_NEED_MORE when the buffer ran dry. */
static int feed(struct ep *e, struct wire_handshake *hs, struct wire_msg *m)
{
    while (e->in_start < e->in_end) {
        size_t used = 0;
        int r = wire_framer_feed(&e->framer, e->in + e->in_start, e->in_end - e->in_start, &used,
                                 hs, m);
        e->in_start += used;
        if (r != WIRE_NEED_MORE)
            return r;
    }
    return WIRE_NEED_MORE;
}

int ep_handshake(struct ep *e, int timeout_ms)
{
    unsigned char hs_bytes[WIRE_HANDSHAKE_LEN];
    struct wire_handshake hs = {{0}, {0}, {0}};
    memcpy(hs.info_hash, e->info_hash, 20);
    memcpy(hs.peer_id, e->peer_id, 20);
    wire_handshake_encode(hs_bytes, &hs);
    if (ep_send(e, hs_bytes, sizeof hs_bytes) < 0)
        return -1;
    long long deadline = tk_now_ms() + timeout_ms;
    struct wire_msg m;
    for (;;) {
        int r = feed(e, &hs, &m);
        if (r == WIRE_GOT_HANDSHAKE)
            return 0;
        if (r != WIRE_NEED_MORE || fill(e, deadline) <= 0)
            return -1;
    }
}

int ep_next_msg(struct ep *e, int timeout_ms, struct wire_msg *m)
{
    long long deadline = tk_now_ms() + timeout_ms;
    struct wire_handshake hs;
    for (;;) {
        int r = feed(e, &hs, m);
        if (r == WIRE_GOT_MESSAGE)
            return 1;
        if (r < 0)
            return 0; /* the victim broke the protocol: treat it as the end */
        if (r != WIRE_NEED_MORE)
            continue; /* a handshake not taken by ep_handshake: skip it */
        ssize_t n = fill(e, deadline);
        if (n <= 0)
            return n == 0 ? 0 : -1;
    }
}

int ep_wait_type(struct ep *e, int type, int timeout_ms, struct wire_msg *m)
{
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - tk_now_ms();
        int r = ep_next_msg(e, left > 0 ? (int)left : 0, m);
        if (r != 1 || m->type == type)
            return r;
    }
}

long long ep_wait_closed(struct ep *e, int timeout_ms)
{
    long long start = tk_now_ms(), deadline = start + timeout_ms;
    for (;;) {
        e->in_start = e->in_end = 0; /* discard */
        ssize_t r = fill(e, deadline);
        if (r == 0)
            return tk_now_ms() - start;
        if (r < 0)
            return -1;
    }
}

long ep_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int ep_fd_count(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ===================================================================== the bad seeder ===== */

/* Answers every request with a block of wrong bytes until the victim closes or we are stopped. */
static void *bad_seeder_main(void *arg)
{
    struct ep_bad_seeder *b = arg;
    unsigned char *msg = malloc(WIRE_PIECE_HEADER_SIZE + WIRE_MAX_BLOCK_LEN);
    unsigned char *junk = malloc(WIRE_MAX_BLOCK_LEN);
    if (msg == NULL || junk == NULL)
        goto out;
    /* Wrong, but not all one value: a plausible-looking block that fails the piece's hash. */
    for (size_t i = 0; i < WIRE_MAX_BLOCK_LEN; i++)
        junk[i] = (unsigned char)(i * 31 + 7);
    while (!atomic_load(&b->stop)) {
        struct wire_msg m;
        int r = ep_next_msg(&b->e, 100, &m);
        if (r == 0) {
            atomic_store(&b->closed_at_ms, tk_now_ms());
            atomic_store(&b->closed, true);
            break;
        }
        if (r < 0 || m.type != WIRE_REQUEST)
            continue;
        size_t n = wire_put_piece(msg, WIRE_PIECE_HEADER_SIZE + WIRE_MAX_BLOCK_LEN, m.index,
                                  m.begin, junk, m.length);
        if (n == 0 || ep_send(&b->e, msg, n) < 0)
            continue; /* the next read sees the close */
        atomic_fetch_add(&b->blocks_sent, 1);
    }
out:
    free(msg);
    free(junk);
    return NULL;
}

int ep_bad_seeder_start(struct ep_bad_seeder *b, int port, int timeout_ms)
{
    atomic_init(&b->stop, false);
    atomic_init(&b->closed, false);
    atomic_init(&b->blocks_sent, 0);
    atomic_init(&b->closed_at_ms, 0);
    if (ep_connect(&b->e, port) < 0)
        return -1;
    if (ep_handshake(&b->e, timeout_ms) < 0)
        goto fail;
    /* "I have every piece, and you may ask": a bitfield of all ones, then unchoke. */
    size_t nbytes = (b->e.geom.piece_count + 7) / 8;
    unsigned char *bits = calloc(1, nbytes);
    unsigned char *msg = malloc(WIRE_BITFIELD_HEADER_SIZE + nbytes + WIRE_SIMPLE_SIZE);
    if (bits == NULL || msg == NULL) {
        free(bits);
        free(msg);
        goto fail;
    }
    for (uint32_t i = 0; i < b->e.geom.piece_count; i++)
        bits[i / 8] |= (unsigned char)(0x80u >> (i % 8));
    size_t n = wire_put_bitfield(msg, WIRE_BITFIELD_HEADER_SIZE + nbytes, bits, nbytes);
    n += wire_put_unchoke(msg + n);
    int sent = ep_send(&b->e, msg, n);
    free(bits);
    free(msg);
    if (sent < 0 || pthread_create(&b->thread, NULL, bad_seeder_main, b) != 0)
        goto fail;
    return 0;
fail:
    ep_close(&b->e);
    return -1;
}

void ep_bad_seeder_stop(struct ep_bad_seeder *b)
{
    atomic_store(&b->stop, true);
    /* Unblocks a send the victim is not reading; the thread then sees stop. */
    shutdown(b->e.fd, SHUT_RDWR);
    pthread_join(b->thread, NULL);
    ep_close(&b->e);
}
