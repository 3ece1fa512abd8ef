/*
 * announce.h - the tracker client: tell the tracker we are here, and learn who else is.
 *
 * One call does one announce over HTTP (BEP 3, BEP 23) or UDP (BEP 15), whichever the torrent's
 * URL names. The encoding and parsing are the core's (tracker_http.c, tracker_udp.c); this file
 * only moves the bytes, with time outs so a dead tracker cannot hang a peer.
 */
#ifndef ANNOUNCE_H
#define ANNOUNCE_H

#include "tracker_udp.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum { ANNOUNCE_MAX_PEERS = 200 };

struct announce_params {
    const char *url;
    unsigned char info_hash[20];
    unsigned char peer_id[20];
    uint16_t port;
    uint64_t uploaded, downloaded, left;
    enum tracker_event event;
    int numwant;                  /* -1: the tracker's default */
    int timeout_ms;               /* per try; UDP doubles it on each of its retries (BEP 15) */
    int udp_retries;              /* UDP tries after the first */
    const struct sockaddr *local; /* our own address to send from (NULL: any), so the tracker
                                     records the address we listen on */
    socklen_t locallen;
};

struct announce_result {
    int64_t interval; /* seconds until the next announce */
    int64_t complete, incomplete;
    size_t npeers;
    struct tracker_peer peers[ANNOUNCE_MAX_PEERS];
    char warning[256];
};

/* Fills p with the defaults (10 s time out, 2 UDP retries, numwant 50) and zeroes the rest. */
void announce_defaults(struct announce_params *p);

/* Announces once. Returns 0 and fills r, or -1 with a message in err (a tracker's "failure
 * reason" among them). */
int announce(const struct announce_params *p, struct announce_result *r, char *err, size_t errlen);

/* Asks an HTTP or UDP tracker how many seeders and leechers a torrent has (scrape). Returns 0,
 * or -1 with a message in err. */
int announce_scrape(const char *url, const unsigned char info_hash[20], int timeout_ms,
                    struct tracker_scrape_counts *out, char *err, size_t errlen);

#endif
