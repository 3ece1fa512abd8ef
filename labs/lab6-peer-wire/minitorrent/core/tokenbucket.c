/*
 * tokenbucket.c - a token bucket in exact integer arithmetic.
 *
 * Tokens are counted in two parts: whole bytes (tokens) and thousandths of a byte (milli), so
 * that rate_Bps * elapsed_ms, which is in thousandths of a byte, adds up without rounding.
 */
#include "tokenbucket.h"

/* The largest burst we accept: keeps burst * 1000 and rate * elapsed below 2^64 below. */
#define TB_MAX (UINT64_MAX / 4000)

void tb_init(struct tokenbucket *tb, uint64_t rate_Bps, uint64_t burst_bytes, uint64_t now_ms)
{
    if (rate_Bps > TB_MAX)
        rate_Bps = TB_MAX;
    if (burst_bytes == 0)
        burst_bytes = rate_Bps; /* one second's worth */
    if (burst_bytes == 0)
        burst_bytes = 1;
    if (burst_bytes > TB_MAX)
        burst_bytes = TB_MAX;
    tb->rate_Bps = rate_Bps;
    tb->burst = burst_bytes;
    tb->tokens = burst_bytes;
    tb->milli = 0;
    tb->last_ms = now_ms;
}

/* Computes the tokens (whole and thousandths) the bucket holds at now_ms, without changing it.
 * A bucket that fills stays exactly at the burst, fraction dropped, as if it had stopped filling
 * the moment it was full: tokens that would overflow the bucket are lost, which is the point of
 * a burst limit. */
static void level_at(const struct tokenbucket *tb, uint64_t now_ms, uint64_t *tokens,
                     uint64_t *milli)
{
    *tokens = tb->tokens;
    *milli = tb->milli;
    if (now_ms <= tb->last_ms || tb->tokens >= tb->burst)
        return; /* no time passed (or it went backwards), or already full */
    uint64_t elapsed = now_ms - tb->last_ms;
    /* Time to fill the bucket from where it is; any longer simply fills it. Checking this first
     * also keeps rate * elapsed from overflowing after a long idle spell. */
    uint64_t missing_milli = (tb->burst - tb->tokens) * 1000 - tb->milli;
    if (elapsed >= missing_milli / tb->rate_Bps + 1) {
        *tokens = tb->burst;
        *milli = 0;
        return;
    }
    /* Here rate * elapsed <= missing_milli, so the bucket ends up at most exactly full. */
    uint64_t gained = tb->rate_Bps * elapsed + tb->milli; /* in thousandths of a byte */
    *tokens += gained / 1000;
    *milli = gained % 1000;
}

size_t tb_take(struct tokenbucket *tb, size_t want, uint64_t now_ms)
{
    if (tb->rate_Bps == 0)
        return want;
    level_at(tb, now_ms, &tb->tokens, &tb->milli);
    if (now_ms > tb->last_ms)
        tb->last_ms = now_ms;
    size_t got = tb->tokens < want ? (size_t)tb->tokens : want;
    tb->tokens -= got;
    return got;
}

uint64_t tb_wait_ms(const struct tokenbucket *tb, size_t want, uint64_t now_ms)
{
    if (tb->rate_Bps == 0)
        return 0;
    uint64_t need = want < tb->burst ? want : tb->burst;
    uint64_t tokens, milli;
    level_at(tb, now_ms, &tokens, &milli);
    if (tokens >= need)
        return 0;
    /* After m more milliseconds the bucket holds tokens + (milli + rate * m) / 1000 bytes, so
     * the smallest m with rate * m >= (need - tokens) * 1000 - milli, rounded up. */
    uint64_t short_milli = (need - tokens) * 1000 - milli;
    return (short_milli + tb->rate_Bps - 1) / tb->rate_Bps;
}

size_t tb_grant(struct tokenbucket *tb, size_t want, uint64_t now_ms)
{
    if (tb->rate_Bps == 0)
        return want;
    size_t need = want < tb->burst ? want : (size_t)tb->burst;
    if (tb_wait_ms(tb, need, now_ms) > 0)
        return 0;
    return tb_take(tb, need, now_ms);
}

void tb_settle(struct tokenbucket *tb, size_t granted, size_t used, uint64_t now_ms)
{
    if (tb->rate_Bps == 0 || used >= granted)
        return;
    /* Refill up to now first, so the tokens given back are added to the level of now and the
     * cap at the burst applies to both together. */
    level_at(tb, now_ms, &tb->tokens, &tb->milli);
    if (now_ms > tb->last_ms)
        tb->last_ms = now_ms;
    uint64_t back = granted - used;
    tb->tokens = back >= tb->burst - tb->tokens ? tb->burst : tb->tokens + back;
    if (tb->tokens == tb->burst)
        tb->milli = 0; /* a full bucket holds no fraction (see level_at) */
}
