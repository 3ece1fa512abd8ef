/*
 * experiment_optimistic.c - `minitorrent experiment optimistic-unchoke`: what the optimistic
 * unchoke buys a newcomer.
 *
 * The course notes: every 30 s a peer unchokes one more peer at random, whatever it sends. A
 * newcomer has nothing to trade, so tit-for-tat alone would never choose it: every peer ranks it
 * last, at rate 0. Here a newcomer with nothing joins a running swarm, once with the optimistic
 * unchoke on and once off (every peer, the seed too), and the measure is how long it waits for
 * its first verified piece. With it off, the newcomer waits until slots free up: until enough
 * peers have finished and lost interest.
 */
#include "experiment.h"

int experiment_optimistic_unchoke(struct experiment *x)
{
    bool quick = x->eo->quick;
    struct swarm_opts o;
    experiment_setup(x, &o, quick ? 2u << 20 : 4u << 20, 32u << 10, 128u << 10, 64u << 10, 10);
    /* n - 1 leechers from the start, and the newcomer, the last, joins later. Enough leechers
     * that the 4 regular slots of every peer are always taken. */
    unsigned n = quick ? 8 : 12;
    unsigned newcomer = n - 1;
    struct swarm_plan plan = {.watch = (int)newcomer + 1};
    /* It joins a quarter of the way into the run the swarm would take without it. */
    struct kr_params kp;
    kr_params_uniform(&kp, o.size, n - 1, swarm_scaled_rate(&o, o.seed_up),
                      swarm_scaled_rate(&o, o.peer_up), 0);
    double join = 0.25 * kr_bound_p2p(&kp, NULL);
    if (join < 1.0)
        join = 1.0;
    plan.join_at_s[newcomer] = join;
    static struct run_result res[2];
    double first[2];
    int status = 0;
    for (int v = 0; v < 2; v++) {
        o.optimistic = v == 0;
        fprintf(x->out,
                "\n-- variant %s: the optimistic unchoke is %s; p%u joins with nothing after "
                "%.1f s\n",
                v == 0 ? "on" : "off", v == 0 ? "on (every third re-choke)" : "off everywhere",
                newcomer + 1, join);
        if (experiment_run(x, &o, &plan, n, 0, &res[v]) < 0)
            return 1;
        first[v] = res[v].first_piece[newcomer] >= 0 ? res[v].first_piece[newcomer] - join : -1;
        if (!res[v].all_verified)
            status = 1;
    }
    fprintf(x->out, "\n%-12s %28s %24s\n", "optimistic", "newcomer's first piece after",
            "its finish after joining");
    for (int v = 0; v < 2; v++) {
        char a[48], b[48];
        if (first[v] >= 0)
            snprintf(a, sizeof a, "%.2f s (%.0f real)", first[v], first[v] * x->scale);
        else
            snprintf(a, sizeof a, "none");
        double fin = res[v].finish[newcomer];
        if (fin >= 0)
            snprintf(b, sizeof b, "%.2f s", fin - join);
        else
            snprintf(b, sizeof b, "-");
        fprintf(x->out, "%-12s %28s %24s\n", v == 0 ? "on" : "off", a, b);
    }
    /* When did the first of the others finish? Until then no slot falls free by itself. */
    double first_done = -1;
    for (unsigned i = 0; i < newcomer; i++)
        if (res[1].finish[i] >= 0 && (first_done < 0 || res[1].finish[i] < first_done))
            first_done = res[1].finish[i];
    fprintf(x->out, "\nverdict: ");
    if (first[0] >= 0 && first[1] < 0)
        fprintf(x->out,
                "with the optimistic unchoke the newcomer had its first piece %.2f s after "
                "joining; without it, none during the run. Nobody chooses a peer that has "
                "nothing to give by its rate: the random slot is how a newcomer gets started.\n",
                first[0]);
    else if (first[0] >= 0 && first[1] > 2 * first[0])
        fprintf(x->out,
                "with the optimistic unchoke the newcomer had its first piece %.2f s after "
                "joining, without it %.2f s (%.1f times longer)%s. The random slot is how a "
                "newcomer with nothing to trade gets started.\n",
                first[0], first[1], first[1] / first[0],
                first_done >= 0 && res[1].first_piece[newcomer] >= first_done
                    ? ", when the first peers had finished and slots fell free"
                    : ", when a regular slot fell free (a peer's interest comes and goes as "
                      "pieces arrive)");
    else
        fprintf(x->out,
                "the newcomer had its first piece %.2f s after joining with the optimistic "
                "unchoke and %.2f s without: little difference here. In a swarm this small, "
                "regular slots fall free often enough (a peer that has nothing we lack is not "
                "interested, and its slot goes to the next) that a newcomer is taken anyway.\n",
                first[0], first[1]);

    struct json_out j;
    FILE *f = experiment_json_begin(x, &j);
    if (f != NULL) {
        json_key(&j, "peers");
        json_uint(&j, n);
        json_key(&j, "newcomer_joins_s");
        json_number(&j, join);
        json_key(&j, "variants");
        json_begin_array(&j);
        for (int v = 0; v < 2; v++) {
            json_begin_object(&j);
            json_key(&j, "name");
            json_string(&j, v == 0 ? "on" : "off");
            json_key(&j, "newcomer_first_piece_s");
            experiment_json_seconds(&j, first[v]);
            json_end_object(&j);
        }
        json_end_array(&j);
    }
    if (x->eo->json_file != NULL && experiment_json_end(x, &j, f) < 0)
        status = 1;

    /* The figure: the newcomer's verified pieces over time, on and off. */
    static double xs[2][SWARM_SAMPLES], ys[2][SWARM_SAMPLES];
    size_t ns[2] = {0, 0};
    for (int v = 0; v < 2; v++)
        for (size_t i = 0; i < res[v].nsamples; i++)
            if (res[v].sample_t[i] >= join) {
                xs[v][ns[v]] = res[v].sample_t[i] - join;
                ys[v][ns[v]++] = res[v].sample_watch[i];
            }
    struct svgplot_series s[2] = {
        {"optimistic unchoke on", SVGPLOT_LINE, SVGPLOT_CIRCLE, "#1f5fa8", xs[0], ys[0], ns[0]},
        {"optimistic unchoke off", SVGPLOT_LINE, SVGPLOT_SQUARE, "#c0392b", xs[1], ys[1], ns[1]},
    };
    struct svgplot p = {.title = "A newcomer's pieces after it joins a running swarm",
                        .x_label = "time since the newcomer joined (seconds)",
                        .y_label = "the newcomer's verified pieces",
                        .series = s,
                        .nseries = 2};
    if (experiment_plot(x, &p) < 0)
        status = 1;
    return status;
}
