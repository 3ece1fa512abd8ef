/*
 * net.h - the one getaddrinfo idiom, used by every program in the toolkit.
 *
 * Servers and clients, TCP and UDP, IPv4 and IPv6 all go through these few functions, so a student
 * reads the address-resolution loop once (PITFALLS.md, "getaddrinfo and IPv6"). They never exit:
 * on failure they return -1 and write a one-line explanation into the caller's err buffer, and
 * main() decides what to do.
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/socket.h>

enum { NET_ERRLEN = 256, NET_ADDRSTRLEN = 64 };

/* Creates a socket of socktype (SOCK_STREAM or SOCK_DGRAM) bound to host:port and, for TCP,
 * listening. host NULL means every interface, IPv6 and IPv4 alike. Port "0" picks a free port;
 * net_local_port() tells which. Returns the socket or -1. */
int net_listen(const char *host, const char *port, int socktype, char *err, size_t errlen);

/* Connects a TCP socket to host:port, trying each address getaddrinfo returns in turn (so
 * "localhost" works whether the server listens on ::1 or 127.0.0.1). Returns the socket or -1. */
int net_connect(const char *host, const char *port, char *err, size_t errlen);

/* Creates an unconnected UDP socket suited to reach host:port and stores that address in
 * addr and addrlen, for sendto() and for checking where replies come from. Returns the socket or
 * -1. */
int net_udp_socket(const char *host, const char *port, struct sockaddr_storage *addr,
                   socklen_t *addrlen, char *err, size_t errlen);

/* Connects a TCP socket to an address already known (say, from a tracker's peer list), giving up
 * after timeout_ms. With local non-NULL the socket is first bound to that address (port 0), so
 * the peer sees us at our own address. Returns a blocking socket, or -1 with a message in err. */
int net_connect_addr(const struct sockaddr *to, socklen_t tolen, const struct sockaddr *local,
                     socklen_t locallen, int timeout_ms, char *err, size_t errlen);

/* Puts fd into non-blocking mode, keeping its other file status flags. Returns 0, or -1 with
 * errno set (every caller checks: a socket left blocking would stall a poll()-driven loop). */
int net_set_nonblocking(int fd);

/* Returns the local port a socket is bound to, or -1. */
int net_local_port(int fd);

/* Returns 1 when two socket addresses name the same IP address and port, 0 otherwise. An IPv4
 * address and its IPv4-mapped IPv6 form (::ffff:a.b.c.d) count as the same. */
int net_same_addr(const struct sockaddr *a, const struct sockaddr *b);

/* Formats an address as "127.0.0.1:5000" or "[::1]:5000" into buf and returns buf. */
const char *net_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Returns 1 when this machine can bind an IPv6 loopback socket, 0 otherwise (tests skip then). */
int net_have_ipv6(void);

#endif
