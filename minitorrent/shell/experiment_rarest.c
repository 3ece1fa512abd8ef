/*
 * experiment_rarest.c - `minitorrent experiment rarest-first`: what rarest first buys.
 *
 * The course notes say a peer asks for the rarest piece first. The question (Legout et al.,
 * "Rarest first and choke algorithms are enough", IMC 2006; Bharambe et al., INFOCOM 2006) is
 * what that buys. In a swarm whose seed stays to the end it buys little: the seed can always
 * send what is missing, and every policy finishes (lab 7 measured a few per cent). It matters
 * when the seed leaves early. Here the seed leaves once it has uploaded as many bytes as the
 * file holds: one copy's worth, whichever pieces they were (--seed-copies C: C copies' worth).
 * If the leechers between them then hold every piece, the swarm can finish without it; a piece
 * sent twice by the seed is a piece some other never got, and it has left the swarm for good.
 *
 * Three runs, the same swarm and seed with the picker set to rarest, random and sequential. The
 * figure shows the availability of the rarest piece over time (its copies among the running
 * peers): a 0 after the seed left means a piece is lost and nobody can finish.
 */
#include "experiment.h"

#include <stdlib.h>

/* Says "one copy's" or "1.5 copies'", for "... worth". */
static const char *copies_worth(double copies, char *buf, size_t len)
{
    if (copies == 1.0)
        return "one copy's";
    snprintf(buf, len, "%.3g copies'", copies);
    return buf;
}

int experiment_rarest_first(struct experiment *x)
{
    bool quick = x->eo->quick;
    struct swarm_opts o;
    /* 8 leechers and 64 pieces (quick: 6 and 32): enough pieces that duplicates show, few
     * enough peers that the seed's one copy is spread thin. */
    /* A slow seed (a quarter of a leecher's upload) and pieces of one 16 KiB block: while the
     * seed trickles out its one copy, the leechers trade fast among themselves, so a picker that
     * ignores rarity keeps asking the seed for pieces some leecher already has. */
    experiment_setup(x, &o, quick ? 1u << 20 : 2u << 20, 16u << 10, 128u << 10, 16u << 10, 8);
    unsigned n = quick ? 6 : 8;
    /* Two requests outstanding per connection: a leecher has at most two pieces on their way from
     * the seed, as a real client with 256 KiB pieces has a piece or two. With the default 64 it
     * would ask the seed for a large part of a small file at once, and no picker could avoid
     * duplicates. */
    o.pipeline = 2;
    static const int pickers[3] = {PICK_RAREST, PICK_RANDOM, PICK_SEQUENTIAL};
    static struct run_result res[3];
    double copies = x->eo->seed_copies > 0 ? x->eo->seed_copies : 1.0;
    struct swarm_plan plan = {.seed_copies = copies, .stall_s = 1.0};
    char wbuf[32];
    const char *worth = copies_worth(copies, wbuf, sizeof wbuf);
    int status = 0;
    size_t ran = 0;
    for (int v = 0; v < 3; v++) {
        o.picker = pickers[v];
        fprintf(x->out, "\n-- variant %s: every peer picks %s\n", swarm_picker_name(pickers[v]),
                pickers[v] == PICK_RAREST   ? "the rarest piece first"
                : pickers[v] == PICK_RANDOM ? "pieces at random"
                                            : "pieces in order, from the first");
        /* The same seed for every variant: the same file, the same peers' random choices. */
        if (experiment_run(x, &o, &plan, n, 0, &res[v]) < 0)
            return 1;
        ran++;
    }

    fprintf(x->out, "\n%-11s %9s %13s %12s %14s %10s\n", "picker", "completed", "rarest piece",
            "pieces lost", "D (s)", "seed left");
    for (size_t v = 0; v < ran; v++) {
        char d[48];
        if (res[v].distribution_s >= 0)
            snprintf(d, sizeof d, "%.2f (%.0f real)", res[v].distribution_s,
                     res[v].distribution_s * x->scale);
        else
            snprintf(d, sizeof d, "-");
        fprintf(x->out, "%-11s %5u/%-3u %13d %12u %14s %8.2f s\n", swarm_picker_name(pickers[v]),
                res[v].completed, res[v].peers, res[v].min_avail_after_seed_left,
                res[v].pieces_lost, d, res[v].seed_left_s);
    }
    fprintf(x->out, "(rarest piece: its copies among the leechers when the seed left; pieces "
                    "lost: held by no leecher at the end)\n");

    /* The verdict, from the numbers. */
    const struct run_result *r = &res[0], *rnd = &res[1], *seq = &res[2];
    fprintf(x->out, "\nverdict: ");
    if (r->completed == r->peers && (rnd->completed < rnd->peers || seq->completed < seq->peers))
        fprintf(x->out,
                "rarest first let all %u leechers finish after the seed left with %s "
                "worth uploaded; random finished %u and sequential %u, because the seed "
                "had sent some pieces twice and %u (random) and %u (sequential) pieces left the "
                "swarm with it.\n",
                r->peers, worth, rnd->completed, seq->completed, rnd->pieces_lost,
                seq->pieces_lost);
    else if (r->completed == r->peers && rnd->completed == rnd->peers)
        fprintf(x->out,
                "here rarest first bought little over random: both finished (D %.2f s against "
                "%.2f s), since the leechers' own trading spread the seed's pieces before it "
                "left; sequential finished %u of %u.\n",
                r->distribution_s, rnd->distribution_s, seq->completed, seq->peers);
    else
        fprintf(x->out,
                "even rarest first lost %u of %u pieces when the seed left after %s "
                "worth (random lost %u, sequential %u): the seed serves several "
                "leechers at once, and requests for the same rare piece that are on their way "
                "at the same time cannot see each other, so some pieces go out twice and others "
                "never. %s A seed that stays a little longer (try --seed-copies 1.5) or "
                "super-seeds closes the gap.\n",
                r->pieces_lost, r->pieces, worth, rnd->pieces_lost, seq->pieces_lost,
                r->pieces_lost < rnd->pieces_lost
                    ? "Fewer pieces lost than random and far fewer than sequential is what "
                      "rarest first buys here."
                    : "Here rarest first lost no fewer than random: what matters in this setting "
                      "is not to pick in order, as sequential does.");

    struct json_out j;
    FILE *f = experiment_json_begin(x, &j);
    if (f != NULL) {
        json_key(&j, "variants");
        json_begin_array(&j);
        for (size_t v = 0; v < ran; v++) {
            json_begin_object(&j);
            json_key(&j, "name");
            json_string(&j, swarm_picker_name(pickers[v]));
            json_key(&j, "peers");
            json_uint(&j, res[v].peers);
            json_key(&j, "completed");
            json_uint(&j, res[v].completed);
            json_key(&j, "min_availability_after_seed_left");
            if (res[v].min_avail_after_seed_left >= 0)
                json_uint(&j, (uint64_t)res[v].min_avail_after_seed_left);
            else
                json_null(&j);
            json_key(&j, "pieces_lost");
            json_uint(&j, res[v].pieces_lost);
            json_key(&j, "distribution_time_s");
            experiment_json_seconds(&j, res[v].distribution_s);
            json_end_object(&j);
        }
        json_end_array(&j);
    }
    if (x->eo->json_file != NULL && experiment_json_end(x, &j, f) < 0)
        status = 1;

    /* The figure: copies of the rarest piece over time, one line per picker. */
    static double xs[3][SWARM_SAMPLES], ys[3][SWARM_SAMPLES];
    static const char *colors[3] = {"#1f5fa8", "#e67e22", "#c0392b"};
    static const char *labels[3] = {"rarest first", "random", "sequential"};
    struct svgplot_series s[3];
    for (size_t v = 0; v < ran; v++) {
        for (size_t i = 0; i < res[v].nsamples; i++) {
            xs[v][i] = res[v].sample_t[i];
            ys[v][i] = res[v].sample_min[i];
        }
        s[v] = (struct svgplot_series){labels[v], SVGPLOT_LINE, SVGPLOT_CIRCLE, colors[v],
                                       xs[v],     ys[v],        res[v].nsamples};
    }
    char title[160];
    snprintf(title, sizeof title,
             "Copies of the rarest piece: %u leechers, the seed leaves after %s worth", n, worth);
    struct svgplot p = {.title = title,
                        .x_label = "time since the release (seconds)",
                        .y_label = "copies of the rarest piece",
                        .series = s,
                        .nseries = ran};
    if (experiment_plot(x, &p) < 0)
        status = 1;
    return status;
}
