/*
 * url.h - tracker URLs and the percent-encoding of query strings.
 *
 * A metainfo file names its tracker with a URL such as "http://tracker.example:6969/announce" or
 * "udp://tracker.example:1337". Before the shell can open a socket it needs the scheme, the host,
 * the port and (for HTTP) the path and query; url_parse() splits a URL into those parts without
 * any I/O. The announce request then carries 20 binary bytes (the info hash and the peer id) in
 * its query string, which url_encode() turns into "%XX" escapes and url_decode() turns back.
 */
#ifndef URL_H
#define URL_H

#include <stddef.h>
#include <stdint.h>

/* The two tracker protocols minitorrent speaks: BEP 3 (HTTP) and BEP 15 (UDP). */
enum url_scheme { URL_HTTP, URL_UDP };

#define URL_HOST_MAX 255  /* the longest DNS name, which also bounds IPv6 literals */
#define URL_PATH_MAX 1024 /* path and query together; longer announce URLs are refused */

/* One parsed tracker URL. Every string is NUL-terminated. */
struct tracker_url {
    enum url_scheme scheme;
    char host[URL_HOST_MAX + 1];  /* a name or an address, IPv6 without its brackets */
    int host_is_ipv6;             /* 1 when the URL wrote the host as "[...]" */
    uint16_t port;                /* 80 by default for http; udp URLs must name a port */
    char path[URL_PATH_MAX + 1];  /* "/announce"; "/" when the URL has no path */
    char query[URL_PATH_MAX + 1]; /* what followed '?', without it ("" when none) */
    int has_query;                /* 1 when the URL had a '?', even an empty query */
};

/* Parses an http:// or udp:// tracker URL; returns 0, or -1 with a message in err. */
int url_parse(const char *s, struct tracker_url *out, char *err, size_t errlen);

/* The room url_encode() needs for n input bytes: three characters each, plus the NUL. */
#define URL_ENCODED_MAX(n) (3 * (n) + 1)

/* Percent-encodes n bytes for a query string: letters, digits and "-._~" stay, every other byte
 * becomes "%XX". Writes a NUL-terminated string; returns its length, or -1 when out is too small
 * (cap below URL_ENCODED_MAX(n) may still be enough when many bytes stay as they are). */
long url_encode(const unsigned char *in, size_t n, char *out, size_t cap);

/* Decodes n characters of a query-string value: "%XX" becomes one byte and '+' a space. Writes at
 * most cap bytes to out and their count to *outlen; returns 0, or -1 with a message in err for a
 * malformed escape or an output that does not fit. */
int url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen, char *err,
               size_t errlen);

#endif
