/*
 * swarm_run.h - the state of one run of a swarm, shared by swarm_run.c (the run itself) and
 * swarm_churn.c (the peers it kills and restarts). Nothing else needs to look inside.
 */
#ifndef SWARM_RUN_H
#define SWARM_RUN_H

#include "swarm.h"

struct webview;

/* What each child of a run is. swarm_children.c starts, reads and stops every child alike; the
 * role says what its lines mean and whether its death ends the run. */
enum role { ROLE_TRACKER, ROLE_CREATE, ROLE_SEED, ROLE_LEECHER };

/* The churn's plan for one leecher: whether it is killed, at what fraction of its pieces, and
 * where it comes back. */
struct churn_slot {
    bool victim, done, new_addr;
    double at_fraction;
    double restart_at; /* when a killed peer is started again; 0: not pending */
    uint32_t had_pieces;
    bool announced_back;
};

/* Everything one run works with. */
struct run {
    const struct swarm_opts *o;
    const struct swarm_plan *plan; /* never NULL inside a run (an empty plan by default) */
    int mode;
    unsigned n;
    const char *self;
    FILE *out; /* where the report and the view go */
    struct children cs;
    struct child kids[MAX_PEERS + 3];         /* [0] tracker, [1] seed, [2 + i] leecher i */
    struct swarm_view_peer vp[MAX_PEERS + 1]; /* [0] seed, [1 + i] leecher i */
    struct swarm_view view;
    char torrent[1100], datafile[1200], name[64];
    char announce_url[128];
    double t0; /* the release: D and every time reported are measured from here */
    uint64_t rng;
    bool started[MAX_PEERS]; /* leecher i has been started (a newcomer starts late) */
    struct churn_slot churn[MAX_PEERS];
    unsigned next_new_addr;
    struct run_result *res;
};

/* The leecher i's child. */
struct child *run_leecher(struct run *r, unsigned i);

/* Starts leecher i (again, after churn) on the address in its view row. Returns 0 or -1. */
int run_start_leecher(struct run *r, unsigned i, char *err, size_t errlen);

/* A small seeded generator (xorshift64*), so that a run with --seed can be replayed. */
uint64_t run_rng_next(uint64_t *s);
double run_rng_unit(uint64_t *s);

/* swarm_churn.c: chooses the victims, and makes the churn's moves on each loop turn. */
void churn_plan(struct run *r);
int churn_step(struct run *r, char *err, size_t errlen);

#endif
