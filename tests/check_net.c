/*
 * check_net.c - the getaddrinfo idiom: names and address families, errors without leaks, and
 * rebinding a port that still has connections in TIME_WAIT.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* unshare() and CLONE_NEWNET, for the test in a network namespace */
#include <sched.h>
#endif
#include "testlib.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char err[NET_ERRLEN];

START_TEST(net_listen_port_zero_picks_a_port)
{
    int fd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof err);
    ck_assert_msg(fd >= 0,
                  "net_listen(\"127.0.0.1\", \"0\", SOCK_STREAM) returned %d, expected a socket; "
                  "err says \"%s\"",
                  fd, err);
    ck_assert_msg(net_local_port(fd) > 0,
                  "after net_listen(..., \"0\", ...) the socket has port %d, expected the free "
                  "port the system picked",
                  net_local_port(fd));
    close(fd);
}
END_TEST

/* Listens on listen_host, connects to connect_host, and checks a byte goes through. */
static void check_connect(const char *listen_host, const char *connect_host)
{
    int lfd = net_listen(listen_host, "0", SOCK_STREAM, err, sizeof err);
    ck_assert_msg(lfd >= 0, "net_listen(%s%s%s, \"0\", SOCK_STREAM) returned %d; err says \"%s\"",
                  listen_host ? "\"" : "", listen_host ? listen_host : "NULL",
                  listen_host ? "\"" : "", lfd, err);
    char port[16];
    snprintf(port, sizeof port, "%d", net_local_port(lfd));
    int fd = net_connect(connect_host, port, err, sizeof err);
    ck_assert_msg(fd >= 0, "listen on %s, connect to %s: %s", listen_host ? listen_host : "(any)",
                  connect_host, err);
    int afd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(afd, 0);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    char c;
    ck_assert_int_eq(read(afd, &c, 1), 1);
    close(afd);
    close(fd);
    close(lfd);
}

START_TEST(net_connect_localhost_to_ipv4_server)
{
    /* "localhost" may resolve to ::1 first; the connect loop must go on to 127.0.0.1. */
    check_connect("127.0.0.1", "localhost");
}
END_TEST

START_TEST(net_dual_stack_server_takes_ipv4)
{
    check_connect(NULL, "127.0.0.1");
}
END_TEST

START_TEST(net_dual_stack_server_takes_ipv6)
{
    if (!net_have_ipv6())
        tk_skip("this machine has no IPv6 loopback");
    check_connect(NULL, "::1");
}
END_TEST

START_TEST(net_bad_host_is_a_clean_error)
{
    int before = tk_count_fds();
    int fd = net_connect("no-such-host.invalid", "80", err, sizeof err);
    ck_assert_int_eq(fd, -1);
    ck_assert_msg(strstr(err, "cannot resolve no-such-host.invalid") != NULL, "message: %s", err);
    err[0] = '\0';
    fd = net_listen("no-such-host.invalid", "0", SOCK_STREAM, err, sizeof err);
    ck_assert_int_eq(fd, -1);
    ck_assert_msg(
        strstr(err, "cannot resolve no-such-host.invalid") != NULL,
        "net_listen(\"no-such-host.invalid\", ...) should fail with err starting \"cannot "
        "resolve no-such-host.invalid\"; err says \"%s\"",
        err);
    ck_assert_int_eq(tk_count_fds(), before);
}
END_TEST

START_TEST(net_refused_connect_leaks_nothing)
{
    /* A port that was free a moment ago: bind it, note it, close it. */
    int lfd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof err);
    ck_assert_msg(lfd >= 0,
                  "net_listen(\"127.0.0.1\", \"0\", SOCK_STREAM) returned %d; err says \"%s\"", lfd,
                  err);
    char port[16];
    snprintf(port, sizeof port, "%d", net_local_port(lfd));
    close(lfd);
    int before = tk_count_fds();
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(net_connect("127.0.0.1", port, err, sizeof err), -1);
    ck_assert_msg(strstr(err, strerror(ECONNREFUSED)) != NULL, "message: %s", err);
    ck_assert_msg(tk_count_fds() == before, "%d descriptors before, %d after 20 failed connects",
                  before, tk_count_fds());
}
END_TEST

START_TEST(net_rebind_port_in_time_wait)
{
    /* The side that closes first keeps the connection in TIME_WAIT for a minute or two. When that
     * side is a server, its restart must still be able to bind the port: SO_REUSEADDR. */
    int lfd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof err);
    ck_assert_msg(lfd >= 0,
                  "net_listen(\"127.0.0.1\", \"0\", SOCK_STREAM) returned %d; err says \"%s\"", lfd,
                  err);
    char port[16];
    snprintf(port, sizeof port, "%d", net_local_port(lfd));
    int cfd = net_connect("127.0.0.1", port, err, sizeof err);
    int afd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(afd, 0);
    close(afd); /* the server closes first */
    char c;
    ck_assert_int_eq(read(cfd, &c, 1), 0);
    close(cfd);
    close(lfd);
    int again = net_listen("127.0.0.1", port, SOCK_STREAM, err, sizeof err);
    ck_assert_msg(again >= 0, "rebinding port %s at once failed: %s", port, err);
    close(again);
}
END_TEST

START_TEST(net_failed_bind_leaks_nothing)
{
    /* A port already taken: every address net_listen() tries fails to bind, and each socket it
     * made for the attempt must be closed again. With host NULL it tries :: and 0.0.0.0. */
    int lfd = net_listen(NULL, "0", SOCK_STREAM, err, sizeof err);
    ck_assert_msg(lfd >= 0, "net_listen(NULL, \"0\", SOCK_STREAM) returned %d; err says \"%s\"",
                  lfd, err);
    char port[16];
    snprintf(port, sizeof port, "%d", net_local_port(lfd));
    const char *hosts[] = {NULL, "127.0.0.1", "localhost"};
    for (int h = 0; h < 3; h++) {
        int before = tk_count_fds();
        for (int i = 0; i < 3; i++) {
            err[0] = '\0';
            int fd = net_listen(hosts[h], port, SOCK_STREAM, err, sizeof err);
            ck_assert_msg(fd == -1,
                          "net_listen(%s, \"%s\", SOCK_STREAM) on a port in use returned %d; "
                          "expected -1",
                          hosts[h] ? hosts[h] : "NULL", port, fd);
            ck_assert_msg(strncmp(err, "cannot bind", 11) == 0,
                          "net_listen(%s, \"%s\") on a port in use: expected err to start with "
                          "\"cannot bind\", got \"%s\"",
                          hosts[h] ? hosts[h] : "NULL", port, err);
        }
        int after = tk_count_fds();
        ck_assert_msg(after == before,
                      "3 calls of net_listen(%s, \"%s\") on a port in use: %d descriptors open "
                      "before, %d after; a socket whose bind() failed must be closed",
                      hosts[h] ? hosts[h] : "NULL", port, before, after);
    }
    close(lfd);
}
END_TEST

START_TEST(net_dual_stack_where_v6only_is_the_default)
{
    /* Linux lets IPv6 sockets take IPv4 clients unless told otherwise; the BSDs, Windows and some
     * Linux systems do the opposite (the sysctl net.ipv6.bindv6only). A dual-stack server must
     * turn IPV6_V6ONLY off itself. The test makes such a system: a network namespace of its own,
     * with bindv6only set to 1. */
#if !defined(__linux__)
    tk_skip("the network namespace this test makes is Linux's");
#else
    if (unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        tk_skip("cannot make a network namespace here: %s", strerror(errno));
    int fd = open("/proc/sys/net/ipv6/bindv6only", O_WRONLY);
    if (fd < 0 || write(fd, "1", 1) != 1)
        tk_skip("cannot set net.ipv6.bindv6only in the new namespace");
    close(fd);
    if (system("ip link set lo up 2>/dev/null") != 0)
        tk_skip("cannot bring the loopback interface up (no ip command?)");
    if (!net_have_ipv6())
        tk_skip("no IPv6 loopback in the new namespace");
    for (int t = 0; t < 2; t++) {
        int type = t == 0 ? SOCK_STREAM : SOCK_DGRAM;
        const char *tname = t == 0 ? "SOCK_STREAM" : "SOCK_DGRAM";
        int lfd = net_listen(NULL, "0", type, err, sizeof err);
        ck_assert_msg(lfd >= 0, "net_listen(NULL, \"0\", %s) returned %d; err says \"%s\"", tname,
                      lfd, err);
        int v6only = -1;
        socklen_t len = sizeof v6only;
        struct sockaddr_storage ss;
        socklen_t sslen = sizeof ss;
        ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&ss, &sslen), 0);
        if (ss.ss_family == AF_INET6)
            ck_assert_int_eq(getsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
        ck_assert_msg(ss.ss_family == AF_INET6 && v6only == 0,
                      "on a system where IPV6_V6ONLY is on by default, net_listen(NULL, \"0\", "
                      "%s) gave %s; expected an IPv6 socket with IPV6_V6ONLY off, which takes "
                      "IPv4 clients too",
                      tname,
                      ss.ss_family != AF_INET6 ? "an IPv4 socket" : "one with IPV6_V6ONLY on");
        close(lfd);
    }
    check_connect(NULL, "127.0.0.1");
#endif
}
END_TEST

START_TEST(net_same_addr_sees_through_ipv4_mapping)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5000)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in6 b = {.sin6_family = AF_INET6, .sin6_port = htons(5000)};
    static const unsigned char mapped[16] = {0, 0, 0,    0,    0,   0, 0, 0,
                                             0, 0, 0xff, 0xff, 127, 0, 0, 1};
    memcpy(&b.sin6_addr, mapped, 16);
    ck_assert_msg(
        net_same_addr((struct sockaddr *)&a, (struct sockaddr *)&b),
        "net_same_addr(127.0.0.1 port 5000 as a sockaddr_in, ::ffff:127.0.0.1 port 5000 as a "
        "sockaddr_in6) returned 0; they are the same address and port");
    b.sin6_port = htons(5001);
    ck_assert_msg(!net_same_addr((struct sockaddr *)&a, (struct sockaddr *)&b),
                  "net_same_addr(127.0.0.1 port 5000, ::ffff:127.0.0.1 port 5001) returned 1; the "
                  "ports differ");
    char buf[NET_ADDRSTRLEN];
    ck_assert_str_eq(net_addr_str((struct sockaddr *)&a, buf, sizeof buf), "127.0.0.1:5000");
    ck_assert_str_eq(net_addr_str((struct sockaddr *)&b, buf, sizeof buf), "127.0.0.1:5001");
    b.sin6_addr = in6addr_loopback;
    ck_assert_str_eq(net_addr_str((struct sockaddr *)&b, buf, sizeof buf), "[::1]:5001");
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tk_tcase(s, "net", 20);
    tk_add_test(tc, net_listen_port_zero_picks_a_port);
    tk_add_test(tc, net_connect_localhost_to_ipv4_server);
    tk_add_test(tc, net_dual_stack_server_takes_ipv4);
    tk_add_test(tc, net_dual_stack_server_takes_ipv6);
    tk_add_test(tc, net_bad_host_is_a_clean_error);
    tk_add_test(tc, net_refused_connect_leaks_nothing);
    tk_add_test(tc, net_rebind_port_in_time_wait);
    tk_add_test(tc, net_failed_bind_leaks_nothing);
    tk_add_test(tc, net_dual_stack_where_v6only_is_the_default);
    tk_add_test(tc, net_same_addr_sees_through_ipv4_mapping);
    return s;
}

TK_MAIN(net_suite)
