/*
 * check_serve.c - a seed serving one peer's requests under an upload limit.
 *
 * Under --up-rate a connection queues only a little more than the limiter lets out (64 KiB), so
 * that the rates the choker sees are what really left. The limiter's burst, though, is a tenth of
 * a second's worth: more than 64 KiB at 4 MiB/s. One send can then empty the outbox while the
 * peer's requests still wait. A peer that has asked for all it wants waits in silence, so nothing
 * it sends will wake the connection's thread: the thread must serve the next requests at once,
 * not when its poll times out a second later (see peer_main in shell/peer.c).
 *
 * A scripted peer (tests/lib/evilpeer.c) takes one block from a seed limited to 4 MiB/s, pauses,
 * asks for every block of the 4 MiB file, 256 requests at once, and then only reads. At the limit
 * the blocks take about a second; a thread that slept once per outbox would need about a minute.
 */
#include "evilpeer.h"
#include "minifix.h"
#include "testlib.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 4 MiB in 256 KiB pieces: 16 pieces of 16 blocks. */
enum { SIZE = 4 * 1024 * 1024, PIECE = 256 * 1024, BLOCKS = SIZE / WIRE_BLOCK_LEN };

static struct mf fx;

START_TEST(serve_keeps_sending_to_a_peer_that_only_waits)
{
    static struct tk_proc seed;
    mf_make_root(&fx, "serve", (const char *const[]){"seed", NULL});
    char src[256], dir[256];
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, SIZE, 11);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, "256K");
    mf_path(&fx, dir, sizeof dir, "seed");
    int port = mf_start_seed(&fx, &seed, dir, (const char *const[]){"--up-rate", "4M", NULL});

    /* The file itself, to compare every block against. */
    unsigned char *file = malloc(SIZE);
    ck_assert_ptr_nonnull(file);
    FILE *f = fopen(src, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(file, 1, SIZE, f), SIZE);
    fclose(f);

    static struct ep e;
    ck_assert_int_eq(ep_load_torrent(&e, fx.torrent, 1), 0);
    ck_assert_int_eq(ep_connect(&e, port), 0);
    ck_assert_int_eq(ep_handshake(&e, ep_scaled_ms(5000)), 0);
    unsigned char msg[WIRE_REQUEST_SIZE];
    ck_assert_int_eq(ep_send(&e, msg, wire_put_interested(msg)), 0);
    struct wire_msg m;
    ck_assert_msg(ep_wait_type(&e, WIRE_UNCHOKE, ep_scaled_ms(10000), &m) == 1,
                  "the seed never unchoked an interested peer:\n%s", mf_tail(&seed));

    /* One block first, which starts the seed's upload limiter (the bucket starts empty, and
     * fills only while unused). Then the peer pauses for half a second, as a peer does when it has
     * nothing to ask for: the bucket fills to its burst, 400 KiB, more than the seed queues. */
    ck_assert_int_eq(ep_send(&e, msg, wire_put_request(msg, 0, 0, WIRE_BLOCK_LEN)), 0);
    ck_assert_msg(ep_wait_type(&e, WIRE_PIECE, ep_scaled_ms(10000), &m) == 1,
                  "the seed never answered a request");
    poll(NULL, 0, 500);

    /* Every block, asked for at once; from here on the peer only reads. */
    static unsigned char reqs[BLOCKS * WIRE_REQUEST_SIZE];
    for (uint32_t i = 0; i < BLOCKS; i++)
        wire_put_request(reqs + i * WIRE_REQUEST_SIZE, i / (PIECE / WIRE_BLOCK_LEN),
                         i % (PIECE / WIRE_BLOCK_LEN) * WIRE_BLOCK_LEN, WIRE_BLOCK_LEN);
    ck_assert_int_eq(ep_send(&e, reqs, sizeof reqs), 0);

    /* A second at the limit; the deadline leaves ten times that, far below the minute that a
     * thread sleeping once per outbox would take. */
    long long t0 = tk_now_ms(), deadline = t0 + ep_scaled_ms(10000);
    static bool got[BLOCKS];
    int blocks = 0;
    while (blocks < BLOCKS) {
        long long left = deadline - tk_now_ms();
        int r = left > 0 ? ep_wait_type(&e, WIRE_PIECE, (int)left, &m) : -1;
        ck_assert_msg(r == 1, "%d of %d blocks arrived in %lld ms (%s)", blocks, BLOCKS,
                      tk_now_ms() - t0, r == 0 ? "the seed closed the connection" : "timed out");
        ck_assert_uint_eq(m.data_len, WIRE_BLOCK_LEN);
        uint32_t i = m.index * (PIECE / WIRE_BLOCK_LEN) + m.begin / WIRE_BLOCK_LEN;
        ck_assert_uint_lt(i, BLOCKS);
        ck_assert_msg(!got[i], "block %u came twice", i);
        ck_assert_msg(memcmp(m.data, file + (size_t)i * WIRE_BLOCK_LEN, WIRE_BLOCK_LEN) == 0,
                      "block %u holds the wrong bytes", i);
        got[i] = true;
        blocks++;
    }
    printf("serve_keeps_sending_to_a_peer_that_only_waits: %d blocks (4 MiB at 4 MiB/s) in "
           "%lld ms\n",
           blocks, tk_now_ms() - t0);

    free(file);
    ep_close(&e);
    ck_assert_int_eq(tk_stop(&seed, ep_scaled_ms(10000)), 0);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

static Suite *serve_suite(void)
{
    Suite *s = suite_create("serve");
    TCase *tc = tk_tcase(s, "serve", 60);
    tk_add_test(tc, serve_keeps_sending_to_a_peer_that_only_waits);
    return s;
}

TK_MAIN(serve_suite)
