/*
 * tokenbucket.h - a token bucket, for the --up-rate and --down-rate limits. Sans-I/O: the time
 * is always a parameter, in milliseconds.
 *
 * The bucket fills with tokens (one token = one byte) at rate_Bps per second, up to burst_bytes;
 * sending or reading n bytes takes n tokens. So over any long stretch no more than
 * rate * time + burst bytes pass, while a short burst (one 16 KiB block) may go at once.
 *
 * Arithmetic is exact integers: in t milliseconds the bucket gains rate * t / 1000 bytes, and
 * the part of a byte that does not divide evenly (rate * t mod 1000, in thousandths of a byte)
 * is kept for the next refill. Throwing it away would make a 1500 B/s limit deliver 1000 B/s
 * when refilled every millisecond; keeping it, the average is exact however often we refill.
 *
 * The bucket starts full, as the textbook token bucket does, so the first burst_bytes go out at
 * once. burst_bytes should be at least the largest single write (a 16 KiB block plus its
 * header), or tb_take will hand that write out in pieces.
 */
#ifndef TOKENBUCKET_H
#define TOKENBUCKET_H

#include <stddef.h>
#include <stdint.h>

struct tokenbucket {
    uint64_t rate_Bps; /* bytes per second; 0: unlimited */
    uint64_t burst;    /* the most tokens the bucket holds */
    uint64_t tokens;   /* whole bytes that may pass now */
    uint64_t milli;    /* thousandths of a byte carried over, 0..999 */
    uint64_t last_ms;  /* when the bucket was last refilled */
};

/* Sets up a full bucket. rate_Bps 0 means unlimited. burst_bytes 0 means one second's worth
 * (rate_Bps bytes); a burst is at least 1 byte. */
void tb_init(struct tokenbucket *tb, uint64_t rate_Bps, uint64_t burst_bytes, uint64_t now_ms);

/* Takes up to `want` bytes' worth of tokens and returns how many it took: `want` when the bucket
 * holds that many (always, when unlimited), fewer when it holds fewer, 0 when it is empty. Time
 * should not go backwards; an earlier now_ms adds no tokens. */
size_t tb_take(struct tokenbucket *tb, size_t want, uint64_t now_ms);

/* Returns how many milliseconds after now_ms the bucket will hold `want` tokens (capped at the
 * burst, since it never holds more): 0 when it does already, or when unlimited. The bucket is
 * not changed. */
uint64_t tb_wait_ms(const struct tokenbucket *tb, size_t want, uint64_t now_ms);

#endif
