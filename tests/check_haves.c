/*
 * check_haves.c - whom a downloader tells of the pieces it gets.
 *
 * A HAVE message tells a peer that we now hold a piece, so that it may ask us for it. A peer
 * that holds the piece already will never ask, so minitorrent does not tell it: in a busy swarm
 * such HAVEs are most of the messages, and waking a connection's thread to send one cost more
 * processor time than the data (see sync_locked in shell/peer.c).
 *
 * The test runs a real `minitorrent get` and two scripted peers (tests/lib/evilpeer.c) connected
 * to it before it has anything: FULL offers every piece and never unchokes, EMPTY offers
 * nothing. Then a seed appears and the download runs. EMPTY must hear of every piece; FULL of
 * none. The end of FULL's stream is marked without a clock: when the download is complete the
 * downloader has no more interest in FULL and says so, and on one connection that NOT_INTERESTED
 * comes after any HAVE queued before it.
 */
#include "evilpeer.h"
#include "minifix.h"
#include "testlib.h"

#include <stdio.h>
#include <string.h>

/* 1 MiB in 64 KiB pieces: 16 pieces, a bitfield of two whole bytes. */
enum { SIZE = 1024 * 1024, PIECE = 64 * 1024, PIECES = SIZE / PIECE };

static struct mf fx;

START_TEST(haves_go_only_to_peers_that_lack_the_piece)
{
    static struct tk_proc get, seed;
    mf_make_root(&fx, "haves", (const char *const[]){"seed", "get", NULL});
    char src[256], dir[256];
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, SIZE, 7);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, "64K");
    mf_path(&fx, dir, sizeof dir, "get");
    int port = mf_start_get(&fx, &get, dir, (const char *const[]){"--keep-seeding", NULL});

    /* FULL: every piece, announced in a bitfield. The downloader is interested in it once it has
     * read the bitfield, which is how we know FULL is counted before any piece arrives. */
    static struct ep full, empty;
    ck_assert_int_eq(ep_load_torrent(&full, fx.torrent, 1), 0);
    ck_assert_int_eq(ep_load_torrent(&empty, fx.torrent, 2), 0);
    ck_assert_int_eq(ep_connect(&full, port), 0);
    ck_assert_int_eq(ep_handshake(&full, ep_scaled_ms(5000)), 0);
    unsigned char bits[PIECES / 8], msg[64];
    memset(bits, 0xff, sizeof bits);
    ck_assert_int_eq(ep_send(&full, msg, wire_put_bitfield(msg, sizeof msg, bits, sizeof bits)), 0);
    struct wire_msg m;
    ck_assert_msg(ep_wait_type(&full, WIRE_INTERESTED, ep_scaled_ms(5000), &m) == 1,
                  "the downloader never said it was interested in a peer with every piece");
    ck_assert_int_eq(ep_connect(&empty, port), 0);
    ck_assert_int_eq(ep_handshake(&empty, ep_scaled_ms(5000)), 0);

    mf_path(&fx, dir, sizeof dir, "seed");
    mf_start_seed(&fx, &seed, dir, NULL);

    /* EMPTY hears of every piece, each once. */
    bool told[PIECES] = {false};
    int distinct = 0;
    while (distinct < PIECES) {
        int r = ep_wait_type(&empty, WIRE_HAVE, ep_scaled_ms(20000), &m);
        ck_assert_msg(r == 1, "the peer with nothing heard of %d of %d pieces:\n%s", distinct,
                      PIECES, mf_tail(&get));
        ck_assert_uint_lt(m.index, PIECES);
        ck_assert_msg(!told[m.index], "piece %u was announced twice", m.index);
        told[m.index] = true;
        distinct++;
    }

    /* FULL hears of none, up to the NOT_INTERESTED that ends the download. */
    int haves = 0;
    for (;;) {
        int r = ep_next_msg(&full, ep_scaled_ms(10000), &m);
        ck_assert_msg(r == 1, "no NOT_INTERESTED after the download completed (%s)",
                      r == 0 ? "the connection closed" : "timed out");
        if (m.type == WIRE_NOT_INTERESTED)
            break;
        haves += m.type == WIRE_HAVE;
    }
    printf("haves_go_only_to_peers_that_lack_the_piece: the peer with nothing heard of %d "
           "pieces, the peer with every piece of %d\n",
           distinct, haves);
    ck_assert_msg(haves == 0, "the peer with every piece was told of %d pieces it has", haves);

    ep_close(&full);
    ep_close(&empty);
    ck_assert_int_eq(tk_stop(&get, ep_scaled_ms(10000)), 0);
    ck_assert_int_eq(tk_stop(&seed, ep_scaled_ms(10000)), 0);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

static Suite *haves_suite(void)
{
    Suite *s = suite_create("haves");
    TCase *tc = tk_tcase(s, "haves", 60);
    tk_add_test(tc, haves_go_only_to_peers_that_lack_the_piece);
    return s;
}

TK_MAIN(haves_suite)
