/*
 * fuzz_url.c - tracker URLs (they come from .torrent files, so from strangers) and the
 * percent-encoding of query strings.
 *
 * The whole input is used three ways:
 *   - as a URL (up to its first NUL byte, as a C string): an accepted URL must have a host of
 *     at most URL_HOST_MAX bytes, a path starting with '/', a udp port, and must parse to the
 *     same parts when written back out as scheme://host:port/path?query;
 *   - as a query-string value for url_decode(): the output stays within its buffer and is never
 *     longer than the input;
 *   - as raw bytes for url_encode(): the text uses only unreserved characters and %XX escapes,
 *     and url_decode() gives the bytes back.
 */
#include "fuzz.h"

#include "url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unreserved(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void check_url(const char *s)
{
    struct tracker_url u;
    char err[256];
    memset(err, 'X', sizeof err);
    if (url_parse(s, &u, err, sizeof err) != 0) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        return;
    }
    FUZZ_CHECK(u.scheme == URL_HTTP || u.scheme == URL_UDP);
    size_t hl = strnlen(u.host, sizeof u.host);
    FUZZ_CHECK(hl > 0 && hl <= URL_HOST_MAX);
    FUZZ_CHECK(strnlen(u.path, sizeof u.path) <= URL_PATH_MAX && u.path[0] == '/');
    FUZZ_CHECK(strnlen(u.query, sizeof u.query) <= URL_PATH_MAX);
    FUZZ_CHECK(u.has_query || u.query[0] == '\0');
    if (u.scheme == URL_UDP)
        FUZZ_CHECK(u.port != 0);

    /* Written back out, the parts must parse to themselves. */
    char again[URL_HOST_MAX + 2 * URL_PATH_MAX + 64];
    int len =
        snprintf(again, sizeof again, "%s://%s%s%s:%u%s%s%s", u.scheme == URL_HTTP ? "http" : "udp",
                 u.host_is_ipv6 ? "[" : "", u.host, u.host_is_ipv6 ? "]" : "", (unsigned)u.port,
                 u.path, u.has_query ? "?" : "", u.query);
    FUZZ_CHECK(len > 0 && (size_t)len < sizeof again);
    struct tracker_url v;
    FUZZ_CHECK(url_parse(again, &v, err, sizeof err) == 0);
    FUZZ_CHECK(v.scheme == u.scheme && v.port == u.port && v.host_is_ipv6 == u.host_is_ipv6 &&
               v.has_query == u.has_query);
    FUZZ_CHECK(strcmp(v.host, u.host) == 0 && strcmp(v.path, u.path) == 0 &&
               strcmp(v.query, u.query) == 0);
}

int fuzz_target_url(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    FUZZ_CHECK(s != NULL);
    check_url(s);

    /* url_decode on the raw bytes, into a buffer that is a little too small half the time. */
    size_t cap = size / 2 + 1;
    unsigned char *dec = malloc(cap);
    FUZZ_CHECK(dec != NULL);
    size_t outlen = 0;
    char err[256];
    memset(err, 'X', sizeof err);
    if (url_decode(s, size, dec, cap, &outlen, err, sizeof err) == 0)
        FUZZ_CHECK(outlen <= cap && outlen <= size);
    else
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    free(dec);

    /* url_encode then url_decode gives the bytes back. */
    size_t ecap = URL_ENCODED_MAX(size);
    char *enc = malloc(ecap);
    unsigned char *back = malloc(size ? size : 1);
    FUZZ_CHECK(enc != NULL && back != NULL);
    long elen = url_encode(data, size, enc, ecap);
    FUZZ_CHECK(elen >= (long)size && (size_t)elen < ecap && enc[elen] == '\0');
    for (long i = 0; i < elen; i++) {
        if (enc[i] == '%')
            i += 2; /* url_decode below checks the two hex digits */
        else
            FUZZ_CHECK(unreserved(enc[i]));
    }
    FUZZ_CHECK(url_decode(enc, (size_t)elen, back, size, &outlen, err, sizeof err) == 0);
    FUZZ_CHECK(outlen == size && (size == 0 || memcmp(back, data, size) == 0));
    free(enc);
    free(back);
    free(s);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_url(data, size);
}
#endif
