/*
 * swarm_churn.c - churn: what the course notes mean by "peers are intermittently connected and
 * change IP addresses", made to happen in a run (--churn).
 *
 * A third of the leechers are killed with SIGKILL partway through (no goodbye to the tracker or
 * to their peers) and started again a second later on the same download folder, every second
 * one on a new address. They find the swarm again through the tracker and resume from the
 * pieces they had already verified; the swarm only loses time.
 */
#include "swarm_run.h"
#include "clock.h"

#include <stdio.h>
#include <string.h>

/* Chooses the churn's victims: a third of the leechers (rounded up), each to be killed when it
 * holds a random fraction (15-75 %) of the pieces, which is sure to come before it finishes
 * whatever the speed; every second victim comes back on a new address. */
void churn_plan(struct run *r)
{
    unsigned order[MAX_PEERS];
    for (unsigned i = 0; i < r->n; i++)
        order[i] = i;
    for (unsigned i = r->n; i > 1; i--) {
        unsigned k = (unsigned)(run_rng_next(&r->rng) % i);
        unsigned t = order[i - 1];
        order[i - 1] = order[k];
        order[k] = t;
    }
    unsigned victims = (r->n + 2) / 3;
    for (unsigned v = 0; v < victims; v++) {
        unsigned i = order[v];
        r->churn[i].victim = true;
        r->churn[i].at_fraction = 0.15 + 0.6 * run_rng_unit(&r->rng);
        r->churn[i].new_addr = v % 2 == 0;
    }
}

/* The churn's moves, checked on every loop turn: kill a victim that has reached its fraction,
 * and restart one whose pause is over. Returns 0, or -1 when a restart failed. */
int churn_step(struct run *r, char *err, size_t errlen)
{
    double t = clock_s() - r->t0;
    for (unsigned i = 0; i < r->n; i++) {
        struct swarm_view_peer *vp = &r->vp[1 + i];
        struct child *ch = run_leecher(r, i);
        if (r->churn[i].victim && !r->churn[i].done && vp->state == SWARM_PEER_RUNNING &&
            vp->st.total > 0 && vp->st.have < vp->st.total &&
            vp->st.have >= r->churn[i].at_fraction * vp->st.total) {
            /* SIGKILL: no chance to tell the tracker or the peers. They notice the dead
             * connections, and the tracker forgets the peer when its announces stop. */
            child_kill(ch);
            r->churn[i].done = true;
            r->churn[i].had_pieces = vp->st.have;
            r->churn[i].restart_at = t + 1.0 / r->o->time_scale;
            vp->state = SWARM_PEER_DOWN;
            swarm_view_event(&r->view, t, "%s killed with SIGKILL at %u/%u pieces", vp->name,
                             vp->st.have, vp->st.total);
        }
        if (vp->state == SWARM_PEER_DOWN && r->churn[i].restart_at > 0 &&
            t >= r->churn[i].restart_at) {
            r->churn[i].restart_at = 0;
            if (r->churn[i].new_addr) {
                memcpy(vp->prev_addr, vp->addr, sizeof vp->addr);
                snprintf(vp->addr, sizeof vp->addr, "127.0.0.%u",
                         10 + r->n + 1 + r->next_new_addr++);
            }
            vp->restarts++;
            ch->pid = 0;
            if (run_start_leecher(r, i, err, errlen) < 0)
                return -1;
            swarm_view_event(&r->view, t, "%s restarted on %s%s, same download folder (pid %ld)",
                             vp->name, vp->addr, r->churn[i].new_addr ? " (a new address)" : "",
                             (long)ch->pid);
        }
    }
    return 0;
}
