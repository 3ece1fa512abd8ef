/*
 * bound.c - the Kurose & Ross distribution-time bounds (see bound.h for the formulas).
 */
#include "bound.h"

#include <stddef.h>

void kr_params_uniform(struct kr_params *p, uint64_t file_bytes, unsigned peers, uint64_t seed_up,
                       uint64_t peer_up, uint64_t peer_down)
{
    p->file_bytes = (double)file_bytes;
    p->peers = peers;
    p->seed_up = (double)seed_up;
    /* One unlimited uploader is enough to make the sum of all uploads infinite. */
    p->peers_up_unlimited = peers > 0 && peer_up == 0;
    p->peers_up_sum = (double)peers * (double)peer_up;
    p->down_min = (double)peer_down;
}

/* Returns amount / rate, the time to move amount bytes at rate bytes per second, where a rate of
 * 0 stands for an unlimited link and so costs no time. */
static double transfer_time(double amount, double rate)
{
    return rate > 0 ? amount / rate : 0.0;
}

/* Keeps the largest term seen so far, and remembers which one it was. A term must be strictly
 * larger to take over, so on a tie the term listed first in the textbook's formula is named. */
static void consider(double term, enum kr_limit which, double *best, enum kr_limit *why)
{
    if (term > *best) {
        *best = term;
        *why = which;
    }
}

double kr_bound_client_server(const struct kr_params *p, enum kr_limit *why)
{
    double best = 0.0;
    enum kr_limit w = KR_LIMIT_NONE;
    /* The server uploads all N copies itself: the peers upload nothing in this model. */
    consider(transfer_time((double)p->peers * p->file_bytes, p->seed_up), KR_LIMIT_SERVER_ALL,
             &best, &w);
    if (p->peers > 0)
        consider(transfer_time(p->file_bytes, p->down_min), KR_LIMIT_SLOWEST_DOWN, &best, &w);
    if (why != NULL)
        *why = w;
    return best;
}

double kr_bound_p2p(const struct kr_params *p, enum kr_limit *why)
{
    double best = 0.0;
    enum kr_limit w = KR_LIMIT_NONE;
    if (p->peers > 0) {
        /* The seed holds the only complete copy at the start, so every byte of the file must
         * leave the seed at least once. */
        consider(transfer_time(p->file_bytes, p->seed_up), KR_LIMIT_SEED_ONE_COPY, &best, &w);
        consider(transfer_time(p->file_bytes, p->down_min), KR_LIMIT_SLOWEST_DOWN, &best, &w);
        /* N copies must be uploaded in total, by the seed and the peers together. If the seed
         * or any peer uploads without limit, the combined capacity is infinite and this term
         * says nothing. */
        if (p->seed_up > 0 && !p->peers_up_unlimited)
            consider(transfer_time((double)p->peers * p->file_bytes, p->seed_up + p->peers_up_sum),
                     KR_LIMIT_TOTAL_UPLOAD, &best, &w);
    }
    if (why != NULL)
        *why = w;
    return best;
}

const char *kr_limit_text(enum kr_limit why)
{
    switch (why) {
    case KR_LIMIT_SEED_ONE_COPY:
        return "F/u_s: the seed must upload one copy";
    case KR_LIMIT_SLOWEST_DOWN:
        return "F/d_min: the slowest peer must download the file";
    case KR_LIMIT_TOTAL_UPLOAD:
        return "N*F/(u_s+sum u_i): all N copies through everyone's upload";
    case KR_LIMIT_SERVER_ALL:
        return "N*F/u_s: the server uploads every copy";
    case KR_LIMIT_NONE:
        break;
    }
    return "no limit: every rate that matters is unlimited";
}
