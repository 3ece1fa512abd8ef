/*
 * tracker_udp.h - the UDP tracker protocol (BEP 15), both sides, as packets in and packets out.
 *
 * A UDP tracker conversation is two round trips. The client first asks for a connection id
 * ("connect"), proving that it really receives packets at its source address, then sends
 * "announce" (or "scrape") requests carrying that id. Every packet starts with a 32-bit action
 * and a 32-bit transaction id that the client chooses and the tracker echoes, so the client can
 * match replies to requests and ignore strays. All numbers are big-endian (bytes.h).
 *
 * This header also holds the small types every tracker module shares (a peer's address, the
 * announce event, scrape counts, and the 6- and 18-byte compact peer forms of BEP 23), because
 * BEP 15 uses them all and the HTTP codec and the tracker state include this header for them.
 *
 * Parsers return TRACKER_UDP_OK or a negative code and fill the caller's error buffer; they
 * check every length before reading and accept extra trailing bytes, which BEP 15 reserves for
 * extensions (BEP 41).
 */
#ifndef TRACKER_UDP_H
#define TRACKER_UDP_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- types shared by the tracker */

/* One peer as a tracker lists it. */
struct tracker_peer {
    int family;           /* 4 or 6 */
    unsigned char ip[16]; /* network order; only the first 4 bytes are used for IPv4 */
    uint16_t port;
    int has_peer_id; /* 1 when the reply carried the peer id (non-compact form only) */
    unsigned char peer_id[20];
};

/* The announce event, numbered as BEP 15 numbers it; HTTP spells the same events as words. */
enum tracker_event {
    TRACKER_EVENT_NONE = 0,
    TRACKER_EVENT_COMPLETED = 1,
    TRACKER_EVENT_STARTED = 2,
    TRACKER_EVENT_STOPPED = 3
};

/* What a scrape says about one torrent. */
struct tracker_scrape_counts {
    uint32_t complete;   /* seeders */
    uint32_t incomplete; /* leechers */
    uint32_t downloaded; /* how many times a download completed */
};

#define TRACKER_COMPACT4_LEN 6  /* 4-byte IPv4 address + 2-byte port (BEP 23) */
#define TRACKER_COMPACT6_LEN 18 /* 16-byte IPv6 address + 2-byte port (BEP 7, BEP 15) */

/* Decodes compact peers of one family (4 or 6) from p[0..n); stores at most max of them in out
 * (further ones are ignored: that is the cap on peer count). Returns how many it stored, or -1
 * with a message when n is not a multiple of the entry size. Port 0 entries are skipped. */
long tracker_compact_decode(const unsigned char *p, size_t n, int family, struct tracker_peer *out,
                            size_t max, char *err, size_t errlen);

/* Encodes the peers of one family (others are skipped) in compact form into out[0..cap);
 * returns the bytes written. Stops early rather than overflow out. */
size_t tracker_compact_encode(const struct tracker_peer *peers, size_t n, int family,
                              unsigned char *out, size_t cap);

/* ---------------------------------------------------------------- packets */

/* The magic "connection id" every connect request carries, so a tracker can tell BEP 15 apart. */
#define TRACKER_UDP_PROTOCOL_ID 0x41727101980ULL

enum tracker_udp_action {
    TRACKER_UDP_ACTION_CONNECT = 0,
    TRACKER_UDP_ACTION_ANNOUNCE = 1,
    TRACKER_UDP_ACTION_SCRAPE = 2,
    TRACKER_UDP_ACTION_ERROR = 3
};

#define TRACKER_UDP_CONNECT_LEN 16 /* both the request and the response */
#define TRACKER_UDP_ANNOUNCE_REQ_LEN 98
#define TRACKER_UDP_ANNOUNCE_RESP_MIN 20 /* before the peers */
#define TRACKER_UDP_SCRAPE_REQ_MIN 16    /* before the info hashes */
#define TRACKER_UDP_SCRAPE_RESP_MIN 8    /* before the counts */
#define TRACKER_UDP_ERROR_MIN 8          /* before the message */
#define TRACKER_UDP_SCRAPE_MAX 74        /* BEP 15: about 74 hashes fill one packet */
#define TRACKER_UDP_PACKET_MAX 1500      /* what we send and what a receive buffer needs */

/* Results of the parsers. */
enum tracker_udp_result {
    TRACKER_UDP_OK = 0,
    TRACKER_UDP_EMALFORMED = -1, /* too short, wrong action, a field out of range */
    TRACKER_UDP_ETID = -2,       /* a reply to some other request: ignore it and keep waiting */
    TRACKER_UDP_ETRACKER = -3    /* the tracker answered with an error; its text is in err */
};

/* An announce request, as the client fills it and the tracker reads it. */
struct tracker_udp_announce_req {
    uint64_t connection_id;
    uint32_t transaction_id;
    unsigned char info_hash[20];
    unsigned char peer_id[20];
    uint64_t downloaded, left, uploaded;
    enum tracker_event event;
    uint32_t ip;      /* 0: "use the packet's source address" (the only value we honour) */
    uint32_t key;     /* lets the tracker recognise the client across address changes */
    int32_t num_want; /* -1: "the tracker's default" */
    uint16_t port;
};

/* An announce response's fixed part; the peers are decoded into a caller's array. */
struct tracker_udp_announce_resp {
    uint32_t transaction_id;
    uint32_t interval; /* seconds the client should wait before announcing again */
    uint32_t leechers;
    uint32_t seeders;
};

/* -- connect: 16 bytes each way. */

/* Writes a connect request (protocol id, action 0, tid) into out; returns 16. */
size_t tracker_udp_encode_connect_req(unsigned char out[TRACKER_UDP_CONNECT_LEN], uint32_t tid);

/* Tracker side: parses a connect request, checking the magic protocol id; returns a result. */
int tracker_udp_parse_connect_req(const unsigned char *p, size_t n, uint32_t *tid, char *err,
                                  size_t errlen);

/* Writes a connect response (action 0, tid, connection id) into out; returns 16. */
size_t tracker_udp_encode_connect_resp(unsigned char out[TRACKER_UDP_CONNECT_LEN], uint32_t tid,
                                       uint64_t connection_id);

/* Client side: parses a connect response to the request with transaction id tid. */
int tracker_udp_parse_connect_resp(const unsigned char *p, size_t n, uint32_t tid,
                                   uint64_t *connection_id, char *err, size_t errlen);

/* -- announce. */

/* Writes a 98-byte announce request into out; returns 98. */
size_t tracker_udp_encode_announce_req(unsigned char out[TRACKER_UDP_ANNOUNCE_REQ_LEN],
                                       const struct tracker_udp_announce_req *req);

/* Tracker side: parses an announce request (the caller then checks req->connection_id). */
int tracker_udp_parse_announce_req(const unsigned char *p, size_t n,
                                   struct tracker_udp_announce_req *req, char *err, size_t errlen);

/* Writes an announce response with the peers of one family (4 when the request came over IPv4,
 * 6 over IPv6, as BEP 15 says) into out[0..cap); peers that do not fit are left out. Returns the
 * length, or 0 when cap cannot hold even the fixed part. */
size_t tracker_udp_encode_announce_resp(unsigned char *out, size_t cap,
                                        const struct tracker_udp_announce_resp *resp,
                                        const struct tracker_peer *peers, size_t npeers,
                                        int family);

/* Client side: parses an announce response to the request tid; peers are read in the given
 * family's compact form, at most max of them, and their count goes to *npeers. */
int tracker_udp_parse_announce_resp(const unsigned char *p, size_t n, uint32_t tid, int family,
                                    struct tracker_udp_announce_resp *resp,
                                    struct tracker_peer *peers, size_t max, size_t *npeers,
                                    char *err, size_t errlen);

/* -- scrape. */

/* Writes a scrape request for nhashes info hashes (1..TRACKER_UDP_SCRAPE_MAX) into out[0..cap);
 * returns its length, or 0 when nhashes is out of range or cap is too small. */
size_t tracker_udp_encode_scrape_req(unsigned char *out, size_t cap, uint64_t connection_id,
                                     uint32_t tid, const unsigned char (*hashes)[20],
                                     size_t nhashes);

/* Tracker side: parses a scrape request; *hashes points into p and *nhashes counts them. Hashes
 * past the first TRACKER_UDP_SCRAPE_MAX and a trailing partial hash are ignored (BEP 15 lets
 * packets grow); a request with no hash at all is malformed. */
int tracker_udp_parse_scrape_req(const unsigned char *p, size_t n, uint64_t *connection_id,
                                 uint32_t *tid, const unsigned char **hashes, size_t *nhashes,
                                 char *err, size_t errlen);

/* Writes a scrape response (one 12-byte seeders/completed/leechers entry per hash, in request
 * order) into out[0..cap); returns its length, or 0 when it does not fit. */
size_t tracker_udp_encode_scrape_resp(unsigned char *out, size_t cap, uint32_t tid,
                                      const struct tracker_scrape_counts *counts, size_t n);

/* Client side: parses a scrape response to tid that must hold exactly the nhashes asked for. */
int tracker_udp_parse_scrape_resp(const unsigned char *p, size_t n, uint32_t tid,
                                  struct tracker_scrape_counts *counts, size_t nhashes, char *err,
                                  size_t errlen);

/* -- error. */

/* Writes an error response (action 3, tid, message text without a NUL) into out[0..cap); the
 * message is cut to fit. Returns the length, or 0 when cap < 8. */
size_t tracker_udp_encode_error(unsigned char *out, size_t cap, uint32_t tid, const char *msg);

/* ---------------------------------------------------------------- connection ids */

/*
 * The tracker hands out connection ids without remembering them. An id is a keyed hash
 * (SipHash-2-4 under a secret the tracker chose at start-up) of the client's address bytes and the
 * number of the current 60-second window. To check an id the tracker recomputes it for the
 * current window and the two before: an id is therefore accepted for at least 2 minutes after it
 * was issued (BEP 15's rule) and never more than 3. Nothing is stored, so a flood of connect
 * requests costs the tracker no memory, and a client cannot forge an id for an address whose
 * packets it cannot receive.
 */
#define TRACKER_UDP_CID_WINDOW_S 60
#define TRACKER_UDP_CID_WINDOWS 3

/* Computes the connection id for a client address (any bytes: IP and port) at time now_s. */
uint64_t tracker_udp_cid_issue(const unsigned char secret[16], const unsigned char *addr,
                               size_t addrlen, int64_t now_s);

/* Tells whether cid was issued to this address within the accepted windows (1) or not (0). */
int tracker_udp_cid_valid(const unsigned char secret[16], const unsigned char *addr, size_t addrlen,
                          int64_t now_s, uint64_t cid);

/* SipHash-2-4 of data under a 16-byte key: a keyed hash that an attacker cannot steer. */
uint64_t tracker_udp_siphash(const unsigned char key[16], const unsigned char *data, size_t n);

/* ---------------------------------------------------------------- client timing */

/* BEP 15: a client may keep using a connection id for one minute after it received it. */
#define TRACKER_UDP_CID_CLIENT_TTL_S 60
#define TRACKER_UDP_MAX_ATTEMPT 8

/* Seconds to wait for a reply after sending attempt number attempt (0, 1, ...): 15 * 2^attempt,
 * or -1 once attempt passes 8 (3840 s), when the client gives up on this tracker. */
long tracker_udp_timeout_s(unsigned attempt);

#endif
