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
 *
 * Grant and settle. A sender does not always know how many bytes will move: send() may take
 * fewer than offered, and read() brings at most what is asked for but often less. So the bucket
 * also works in two steps: tb_grant takes the tokens for the most that may move, at once, before
 * the bytes move, and tb_settle gives back the part that did not move. Because the grant is
 * debited at once, several senders sharing one bucket can never together be granted more than
 * it holds, and the promise above holds for the bytes granted: over any stretch [s, t], at most
 * (tokens at s) + rate * (t - s) / 1000 bytes, so from an empty bucket no more than the rate.
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

/* Grants `want` bytes (at most a burst, which is all the bucket ever holds) when the bucket holds
 * that many tokens now, and takes them from it at once; returns how many it granted, or 0, taking
 * nothing, when it holds fewer (tb_wait_ms says how long until it does). Always `want` when
 * unlimited. All or nothing, so a sender is never handed a uselessly small piece of a write. */
size_t tb_grant(struct tokenbucket *tb, size_t want, uint64_t now_ms);

/* Settles a grant: of the `granted` bytes, `used` moved, and the tokens of the rest go back into
 * the bucket (never above the burst: tokens that would overflow are lost, as when it fills). */
void tb_settle(struct tokenbucket *tb, size_t granted, size_t used, uint64_t now_ms);

#endif
