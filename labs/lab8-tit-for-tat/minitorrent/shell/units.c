/*
 * units.c - parsing "256K" and "1.5M", and printing "256.0 MiB" (see units.h for the rules).
 */
#include "units.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Writes a formatted message into err (when there is one) and returns -1, so error paths are one
 * line: `return uerr(err, errlen, "...", ...);`. */
static int uerr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Reads the multiplier a suffix letter stands for: 1024^1..3, or 0 when c is no suffix letter. */
static uint64_t suffix_multiplier(char c)
{
    switch (c) {
    case 'K':
    case 'k':
        return UINT64_C(1) << 10;
    case 'M':
    case 'm':
        return UINT64_C(1) << 20;
    case 'G':
    case 'g':
        return UINT64_C(1) << 30;
    default:
        return 0;
    }
}

/* Parses a size, and "/s" after it when rate is set. The integer and fraction parts are kept as
 * integers and combined exactly, so "1.5M" is 1572864 and never 1572863.9999 from a double. */
static int parse_quantity(const char *s, bool rate, uint64_t *out, char *err, size_t errlen)
{
    const char *what = rate ? "rate" : "size";
    if (s == NULL || *s == '\0')
        return uerr(err, errlen, "empty %s: expected a number such as 256K, 1.5M or 16384", what);
    if (*s == '-')
        return uerr(err, errlen, "'%s': a %s cannot be negative", s, what);
    if (*s < '0' || *s > '9')
        return uerr(err, errlen, "'%s' is not a %s: expected a number such as 256K, 1.5M or 16384",
                    s, what);

    const char *p = s;
    uint64_t whole = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return uerr(err, errlen, "'%s' is too large", s);
        whole = whole * 10 + d;
    }

    /* The fraction is frac / 10^frac_digits; 9 digits at most keeps frac * 2^30 inside 64 bits. */
    uint64_t frac = 0, frac_scale = 1;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return uerr(err, errlen, "'%s': expected digits after the decimal point", s);
        for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits == 9)
                return uerr(err, errlen, "'%s': at most 9 digits after the decimal point", s);
            frac = frac * 10 + (uint64_t)(*p - '0');
            frac_scale *= 10;
        }
    }

    uint64_t mult = suffix_multiplier(*p);
    if (mult != 0) {
        p++;
        if (p[0] == 'i' && p[1] == 'B')
            p += 2;
        else if (p[0] == 'B')
            p++;
    } else {
        mult = 1;
        if (*p == 'B')
            p++;
    }
    if (rate && p[0] == '/' && p[1] == 's')
        p += 2;
    if (*p != '\0')
        return uerr(err, errlen, "'%s': unexpected '%s' (use a K, M or G suffix%s)", s, p,
                    rate ? ", optionally with /s" : "");

    if (whole > UINT64_MAX / mult)
        return uerr(err, errlen, "'%s' is too large", s);
    uint64_t bytes = whole * mult;
    if (frac != 0) {
        uint64_t scaled = frac * mult;
        if (scaled % frac_scale != 0)
            return uerr(err, errlen, "'%s' is not a whole number of bytes", s);
        if (bytes > UINT64_MAX - scaled / frac_scale)
            return uerr(err, errlen, "'%s' is too large", s);
        bytes += scaled / frac_scale;
    }
    *out = bytes;
    return 0;
}

int units_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
    return parse_quantity(s, false, out, err, errlen);
}

int units_parse_rate(const char *s, uint64_t *out, char *err, size_t errlen)
{
    return parse_quantity(s, true, out, err, errlen);
}

int units_parse_seconds(const char *s, uint64_t *ms, char *err, size_t errlen)
{
    if (s == NULL || *s < '0' || *s > '9')
        return uerr(err, errlen, "'%s' is not a duration: expected seconds such as 10 or 0.5",
                    s == NULL ? "" : s);
    /* Whole seconds stop at a day's worth of digits long before 64 bits could overflow. */
    const char *p = s;
    uint64_t whole = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (whole > 86400u * 365)
            return uerr(err, errlen, "'%s' is too long", s);
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    uint64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return uerr(err, errlen, "'%s': expected digits after the decimal point", s);
        /* Each digit after the point is worth a tenth of the one before: 100 ms, 10 ms, 1 ms. */
        for (uint64_t weight = 100; *p >= '0' && *p <= '9'; p++, weight /= 10) {
            if (weight == 0)
                return uerr(err, errlen, "'%s': at most 3 digits after the point (milliseconds)",
                            s);
            frac_ms += weight * (uint64_t)(*p - '0');
        }
    }
    if (*p == 's')
        p++;
    if (*p != '\0')
        return uerr(err, errlen, "'%s': unexpected '%s' (a number of seconds, such as 10 or 0.5)",
                    s, p);
    *ms = whole * 1000 + frac_ms;
    return 0;
}

/* Formats value (bytes, or bytes per second) with a binary unit and then tail ("" or "/s"). */
static const char *format_binary(double value, const char *tail, char *out, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (value < 1023.5) { /* 1023.5 and up would round to "1024 B" */
        snprintf(out, cap, "%.0f B%s", value, tail);
        return out;
    }
    size_t u = 0;
    value /= 1024;
    /* Step up while the number would print as 1024.0 or more, so 1048575 bytes reads "1.0 MiB"
     * and not "1024.0 KiB". */
    while (value >= 1023.95 && u + 1 < sizeof units / sizeof units[0]) {
        value /= 1024;
        u++;
    }
    snprintf(out, cap, "%.1f %s%s", value, units[u], tail);
    return out;
}

const char *units_format_size(uint64_t bytes, char *out, size_t cap)
{
    /* Below 1024 the count is exact, so print it as an integer rather than through a double. */
    if (bytes < 1024) {
        snprintf(out, cap, "%u B", (unsigned)bytes);
        return out;
    }
    return format_binary((double)bytes, "", out, cap);
}

const char *units_format_rate(double bytes_per_sec, char *out, size_t cap)
{
    if (!(bytes_per_sec >= 0)) /* also catches NaN */
        bytes_per_sec = 0;
    return format_binary(bytes_per_sec, "/s", out, cap);
}
