/*
 * svgplot.c - a line-and-point chart written as SVG text (see svgplot.h).
 *
 * The document is built in a growing string buffer. Every number is printed with a fixed number
 * of decimals, so the same data always gives the same bytes, and a test can compare output.
 * No <math.h>: the few powers of ten the ticks need are found by multiplying, which keeps the
 * core free of the extra -lm link flag some systems want.
 */
#include "svgplot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- A growing string ------------------------------------------------------------------------ */

struct sbuf {
    char *p;
    size_t len, cap;
    bool failed; /* an allocation failed: later appends do nothing, and render returns NULL */
};

/* Appends printf-style text, growing the buffer as needed. */
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap * 2 + (size_t)n + 1;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* Appends text with the five characters XML gives a meaning escaped, so a label such as
 * "N < 10 & more" cannot break the document. */
static void sb_text(struct sbuf *b, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            sb_printf(b, "&amp;");
            break;
        case '<':
            sb_printf(b, "&lt;");
            break;
        case '>':
            sb_printf(b, "&gt;");
            break;
        case '"':
            sb_printf(b, "&quot;");
            break;
        case '\'':
            sb_printf(b, "&apos;");
            break;
        default:
            sb_printf(b, "%c", *s);
        }
    }
}

/* ---- Axis arithmetic ------------------------------------------------------------------------- */

/* Returns true for an ordinary number: not NaN (which differs from itself) and not infinite
 * (infinity minus infinity is NaN). */
static bool is_number(double v)
{
    return v == v && (v - v) == 0.0;
}

double svgplot_tick_step(double max, int max_ticks)
{
    if (!is_number(max) || max <= 0 || max_ticks < 1)
        return 1.0;
    double raw = max / max_ticks;
    /* Find the power of ten p with p <= raw < 10p. The loops are bounded, so an absurd input
     * ends with an odd step rather than a hang. */
    double p = 1.0;
    for (int i = 0; i < 400 && p * 10 <= raw; i++)
        p *= 10;
    for (int i = 0; i < 400 && p > raw; i++)
        p /= 10;
    static const double mult[] = {1, 2, 5, 10};
    for (size_t i = 0; i < sizeof mult / sizeof mult[0]; i++)
        if (mult[i] * p * max_ticks >= max * (1 - 1e-9))
            return mult[i] * p;
    return 10 * p;
}

/* Returns the end of an axis that must show values up to max: the first tick at or above it. */
static double axis_end(double max, double step)
{
    double end = step;
    for (int i = 0; i < 1000 && end < max * (1 - 1e-9); i++)
        end += step;
    return end;
}

/* Returns how many decimals a tick label needs for this step: 0 for 1, 2, 5, 10...; 1 for 0.5. */
static int tick_decimals(double step)
{
    int d = 0;
    for (double s = step; s < 0.999 && d < 9; s *= 10)
        d++;
    return d;
}

/* ---- Drawing --------------------------------------------------------------------------------- */

struct frame {
    double left, right, top, bottom; /* the plot area in pixels */
    double x_end, y_end;             /* the data values at the right and top edges */
    double tick_px, text_px;         /* font sizes of tick values, and of every other text */
};

/* Average advance of a glyph of the generic sans-serif font, in ems. Text widths are unknown
 * without the font (a browser picks it), so boxes are sized from this generous average: DejaVu
 * Sans, the widest common default, averages about 0.6 em over lowercase text. */
#define GLYPH_EM 0.62

static double px(const struct frame *f, double x)
{
    return f->left + x / f->x_end * (f->right - f->left);
}

static double py(const struct frame *f, double y)
{
    return f->bottom - y / f->y_end * (f->bottom - f->top);
}

/* Returns the half-width of a marker: 4.5 px at the default sizes, growing with the text so
 * that a marker stays visible beside 18 px labels. */
static double marker_r(const struct frame *f)
{
    return f->text_px > 14 ? (double)(long)(f->text_px * 3.4 + 0.5) / 10 : 4.5;
}

/* Draws one marker of half-width r centred on (x, y) in pixels. */
static void marker(struct sbuf *b, enum svgplot_marker m, double x, double y, double r,
                   const char *color)
{
    if (m == SVGPLOT_SQUARE)
        sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%g\" height=\"%g\" fill=\"%s\"/>\n",
                  x - r, y - r, 2 * r, 2 * r, color);
    else
        sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\" fill=\"%s\"/>\n", x, y, r, color);
}

/* Draws the grid, the axes, their ticks with values, and the two axis labels. */
static void draw_axes(struct sbuf *b, const struct svgplot *p, const struct frame *f, double xstep,
                      double ystep)
{
    int xd = tick_decimals(xstep), yd = tick_decimals(ystep);
    sb_printf(b, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
    for (double v = ystep; v <= f->y_end * (1 + 1e-9); v += ystep)
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->left, py(f, v),
                  f->right, py(f, v));
    sb_printf(b, "</g>\n");

    /* Tick values: x below the axis, y to its left. */
    sb_printf(b, "<g font-size=\"%.0f\" fill=\"#222222\">\n", f->tick_px);
    for (double v = 0; v <= f->x_end * (1 + 1e-9); v += xstep)
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n", px(f, v),
                  f->bottom + 6 + f->tick_px, xd, v);
    for (double v = 0; v <= f->y_end * (1 + 1e-9); v += ystep)
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", f->left - 8,
                  py(f, v) + f->tick_px / 3, yd, v);
    sb_printf(b, "</g>\n<g stroke=\"black\" stroke-width=\"1\">\n");
    for (double v = 0; v <= f->x_end * (1 + 1e-9); v += xstep)
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px(f, v),
                  f->bottom, px(f, v), f->bottom + 5);
    for (double v = 0; v <= f->y_end * (1 + 1e-9); v += ystep)
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->left - 5,
                  py(f, v), f->left, py(f, v));
    sb_printf(b, "</g>\n");

    /* The axes themselves, drawn after the grid so they sit on top. */
    sb_printf(b,
              "<polyline points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" "
              "stroke=\"black\" stroke-width=\"1.5\"/>\n",
              f->left, f->top, f->left, f->bottom, f->right, f->bottom);

    sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (f->left + f->right) / 2,
              f->bottom + 14 + 2.14 * f->text_px);
    sb_text(b, p->x_label);
    sb_printf(b, "</text>\n");
    double cy = (f->top + f->bottom) / 2, lx = f->text_px * 1.43;
    sb_printf(b,
              "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.0f "
              "%.1f)\">",
              lx, cy, lx, cy);
    sb_text(b, p->y_label);
    sb_printf(b, "</text>\n");
}

/* The stroke of a series' line: solid and wide for a curve, thin and dashed for the join of a
 * point series. The legend draws the same strokes. */
static const char *line_stroke(enum svgplot_style style)
{
    return style == SVGPLOT_LINE ? "stroke-width=\"2.5\""
                                 : "stroke-width=\"1\" stroke-dasharray=\"4 3\"";
}

/* Returns the number of characters in a UTF-8 string (bytes that do not continue one). */
static size_t text_chars(const char *s)
{
    size_t n = 0;
    for (; s != NULL && *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A rectangle in pixels, for keeping labels off the legend and off each other. */
struct box {
    double x0, y0, x1, y1;
};

static bool overlaps(const struct box *a, const struct box *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Where the legend goes: a corner of the plot area, sized to its longest label. */
static struct box legend_box(const struct svgplot *p, const struct frame *f)
{
    double fs = f->text_px;
    size_t longest = 0;
    for (size_t i = 0; i < p->nseries; i++) {
        size_t n = text_chars(p->series[i].label);
        if (n > longest)
            longest = n;
    }
    /* The sample column is 3.3 em wide; the text after it is sized from the average glyph. */
    double w = fs * 4.2 + GLYPH_EM * fs * (double)longest, h = fs * 0.7 + fs * 1.43 * p->nseries;
    double x = f->left + 14, y = f->top + 10;
    if (p->legend == SVGPLOT_LEGEND_TOP_RIGHT || p->legend == SVGPLOT_LEGEND_BOTTOM_RIGHT)
        x = f->right - 14 - w;
    if (p->legend == SVGPLOT_LEGEND_BOTTOM_RIGHT)
        y = f->bottom - 10 - h;
    return (struct box){x, y, x + w, y + h};
}

enum { MAX_PLACED = 64 };

/* Labels already placed in this chart, and the legend: a new label avoids them. */
struct placed {
    struct box b[MAX_PLACED];
    size_t n;
};

/* Writes one point label near the marker at (x, y): right of it if there is room, else above
 * or below on the right, else on the left; the first spot that stays in the plot and clear of
 * the legend and the labels before it. */
static void point_label(struct sbuf *b, const char *text, double x, double y, const char *color,
                        const struct frame *f, struct placed *pl)
{
    double fs = f->text_px, r = marker_r(f), w = GLYPH_EM * fs * (double)text_chars(text);
    /* Candidate baselines: (left edge, baseline) of the text. */
    const double cand[][2] = {
        {x + r + 5, y + fs / 3},     {x + r + 3, y - r - 3},     {x + r + 3, y + r + fs},
        {x - r - 5 - w, y + fs / 3}, {x - r - 3 - w, y - r - 3}, {x - r - 3 - w, y + r + fs},
    };
    size_t ncand = sizeof cand / sizeof cand[0], pick = ncand;
    for (size_t c = 0; c < ncand && pick == ncand; c++) {
        struct box t = {cand[c][0], cand[c][1] - fs * 0.8, cand[c][0] + w, cand[c][1] + fs * 0.2};
        bool ok = t.x0 >= f->left && t.x1 <= f->right + r && t.y0 >= f->top - fs * 0.5 &&
                  t.y1 <= f->bottom;
        for (size_t k = 0; ok && k < pl->n; k++)
            ok = !overlaps(&t, &pl->b[k]);
        if (ok)
            pick = c;
    }
    if (pick == ncand)
        pick = cand[0][0] + w <= f->right + r ? 0 : 4; /* crowded: right, or above-left */
    if (pl->n < MAX_PLACED)
        pl->b[pl->n++] = (struct box){cand[pick][0], cand[pick][1] - fs * 0.8, cand[pick][0] + w,
                                      cand[pick][1] + fs * 0.2};
    sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-weight=\"bold\">", cand[pick][0],
              cand[pick][1], color);
    sb_text(b, text);
    sb_printf(b, "</text>\n");
}

/* Draws one series: a polyline through its finite points (not for MARKERS), markers for a
 * point series, and its point labels (NULL for none) beside the markers. */
static void draw_series(struct sbuf *b, const struct svgplot_series *s, const char *const *labels,
                        const struct frame *f, struct placed *pl)
{
    sb_printf(b, "<g>\n");
    if (s->style != SVGPLOT_MARKERS) {
        sb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" %s points=\"", s->color,
                  line_stroke(s->style));
        bool first = true;
        for (size_t i = 0; i < s->n; i++) {
            if (!is_number(s->x[i]) || !is_number(s->y[i]))
                continue;
            sb_printf(b, "%s%.1f,%.1f", first ? "" : " ", px(f, s->x[i]), py(f, s->y[i]));
            first = false;
        }
        sb_printf(b, "\"/>\n");
    }
    if (s->style == SVGPLOT_LINE) {
        sb_printf(b, "</g>\n");
        return;
    }
    double r = marker_r(f);
    for (size_t i = 0; i < s->n; i++)
        if (is_number(s->x[i]) && is_number(s->y[i]))
            marker(b, s->marker, px(f, s->x[i]), py(f, s->y[i]), r, s->color);
    for (size_t i = 0; labels != NULL && i < s->n; i++)
        if (is_number(s->x[i]) && is_number(s->y[i]) && labels[i] != NULL)
            point_label(b, labels[i], px(f, s->x[i]), py(f, s->y[i]), s->color, f, pl);
    sb_printf(b, "</g>\n");
}

/* Draws the legend (by default in the plot's top-left corner, where rising curves start low).
 * Each row shows what its series draws: the line, the marker, or the marker on its dashed
 * join. */
static void draw_legend(struct sbuf *b, const struct svgplot *p, const struct frame *f)
{
    struct box lb = legend_box(p, f);
    double x = lb.x0, y = lb.y0, fs = f->text_px, row = fs * 1.43, sample = fs * 3.3;
    sb_printf(b,
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
              "stroke=\"#888888\"/>\n",
              x, y, lb.x1 - lb.x0, lb.y1 - lb.y0);
    for (size_t i = 0; i < p->nseries; i++) {
        const struct svgplot_series *s = &p->series[i];
        double ry = y + fs * 0.35 + row * ((double)i + 0.5);
        if (s->style != SVGPLOT_MARKERS)
            sb_printf(b,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "%s/>\n",
                      x + fs * 0.55, ry, x + sample - fs * 0.55, ry, s->color,
                      line_stroke(s->style));
        if (s->style != SVGPLOT_LINE)
            marker(b, s->marker, x + sample / 2, ry, marker_r(f), s->color);
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + sample + fs * 0.25, ry + fs / 3);
        sb_text(b, s->label);
        sb_printf(b, "</text>\n");
    }
}

char *svgplot_render(const struct svgplot *p, size_t *len)
{
    if (p == NULL || p->series == NULL || p->nseries == 0) {
        errno = EINVAL;
        return NULL;
    }
    double xmax = 0, ymax = 0;
    for (size_t i = 0; i < p->nseries; i++) {
        const struct svgplot_series *s = &p->series[i];
        if (s->n > 0 && (s->x == NULL || s->y == NULL)) {
            errno = EINVAL;
            return NULL;
        }
        for (size_t k = 0; k < s->n; k++) {
            if (!is_number(s->x[k]) || !is_number(s->y[k]))
                continue;
            if (s->x[k] > xmax)
                xmax = s->x[k];
            if (s->y[k] > ymax)
                ymax = s->y[k];
        }
    }
    int width = p->width > 0 ? p->width : 720, height = p->height > 0 ? p->height : 450;
    /* Labelled points need room above the highest one for their text. */
    bool labelled = p->labels != NULL && p->nlabels > 0;
    for (size_t i = 0; labelled && i < p->nlabels; i++)
        if (p->labels[i].series >= p->nseries) {
            errno = EINVAL;
            return NULL;
        }
    double xstep = svgplot_tick_step(xmax, 10),
           ystep = svgplot_tick_step(labelled ? ymax * 1.08 : ymax, 6);
    double fs = p->font_px > 0 ? p->font_px : 0;
    struct frame f = {
        .left = 80,
        .right = width - 24,
        .top = p->title != NULL ? 48 : 20,
        .bottom = height - 64,
        .x_end = axis_end(xmax, xstep),
        .y_end = axis_end(labelled ? ymax * 1.08 : ymax, ystep),
        .tick_px = fs > 0 ? fs : 12,
        .text_px = fs > 0 ? fs : 14,
    };
    if (fs > 0) {
        /* Margins in proportion to the text: the rotated y label and the widest tick value on
         * the left, the tick values and the x label below, the title above. */
        int digits = 1;
        for (double v = f.y_end; v >= 10 && digits < 12; v /= 10)
            digits++;
        int yd = tick_decimals(ystep);
        double tick_w = GLYPH_EM * fs * (double)(digits + (yd > 0 ? yd + 1 : 0));
        f.left = fs * 2.2 + 12 + tick_w;
        f.right = width - fs * 1.2;
        f.top = p->title != NULL ? fs * 2.6 + 8 : fs;
        f.bottom = height - (fs * 3.3 + 10);
    }
    struct sbuf b = {.p = malloc(4096), .cap = 4096};
    if (b.p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    b.p[0] = '\0';
    sb_printf(&b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"%.0f\">\n"
              "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
              width, height, width, height, f.text_px, width, height);
    if (p->title != NULL) {
        sb_printf(&b, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"%.0f\">",
                  (double)width / 2, fs > 0 ? fs * 1.6 : 28.0, f.text_px + 2);
        sb_text(&b, p->title);
        sb_printf(&b, "</text>\n");
    }
    draw_axes(&b, p, &f, xstep, ystep);
    struct placed pl = {.n = 1};
    pl.b[0] = legend_box(p, &f);
    for (size_t i = 0; i < p->nseries; i++) {
        const char *const *labels = NULL;
        for (size_t k = 0; labelled && k < p->nlabels; k++)
            if (p->labels[k].series == i)
                labels = p->labels[k].text;
        draw_series(&b, &p->series[i], labels, &f, &pl);
    }
    draw_legend(&b, p, &f);
    sb_printf(&b, "</svg>\n");
    if (b.failed) {
        free(b.p);
        errno = ENOMEM;
        return NULL;
    }
    if (len != NULL)
        *len = b.len;
    return b.p;
}
