/*
 * check_tcp_server.c - the numbered TCP servers, each test showing the problem a version fixes.
 *
 * The story is executable: tests named ..._known_failure_... assert the bug of an early version
 * (server1 answers half a line; server1 and server2 stall behind a silent client), and the test
 * next to each shows the later version fixed it.
 */
#include "testlib.h"
#include "io.h"
#include "linereader.h"
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct tk_proc server;

/* Starts bin/name on a free port of 127.0.0.1, with up to four extra arguments; returns the port.
 * The server's stderr goes with its stdout into server.out, so that a message or a sanitizer's
 * report shows in the failure. */
static int start4(const char *name, const char *extra1, const char *extra2, const char *extra3,
                  const char *extra4)
{
    char *argv[] = {
        (char *)name,   "-p",           "0", "-b", "127.0.0.1", (char *)extra1, (char *)extra2,
        (char *)extra3, (char *)extra4, NULL};
    server.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&server, argv), 0);
    int port = tk_wait_listening(&server, 5000);
    ck_assert_msg(port > 0, "%s did not print \"listening on PORT\"; its output: %.2000s", name,
                  server.out);
    return port;
}

static int start(const char *name, const char *extra1, const char *extra2)
{
    return start4(name, extra1, extra2, NULL, NULL);
}

/* Stops the server with SIGTERM; it must exit with status 0. A sanitizer that found a leak, a
 * race or a memory error makes it exit otherwise, and its report is in the output shown. */
static void stop(void)
{
    int st = tk_stop(&server, 10000);
    const char *out = server.out;
    if (strlen(out) > 3000)
        out += strlen(out) - 3000;
    ck_assert_msg(st == 0,
                  "the server should exit with status 0 on SIGTERM, got %d%s; the end of its "
                  "output:\n%s",
                  st,
                  st == -1    ? " (still running 10 s after SIGTERM)"
                  : st == 23  ? " (23: LeakSanitizer found memory never freed)"
                  : st == 66  ? " (66: ThreadSanitizer found a data race)"
                  : st >= 128 ? " (killed by a signal: a crash)"
                              : "",
                  out);
}

static int dial(int port)
{
    int fd = tk_connect_port("127.0.0.1", port);
    if (fd < 0) {
        /* Most often the server has exited: its output says why. */
        int exited = tk_read_all(&server, 2000) == 0;
        ck_assert_msg(fd >= 0, "cannot connect to the server on port %d: %s; its output:\n%.2000s",
                      port, exited ? "it has exited" : "it is still running", server.out);
    }
    return fd;
}

static void send_str(int fd, const char *s)
{
    ck_assert_msg(tk_send_all(fd, s, strlen(s)) == (ssize_t)strlen(s),
                  "cannot send \"%s\" to the server: %s", s, strerror(errno));
}

/* Reads until the server closes or timeout_ms passes; returns what arrived (static buffer). */
static const char *read_until_close(int fd, int timeout_ms)
{
    static char buf[8192];
    size_t len = 0;
    long long deadline = tk_now_ms() + timeout_ms;
    while (len < sizeof buf - 1) {
        long long left = deadline - tk_now_ms();
        if (left <= 0 || tk_wait_readable(fd, (int)left) != 1)
            break;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* Why read_line() returned NULL, for the failure messages. */
static char read_line_why[160];

/* Reads one reply line, waiting at most timeout_ms; returns it without its newline, or NULL with
 * read_line_why saying what happened instead. */
static const char *read_line(int fd, int timeout_ms)
{
    static char buf[8192];
    size_t len = 0;
    long long deadline = tk_now_ms() + timeout_ms;
    while (len < sizeof buf - 1) {
        long long left = deadline - tk_now_ms();
        if (left <= 0 || tk_wait_readable(fd, (int)left) != 1) {
            buf[len] = '\0';
            snprintf(read_line_why, sizeof read_line_why,
                     "nothing within %d ms, the connection still open%s%.60s%s", timeout_ms,
                     len ? " (a partial line \"" : "", buf, len ? "\")" : "");
            return NULL;
        }
        ssize_t n = read(fd, buf + len, 1);
        if (n != 1) {
            buf[len] = '\0';
            snprintf(read_line_why, sizeof read_line_why, "%s%s%.60s%s",
                     n == 0 ? "the server closed the connection" : strerror(errno),
                     len ? " after a partial line \"" : "", buf, len ? "\"" : "");
            return NULL;
        }
        if (buf[len] == '\n')
            break;
        len++;
    }
    buf[len] = '\0';
    return buf;
}

/* Sends line (with its newline) on fd and checks that the reply is want, within 5 s. who names
 * the client in the failure message. */
static void expect_reply(int fd, const char *who, const char *line, const char *want)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s\n", line);
    send_str(fd, msg);
    const char *got = read_line(fd, 5000);
    ck_assert_msg(got != NULL && strcmp(got, want) == 0,
                  "%s sent \"%s\\n\"; expected the reply \"%s\", got %s%s%s", who, line, want,
                  got ? "\"" : "", got ? got : read_line_why, got ? "\"" : "");
}

/* Half-closes fd and waits up to timeout_ms for the server to close its side. Returns 1 when it
 * did, 0 on time out. Whatever else arrives first is skipped. */
static int wait_closed(int fd, int timeout_ms)
{
    shutdown(fd, SHUT_WR);
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - tk_now_ms();
        if (left <= 0 || tk_wait_readable(fd, (int)left) != 1)
            return 0;
        char buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return 1;
    }
}

/* --- server1: the textbook's version ------------------------------------------------------- */

START_TEST(tcp_server1_answers_one_line)
{
    int port = start("tcp_upper_server1", NULL, NULL);
    int fd = dial(port);
    send_str(fd, "hello world\n");
    ck_assert_str_eq(read_until_close(fd, 5000), "HELLO WORLD\n");
    close(fd);
    stop();
}
END_TEST

START_TEST(tcp_server1_known_failure_split_line)
{
    /* The line arrives in two pieces. server1's single recv() sees only the first piece, answers
     * it and hangs up: the rest of the line is never read. */
    int port = start("tcp_upper_server1", NULL, NULL);
    int fd = dial(port);
    send_str(fd, "hel");
    const char *got = read_until_close(fd, 5000);
    ck_assert_msg(strcmp(got, "HEL") == 0,
                  "server1 is expected to show the framing bug (answer \"HEL\" only); got \"%s\"",
                  got);
    close(fd);
    stop();
}
END_TEST

START_TEST(tcp_server1_known_failure_one_line_per_connection)
{
    int port = start("tcp_upper_server1", NULL, NULL);
    int fd = dial(port);
    send_str(fd, "first\n");
    ck_assert_str_eq(read_until_close(fd, 5000), "FIRST\n"); /* ...and then it hangs up */
    close(fd);
    stop();
}
END_TEST

/* A silent client holds an iterative server: a second client's line waits for an answer. */
static void check_silent_client_stalls(const char *name)
{
    int port = start(name, NULL, NULL);
    int silent = dial(port);
    int other = dial(port);
    send_str(other, "anyone there\n");
    ck_assert_msg(tk_wait_readable(other, 300) == 0,
                  "%s is iterative: while a silent client is connected, another client's line "
                  "should get no answer",
                  name);
    close(silent); /* the silent client leaves: now the server gets round to the other */
    const char *got = read_line(other, 5000);
    ck_assert_msg(got != NULL && strcmp(got, "ANYONE THERE") == 0,
                  "%s: once the silent client left, the other's \"anyone there\" should be "
                  "answered \"ANYONE THERE\"; got %s",
                  name, got ? got : read_line_why);
    close(other);
    stop();
}

START_TEST(tcp_server1_known_failure_silent_client_stalls_others)
{
    check_silent_client_stalls("tcp_upper_server1");
}
END_TEST

/* --- server2: framing done right ------------------------------------------------------------- */

START_TEST(tcp_server2_line_split_at_every_byte)
{
    const char *msg = "hello world\n";
    int port = start("tcp_upper_server2", NULL, NULL);
    for (size_t cut = 1; cut < strlen(msg); cut++) {
        int fd = dial(port);
        char first[32];
        memcpy(first, msg, cut);
        first[cut] = '\0';
        send_str(fd, first);
        ck_assert_msg(tk_wait_readable(fd, 20) == 0,
                      "server2 answered the partial line \"%s\" before its newline arrived", first);
        send_str(fd, msg + cut);
        const char *got = read_line(fd, 5000);
        ck_assert_msg(got != NULL && strcmp(got, "HELLO WORLD") == 0,
                      "line split after byte %zu: expected HELLO WORLD, got %s", cut,
                      got ? got : "(nothing)");
        close(fd);
    }
    stop();
}
END_TEST

START_TEST(tcp_server2_coalesced_lines)
{
    int port = start("tcp_upper_server2", NULL, NULL);
    int fd = dial(port);
    send_str(fd, "one\ntwo\nthree\n"); /* three lines in one write */
    shutdown(fd, SHUT_WR);
    const char *got = read_until_close(fd, 5000);
    ck_assert_msg(strcmp(got, "ONE\nTWO\nTHREE\n") == 0,
                  "sent \"one\\ntwo\\nthree\\n\" in one write; expected the replies "
                  "\"ONE\\nTWO\\nTHREE\\n\", got \"%s\"",
                  got);
    close(fd);
    stop();
}
END_TEST

START_TEST(tcp_server2_refuses_over_long_line)
{
    int port = start("tcp_upper_server2", NULL, NULL);
    int fd = dial(port);
    static char big[LINEREADER_MAX + 100];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    send_str(fd, big);
    const char *got = read_until_close(fd, 5000);
    ck_assert_msg(strncmp(got, "error: line too long", 20) == 0,
                  "sent %d bytes without a newline; expected the reply \"error: line too long...\" "
                  "and a close, got \"%.80s\"",
                  LINEREADER_MAX + 99, got);
    close(fd);
    /* The server goes on serving others. */
    fd = dial(port);
    expect_reply(fd, "a new client after the over-long line", "still here", "STILL HERE");
    close(fd);
    stop();
}
END_TEST

START_TEST(tcp_server2_survives_client_that_leaves_early)
{
    /* The client sends many lines, half-closes, and leaves as soon as the first reply arrives,
     * with the rest unread. Its socket answers the server's next segment with a reset, and the
     * server's following writes fail with EPIPE. Without SIGPIPE ignored (or MSG_NOSIGNAL), the
     * first such write would kill the whole server. */
    int port = start("tcp_upper_server2", NULL, NULL);
    static char lines[40000];
    for (size_t i = 0; i + 2 <= sizeof lines; i += 2)
        memcpy(lines + i, "x\n", 2);
    for (int round = 0; round < 3; round++) {
        int fd = dial(port);
        ck_assert_int_eq(tk_send_all(fd, lines, sizeof lines), (ssize_t)sizeof lines);
        shutdown(fd, SHUT_WR);
        ck_assert_int_eq(tk_wait_readable(fd, 5000), 1);
        close(fd);
    }
    int fd = dial(port);
    send_str(fd, "alive\n");
    const char *got = read_line(fd, 10000);
    ck_assert_msg(got != NULL && strcmp(got, "ALIVE") == 0,
                  "after clients that left without reading, the server no longer answers");
    close(fd);
    stop();
}
END_TEST

START_TEST(tcp_server2_known_failure_silent_client_stalls_others)
{
    check_silent_client_stalls("tcp_upper_server2");
}
END_TEST

/* --- server3: a thread per client ------------------------------------------------------------ */

START_TEST(tcp_server3_silent_client_does_not_stall_others)
{
    int port = start("tcp_upper_server3", NULL, NULL);
    int silent = dial(port);
    int other = dial(port);
    expect_reply(other, "a client connected while another sits silent", "anyone there",
                 "ANYONE THERE");
    close(other);
    close(silent);
    stop();
}
END_TEST

/* A countdown latch (pthread_barrier_t is optional in POSIX and missing on macOS). */
struct latch {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int count;
};

static void latch_arrive_and_wait(struct latch *l)
{
    pthread_mutex_lock(&l->lock);
    if (--l->count == 0)
        pthread_cond_broadcast(&l->cond);
    while (l->count > 0)
        pthread_cond_wait(&l->cond, &l->lock);
    pthread_mutex_unlock(&l->lock);
}

enum { CLIENTS = 200, LINES = 100, REPLY_WAIT_S = 5 };

struct load_client {
    int id, port;
    struct latch *all_connected;
    int good; /* replies that matched */
    char error[256];
};

/* One of 200 clients: connect, wait until all are connected, send 100 lines, check each reply.
 * Each client's lines name it, so a reply that went to the wrong client shows; a reply that never
 * comes ends the client after REPLY_WAIT_S seconds instead of hanging the test. */
static void *load_client_thread(void *arg)
{
    struct load_client *c = arg;
    int fd = tk_connect_port("127.0.0.1", c->port);
    latch_arrive_and_wait(c->all_connected);
    if (fd < 0) {
        snprintf(c->error, sizeof c->error, "client %d could not connect", c->id);
        return NULL;
    }
    struct timeval tv = {.tv_sec = REPLY_WAIT_S, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char out[LINES * 40];
    size_t len = 0;
    for (int i = 0; i < LINES; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "client %d line %d\n", c->id, i);
    if (tk_send_all(fd, out, len) < 0) {
        snprintf(c->error, sizeof c->error, "client %d: send: %s", c->id, strerror(errno));
        close(fd);
        return NULL;
    }
    shutdown(fd, SHUT_WR);
    struct linereader *lr = malloc(sizeof *lr);
    char line[LINEREADER_MAX + 1], want[64];
    size_t n;
    linereader_init(lr, fd);
    for (int i = 0; i < LINES; i++) {
        snprintf(want, sizeof want, "CLIENT %d LINE %d", c->id, i);
        line[0] = '\0';
        enum linereader_status st = linereader_next(lr, line, &n);
        if (st != LINE_OK || strcmp(line, want) != 0) {
            snprintf(c->error, sizeof c->error,
                     "client %d sent \"client %d line 0\" to \"client %d line %d\" at once; reply "
                     "%d: expected \"%s\", got %s%.40s%s",
                     c->id, c->id, c->id, LINES - 1, i, want, st == LINE_OK ? "\"" : "",
                     st == LINE_OK    ? line
                     : st == LINE_EOF ? "the end of the connection"
                     : errno == EAGAIN || errno == EWOULDBLOCK
                         ? "nothing within 5 s (was its socket handed to another thread?)"
                         : strerror(errno),
                     st == LINE_OK ? "\"" : "");
            break;
        }
        c->good++;
    }
    free(lr);
    close(fd);
    return NULL;
}

START_TEST(tcp_server3_200_concurrent_clients)
{
    int port = start("tcp_upper_server3", NULL, NULL);
    struct latch l = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, CLIENTS};
    static struct load_client c[CLIENTS];
    pthread_t t[CLIENTS];
    pthread_attr_t attr;
    ck_assert_int_eq(pthread_attr_init(&attr), 0);
    ck_assert_int_eq(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (struct load_client){.id = i, .port = port, .all_connected = &l};
        ck_assert_int_eq(pthread_create(&t[i], &attr, load_client_thread, &c[i]), 0);
    }
    pthread_attr_destroy(&attr);
    int good = 0, bad = 0;
    const char *first = NULL;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        if (c[i].error[0] != '\0') {
            bad++;
            if (first == NULL)
                first = c[i].error;
        }
        good += c[i].good;
    }
    ck_assert_msg(bad == 0,
                  "%d of %d concurrent clients did not get their own replies; the first: %s", bad,
                  CLIENTS, first);
    ck_assert_int_eq(good, CLIENTS * LINES);
    stop();
}
END_TEST

START_TEST(tcp_server3_caps_concurrent_clients)
{
    int port = start("tcp_upper_server3", "--max-clients", "2");
    int a = dial(port), b = dial(port);
    /* Make sure both hold a slot: each gets an answer. */
    expect_reply(a, "client A (1st of --max-clients 2)", "a", "A");
    expect_reply(b, "client B (2nd of --max-clients 2)", "b", "B");
    int c = dial(port);
    const char *got = read_line(c, 5000);
    ck_assert_msg(got != NULL && strcmp(got, "error: server busy, try again later") == 0,
                  "a third client with --max-clients 2 connected while two were served; expected "
                  "\"error: server busy, try again later\", got %s%s%s",
                  got ? "\"" : "", got ? got : read_line_why, got ? "\"" : "");
    ck_assert_msg(wait_closed(c, 5000), "the server told the third client it was busy but did not "
                                        "close the connection within 5 s");
    close(c);
    close(a);
    close(b);
    stop();
}
END_TEST

START_TEST(tcp_server3_slots_come_back)
{
    /* Ten clients, one after another, through a server with two slots: each slot must come back
     * when its client leaves. A client that has seen its connection close can count on it. */
    int port = start("tcp_upper_server3", "--max-clients", "2");
    for (int i = 0; i <= 10; i++) {
        char who[96], line[32], want[32];
        snprintf(who, sizeof who, "client %d of %s, one after another, with --max-clients 2", i + 1,
                 i < 10 ? "10" : "10 (then one more)");
        snprintf(line, sizeof line, "client %d", i + 1);
        snprintf(want, sizeof want, "CLIENT %d", i + 1);
        int fd = dial(port);
        expect_reply(fd, who, line, want);
        ck_assert_msg(wait_closed(fd, 5000),
                      "%s closed its side; the server did not close the connection within 5 s",
                      who);
        close(fd);
    }
    stop();
}
END_TEST

START_TEST(tcp_server3_verbose_names_each_client_coming_and_going)
{
    int port = start("tcp_upper_server3", "-v", NULL);
    enum { N = 6 };
    int ports[N];
    /* Two at a time, so that the names of two live clients must not be mixed up. */
    for (int i = 0; i < N; i += 2) {
        int a = dial(port), b = dial(port);
        ports[i] = net_local_port(a);
        ports[i + 1] = net_local_port(b);
        expect_reply(a, "client A of a pair", "a", "A");
        expect_reply(b, "client B of a pair", "b", "B");
        ck_assert_msg(wait_closed(a, 5000) && wait_closed(b, 5000),
                      "two clients closed their side; the server did not close within 5 s");
        close(a);
        close(b);
    }
    stop();
    for (int i = 0; i < N; i++) {
        char want[64];
        const char *events[] = {"connected", "left"};
        for (int e = 0; e < 2; e++) {
            snprintf(want, sizeof want, "client 127.0.0.1:%d %s\n", ports[i], events[e]);
            ck_assert_msg(strstr(server.out, want) != NULL,
                          "with -v, client %d (source port %d) came and went; expected the line "
                          "\"client 127.0.0.1:%d %s\" in the server's output:\n%.3000s",
                          i + 1, ports[i], ports[i], events[e], server.out);
        }
    }
}
END_TEST

START_TEST(tcp_server3_drops_idle_client)
{
    /* One slot, taken by a client that then says nothing: everyone else is told "busy" until the
     * idle time out frees the slot. */
    int port = start4("tcp_upper_server3", "--max-clients", "1", "--idle-secs", "1");
    int idle = dial(port);
    expect_reply(idle, "the first client (--max-clients 1 --idle-secs 1)", "hi", "HI");
    long long t0 = tk_now_ms();
    int locked_out = dial(port);
    const char *got = read_line(locked_out, 5000);
    ck_assert_msg(got != NULL && strstr(got, "server busy") != NULL,
                  "with --max-clients 1 taken, a second client should hear \"server busy\"; got "
                  "%s",
                  got ? got : read_line_why);
    close(locked_out);
    got = read_line(idle, 5000);
    long long waited = tk_now_ms() - t0;
    ck_assert_msg(got != NULL && strstr(got, "idle") != NULL,
                  "a client silent for over --idle-secs 1 should be told \"error: idle too long, "
                  "closing the connection\"; after %lld ms it got %s",
                  waited, got ? got : read_line_why);
    ck_assert_msg(waited >= 900,
                  "the idle client was dropped after %lld ms, before its --idle-secs 1 was up",
                  waited);
    ck_assert_msg(wait_closed(idle, 5000),
                  "the server told the idle client it was dropping it, then did not close");
    close(idle);
    int next = dial(port);
    expect_reply(next, "a client that came after the idle one was dropped", "my turn", "MY TURN");
    close(next);
    stop();
}
END_TEST

START_TEST(tcp_server3_no_fd_leak_after_many_clients)
{
    if (access("/proc/self/fd", R_OK) != 0)
        tk_skip("no /proc to count the server's descriptors");
    int port = start("tcp_upper_server3", NULL, NULL);
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)server.pid);
    /* Count the server's descriptors after 50 and after 100 clients. Each client waits until the
     * server has closed its connection, so no socket is still on its way out when counting. */
    int count[2] = {-1, -1};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 50; i++) {
            int fd = dial(port);
            expect_reply(fd, "one of 100 clients in turn", "x", "X");
            ck_assert_msg(wait_closed(fd, 5000),
                          "client %d of 100 closed its side; the server did not close the "
                          "connection within 5 s",
                          round * 50 + i + 1);
            close(fd);
        }
        char cmd[128];
        snprintf(cmd, sizeof cmd, "ls %s | wc -l", dir);
        FILE *f = popen(cmd, "r");
        ck_assert_int_eq(fscanf(f, "%d", &count[round]), 1);
        pclose(f);
    }
    ck_assert_msg(count[1] <= count[0],
                  "the server had %d descriptors open after 50 clients and %d after 50 more: a "
                  "socket is not closed when its client leaves",
                  count[0], count[1]);
    stop();
}
END_TEST

/* --- the client ------------------------------------------------------------------------------ */

static struct tk_proc client;

/* Runs tcp_upper_client against port with the given input; returns its exit status. */
static int run_client(const char *host, int port, const char *input)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {"tcp_upper_client", (char *)host, portstr, NULL};
    client.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&client, argv), 0);
    ck_assert_int_eq(tk_write(&client, input), 0);
    tk_write(&client, NULL);
    int st = tk_wait_exit(&client, 20000);
    ck_assert_msg(st >= 0, "tcp_upper_client did not finish");
    return st;
}

/* Sends 1000 lines through tcp_upper_client to the server program name and checks every reply. */
static void check_many_lines_through(const char *name)
{
    static char input[40000], want[40000];
    size_t a = 0, b = 0;
    for (int i = 0; i < 1000; i++) {
        a += (size_t)snprintf(input + a, sizeof input - a, "line %d\n", i);
        b += (size_t)snprintf(want + b, sizeof want - b, "LINE %d\n", i);
    }
    int port = start(name, NULL, NULL);
    int st = run_client("127.0.0.1", port, input);
    ck_assert_msg(st == 0,
                  "tcp_upper_client sent 1000 lines to %s and exited with status %d; its "
                  "output began: %.200s",
                  name, st, client.out);
    ck_assert_msg(strcmp(client.out, want) == 0,
                  "%s: 1000 lines \"line 0\" to \"line 999\" in, %zu bytes back instead of %zu; "
                  "the output began: %.200s",
                  name, strlen(client.out), strlen(want), client.out);
    stop();
}

START_TEST(tcp_client_many_lines_through_server2)
{
    check_many_lines_through("tcp_upper_server2");
}
END_TEST

START_TEST(tcp_server3_many_lines_through_the_client)
{
    check_many_lines_through("tcp_upper_server3");
}
END_TEST

START_TEST(tcp_client_by_name_and_address)
{
    const char *hosts[] = {"localhost", "127.0.0.1", "::1"};
    for (int h = 0; h < 3; h++) {
        if (h == 2 && !net_have_ipv6()) {
            printf("note: ::1 not tried, this machine has no IPv6 loopback\n");
            continue;
        }
        char *argv[] = {"tcp_upper_server2", "-p", "0", NULL};
        ck_assert_int_eq(tk_spawn(&server, argv), 0);
        int port = tk_wait_listening(&server, 5000);
        int st = run_client(hosts[h], port, "hi\n");
        ck_assert_msg(
            st == 0 && strcmp(client.out, "HI\n") == 0,
            "tcp_upper_client %s PORT with input \"hi\": expected \"HI\" and status 0, got "
            "status %d and output \"%s\"",
            hosts[h], st, client.out);
        stop();
    }
}
END_TEST

/* A server that answers only after the client has finished sending: it reads to end of stream,
 * then reports how many bytes it got. Only a client that half-closes can hear the answer. */
static void *count_then_answer(void *arg)
{
    int lfd = *(int *)arg;
    int fd = accept(lfd, NULL, NULL);
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)n;
    char reply[64];
    int len = snprintf(reply, sizeof reply, "got %zu bytes\n", total);
    (void)tk_send_all(fd, reply, (size_t)len);
    close(fd);
    return NULL;
}

START_TEST(tcp_client_half_close_still_reads_replies)
{
    char err[NET_ERRLEN];
    int lfd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof err);
    pthread_t t;
    pthread_create(&t, NULL, count_then_answer, &lfd);
    int st = run_client("127.0.0.1", net_local_port(lfd), "abc\ndef\n");
    ck_assert_msg(
        st == 0,
        "tcp_upper_client with input \"abc\\ndef\\n\" to a server that answers only after end "
        "of input: expected status 0, got %d and output \"%s\"",
        st, client.out);
    pthread_join(t, NULL);
    close(lfd);
    ck_assert_msg(strcmp(client.out, "got 8 bytes\n") == 0,
                  "the server answers after end of input; expected \"got 8 bytes\", got \"%s\"",
                  client.out);
}
END_TEST

/* Runs a program with bad arguments and checks it fails with a message, not a crash. */
/* Returns 1 when the program is built. Lab 2's folder has no tcp_upper_server3 (lab 3 adds it),
 * and these checks of given code run there too, so they leave out what is not there yet. */
static int built(const char *name)
{
    return access(tk_bin(name), X_OK) == 0;
}

static void expect_refusal(char *const argv[], const char *message)
{
    static struct tk_proc p;
    p.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&p, argv), 0);
    tk_write(&p, NULL);
    int st = tk_wait_exit(&p, 10000);
    ck_assert_msg(st > 0 && st < 128, "%s: expected a non-zero exit, got %d", argv[0], st);
    ck_assert_msg(strstr(p.out, message) != NULL, "%s: expected \"%s\" in: %s", argv[0], message,
                  p.out);
}

START_TEST(tcp_bad_arguments_get_clear_errors)
{
    expect_refusal((char *[]){"tcp_upper_server1", "-p", "-5", NULL}, "bad port");
    expect_refusal((char *[]){"tcp_upper_server2", "--bogus", NULL}, "usage:");
    if (built("tcp_upper_server3")) {
        expect_refusal((char *[]){"tcp_upper_server3", "--max-clients", "0", NULL},
                       "--max-clients");
        expect_refusal((char *[]){"tcp_upper_server3", "--idle-secs", "0", NULL}, "--idle-secs");
    }
    expect_refusal((char *[]){"tcp_upper_server2", "--idle-secs", "5", NULL}, "no --idle-secs");
    expect_refusal((char *[]){"tcp_upper_server2", "-b", "no-such-host.invalid", NULL},
                   "cannot resolve");
    expect_refusal((char *[]){"tcp_upper_client", "localhost", NULL}, "expected HOST and PORT");
    expect_refusal((char *[]){"tcp_upper_client", "localhost", "http", NULL}, "bad port");
    expect_refusal((char *[]){"tcp_upper_client", "no-such-host.invalid", "80", NULL},
                   "cannot resolve");
}
END_TEST

/* A shared library for LD_PRELOAD that puts a SIGTERM exactly into the gap between a server's
 * "stop requested?" check and its wait: the first call to poll(), accept() or recvfrom() raises
 * the signal, lets the handler run, and only then makes the real call. A loop that checks a flag
 * and then blocks in accept() or recvfrom() sleeps through that signal; a wait on the self-pipe
 * of cli.c wakes at once. */
static const char stop_window_src[] =
    "#define _GNU_SOURCE\n"
    "#include <dlfcn.h>\n"
    "#include <poll.h>\n"
    "#include <signal.h>\n"
    "#include <sys/socket.h>\n"
    "static int fired;\n"
    "static void fire(void) { if (!fired) { fired = 1; raise(SIGTERM); } }\n"
    "int poll(struct pollfd *f, nfds_t n, int t) {\n"
    "  int (*real)(struct pollfd *, nfds_t, int) = (int (*)(struct pollfd *, nfds_t, int))"
    "dlsym(RTLD_NEXT, \"poll\");\n"
    "  fire(); return real(f, n, t); }\n"
    "int accept(int s, struct sockaddr *a, socklen_t *l) {\n"
    "  int (*real)(int, struct sockaddr *, socklen_t *) = (int (*)(int, struct sockaddr *, "
    "socklen_t *))dlsym(RTLD_NEXT, \"accept\");\n"
    "  fire(); return real(s, a, l); }\n"
    "ssize_t recvfrom(int s, void *b, size_t n, int fl, struct sockaddr *a, socklen_t *l) {\n"
    "  ssize_t (*real)(int, void *, size_t, int, struct sockaddr *, socklen_t *) = (ssize_t "
    "(*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "
    "\"recvfrom\");\n"
    "  fire(); return real(s, b, n, fl, a, l); }\n";

START_TEST(tcp_stop_signal_between_check_and_wait_is_never_lost)
{
#if !defined(__linux__)
    tk_skip("the LD_PRELOAD that places the signal is written for Linux");
#else
    char dir[] = "/tmp/stopwindowXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char src[64], lib[64], cmd[256];
    snprintf(src, sizeof src, "%s/w.c", dir);
    snprintf(lib, sizeof lib, "%s/w.so", dir);
    FILE *f = fopen(src, "w");
    ck_assert_ptr_nonnull(f);
    fputs(stop_window_src, f);
    fclose(f);
    const char *cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    snprintf(cmd, sizeof cmd, "%s -shared -fPIC -o %s %s -ldl 2>/dev/null", cc, lib, src);
    int built = system(cmd) == 0;
    unlink(src);
    if (!built) {
        rmdir(dir);
        tk_skip("cannot build the LD_PRELOAD library with %s", cc);
    }
    setenv("LD_PRELOAD", lib, 1);
    /* A sanitizer's runtime wants to be loaded first; this library does not get in its way. */
    setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
    const char *progs[] = {"udp_upper_server", "tcp_upper_server1", "tcp_upper_server2",
                           "tcp_upper_server3"};
    enum { ROUNDS = 5 };
    for (int i = 0; i < 4; i++) {
        for (int round = 0; round < ROUNDS; round++) {
            char *argv[] = {(char *)progs[i], "-p", "0", "-b", "127.0.0.1", NULL};
            server.merge_stderr = 1;
            ck_assert_int_eq(tk_spawn(&server, argv), 0);
            /* The signal comes from within: the server must exit by itself. */
            int st = tk_wait_exit(&server, 3000);
            if (st == -1)
                tk_stop(&server, 1000);
            ck_assert_msg(st == 0,
                          "round %d of %d: %s got SIGTERM after checking for a stop request and "
                          "before waiting for a client; expected a clean exit (status 0) within "
                          "3 s, got %s%d; its output: %.500s",
                          round + 1, ROUNDS, progs[i],
                          st == -1 ? "no exit (the stop request was lost), status " : "status ", st,
                          server.out);
        }
    }
    unsetenv("LD_PRELOAD");
    unlink(lib);
    rmdir(dir);
#endif
}
END_TEST

START_TEST(tcp_help_is_printed)
{
    const char *progs[] = {"tcp_upper_server1", "tcp_upper_server2", "tcp_upper_server3",
                           "tcp_upper_client"};
    for (int i = 0; i < 4; i++) {
        if (!built(progs[i]))
            continue;
        static struct tk_proc p;
        ck_assert_int_eq(tk_spawn(&p, (char *[]){(char *)progs[i], "--help", NULL}), 0);
        ck_assert_int_eq(tk_wait_exit(&p, 5000), 0);
        ck_assert_msg(strstr(p.out, "usage: ") != NULL, "%s --help printed: %s", progs[i], p.out);
    }
}
END_TEST

static Suite *tcp_server_suite(void)
{
    /* One test case per program version, named by the test-name prefix the labs grade by. */
    Suite *s = suite_create("tcp_server");
    TCase *tc = tk_tcase(s, "tcp_server1", 60);
    tk_add_test(tc, tcp_server1_answers_one_line);
    tk_add_test(tc, tcp_server1_known_failure_split_line);
    tk_add_test(tc, tcp_server1_known_failure_one_line_per_connection);
    tk_add_test(tc, tcp_server1_known_failure_silent_client_stalls_others);
    tc = tk_tcase(s, "tcp_server2", 60);
    tk_add_test(tc, tcp_server2_line_split_at_every_byte);
    tk_add_test(tc, tcp_server2_coalesced_lines);
    tk_add_test(tc, tcp_server2_refuses_over_long_line);
    tk_add_test(tc, tcp_server2_survives_client_that_leaves_early);
    tk_add_test(tc, tcp_server2_known_failure_silent_client_stalls_others);
    tc = tk_tcase(s, "tcp_server3", 60);
    tk_add_test(tc, tcp_server3_silent_client_does_not_stall_others);
    tk_add_test(tc, tcp_server3_200_concurrent_clients);
    tk_add_test(tc, tcp_server3_caps_concurrent_clients);
    tk_add_test(tc, tcp_server3_slots_come_back);
    tk_add_test(tc, tcp_server3_verbose_names_each_client_coming_and_going);
    tk_add_test(tc, tcp_server3_drops_idle_client);
    tk_add_test(tc, tcp_server3_no_fd_leak_after_many_clients);
    tk_add_test(tc, tcp_server3_many_lines_through_the_client);
    tc = tk_tcase(s, "tcp_client", 60);
    tk_add_test(tc, tcp_client_many_lines_through_server2);
    tk_add_test(tc, tcp_client_by_name_and_address);
    tk_add_test(tc, tcp_client_half_close_still_reads_replies);
    tc = tk_tcase(s, "tcp_bad", 60);
    tk_add_test(tc, tcp_bad_arguments_get_clear_errors);
    /* The stop test checks given code: no lab grades it. */
    tc = tk_tcase(s, "tcp_stop", 60);
    tk_add_test(tc, tcp_stop_signal_between_check_and_wait_is_never_lost);
    tc = tk_tcase(s, "tcp_help", 60);
    tk_add_test(tc, tcp_help_is_printed);
    return s;
}

TK_MAIN(tcp_server_suite)
