/*
 * experiment_scaling.c - `minitorrent experiment scaling`: the course notes' figure, measured.
 *
 * Kurose & Ross: to give a file of F bits to N peers, a server that sends every copy needs at
 * least N F / u_s, which grows with N; in P2P every downloader uploads too, and the bound
 * max{F / u_s, N F / (u_s + N u_i)} levels off. This runs each N in both modes (what
 * `minitorrent swarm --peers 2,4,8,16` does) and draws both bounds with the measured points.
 */
#include "experiment.h"

#include <stdlib.h>

int experiment_scaling(struct experiment *x)
{
    bool quick = x->eo->quick;
    struct swarm_opts o;
    experiment_setup(x, &o, quick ? 512u << 10 : 1u << 20, 32u << 10, 256u << 10, 128u << 10, 4);
    static const unsigned full[] = {2, 4, 8, 16}, fast[] = {2, 4, 8};
    const unsigned *ns = quick ? fast : full;
    size_t nn = quick ? 3 : 4;
    static struct run_result res[8];
    size_t nres = 0;
    int status = 0;
    for (size_t k = 0; k < nn; k++)
        for (int m = 0; m < 2; m++) {
            o.mode = m == 0 ? MODE_P2P : MODE_CS;
            fprintf(x->out, "\n-- N = %u, %s\n", ns[k], swarm_mode_name(o.mode));
            if (experiment_run(x, &o, NULL, ns[k], (unsigned)nres, &res[nres]) < 0)
                return 1;
            if (!res[nres].all_verified || swarm_below_bound(&res[nres]))
                status = 1;
            nres++;
        }
    swarm_report_table(x->out, res, nres);
    /* The verdict: how D grew from the smallest N to the largest, in each mode. */
    double grow[2] = {0, 0};
    for (int m = 0; m < 2; m++) {
        const struct run_result *a = &res[m], *b = &res[nres - 2 + m];
        if (a->distribution_s > 0 && b->distribution_s > 0)
            grow[m] = b->distribution_s / a->distribution_s;
    }
    fprintf(x->out,
            "\nverdict: from N = %u to N = %u leechers (x%u), client-server D grew x%.1f, as N F "
            "/ u_s says, while P2P D grew x%.1f: every new downloader also uploads, so P2P "
            "scales.\n",
            ns[0], ns[nn - 1], ns[nn - 1] / ns[0], grow[1], grow[0]);

    struct json_out j;
    FILE *f = experiment_json_begin(x, &j);
    if (f != NULL) {
        json_key(&j, "runs");
        json_begin_array(&j);
        for (size_t i = 0; i < nres; i++)
            swarm_json_result(&j, &res[i]);
        json_end_array(&j);
    }
    if (x->eo->json_file != NULL && experiment_json_end(x, &j, f) < 0)
        status = 1;
    if (x->eo->plot_file != NULL) {
        if (swarm_write_plot(x->eo->plot_file, &o, res, nres) < 0)
            status = 1;
        else
            fprintf(x->out, "plot written to %s\n", x->eo->plot_file);
    }
    return status;
}
