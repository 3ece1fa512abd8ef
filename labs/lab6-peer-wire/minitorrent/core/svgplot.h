/*
 * svgplot.h - a small line-and-point chart as a self-contained SVG document.
 *
 * `minitorrent swarm --plot` draws the course notes' figure: distribution time against the number
 * of peers N, with the measured P2P and client-server times as points and the two Kurose & Ross
 * bounds as curves. SVG is plain text, opens in any browser, and needs no library, so the chart
 * is written here by hand: an axis box, "nice" tick values (1, 2 or 5 times a power of ten),
 * labelled axes, a legend, and one polyline or set of markers per series.
 *
 * Sans-I/O: svgplot_render() returns the document as a string; the caller writes the file. The
 * output refers to no fonts, images or URLs beyond the generic font-family "sans-serif", so it
 * looks the same offline, in a slide deck, or pasted into a report.
 */
#ifndef SVGPLOT_H
#define SVGPLOT_H

#include <stddef.h>

enum svgplot_style {
    SVGPLOT_LINE,    /* a solid polyline through the points, in x order as given */
    SVGPLOT_POINTS,  /* a marker at each point, joined by a thin dashed line */
    SVGPLOT_MARKERS, /* a marker at each point and no line: measurements, not a curve */
};

enum svgplot_marker {
    SVGPLOT_CIRCLE,
    SVGPLOT_SQUARE,
};

struct svgplot_series {
    const char *label; /* shown in the legend */
    enum svgplot_style style;
    enum svgplot_marker marker; /* for SVGPLOT_POINTS */
    const char *color;          /* an SVG colour: "#1f5fa8", "black" */
    const double *x, *y;        /* n points; points with a NaN or infinite value are skipped */
    size_t n;
};

/* Short texts written beside the markers of one POINTS or MARKERS series, such as the ratio of
 * each measurement to its bound. (Kept out of struct svgplot_series so that callers that fill a
 * series by position keep compiling.) */
struct svgplot_labels {
    size_t series;           /* index into svgplot.series */
    const char *const *text; /* series[series].n texts; a NULL entry labels nothing */
};

/* Where the legend sits in the plot area. */
enum svgplot_legend {
    SVGPLOT_LEGEND_TOP_LEFT, /* the default: rising curves leave this corner empty */
    SVGPLOT_LEGEND_TOP_RIGHT,
    SVGPLOT_LEGEND_BOTTOM_RIGHT, /* for curves that rise fast and level off */
};

struct svgplot {
    const char *title;   /* above the chart; may be NULL */
    const char *x_label; /* with its unit, e.g. "N (peers downloading)" */
    const char *y_label; /* with its unit, e.g. "distribution time D (s)" */
    int width, height;   /* pixels; 0 picks 720 x 450 */
    const struct svgplot_series *series;
    size_t nseries;
    /* Optional, 0 for the defaults. font_px sets every text's size (ticks, axis labels, legend,
     * point labels; the title 2 px more), and the margins grow with it: 18 or more keeps a
     * chart readable on a projector. The defaults are 12 px ticks and 14 px labels. */
    double font_px;
    const struct svgplot_labels *labels; /* optional: nlabels sets of point labels, placed
                                            clear of the legend and of each other */
    size_t nlabels;
    enum svgplot_legend legend; /* optional: the legend's corner (default top left) */
};

/* Returns the chart as a NUL-terminated SVG document in memory the caller frees, and its length
 * in *len (len may be NULL). Both axes start at 0, as in the textbook's figure, and end at a nice
 * value above the largest point (and above the point labels). The legend shows every series with
 * what it draws: a line, a marker, or a marker on the dashed line that joins the points. Returns
 * NULL with errno set (EINVAL for a plot without series or with a series lacking its arrays,
 * ENOMEM). */
char *svgplot_render(const struct svgplot *p, size_t *len);

/* Returns the tick spacing for an axis from 0 to max: the smallest of 1, 2 or 5 times a power of
 * ten that needs at most max_ticks steps. Exposed for the tests. */
double svgplot_tick_step(double max, int max_ticks);

#endif
