/*
 * check_svgplot.c - the SVG chart writer (core/svgplot.c).
 *
 * An SVG that a browser refuses shows nothing on the projector, so besides the tick arithmetic
 * these tests check the document's shape: it starts and ends right, every element that is
 * opened is closed, text is escaped, points land inside the plot area, and nothing refers to an
 * outside resource.
 */
#include "testlib.h"
#include "svgplot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counts the occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* A plot like the one `minitorrent swarm` draws: two bound curves and two sets of points. */
static char *sample(size_t *len, const char *title)
{
    static const double x[] = {1, 2, 4, 8, 16};
    static const double cs[] = {4, 8, 16, 32, 64};
    static const double p2p[] = {4, 5.3, 6.4, 7.1, 7.5};
    static const double mx[] = {2, 4, 8, 16};
    static const double mcs[] = {8.4, 16.9, 33.0, 66.1};
    static const double mp2p[] = {6.0, 8.1, 9.9, 11.2};
    struct svgplot_series s[] = {
        {"client-server bound", SVGPLOT_LINE, SVGPLOT_SQUARE, "#c0392b", x, cs, 5},
        {"client-server measured", SVGPLOT_POINTS, SVGPLOT_SQUARE, "#c0392b", mx, mcs, 4},
        {"P2P bound", SVGPLOT_LINE, SVGPLOT_CIRCLE, "#1f5fa8", x, p2p, 5},
        {"P2P measured", SVGPLOT_POINTS, SVGPLOT_CIRCLE, "#1f5fa8", mx, mp2p, 4},
    };
    struct svgplot p = {.title = title,
                        .x_label = "N (peers)",
                        .y_label = "D (seconds)",
                        .series = s,
                        .nseries = 4};
    return svgplot_render(&p, len);
}

START_TEST(svgplot_tick_steps)
{
    ck_assert(svgplot_tick_step(10, 10) == 1);
    ck_assert(svgplot_tick_step(16, 10) == 2);
    ck_assert(svgplot_tick_step(32, 10) == 5);
    ck_assert(svgplot_tick_step(66.1, 6) == 20);
    ck_assert(svgplot_tick_step(100, 6) == 20);
    ck_assert(svgplot_tick_step(0.9, 6) > 0.19 && svgplot_tick_step(0.9, 6) < 0.21);
    ck_assert(svgplot_tick_step(3600, 6) == 1000);
    /* Empty or absurd axes still get a usable step. */
    ck_assert(svgplot_tick_step(0, 6) == 1);
    ck_assert(svgplot_tick_step(-5, 6) == 1);
    ck_assert(svgplot_tick_step(1.0 / 0.0, 6) == 1);
}
END_TEST

START_TEST(svgplot_document_shape)
{
    size_t len = 0;
    char *svg = sample(&len, "Distribution time");
    ck_assert_ptr_nonnull(svg);
    ck_assert_uint_eq(len, strlen(svg));
    ck_assert(strncmp(svg, "<?xml version=\"1.0\"", 19) == 0);
    ck_assert_ptr_nonnull(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ck_assert(len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
    ck_assert_int_eq(count(svg, "<svg"), 1);
    ck_assert_int_eq(count(svg, "<g>") + count(svg, "<g "), count(svg, "</g>"));
    ck_assert_int_eq(count(svg, "<text"), count(svg, "</text>"));
    /* Self-contained: no links, images, style sheets or named fonts. */
    ck_assert_int_eq(count(svg, "http"), 1); /* the xmlns, which is a name, not a link */
    ck_assert_ptr_null(strstr(svg, "href"));
    ck_assert_ptr_null(strstr(svg, "<image"));
    ck_assert_ptr_null(strstr(svg, "@import"));
    ck_assert_ptr_nonnull(strstr(svg, "font-family=\"sans-serif\""));
    free(svg);
}
END_TEST

START_TEST(svgplot_has_labels_legend_and_points)
{
    char *svg = sample(NULL, "Distribution time");
    ck_assert_ptr_nonnull(svg);
    ck_assert_ptr_nonnull(strstr(svg, ">N (peers)</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">D (seconds)</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">Distribution time</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">client-server bound</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">P2P measured</text>"));
    /* Four P2P points as circles plus one in the legend; four squares plus one likewise. */
    ck_assert_int_eq(count(svg, "<circle"), 5);
    ck_assert_int_eq(count(svg, "<rect x="), 5 + 1); /* and the legend's box */
    /* The y axis reaches a nice value above 66.1 (step 20: 80), and shows it. */
    ck_assert_ptr_nonnull(strstr(svg, ">80</text>"));
    ck_assert_ptr_null(strstr(svg, ">100</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">16</text>"));
    free(svg);
}
END_TEST

/* Reads every cx="..." cy="..." pair and checks it lies inside the default 720 x 450 canvas. */
START_TEST(svgplot_points_inside_canvas)
{
    char *svg = sample(NULL, NULL);
    ck_assert_ptr_nonnull(svg);
    int seen = 0;
    for (const char *p = strstr(svg, "<circle cx=\""); p != NULL;
         p = strstr(p + 1, "<circle cx=\"")) {
        double cx, cy;
        ck_assert_int_eq(sscanf(p, "<circle cx=\"%lf\" cy=\"%lf\"", &cx, &cy), 2);
        ck_assert(cx >= 0 && cx <= 720 && cy >= 0 && cy <= 450);
        seen++;
    }
    ck_assert_int_eq(seen, 5);
    /* The largest x (16) sits on the right edge of the plot area, the smallest y near the
     * bottom: the mapping is not upside down. */
    ck_assert_ptr_nonnull(strstr(svg, "696.0,"));
    free(svg);
}
END_TEST

START_TEST(svgplot_escapes_text)
{
    static const double x[] = {1}, y[] = {1};
    struct svgplot_series s = {"a<b & \"c\"", SVGPLOT_POINTS, SVGPLOT_CIRCLE, "black", x, y, 1};
    struct svgplot p = {
        .title = "T<1>", .x_label = "x & y", .y_label = "'y'", .series = &s, .nseries = 1};
    char *svg = svgplot_render(&p, NULL);
    ck_assert_ptr_nonnull(svg);
    ck_assert_ptr_nonnull(strstr(svg, ">a&lt;b &amp; &quot;c&quot;</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">T&lt;1&gt;</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">x &amp; y</text>"));
    ck_assert_ptr_nonnull(strstr(svg, ">&apos;y&apos;</text>"));
    ck_assert_ptr_null(strstr(svg, "a<b"));
    free(svg);
}
END_TEST

START_TEST(svgplot_skips_missing_values)
{
    double nan = 0.0 / 0.0;
    const double x[] = {1, 2, 3}, y[] = {1, nan, 3};
    struct svgplot_series s = {"s", SVGPLOT_POINTS, SVGPLOT_SQUARE, "black", x, y, 3};
    struct svgplot p = {.x_label = "x", .y_label = "y", .series = &s, .nseries = 1};
    char *svg = svgplot_render(&p, NULL);
    ck_assert_ptr_nonnull(svg);
    ck_assert_ptr_null(strstr(svg, "nan"));
    ck_assert_ptr_null(strstr(svg, "inf"));
    ck_assert_int_eq(count(svg, "width=\"9\""), 2 + 1); /* two points and the legend's */
    free(svg);
}
END_TEST

START_TEST(svgplot_same_data_same_bytes)
{
    size_t la, lb;
    char *a = sample(&la, "x"), *b = sample(&lb, "x");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(a, b, la) == 0);
    free(a);
    free(b);
}
END_TEST

START_TEST(svgplot_rejects_bad_input)
{
    struct svgplot p = {.x_label = "x", .y_label = "y"};
    errno = 0;
    ck_assert_ptr_null(svgplot_render(&p, NULL));
    ck_assert_int_eq(errno, EINVAL);
    struct svgplot_series s = {"s", SVGPLOT_LINE, SVGPLOT_CIRCLE, "black", NULL, NULL, 3};
    p.series = &s;
    p.nseries = 1;
    errno = 0;
    ck_assert_ptr_null(svgplot_render(&p, NULL));
    ck_assert_int_eq(errno, EINVAL);
    /* An empty series is fine: the axes alone, from 0 to 1. */
    s.n = 0;
    char *svg = svgplot_render(&p, NULL);
    ck_assert_ptr_nonnull(svg);
    free(svg);
}
END_TEST

/* The client-server panel of the slides: markers crowded at small N, each with a ratio label,
 * 18 px text, the legend top left. */
static char *crowded(size_t *len, enum svgplot_legend legend, size_t label_series)
{
    static const double x[] = {1, 2, 4, 8, 16, 32};
    static const double b[] = {4, 8, 16, 32, 64, 128};
    static const double mx[] = {2, 4, 8, 16, 32};
    static const double my[] = {8.06, 16.05, 32.05, 64.21, 128.7};
    static const char *const ratio[] = {"x1.01", "x1.00", "x1.00", "x1.00", "x1.01"};
    struct svgplot_series s[] = {
        {"lower bound", SVGPLOT_LINE, SVGPLOT_SQUARE, "#c0392b", x, b, 6},
        {"measured D", SVGPLOT_MARKERS, SVGPLOT_SQUARE, "#c0392b", mx, my, 5},
    };
    struct svgplot_labels l = {label_series, ratio};
    struct svgplot p = {.title = "client-server",
                        .x_label = "N (peers)",
                        .y_label = "D (seconds)",
                        .width = 580,
                        .height = 420,
                        .series = s,
                        .nseries = 2,
                        .font_px = 18,
                        .labels = &l,
                        .nlabels = 1,
                        .legend = legend};
    return svgplot_render(&p, len);
}

/* Every font-size in the document is at least min; returns the smallest. */
static double smallest_font(const char *svg)
{
    double least = 1e9;
    for (const char *p = strstr(svg, "font-size=\""); p != NULL; p = strstr(p + 1, "font-size=\""))
        if (atof(p + 11) < least)
            least = atof(p + 11);
    return least;
}

START_TEST(svgplot_font_option_sets_every_text_size)
{
    char *big = crowded(NULL, SVGPLOT_LEGEND_TOP_LEFT, 1), *dflt = sample(NULL, "t");
    ck_assert_ptr_nonnull(big);
    ck_assert_ptr_nonnull(dflt);
    ck_assert_msg(smallest_font(big) >= 18, "a text of %g px with font_px 18", smallest_font(big));
    /* Without the option the chart keeps its old sizes: 12 px ticks. */
    ck_assert(smallest_font(dflt) == 12);
    free(big);
    free(dflt);
}
END_TEST

/* A POINTS series draws a dashed join; the legend must show that line too, not only the
 * marker. A MARKERS series draws no line at all. */
START_TEST(svgplot_legend_shows_every_drawn_line)
{
    char *svg = sample(NULL, "t");
    ck_assert_ptr_nonnull(svg);
    /* Two POINTS series: two dashed joins in the plot and two in the legend. */
    ck_assert_int_eq(count(svg, "stroke-dasharray=\"4 3\""), 4);
    free(svg);
    svg = crowded(NULL, SVGPLOT_LEGEND_TOP_LEFT, 1);
    ck_assert_ptr_nonnull(svg);
    ck_assert_int_eq(count(svg, "<polyline fill=\"none\""), 1); /* the bound only */
    ck_assert_int_eq(count(svg, "stroke-dasharray"), 0);
    free(svg);
}
END_TEST

/* Reads the bold point labels' positions and checks that no two of them, nor a label and the
 * legend, overlap (boxes as the renderer estimates them: 0.62 em a glyph, 1 em high). */
START_TEST(svgplot_point_labels_clear_of_legend_and_each_other)
{
    /* The two corners this rising curve leaves empty (top right holds its last point, which no
     * label placement can save: choose the legend's corner for the data). */
    static const enum svgplot_legend corners[] = {SVGPLOT_LEGEND_TOP_LEFT,
                                                  SVGPLOT_LEGEND_BOTTOM_RIGHT};
    for (int corner = 0; corner < 2; corner++) {
        char *svg = crowded(NULL, corners[corner], 1);
        ck_assert_ptr_nonnull(svg);
        double lx, ly, lw, lh;
        const char *r = strstr(svg, "fill=\"white\" stroke=\"#888888\"");
        ck_assert_ptr_nonnull(r);
        while (r > svg && strncmp(r, "<rect", 5) != 0)
            r--;
        ck_assert_int_eq(
            sscanf(r, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &lx, &ly, &lw, &lh),
            4);
        double x[8], y[8];
        int n = 0;
        for (const char *p = strstr(svg, "<text x="); p != NULL; p = strstr(p + 1, "<text x=")) {
            const char *gt = strchr(p, '>');
            if (strstr(p, "font-weight=\"bold\"") == NULL || strstr(p, "font-weight") > gt)
                continue;
            ck_assert_int_lt(n, 8);
            ck_assert_int_eq(sscanf(p, "<text x=\"%lf\" y=\"%lf\"", &x[n], &y[n]), 2);
            n++;
        }
        ck_assert_int_eq(n, 5);
        double w = 0.62 * 18 * 5;
        for (int i = 0; i < n; i++) {
            ck_assert_msg(
                !(x[i] < lx + lw && lx < x[i] + w && y[i] - 14.4 < ly + lh && ly < y[i] + 3.6),
                "legend corner %d: label %d at %.1f,%.1f lies on the legend", corner, i, x[i],
                y[i]);
            for (int k = 0; k < i; k++)
                ck_assert_msg(!(x[i] < x[k] + w && x[k] < x[i] + w && y[i] - 14.4 < y[k] + 3.6 &&
                                y[k] - 14.4 < y[i] + 3.6),
                              "legend corner %d: labels %d and %d overlap", corner, k, i);
            ck_assert(x[i] >= 0 && x[i] + w <= 580 && y[i] >= 0 && y[i] <= 420);
        }
        free(svg);
    }
}
END_TEST

START_TEST(svgplot_rejects_labels_for_a_missing_series)
{
    errno = 0;
    ck_assert_ptr_null(crowded(NULL, SVGPLOT_LEGEND_TOP_LEFT, 2));
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *svgplot_suite(void)
{
    Suite *s = suite_create("svgplot");
    TCase *tc = tk_tcase(s, "svgplot", 10);
    tk_add_test(tc, svgplot_tick_steps);
    tk_add_test(tc, svgplot_document_shape);
    tk_add_test(tc, svgplot_has_labels_legend_and_points);
    tk_add_test(tc, svgplot_points_inside_canvas);
    tk_add_test(tc, svgplot_escapes_text);
    tk_add_test(tc, svgplot_skips_missing_values);
    tk_add_test(tc, svgplot_same_data_same_bytes);
    tk_add_test(tc, svgplot_rejects_bad_input);
    tk_add_test(tc, svgplot_font_option_sets_every_text_size);
    tk_add_test(tc, svgplot_legend_shows_every_drawn_line);
    tk_add_test(tc, svgplot_point_labels_clear_of_legend_and_each_other);
    tk_add_test(tc, svgplot_rejects_labels_for_a_missing_series);
    return s;
}

TK_MAIN(svgplot_suite)
