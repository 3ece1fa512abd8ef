/*
 * check_tcp_framing.c - byte streams have no message boundaries: readn, writen and the line reader.
 *
 * The pitfalls of PITFALLS.md that these helpers exist for, each made to happen on purpose:
 * short reads (a SOCK_SEQPACKET socketpair hands out exactly one written record per read, so a
 * line written byte by byte arrives byte by byte), coalesced lines, EINTR in the middle of a read,
 * partial writes under a signal storm, and EPIPE instead of death by SIGPIPE.
 */
#include "testlib.h"
#include "io.h"
#include "linereader.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Makes a socketpair whose reads return one written record at a time. Returns 0, or skips. */
static int record_pair(int sv[2])
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
}

/* Writes s as records of the given sizes (sizes sum to strlen(s)). */
static void write_records(int fd, const char *s, const size_t *sizes, size_t nsizes)
{
    for (size_t i = 0; i < nsizes; i++) {
        ck_assert_int_eq(write(fd, s, sizes[i]), (ssize_t)sizes[i]);
        s += sizes[i];
    }
}

START_TEST(tcp_framing_readn_collects_one_byte_reads)
{
    int sv[2];
    if (record_pair(sv) < 0)
        tk_skip("no SOCK_SEQPACKET socketpair on this system");
    const char *msg = "0123456789";
    for (size_t i = 0; i < 10; i++)
        ck_assert_int_eq(write(sv[1], msg + i, 1), 1); /* ten records of one byte */
    char buf[11] = {0};
    ssize_t n = readn(sv[0], buf, 10);
    ck_assert_msg(n == 10,
                  "readn returned %zd for 10 bytes sent one at a time; a single read() "
                  "returns only what has arrived, so readn must loop",
                  n);
    ck_assert_str_eq(buf, msg);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(tcp_framing_readn_stops_at_eof)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(write(sv[1], "abc", 3), 3);
    close(sv[1]);
    char buf[10];
    ssize_t n = readn(sv[0], buf, sizeof buf);
    ck_assert_msg(n == 3,
                  "the peer wrote \"abc\" and closed; readn(fd, buf, 10) returned %zd, "
                  "expected 3 (fewer than asked, because the stream ended)",
                  n);
    n = readn(sv[0], buf, sizeof buf);
    ck_assert_msg(n == 0, "at end of stream readn(fd, buf, 10) returned %zd, expected 0", n);
    close(sv[0]);
}
END_TEST

/* Reads every line from fd with a fresh line reader and joins them as "line|line|...". */
static void read_all_lines(int fd, char *out, size_t cap)
{
    static struct linereader lr;
    static char line[LINEREADER_MAX + 1];
    linereader_init(&lr, fd);
    out[0] = '\0';
    size_t len;
    enum linereader_status st;
    while ((st = linereader_next(&lr, line, &len)) == LINE_OK) {
        ck_assert_msg(strlen(line) == len,
                      "linereader_next returned the line \"%s\" (%zu bytes) with *len = %zu", line,
                      strlen(line), len);
        strncat(out, line, cap - strlen(out) - 2);
        strcat(out, "|");
    }
    static const char *const names[] = {"LINE_OK", "LINE_EOF", "LINE_TOO_LONG", "LINE_ERROR"};
    ck_assert_msg(st == LINE_EOF,
                  "after the lines \"%s\" (joined with |), linereader_next returned %s; expected "
                  "LINE_EOF once the stream has ended",
                  out, st >= 0 && st <= LINE_ERROR ? names[st] : "an unknown status");
}

START_TEST(tcp_framing_line_split_at_every_byte)
{
    const char *msg = "hello world\nsecond\n";
    size_t total = strlen(msg);
    for (size_t cut = 1; cut < total; cut++) {
        int sv[2];
        if (record_pair(sv) < 0)
            tk_skip("no SOCK_SEQPACKET socketpair on this system");
        size_t sizes[2] = {cut, total - cut};
        write_records(sv[1], msg, sizes, 2);
        close(sv[1]);
        char got[256];
        read_all_lines(sv[0], got, sizeof got);
        ck_assert_msg(strcmp(got, "hello world|second|") == 0,
                      "sent \"hello world\\nsecond\\n\" in two reads split after byte %zu; "
                      "expected lines hello world|second| but got %s",
                      cut, got);
        close(sv[0]);
    }
}
END_TEST

START_TEST(tcp_framing_line_one_byte_at_a_time)
{
    int sv[2];
    if (record_pair(sv) < 0)
        tk_skip("no SOCK_SEQPACKET socketpair on this system");
    const char *msg = "abc\n\nxyz\n";
    size_t sizes[16];
    for (size_t i = 0; i < strlen(msg); i++)
        sizes[i] = 1;
    write_records(sv[1], msg, sizes, strlen(msg));
    close(sv[1]);
    char got[64];
    read_all_lines(sv[0], got, sizeof got);
    ck_assert_str_eq(got, "abc||xyz|");
    close(sv[0]);
}
END_TEST

START_TEST(tcp_framing_coalesced_lines)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char *msg = "one\ntwo\nthree\n";
    ck_assert_int_eq(write(sv[1], msg, strlen(msg)), (ssize_t)strlen(msg)); /* one write */
    close(sv[1]);
    char got[64];
    read_all_lines(sv[0], got, sizeof got);
    ck_assert_msg(strcmp(got, "one|two|three|") == 0,
                  "three lines arrived in one read; expected one|two|three| but got %s", got);
    close(sv[0]);
}
END_TEST

START_TEST(tcp_framing_last_line_without_newline)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(write(sv[1], "a\nlast", 6), 6);
    close(sv[1]);
    char got[64];
    read_all_lines(sv[0], got, sizeof got);
    ck_assert_str_eq(got, "a|last|");
    close(sv[0]);
}
END_TEST

START_TEST(tcp_framing_line_too_long)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* The longest line allowed passes; one byte more is refused, not truncated or overflowed. */
    static char big[LINEREADER_MAX + 2];
    memset(big, 'x', LINEREADER_MAX);
    big[LINEREADER_MAX] = '\n';
    ck_assert_int_eq(tk_send_all(sv[1], big, LINEREADER_MAX + 1), LINEREADER_MAX + 1);
    memset(big, 'y', LINEREADER_MAX + 1);
    ck_assert_int_eq(tk_send_all(sv[1], big, LINEREADER_MAX + 1), LINEREADER_MAX + 1);
    close(sv[1]);

    static struct linereader lr;
    static char line[LINEREADER_MAX + 1];
    size_t len = 0;
    linereader_init(&lr, sv[0]);
    enum linereader_status st = linereader_next(&lr, line, &len);
    ck_assert_msg(st == LINE_OK && len == LINEREADER_MAX,
                  "a line of exactly LINEREADER_MAX (%d) bytes: expected LINE_OK (%d) and *len %d, "
                  "got status %d and *len %zu",
                  LINEREADER_MAX, LINE_OK, LINEREADER_MAX, st, len);
    st = linereader_next(&lr, line, &len);
    ck_assert_msg(st == LINE_TOO_LONG,
                  "%d bytes without a newline: expected LINE_TOO_LONG (%d), got status %d",
                  LINEREADER_MAX + 1, LINE_TOO_LONG, st);
    close(sv[0]);
}
END_TEST

/* --- EINTR: a signal without SA_RESTART arrives while readn waits ------------------------------
 */

static int wake_pipe[2];

/* The SIGALRM handler only tells the writer thread that the signal has happened. write() is
 * async-signal-safe. */
static void on_alarm(int sig)
{
    (void)sig;
    (void)!write(wake_pipe[1], "!", 1);
}

struct late_writer {
    int fd;
};

/* Waits until the signal has interrupted the reader, then sends the data it is waiting for. */
static void *write_after_signal(void *arg)
{
    struct late_writer *w = arg;
    char c;
    (void)!read(wake_pipe[0], &c, 1);
    (void)!write(w->fd, "hello", 5);
    return NULL;
}

START_TEST(tcp_framing_readn_retries_after_eintr)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(pipe(wake_pipe), 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: read() fails with EINTR */
    sigaction(SIGALRM, &sa, NULL);

    /* The writer thread must not take the signal itself: block SIGALRM while creating it. */
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old);
    struct late_writer w = {sv[1]};
    pthread_t t;
    pthread_create(&t, NULL, write_after_signal, &w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    struct itimerval it = {{0, 0}, {0, 20000}}; /* one SIGALRM in 20 ms, while readn blocks */
    setitimer(ITIMER_REAL, &it, NULL);
    char buf[6] = {0};
    errno = 0;
    ssize_t n = readn(sv[0], buf, 5);
    ck_assert_msg(n == 5,
                  "readn returned %zd (errno %s) after a signal interrupted read(); "
                  "it must retry on EINTR",
                  n, strerror(errno));
    ck_assert_str_eq(buf, "hello");
    pthread_join(t, NULL);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* --- Partial writes: a stream of signals interrupts a large blocking send -------------------- */

static void on_tick(int sig)
{
    (void)sig;
}

struct drain {
    int fd;
    size_t got;
    unsigned long sum;
};

/* Reads everything from the other end in small pieces, adding the bytes up as it goes. */
static void *drain_thread(void *arg)
{
    struct drain *d = arg;
    unsigned char buf[1000];
    for (;;) {
        ssize_t n = read(d->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            d->sum += buf[i];
        d->got += (size_t)n;
    }
    return NULL;
}

START_TEST(tcp_framing_writen_survives_partial_writes)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);

    enum { TOTAL = 8 << 20 };
    unsigned char *data = malloc(TOTAL);
    unsigned long sum = 0;
    for (size_t i = 0; i < TOTAL; i++) {
        data[i] = (unsigned char)(i * 31 + 7);
        sum += data[i];
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: a blocked send returns early */
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old);
    struct drain d = {sv[1], 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, drain_thread, &d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    struct itimerval it = {{0, 500}, {0, 500}}; /* a signal every 0.5 ms */
    setitimer(ITIMER_REAL, &it, NULL);
    ssize_t w = writen(sv[0], data, TOTAL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    ck_assert_msg(w == TOTAL,
                  "writen returned %zd of %d bytes while signals kept interrupting "
                  "send(); it must resend the rest",
                  w, TOTAL);
    shutdown(sv[0], SHUT_WR);
    pthread_join(t, NULL);
    ck_assert_uint_eq(d.got, TOTAL);
    ck_assert_uint_eq(d.sum, sum);
    free(data);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

START_TEST(tcp_framing_epipe_not_sigpipe)
{
    /* Default SIGPIPE action: if writen let the signal through, this test process would die. */
    signal(SIGPIPE, SIG_DFL);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    errno = 0;
    ssize_t w = writen(sv[0], "hello\n", 6);
    ck_assert_msg(
        w == -1 && errno == EPIPE,
        "writen to a socket whose peer has closed returned %zd with errno %s; expected -1 "
        "with errno EPIPE (and no SIGPIPE)",
        w, strerror(errno));
    close(sv[0]);
}
END_TEST

static Suite *tcp_framing_suite(void)
{
    Suite *s = suite_create("tcp_framing");
    TCase *tc = tk_tcase(s, "tcp_framing", 20);
    tk_add_test(tc, tcp_framing_readn_collects_one_byte_reads);
    tk_add_test(tc, tcp_framing_readn_stops_at_eof);
    tk_add_test(tc, tcp_framing_line_split_at_every_byte);
    tk_add_test(tc, tcp_framing_line_one_byte_at_a_time);
    tk_add_test(tc, tcp_framing_coalesced_lines);
    tk_add_test(tc, tcp_framing_last_line_without_newline);
    tk_add_test(tc, tcp_framing_line_too_long);
    tk_add_test(tc, tcp_framing_readn_retries_after_eintr);
    tk_add_test(tc, tcp_framing_writen_survives_partial_writes);
    tk_add_test(tc, tcp_framing_epipe_not_sigpipe);
    return s;
}

TK_MAIN(tcp_framing_suite)
