/*
 * check_filedist.c - lab 4's client-server file distribution: the protocol's bytes (golden hello
 * and chunk headers, every size check), chunks through a socketpair (a corrupted chunk caught by
 * its SHA-1, a short stream, a chunk longer than promised refused before its data is read), the
 * shared upload limit holding its rate, and the two programs on loopback.
 */
#include "testlib.h"

#include "clock.h"
#include "fdtransfer.h"
#include "net.h"
#include "sha1.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A hello for a file of 600 000 bytes in 256 KiB chunks: two whole chunks and a short one. */
static const struct fd_hello HELLO = {
    .file_size = 600000, .chunk_size = 262144, .chunk_count = 3, .up_rate = 1048576};

static const unsigned char HELLO_BYTES[FD_HELLO_LEN] = {
    'F', 'D', 'S', '1', 0, 0, 0, 0, 0, 0x09, 0x27, 0xc0, 0, 0x04,
    0,   0,   0,   0,   0, 3, 0, 0, 0, 0,    0,    0x10, 0, 0};

/* Fills buf with a pattern that differs from chunk to chunk. */
static void pattern(unsigned char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)((i * 31 + seed * 7) % 251);
}

START_TEST(filedist_hello_golden_and_back)
{
    unsigned char b[FD_HELLO_LEN];
    fd_put_hello(b, &HELLO);
    ck_assert_mem_eq(b, HELLO_BYTES, FD_HELLO_LEN);
    struct fd_hello h;
    memset(&h, 0xee, sizeof h);
    int rc = fd_parse_hello(HELLO_BYTES, &h);
    ck_assert_msg(rc == 0, "fd_parse_hello of a good hello returned %d, expected 0", rc);
    ck_assert_uint_eq(h.file_size, 600000);
    ck_assert_uint_eq(h.chunk_size, 262144);
    ck_assert_uint_eq(h.chunk_count, 3);
    ck_assert_uint_eq(h.up_rate, 1048576);
}
END_TEST

START_TEST(filedist_hello_sizes_checked)
{
    struct fd_hello bad[] = {
        {.file_size = 600000, .chunk_size = 0, .chunk_count = 0},            /* chunks of 0 */
        {.file_size = 600000, .chunk_size = 8u << 20, .chunk_count = 1},     /* above 4 MiB */
        {.file_size = 600000, .chunk_size = 262144, .chunk_count = 2},       /* count too small */
        {.file_size = 600000, .chunk_size = 262144, .chunk_count = 1000000}, /* count too large */
        {.file_size = 1ull << 41, .chunk_size = 4u << 20, .chunk_count = 1u << 19}, /* 2 TiB */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char b[FD_HELLO_LEN];
        fd_put_hello(b, &bad[i]);
        struct fd_hello h;
        int rc = fd_parse_hello(b, &h);
        ck_assert_msg(rc == FD_E_HELLO, "bad hello %zu: fd_parse_hello returned %d, expected %d", i,
                      rc, FD_E_HELLO);
    }
    unsigned char b[FD_HELLO_LEN];
    memcpy(b, HELLO_BYTES, sizeof b);
    b[3] = '2';
    struct fd_hello h;
    ck_assert_int_eq(fd_parse_hello(b, &h), FD_E_MAGIC);
    /* An empty file is one hello and no chunk. */
    fd_put_hello(b, &(struct fd_hello){.file_size = 0, .chunk_size = 262144, .chunk_count = 0});
    ck_assert_int_eq(fd_parse_hello(b, &h), 0);
}
END_TEST

START_TEST(filedist_chunk_header_checked)
{
    struct fd_chunk c = {.index = 2, .length = 600000 - 2 * 262144};
    for (int i = 0; i < FD_HASH_LEN; i++)
        c.sha1[i] = (unsigned char)i;
    unsigned char b[FD_CHUNK_HEADER_LEN];
    fd_put_chunk_header(b, &c);
    static const unsigned char want[8] = {0, 0, 0, 2, 0, 0x01, 0x27, 0xc0};
    ck_assert_mem_eq(b, want, 8);
    ck_assert_mem_eq(b + 8, c.sha1, FD_HASH_LEN);

    struct fd_chunk back;
    int rc = fd_parse_chunk_header(b, &HELLO, 2, &back);
    ck_assert_msg(rc == 0, "the last, short chunk was refused (%d)", rc);
    ck_assert_uint_eq(back.index, 2);
    ck_assert_uint_eq(back.length, 75712);
    ck_assert_mem_eq(back.sha1, c.sha1, FD_HASH_LEN);
    ck_assert_int_eq(fd_parse_chunk_header(b, &HELLO, 1, &back), FD_E_CHUNK); /* out of order */
    c.length = 262144; /* the last chunk claims a whole chunk's length */
    fd_put_chunk_header(b, &c);
    ck_assert_int_eq(fd_parse_chunk_header(b, &HELLO, 2, &back), FD_E_CHUNK);
    c.index = 0;
    c.length = 0xffffffffu; /* a hostile length is refused before any data is read */
    fd_put_chunk_header(b, &c);
    ck_assert_int_eq(fd_parse_chunk_header(b, &HELLO, 0, &back), FD_E_CHUNK);
    c.index = 3; /* past the last chunk */
    c.length = 0;
    fd_put_chunk_header(b, &c);
    ck_assert_int_eq(fd_parse_chunk_header(b, &HELLO, 3, &back), FD_E_CHUNK);
}
END_TEST

/* The sending side of a socketpair test, run in a thread: the hello, then every chunk. */
struct sender {
    int fd;
    const unsigned char *data;
    int rc;
};

static void *send_all(void *arg)
{
    struct sender *s = arg;
    struct fd_pacer p;
    fd_pacer_init(&p, 0);
    s->rc = fd_send_hello(s->fd, &HELLO);
    for (uint32_t i = 0; s->rc == 0 && i < HELLO.chunk_count; i++)
        s->rc = fd_send_chunk(s->fd, &p, i, s->data + (size_t)i * HELLO.chunk_size,
                              fd_chunk_length(&HELLO, i));
    fd_pacer_free(&p);
    close(s->fd);
    return NULL;
}

START_TEST(filedist_chunks_through_a_socket)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    unsigned char *data = malloc(HELLO.file_size), *buf = malloc(HELLO.chunk_size);
    ck_assert(data != NULL && buf != NULL);
    pattern(data, HELLO.file_size, 1);
    struct sender s = {.fd = sv[0], .data = data, .rc = -99};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, send_all, &s), 0);
    struct fd_hello h;
    ck_assert_int_eq(fd_recv_hello(sv[1], &h), 0);
    for (uint32_t i = 0; i < h.chunk_count; i++) {
        long n = fd_recv_chunk(sv[1], &h, i, buf);
        ck_assert_msg(n == (long)fd_chunk_length(&h, i),
                      "chunk %u: fd_recv_chunk returned %ld (%s)", i, n,
                      n < 0 ? fd_strerror((int)n) : "a wrong length");
        ck_assert_msg(memcmp(buf, data + (size_t)i * h.chunk_size, (size_t)n) == 0,
                      "chunk %u arrived with other bytes than were sent", i);
    }
    pthread_join(t, NULL);
    ck_assert_msg(s.rc == 0, "fd_send_chunk failed: %d", s.rc);
    close(sv[1]);
    free(data);
    free(buf);
}
END_TEST

/* Writes a chunk header for data (with its true SHA-1, or a wrong one) and then data itself. */
static void write_chunk(int fd, uint32_t index, const unsigned char *data, uint32_t len,
                        uint32_t claimed_len, int corrupt)
{
    struct fd_chunk c = {.index = index, .length = claimed_len};
    sha1(data, len, c.sha1);
    unsigned char b[FD_CHUNK_HEADER_LEN];
    fd_put_chunk_header(b, &c);
    ck_assert_int_eq(tk_send_all(fd, b, sizeof b), (ssize_t)sizeof b);
    unsigned char *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    if (corrupt)
        copy[len / 2] ^= 0x01; /* one bit, in the middle */
    ck_assert_int_eq(tk_send_all(fd, copy, len), (ssize_t)len);
    free(copy);
}

/* A hello with small chunks (3 of them, the last of 1808 bytes), so that a whole chunk fits in a
 * socketpair's buffer and a test can write it before reading, without a second thread. */
static const struct fd_hello SMALL = {.file_size = 10000, .chunk_size = 4096, .chunk_count = 3};

/* Writes a chunk (see write_chunk), then lets fd_recv_chunk read it on the other end. */
static long recv_after(int send_fd, int recv_fd, uint32_t index, const unsigned char *data,
                       uint32_t len, uint32_t claimed, int corrupt, int close_after)
{
    write_chunk(send_fd, index, data, len, claimed, corrupt);
    if (close_after)
        shutdown(send_fd, SHUT_WR);
    unsigned char buf[4096];
    return fd_recv_chunk(recv_fd, &SMALL, index, buf);
}

START_TEST(filedist_recv_catches_bad_chunks)
{
    unsigned char data[4096];
    pattern(data, sizeof data, 2);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    long rc = recv_after(sv[0], sv[1], 0, data, 4096, 4096, 1, 0);
    ck_assert_msg(rc == FD_E_HASH,
                  "a chunk with one bit flipped: fd_recv_chunk returned %ld, "
                  "expected FD_E_HASH (%d)",
                  rc, FD_E_HASH);
    rc = recv_after(sv[0], sv[1], 1, data, 4096, 4096, 0, 0);
    ck_assert_msg(rc == 4096, "a good chunk after a bad one: fd_recv_chunk returned %ld", rc);
    close(sv[0]);
    close(sv[1]);

    /* The stream ends in the middle of a chunk's data. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rc = recv_after(sv[0], sv[1], 2, data, 1000, 1808, 0, 1);
    ck_assert_msg(rc == FD_E_EOF,
                  "a stream that ends inside a chunk: returned %ld, expected "
                  "FD_E_EOF (%d)",
                  rc, FD_E_EOF);
    close(sv[0]);
    close(sv[1]);

    /* The stream ends inside a chunk's header, after 3 of its 28 bytes: that is the end of the
     * stream, not a bad header (the bytes that never came must not be parsed). */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(tk_send_all(sv[0], "\xff\xff\xff", 3), 3);
    shutdown(sv[0], SHUT_WR);
    unsigned char buf[4096];
    rc = fd_recv_chunk(sv[1], &SMALL, 2, buf);
    ck_assert_msg(rc == FD_E_EOF,
                  "a stream that ends after 3 bytes of a chunk header: fd_recv_chunk returned "
                  "%ld, expected FD_E_EOF (%d)",
                  rc, FD_E_EOF);
    close(sv[0]);
    close(sv[1]);

    /* A header that claims more than the chunk can hold is refused at once: its data is not
     * awaited (nothing follows the header here, so waiting for it would hang). */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    rc = recv_after(sv[0], sv[1], 0, data, 0, 1u << 30, 0, 0);
    ck_assert_msg(rc == FD_E_CHUNK, "a chunk of 1 GiB: returned %ld, expected FD_E_CHUNK", rc);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(filedist_pace_holds_the_rate)
{
    /* 256 KiB at 256 KiB/s, in 16 KiB slices. The bucket starts with one slice, so the rest, 240
     * KiB, must take at least 0.94 s; 0.85 s leaves room for the clock's granularity. */
    struct fd_pacer p;
    ck_assert_int_eq(fd_pacer_init(&p, 256 * 1024), 0);
    uint64_t t0 = clock_ms();
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(fd_pace(&p, FD_SLICE), 0);
    uint64_t ms = clock_ms() - t0;
    fd_pacer_free(&p);
    ck_assert_msg(ms >= 850, "256 KiB went through a 256 KiB/s limit in %llu ms",
                  (unsigned long long)ms);
    /* Unlimited means no wait at all. */
    ck_assert_int_eq(fd_pacer_init(&p, 0), 0);
    t0 = clock_ms();
    for (int i = 0; i < 1000; i++)
        fd_pace(&p, FD_SLICE);
    ck_assert_uint_lt(clock_ms() - t0, 500);
    fd_pacer_free(&p);
}
END_TEST

/* fd_send_chunk must take every byte it sends, header included, from the shared pacer: the upload
 * limit is on the whole server. The pacer's first burst is used up first, so that the 1836 bytes
 * of a small chunk (28 of header, 1808 of data) must wait for tokens at 8 KiB/s: about 220 ms. */
START_TEST(filedist_send_chunk_is_paced)
{
    unsigned char data[1808], buf[4096];
    pattern(data, sizeof data, 3);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct fd_pacer p;
    ck_assert_int_eq(fd_pacer_init(&p, 8192), 0);
    fd_pace(&p, FD_SLICE);
    uint64_t t0 = clock_ms();
    ck_assert_int_eq(fd_send_chunk(sv[0], &p, 2, data, sizeof data), 0);
    uint64_t ms = clock_ms() - t0;
    fd_pacer_free(&p);
    ck_assert_msg(ms >= 150,
                  "a chunk of 1808 bytes sent through an 8 KiB/s pacer with no tokens left took "
                  "%llu ms, expected at least 150 (about 220): fd_send_chunk does not pace what "
                  "it sends",
                  (unsigned long long)ms);
    long n = fd_recv_chunk(sv[1], &SMALL, 2, buf);
    ck_assert_msg(n == (long)sizeof data, "the paced chunk: fd_recv_chunk returned %ld", n);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* Writes a file of n pattern bytes into dir and returns its path in a static buffer. */
static const char *make_file(const char *dir, size_t n)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/file", dir);
    unsigned char *b = malloc(n);
    pattern(b, n, 3);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
    free(b);
    return path;
}

static int same_file(const char *a, const char *b)
{
    FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
    int same = f != NULL && g != NULL;
    while (same) {
        int x = fgetc(f), y = fgetc(g);
        if (x != y)
            same = 0;
        if (x == EOF || y == EOF)
            break;
    }
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    return same;
}

START_TEST(filedist_programs_distribute_a_file)
{
    char dir[] = "/tmp/check_filedist.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *file = make_file(dir, 700000);
    struct tk_proc srv = {0}, cli = {0};
    char *sargv[] = {"filedist_server", "-p", "0", "--up-rate", "4M", (char *)file, NULL};
    ck_assert_int_eq(tk_spawn(&srv, sargv), 0);
    int port = tk_wait_listening(&srv, 5000);
    ck_assert_msg(port > 0, "filedist_server did not say \"listening on PORT\"");
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    char *cargv[] = {"filedist_client", "127.0.0.1", portstr, "-n", "3", "-o", dir, NULL};
    cli.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&cli, cargv), 0);
    ck_assert_int_eq(tk_read_all(&cli, 20000), 0);
    int st = tk_wait_exit(&cli, 5000);
    tk_stop(&srv, 2000);
    ck_assert_msg(st == 0, "filedist_client exited with %d:\n%s", st, cli.out);
    for (int i = 1; i <= 3; i++) {
        char copy[300];
        snprintf(copy, sizeof copy, "%s/copy%d", dir, i);
        ck_assert_msg(same_file(file, copy), "%s differs from the file", copy);
        unlink(copy);
    }
    ck_assert_msg(strstr(cli.out, "every chunk verified") != NULL &&
                      strstr(cli.out, "D / bound") != NULL,
                  "the client's report lacks the verification or the bound:\n%s", cli.out);
    unlink(file);
    rmdir(dir);
}
END_TEST

START_TEST(filedist_client_refuses_a_corrupt_chunk)
{
    /* A fake server: a good hello, then chunk 0 with one bit of its data flipped. */
    char err[256];
    int lfd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof err);
    ck_assert_msg(lfd >= 0, "%s", err);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", net_local_port(lfd));
    struct tk_proc cli = {0};
    cli.merge_stderr = 1;
    char *cargv[] = {"filedist_client", "127.0.0.1", portstr, NULL};
    ck_assert_int_eq(tk_spawn(&cli, cargv), 0);
    int fd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    struct fd_hello h = {.file_size = 1000, .chunk_size = 262144, .chunk_count = 1};
    unsigned char b[FD_HELLO_LEN];
    fd_put_hello(b, &h);
    ck_assert_int_eq(tk_send_all(fd, b, sizeof b), (ssize_t)sizeof b);
    unsigned char data[1000];
    pattern(data, sizeof data, 4);
    write_chunk(fd, 0, data, sizeof data, sizeof data, 1);
    ck_assert_int_eq(tk_read_all(&cli, 10000), 0);
    int st = tk_wait_exit(&cli, 5000);
    close(fd);
    close(lfd);
    ck_assert_msg(st == 1 && strstr(cli.out, "chunk 0: chunk failed its SHA-1 check") != NULL,
                  "a corrupted chunk: filedist_client exited with %d and said:\n%s", st, cli.out);
}
END_TEST

static Suite *filedist_suite(void)
{
    Suite *s = suite_create("filedist");
    /* filedist_: lab 4's protocol, transfer and programs. */
    TCase *tc = tk_tcase(s, "filedist", 30);
    tk_add_test(tc, filedist_hello_golden_and_back);
    tk_add_test(tc, filedist_hello_sizes_checked);
    tk_add_test(tc, filedist_chunk_header_checked);
    tk_add_test(tc, filedist_chunks_through_a_socket);
    tk_add_test(tc, filedist_recv_catches_bad_chunks);
    tk_add_test(tc, filedist_pace_holds_the_rate);
    tk_add_test(tc, filedist_send_chunk_is_paced);
    tk_add_test(tc, filedist_programs_distribute_a_file);
    tk_add_test(tc, filedist_client_refuses_a_corrupt_chunk);
    return s;
}

TK_MAIN(filedist_suite)
