/*
 * progress.c - the progress bar, with rate and time left.
 */
#include "progress.h"

#include <unistd.h>

void progress_init(struct progress *p, FILE *out, uint64_t now_ms)
{
    p->out = out;
    p->tty = isatty(fileno(out));
    p->start_ms = p->last_ms = now_ms;
    p->last_bytes = 0;
    p->rate = 0;
    p->last_decile = -1;
}

/* Writes a duration as m:ss, or --:-- when it is unknown. */
static void print_eta(FILE *out, double seconds)
{
    if (seconds < 0 || seconds > 359999)
        fputs("--:--", out);
    else
        fprintf(out, "%d:%02d", (int)seconds / 60, (int)seconds % 60);
}

void progress_update(struct progress *p, uint64_t have, uint64_t total, size_t peers,
                     uint64_t now_ms)
{
    uint64_t dt = now_ms - p->last_ms;
    if (dt >= 250) {
        double instant = (double)(have - p->last_bytes) * 1000.0 / (double)dt;
        /* An exponential moving average keeps the rate from jumping about. */
        p->rate = p->rate == 0 ? instant : 0.7 * p->rate + 0.3 * instant;
        p->last_ms = now_ms;
        p->last_bytes = have;
    }
    if (p->rate == 0 && now_ms > p->start_ms)
        p->rate = (double)have * 1000.0 / (double)(now_ms - p->start_ms); /* no interval yet */
    double frac = total ? (double)have / (double)total : 1.0;
    double eta = p->rate > 0 ? (double)(total - have) / p->rate : -1;
    if (p->tty) {
        enum { WIDTH = 30 };
        int filled = (int)(frac * WIDTH);
        fputs("\r[", p->out);
        for (int i = 0; i < WIDTH; i++)
            fputc(i < filled ? '#' : '.', p->out);
        fprintf(p->out, "] %5.1f%%  %7.2f MB/s  ETA ", frac * 100, p->rate / 1e6);
        print_eta(p->out, eta);
        fprintf(p->out, "  peers %zu ", peers);
        fflush(p->out);
        return;
    }
    int decile = (int)(frac * 10);
    if (decile != p->last_decile) {
        fprintf(p->out, "progress: %3d%%  %llu of %llu bytes  %.2f MB/s  peers %zu\n", decile * 10,
                (unsigned long long)have, (unsigned long long)total, p->rate / 1e6, peers);
        fflush(p->out);
        p->last_decile = decile;
    }
}

void progress_done(struct progress *p)
{
    if (p->tty)
        fputc('\n', p->out);
    fflush(p->out);
}
