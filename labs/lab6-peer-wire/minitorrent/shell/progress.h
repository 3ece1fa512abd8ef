/*
 * progress.h - showing a download's progress: a bar redrawn in place on a terminal, or a plain
 * line now and then when the output goes to a file or a pipe (where \r redraws would be noise).
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
    FILE *out;
    bool tty;
    uint64_t start_ms, last_ms;
    uint64_t last_bytes; /* for the rate over the last interval */
    double rate;         /* bytes per second, smoothed */
    int last_decile;     /* plain mode: the last tenth printed */
};

void progress_init(struct progress *p, FILE *out, uint64_t now_ms);

/* Shows have of total bytes, at now_ms, with `peers` peers connected. */
void progress_update(struct progress *p, uint64_t have, uint64_t total, size_t peers,
                     uint64_t now_ms);

/* Ends the display (a newline after the bar on a terminal). */
void progress_done(struct progress *p);

#endif
