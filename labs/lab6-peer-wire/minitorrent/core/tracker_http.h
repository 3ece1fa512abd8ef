/*
 * tracker_http.h - the HTTP tracker protocol (BEP 3, BEP 23, BEP 48), both sides, as text in and
 * text out.
 *
 * An HTTP announce is one GET request whose query string carries the announce
 * ("/announce?info_hash=%12%34...&peer_id=...&port=6881&uploaded=0&downloaded=0&left=1000&
 * compact=1&event=started"), answered by a bencoded dictionary: either "failure reason" or the
 * re-announce "interval" and the "peers", as one string of 6 bytes per IPv4 peer (compact, BEP 23;
 * "peers6" holds 18 bytes per IPv6 peer) or as a list of dictionaries with "ip", "port" and
 * "peer id" (the original, non-compact form). A scrape (BEP 48) asks for counts only.
 *
 * CLIENT side: build the request target and the whole request text, split the reply into status,
 * headers and body (incrementally: "need more bytes" until it is complete), and parse the
 * bencoded announce or scrape reply.
 *
 * SERVER side (our tracker): parse the request line into a struct with every field checked, and
 * encode replies (announce compact or not, failure, scrape) plus the HTTP/1.0 response header.
 *
 * Nothing here touches a socket. Replies from other trackers are read liberally (dictionary keys
 * out of order, bytes after the dictionary) but every length is checked and capped; what we send
 * is canonical bencode.
 */
#ifndef TRACKER_HTTP_H
#define TRACKER_HTTP_H

#include "bencode.h"
#include "tracker_udp.h" /* struct tracker_peer, enum tracker_event, struct tracker_scrape_counts */
#include "url.h"

#include <stddef.h>
#include <stdint.h>

enum tracker_http_result {
    TRACKER_HTTP_OK = 0,
    TRACKER_HTTP_NEED_MORE = 1,  /* the response is not complete yet: read more and call again */
    TRACKER_HTTP_EBAD = -1,      /* malformed input; a message says what */
    TRACKER_HTTP_EFAILURE = -2,  /* the tracker refused: its "failure reason" is in err */
    TRACKER_HTTP_ENOTFOUND = -3, /* server side: a path that is neither /announce nor /scrape */
    TRACKER_HTTP_ETOOBIG = -4    /* an output buffer is too small */
};

#define TRACKER_HTTP_TARGET_MAX 4096         /* request target we build, path and query */
#define TRACKER_HTTP_HEADERS_MAX (16 * 1024) /* status line and headers of a reply */
#define TRACKER_HTTP_BODY_MAX (256 * 1024)   /* body of a reply: ~40k compact peers */
#define TRACKER_HTTP_TEXT_MAX 256            /* failure reason and warning text we keep */
#define TRACKER_HTTP_SCRAPE_MAX 64           /* info hashes in one scrape request */
#define TRACKER_HTTP_NUMWANT_MAX 1000        /* larger numwant values are cut to this */
#define TRACKER_HTTP_KEY_MAX 32              /* the longest BEP 7 key accepted */

/* ================================================================ client side */

/* What a client announces. */
struct tracker_http_announce {
    unsigned char info_hash[20];
    unsigned char peer_id[20];
    uint16_t port;
    uint64_t uploaded, downloaded, left;
    enum tracker_event event; /* TRACKER_EVENT_NONE sends no event parameter */
    int numwant;              /* -1 sends none, leaving the choice to the tracker */
};

/* Writes the announce request target (the tracker URL's path and query, then ours) into out;
 * returns its length, or -1 with a message when it does not fit in cap. */
long tracker_http_announce_target(const struct tracker_url *u,
                                  const struct tracker_http_announce *a, char *out, size_t cap,
                                  char *err, size_t errlen);

/* Writes the scrape target for one info hash: the announce path with its last "announce" turned
 * into "scrape" (BEP 48's convention). Returns the length, or -1 with a message when the URL has
 * no scrape form or out is too small. */
long tracker_http_scrape_target(const struct tracker_url *u, const unsigned char info_hash[20],
                                char *out, size_t cap, char *err, size_t errlen);

/* Writes the whole HTTP/1.0 GET request for a target, with its Host header; returns its length,
 * or -1 with a message when it does not fit. */
long tracker_http_build_get(const struct tracker_url *u, const char *target, char *out, size_t cap,
                            char *err, size_t errlen);

/* A reply split into its parts; body points into the caller's buffer. */
struct tracker_http_response {
    int status;                /* e.g. 200 */
    const unsigned char *body; /* the body, inside the parsed buffer */
    size_t body_len;
};

/* Parses the bytes received so far (buf[0..n)); eof says the server closed the connection. With
 * Content-Length the body is complete once that many bytes arrived; without it, at eof. Returns
 * TRACKER_HTTP_OK, TRACKER_HTTP_NEED_MORE, or TRACKER_HTTP_EBAD with a message (bad status line,
 * bad Content-Length, chunked encoding, headers over TRACKER_HTTP_HEADERS_MAX, body over
 * TRACKER_HTTP_BODY_MAX, or a connection closed too early). */
int tracker_http_parse_response(const unsigned char *buf, size_t n, int eof,
                                struct tracker_http_response *r, char *err, size_t errlen);

/* A parsed announce reply. Integers that the reply left out are -1. */
struct tracker_http_reply {
    char failure[TRACKER_HTTP_TEXT_MAX]; /* "failure reason" (printable ASCII), or "" */
    char warning[TRACKER_HTTP_TEXT_MAX]; /* "warning message", or "" */
    int64_t interval;                    /* seconds until the next announce */
    int64_t min_interval;
    int64_t complete, incomplete;
    size_t npeers;   /* peers stored in the caller's array */
    size_t nskipped; /* non-compact entries named by DNS name, which the core cannot resolve */
};

/* Parses a bencoded announce reply body. Peers come from "peers" (compact string or list of
 * dictionaries) then "peers6"; at most max are stored in peers, the rest are ignored. Returns
 * TRACKER_HTTP_OK, TRACKER_HTTP_EFAILURE (the reason is in r->failure and err), or
 * TRACKER_HTTP_EBAD with a message. */
int tracker_http_parse_announce_reply(const unsigned char *body, size_t n,
                                      struct tracker_http_reply *r, struct tracker_peer *peers,
                                      size_t max, char *err, size_t errlen);

/* Parses a scrape reply body and fills the counts of one info hash. Returns TRACKER_HTTP_OK,
 * TRACKER_HTTP_EFAILURE, or TRACKER_HTTP_EBAD (also when the hash is not in "files"). */
int tracker_http_parse_scrape_reply(const unsigned char *body, size_t n,
                                    const unsigned char info_hash[20],
                                    struct tracker_scrape_counts *out, char *err, size_t errlen);

/* ================================================================ server side */

enum tracker_http_kind { TRACKER_HTTP_ANNOUNCE, TRACKER_HTTP_SCRAPE };

/* A request our tracker received, every field checked. */
struct tracker_http_request {
    enum tracker_http_kind kind;
    /* announce */
    unsigned char info_hash[20];
    unsigned char peer_id[20];
    uint16_t port;
    uint64_t uploaded, downloaded, left;
    enum tracker_event event;
    int compact;    /* 1 when the client sent compact=1 */
    int no_peer_id; /* 1 when the client sent no_peer_id=1 (non-compact replies omit ids) */
    long numwant;   /* -1 when absent; otherwise 0..TRACKER_HTTP_NUMWANT_MAX */
    char ip[64];    /* the "ip" parameter as sent, or "" (a tracker should trust the socket) */
    unsigned char key[TRACKER_HTTP_KEY_MAX]; /* BEP 7's "key", percent-decoded */
    size_t key_len;                          /* 0 when the client sent none */
    /* scrape: 0 hashes means "every torrent" (BEP 48) */
    unsigned char scrape_hashes[TRACKER_HTTP_SCRAPE_MAX][20];
    size_t nscrape;
};

/* Parses a request line such as "GET /announce?info_hash=...&... HTTP/1.1" (a trailing CR LF is
 * allowed). The path must be /announce or /scrape (else TRACKER_HTTP_ENOTFOUND); an announce needs
 * info_hash and peer_id of exactly 20 bytes, port 1..65535, numeric uploaded/downloaded/left, and
 * an event among started, completed, stopped or empty, and a key of at most
 * TRACKER_HTTP_KEY_MAX bytes. Returns TRACKER_HTTP_OK, or a negative
 * result with a message fit to send back as a failure reason. */
int tracker_http_parse_request_line(const char *line, size_t n, struct tracker_http_request *req,
                                    char *err, size_t errlen);

/* The counters every announce reply carries. */
struct tracker_http_reply_info {
    uint32_t interval, min_interval;
    uint32_t complete, incomplete;
};

/* Encodes an announce reply into b (initialised by the caller). compact selects BEP 23's strings
 * ("peers" for IPv4, "peers6" for IPv6, present only when non-empty) over the list of
 * dictionaries; no_peer_id drops "peer id" from that list. Returns 0, or -1 with a message. */
int tracker_http_encode_announce_reply(struct benc_buf *b,
                                       const struct tracker_http_reply_info *info,
                                       const struct tracker_peer *peers, size_t n, int compact,
                                       int no_peer_id, char *err, size_t errlen);

/* Encodes d14:failure reason...e into b. Returns 0, or -1 with a message. */
int tracker_http_encode_failure(struct benc_buf *b, const char *reason, char *err, size_t errlen);

/* Encodes a scrape reply: "files" maps each raw 20-byte info hash to its complete, downloaded and
 * incomplete counts. Hashes may come in any order and repeat; the reply is sorted and deduplicated
 * as bencode requires. Returns 0, or -1 with a message. */
int tracker_http_encode_scrape_reply(struct benc_buf *b, const unsigned char (*hashes)[20],
                                     const struct tracker_scrape_counts *counts, size_t n,
                                     char *err, size_t errlen);

/* Writes the HTTP/1.0 response header for a body of body_len bytes ("HTTP/1.0 200 OK",
 * Content-Type: text/plain, Content-Length, Connection: close, blank line). status is 200, 400,
 * 404 or 503. Returns the length, or -1 when it does not fit in cap. */
long tracker_http_response_header(int status, size_t body_len, char *out, size_t cap);

#endif
