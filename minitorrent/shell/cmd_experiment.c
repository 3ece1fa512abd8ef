/*
 * cmd_experiment.c - `minitorrent experiment NAME`: the options, the experiments' list, and what
 * every experiment shares (its setting, its runs, its JSON file and its plot). See experiment.h.
 */
#include "experiment.h"
#include "cli.h"
#include "commands.h"
#include "io.h"
#include "opts.h"
#include "randbytes.h"
#include "units.h"
#include "webview.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: minitorrent experiment NAME [--json FILE] [--plot FILE.svg] [--seed N] [--quick]\n"
    "                              [--time-scale K] [--seed-copies C] [--web [PORT]] [--hold]\n"
    "Runs one experiment on a swarm of this machine (a tracker, a seed and leechers, each its\n"
    "own process on loopback) and says in words what the mechanism bought. Under 90 s each,\n"
    "under 30 s with --quick.\n";

static const char epilog[] =
    "Experiments:\n"
    "  scaling             P2P and client-server distribution time D against N, with both\n"
    "                      Kurose & Ross bounds\n"
    "  rarest-first        the piece picker rarest, random and sequential, with a seed that\n"
    "                      leaves after uploading one copy's worth of bytes (--seed-copies)\n"
    "  tit-for-tat         a quarter of the leechers upload nothing: how much longer they take\n"
    "                      under tit-for-tat, and under a choker that serves peers in turn\n"
    "  optimistic-unchoke  a newcomer with nothing joins a running swarm: how long until its\n"
    "                      first piece, with the optimistic unchoke on and off\n"
    "  churn               a third of the leechers killed and restarted, some on new addresses\n"
    "\n"
    "The rules are the course notes' (4 slots, re-choke 10 s, optimistic unchoke 30 s). The time\n"
    "scale K divides every timer and multiplies every rate, the file staying the same, so the\n"
    "same swarm runs K times faster; the report gives K and the times at real speed.\n";

#define O(field) offsetof(struct experiment_opts, field)
static const struct opt_spec specs[] = {
    {.long_name = "json",
     .kind = OPT_STRING,
     .offset = O(json_file),
     .arg_name = "FILE",
     .help = "write the results as one JSON object"},
    {.long_name = "plot",
     .kind = OPT_STRING,
     .offset = O(plot_file),
     .arg_name = "FILE.svg",
     .help = "draw the experiment's figure as SVG"},
    {.long_name = "seed",
     .kind = OPT_LONG,
     .offset = O(seed),
     .arg_name = "N",
     .min = 1,
     .max = 2147483647,
     .has_seen = true,
     .seen_offset = O(seed_given),
     .help = "seed for the files, the peers' choices and the churn (replays a run)"},
    {.long_name = "quick",
     .kind = OPT_FLAG,
     .offset = O(quick),
     .help = "a smaller swarm that finishes in under 30 s"},
    {.long_name = "time-scale",
     .kind = OPT_DOUBLE,
     .offset = O(time_scale),
     .arg_name = "K",
     .min = 0.1,
     .max = 100,
     .help = "timers / K and rates * K (default: the experiment's own)"},
    {.long_name = "seed-copies",
     .kind = OPT_DOUBLE,
     .offset = O(seed_copies),
     .arg_name = "C",
     .min = 0.5,
     .max = 10,
     .help = "rarest-first: the seed leaves after uploading C copies' worth (default 1)"},
    {.long_name = "web",
     .kind = OPT_PORT,
     .offset = O(web),
     .arg_name = "PORT",
     .optional = "0",
     .help = "serve the live view as a web page on 127.0.0.1:PORT"},
    {.long_name = "hold",
     .kind = OPT_FLAG,
     .offset = O(hold),
     .help = "with --web, keep serving the page after the experiment until Ctrl-C"},
    {.long_name = "plain",
     .kind = OPT_FLAG,
     .offset = O(plain),
     .help = "plain progress lines even on a terminal"},
    {.long_name = "keep-files",
     .kind = OPT_FLAG,
     .offset = O(keep_files),
     .help = "keep the swarms' temporary folders, and say where they are"},
};
#undef O

static const struct opt_command command = {.name = "experiment",
                                           .usage = usage,
                                           .specs = specs,
                                           .nspecs = sizeof specs / sizeof specs[0],
                                           .epilog = epilog};

static const struct {
    const char *name;
    int (*run)(struct experiment *x);
} experiments[] = {
    {"scaling", experiment_scaling},
    {"rarest-first", experiment_rarest_first},
    {"tit-for-tat", experiment_tit_for_tat},
    {"optimistic-unchoke", experiment_optimistic_unchoke},
    {"churn", experiment_churn},
};

enum { NEXPERIMENTS = sizeof experiments / sizeof experiments[0] };

/* The experiment's seed, once chosen (the user's or a random one). */
static long experiment_seed;

void experiment_setup(struct experiment *x, struct swarm_opts *o, uint64_t size, uint64_t piece,
                      uint64_t base_seed_up, uint64_t base_peer_up, double default_scale)
{
    swarm_opts_defaults(o);
    x->scale = x->eo->time_scale > 0 ? x->eo->time_scale : default_scale;
    o->size = size;
    o->piece = piece;
    o->seed_up = base_seed_up;
    o->peer_up = base_peer_up;
    o->time_scale = x->scale;
    o->rechoke_ms = 10000; /* the notes' 10 s; swarm_rechoke_ms divides it by K */
    o->interval_s = 10;    /* the tracker's interval, also divided by K */
    o->plain = x->eo->plain;
    o->keep_files = x->eo->keep_files;
    o->seed = experiment_seed;
    o->seed_given = true;
    char fs[UNITS_BUFLEN], ps[UNITS_BUFLEN], us[UNITS_BUFLEN], ui[UNITS_BUFLEN];
    fprintf(x->out,
            "setting: a %s file in pieces of %s; at real speed the seed uploads %s and each "
            "leecher %s,\n  the re-choke comes every 10 s and the optimistic unchoke every 30 s."
            "\ntime scale K = %g: every timer / %g and every rate * %g, so this runs %g times "
            "faster;\n  times below are as measured, and '= N s real' multiplies them back.\n",
            units_format_size(size, fs, sizeof fs), units_format_size(piece, ps, sizeof ps),
            units_format_rate((double)base_seed_up, us, sizeof us),
            units_format_rate((double)base_peer_up, ui, sizeof ui), x->scale, x->scale, x->scale,
            x->scale);
    fflush(x->out);
}

int experiment_run(struct experiment *x, const struct swarm_opts *o, const struct swarm_plan *plan,
                   unsigned n, unsigned k, struct run_result *res)
{
    struct swarm_plan p = plan != NULL ? *plan : (struct swarm_plan){0};
    p.web = x->web;
    uint64_t run_seed = (uint64_t)experiment_seed * 1000003u + k;
    if (swarm_run(o, &p, x->self, o->mode, n, run_seed, x->out, res) < 0 || cli_stop_requested)
        return -1;
    return 0;
}

FILE *experiment_json_begin(struct experiment *x, struct json_out *j)
{
    if (x->eo->json_file == NULL)
        return NULL;
    FILE *f = fopen(x->eo->json_file, "w");
    if (f == NULL) {
        fprintf(stderr, "minitorrent experiment: cannot write %s: %s\n", x->eo->json_file,
                strerror(errno));
        return NULL;
    }
    json_out_init(j, f);
    json_begin_object(j);
    json_key(j, "experiment");
    json_string(j, x->name);
    json_key(j, "time_scale");
    json_number(j, x->scale);
    json_key(j, "seed");
    json_uint(j, (uint64_t)experiment_seed);
    json_key(j, "quick");
    json_bool(j, x->eo->quick);
    return f;
}

int experiment_json_end(struct experiment *x, struct json_out *j, FILE *f)
{
    if (f == NULL)
        return x->eo->json_file != NULL ? -1 : 0;
    json_end_object(j);
    int rc = json_out_finish(j);
    if (fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "minitorrent experiment: error writing %s\n", x->eo->json_file);
    else
        fprintf(x->out, "results written to %s\n", x->eo->json_file);
    return rc;
}

int experiment_plot(struct experiment *x, const struct svgplot *p)
{
    if (x->eo->plot_file == NULL)
        return 0;
    size_t len;
    char *svg = svgplot_render(p, &len);
    if (svg == NULL) {
        fprintf(stderr, "minitorrent experiment: cannot draw the plot: %s\n", strerror(errno));
        return -1;
    }
    int rc = swarm_write_file("experiment", x->eo->plot_file, svg, len);
    free(svg);
    if (rc == 0)
        fprintf(x->out, "plot written to %s\n", x->eo->plot_file);
    return rc;
}

void experiment_json_seconds(struct json_out *j, double s)
{
    if (s >= 0)
        json_number(j, s);
    else
        json_null(j);
}

double experiment_mean_finish(const struct run_result *res, const bool *pick, bool want,
                              double limit_s, unsigned *unfinished)
{
    double sum = 0;
    unsigned n = 0;
    *unfinished = 0;
    for (unsigned i = 0; i < res->peers; i++) {
        if (pick[i] != want)
            continue;
        if (res->finish[i] >= 0) {
            sum += res->finish[i];
        } else {
            sum += limit_s;
            (*unfinished)++;
        }
        n++;
    }
    return n > 0 ? sum / n : -1;
}

int cmd_experiment(int argc, char **argv)
{
    struct experiment_opts eo = {0};
    char *pos[1];
    int npos;
    enum opt_result r = opts_parse(&command, argc, argv, &eo, pos, 1, &npos);
    if (r != OPTS_OK)
        return r == OPTS_EXIT ? 0 : 2;
    if (npos != 1) {
        fprintf(stderr, "minitorrent experiment: which one? expected a NAME\n\n");
        opts_print_help(&command, stderr);
        return 2;
    }
    struct experiment x = {.eo = &eo, .name = pos[0], .out = stdout};
    int (*run)(struct experiment *) = NULL;
    for (size_t i = 0; i < NEXPERIMENTS; i++)
        if (strcmp(pos[0], experiments[i].name) == 0)
            run = experiments[i].run;
    if (run == NULL) {
        fprintf(stderr, "minitorrent experiment: no experiment '%s'\n\n%s", pos[0], epilog);
        return 2;
    }
    if (eo.seed_copies > 0 && run != experiment_rarest_first) {
        fprintf(stderr, "minitorrent experiment: --seed-copies is an option of rarest-first only\n");
        return 2;
    }
    char self[4096];
    if (swarm_find_self(self, sizeof self) < 0) {
        fprintf(stderr, "minitorrent experiment: cannot find the minitorrent program to start "
                        "the peers (run it with a path, e.g. bin/minitorrent)\n");
        return 1;
    }
    x.self = self;
    if (swarm_check_loopback_aliases("experiment") < 0)
        return 1;
    io_ignore_sigpipe();
    cli_catch_stop_signals();
    experiment_seed = eo.seed_given ? eo.seed : (long)(rand_u64() % 0x7fffffff + 1);
    fprintf(x.out, "== experiment %s%s: random seed %ld (replay with --seed %ld)\n", x.name,
            eo.quick ? " (quick)" : "", experiment_seed, experiment_seed);
    if (eo.web != NULL && (x.web = webview_start_for(x.out, "experiment", eo.web)) == NULL)
        return 1;
    int status = run(&x);
    if (cli_stop_requested) {
        webview_stop(x.web);
        fprintf(stderr, "minitorrent experiment: interrupted; every peer has been stopped\n");
        return 130;
    }
    webview_finish(x.web, eo.hold, x.out);
    return status;
}
