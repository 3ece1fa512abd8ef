/*
 * url.c - tracker URLs and percent-encoding (see url.h).
 *
 * The parser follows the shape of RFC 3986, "scheme://authority/path?query#fragment", but accepts
 * only what a tracker URL needs: no user info, a host that is a DNS name, an IPv4 address or a
 * bracketed IPv6 literal, and an optional port. Anything else gets a message that says what was
 * wrong, because a mistyped tracker URL is a common first bug in the lab.
 */
#include "url.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- small helpers */

/* Writes a message into the caller's error buffer, if it gave one. */
static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* Tells whether c is an ASCII letter or digit; <ctype.h> would depend on the locale. */
static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Returns the value of one hex digit, or -1 when c is not one. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Compares the n characters at s with a lower-case word, ignoring the case of s. */
static int word_eq_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- URL parsing */

/* Parses the scheme before "://"; returns the number of characters used, or -1. */
static int parse_scheme(const char *s, struct tracker_url *out, char *err, size_t errlen)
{
    const char *sep = strstr(s, "://");
    if (sep == NULL) {
        set_err(err, errlen,
                "not a tracker URL: expected http://host[:port]/path or udp://host:port");
        return -1;
    }
    size_t n = (size_t)(sep - s);
    if (word_eq_nocase(s, n, "http")) {
        out->scheme = URL_HTTP;
    } else if (word_eq_nocase(s, n, "udp")) {
        out->scheme = URL_UDP;
    } else if (word_eq_nocase(s, n, "https")) {
        /* A real client would wrap the connection in TLS; the toolkit keeps the wire readable. */
        set_err(err, errlen,
                "https trackers are not supported: minitorrent speaks plain http and udp");
        return -1;
    } else {
        set_err(err, errlen, "unsupported URL scheme: only http:// and udp:// trackers work");
        return -1;
    }
    return (int)(n + 3);
}

/* Parses the decimal port in s[0..n); returns 0, or -1 with a message. */
static int parse_port(const char *s, size_t n, uint16_t *port, char *err, size_t errlen)
{
    if (n == 0) {
        set_err(err, errlen, "empty port after ':'");
        return -1;
    }
    if (n > 5) {
        set_err(err, errlen, "port out of range: must be 1..65535");
        return -1;
    }
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            set_err(err, errlen, "port is not a decimal number");
            return -1;
        }
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535) {
        set_err(err, errlen, "port out of range: must be 1..65535");
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

/* Parses "host[:port]" or "[v6]:port" in s[0..n) into out; returns 0, or -1 with a message. */
static int parse_authority(const char *s, size_t n, struct tracker_url *out, char *err,
                           size_t errlen)
{
    const char *port_start = NULL;
    size_t host_len;
    const char *host;

    if (memchr(s, '@', n) != NULL) {
        set_err(err, errlen, "user info (user@host) in a tracker URL is not supported");
        return -1;
    }
    if (n > 0 && s[0] == '[') {
        /* An IPv6 literal: "[" hex digits, ':' and '.' (for ::ffff:1.2.3.4) "]". */
        const char *close = memchr(s, ']', n);
        if (close == NULL) {
            set_err(err, errlen, "IPv6 address is missing its closing ']'");
            return -1;
        }
        host = s + 1;
        host_len = (size_t)(close - host);
        int colons = 0;
        for (size_t i = 0; i < host_len; i++) {
            char c = host[i];
            if (c == ':')
                colons++;
            else if (hex_value(c) < 0 && c != '.') {
                set_err(err, errlen, "bad character in IPv6 address (zone ids are not supported)");
                return -1;
            }
        }
        if (host_len == 0 || colons < 2) {
            set_err(err, errlen, "bad IPv6 address between '[' and ']'");
            return -1;
        }
        const char *after = close + 1;
        size_t rest = n - (size_t)(after - s);
        if (rest > 0) {
            if (after[0] != ':') {
                set_err(err, errlen, "expected ':port' after the IPv6 address");
                return -1;
            }
            port_start = after + 1;
        }
        out->host_is_ipv6 = 1;
    } else {
        /* A DNS name or a dotted IPv4 address. */
        const char *colon = memchr(s, ':', n);
        host = s;
        host_len = colon != NULL ? (size_t)(colon - s) : n;
        if (colon != NULL)
            port_start = colon + 1;
        for (size_t i = 0; i < host_len; i++) {
            char c = host[i];
            if (!is_alnum(c) && c != '-' && c != '.' && c != '_') {
                set_err(err, errlen, "bad character in host name");
                return -1;
            }
        }
    }
    if (host_len == 0) {
        set_err(err, errlen, "tracker URL has no host");
        return -1;
    }
    if (host_len > URL_HOST_MAX) {
        set_err(err, errlen, "host name too long");
        return -1;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';

    if (port_start != NULL) {
        size_t plen = n - (size_t)(port_start - s);
        if (parse_port(port_start, plen, &out->port, err, errlen) < 0)
            return -1;
    } else if (out->scheme == URL_HTTP) {
        out->port = 80;
    } else {
        /* BEP 15 has no default port, so a udp:// URL must say which one. */
        set_err(err, errlen, "udp tracker URL needs a port (udp://host:port)");
        return -1;
    }
    return 0;
}

/* Parses a tracker URL into out; see url.h. */
int url_parse(const char *s, struct tracker_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (s == NULL) {
        set_err(err, errlen, "no URL");
        return -1;
    }
    /* Spaces and control characters would end up in the request line and break it. */
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == 0x7f) {
            set_err(err, errlen, "URL contains a space or control character");
            return -1;
        }
    }

    int used = parse_scheme(s, out, err, errlen);
    if (used < 0)
        return -1;
    const char *auth = s + used;
    size_t auth_len = strcspn(auth, "/?#");
    if (parse_authority(auth, auth_len, out, err, errlen) < 0)
        return -1;

    /* The fragment ('#...') is never sent to a server, so it is dropped here. */
    const char *rest = auth + auth_len;
    size_t rest_len = strcspn(rest, "#");
    size_t path_len = strcspn(rest, "?#");
    /* The limit applies to what will be sent, which has a "/" in front when the URL had no
     * path; otherwise "http://h?q" would pass and the same URL written "http://h/?q" fail. */
    if (rest_len + (path_len == 0 ? 1 : 0) > URL_PATH_MAX) {
        set_err(err, errlen, "URL path and query too long");
        return -1;
    }
    if (path_len == 0) {
        strcpy(out->path, "/");
    } else {
        memcpy(out->path, rest, path_len);
        out->path[path_len] = '\0';
    }
    if (path_len < rest_len) { /* rest[path_len] is '?' */
        out->has_query = 1;
        size_t qlen = rest_len - path_len - 1;
        memcpy(out->query, rest + path_len + 1, qlen);
        out->query[qlen] = '\0';
    }
    return 0;
}

/* ---------------------------------------------------------------- percent-encoding */

/* Percent-encodes bytes for a query string; see url.h. */
long url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = (char)in[i];
        /* RFC 3986's "unreserved" characters are the only ones that never need escaping. */
        if (is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            if (o + 1 >= cap)
                return -1;
            out[o++] = c;
        } else {
            if (o + 3 >= cap)
                return -1;
            out[o++] = '%';
            out[o++] = hex[in[i] >> 4];
            out[o++] = hex[in[i] & 0x0f];
        }
    }
    if (cap == 0)
        return -1;
    out[o] = '\0';
    return (long)o;
}

/* Decodes a query-string value; see url.h. */
int url_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen, char *err,
               size_t errlen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char b;
        if (in[i] == '%') {
            if (n - i < 3) {
                set_err(err, errlen, "malformed escape: '%' at the end of the value");
                return -1;
            }
            int h = hex_value(in[i + 1]);
            int l = hex_value(in[i + 2]);
            if (h < 0 || l < 0) {
                set_err(err, errlen, "malformed escape: '%' must be followed by two hex digits");
                return -1;
            }
            b = (unsigned char)(h << 4 | l);
            i += 2;
        } else if (in[i] == '+') {
            /* HTML forms write a space as '+'; trackers accept it, so we do too. */
            b = ' ';
        } else {
            b = (unsigned char)in[i];
        }
        if (o >= cap) {
            set_err(err, errlen, "decoded value too long");
            return -1;
        }
        out[o++] = b;
    }
    *outlen = o;
    return 0;
}
