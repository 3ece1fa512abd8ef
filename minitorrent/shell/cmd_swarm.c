/*
 * cmd_swarm.c - `minitorrent swarm`: a whole BitTorrent swarm on this machine, measured against
 * the Kurose & Ross bound on distribution time.
 *
 * The course notes claim that the time to give a file to N peers grows linearly with N when one
 * server sends every copy, but levels off with P2P, because every downloader also uploads. This
 * command runs the experiment for real, with real BitTorrent v1 on the wire: a tracker, a seed
 * and N leechers, each its own process on its own loopback address (swarm_run.c), shown live
 * (swarm_view.c), then D, the bound and their ratio (swarm_report.c).
 *
 * With --mode client-server the leechers upload nothing, so the seed plays the server and the
 * same code measures the other curve. With a list (--peers 2,4,8) it runs each N in both modes
 * and can draw the textbook's figure (--plot, core/svgplot.c).
 *
 * Processes (swarm_children.c): every child is started with fork + exec and put in a process
 * group of its own, so Ctrl-C in the terminal reaches only this command, which then stops the
 * children in order: each gets SIGTERM, then SIGKILL if it has not gone after a deadline, always
 * by its PID. Nothing is left running when the command returns, whether the swarm finished,
 * failed or was interrupted.
 *
 * This file holds only the command: one run per N (and mode), and the summary.
 */
#include "swarm.h"
#include "cli.h"
#include "commands.h"
#include "io.h"
#include "randbytes.h"
#include "webview.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cmd_swarm(int argc, char **argv)
{
    struct swarm_opts o;
    int rc = swarm_parse_options(argc, argv, &o);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    char self[4096];
    if (swarm_find_self(self, sizeof self) < 0) {
        fprintf(stderr, "minitorrent swarm: cannot find the minitorrent program to start the "
                        "peers (run it with a path, e.g. bin/minitorrent)\n");
        return 1;
    }
    if (swarm_check_loopback_aliases("swarm") < 0)
        return 1;
    /* When the SVG goes to standard output, everything for people goes to stderr. */
    FILE *out = o.plot_file != NULL && strcmp(o.plot_file, "-") == 0 ? stderr : stdout;
    io_ignore_sigpipe();
    cli_catch_stop_signals();
    if (!o.seed_given)
        o.seed = (long)(rand_u64() % 0x7fffffff + 1);
    fprintf(out, "random seed %ld (replay with --seed %ld)\n", o.seed, o.seed);

    /* The trace's file is emptied now, so a path that cannot be written is said before any run,
     * and the runs of a list of N follow each other in it (swarm_trace.c). */
    if (o.trace_file != NULL) {
        FILE *tf = fopen(o.trace_file, "w");
        if (tf == NULL || fclose(tf) == EOF) {
            fprintf(stderr, "minitorrent swarm: cannot write the trace %s: %s\n", o.trace_file,
                    strerror(errno));
            return 1;
        }
    }

    static struct swarm_plan plan;
    if (o.web != NULL && (plan.web = webview_start_for(out, "swarm", o.web)) == NULL)
        return 1;

    /* One run per N, or for a list each N in both modes: the two curves of the figure. */
    static struct run_result res[2 * MAX_PEER_COUNTS];
    size_t nres = 0;
    int status = 0;
    for (size_t k = 0; k < o.npeer_counts && !cli_stop_requested; k++) {
        for (int m = 0; m < 2; m++) {
            int mode = o.peers_is_list ? (m == 0 ? MODE_P2P : MODE_CS) : o.mode;
            if (!o.peers_is_list && m == 1)
                break;
            uint64_t run_seed = (uint64_t)o.seed * 1000003u + nres;
            struct run_result *rr = &res[nres];
            if (swarm_run(&o, &plan, self, mode, o.peer_counts[k], run_seed, out, rr) < 0) {
                status = 1;
                break;
            }
            nres++;
            if (!rr->all_verified || swarm_below_bound(rr))
                status = 1;
        }
        if (status != 0)
            break;
    }
    if (cli_stop_requested) {
        webview_stop(plan.web);
        fprintf(stderr, "minitorrent swarm: interrupted; every peer has been stopped\n");
        return 130;
    }
    if (nres > 1)
        swarm_report_table(out, res, nres);
    if (o.json_file != NULL && nres > 0) {
        if (swarm_write_json(o.json_file, res, nres, o.peers_is_list) < 0)
            status = 1;
        else
            fprintf(out, "results written to %s\n", o.json_file);
    }
    if (o.plot_file != NULL && nres > 0) {
        if (swarm_write_plot(o.plot_file, &o, res, nres) < 0)
            status = 1;
        else if (out != stderr)
            fprintf(out, "plot written to %s\n", o.plot_file);
    }
    webview_finish(plan.web, o.hold, out);
    return status;
}
