/*
 * experiment_churn.c - `minitorrent experiment churn`: peers that come and go.
 *
 * The course notes: P2P peers "are intermittently connected and change IP addresses". The swarm
 * runs twice, steady and with churn: a third of the leechers killed with SIGKILL partway through
 * and restarted on their download folder, every second one on a new address (swarm_churn.c).
 * They find the swarm again through the tracker and resume from their verified pieces, so the
 * swarm still completes; the measure is what the churn cost in D.
 */
#include "experiment.h"

#include <stdlib.h>

/* Sorts doubles, for the finish-time curves. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int experiment_churn(struct experiment *x)
{
    bool quick = x->eo->quick;
    struct swarm_opts o;
    experiment_setup(x, &o, quick ? 2u << 20 : 4u << 20, 64u << 10, 256u << 10, 128u << 10, 4);
    unsigned n = quick ? 6 : 9;
    static struct run_result res[2];
    int status = 0;
    for (int v = 0; v < 2; v++) {
        o.churn = v == 1;
        fprintf(x->out, "\n-- variant %s\n",
                v == 0 ? "steady: every leecher stays"
                       : "churn: a third killed with SIGKILL and restarted, some elsewhere");
        if (experiment_run(x, &o, NULL, n, 0, &res[v]) < 0)
            return 1;
        if (!res[v].all_verified)
            status = 1;
    }
    fprintf(x->out, "\n%-8s %10s %14s %10s\n", "variant", "completed", "D (s)", "bound (s)");
    for (int v = 0; v < 2; v++)
        fprintf(x->out, "%-8s %6u/%-3u %8.2f (%3.0f real) %8.2f\n", v == 0 ? "steady" : "churn",
                res[v].completed, res[v].peers, res[v].distribution_s,
                res[v].distribution_s * x->scale, res[v].bound_s);
    fprintf(x->out,
            "\nverdict: with churn %u of %u leechers finished (steady: %u), D %.2f s against "
            "%.2f s steady (%+.0f %%). Killed peers came back through the tracker, some on a "
            "new address, and resumed from the pieces they had verified: churn costs time, "
            "not the download.\n",
            res[1].completed, n, res[0].completed, res[1].distribution_s, res[0].distribution_s,
            res[0].distribution_s > 0 ? 100 * (res[1].distribution_s / res[0].distribution_s - 1)
                                      : 0.0);

    struct json_out j;
    FILE *f = experiment_json_begin(x, &j);
    if (f != NULL) {
        json_key(&j, "variants");
        json_begin_array(&j);
        for (int v = 0; v < 2; v++) {
            json_begin_object(&j);
            json_key(&j, "name");
            json_string(&j, v == 0 ? "steady" : "churn");
            json_key(&j, "peers");
            json_uint(&j, res[v].peers);
            json_key(&j, "completed");
            json_uint(&j, res[v].completed);
            json_key(&j, "distribution_time_s");
            experiment_json_seconds(&j, res[v].distribution_s);
            json_key(&j, "bound_s");
            json_number(&j, res[v].bound_s);
            json_end_object(&j);
        }
        json_end_array(&j);
    }
    if (x->eo->json_file != NULL && experiment_json_end(x, &j, f) < 0)
        status = 1;

    /* The figure: leechers finished against time, steady and with churn. */
    static double xs[2][MAX_PEERS], ys[2][MAX_PEERS];
    size_t ns[2] = {0, 0};
    for (int v = 0; v < 2; v++) {
        for (unsigned i = 0; i < n; i++)
            if (res[v].finish[i] >= 0)
                xs[v][ns[v]++] = res[v].finish[i];
        qsort(xs[v], ns[v], sizeof xs[v][0], cmp_double);
        for (size_t i = 0; i < ns[v]; i++)
            ys[v][i] = (double)(i + 1);
    }
    struct svgplot_series s[2] = {
        {"steady", SVGPLOT_POINTS, SVGPLOT_CIRCLE, "#1f5fa8", xs[0], ys[0], ns[0]},
        {"churn", SVGPLOT_POINTS, SVGPLOT_SQUARE, "#c0392b", xs[1], ys[1], ns[1]},
    };
    struct svgplot p = {.title = "Leechers finished over time, steady and with churn",
                        .x_label = "time since the release (seconds)",
                        .y_label = "leechers finished",
                        .series = s,
                        .nseries = 2};
    if (experiment_plot(x, &p) < 0)
        status = 1;
    return status;
}
