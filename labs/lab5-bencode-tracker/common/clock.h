/*
 * clock.h - the time that time outs and rates are measured in.
 *
 * CLOCK_MONOTONIC counts from some fixed moment (often the boot) and never jumps: the wall
 * clock (CLOCK_REALTIME, what `date` shows) can be set back or forward by NTP or by hand, and a
 * deadline computed from it could then pass at once or never. Only differences between two
 * readings mean anything.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock. */
uint64_t clock_ms(void);

/* Seconds on the monotonic clock, with a fraction: for measuring and printing durations. */
double clock_s(void);

#endif
