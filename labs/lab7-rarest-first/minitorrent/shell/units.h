/*
 * units.h - sizes, rates and durations as people type and read them: "256K", "1.5M", "16384",
 * "256.0 MiB", "0.5" (seconds).
 *
 * Every suffix is a power of 1024, as in most tools' size options: K (or k) is 1024 bytes, M is
 * 1024 K, G is 1024 M. The suffix may be written K, KiB or KB (all the same: 1024), and a bare
 * number may end in B. There is no T: no size or rate minitorrent takes comes near it.
 *
 * Fractions are allowed ("1.5M", "0.25G") as long as the result is a whole number of bytes:
 * "1.5K" is 1536, but "0.3K" (307.2 bytes) is an error rather than a silent rounding, because a
 * piece length or a rate that is quietly not what was typed is harder to debug than a message.
 * At most 9 digits may follow the point, which keeps the arithmetic exact in 64 bits.
 *
 * The parsers are strict: no spaces, no sign (a '-' is reported as negative, a '+' as junk), no
 * trailing characters, no overflow past UINT64_MAX. Range checks (a piece length from 16 KiB to
 * 16 MiB, say) are the caller's: it knows the range and can name it in its message.
 */
#ifndef UNITS_H
#define UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Room for any string units_format_size() or units_format_rate() writes, with its NUL. */
#define UNITS_BUFLEN 32

/* Parses a size such as "256K", "1.5MiB", "16384" or "2G" into bytes. Returns 0, or -1 with a
 * message such as "'12Q': unknown suffix 'Q' (use K, M or G)" in err (err may be NULL). */
int units_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);

/* Parses a rate in bytes per second: a size, optionally followed by "/s" ("500K", "2M/s").
 * Returns 0, or -1 with a message in err. */
int units_parse_rate(const char *s, uint64_t *out, char *err, size_t errlen);

/* Parses a duration in seconds, such as "10", "0.5" or "2.25s", into milliseconds. At most 3
 * digits may follow the point, since a millisecond is the finest step any timer here takes.
 * Returns 0, or -1 with a message in err. */
int units_parse_seconds(const char *s, uint64_t *ms, char *err, size_t errlen);

/* Writes bytes in the largest binary unit that keeps the number at least 1, with one decimal:
 * "0 B", "1023 B", "1.0 KiB", "256.0 MiB", "1.5 GiB". Returns out, for use inside printf. cap
 * should be UNITS_BUFLEN; a smaller buffer truncates. */
const char *units_format_size(uint64_t bytes, char *out, size_t cap);

/* Writes a rate the same way with "/s" after it: "1.5 MiB/s". Returns out. */
const char *units_format_rate(double bytes_per_sec, char *out, size_t cap);

#endif
