/*
 * udprelay.h - a UDP relay for tests that stands between a client and a server and misbehaves on
 * purpose: it drops chosen datagrams (or random ones from a fixed seed), holds a reply back to
 * deliver it late, or sends a forged reply from another port. It runs in a thread of the test.
 */
#ifndef UDPRELAY_H
#define UDPRELAY_H

struct udprelay_opts {
    double drop_rate;        /* drop each datagram, either way, with this probability */
    unsigned seed;           /* seed for drop_rate's random numbers */
    int drop_first_requests; /* drop the first N datagrams from the client */
    int drop_all_replies;    /* never pass a reply to the client */
    int hold_reply;          /* hold back reply number N (1 is the first; 0 holds none) and
                                deliver it late: just before the next request that follows a
                                later reply */
    int forge_replies;       /* answer every request from another port with the right text */
};

struct udprelay_stats {
    int requests, replies; /* datagrams seen each way */
    int dropped, forged, late;
};

struct udprelay;

/* Starts a relay on 127.0.0.1 in front of the server at 127.0.0.1:server_port. Returns the
 * relay's port, or -1. */
int udprelay_start(struct udprelay **out, int server_port, const struct udprelay_opts *o);

/* Stops the relay thread and reports what it did. */
void udprelay_stop(struct udprelay *r, struct udprelay_stats *stats);

#endif
