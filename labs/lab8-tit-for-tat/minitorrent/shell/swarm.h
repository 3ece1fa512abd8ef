/*
 * swarm.h - a whole BitTorrent swarm on this machine: what `minitorrent swarm` and `minitorrent
 * experiment` share.
 *
 * The work is split one concept per file:
 *   swarm_opts.c     the swarm's options: defaults, the option table, the time scale
 *   swarm_run.c      one run: the file, the tracker, the seed and the leechers, the loop that
 *                    reads their status lines, and the result
 *   swarm_churn.c    peers killed and restarted during a run (--churn)
 *   swarm_report.c   what a run prints, and its JSON and SVG
 *   swarm_trace.c    --trace: the peers' traces merged into one file, and their summary
 *   swarm_view.c     the live table (the output while a run goes on)
 *   swarm_children.c starting, reading and stopping the child processes
 *   cmd_swarm.c      the command: a run per N and mode, and the summary
 *   experiment_*.c   the experiments, each a few runs of the same swarm with one thing changed
 */
#ifndef SWARM_H
#define SWARM_H

#include "bound.h"
#include "swarm_children.h"
#include "swarm_view.h"
#include "trace.h"

struct webview;

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum swarm_mode { MODE_P2P, MODE_CS };

enum { MAX_PEER_COUNTS = 16, MAX_PEERS = 120, SWARM_SAMPLES = 4000 };

/* The choices the children's peers make; the names are those of the get/seed options. */
enum swarm_picker { PICK_RAREST, PICK_RANDOM, PICK_SEQUENTIAL };
enum swarm_choker { CHOKE_TIT_FOR_TAT, CHOKE_ROUND_ROBIN };

struct swarm_opts {
    unsigned peer_counts[MAX_PEER_COUNTS];
    size_t npeer_counts;
    bool peers_is_list;
    uint64_t size, piece;
    uint64_t seed_up, peer_up, peer_down; /* bytes per second; 0: unlimited */
    int mode;                             /* enum swarm_mode */
    bool churn;
    const char *json_file, *plot_file;
    long seed; /* 1 to 2^31 - 1 */
    bool seed_given;
    uint64_t rechoke_ms; /* 0: leave the children's default (10 s) */
    long upload_slots;   /* 0: leave the children's default (4) */
    long pipeline;       /* requests outstanding per connection; 0: the children's (64) */
    long interval_s;
    long timeout_s; /* 0: automatic */
    bool keep_files, plain;
    int picker;             /* enum swarm_picker */
    int choker;             /* enum swarm_choker */
    int optimistic;         /* 1: on (the default), 0: off */
    int upload_turns;       /* 1: on (the default), 0: off (core/turns.h) */
    double time_scale;      /* K: timers / K, rates * K; 1 is real time */
    const char *web;        /* --web [PORT]: the port to serve the live page on; NULL: none */
    bool hold;              /* keep the page up after the run until Ctrl-C */
    const char *trace_file; /* --trace FILE: every peer's trace, merged (swarm_trace.c) */
};

/* Fills o with the defaults of `minitorrent swarm`. */
void swarm_opts_defaults(struct swarm_opts *o);

/* Parses `minitorrent swarm`'s command line into o (defaults first). Returns 0, 1 after --help
 * or --version, or -1 after a usage error. */
int swarm_parse_options(int argc, char **argv, struct swarm_opts *o);

/* Parses "8" or "2,4,8,16" into o->peer_counts. Returns 0, or -1 with the reason in why. */
int swarm_parse_peer_list(const char *s, struct swarm_opts *o, char *why, size_t whylen);

/* The re-choke interval the children get once the time scale is applied, in ms (10 s / K by
 * default). */
uint64_t swarm_rechoke_ms(const struct swarm_opts *o);

/* A rate once the time scale is applied (0, unlimited, stays 0). */
uint64_t swarm_scaled_rate(const struct swarm_opts *o, uint64_t rate);

const char *swarm_mode_name(int mode);
const char *swarm_picker_name(int picker);
const char *swarm_choker_name(int choker);

/* ---- one run ----------------------------------------------------------------------------- */

/* What an experiment changes in a run, beyond the options: every field's zero is "as usual". */
struct swarm_plan {
    bool free_rider[MAX_PEERS];  /* this leecher uploads nothing (--no-upload) */
    double join_at_s[MAX_PEERS]; /* start this leecher so long after the release (a newcomer) */
    double seed_copies;          /* stop the seed once it has uploaded this many times the file's
                                    size (1: one copy's worth); 0: it stays to the end */
    double stall_s;              /* after the seed left with a piece lost, end the run when no
                                    leecher gained a piece for this long (0: never) */
    struct webview *web;         /* publish the live state to this page, or NULL */
    int watch;                   /* sample this leecher's pieces over time (index + 1; 0: none) */
};

struct run_result {
    int mode;
    unsigned peers;
    uint64_t file_bytes, piece_bytes, seed_up, peer_up, peer_down;
    double finish[MAX_PEERS];      /* seconds after the release; negative: did not finish */
    double first_piece[MAX_PEERS]; /* when it first held a verified piece; negative: never */
    double distribution_s;         /* the last finish; negative when some leecher did not */
    double bound_s;
    enum kr_limit limit;
    bool all_verified;
    unsigned completed;     /* leechers with a verified copy */
    uint64_t uploaded;      /* block bytes the seed and the leechers sent; 0: not counted (churn) */
    bool ran;               /* false when the run could not start or was interrupted */
    double seed_left_s;     /* when the seed left (seed_copies); negative: it stayed */
    uint64_t seed_uploaded; /* what the seed had uploaded when it left, or at the end */
    int min_avail_after_seed_left; /* copies of the rarest piece among the leechers when the
                                      seed left; -1: it did not leave */
    /* The availability of the rarest piece over time: copies among the running peers (the seed
     * included while it runs), sampled every 100 ms of the scaled clock. */
    double sample_t[SWARM_SAMPLES];
    unsigned sample_min[SWARM_SAMPLES];
    unsigned sample_watch[SWARM_SAMPLES]; /* the watched leecher's verified pieces */
    size_t nsamples;
    unsigned pieces;      /* pieces in the torrent */
    unsigned pieces_lost; /* pieces no leecher held when the run ended, after the seed left: lost
                             for good (at the moment it left, blocks still on their way could yet
                             complete a piece, so that count would overstate the loss) */
    /* With --trace: the leechers' samples between 10 % and 90 % of D, and the block bytes every
     * peer's trace counted as uploaded over the whole run (to agree with `uploaded`). */
    bool traced;
    struct trace_totals trace_window;
    uint64_t trace_uploaded;
    uint64_t trace_pick_us; /* time in the pickers of every peer, the whole run */
};

/* Runs one swarm of n leechers in the given mode and fills *res. plan may be NULL. Returns 0
 * when it ran to the end (res->all_verified says whether every copy was right), or -1 when it
 * could not start or was interrupted. Every child is stopped and the temporary folder removed
 * before it returns. */
int swarm_run(const struct swarm_opts *o, const struct swarm_plan *plan, const char *self, int mode,
              unsigned n, uint64_t seed, FILE *out, struct run_result *res);

/* Finds this program's file, to start copies of it. Returns 0, or -1. */
int swarm_find_self(char *out, size_t cap);

/* Checks that this machine lets a socket bind 127.0.0.2, explaining what to do if not. */
int swarm_check_loopback_aliases(const char *cmd);

/* ---- the trace (swarm_trace.c) ---------------------------------------------------------- */

struct run;

/* The path of peer NAME's own trace in the run's folder. */
void swarm_trace_peer_path(const struct run *r, const char *name, char *out, size_t cap);

/* Appends the traces of the run's peers to o->trace_file, each line with the peer's name and its
 * time from the release, and fills res's trace summary. Returns 0, or -1 after a message. */
int swarm_trace_merge(struct run *r, struct run_result *res);

/* Prints the trace's summary of a run (nothing when it was not traced). */
void swarm_report_trace(FILE *out, const struct run_result *res, const char *path);

/* ---- the report -------------------------------------------------------------------------- */

/* Prints a run's results: finish times, D, the bound and their ratio. A D below its bound is
 * reported as a measurement error, loudly, and no ratio is printed for it. */
void swarm_report_run(FILE *out, const struct swarm_view_peer *vp, const struct run_result *res);

/* Prints the table of several runs (N, mode, D, bound, ratio). */
void swarm_report_table(FILE *out, const struct run_result *res, size_t nres);

/* Returns whether D is below its lower bound: the measurement is wrong, not the swarm fast. */
bool swarm_below_bound(const struct run_result *res);

struct json_out;

/* Writes one run as a JSON object (mode, peers, sizes, rates, D, bound, ratio, finish times). */
void swarm_json_result(struct json_out *j, const struct run_result *res);

/* Writes the runs as JSON (one object, or a list). Returns 0 or -1 (after a message). */
int swarm_write_json(const char *path, const struct run_result *res, size_t nres, bool list);

/* Draws distribution time against N with both bounds. Returns 0 or -1 (after a message). */
int swarm_write_plot(const char *path, const struct swarm_opts *o, const struct run_result *res,
                     size_t nres);

/* Writes an SVG text to path ("-": standard output). Returns 0 or -1 (after a message). */
int swarm_write_file(const char *cmd, const char *path, const char *text, size_t len);

#endif
