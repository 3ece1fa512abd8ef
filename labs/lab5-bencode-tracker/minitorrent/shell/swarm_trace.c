/*
 * swarm_trace.c - `minitorrent swarm --trace FILE`: every peer's trace in one file, and what it
 * says about the leechers' upload.
 *
 * Each peer writes its own trace (shell/trace.h) into the run's folder while it runs. After the
 * run, when every peer has written its last line, this file copies them into FILE, one line per
 * peer per 100 ms, each with the peer's name and its time from the release:
 *
 *   # run peers=32 mode=p2p piece=262144 peer_up=1048576 D_s=22.41
 *   trace peer=p3 rel_ms=1200 mono_ms=... t_ms=... up=... (the peer's own fields)
 *
 * and sums the leechers' samples between 10 % and 90 % of D (the start-up and the end game left
 * out): how much of their upload limit they used, and why the rest went unused.
 */
#include "swarm_run.h"
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void swarm_trace_peer_path(const struct run *r, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.trace", r->cs.tmp, name);
}

/* Copies one peer's trace into out and adds its samples to res's sums: all of them to the
 * uploaded bytes, and a leecher's inside [from_ms, to_ms] of the release to the window. A
 * missing trace (a peer that never started) adds nothing; a malformed line is an error. Returns
 * 0, or -1 with a message in err. */
static int merge_one(struct run *r, unsigned k, FILE *out, uint64_t release_ms, double from_ms,
                     double to_ms, struct run_result *res, char *err, size_t errlen)
{
    const char *name = r->vp[k].name;
    char path[1200];
    swarm_trace_peer_path(r, name, path, sizeof path);
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
    char line[1024];
    int rc = 0;
    unsigned lineno = 0;
    while (rc == 0 && fgets(line, sizeof line, in) != NULL) {
        lineno++;
        if (line[0] == '#')
            continue;
        struct trace_sample s;
        const char *rest;
        if (strchr(line, '\n') == NULL || trace_parse_line(line, &s, &rest) < 0) {
            snprintf(err, errlen, "%s's trace, line %u: not a trace line", name, lineno);
            rc = -1;
            break;
        }
        double rel = (double)s.mono_ms - (double)release_ms;
        fprintf(out, "trace peer=%s rel_ms=%.0f %s", name, rel, rest);
        res->trace_uploaded += s.up;
        res->trace_pick_us += s.pick_us;
        if (k > 0 && rel > from_ms && rel <= to_ms)
            trace_totals_add(&res->trace_window, &s);
    }
    if (rc == 0 && ferror(in)) {
        snprintf(err, errlen, "cannot read %s", path);
        rc = -1;
    }
    fclose(in);
    return rc;
}

int swarm_trace_merge(struct run *r, struct run_result *res)
{
    const char *path = r->o->trace_file;
    res->traced = false;
    memset(&res->trace_window, 0, sizeof res->trace_window);
    res->trace_uploaded = res->trace_pick_us = 0;
    /* cmd_swarm.c emptied the file before the first run; the runs follow each other in it. */
    FILE *out = fopen(path, "a");
    if (out == NULL) {
        fprintf(stderr, "minitorrent swarm: cannot write the trace %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    uint64_t release_ms = (uint64_t)(r->t0 * 1000.0 + 0.5);
    double d_ms = res->distribution_s > 0 ? res->distribution_s * 1000.0 : 0;
    fprintf(out, "# run peers=%u mode=%s piece=%" PRIu64 " peer_up=%" PRIu64 " D_s=%.2f\n", r->n,
            swarm_mode_name(r->mode), r->o->piece, swarm_scaled_rate(r->o, r->o->peer_up),
            res->distribution_s);
    char err[1400] = "";
    int rc = 0;
    for (unsigned k = 0; k <= r->n && rc == 0; k++)
        rc = merge_one(r, k, out, release_ms, 0.1 * d_ms, 0.9 * d_ms, res, err, sizeof err);
    if (fclose(out) == EOF && rc == 0) {
        snprintf(err, sizeof err, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc < 0) {
        fprintf(stderr, "minitorrent swarm: trace: %s\n", err);
        return -1;
    }
    res->traced = true;
    return 0;
}

void swarm_report_trace(FILE *out, const struct run_result *res, const char *path)
{
    if (!res->traced)
        return;
    const struct trace_totals *w = &res->trace_window;
    fprintf(out, "trace written to %s\n", path);
    if (w->allowed > 0) {
        fprintf(out,
                "  leechers' upload between 10 %% and 90 %% of D: %.1f %% of their limit used "
                "(%" PRIu64 " samples)\n",
                trace_totals_used_pct(w), w->samples);
        fprintf(out, "  upload left unused, in %% of the limit, by cause:\n");
        for (int c = TRACE_BUSY + 1; c < TRACE_CAUSES; c++)
            fprintf(out, "    %-46s %5.1f %%\n", trace_cause_text((enum trace_cause)c),
                    100.0 * (double)w->unused_by[c] / (double)w->allowed);
    } else {
        fprintf(out, "  the leechers have no upload limit: no utilisation to measure\n");
    }
    char a[UNITS_BUFLEN], b[UNITS_BUFLEN];
    fprintf(out, "  uploaded, by the traces: %s (%" PRIu64 " bytes); by the status lines: %s\n",
            units_format_size(res->trace_uploaded, a, sizeof a), res->trace_uploaded,
            units_format_size(res->uploaded, b, sizeof b));
    fprintf(out, "  time in the pickers, every peer together: %.1f ms\n",
            (double)res->trace_pick_us / 1000.0);
}
