/*
 * distplot - draws deck 4's distribution-time figure from a measurement.
 *
 *   distplot MEASUREMENT.json OUTDIR
 *
 * MEASUREMENT.json is what `minitorrent swarm --peers 2,4,8,16,32 --json FILE` writes: a list of
 * runs, each with its mode ("p2p" or "client-server"), its number of peers, the rates, and the
 * measured distribution time D. distplot writes three files into OUTDIR:
 *
 *   distribution-time-p2p.svg  P2P: the Kurose & Ross bound as a line, each measured D as a
 *                              marker labelled with its ratio to the bound;
 *   distribution-time-cs.svg   the same for client-server;
 *   distribution-time.txt      the numbers, as a table for the slide after the figure.
 *
 * Two panels, each on its own scale, because on one axis the client-server times (up to about
 * 130 s at N = 32) flatten the P2P ones (4 to 14 s) into a line along the bottom, and the
 * distance between a P2P point and its bound, the thing the lecture is about, disappears. The
 * bounds come from the toolkit's own minitorrent/core/bound.c and the drawing from svgplot.c,
 * with 18 px text so that the figure reads on a projector at 1280x720.
 *
 * A measured D below its lower bound is a measurement error (the clock started late, say), not
 * a result: distplot then stops with a message and writes nothing, so no slide ever shows a
 * ratio below 1. Measure again instead.
 *
 * The JSON is read by a reader that knows this one shape: a flat list of flat objects with
 * string, number, null and number-list values. A program that takes JSON from anywhere would use
 * a full parser; this tool reads only what the toolkit itself writes.
 */
#include "bound.h"
#include "svgplot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_RUNS = 64 };

/* One run of the swarm, as the JSON gives it. */
struct run {
    int p2p; /* 1 for "p2p", 0 for "client-server" */
    unsigned peers;
    double file_bytes, seed_up, peer_up, peer_down;
    double d; /* measured distribution time in seconds, or -1 when the run did not finish */
};

/* Prints a message and stops: this is a build tool, and a half-drawn figure helps nobody. */
static void die(const char *what, const char *detail)
{
    fprintf(stderr, "distplot: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* Reads a whole file into a NUL-terminated string, or stops. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die(path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    size_t n;
    while (s != NULL && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *t = realloc(s, cap *= 2);
            if (t == NULL)
                free(s);
            s = t;
        }
    }
    fclose(f);
    if (s == NULL)
        die("out of memory", NULL);
    s[len] = '\0';
    return s;
}

/* Finds "key": in the object text [obj, end) and returns a pointer to its value, or NULL. */
static const char *value_of(const char *obj, const char *end, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(obj, pat);
    if (p == NULL || p >= end)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    return p;
}

/* Reads a number field; returns -1 for null and stops when the field is missing or malformed. */
static double number_of(const char *obj, const char *end, const char *key)
{
    const char *v = value_of(obj, end, key);
    if (v == NULL)
        die("a run in the measurement has no field", key);
    if (strncmp(v, "null", 4) == 0)
        return -1;
    char *after;
    double x = strtod(v, &after);
    if (after == v || x < 0)
        die("a run in the measurement has a bad value for", key);
    return x;
}

/* Reads the list of runs; returns how many. */
static size_t read_runs(const char *text, struct run *runs)
{
    size_t n = 0;
    for (const char *p = strchr(text, '{'); p != NULL; p = strchr(p, '{')) {
        const char *end = strchr(p, '}');
        if (end == NULL)
            die("the measurement ends inside a run", NULL);
        if (n == MAX_RUNS)
            die("the measurement has too many runs", NULL);
        const char *mode = value_of(p, end, "mode");
        if (mode == NULL)
            die("a run in the measurement has no field", "mode");
        struct run *r = &runs[n++];
        if (strncmp(mode, "\"p2p\"", 5) == 0)
            r->p2p = 1;
        else if (strncmp(mode, "\"client-server\"", 15) == 0)
            r->p2p = 0;
        else
            die("a run in the measurement has an unknown mode", NULL);
        double peers = number_of(p, end, "peers");
        if (peers < 1 || peers > 1000)
            die("a run in the measurement has a bad number of peers", NULL);
        r->peers = (unsigned)peers;
        r->file_bytes = number_of(p, end, "file_bytes");
        r->seed_up = number_of(p, end, "seed_up_Bps");
        r->peer_up = number_of(p, end, "peer_up_Bps");
        r->peer_down = number_of(p, end, "peer_down_Bps");
        r->d = number_of(p, end, "distribution_time_s");
        if (r->file_bytes <= 0 || r->seed_up <= 0)
            die("a run in the measurement has no file size or seed rate", NULL);
        p = end + 1;
    }
    if (n == 0)
        die("the measurement holds no runs", NULL);
    return n;
}

/* The Kurose & Ross bound for a run's set-up with k peers, from the toolkit's own bound.c. */
static double bound(const struct run *r, unsigned k, int p2p)
{
    struct kr_params kp;
    kr_params_uniform(&kp, (uint64_t)r->file_bytes, k, (uint64_t)r->seed_up,
                      (uint64_t)(p2p ? r->peer_up : 0), (uint64_t)r->peer_down);
    return p2p ? kr_bound_p2p(&kp, NULL) : kr_bound_client_server(&kp, NULL);
}

/* Writes text to OUTDIR/NAME through a temporary file. */
static void write_out(const char *dir, const char *name, const char *text, size_t len)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0 || rename(tmp, path) != 0)
        die(path, strerror(errno));
}

/* Draws one panel: the bound over N = 1..nmax and the measured points with their ratios. */
static char *panel(const struct run *runs, size_t n, int p2p, unsigned nmax, size_t *len)
{
    static double bx[1000], by[1000], mx[MAX_RUNS], my[MAX_RUNS];
    static char ratio_buf[MAX_RUNS][16];
    static const char *labels[MAX_RUNS];
    const struct run *any = NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (runs[i].p2p != p2p || runs[i].d < 0)
            continue;
        any = &runs[i];
        mx[m] = runs[i].peers;
        my[m] = runs[i].d;
        snprintf(ratio_buf[m], sizeof ratio_buf[m], "\xc3\x97%.2f",
                 runs[i].d / bound(&runs[i], runs[i].peers, p2p));
        labels[m] = ratio_buf[m];
        m++;
    }
    if (any == NULL)
        die(p2p ? "the measurement has no finished P2P run"
                : "the measurement has no finished client-server run",
            NULL);
    for (unsigned k = 1; k <= nmax; k++) {
        bx[k - 1] = k;
        by[k - 1] = bound(any, k, p2p);
    }
    static const char blue[] = "#0b3d91", red[] = "#c0392b";
    struct svgplot_series s[2] = {
        {"lower bound", SVGPLOT_LINE, SVGPLOT_CIRCLE, p2p ? blue : red, bx, by, nmax},
        {"measured D (\xc3\x97 bound)", SVGPLOT_MARKERS, p2p ? SVGPLOT_CIRCLE : SVGPLOT_SQUARE,
         p2p ? blue : red, mx, my, m},
    };
    struct svgplot_labels l = {1, labels};
    struct svgplot plot = {
        .title = p2p ? "P2P" : "client-server",
        .x_label = "N (peers)",
        .y_label = "D (seconds)",
        .width = 580,
        .height = 420,
        .series = s,
        .nseries = 2,
        .font_px = 18,
        .labels = &l,
        .nlabels = 1,
        /* Each in the corner its curve leaves empty: the P2P bound levels off low (bottom
         * right is free), the client-server one climbs to the top right (top left is free). */
        .legend = p2p ? SVGPLOT_LEGEND_BOTTOM_RIGHT : SVGPLOT_LEGEND_TOP_LEFT,
    };
    char *svg = svgplot_render(&plot, len);
    if (svg == NULL)
        die("cannot draw the figure", strerror(errno));
    return svg;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: distplot MEASUREMENT.json OUTDIR\n");
        return 2;
    }
    char *text = slurp(argv[1]);
    static struct run runs[MAX_RUNS];
    size_t n = read_runs(text, runs);
    free(text);

    /* A measurement below its lower bound is wrong: say so, and draw nothing. */
    unsigned nmax = 2;
    for (size_t i = 0; i < n; i++) {
        if (runs[i].peers > nmax)
            nmax = runs[i].peers;
        if (runs[i].d < 0)
            continue;
        double b = bound(&runs[i], runs[i].peers, runs[i].p2p);
        if (runs[i].d < b) {
            fprintf(stderr,
                    "distplot: %s, N = %u: measured D = %.2f s is BELOW its lower bound %.2f s.\n"
                    "distplot: no transfer beats a lower bound, so this measurement is wrong (a "
                    "clock that started late?).\n"
                    "distplot: nothing was drawn; fix the measurement and run `make slides-plot` "
                    "again.\n",
                    runs[i].p2p ? "P2P" : "client-server", runs[i].peers, runs[i].d, b);
            return 1;
        }
    }

    size_t len;
    char *svg = panel(runs, n, 1, nmax, &len);
    write_out(argv[2], "distribution-time-p2p.svg", svg, len);
    free(svg);
    svg = panel(runs, n, 0, nmax, &len);
    write_out(argv[2], "distribution-time-cs.svg", svg, len);
    free(svg);

    /* The table: one line per N, both modes side by side. */
    char table[8192];
    size_t tl = (size_t)snprintf(table, sizeof table,
                                 "  N   P2P: D (s)   bound  ratio   client-server: D (s)   bound  "
                                 "ratio\n");
    for (unsigned k = 1; k <= nmax && tl < sizeof table - 200; k++) {
        const struct run *p = NULL, *c = NULL;
        for (size_t i = 0; i < n; i++)
            if (runs[i].peers == k && runs[i].d >= 0) {
                if (runs[i].p2p)
                    p = &runs[i];
                else
                    c = &runs[i];
            }
        if (p == NULL && c == NULL)
            continue;
        char ps[64] = "", cs[64] = "";
        if (p != NULL)
            snprintf(ps, sizeof ps, "%12.2f %7.2f %6.2f", p->d, bound(p, k, 1),
                     p->d / bound(p, k, 1));
        else
            snprintf(ps, sizeof ps, "%12s %7s %6s", "-", "-", "-");
        if (c != NULL)
            snprintf(cs, sizeof cs, "%22.2f %7.2f %6.2f", c->d, bound(c, k, 0),
                     c->d / bound(c, k, 0));
        else
            snprintf(cs, sizeof cs, "%22s %7s %6s", "-", "-", "-");
        tl += (size_t)snprintf(table + tl, sizeof table - tl, "%3u %s %s\n", k, ps, cs);
    }
    write_out(argv[2], "distribution-time.txt", table, tl);
    return 0;
}
