/*
 * experiment_titfortat.c - `minitorrent experiment tit-for-tat`: what the choker does to free
 * riders.
 *
 * The course notes' choker uploads to the 4 peers that send to us fastest, re-chosen every 10 s:
 * tit-for-tat. Its promise is an incentive: a peer that uploads nothing should be served last.
 * Piatek et al. ("Do incentives build robustness in BitTorrent?", NSDI 2007) and Locher et al.
 * ("Free riding in BitTorrent is cheap", HotNets 2006) asked how well it keeps that promise.
 *
 * A quarter of the leechers here are free riders: they upload nothing (--no-upload). The swarm
 * runs twice: once with tit-for-tat on every peer, once with a choker that serves the interested
 * peers in turn whatever their rates (round-robin). The measure is the mean finish time of the
 * contributors and of the free riders. Free riders still finish under tit-for-tat: the seed
 * ranks by how fast peers take its data, not by what they give, the optimistic unchoke gives
 * each of them a turn now and then, and leechers that have finished go on seeding.
 */
#include "experiment.h"

int experiment_tit_for_tat(struct experiment *x)
{
    bool quick = x->eo->quick;
    struct swarm_opts o;
    experiment_setup(x, &o, quick ? 1u << 20 : 2u << 20, 32u << 10, 128u << 10, 64u << 10, 10);
    unsigned n = quick ? 8 : 12;
    struct swarm_plan plan = {.stall_s = 0};
    bool rider[MAX_PEERS] = {false};
    /* Every fourth leecher is a free rider: p4, p8, p12. */
    for (unsigned i = 3; i < n; i += 4)
        rider[i] = plan.free_rider[i] = true;
    static const int chokers[2] = {CHOKE_TIT_FOR_TAT, CHOKE_ROUND_ROBIN};
    static struct run_result res[2];
    double cmean[2], fmean[2];
    unsigned cun[2], fun[2];
    int status = 0;
    for (int v = 0; v < 2; v++) {
        o.choker = chokers[v];
        fprintf(x->out, "\n-- variant %s: %u leechers, of which %u free riders (p4, p8...)%s\n",
                swarm_choker_name(chokers[v]), n, n / 4,
                v == 0 ? ": every peer uploads to its 4 fastest senders"
                       : ": every peer serves the interested peers in turn");
        if (experiment_run(x, &o, &plan, n, 0, &res[v]) < 0)
            return 1;
        double limit = o.timeout_s > 0 ? (double)o.timeout_s : 60 + 10 * res[v].bound_s;
        cmean[v] = experiment_mean_finish(&res[v], rider, false, limit, &cun[v]);
        fmean[v] = experiment_mean_finish(&res[v], rider, true, limit, &fun[v]);
        if (!res[v].all_verified)
            status = 1;
    }
    fprintf(x->out, "\n%-12s %22s %22s %8s\n", "choker", "contributors: mean (s)",
            "free riders: mean (s)", "ratio");
    for (int v = 0; v < 2; v++)
        fprintf(x->out, "%-12s %12.2f (%4.0f real) %12.2f (%4.0f real) %8.2f\n",
                swarm_choker_name(chokers[v]), cmean[v], cmean[v] * x->scale, fmean[v],
                fmean[v] * x->scale, cmean[v] > 0 ? fmean[v] / cmean[v] : 0);
    double ratio_tft = cmean[0] > 0 ? fmean[0] / cmean[0] : 0;
    double ratio_rr = cmean[1] > 0 ? fmean[1] / cmean[1] : 0;
    fprintf(x->out, "\nverdict: ");
    if (ratio_tft > 1.1 && ratio_tft > ratio_rr + 0.1)
        fprintf(x->out,
                "under tit-for-tat the free riders took %.0f %% longer than the contributors "
                "(%.2f s against %.2f s); when every peer serves in turn, %+.0f %%. Tit-for-tat "
                "is what makes free riding cost something.",
                100 * (ratio_tft - 1), fmean[0], cmean[0], 100 * (ratio_rr - 1));
    else
        fprintf(x->out,
                "free riding was cheap here: under tit-for-tat the free riders took %+.0f %% "
                "of the contributors' time (%.2f s against %.2f s), and %+.0f %% when every "
                "peer serves in turn. This is what Locher et al. found: in a small swarm with "
                "a generous seed, uploading nothing costs little.",
                100 * (ratio_tft - 1), fmean[0], cmean[0], 100 * (ratio_rr - 1));
    fprintf(x->out,
            " Free riders still finish: the seed ranks peers by how fast they take its data, "
            "not by what they give back, every peer's optimistic unchoke gives each free rider "
            "a turn now and then, and contributors that have finished seed to anyone. (Serving "
            "in turn made everyone slower: D %.2f s against %.2f s, since every re-choke "
            "moves the slots and drops the requests under way.)\n",
            res[1].distribution_s, res[0].distribution_s);

    struct json_out j;
    FILE *f = experiment_json_begin(x, &j);
    if (f != NULL) {
        json_key(&j, "peers");
        json_uint(&j, n);
        json_key(&j, "free_riders");
        json_uint(&j, n / 4);
        json_key(&j, "variants");
        json_begin_array(&j);
        for (int v = 0; v < 2; v++) {
            json_begin_object(&j);
            json_key(&j, "name");
            json_string(&j, swarm_choker_name(chokers[v]));
            json_key(&j, "contributor_mean_s");
            experiment_json_seconds(&j, cmean[v]);
            json_key(&j, "free_rider_mean_s");
            experiment_json_seconds(&j, fmean[v]);
            json_end_object(&j);
        }
        json_end_array(&j);
    }
    if (x->eo->json_file != NULL && experiment_json_end(x, &j, f) < 0)
        status = 1;

    /* The figure: every leecher's finish time, contributors and free riders, per variant. */
    static double px[4][MAX_PEERS], py[4][MAX_PEERS];
    size_t pn[4] = {0};
    for (int v = 0; v < 2; v++)
        for (unsigned i = 0; i < n; i++) {
            if (res[v].finish[i] < 0)
                continue;
            int k = 2 * v + (rider[i] ? 1 : 0);
            px[k][pn[k]] = i + 1;
            py[k][pn[k]++] = res[v].finish[i];
        }
    struct svgplot_series s[4] = {
        {"tit-for-tat: contributors", SVGPLOT_POINTS, SVGPLOT_CIRCLE, "#1f5fa8", px[0], py[0],
         pn[0]},
        {"tit-for-tat: free riders", SVGPLOT_POINTS, SVGPLOT_SQUARE, "#1f5fa8", px[1], py[1],
         pn[1]},
        {"round-robin: contributors", SVGPLOT_POINTS, SVGPLOT_CIRCLE, "#e67e22", px[2], py[2],
         pn[2]},
        {"round-robin: free riders", SVGPLOT_POINTS, SVGPLOT_SQUARE, "#e67e22", px[3], py[3],
         pn[3]},
    };
    struct svgplot p = {.title = "Finish times with a quarter of free riders",
                        .x_label = "leecher (p1, p2, ...)",
                        .y_label = "finish time (seconds)",
                        .series = s,
                        .nseries = 4};
    if (experiment_plot(x, &p) < 0)
        status = 1;
    return status;
}
