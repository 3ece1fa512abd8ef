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
};

static double px(const struct frame *f, double x)
{
    return f->left + x / f->x_end * (f->right - f->left);
}

static double py(const struct frame *f, double y)
{
    return f->bottom - y / f->y_end * (f->bottom - f->top);
}

/* Draws one marker centred on (x, y) in pixels. */
static void marker(struct sbuf *b, enum svgplot_marker m, double x, double y, const char *color)
{
    if (m == SVGPLOT_SQUARE)
        sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"%s\"/>\n",
                  x - 4.5, y - 4.5, color);
    else
        sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>\n", x, y, color);
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
    sb_printf(b, "<g font-size=\"12\" fill=\"#222222\">\n");
    for (double v = 0; v <= f->x_end * (1 + 1e-9); v += xstep)
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n", px(f, v),
                  f->bottom + 18, xd, v);
    for (double v = 0; v <= f->y_end * (1 + 1e-9); v += ystep)
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", f->left - 8,
                  py(f, v) + 4, yd, v);
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
              f->bottom + 44);
    sb_text(b, p->x_label);
    sb_printf(b, "</text>\n");
    double cy = (f->top + f->bottom) / 2;
    sb_printf(b,
              "<text x=\"20\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 20 %.1f)\">",
              cy, cy);
    sb_text(b, p->y_label);
    sb_printf(b, "</text>\n");
}

/* Draws one series: a polyline through its finite points, and markers for a point series. */
static void draw_series(struct sbuf *b, const struct svgplot_series *s, const struct frame *f)
{
    sb_printf(b, "<g>\n<polyline fill=\"none\" stroke=\"%s\" %s points=\"", s->color,
              s->style == SVGPLOT_LINE ? "stroke-width=\"2.5\""
                                       : "stroke-width=\"1\" stroke-dasharray=\"4 3\"");
    bool first = true;
    for (size_t i = 0; i < s->n; i++) {
        if (!is_number(s->x[i]) || !is_number(s->y[i]))
            continue;
        sb_printf(b, "%s%.1f,%.1f", first ? "" : " ", px(f, s->x[i]), py(f, s->y[i]));
        first = false;
    }
    sb_printf(b, "\"/>\n");
    if (s->style == SVGPLOT_POINTS)
        for (size_t i = 0; i < s->n; i++)
            if (is_number(s->x[i]) && is_number(s->y[i]))
                marker(b, s->marker, px(f, s->x[i]), py(f, s->y[i]), s->color);
    sb_printf(b, "</g>\n");
}

/* Draws the legend in the plot's top-left corner, where both curves start low. */
static void draw_legend(struct sbuf *b, const struct svgplot *p, const struct frame *f)
{
    double x = f->left + 14, y = f->top + 10;
    size_t longest = 0;
    for (size_t i = 0; i < p->nseries; i++) {
        size_t n = p->series[i].label != NULL ? strlen(p->series[i].label) : 0;
        if (n > longest)
            longest = n;
    }
    /* Text widths are unknown without a font, so the box is sized from an average glyph width
     * of 7 pixels at 13 px; a generous guess keeps the text inside the box. */
    double w = 52 + 7.0 * (double)longest, h = 10 + 20.0 * (double)p->nseries;
    sb_printf(b,
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
              "stroke=\"#888888\"/>\n",
              x, y, w, h);
    for (size_t i = 0; i < p->nseries; i++) {
        const struct svgplot_series *s = &p->series[i];
        double ry = y + 15 + 20.0 * (double)i;
        if (s->style == SVGPLOT_LINE)
            sb_printf(b,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-width=\"2.5\"/>\n",
                      x + 8, ry, x + 38, ry, s->color);
        else
            marker(b, s->marker, x + 23, ry, s->color);
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + 46, ry + 4.5);
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
    double xstep = svgplot_tick_step(xmax, 10), ystep = svgplot_tick_step(ymax, 6);
    struct frame f = {
        .left = 80,
        .right = width - 24,
        .top = p->title != NULL ? 48 : 20,
        .bottom = height - 64,
        .x_end = axis_end(xmax, xstep),
        .y_end = axis_end(ymax, ystep),
    };

    struct sbuf b = {.p = malloc(4096), .cap = 4096};
    if (b.p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    b.p[0] = '\0';
    sb_printf(&b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"14\">\n"
              "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
              width, height, width, height, width, height);
    if (p->title != NULL) {
        sb_printf(&b, "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">",
                  (double)width / 2);
        sb_text(&b, p->title);
        sb_printf(&b, "</text>\n");
    }
    draw_axes(&b, p, &f, xstep, ystep);
    for (size_t i = 0; i < p->nseries; i++)
        draw_series(&b, &p->series[i], &f);
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
