/*
 * bound.h - the Kurose & Ross lower bounds on the time to distribute one file to N peers.
 *
 * The course notes compare two ways of giving a file of F bytes to N peers. Every peer i can
 * upload at u_i and download at d_i bytes per second; the server (our seed) uploads at u_s; d_min
 * is the slowest download rate. No schedule, however clever, can beat these bounds:
 *
 *   client-server:  D_cs  >= max{ N*F / u_s,  F / d_min }
 *       the server alone must upload N copies, and the slowest peer must download one copy.
 *
 *   P2P:            D_p2p >= max{ F / u_s,  F / d_min,  N*F / (u_s + sum of u_i) }
 *       the server must upload at least one copy, the slowest peer must download one, and all
 *       N copies together must be uploaded by everyone's upload capacity combined.
 *
 * The first grows linearly in N; the second levels off once the peers' own uploads dominate,
 * which is the whole point of P2P. `minitorrent swarm` measures a real swarm against these
 * numbers and reports the ratio measured / bound.
 *
 * Units: bytes and bytes per second, so the bound is in seconds (the textbook uses bits; the
 * ratio is the same). A rate of 0 means "unlimited": a term whose denominator is unlimited is 0,
 * because an infinitely fast link costs no time. When every term is 0 the bound is 0, meaning
 * "these rates put no limit on D", and callers should print the ratio as undefined.
 *
 * Sans-I/O: pure arithmetic, tested in tests/check_bound.c.
 */
#ifndef BOUND_H
#define BOUND_H

#include <stdint.h>

/* Which term of the max{...} is the largest: the bottleneck the bound says limits D. */
enum kr_limit {
    KR_LIMIT_NONE,          /* every rate unlimited: no bound at all */
    KR_LIMIT_SEED_ONE_COPY, /* F / u_s: the seed must send out at least one copy */
    KR_LIMIT_SLOWEST_DOWN,  /* F / d_min: the slowest peer must download the whole file */
    KR_LIMIT_TOTAL_UPLOAD,  /* N*F / (u_s + sum u_i): everyone's uploads together (P2P) */
    KR_LIMIT_SERVER_ALL,    /* N*F / u_s: the server sends every copy (client-server) */
};

/* The inputs. Rates are in bytes per second; 0 means unlimited. */
struct kr_params {
    double file_bytes;      /* F */
    unsigned peers;         /* N: the downloaders, not counting the seed */
    double seed_up;         /* u_s */
    double peers_up_sum;    /* sum of u_i over the N peers; ignored by the client-server bound */
    int peers_up_unlimited; /* 1 when at least one u_i is unlimited, which makes the sum infinite */
    double down_min;        /* d_min */
};

/* Fills p for N identical peers, each uploading at peer_up and downloading at peer_down (0:
 * unlimited), as `minitorrent swarm` configures them. */
void kr_params_uniform(struct kr_params *p, uint64_t file_bytes, unsigned peers, uint64_t seed_up,
                       uint64_t peer_up, uint64_t peer_down);

/* The client-server bound in seconds; *why (may be NULL) tells which term won. */
double kr_bound_client_server(const struct kr_params *p, enum kr_limit *why);

/* The P2P bound in seconds; *why (may be NULL) tells which term won. */
double kr_bound_p2p(const struct kr_params *p, enum kr_limit *why);

/* A short English phrase for a limit, for reports: "the seed's upload of one copy", ... */
const char *kr_limit_text(enum kr_limit why);

#endif
