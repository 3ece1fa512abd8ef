/*
 * chokeline - draws deck 6's choking timeline from a real run of the choker.
 *
 *   chokeline > slides/figures/choking-timeline.svg
 *
 * The figure shows whom one downloading peer ("us") uploads to during a minute and the ten
 * seconds that the re-choke at 60 s decides: one row per connected peer, time 0-70 s across, a bar
 * where the peer is unchoked (regular slot or the optimistic one) and the rate the choker saw at
 * each re-choke. Nothing in it is drawn by hand: the program links minitorrent/core/choker.c and
 * rate.c, and drives them the way the shell's torrent_tick does (minitorrent/shell/torrent.c), on a
 * fake clock:
 *
 *   - every second (the shell's loop ticks at least every 250 ms; the re-chokes fall on the
 *     same 10 s grid either way) it fills a choker_peer per connected peer (interested,
 *     snubbed, rate_to_us from a 20 s rate meter per peer, as peer.c sets up), forces a run
 *     when an interested peer waits while a slot is free, and calls choker_run with the default
 *     configuration (4 regular slots, a re-choke every 10 s, the optimistic slot moving every
 *     3rd one);
 *   - between ticks each peer sends us bytes at a scripted rate: tit-for-tat's reciprocity, a
 *     peer uploads to us faster while we upload to it (cap), and at its own pace otherwise
 *     (base), because it may have us among its own top four.
 *
 * The script below (peers, rates, one peer that stops sending, one late arrival) and the
 * choker's seed are fixed, so the output is the same on every run, and `make slides-check` and
 * tests/check_slides.c notice when a change to the choker changes the figure. Output is one SVG
 * on standard output.
 */
#include "choker.h"
#include "rate.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ===================================================================== the script ========== */

/* 70 s: the re-choke at 60 s (a rotation) gets a whole 10 s interval like every other one. */
enum { SECONDS = 70, NPEERS = 7, KIB = 1024 };

/* The seed given to the choker: it decides only which choked peer the optimistic slot moves
 * to. */
#ifndef CHOKER_SEED
#define CHOKER_SEED 13
#endif

/* One remote peer, as the script sees it. Rates are KiB/s. */
struct script_peer {
    const char *name;
    unsigned cap;       /* what it sends us while we unchoke it */
    unsigned base;      /* what it sends us while we choke it */
    unsigned join_s;    /* when it connects (and becomes interested) */
    unsigned slow_at_s; /* from then on it sends at slow_cap instead of cap (0: never) */
    unsigned slow_cap;
    const char *note; /* shown under its name */
};

static const struct script_peer script[NPEERS] = {
    {"p1", 20, 20, 0, 0, 0, "20, choked or not"},      {"p2", 60, 0, 0, 5, 0, "60, stops at 5 s"},
    {"p3", 45, 0, 0, 0, 0, "45 while unchoked"},       {"p4", 40, 0, 0, 0, 0, "40 while unchoked"},
    {"p5", 35, 25, 0, 0, 0, "35 unchoked, 25 choked"}, {"p6", 90, 0, 0, 0, 0, "90 while unchoked"},
    {"p7", 50, 0, 24, 0, 0, "from 24 s: 50 unchoked"},
};

/* What the run recorded: per second and peer, the choke state after that second's tick. */
enum cell { CELL_ABSENT, CELL_CHOKED, CELL_REGULAR, CELL_OPTIMISTIC };
static enum cell state[SECONDS + 1][NPEERS];
/* The rate (KiB/s) the choker ranked each peer by at each scheduled re-choke, -1 if absent. */
static long seen_rate[SECONDS / 10 + 1][NPEERS];

/* Returns the rate peer i sends us at second t, given whether we unchoke it. */
static unsigned sends(const struct script_peer *p, unsigned t, bool unchoked)
{
    if (!unchoked)
        return p->base;
    if (p->slow_at_s > 0 && t >= p->slow_at_s)
        return p->slow_cap;
    return p->cap;
}

/* ===================================================================== the run ============= */

/* Runs the choker over the minute, one tick a second, and fills state[] and seen_rate[]. */
static void run(void)
{
    struct choker_config cfg;
    choker_config_defaults(&cfg, CHOKER_SEED);
    struct choker ck;
    choker_init(&ck, &cfg, 0);
    struct rate to_us[NPEERS];
    bool unchoked[NPEERS] = {false}, optimistic[NPEERS] = {false};
    uint64_t last_block_ms[NPEERS] = {0};

    for (unsigned t = 0; t <= SECONDS; t++) {
        uint64_t now = (uint64_t)t * 1000;
        /* Peers that connect now get a fresh rate meter, as peer.c gives every connection. */
        for (size_t i = 0; i < NPEERS; i++)
            if (script[i].join_s == t) {
                rate_init(&to_us[i], 20000, now);
                last_block_ms[i] = now;
            }

        /* torrent_tick: the connected peers in connection order, then choker_run. */
        struct choker_peer cp[NPEERS];
        size_t who[NPEERS], n = 0, nunchoked = 0;
        bool waiting = false;
        for (size_t i = 0; i < NPEERS; i++) {
            if (script[i].join_s > t)
                continue;
            cp[n] = (struct choker_peer){
                .id = i + 1,
                .interested = true,
                .snubbed = choker_is_snubbed(&cfg, true, last_block_ms[i], now),
                .rate_to_us = rate_get(&to_us[i], now),
                .unchoked = unchoked[i],
                .optimistic = optimistic[i],
            };
            nunchoked += unchoked[i];
            waiting |= !unchoked[i];
            who[n++] = i;
        }
        bool scheduled = now >= choker_next_ms(&ck);
        bool force = waiting && nunchoked < cfg.upload_slots + 1;
        if (choker_run(&ck, cp, n, false, now, force)) {
            for (size_t k = 0; k < n; k++) {
                unchoked[who[k]] = cp[k].unchoked;
                optimistic[who[k]] = cp[k].optimistic;
            }
        }
        if (scheduled && t % 10 == 0) {
            for (size_t i = 0; i < NPEERS; i++)
                seen_rate[t / 10][i] = -1;
            for (size_t k = 0; k < n; k++)
                seen_rate[t / 10][who[k]] = (long)((cp[k].rate_to_us + KIB / 2) / KIB);
        }
        for (size_t i = 0; i < NPEERS; i++)
            state[t][i] = script[i].join_s > t ? CELL_ABSENT
                          : optimistic[i]      ? CELL_OPTIMISTIC
                          : unchoked[i]        ? CELL_REGULAR
                                               : CELL_CHOKED;

        /* The second that follows: every peer sends its share, in ten steps of 100 ms. */
        for (size_t i = 0; i < NPEERS; i++) {
            if (script[i].join_s > t)
                continue;
            unsigned kib = sends(&script[i], t, unchoked[i]);
            for (unsigned step = 0; step < 10; step++)
                rate_add(&to_us[i], (uint64_t)kib * KIB / 10, now + step * 100);
            if (kib > 0)
                last_block_ms[i] = now + 900;
        }
    }
}

/* ===================================================================== the drawing ========= */

/* Geometry: a label column, then 70 s across; one row per peer. */
static const double X0 = 250, PX_PER_S = 13.0, TOP = 58, ROW = 50, BAR = 30;

static double x_of(unsigned t)
{
    return X0 + PX_PER_S * t;
}

static void draw(void)
{
    const double height = TOP + ROW * NPEERS + 112;
    printf("<svg viewBox=\"0 0 1180 %.0f\" width=\"1180\" height=\"%.0f\" role=\"img\" "
           "aria-label=\"Choking timeline: whom one peer unchokes during a minute\" "
           "xmlns=\"http://www.w3.org/2000/svg\">\n",
           height, height);
    printf("<!-- Generated by tools/slides/chokeline.c from a run of minitorrent/core/choker.c "
           "(seed %d); do not edit: run `make slides`. -->\n",
           CHOKER_SEED);
    printf("<style>\n"
           ".tl-name { font-family: \"DejaVu Sans Mono\", monospace; font-size: 22px; "
           "font-weight: bold; fill: #111; }\n"
           ".tl-note { font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 17px; "
           "fill: #333; }\n"
           ".tl-head { font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 17px; "
           "fill: #333; }\n"
           ".tl-rothead { font-weight: bold; fill: #a04000; }\n"
           ".tl-tick { font-family: \"DejaVu Sans Mono\", monospace; font-size: 18px; fill: #111; "
           "}\n"
           ".tl-rate { font-family: \"DejaVu Sans Mono\", monospace; font-size: 16px; fill: #111; "
           "}\n"
           ".tl-rate-on { fill: #ffffff; font-weight: bold; }\n"
           ".tl-reg { fill: #0b3d91; }\n"
           ".tl-opt { fill: #e67e22; }\n"
           ".tl-chk { fill: #e6e9ee; }\n"
           ".tl-abs { fill: none; stroke: #b8bec8; stroke-width: 1.5; stroke-dasharray: 5 5; }\n"
           ".tl-grid { stroke: #6b7280; stroke-width: 1.5; }\n"
           ".tl-rot { stroke: #c25a00; stroke-width: 3.5; stroke-dasharray: 9 5; }\n"
           ".tl-leg { font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 19px; "
           "fill: #111; }\n"
           "</style>\n");

    /* Headings: the label column's, and the rotations of the optimistic slot. */
    printf("<text x=\"10\" y=\"24\" class=\"tl-head\">peer: what it sends us,</text>\n"
           "<text x=\"10\" y=\"44\" class=\"tl-head\">KiB/s</text>\n");
    for (unsigned t = 0; t <= SECONDS; t += 30)
        printf("<text x=\"%.1f\" y=\"24\" class=\"tl-head tl-rothead\" text-anchor=\"%s\">"
               "optimistic slot moves</text>\n",
               x_of(t),
               t == 0         ? "start"
               : t == SECONDS ? "end"
                              : "middle");

    /* The rows: bars merged over the seconds that share a state. */
    for (size_t i = 0; i < NPEERS; i++) {
        double y = TOP + ROW * (double)i;
        printf("<text x=\"10\" y=\"%.1f\" class=\"tl-name\">%s</text>\n", y + 22, script[i].name);
        printf("<text x=\"10\" y=\"%.1f\" class=\"tl-note\">%s</text>\n", y + 42, script[i].note);
        unsigned t = 0;
        while (t < SECONDS) {
            unsigned u = t + 1;
            while (u < SECONDS && state[u][i] == state[t][i])
                u++;
            const char *cls = state[t][i] == CELL_REGULAR      ? "tl-reg"
                              : state[t][i] == CELL_OPTIMISTIC ? "tl-opt"
                              : state[t][i] == CELL_CHOKED     ? "tl-chk"
                                                               : "tl-abs";
            printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" class=\"%s\"/>\n",
                   x_of(t) + 1, y + (ROW - BAR) / 2, x_of(u) - x_of(t) - 2, BAR, cls);
            t = u;
        }
        /* The rate the choker ranked the peer by, just after each scheduled re-choke. */
        for (unsigned r = 0; r < SECONDS / 10; r++) {
            long kib = seen_rate[r][i];
            if (kib < 0)
                continue;
            bool on = state[r * 10][i] == CELL_REGULAR || state[r * 10][i] == CELL_OPTIMISTIC;
            printf("<text x=\"%.1f\" y=\"%.1f\" class=\"tl-rate%s\">%ld</text>\n", x_of(r * 10) + 8,
                   y + ROW / 2 + 6, on ? " tl-rate-on" : "", kib);
        }
    }

    /* Re-choke lines over the rows, and the time axis under them. */
    double bottom = TOP + ROW * NPEERS;
    for (unsigned t = 0; t <= SECONDS; t += 10) {
        printf("<line x1=\"%.1f\" y1=\"32\" x2=\"%.1f\" y2=\"%.1f\" class=\"%s\"/>\n", x_of(t),
               x_of(t), bottom + 6, t % 30 == 0 ? "tl-rot" : "tl-grid");
        printf("<text x=\"%.1f\" y=\"%.1f\" class=\"tl-tick\" text-anchor=\"middle\">%u s</text>\n",
               x_of(t), bottom + 28, t);
    }

    /* The legend, in two lines. */
    double ly = bottom + 48;
    printf("<rect x=\"10\" y=\"%.1f\" width=\"40\" height=\"22\" class=\"tl-reg\"/>"
           "<text x=\"58\" y=\"%.1f\" class=\"tl-leg\">regular slot (top 4 by rate)</text>\n",
           ly, ly + 18);
    printf("<rect x=\"350\" y=\"%.1f\" width=\"40\" height=\"22\" class=\"tl-opt\"/>"
           "<text x=\"398\" y=\"%.1f\" class=\"tl-leg\">optimistic slot</text>\n",
           ly, ly + 18);
    printf("<rect x=\"570\" y=\"%.1f\" width=\"40\" height=\"22\" class=\"tl-chk\" "
           "stroke=\"#9aa3b0\"/>"
           "<text x=\"618\" y=\"%.1f\" class=\"tl-leg\">choked</text>\n",
           ly, ly + 18);
    printf("<rect x=\"730\" y=\"%.1f\" width=\"40\" height=\"22\" class=\"tl-abs\"/>"
           "<text x=\"778\" y=\"%.1f\" class=\"tl-leg\">not connected</text>\n",
           ly, ly + 18);
    printf(
        "<text x=\"10\" y=\"%.1f\" class=\"tl-leg\">Each line is a re-choke; the "
        "numbers are the rate (KiB/s, 20 s window) the choker saw then. Choker seed %d.</text>\n",
        ly + 52, CHOKER_SEED);
    printf("</svg>\n");
}

int main(void)
{
    run();
    draw();
    return 0;
}
