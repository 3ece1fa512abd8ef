/*
 * swarm_report.c - what a swarm run reports: the finish times, D against the Kurose & Ross
 * bound, the table of several runs, their JSON and the textbook's figure as SVG.
 *
 * A lower bound is a promise about every possible schedule: no swarm can beat it. So a measured
 * D below its bound never means a fast swarm; it means the measurement is wrong (the clock
 * started after the first bytes moved, or a rate limit let a burst through). The report says so
 * loudly and prints no ratio for such a run, since a ratio below 1 would look like a result.
 */
#include "swarm.h"
#include "json_out.h"
#include "svgplot.h"
#include "units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool swarm_below_bound(const struct run_result *res)
{
    /* Times are printed to 1/100 s, so a D within half of that of its bound reads as equal and
     * is not called an error; anything further below is one. */
    return res->distribution_s >= 0 && res->bound_s > 0 &&
           res->distribution_s < res->bound_s - 0.005;
}

void swarm_report_run(FILE *out, const struct swarm_view_peer *vp, const struct run_result *res)
{
    fprintf(out, "\nfinish times (s after the release):");
    for (unsigned i = 0; i < res->peers; i++) {
        if (i % 8 == 0)
            fprintf(out, "\n ");
        if (res->finish[i] >= 0)
            fprintf(out, " %s %.2f", vp[1 + i].name, res->finish[i]);
        else
            fprintf(out, " %s -", vp[1 + i].name);
    }
    fprintf(out, "\n");
    if (res->distribution_s >= 0)
        fprintf(out, "distribution time D (the last finish): %.2f s\n", res->distribution_s);
    else
        fprintf(out, "distribution time D: not measured (%u of %u leechers finished)\n",
                res->completed, res->peers);
    if (res->bound_s > 0) {
        fprintf(out, "K&R lower bound (%s): %.2f s\n  limited by %s\n",
                res->mode == MODE_P2P ? "P2P" : "client-server", res->bound_s,
                kr_limit_text(res->limit));
        if (swarm_below_bound(res))
            fprintf(out,
                    "MEASUREMENT ERROR: D = %.3f s is below its lower bound %.3f s, which no "
                    "swarm can beat.\n  The clock or a rate limit is wrong; this run proves "
                    "nothing, and no ratio is given.\n",
                    res->distribution_s, res->bound_s);
        else if (res->distribution_s >= 0)
            fprintf(out, "D / bound = %.2f\n", res->distribution_s / res->bound_s);
    } else {
        fprintf(out, "K&R lower bound: none (with these unlimited rates the formula gives 0)\n");
    }
    fprintf(out, "every copy verified byte for byte: %s\n", res->all_verified ? "yes" : "NO");
    /* The bound assumes every byte uploaded is a byte someone needed; copies sent twice in the
     * end game (and pieces sent again after a bad hash) are what the swarm paid on top. */
    uint64_t copies = (uint64_t)res->peers * res->file_bytes;
    if (res->uploaded > 0 && copies > 0) {
        char up[UNITS_BUFLEN], need[UNITS_BUFLEN];
        fprintf(out, "uploaded in all: %s for %u copies of the file (%s), %.1f %% more\n",
                units_format_size(res->uploaded, up, sizeof up), res->peers,
                units_format_size(copies, need, sizeof need),
                res->uploaded > copies ? 100.0 * (double)(res->uploaded - copies) / (double)copies
                                       : 0.0);
    }
    fflush(out);
}

void swarm_report_table(FILE *out, const struct run_result *res, size_t nres)
{
    fprintf(out, "\n%5s  %-14s %10s %10s %7s\n", "N", "mode", "D (s)", "bound (s)", "ratio");
    for (size_t i = 0; i < nres; i++) {
        fprintf(out, "%5u  %-14s ", res[i].peers, swarm_mode_name(res[i].mode));
        if (res[i].distribution_s >= 0)
            fprintf(out, "%10.2f ", res[i].distribution_s);
        else
            fprintf(out, "%10s ", "-");
        fprintf(out, "%10.2f ", res[i].bound_s);
        if (swarm_below_bound(&res[i]))
            fprintf(out, "%7s  MEASUREMENT ERROR: D below its lower bound\n", "-");
        else if (res[i].distribution_s >= 0 && res[i].bound_s > 0)
            fprintf(out, "%7.2f\n", res[i].distribution_s / res[i].bound_s);
        else
            fprintf(out, "%7s\n", "-");
    }
}

void swarm_json_result(struct json_out *j, const struct run_result *res)
{
    json_begin_object(j);
    json_key(j, "mode");
    json_string(j, swarm_mode_name(res->mode));
    json_key(j, "peers");
    json_uint(j, res->peers);
    json_key(j, "file_bytes");
    json_uint(j, res->file_bytes);
    json_key(j, "piece_bytes");
    json_uint(j, res->piece_bytes);
    json_key(j, "seed_up_Bps");
    json_uint(j, res->seed_up);
    json_key(j, "peer_up_Bps");
    json_uint(j, res->mode == MODE_CS ? 0 : res->peer_up);
    json_key(j, "peer_down_Bps");
    json_uint(j, res->peer_down);
    json_key(j, "distribution_time_s");
    if (res->distribution_s >= 0)
        json_number(j, res->distribution_s);
    else
        json_null(j);
    json_key(j, "bound_s");
    json_number(j, res->bound_s);
    json_key(j, "ratio");
    if (res->distribution_s >= 0 && res->bound_s > 0 && !swarm_below_bound(res))
        json_number(j, res->distribution_s / res->bound_s);
    else
        json_null(j);
    json_key(j, "below_bound");
    json_bool(j, swarm_below_bound(res));
    json_key(j, "finish_times_s");
    json_begin_array(j);
    for (unsigned i = 0; i < res->peers; i++) {
        if (res->finish[i] >= 0)
            json_number(j, res->finish[i]);
        else
            json_null(j);
    }
    json_end_array(j);
    json_key(j, "all_verified");
    json_bool(j, res->all_verified);
    json_key(j, "uploaded_bytes");
    if (res->uploaded > 0)
        json_number(j, (double)res->uploaded);
    else
        json_null(j);
    /* With --trace: the leechers' upload between 10 % and 90 % of D, used and unused by cause,
     * in percent of their limit (swarm_trace.c). */
    if (res->traced && res->trace_window.allowed > 0) {
        const struct trace_totals *w = &res->trace_window;
        json_key(j, "trace_upload_used_pct");
        json_number(j, trace_totals_used_pct(w));
        json_key(j, "trace_upload_unused_pct");
        json_begin_object(j);
        for (int c = TRACE_BUSY + 1; c < TRACE_CAUSES; c++) {
            json_key(j, trace_cause_name((enum trace_cause)c));
            json_number(j, 100.0 * (double)w->unused_by[c] / (double)w->allowed);
        }
        json_end_object(j);
    }
    json_end_object(j);
}

int swarm_write_json(const char *path, const struct run_result *res, size_t nres, bool list)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "minitorrent swarm: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct json_out j;
    json_out_init(&j, f);
    if (list)
        json_begin_array(&j);
    for (size_t i = 0; i < nres; i++)
        swarm_json_result(&j, &res[i]);
    if (list)
        json_end_array(&j);
    int rc = json_out_finish(&j);
    if (fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "minitorrent swarm: error writing %s\n", path);
    return rc;
}

int swarm_write_file(const char *cmd, const char *path, const char *text, size_t len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "minitorrent %s: cannot write %s: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    int rc = fwrite(text, 1, len, f) == len ? 0 : -1;
    if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "minitorrent %s: error writing %s\n", cmd, path);
    return rc;
}

/* Formats a rate for the plot's title, saying "unlimited" for 0. */
static const char *rate_text(uint64_t r, char *buf, size_t cap)
{
    if (r == 0) {
        snprintf(buf, cap, "unlimited");
        return buf;
    }
    return units_format_rate((double)r, buf, cap);
}

/* Draws the textbook's figure: both bounds as curves over N = 1..max, and every measured D as a
 * point, P2P as circles and client-server as squares. */
int swarm_write_plot(const char *path, const struct swarm_opts *o, const struct run_result *res,
                     size_t nres)
{
    unsigned nmax = 4;
    for (size_t i = 0; i < nres; i++)
        if (res[i].peers > nmax)
            nmax = res[i].peers;
    double *bx = calloc(nmax, sizeof *bx), *bcs = calloc(nmax, sizeof *bcs),
           *bp2p = calloc(nmax, sizeof *bp2p);
    double px_[2][2 * MAX_PEER_COUNTS], py_[2][2 * MAX_PEER_COUNTS];
    size_t pn[2] = {0, 0};
    int rc = -1;
    char *svg = NULL;
    if (bx == NULL || bcs == NULL || bp2p == NULL)
        goto out;
    uint64_t us = swarm_scaled_rate(o, o->seed_up), ui = swarm_scaled_rate(o, o->peer_up),
             di = swarm_scaled_rate(o, o->peer_down);
    for (unsigned k = 1; k <= nmax; k++) {
        struct kr_params kp;
        kr_params_uniform(&kp, o->size, k, us, ui, di);
        bx[k - 1] = k;
        bcs[k - 1] = kr_bound_client_server(&kp, NULL);
        bp2p[k - 1] = kr_bound_p2p(&kp, NULL);
    }
    for (size_t i = 0; i < nres && i < 2 * MAX_PEER_COUNTS; i++) {
        if (res[i].distribution_s < 0)
            continue;
        int m = res[i].mode == MODE_P2P ? 0 : 1;
        px_[m][pn[m]] = res[i].peers;
        py_[m][pn[m]++] = res[i].distribution_s;
    }
    static const char blue[] = "#1f5fa8", red[] = "#c0392b";
    struct svgplot_series s[4] = {
        {"client-server: K&R bound", SVGPLOT_LINE, SVGPLOT_SQUARE, red, bx, bcs, nmax},
        {"client-server: measured D", SVGPLOT_POINTS, SVGPLOT_SQUARE, red, px_[1], py_[1], pn[1]},
        {"P2P: K&R bound", SVGPLOT_LINE, SVGPLOT_CIRCLE, blue, bx, bp2p, nmax},
        {"P2P: measured D", SVGPLOT_POINTS, SVGPLOT_CIRCLE, blue, px_[0], py_[0], pn[0]},
    };
    char title[200], fs[UNITS_BUFLEN], uss[UNITS_BUFLEN], uis[UNITS_BUFLEN];
    snprintf(title, sizeof title, "Distribution time of a %s file: u_s = %s, u_i = %s",
             units_format_size(o->size, fs, sizeof fs), rate_text(us, uss, sizeof uss),
             rate_text(ui, uis, sizeof uis));
    struct svgplot plot = {
        .title = title,
        .x_label = "N (peers downloading the file)",
        .y_label = "distribution time D (seconds)",
        .series = s,
        .nseries = 4,
    };
    size_t len;
    svg = svgplot_render(&plot, &len);
    if (svg == NULL)
        goto out;
    rc = swarm_write_file("swarm", path, svg, len);
out:
    free(svg);
    free(bx);
    free(bcs);
    free(bp2p);
    return rc;
}
