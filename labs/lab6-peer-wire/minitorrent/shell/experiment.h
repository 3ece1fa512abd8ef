/*
 * experiment.h - `minitorrent experiment NAME`: what each mechanism of the course notes buys,
 * measured on a swarm of this machine.
 *
 * An experiment is a few runs of the same swarm (swarm_run.c) with one thing changed: the piece
 * picker, the choker, the optimistic unchoke, peers coming and going, or N. Each writes one JSON
 * object (--json) and an SVG plot (--plot), and ends with a verdict in words. The rules stay
 * the course notes' (4 regular slots, re-choke every 10 s, optimistic unchoke every 30 s); to
 * fit a lecture, the time scale K divides every timer and multiplies every rate (the file and
 * its pieces stay the same), so the same experiment runs K times faster. Times are reported as
 * measured, on the fast clock, and multiplied back by K for the real-speed swarm.
 *
 * cmd_experiment.c reads the options and runs one of the experiments; each experiment lives in
 * a file of its own, experiment_NAME.c.
 */
#ifndef EXPERIMENT_H
#define EXPERIMENT_H

#include "json_out.h"
#include "svgplot.h"
#include "swarm.h"

#include <stdbool.h>
#include <stdio.h>

struct experiment_opts {
    const char *json_file, *plot_file;
    long seed;
    bool seed_given;
    bool quick;
    double time_scale; /* 0: the experiment's own */
    const char *web;   /* --web [PORT], or NULL */
    bool hold;
    bool plain, keep_files;
    double seed_copies; /* rarest-first: the seed leaves after this many copies (0: 1) */
};

/* What an experiment runs with. */
struct experiment {
    const struct experiment_opts *eo;
    const char *name;
    const char *self; /* this program, to start the children */
    FILE *out;        /* the report */
    struct webview *web;
    double scale; /* K, once chosen */
};

/* Fills o with the swarm options every experiment starts from: the rates and timers of a real
 * swarm (base_seed_up, base_peer_up per second, re-choke 10 s), the file size, and the time
 * scale (the user's, or default_scale). Prints the setting. */
void experiment_setup(struct experiment *x, struct swarm_opts *o, uint64_t size, uint64_t piece,
                      uint64_t base_seed_up, uint64_t base_peer_up, double default_scale);

/* Runs one swarm of the experiment: n leechers, the plan (may be NULL), a seed derived from the
 * experiment's and k. Returns 0, or -1 when it could not run (interrupted, say). */
int experiment_run(struct experiment *x, const struct swarm_opts *o, const struct swarm_plan *plan,
                   unsigned n, unsigned k, struct run_result *res);

/* Opens the JSON file (when --json was given) and writes the common members: "experiment",
 * "time_scale", "seed", "quick". Returns the file or NULL (no --json, or an error printed). */
FILE *experiment_json_begin(struct experiment *x, struct json_out *j);

/* Closes the object and the file; prints where it went. Returns 0 or -1. */
int experiment_json_end(struct experiment *x, struct json_out *j, FILE *f);

/* Renders and writes the plot to --plot's file (when given). Returns 0 or -1. */
int experiment_plot(struct experiment *x, const struct svgplot *p);

/* Writes a number of seconds or null (negative). */
void experiment_json_seconds(struct json_out *j, double s);

/* The mean of the finish times of leechers i with pick[i] == want (-1: none finished; a
 * leecher that did not finish counts as finishing at limit_s, and *unfinished counts them). */
double experiment_mean_finish(const struct run_result *res, const bool *pick, bool want,
                              double limit_s, unsigned *unfinished);

/* The experiments. Each returns the exit status: 0, or 1 when a run failed. */
int experiment_scaling(struct experiment *x);
int experiment_rarest_first(struct experiment *x);
int experiment_tit_for_tat(struct experiment *x);
int experiment_optimistic_unchoke(struct experiment *x);
int experiment_churn(struct experiment *x);

#endif
