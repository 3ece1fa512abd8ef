/*
 * check_turns.c - upload turns (core/turns.h) on a fake clock.
 *
 * Connections are named by small keys (1, 2, 3...). Each test plays the calls the peer threads
 * make: ask for the turn when requests wait, count the blocks queued, give the turn up when
 * nothing is left, forget a connection that closes. The last test replays a seed serving five
 * peers and measures what turns are for: when each peer's piece becomes whole.
 */
#include "testlib.h"
#include "turns.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BLOCK 16384u
#define PIECE (16 * BLOCK) /* 256 KiB: the quantum of these tests */

/* Sets up turns of a 256 KiB quantum, taken over after 1000 ms, for up to cap waiting. */
static void mk(struct turns *tu, size_t cap)
{
    ck_assert_int_eq(turns_init(tu, PIECE, 1000, cap), 0);
}

/* Queues n blocks for key; returns the key whose turn it is after the last. */
static uint64_t use_blocks(struct turns *tu, uint64_t key, unsigned n, uint64_t now)
{
    uint64_t who = key;
    for (unsigned i = 0; i < n && who == key; i++)
        who = turns_used(tu, key, BLOCK, now);
    return who;
}

START_TEST(turns_first_asker_holds_the_others_wait)
{
    struct turns tu;
    mk(&tu, 8);
    ck_assert_msg(turns_ask(&tu, 1, 0), "a free turn was refused to the first to ask");
    ck_assert_msg(!turns_ask(&tu, 2, 0), "connection 2 got the turn that 1 holds");
    ck_assert_msg(!turns_ask(&tu, 3, 0), "connection 3 got the turn that 1 holds");
    ck_assert_msg(turns_ask(&tu, 1, 5), "the holder lost its turn by asking again");
    ck_assert_uint_eq(tu.holder, 1);
    ck_assert_uint_eq(tu.nwaiting, 2);
    turns_free(&tu);
}
END_TEST

START_TEST(turns_pass_after_a_piece_in_the_order_asked)
{
    /* 1 holds; 3 asks before 2. After 16 blocks the turn goes to 3, then 2, then 1 again (it
     * asked again after losing the turn, so it waits behind them). */
    struct turns tu;
    mk(&tu, 8);
    ck_assert(turns_ask(&tu, 1, 0));
    ck_assert(!turns_ask(&tu, 3, 0));
    ck_assert(!turns_ask(&tu, 2, 1));
    ck_assert_msg(use_blocks(&tu, 1, 15, 10) == 1, "the turn passed before a piece's worth");
    uint64_t next = turns_used(&tu, 1, BLOCK, 11);
    ck_assert_msg(next == 3, "after 1's piece the turn went to %llu, want 3 (waiting longest)",
                  (unsigned long long)next);
    ck_assert(!turns_ask(&tu, 1, 12)); /* 1 has more to send: it waits behind 2 */
    next = use_blocks(&tu, 3, 16, 20);
    ck_assert_msg(next == 2, "after 3's piece the turn went to %llu, want 2", (unsigned long long)next);
    next = use_blocks(&tu, 2, 16, 30);
    ck_assert_msg(next == 1, "after 2's piece the turn went to %llu, want 1", (unsigned long long)next);
    ck_assert_uint_eq(tu.nwaiting, 0);
    turns_free(&tu);
}
END_TEST

START_TEST(turns_holder_alone_keeps_it)
{
    /* With nobody waiting, a holder goes on past its quantum: turns never leave the link idle. */
    struct turns tu;
    mk(&tu, 8);
    ck_assert(turns_ask(&tu, 7, 0));
    ck_assert_msg(use_blocks(&tu, 7, 100, 0) == 7, "the only connection lost its turn");
    ck_assert_uint_eq(tu.holder, 7);
    turns_free(&tu);
}
END_TEST

START_TEST(turns_done_passes_on_or_frees)
{
    struct turns tu;
    mk(&tu, 8);
    ck_assert(turns_ask(&tu, 1, 0));
    ck_assert(!turns_ask(&tu, 2, 0));
    ck_assert_msg(turns_done(&tu, 2, 1) == 0, "a connection without the turn gave it away");
    ck_assert_uint_eq(tu.holder, 1);
    uint64_t next = turns_done(&tu, 1, 2);
    ck_assert_msg(next == 2, "1 gave its turn up and %llu got it, want 2", (unsigned long long)next);
    ck_assert_msg(turns_done(&tu, 2, 3) == 0, "nobody waits, yet %llu was named", (unsigned long long)tu.holder);
    ck_assert_uint_eq(tu.holder, 0);
    ck_assert_msg(turns_ask(&tu, 3, 4), "a free turn was refused");
    turns_free(&tu);
}
END_TEST

START_TEST(turns_asking_twice_queues_once)
{
    struct turns tu;
    mk(&tu, 8);
    ck_assert(turns_ask(&tu, 1, 0));
    for (int i = 0; i < 5; i++)
        ck_assert(!turns_ask(&tu, 2, (uint64_t)i));
    ck_assert_uint_eq(tu.nwaiting, 1);
    ck_assert_uint_eq(turns_done(&tu, 1, 10), 2);
    ck_assert_msg(turns_done(&tu, 2, 11) == 0, "2 was queued more than once");
    turns_free(&tu);
}
END_TEST

START_TEST(turns_stale_turn_is_taken_over)
{
    /* A holder whose blocks do not leave keeps the turn max_ms (1000 ms), not longer. */
    struct turns tu;
    mk(&tu, 8);
    ck_assert(turns_ask(&tu, 1, 100));
    ck_assert_msg(!turns_ask(&tu, 2, 1100), "the turn was taken over at max_ms, not after it");
    ck_assert_msg(turns_ask(&tu, 2, 1101), "a turn older than max_ms was not taken over");
    ck_assert_uint_eq(tu.nwaiting, 0); /* 2 left the queue when it took the turn */
    ck_assert_msg(turns_used(&tu, 1, BLOCK, 1102) == 2,
                  "the old holder did not learn that its turn was taken over");
    /* A clock that reads earlier on another thread does not make a turn stale. */
    ck_assert(!turns_ask(&tu, 3, 50));
    turns_free(&tu);
}
END_TEST

START_TEST(turns_forget_a_waiter_and_the_holder)
{
    struct turns tu;
    mk(&tu, 8);
    ck_assert(turns_ask(&tu, 1, 0));
    ck_assert(!turns_ask(&tu, 2, 0));
    ck_assert(!turns_ask(&tu, 3, 0));
    ck_assert(!turns_ask(&tu, 4, 0));
    ck_assert_msg(turns_forget(&tu, 3, 1) == 0, "forgetting a waiter passed the turn");
    ck_assert_uint_eq(tu.nwaiting, 2);
    uint64_t next = turns_forget(&tu, 1, 2);
    ck_assert_msg(next == 2, "the holder closed and %llu got the turn, want 2",
                  (unsigned long long)next);
    next = turns_done(&tu, 2, 3);
    ck_assert_msg(next == 4, "3 had closed, yet the turn went to %llu", (unsigned long long)next);
    turns_free(&tu);
}
END_TEST

START_TEST(turns_full_queue_is_safe)
{
    /* More connections than cap: the extra ones are not queued, and get in when the turn is
     * free. */
    struct turns tu;
    mk(&tu, 2);
    ck_assert(turns_ask(&tu, 1, 0));
    ck_assert(!turns_ask(&tu, 2, 0));
    ck_assert(!turns_ask(&tu, 3, 0));
    ck_assert(!turns_ask(&tu, 4, 0));
    ck_assert_uint_eq(tu.nwaiting, 2);
    ck_assert_uint_eq(turns_done(&tu, 1, 1), 2);
    ck_assert_uint_eq(turns_done(&tu, 2, 2), 3);
    ck_assert_uint_eq(turns_done(&tu, 3, 3), 0);
    ck_assert(turns_ask(&tu, 4, 4));
    turns_free(&tu);
}
END_TEST

/* A seed serves npeers peers that each want one 16-block piece, one block per step (what the
 * upload limit lets out), as the peer threads do: each peer with blocks left asks for the turn,
 * and the limiter's next block goes to whoever may send. With turns, only the holder may; without
 * them (the way minitorrent shared its limit before), the peers send in rotation. Writes the step
 * at which each piece became whole into done[] and returns the mean. */
static double serve_pieces(bool with_turns, unsigned npeers, unsigned *done)
{
    struct turns tu;
    mk(&tu, 16);
    unsigned left[8];
    for (unsigned k = 0; k < npeers; k++)
        left[k] = 16;
    unsigned step = 0, rot = 0, sum = 0;
    for (unsigned sent = 0; sent < 16 * npeers;) {
        unsigned who = npeers;
        for (unsigned j = 0; j < npeers && who == npeers; j++) {
            unsigned k = (rot + j) % npeers;
            if (left[k] > 0 && (!with_turns || turns_ask(&tu, k + 1, step)))
                who = k;
        }
        ck_assert_msg(who < npeers, "step %u: nobody may send, %u blocks left", step, 16 * npeers - sent);
        rot = (who + 1) % npeers;
        step++;
        sent++;
        if (with_turns)
            (void)turns_used(&tu, who + 1, BLOCK, step);
        if (--left[who] == 0) {
            done[who] = step;
            sum += step;
            if (with_turns)
                (void)turns_done(&tu, who + 1, step);
        }
    }
    turns_free(&tu);
    return (double)sum / npeers;
}

START_TEST(turns_make_pieces_whole_sooner)
{
    /* Five peers, a piece each, the same 80 blocks sent either way. Shared block by block, every
     * piece is whole only at the end (steps 76-80); by turns, one piece is whole every 16 steps
     * (16, 32, ..., 80): 48 steps on average instead of 78, the last no later. */
    unsigned with[8], without[8];
    double mean_with = serve_pieces(true, 5, with);
    double mean_without = serve_pieces(false, 5, without);
    printf("turns_make_pieces_whole_sooner: pieces whole at steps %u %u %u %u %u (mean %.1f) by "
           "turns, %u %u %u %u %u (mean %.1f) block by block\n",
           with[0], with[1], with[2], with[3], with[4], mean_with, without[0], without[1],
           without[2], without[3], without[4], mean_without);
    ck_assert_msg(mean_with == 48.0, "by turns the pieces were whole at %.1f steps on average, want 48",
                  mean_with);
    ck_assert_msg(mean_without == 78.0, "block by block the pieces were whole at %.1f on average, want 78",
                  mean_without);
    unsigned last = 0;
    for (int k = 0; k < 5; k++)
        last = with[k] > last ? with[k] : last;
    ck_assert_uint_eq(last, 80);
}
END_TEST

static Suite *turns_suite(void)
{
    Suite *s = suite_create("turns");
    TCase *tc = tcase_create("turns");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, turns_first_asker_holds_the_others_wait);
    tcase_add_test(tc, turns_pass_after_a_piece_in_the_order_asked);
    tcase_add_test(tc, turns_holder_alone_keeps_it);
    tcase_add_test(tc, turns_done_passes_on_or_frees);
    tcase_add_test(tc, turns_asking_twice_queues_once);
    tcase_add_test(tc, turns_stale_turn_is_taken_over);
    tcase_add_test(tc, turns_forget_a_waiter_and_the_holder);
    tcase_add_test(tc, turns_full_queue_is_safe);
    tcase_add_test(tc, turns_make_pieces_whole_sooner);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(turns_suite)
