/*
 * tracker_http.c - the HTTP tracker protocol, client and server halves (see tracker_http.h).
 *
 * The bencoded parts go through bencode.h: its decoder gives a tree whose strings point into the
 * reply, and its writer refuses to produce non-canonical bencode. This file adds the HTTP text
 * around them: query strings, the request line, the status line and the headers.
 */
#include "tracker_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---------------------------------------------------------------- small helpers */

/* Writes a formatted message into the caller's error buffer, if it gave one. */
static void set_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Copies n bytes of untrusted text into a C string of size cap, replacing anything that is not
 * printable ASCII with '?', so a tracker's message cannot put control characters on a terminal. */
static void copy_printable(char *out, size_t cap, const unsigned char *s, size_t n)
{
    size_t o = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < n && o + 1 < cap; i++)
        out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    out[o] = '\0';
}

/* Lower-cases an ASCII letter; <ctype.h> would depend on the locale. */
static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Compares n bytes of s with a lower-case word, ignoring the case of s. */
static int eq_nocase(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != word[i])
            return 0;
    return 1;
}

/* Parses n decimal digits into *v; returns 0, or -1 when empty, not all digits, or over 2^64-1. */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/*
 * A string builder over a caller's fixed buffer: appends never overflow, they only set
 * `overflow`, so a function can append everything and check once at the end.
 */
struct sbuf {
    char *p;
    size_t cap, len;
    int overflow;
};

/* Appends formatted text to a string builder. */
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
    if (sb->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sb->cap - sb->len)
        sb->overflow = 1;
    else
        sb->len += (size_t)k;
}

/* Appends n bytes percent-encoded. */
static void sb_encoded(struct sbuf *sb, const unsigned char *p, size_t n)
{
    if (sb->overflow)
        return;
    long k = url_encode(p, n, sb->p + sb->len, sb->cap - sb->len);
    if (k < 0)
        sb->overflow = 1;
    else
        sb->len += (size_t)k;
}

/* Returns the query-string word for an event, or NULL for "no event". */
static const char *event_name(enum tracker_event e)
{
    switch (e) {
    case TRACKER_EVENT_STARTED:
        return "started";
    case TRACKER_EVENT_COMPLETED:
        return "completed";
    case TRACKER_EVENT_STOPPED:
        return "stopped";
    default:
        return NULL;
    }
}

/* ================================================================ client: requests */

/* Builds the announce target; see tracker_http.h. */
long tracker_http_announce_target(const struct tracker_url *u,
                                  const struct tracker_http_announce *a, char *out, size_t cap,
                                  char *err, size_t errlen)
{
    struct sbuf sb = {out, cap, 0, cap == 0};
    /* A tracker URL may carry its own query (a private tracker's passkey); ours follows it. */
    sb_printf(&sb, "%s?", u->path);
    if (u->query[0] != '\0')
        sb_printf(&sb, "%s&", u->query);
    sb_printf(&sb, "info_hash=");
    sb_encoded(&sb, a->info_hash, 20);
    sb_printf(&sb, "&peer_id=");
    sb_encoded(&sb, a->peer_id, 20);
    sb_printf(&sb, "&port=%u&uploaded=%llu&downloaded=%llu&left=%llu&compact=1", (unsigned)a->port,
              (unsigned long long)a->uploaded, (unsigned long long)a->downloaded,
              (unsigned long long)a->left);
    const char *ev = event_name(a->event);
    if (ev != NULL)
        sb_printf(&sb, "&event=%s", ev);
    if (a->numwant >= 0)
        sb_printf(&sb, "&numwant=%d", a->numwant);
    if (sb.overflow) {
        set_errf(err, errlen, "announce request target too long for its buffer");
        return -1;
    }
    return (long)sb.len;
}

/* Builds the scrape target from an announce URL; see tracker_http.h. */
long tracker_http_scrape_target(const struct tracker_url *u, const unsigned char info_hash[20],
                                char *out, size_t cap, char *err, size_t errlen)
{
    /* BEP 48: only when the last path component starts with "announce" is there a scrape URL. */
    const char *slash = strrchr(u->path, '/');
    if (slash == NULL || strncmp(slash + 1, "announce", 8) != 0) {
        set_errf(err, errlen, "tracker path does not end in /announce, so it has no scrape URL");
        return -1;
    }
    struct sbuf sb = {out, cap, 0, cap == 0};
    sb_printf(&sb, "%.*sscrape%s?", (int)(slash + 1 - u->path), u->path, slash + 1 + 8);
    if (u->query[0] != '\0')
        sb_printf(&sb, "%s&", u->query);
    sb_printf(&sb, "info_hash=");
    sb_encoded(&sb, info_hash, 20);
    if (sb.overflow) {
        set_errf(err, errlen, "scrape request target too long for its buffer");
        return -1;
    }
    return (long)sb.len;
}

/* Builds the GET request text; see tracker_http.h. */
long tracker_http_build_get(const struct tracker_url *u, const char *target, char *out, size_t cap,
                            char *err, size_t errlen)
{
    /* A space or line break in the target would end the request line early: refuse it. */
    for (const char *p = target; *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            set_errf(err, errlen, "request target contains a space or control character");
            return -1;
        }
    }
    struct sbuf sb = {out, cap, 0, cap == 0};
    sb_printf(&sb, "GET %s HTTP/1.0\r\nHost: ", target);
    sb_printf(&sb, u->host_is_ipv6 ? "[%s]" : "%s", u->host);
    if (u->port != 80)
        sb_printf(&sb, ":%u", (unsigned)u->port);
    /* HTTP/1.0 and "Connection: close" keep the reply simple: no chunks, no keep-alive, and the
     * end of the connection marks the end of the body when Content-Length is missing. */
    sb_printf(&sb, "\r\nUser-Agent: minitorrent\r\nAccept-Encoding: identity\r\n"
                   "Connection: close\r\n\r\n");
    if (sb.overflow) {
        set_errf(err, errlen, "HTTP request too long for its buffer");
        return -1;
    }
    return (long)sb.len;
}

/* ================================================================ client: the HTTP response */

/* Finds the end of the headers (after "\r\n\r\n" or "\n\n"); returns it, or 0 when not there. */
static size_t find_headers_end(const unsigned char *buf, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i - 1] == '\n')
            return i + 1;
        if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')
            return i + 1;
    }
    return 0;
}

/* Parses "HTTP/1.x NNN reason" in line[0..n); returns the status, or -1. */
static int parse_status_line(const char *line, size_t n)
{
    if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ')
        return -1;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        status = status * 10 + (line[i] - '0');
    }
    if (n > 12 && line[12] != ' ')
        return -1;
    return status;
}

/* Removes spaces and tabs around a header value. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Parses the received bytes of a reply; see tracker_http.h. */
int tracker_http_parse_response(const unsigned char *buf, size_t n, int eof,
                                struct tracker_http_response *r, char *err, size_t errlen)
{
    size_t scan = n < TRACKER_HTTP_HEADERS_MAX ? n : TRACKER_HTTP_HEADERS_MAX;
    size_t hend = find_headers_end(buf, scan);
    if (hend == 0) {
        if (n >= TRACKER_HTTP_HEADERS_MAX) {
            set_errf(err, errlen, "reply headers longer than %d bytes", TRACKER_HTTP_HEADERS_MAX);
            return TRACKER_HTTP_EBAD;
        }
        if (eof) {
            set_errf(err, errlen, "connection closed before the end of the reply headers");
            return TRACKER_HTTP_EBAD;
        }
        return TRACKER_HTTP_NEED_MORE;
    }

    /* Walk the header lines; each ends in "\n", with an optional "\r" before it. */
    const char *text = (const char *)buf;
    size_t pos = 0, line_no = 0;
    int have_len = 0;
    uint64_t content_len = 0;
    int status = -1;
    for (;;) {
        const char *nl = memchr(text + pos, '\n', hend - pos);
        size_t len = (size_t)(nl - (text + pos));
        const char *line = text + pos;
        pos += len + 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (line_no++ == 0) {
            status = parse_status_line(line, len);
            if (status < 0) {
                set_errf(err, errlen, "bad HTTP status line (expected \"HTTP/1.x NNN reason\")");
                return TRACKER_HTTP_EBAD;
            }
            continue;
        }
        if (len == 0)
            break; /* the blank line that ends the headers */
        const char *colon = memchr(line, ':', len);
        if (colon == NULL) {
            set_errf(err, errlen, "bad HTTP header line (no ':')");
            return TRACKER_HTTP_EBAD;
        }
        size_t name_len = (size_t)(colon - line);
        const char *value = colon + 1;
        size_t value_len = len - name_len - 1;
        trim(&value, &value_len);
        if (eq_nocase(line, name_len, "content-length")) {
            uint64_t v;
            if (parse_u64(value, value_len, &v) < 0) {
                set_errf(err, errlen, "bad Content-Length (not a decimal number)");
                return TRACKER_HTTP_EBAD;
            }
            if (have_len && v != content_len) {
                set_errf(err, errlen, "two different Content-Length headers");
                return TRACKER_HTTP_EBAD;
            }
            have_len = 1;
            content_len = v;
        } else if (eq_nocase(line, name_len, "transfer-encoding") &&
                   !eq_nocase(value, value_len, "identity")) {
            /* We asked for HTTP/1.0, which has no chunked encoding; a real client would decode
             * chunks, but a tracker that sends them to an HTTP/1.0 request is broken. */
            set_errf(err, errlen, "Transfer-Encoding (chunked) is not supported in HTTP/1.0");
            return TRACKER_HTTP_EBAD;
        }
    }

    size_t avail = n - hend;
    if (have_len) {
        if (content_len > TRACKER_HTTP_BODY_MAX) {
            set_errf(err, errlen, "reply body of %llu bytes is over the %d-byte cap",
                     (unsigned long long)content_len, TRACKER_HTTP_BODY_MAX);
            return TRACKER_HTTP_EBAD;
        }
        if (avail < content_len) {
            if (eof) {
                set_errf(err, errlen, "connection closed after %zu of %llu body bytes", avail,
                         (unsigned long long)content_len);
                return TRACKER_HTTP_EBAD;
            }
            return TRACKER_HTTP_NEED_MORE;
        }
        avail = (size_t)content_len; /* anything after the body is ignored */
    } else {
        if (avail > TRACKER_HTTP_BODY_MAX) {
            set_errf(err, errlen, "reply body over the %d-byte cap", TRACKER_HTTP_BODY_MAX);
            return TRACKER_HTTP_EBAD;
        }
        if (!eof)
            return TRACKER_HTTP_NEED_MORE; /* without a length, only the close ends the body */
    }
    r->status = status;
    r->body = buf + hend;
    r->body_len = avail;
    return TRACKER_HTTP_OK;
}

/* ================================================================ client: bencoded replies */

/* Decodes a reply body into doc and checks that it is a dictionary; returns 0, or -1 with a
 * message. Replies are read liberally: keys out of order and bytes after the value are allowed. */
static int decode_reply(struct bencode_doc *doc, const unsigned char *body, size_t n, char *err,
                        size_t errlen)
{
    struct bencode_error be;
    if (n > TRACKER_HTTP_BODY_MAX) {
        set_errf(err, errlen, "reply body over the %d-byte cap", TRACKER_HTTP_BODY_MAX);
        return -1;
    }
    if (bencode_decode(doc, body, n, BENCODE_LENIENT_ORDER | BENCODE_ALLOW_TRAILING, &be) < 0) {
        set_errf(err, errlen, "reply is not bencoded: %s", be.msg);
        return -1;
    }
    if (doc->root->type != BENCODE_DICT) {
        set_errf(err, errlen, "reply is a bencoded %s, not a dictionary",
                 bencode_type_name(doc->root->type));
        bencode_doc_free(doc);
        return -1;
    }
    return 0;
}

/* Reports a "failure reason" when the reply has one: returns 1 (failure, text copied), 0 (no
 * failure), or -1 (the key is there but not a string). */
static int take_failure(const struct bencode_value *root, char *text, size_t textcap, char *err,
                        size_t errlen)
{
    const struct bencode_value *f = bencode_dict_get(root, "failure reason");
    if (f == NULL)
        return 0;
    if (f->type != BENCODE_STR) {
        set_errf(err, errlen, "\"failure reason\" is not a string");
        return -1;
    }
    copy_printable(text, textcap, f->s, f->len);
    set_errf(err, errlen, "tracker failure: %s", text);
    return 1;
}

/* Reads an optional non-negative integer: -1 when absent; returns 0, or -1 with a message when
 * the key holds something else. */
static int get_count(const struct bencode_value *dict, const char *key, int64_t *out, char *err,
                     size_t errlen)
{
    const struct bencode_value *v = bencode_dict_get(dict, key);
    *out = -1;
    if (v == NULL)
        return 0;
    if (v->type != BENCODE_INT || v->i < 0) {
        set_errf(err, errlen, "\"%s\" is not a non-negative integer", key);
        return -1;
    }
    *out = v->i;
    return 0;
}

/* Reads one non-compact peer entry into *p; returns 1 when stored, 0 when skipped (a DNS name),
 * -1 with a message when malformed. */
static int read_dict_peer(const struct bencode_value *e, size_t idx, struct tracker_peer *p,
                          char *err, size_t errlen)
{
    if (e->type != BENCODE_DICT) {
        set_errf(err, errlen, "peer %zu is not a dictionary", idx);
        return -1;
    }
    const struct bencode_value *ip = bencode_dict_get_str(e, "ip");
    const struct bencode_value *port = bencode_dict_get_int(e, "port");
    const struct bencode_value *id = bencode_dict_get(e, "peer id");
    if (ip == NULL || ip->len == 0 || ip->len > 255 || memchr(ip->s, '\0', ip->len) != NULL) {
        set_errf(err, errlen, "peer %zu has no usable \"ip\" string", idx);
        return -1;
    }
    if (port == NULL || port->i < 1 || port->i > 65535) {
        set_errf(err, errlen, "peer %zu has no \"port\" in 1..65535", idx);
        return -1;
    }
    if (id != NULL && (id->type != BENCODE_STR || id->len != 20)) {
        set_errf(err, errlen, "peer %zu has a \"peer id\" that is not 20 bytes", idx);
        return -1;
    }
    char text[256];
    memcpy(text, ip->s, ip->len);
    text[ip->len] = '\0';
    memset(p, 0, sizeof *p);
    if (inet_pton(AF_INET, text, p->ip) == 1) {
        p->family = 4;
    } else if (inet_pton(AF_INET6, text, p->ip) == 1) {
        p->family = 6;
    } else {
        /* BEP 3 allows a DNS name here. Resolving is I/O, which the core does not do; a real
         * client would hand the name to its resolver. */
        return 0;
    }
    p->port = (uint16_t)port->i;
    if (id != NULL) {
        p->has_peer_id = 1;
        memcpy(p->peer_id, id->s, 20);
    }
    return 1;
}

/* Parses an announce reply body; see tracker_http.h. */
int tracker_http_parse_announce_reply(const unsigned char *body, size_t n,
                                      struct tracker_http_reply *r, struct tracker_peer *peers,
                                      size_t max, char *err, size_t errlen)
{
    struct bencode_doc doc;
    int rc = TRACKER_HTTP_EBAD;
    memset(r, 0, sizeof *r);
    r->interval = r->min_interval = r->complete = r->incomplete = -1;
    if (decode_reply(&doc, body, n, err, errlen) < 0)
        return TRACKER_HTTP_EBAD;
    const struct bencode_value *root = doc.root;

    int f = take_failure(root, r->failure, sizeof r->failure, err, errlen);
    if (f != 0) {
        rc = f > 0 ? TRACKER_HTTP_EFAILURE : TRACKER_HTTP_EBAD;
        goto out;
    }
    const struct bencode_value *w = bencode_dict_get_str(root, "warning message");
    if (w != NULL)
        copy_printable(r->warning, sizeof r->warning, w->s, w->len);

    if (get_count(root, "interval", &r->interval, err, errlen) < 0 ||
        get_count(root, "min interval", &r->min_interval, err, errlen) < 0 ||
        get_count(root, "complete", &r->complete, err, errlen) < 0 ||
        get_count(root, "incomplete", &r->incomplete, err, errlen) < 0)
        goto out;
    if (r->interval < 0) {
        set_errf(err, errlen, "reply has no \"interval\"");
        goto out;
    }

    const struct bencode_value *pv = bencode_dict_get(root, "peers");
    const struct bencode_value *p6 = bencode_dict_get(root, "peers6");
    if (pv == NULL && p6 == NULL) {
        set_errf(err, errlen, "reply has neither \"peers\" nor \"peers6\"");
        goto out;
    }
    if (pv != NULL && pv->type == BENCODE_STR) {
        /* Compact form (BEP 23): 6 bytes per peer. */
        long got = tracker_compact_decode(pv->s, pv->len, 4, peers, max, err, errlen);
        if (got < 0)
            goto out;
        r->npeers = (size_t)got;
    } else if (pv != NULL && pv->type == BENCODE_LIST) {
        /* Original form: a list of dictionaries. Every entry is checked, even past the cap. */
        for (size_t i = 0; i < pv->count; i++) {
            struct tracker_peer tmp;
            int k = read_dict_peer(&pv->items[i], i, &tmp, err, errlen);
            if (k < 0)
                goto out;
            if (k == 0)
                r->nskipped++;
            else if (r->npeers < max)
                peers[r->npeers++] = tmp;
        }
    } else if (pv != NULL) {
        set_errf(err, errlen, "\"peers\" is neither a string nor a list");
        goto out;
    }
    if (p6 != NULL) {
        if (p6->type != BENCODE_STR) {
            set_errf(err, errlen, "\"peers6\" is not a string");
            goto out;
        }
        long got = tracker_compact_decode(p6->s, p6->len, 6, peers + r->npeers, max - r->npeers,
                                          err, errlen);
        if (got < 0)
            goto out;
        r->npeers += (size_t)got;
    }
    rc = TRACKER_HTTP_OK;
out:
    bencode_doc_free(&doc);
    return rc;
}

/* Reads one scrape count ("complete"...) from a file's dictionary; absent counts are 0. */
static int scrape_count(const struct bencode_value *d, const char *key, uint32_t *out, char *err,
                        size_t errlen)
{
    int64_t v;
    if (get_count(d, key, &v, err, errlen) < 0)
        return -1;
    *out = v < 0 ? 0 : (v > UINT32_MAX ? UINT32_MAX : (uint32_t)v);
    return 0;
}

/* Parses a scrape reply body for one info hash; see tracker_http.h. */
int tracker_http_parse_scrape_reply(const unsigned char *body, size_t n,
                                    const unsigned char info_hash[20],
                                    struct tracker_scrape_counts *out, char *err, size_t errlen)
{
    struct bencode_doc doc;
    int rc = TRACKER_HTTP_EBAD;
    char reason[TRACKER_HTTP_TEXT_MAX];
    if (decode_reply(&doc, body, n, err, errlen) < 0)
        return TRACKER_HTTP_EBAD;
    int f = take_failure(doc.root, reason, sizeof reason, err, errlen);
    if (f != 0) {
        rc = f > 0 ? TRACKER_HTTP_EFAILURE : TRACKER_HTTP_EBAD;
        goto out;
    }
    const struct bencode_value *files = bencode_dict_get_dict(doc.root, "files");
    if (files == NULL) {
        set_errf(err, errlen, "scrape reply has no \"files\" dictionary");
        goto out;
    }
    /* The keys are raw 20-byte hashes, which may contain NUL bytes, so they are compared here
     * rather than through bencode_dict_get(), which takes a C string. */
    for (size_t k = 0; k < files->count; k++) {
        const struct bencode_value *key = &files->items[2 * k];
        const struct bencode_value *val = &files->items[2 * k + 1];
        if (key->len != 20 || memcmp(key->s, info_hash, 20) != 0)
            continue;
        if (val->type != BENCODE_DICT) {
            set_errf(err, errlen, "scrape entry is not a dictionary");
            goto out;
        }
        if (scrape_count(val, "complete", &out->complete, err, errlen) < 0 ||
            scrape_count(val, "incomplete", &out->incomplete, err, errlen) < 0 ||
            scrape_count(val, "downloaded", &out->downloaded, err, errlen) < 0)
            goto out;
        rc = TRACKER_HTTP_OK;
        goto out;
    }
    set_errf(err, errlen, "scrape reply does not mention this info hash");
out:
    bencode_doc_free(&doc);
    return rc;
}

/* ================================================================ server: the request line */

/* The announce parameters we read; the first six (up to P_LEFT) are required. Each may appear
 * once, and a bit per parameter records which ones did. */
enum {
    P_INFO_HASH,
    P_PEER_ID,
    P_PORT,
    P_UPLOADED,
    P_DOWNLOADED,
    P_LEFT,
    P_EVENT,
    P_COMPACT,
    P_NUMWANT,
    P_IP,
    P_KEY,
    P_COUNT
};
static const char *const param_names[P_COUNT] = {"info_hash",  "peer_id", "port",  "uploaded",
                                                 "downloaded", "left",    "event", "compact",
                                                 "numwant",    "ip",      "key"};

/* Returns the index of a known announce parameter, or -1 for one we ignore (trackerid...). */
static int param_index(const char *key, size_t n)
{
    for (int i = 0; i < P_COUNT; i++)
        if (strlen(param_names[i]) == n && memcmp(param_names[i], key, n) == 0)
            return i;
    return -1;
}

/* Decodes a parameter that must be exactly 20 bytes (info_hash, peer_id). */
static int decode_id(const char *name, const char *v, size_t vn, unsigned char out[20], char *err,
                     size_t errlen)
{
    unsigned char buf[64];
    size_t len;
    char why[96];
    if (url_decode(v, vn, buf, sizeof buf, &len, why, sizeof why) < 0) {
        set_errf(err, errlen, "bad %s: %s", name, why);
        return -1;
    }
    if (len != 20) {
        set_errf(err, errlen, "%s must be 20 bytes, got %zu", name, len);
        return -1;
    }
    memcpy(out, buf, 20);
    return 0;
}

/* Decodes a numeric parameter (digits only, after percent-decoding). */
static int decode_number(const char *name, const char *v, size_t vn, uint64_t *out, char *err,
                         size_t errlen)
{
    unsigned char buf[32];
    size_t len;
    char why[96];
    if (url_decode(v, vn, buf, sizeof buf, &len, why, sizeof why) < 0 ||
        parse_u64((const char *)buf, len, out) < 0) {
        set_errf(err, errlen, "%s must be a non-negative decimal number", name);
        return -1;
    }
    return 0;
}

/* Handles one announce parameter; returns 0, or -1 with a message. */
static int announce_param(struct tracker_http_request *req, int idx, const char *v, size_t vn,
                          char *err, size_t errlen)
{
    uint64_t num;
    unsigned char buf[64];
    size_t len;
    char why[96];

    switch (idx) {
    case P_INFO_HASH:
        return decode_id("info_hash", v, vn, req->info_hash, err, errlen);
    case P_PEER_ID:
        return decode_id("peer_id", v, vn, req->peer_id, err, errlen);
    case P_PORT:
        if (decode_number("port", v, vn, &num, err, errlen) < 0)
            return -1;
        if (num < 1 || num > 65535) {
            set_errf(err, errlen, "port must be 1..65535");
            return -1;
        }
        req->port = (uint16_t)num;
        return 0;
    case P_UPLOADED:
        return decode_number("uploaded", v, vn, &req->uploaded, err, errlen);
    case P_DOWNLOADED:
        return decode_number("downloaded", v, vn, &req->downloaded, err, errlen);
    case P_LEFT:
        return decode_number("left", v, vn, &req->left, err, errlen);
    case P_EVENT:
        if (url_decode(v, vn, buf, sizeof buf - 1, &len, why, sizeof why) < 0)
            len = sizeof buf; /* too long or malformed: reported as unknown just below */
        if (len < sizeof buf)
            buf[len] = '\0';
        if (len == 0)
            req->event = TRACKER_EVENT_NONE;
        else if (len == 7 && memcmp(buf, "started", 7) == 0)
            req->event = TRACKER_EVENT_STARTED;
        else if (len == 9 && memcmp(buf, "completed", 9) == 0)
            req->event = TRACKER_EVENT_COMPLETED;
        else if (len == 7 && memcmp(buf, "stopped", 7) == 0)
            req->event = TRACKER_EVENT_STOPPED;
        else {
            set_errf(err, errlen, "event must be started, completed, stopped or empty");
            return -1;
        }
        return 0;
    case P_COMPACT:
        if (vn != 1 || (v[0] != '0' && v[0] != '1')) {
            set_errf(err, errlen, "compact must be 0 or 1");
            return -1;
        }
        req->compact = v[0] == '1';
        return 0;
    case P_NUMWANT:
        if (decode_number("numwant", v, vn, &num, err, errlen) < 0)
            return -1;
        req->numwant = num > TRACKER_HTTP_NUMWANT_MAX ? TRACKER_HTTP_NUMWANT_MAX : (long)num;
        return 0;
    case P_IP:
        if (url_decode(v, vn, buf, sizeof req->ip - 1, &len, why, sizeof why) < 0) {
            set_errf(err, errlen, "bad ip parameter: %s", why);
            return -1;
        }
        copy_printable(req->ip, sizeof req->ip, buf, len);
        return 0;
    case P_KEY:
        /* BEP 7: a random string the client tells only the tracker, so that the tracker can
         * recognise it when it announces from a new address. Any bytes, but not many. */
        if (url_decode(v, vn, req->key, sizeof req->key, &req->key_len, why, sizeof why) < 0) {
            set_errf(err, errlen, "bad key (at most %d bytes): %s", TRACKER_HTTP_KEY_MAX, why);
            return -1;
        }
        return 0;
    }
    return 0;
}

/* Splits a query string at '&' and '=' and feeds each parameter to the announce or scrape
 * handler; returns 0, or a negative result with a message. */
static int parse_query(struct tracker_http_request *req, const char *q, size_t qn, char *err,
                       size_t errlen)
{
    unsigned seen = 0;
    size_t pos = 0;
    while (pos < qn) {
        const char *amp = memchr(q + pos, '&', qn - pos);
        size_t end = amp != NULL ? (size_t)(amp - q) : qn;
        const char *key = q + pos;
        size_t seg = end - pos;
        pos = end + 1;
        if (seg == 0)
            continue; /* "a=1&&b=2" */
        const char *eq = memchr(key, '=', seg);
        size_t kn = eq != NULL ? (size_t)(eq - key) : seg;
        const char *v = eq != NULL ? eq + 1 : key + seg;
        size_t vn = seg - kn - (eq != NULL ? 1 : 0);

        if (req->kind == TRACKER_HTTP_SCRAPE) {
            if (kn != 9 || memcmp(key, "info_hash", 9) != 0)
                continue;
            if (req->nscrape == TRACKER_HTTP_SCRAPE_MAX) {
                set_errf(err, errlen, "too many info_hash parameters (at most %d)",
                         TRACKER_HTTP_SCRAPE_MAX);
                return TRACKER_HTTP_EBAD;
            }
            if (decode_id("info_hash", v, vn, req->scrape_hashes[req->nscrape], err, errlen) < 0)
                return TRACKER_HTTP_EBAD;
            req->nscrape++;
            continue;
        }
        if (kn == 10 && memcmp(key, "no_peer_id", 10) == 0) {
            req->no_peer_id = vn == 1 && v[0] == '1';
            continue;
        }
        int idx = param_index(key, kn);
        if (idx < 0)
            continue; /* trackerid, supportcrypto...: allowed, not needed */
        if (seen & (1u << idx)) {
            set_errf(err, errlen, "duplicate parameter %s", param_names[idx]);
            return TRACKER_HTTP_EBAD;
        }
        seen |= 1u << idx;
        if (announce_param(req, idx, v, vn, err, errlen) < 0)
            return TRACKER_HTTP_EBAD;
    }
    if (req->kind == TRACKER_HTTP_ANNOUNCE) {
        for (int i = 0; i <= P_LEFT; i++) {
            if (!(seen & (1u << i))) {
                set_errf(err, errlen, "missing parameter %s", param_names[i]);
                return TRACKER_HTTP_EBAD;
            }
        }
    }
    return TRACKER_HTTP_OK;
}

/* Parses a request line into a request; see tracker_http.h. */
int tracker_http_parse_request_line(const char *line, size_t n, struct tracker_http_request *req,
                                    char *err, size_t errlen)
{
    memset(req, 0, sizeof *req);
    req->numwant = -1;
    if (n > 0 && line[n - 1] == '\n')
        n--;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n > TRACKER_HTTP_TARGET_MAX + 64) {
        set_errf(err, errlen, "request line too long");
        return TRACKER_HTTP_EBAD;
    }
    if (n < 4 || memcmp(line, "GET ", 4) != 0) {
        set_errf(err, errlen, "only GET requests are supported");
        return TRACKER_HTTP_EBAD;
    }
    const char *target = line + 4;
    const char *sp = memchr(target, ' ', n - 4);
    if (sp == NULL) {
        set_errf(err, errlen, "request line has no HTTP version");
        return TRACKER_HTTP_EBAD;
    }
    size_t tn = (size_t)(sp - target);
    const char *version = sp + 1;
    size_t vn = n - 4 - tn - 1;
    if (vn != 8 || memcmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' || version[7] > '9') {
        set_errf(err, errlen, "request line must end in HTTP/1.0 or HTTP/1.1");
        return TRACKER_HTTP_EBAD;
    }
    for (size_t i = 0; i < tn; i++) {
        if ((unsigned char)target[i] < 0x21 || target[i] == 0x7f) {
            set_errf(err, errlen, "request target contains a control character");
            return TRACKER_HTTP_EBAD;
        }
    }
    const char *qmark = memchr(target, '?', tn);
    size_t pn = qmark != NULL ? (size_t)(qmark - target) : tn;
    if (pn == 9 && memcmp(target, "/announce", 9) == 0) {
        req->kind = TRACKER_HTTP_ANNOUNCE;
    } else if (pn == 7 && memcmp(target, "/scrape", 7) == 0) {
        req->kind = TRACKER_HTTP_SCRAPE;
    } else {
        set_errf(err, errlen, "unknown path: this tracker answers /announce and /scrape");
        return TRACKER_HTTP_ENOTFOUND;
    }
    const char *q = qmark != NULL ? qmark + 1 : target + tn;
    return parse_query(req, q, tn - (size_t)(q - target), err, errlen);
}

/* ================================================================ server: replies */

/* Writes one peer as a dictionary of the non-compact form: ip (text), peer id, port. */
static void put_dict_peer(struct benc_buf *b, const struct tracker_peer *p, int no_peer_id)
{
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->ip, text, sizeof text) == NULL)
        text[0] = '\0';
    benc_dict_begin(b);
    benc_put_cstr(b, "ip");
    benc_put_cstr(b, text);
    if (!no_peer_id && p->has_peer_id) {
        benc_put_cstr(b, "peer id");
        benc_put_str(b, p->peer_id, 20);
    }
    benc_put_cstr(b, "port");
    benc_put_int(b, p->port);
    benc_end(b);
}

/* Encodes an announce reply; see tracker_http.h. */
int tracker_http_encode_announce_reply(struct benc_buf *b,
                                       const struct tracker_http_reply_info *info,
                                       const struct tracker_peer *peers, size_t n, int compact,
                                       int no_peer_id, char *err, size_t errlen)
{
    unsigned char *packed = NULL;
    size_t n4 = 0, n6 = 0;
    if (compact) {
        for (size_t i = 0; i < n; i++) {
            n4 += peers[i].family == 4;
            n6 += peers[i].family == 6;
        }
        packed = malloc(n4 * TRACKER_COMPACT4_LEN + n6 * TRACKER_COMPACT6_LEN + 1);
        if (packed == NULL) {
            set_errf(err, errlen, "out of memory");
            return -1;
        }
    }
    /* Keys go in byte order, as bencode requires (the writer checks it). */
    benc_dict_begin(b);
    benc_put_cstr(b, "complete");
    benc_put_int(b, info->complete);
    benc_put_cstr(b, "incomplete");
    benc_put_int(b, info->incomplete);
    benc_put_cstr(b, "interval");
    benc_put_int(b, info->interval);
    if (info->min_interval > 0) {
        benc_put_cstr(b, "min interval");
        benc_put_int(b, info->min_interval);
    }
    benc_put_cstr(b, "peers");
    if (compact) {
        size_t len4 = tracker_compact_encode(peers, n, 4, packed, n4 * TRACKER_COMPACT4_LEN);
        benc_put_str(b, packed, len4);
        if (n6 > 0) {
            size_t len6 = tracker_compact_encode(peers, n, 6, packed, n6 * TRACKER_COMPACT6_LEN);
            benc_put_cstr(b, "peers6");
            benc_put_str(b, packed, len6);
        }
    } else {
        benc_list_begin(b);
        for (size_t i = 0; i < n; i++)
            put_dict_peer(b, &peers[i], no_peer_id);
        benc_end(b);
    }
    benc_end(b);
    free(packed);
    return benc_buf_finish(b, err, errlen);
}

/* Encodes a failure reply; see tracker_http.h. */
int tracker_http_encode_failure(struct benc_buf *b, const char *reason, char *err, size_t errlen)
{
    benc_dict_begin(b);
    benc_put_cstr(b, "failure reason");
    benc_put_cstr(b, reason);
    benc_end(b);
    return benc_buf_finish(b, err, errlen);
}

/* Encodes a scrape reply; see tracker_http.h. */
int tracker_http_encode_scrape_reply(struct benc_buf *b, const unsigned char (*hashes)[20],
                                     const struct tracker_scrape_counts *counts, size_t n,
                                     char *err, size_t errlen)
{
    /* Dictionary keys must be sorted and unique: sort positions by hash (insertion sort, since
     * a scrape names at most a few dozen torrents), then skip repeats. */
    size_t *order = malloc((n + 1) * sizeof *order);
    if (order == NULL) {
        set_errf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && memcmp(hashes[order[j - 1]], hashes[i], 20) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    benc_dict_begin(b);
    benc_put_cstr(b, "files");
    benc_dict_begin(b);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (k > 0 && memcmp(hashes[order[k - 1]], hashes[i], 20) == 0)
            continue;
        benc_put_str(b, hashes[i], 20);
        benc_dict_begin(b);
        benc_put_cstr(b, "complete");
        benc_put_int(b, counts[i].complete);
        benc_put_cstr(b, "downloaded");
        benc_put_int(b, counts[i].downloaded);
        benc_put_cstr(b, "incomplete");
        benc_put_int(b, counts[i].incomplete);
        benc_end(b);
    }
    benc_end(b);
    benc_end(b);
    free(order);
    return benc_buf_finish(b, err, errlen);
}

/* Writes the HTTP response header; see tracker_http.h. */
long tracker_http_response_header(int status, size_t body_len, char *out, size_t cap)
{
    const char *reason;
    switch (status) {
    case 200:
        reason = "OK";
        break;
    case 400:
        reason = "Bad Request";
        break;
    case 404:
        reason = "Not Found";
        break;
    case 503:
        reason = "Service Unavailable";
        break;
    default:
        return -1;
    }
    struct sbuf sb = {out, cap, 0, cap == 0};
    sb_printf(&sb,
              "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              status, reason, body_len);
    return sb.overflow ? -1 : (long)sb.len;
}
