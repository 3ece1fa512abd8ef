/*
 * check_udp.c - the UDP uppercase pair: the server answers each datagram, and the client survives
 * loss, strangers and late replies.
 *
 * Lossy networks are made on purpose with a relay (tests/lib/udprelay.c) that sits between the
 * client and the server and drops, holds back or forges datagrams as each test asks.
 */
#include "testlib.h"
#include "../udp_upper/udp_exchange.h"
#include "net.h"
#include "udprelay.h"
#include "upper.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Processes are large (they keep their output), so each test uses these two. */
static struct tk_proc server, client;

/* Starts udp_upper_server on a free port of 127.0.0.1 (or every address) and returns the port. */
static int start_server(const char *bind_addr, int verbose)
{
    char *argv[8];
    int n = 0;
    argv[n++] = "udp_upper_server";
    argv[n++] = "-p";
    argv[n++] = "0";
    if (bind_addr != NULL) {
        argv[n++] = "-b";
        argv[n++] = (char *)bind_addr;
    }
    if (verbose)
        argv[n++] = "-v";
    argv[n] = NULL;
    server.merge_stderr = 1; /* a server that cannot start says why on stderr */
    ck_assert_int_eq(tk_spawn(&server, argv), 0);
    int port = tk_wait_listening(&server, 5000);
    ck_assert_msg(
        port > 0, "udp_upper_server -p 0%s%s%s did not print \"listening on PORT\"; its output: %s",
        bind_addr ? " -b " : "", bind_addr ? bind_addr : "", verbose ? " -v" : "", server.out);
    return port;
}

/* Runs udp_upper_client against host:port with the given input and extra options; returns its
 * exit status. Its stdout and stderr end up in client.out. */
static int run_client(const char *host, int port, const char *input, const char *timeout_ms,
                      const char *retries)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {"udp_upper_client",
                    "--timeout-ms",
                    (char *)timeout_ms,
                    "--retries",
                    (char *)retries,
                    (char *)host,
                    portstr,
                    NULL};
    client.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&client, argv), 0);
    ck_assert_int_eq(tk_write(&client, input), 0);
    tk_write(&client, NULL);
    int st = tk_wait_exit(&client, 20000);
    ck_assert_msg(st >= 0, "udp_upper_client did not finish; output so far: %s", client.out);
    return st;
}

/* Waits up to 5 s for the server's reply on fd and reads it into buf. A datagram from any other
 * address is skipped: tests run in parallel, and a port this test's socket was given may have
 * belonged to another test's server a moment ago, whose client may still be retrying to it.
 * Returns the reply's length, or -1 when none came. */
static ssize_t await_reply(int fd, int port, char *buf, size_t cap)
{
    long long deadline = tk_now_ms() + 5000;
    for (;;) {
        long long left = deadline - tk_now_ms();
        if (left <= 0 || tk_wait_readable(fd, (int)left) != 1)
            return -1;
        struct sockaddr_in from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &fromlen);
        if (n >= 0 && from.sin_family == AF_INET && ntohs(from.sin_port) == port &&
            from.sin_addr.s_addr == htonl(INADDR_LOOPBACK))
            return n;
    }
}

/* Sends one datagram to the server on 127.0.0.1:port and returns the length of its reply, read
 * into buf; fails the test when no reply comes within 5 s. */
static ssize_t ask_server(int port, const void *msg, size_t len, char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)len);
    ssize_t n = await_reply(fd, port, buf, cap);
    close(fd);
    ck_assert_msg(n >= 0,
                  "sent a datagram of %zu bytes (\"%.40s\") to udp_upper_server; expected the same "
                  "bytes in capitals back, got no reply within 5 s",
                  len, (const char *)msg);
    return n;
}

START_TEST(udp_upper_ascii_only)
{
    char s[] = "hello, World 42 \xc3\xa9 z{";
    upper_ascii(s, sizeof s - 1);
    ck_assert_msg(
        strcmp(s, "HELLO, WORLD 42 \xc3\xa9 Z{") == 0,
        "upper_ascii(\"hello, World 42 \xc3\xa9 z{\") gave \"%s\"; expected \"HELLO, WORLD 42 "
        "\xc3\xa9 Z{\": only the letters a-z change",
        s);
}
END_TEST

START_TEST(udp_server_answers_in_capitals)
{
    int port = start_server("127.0.0.1", 0);
    char buf[128];
    ssize_t n = ask_server(port, "Hello, World", 12, buf, sizeof buf);
    ck_assert_msg(n == 12 && memcmp(buf, "HELLO, WORLD", 12) == 0,
                  "sent \"Hello, World\"; expected the reply \"HELLO, WORLD\", got %zd bytes "
                  "\"%.*s\"",
                  n, n > 0 ? (int)n : 0, buf);
    /* Any bytes, even NUL and non-ASCII, come back unchanged apart from a-z. */
    static const char bin[] = {'a', 0, (char)0xff, '\n', 'z'};
    n = ask_server(port, bin, sizeof bin, buf, sizeof buf);
    ck_assert_msg(n == (ssize_t)sizeof bin && memcmp(buf, "A\0\xff\nZ", 5) == 0,
                  "sent the 5 bytes 'a' 0 0xff '\\n' 'z'; expected 'A' 0 0xff '\\n' 'Z' back "
                  "(only a-z change), got %zd bytes",
                  n);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

START_TEST(udp_server_verbose_shows_sender)
{
    int port = start_server("127.0.0.1", 1);
    int fd = net_listen("127.0.0.1", "0", SOCK_DGRAM, (char[NET_ERRLEN]){0}, NET_ERRLEN);
    int myport = net_local_port(fd);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sendto(fd, "hi", 2, 0, (struct sockaddr *)&to, sizeof to);
    char reply[8];
    ssize_t n = await_reply(fd, port, reply, sizeof reply);
    close(fd);
    ck_assert_msg(n >= 0, "sent \"hi\" to udp_upper_server -v; expected a reply, got none within 5 s");
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
    char want[64];
    snprintf(want, sizeof want, "2 bytes from 127.0.0.1:%d", myport);
    ck_assert_msg(strstr(server.out, want) != NULL,
                  "with -v the server should print the sender (\"%s\"); it printed: %s", want,
                  server.out);
}
END_TEST

START_TEST(udp_client_prints_each_reply)
{
    int port = start_server(NULL, 0);
    int st = run_client("127.0.0.1", port, "hello\nsecond line\n\nlast", "1000", "3");
    ck_assert_msg(
        st == 0 && strcmp(client.out, "HELLO\nSECOND LINE\n\nLAST\n") == 0,
        "udp_upper_client with input \"hello\\nsecond line\\n\\nlast\": expected status 0 "
        "and output \"HELLO\\nSECOND LINE\\n\\nLAST\\n\", got status %d and output:\n%s",
        st, client.out);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

/* The same dual-stack server answers whichever way a client names it. */
static void check_host(const char *host)
{
    int port = start_server(NULL, 0);
    int st = run_client(host, port, "via name\n", "1000", "3");
    ck_assert_msg(st == 0 && strcmp(client.out, "VIA NAME\n") == 0,
                  "client to %s: status %d, output %s", host, st, client.out);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}

START_TEST(udp_client_localhost)
{
    check_host("localhost");
}
END_TEST

START_TEST(udp_client_ipv4_literal)
{
    check_host("127.0.0.1");
}
END_TEST

START_TEST(udp_client_ipv6_literal)
{
    if (!net_have_ipv6())
        tk_skip("this machine has no IPv6 loopback");
    check_host("::1");
}
END_TEST

/* --- The exchange on a scripted network and a fake clock ---------------------------------------
 *
 * udp_exchange() runs here in the test's own process, with real UDP sockets on loopback, but its
 * clock and its waits come from struct fakenet: the clock moves only when the code waits, by
 * exactly the time it asked to wait or up to the next scripted event (a reply, a stray datagram).
 * So every wait is checked to the millisecond, and a loaded machine cannot make a test flaky. */

enum { MAX_WAITS = 1000 };

struct fakenet {
    uint64_t now;            /* the fake clock, in ms */
    int server_fd, stranger; /* the "server" the client talks to; someone else */
    int drop_first;          /* requests that get no reply */
    int answer;              /* 1: answer every request not dropped, at once */
    long stray_every_ms;     /* 0, or a stray datagram from the stranger this often */
    int requests;            /* requests seen */
    uint64_t request_at[64];
    long waits[MAX_WAITS]; /* the time outs the code asked for */
    int nwaits;
    uint64_t reply_at, next_stray; /* UINT64_MAX: none due */
    char reply[256];
    size_t reply_len;
    struct sockaddr_storage client;
    socklen_t clientlen;
};

static uint64_t fake_now(void *ctx)
{
    return ((struct fakenet *)ctx)->now;
}

/* Sends a datagram and waits (for real, on loopback) until it is readable on fd. */
static void deliver(int from, const struct fakenet *f, const void *buf, size_t len, int fd)
{
    ck_assert_int_eq(sendto(from, buf, len, 0, (const struct sockaddr *)&f->client, f->clientlen),
                     (ssize_t)len);
    ck_assert_msg(tk_wait_readable(fd, 5000) == 1, "a datagram sent on loopback never arrived");
}

/* The scripted network: takes the requests the code has sent, then lets time pass up to the
 * first event due within timeout_ms, or by timeout_ms when none is. */
static int fake_wait(void *ctx, int fd, int timeout_ms)
{
    struct fakenet *f = ctx;
    if (f->nwaits == MAX_WAITS) {
        errno = ELOOP;
        return -1; /* the test reports it: the code waited and waited, never done */
    }
    f->waits[f->nwaits++] = timeout_ms;
    if (timeout_ms < 0) {
        errno = EINVAL; /* poll() would wait for ever: the test reports it */
        return -1;
    }
    char buf[256];
    ssize_t n;
    f->clientlen = sizeof f->client;
    while ((n = recvfrom(f->server_fd, buf, sizeof buf, 0, (struct sockaddr *)&f->client,
                         &f->clientlen)) >= 0) {
        if (f->requests < 64)
            f->request_at[f->requests] = f->now;
        f->requests++;
        if (f->stray_every_ms > 0 && f->next_stray == UINT64_MAX)
            f->next_stray = f->now + (uint64_t)f->stray_every_ms;
        if (f->answer && f->requests > f->drop_first) {
            memcpy(f->reply, buf, (size_t)n);
            upper_ascii(f->reply, (size_t)n);
            f->reply_len = (size_t)n;
            f->reply_at = f->now;
        }
        f->clientlen = sizeof f->client;
    }
    uint64_t until = f->now + (uint64_t)timeout_ms;
    if (f->reply_at <= until && f->reply_at <= f->next_stray) {
        f->now = f->reply_at;
        f->reply_at = UINT64_MAX;
        deliver(f->server_fd, f, f->reply, f->reply_len, fd);
        return 1;
    }
    if (f->next_stray <= until) {
        f->now = f->next_stray;
        f->next_stray += (uint64_t)f->stray_every_ms;
        deliver(f->stranger, f, "STRAY", 5, fd);
        return 1;
    }
    f->now = until;
    return 0;
}

static struct fakenet net;
static struct udp_client fc;

/* Sets up the scripted network and a client of it with the given time out and retries. */
static void fake_setup(long timeout_ms, long retries)
{
    char err[NET_ERRLEN];
    memset(&net, 0, sizeof net);
    net.reply_at = net.next_stray = UINT64_MAX;
    struct sockaddr_in lo = {.sin_family = AF_INET};
    lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    net.server_fd = socket(AF_INET, SOCK_DGRAM, 0);
    net.stranger = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(bind(net.server_fd, (struct sockaddr *)&lo, sizeof lo), 0);
    ck_assert_int_eq(bind(net.stranger, (struct sockaddr *)&lo, sizeof lo), 0);
    ck_assert_int_eq(fcntl(net.server_fd, F_SETFL, O_NONBLOCK), 0);
    struct sockaddr_storage srv;
    socklen_t srvlen = sizeof srv;
    ck_assert_int_eq(getsockname(net.server_fd, (struct sockaddr *)&srv, &srvlen), 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    (void)err;
    udp_client_init(&fc, fd, &srv, srvlen, timeout_ms, retries);
    fc.clock = (struct udp_clock){.now_ms = fake_now, .wait_readable = fake_wait, .ctx = &net};
}

static void fake_teardown(void)
{
    close(fc.fd);
    close(net.server_fd);
    close(net.stranger);
}

/* Formats the waits the code asked for, as "[50, 100, 200]". */
static const char *waits_str(void)
{
    static char buf[512];
    size_t len = (size_t)snprintf(buf, sizeof buf, "[");
    for (int i = 0; i < net.nwaits && len < sizeof buf - 16; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%ld", i ? ", " : "", net.waits[i]);
    snprintf(buf + len, sizeof buf - len, "%s]", net.nwaits == MAX_WAITS ? ", ..." : "");
    return buf;
}

/* Runs udp_exchange() for line and returns its result. */
static int fake_exchange(const char *line)
{
    static char want[256];
    return udp_exchange(&fc, line, strlen(line), want);
}

START_TEST(udp_client_retries_lost_requests)
{
    /* The first two tries of the first line are lost; the third is answered at once. */
    fake_setup(50, 3);
    net.drop_first = 2;
    net.answer = 1;
    int r = fake_exchange("lost twice");
    ck_assert_msg(r == 1 && memcmp(fc.reply, "LOST TWICE", 10) == 0,
                  "--timeout-ms 50 --retries 3, the first two tries of \"lost twice\" lost: "
                  "expected udp_exchange() to return 1 with the reply \"LOST TWICE\", got %d "
                  "after %d tries (waits %s ms)",
                  r, net.requests, waits_str());
    ck_assert_msg(net.requests == 3 && net.nwaits == 3 && net.waits[0] == 50 &&
                      net.waits[1] == 100 && net.waits[2] == 200,
                  "two tries lost: expected 3 tries and the waits [50, 100, 200] ms (the third "
                  "answered at once), got %d tries and the waits %s",
                  net.requests, waits_str());
    /* The next line starts again from the first wait. */
    net.nwaits = 0;
    r = fake_exchange("then fine");
    ck_assert_msg(r == 1 && net.requests == 4 && net.nwaits == 1 && net.waits[0] == 50,
                  "the next line \"then fine\", answered at once: expected 1 try and the wait "
                  "[50], got the result %d, %d tries in all and the waits %s",
                  r, net.requests, waits_str());
    fake_teardown();
}
END_TEST

START_TEST(udp_client_doubles_its_wait)
{
    fake_setup(100, 4);
    int r = fake_exchange("nobody home");
    ck_assert_msg(r == 0, "no reply to any try: expected udp_exchange() to return 0 (lost), got %d",
                  r);
    static const long want[] = {100, 200, 400, 800, 1600};
    int ok = net.requests == 5 && net.nwaits == 5;
    for (int i = 0; ok && i < 5; i++)
        ok = net.waits[i] == want[i];
    ck_assert_msg(ok,
                  "--timeout-ms 100 --retries 4, no replies: expected 5 tries and the waits [100, "
                  "200, 400, 800, 1600] ms (each twice the one before), got %d tries and the "
                  "waits %s",
                  net.requests, waits_str());
    ck_assert_msg(net.now == 3100, "five waits of 100 to 1600 ms should end at 3100 ms, not %llu",
                  (unsigned long long)net.now);
    fake_teardown();
}
END_TEST

START_TEST(udp_client_deadline_is_fixed_when_waiting_starts)
{
    /* Nobody answers, but a stranger sends a datagram every 30 ms. The one wait of 100 ms must
     * still end 100 ms after it began: [100, 70, 40, 10], the strays ignored. */
    fake_setup(100, 0);
    net.stray_every_ms = 30;
    int r = fake_exchange("anyone");
    ck_assert_msg(r == 0 && net.now == 100,
                  "--timeout-ms 100 --retries 0, no reply, a stray datagram every 30 ms: expected "
                  "the line lost (0) after 100 ms, got %d after %llu ms with the waits %s%s",
                  r, (unsigned long long)net.now, waits_str(),
                  net.nwaits == MAX_WAITS ? " (it never stopped waiting)" : "");
    ck_assert_msg(net.nwaits == 4 && net.waits[0] == 100 && net.waits[1] == 70 &&
                      net.waits[2] == 40 && net.waits[3] == 10,
                  "expected the waits [100, 70, 40, 10] ms (each stray leaves the deadline where "
                  "it was), got %s",
                  waits_str());
    fake_teardown();
}
END_TEST

START_TEST(udp_client_wait_has_a_ceiling)
{
    /* The largest options: 30 retries. Doubling from 1000 ms would reach 2^30 s, far past what
     * an int of milliseconds holds; the wait stops growing at UDP_MAX_WAIT_MS. */
    fake_setup(1000, 30);
    int r = fake_exchange("patience");
    ck_assert_msg(r == 0, "no reply to 31 tries: expected 0 (lost), got %d with the waits %s", r,
                  waits_str());
    long expect = 1000;
    for (int i = 0; i < net.nwaits; i++) {
        ck_assert_msg(net.waits[i] == expect,
                      "--timeout-ms 1000 --retries 30: wait %d should be %ld ms (doubling, at "
                      "most %d), got %ld; all the waits: %s",
                      i + 1, expect, UDP_MAX_WAIT_MS, net.waits[i], waits_str());
        expect = expect * 2 > UDP_MAX_WAIT_MS ? UDP_MAX_WAIT_MS : expect * 2;
    }
    ck_assert_msg(net.nwaits == 31 && net.requests == 31, "expected 31 tries, got %d (waits %s)",
                  net.requests, waits_str());
    fake_teardown();
    /* Starting at the ceiling, it stays there. */
    fake_setup(UDP_MAX_WAIT_MS, 30);
    ck_assert_int_eq(fake_exchange("patience"), 0);
    for (int i = 0; i < net.nwaits; i++)
        ck_assert_msg(net.waits[i] == UDP_MAX_WAIT_MS,
                      "--timeout-ms %d --retries 30: every wait should be %d ms; got %s",
                      UDP_MAX_WAIT_MS, UDP_MAX_WAIT_MS, waits_str());
    fake_teardown();
}
END_TEST

START_TEST(udp_client_program_retries_lost_requests)
{
    /* The same through the programs and a relay that drops the first two requests. Only the
     * outcome is checked here: how long each wait lasts is the fake clock's job above. */
    int port = start_server("127.0.0.1", 0);
    struct udprelay *relay;
    struct udprelay_opts o = {.drop_first_requests = 2};
    int rport = udprelay_start(&relay, port, &o);
    ck_assert_int_gt(rport, 0);
    int st = run_client("127.0.0.1", rport, "lost twice\nthen fine\n", "50", "3");
    struct udprelay_stats s;
    udprelay_stop(relay, &s);
    ck_assert_msg(st == 0 && strcmp(client.out, "LOST TWICE\nTHEN FINE\n") == 0,
                  "udp_upper_client --timeout-ms 50 --retries 3 with input \"lost twice\\nthen "
                  "fine\\n\", the first two requests dropped: expected status 0 and \"LOST "
                  "TWICE\\nTHEN FINE\\n\", got status %d and:\n%s",
                  st, client.out);
    ck_assert_msg(
        s.dropped == 2 && s.requests >= 4,
        "the relay should have dropped 2 requests of at least 4; it saw %d and dropped %d",
        s.requests, s.dropped);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

START_TEST(udp_client_finishes_through_random_loss)
{
    const unsigned seed = 20261124;
    int port = start_server("127.0.0.1", 0);
    struct udprelay *relay;
    struct udprelay_opts o = {.drop_rate = 0.3, .seed = seed};
    int rport = udprelay_start(&relay, port, &o);
    char input[1024] = "", want[1024] = "";
    for (int i = 0; i < 20; i++) {
        char line[32];
        snprintf(line, sizeof line, "line %d\n", i);
        strcat(input, line);
        snprintf(line, sizeof line, "LINE %d\n", i);
        strcat(want, line);
    }
    int st = run_client("127.0.0.1", rport, input, "20", "10");
    struct udprelay_stats s;
    udprelay_stop(relay, &s);
    ck_assert_msg(st == 0 && strcmp(client.out, want) == 0,
                  "30%% loss, seed %u: status %d, output:\n%s", seed, st, client.out);
    ck_assert_msg(s.dropped > 0, "seed %u dropped nothing; the test tested nothing", seed);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

START_TEST(udp_client_ignores_reply_from_wrong_address)
{
    /* Every real reply is dropped; a forger answers each request correctly but from another port.
     * The client must not believe it: the line is lost. */
    int port = start_server("127.0.0.1", 0);
    struct udprelay *relay;
    struct udprelay_opts o = {.drop_all_replies = 1, .forge_replies = 1};
    int rport = udprelay_start(&relay, port, &o);
    int st = run_client("127.0.0.1", rport, "trust me\n", "30", "1");
    struct udprelay_stats s;
    udprelay_stop(relay, &s);
    ck_assert_int_gt(s.forged, 0);
    ck_assert_msg(
        st == 1 && strstr(client.out, "TRUST ME") == NULL && strstr(client.out, "lost") != NULL,
        "udp_upper_client --timeout-ms 30 --retries 1 with input \"trust me\", every real "
        "reply dropped and a correct-looking one sent from another port: expected the "
        "line reported lost (status 1, \"... it is lost\"), got status %d and:\n%s",
        st, client.out);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

START_TEST(udp_client_ignores_late_reply)
{
    /* The first reply to "one" is held back, so the client retries "one". The held reply is then
     * delivered while the client waits for the answer to "two": it must not be taken for it. */
    int port = start_server("127.0.0.1", 0);
    struct udprelay *relay;
    struct udprelay_opts o = {.hold_reply = 1};
    int rport = udprelay_start(&relay, port, &o);
    int st = run_client("127.0.0.1", rport, "one\ntwo\n", "50", "3");
    struct udprelay_stats s;
    udprelay_stop(relay, &s);
    ck_assert_msg(s.late == 1, "the relay should have delivered one late reply, it delivered %d",
                  s.late);
    ck_assert_msg(st == 0 && strcmp(client.out, "ONE\nTWO\n") == 0,
                  "input \"one\\ntwo\\n\", the first reply to \"one\" held back and delivered "
                  "while the client waited for the reply to \"two\": expected status 0 and "
                  "\"ONE\\nTWO\\n\", got status %d and:\n%s",
                  st, client.out);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

START_TEST(udp_client_refuses_oversized_line)
{
    int port = start_server("127.0.0.1", 0);
    enum { LONG = 70000 };
    char *input = malloc(LONG + 32);
    memset(input, 'x', LONG);
    strcpy(input + LONG, "\nshort\n");
    int st = run_client("127.0.0.1", port, input, "1000", "1");
    free(input);
    ck_assert_int_eq(st, 1);
    ck_assert_msg(strstr(client.out, "at most 65507") != NULL, "no clear message: %.200s",
                  client.out);
    ck_assert_msg(strstr(client.out, "SHORT\n") != NULL, "the next line was not sent: %.200s",
                  client.out);
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

/* Runs a program with bad arguments and checks it fails with a message, not a crash. */
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

START_TEST(udp_bad_arguments_get_clear_errors)
{
    expect_refusal((char *[]){"udp_upper_server", "-p", "70000", NULL}, "bad port");
    expect_refusal((char *[]){"udp_upper_server", "-p", "12x", NULL}, "bad port");
    expect_refusal((char *[]){"udp_upper_client", "localhost", NULL}, "expected HOST and PORT");
    expect_refusal((char *[]){"udp_upper_client", "localhost", "0", NULL}, "bad port");
    expect_refusal((char *[]){"udp_upper_client", "--retries", "-1", "localhost", "9", NULL},
                   "bad --retries");
    expect_refusal((char *[]){"udp_upper_client", "no-such-host.invalid", "9", NULL},
                   "cannot resolve");
}
END_TEST

START_TEST(udp_help_is_printed)
{
    static struct tk_proc p;
    ck_assert_int_eq(tk_spawn(&p, (char *[]){"udp_upper_client", "--help", NULL}), 0);
    ck_assert_int_eq(tk_wait_exit(&p, 5000), 0);
    ck_assert(strstr(p.out, "usage: udp_upper_client") != NULL);
    ck_assert_int_eq(tk_spawn(&p, (char *[]){"udp_upper_server", "--help", NULL}), 0);
    ck_assert_int_eq(tk_wait_exit(&p, 5000), 0);
    ck_assert(strstr(p.out, "usage: udp_upper_server") != NULL);
}
END_TEST

/* --- The textbook's Python programs talk to ours ---------------------------------------------- */

static const char *python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : NULL;
}

START_TEST(udp_textbook_python_client_to_our_server)
{
    if (python() == NULL)
        tk_skip("no /usr/bin/python3 to run the textbook's client");
    if (access("tests/textbook/UDPClient.py", R_OK) != 0)
        tk_skip("tests/textbook/UDPClient.py not found (run from the toolkit's top folder)");
    int port = start_server("127.0.0.1", 0);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    char *argv[] = {(char *)python(), "tests/textbook/UDPClient.py", "127.0.0.1", portstr, NULL};
    client.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&client, argv), 0);
    tk_write(&client, "from python\n");
    tk_write(&client, NULL);
    ck_assert_int_eq(tk_wait_exit(&client, 10000), 0);
    ck_assert_str_eq(client.out, "FROM PYTHON\n");
    ck_assert_int_eq(tk_stop(&server, 5000), 0);
}
END_TEST

START_TEST(udp_our_client_to_textbook_python_server)
{
    if (python() == NULL)
        tk_skip("no /usr/bin/python3 to run the textbook's server");
    if (access("tests/textbook/UDPServer.py", R_OK) != 0)
        tk_skip("tests/textbook/UDPServer.py not found (run from the toolkit's top folder)");
    char *argv[] = {(char *)python(), "tests/textbook/UDPServer.py", "0", NULL};
    ck_assert_int_eq(tk_spawn(&server, argv), 0);
    int port = tk_wait_listening(&server, 10000);
    ck_assert_int_gt(port, 0);
    int st = run_client("127.0.0.1", port, "to python\nand back\n", "1000", "3");
    ck_assert_msg(st == 0 && strcmp(client.out, "TO PYTHON\nAND BACK\n") == 0,
                  "udp_upper_client to the textbook's UDPServer.py with input \"to python\\nand "
                  "back\": expected status 0 and \"TO PYTHON\\nAND BACK\\n\", got status %d and "
                  "output:\n%s",
                  st, client.out);
    tk_stop(&server, 5000); /* the textbook's server has no signal handler: it dies of SIGTERM */
}
END_TEST

static Suite *udp_suite(void)
{
    Suite *s = suite_create("udp");
    TCase *tc = tk_tcase(s, "udp", 30);
    tk_add_test(tc, udp_upper_ascii_only);
    tk_add_test(tc, udp_server_answers_in_capitals);
    tk_add_test(tc, udp_server_verbose_shows_sender);
    tk_add_test(tc, udp_client_prints_each_reply);
    tk_add_test(tc, udp_client_localhost);
    tk_add_test(tc, udp_client_ipv4_literal);
    tk_add_test(tc, udp_client_ipv6_literal);
    tk_add_test(tc, udp_client_retries_lost_requests);
    tk_add_test(tc, udp_client_doubles_its_wait);
    tk_add_test(tc, udp_client_deadline_is_fixed_when_waiting_starts);
    tk_add_test(tc, udp_client_wait_has_a_ceiling);
    tk_add_test(tc, udp_client_program_retries_lost_requests);
    tk_add_test(tc, udp_client_finishes_through_random_loss);
    tk_add_test(tc, udp_client_ignores_reply_from_wrong_address);
    tk_add_test(tc, udp_client_ignores_late_reply);
    tk_add_test(tc, udp_client_refuses_oversized_line);
    tk_add_test(tc, udp_bad_arguments_get_clear_errors);
    tk_add_test(tc, udp_textbook_python_client_to_our_server);
    tk_add_test(tc, udp_our_client_to_textbook_python_server);
    /* The help text is given code in the labs, not work a student does, so no lab grades it. */
    TCase *help = tk_tcase(s, "udp_help", 30);
    tk_add_test(help, udp_help_is_printed);
    return s;
}

TK_MAIN(udp_suite)
