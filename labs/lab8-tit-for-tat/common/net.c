/*
 * net.c - address resolution, listening and connecting, the getaddrinfo way.
 *
 * The pattern is always the same: ask getaddrinfo for every address that fits (AF_UNSPEC, so IPv4
 * and IPv6), try them in order, and keep the first that works. The sockaddr_storage type is big
 * enough for any address family, so no code below cares which one it got.
 */
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE /* for SO_NOSIGPIPE, hidden by a strict _POSIX_C_SOURCE */
#endif
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Sets options every socket of ours wants. On macOS and the BSDs, SO_NOSIGPIPE makes a write to a
 * closed connection fail with EPIPE instead of killing the process; Linux has no such socket option
 * and uses the MSG_NOSIGNAL flag on each send instead (see io.c). */
static void set_common_options(int fd)
{
#ifdef SO_NOSIGPIPE
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
    (void)fd;
#endif
}

/* Reads the file status flags and sets them again with O_NONBLOCK added: F_SETFL replaces all
 * of them, so writing O_NONBLOCK alone would clear any other flag the descriptor had. */
int net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* The same, with O_NONBLOCK taken off. */
int net_set_blocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

/* Moves IPv6 results to the front of the list. A server that binds "::" with IPV6_V6ONLY off
 * accepts IPv4 clients too, so trying IPv6 first gives one dual-stack socket; glibc lists 0.0.0.0
 * first, which would leave ::1 clients out. */
static struct addrinfo *ipv6_first(struct addrinfo *list)
{
    struct addrinfo *v6 = NULL, **v6tail = &v6, *other = NULL, **othertail = &other;
    for (struct addrinfo *ai = list; ai != NULL;) {
        struct addrinfo *next = ai->ai_next;
        ai->ai_next = NULL;
        if (ai->ai_family == AF_INET6) {
            *v6tail = ai;
            v6tail = &ai->ai_next;
        } else {
            *othertail = ai;
            othertail = &ai->ai_next;
        }
        ai = next;
    }
    *v6tail = other;
    return v6;
}

int net_listen(const char *host, const char *port, int socktype, char *err, size_t errlen)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_PASSIVE; /* with host NULL: the wildcard address */

    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s port %s: %s", host ? host : "(any)", port,
                 gai_strerror(rc));
        return -1;
    }
    if (host == NULL)
        res = ipv6_first(res);

    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1, zero = 0;
        /* SO_REUSEADDR lets a restarted server bind at once although old connections to the
         * port still sit in TIME_WAIT. */
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6 && host == NULL)
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        set_common_options(fd);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            (socktype != SOCK_STREAM || listen(fd, SOMAXCONN) == 0))
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot bind %s port %s: %s", host ? host : "(any)", port,
                 strerror(saved));
        errno = saved;
    }
    return fd;
}

int net_connect(const char *host, const char *port, char *err, size_t errlen)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s port %s: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        set_common_options(fd);
        int r;
        do
            r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect to %s port %s: %s", host, port, strerror(saved));
        errno = saved;
    }
    return fd;
}

int net_connect_addr(const struct sockaddr *to, socklen_t tolen, const struct sockaddr *local,
                     socklen_t locallen, int timeout_ms, char *err, size_t errlen)
{
    char name[NET_ADDRSTRLEN];
    net_addr_str(to, name, sizeof name);
    int fd = socket(to->sa_family, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    set_common_options(fd);
    if (local != NULL && bind(fd, local, locallen) < 0) {
        snprintf(err, errlen, "cannot bind the local address before connecting to %s: %s", name,
                 strerror(errno));
        goto fail;
    }
    /* A blocking connect() to a host that does not answer can wait minutes. Non-blocking, the
     * call returns at once (EINPROGRESS), poll() waits as long as we choose, and SO_ERROR tells
     * how the attempt ended. */
    if (net_set_nonblocking(fd) < 0) {
        snprintf(err, errlen, "cannot make the socket non-blocking: %s", strerror(errno));
        goto fail;
    }
    if (connect(fd, to, tolen) < 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            snprintf(err, errlen, "cannot connect to %s: %s", name, strerror(errno));
            goto fail;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int r;
        do
            r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
            snprintf(err, errlen, "cannot connect to %s: no answer within %d ms", name, timeout_ms);
            goto fail;
        }
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
            snprintf(err, errlen, "cannot connect to %s: %s", name,
                     strerror(soerr ? soerr : errno));
            goto fail;
        }
    }
    /* The caller asked for a blocking socket: take O_NONBLOCK off again. */
    if (net_set_blocking(fd) < 0) {
        snprintf(err, errlen, "cannot make the socket blocking again: %s", strerror(errno));
        goto fail;
    }
    return fd;
fail:
    close(fd);
    return -1;
}

int net_udp_socket(const char *host, const char *port, struct sockaddr_storage *addr,
                   socklen_t *addrlen, char *err, size_t errlen)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;

    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s port %s: %s", host, port, gai_strerror(rc));
        return -1;
    }
    /* UDP has no handshake, so there is no way to learn which address "works" before sending:
     * take the first one this machine can make a socket for. */
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        memcpy(addr, ai->ai_addr, ai->ai_addrlen);
        *addrlen = ai->ai_addrlen;
        break;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a UDP socket for %s: %s", host, strerror(saved));
        errno = saved;
    }
    return fd;
}

int net_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    errno = EAFNOSUPPORT;
    return -1;
}

/* Reduces an address to 16 address bytes and a port, writing IPv4 as IPv4-mapped IPv6, so that a
 * dual-stack socket's view of an IPv4 peer compares equal to the plain IPv4 form. */
static int canonical(const struct sockaddr *sa, unsigned char ip[16], unsigned *port)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(ip, mapped, 12);
        memcpy(ip + 12, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(ip, &in6->sin6_addr, 16);
        *port = ntohs(in6->sin6_port);
        return 0;
    }
    return -1;
}

int net_same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    unsigned char ipa[16], ipb[16];
    unsigned pa, pb;
    if (canonical(a, ipa, &pa) < 0 || canonical(b, ipb, &pb) < 0)
        return 0;
    return pa == pb && memcmp(ipa, ipb, 16) == 0;
}

const char *net_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            /* An IPv4 client of a dual-stack socket shows up as ::ffff:a.b.c.d; print the
             * IPv4 address people know. */
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
            snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(in6->sin6_port));
            return buf;
        }
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(buf, len, "(address family %d)", sa->sa_family);
    }
    return buf;
}

int net_have_ipv6(void)
{
    /* Asks the system directly instead of through net_listen(): a test that decides whether to skip
     * must not depend on the code it tests. */
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}
