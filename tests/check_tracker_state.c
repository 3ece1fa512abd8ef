/*
 * check_tracker_state.c - the tracker's memory with a fake clock: announces, who may change an
 * entry (peer-id hijacks), expiry, the peers' rates from their counters, picking peers, caps
 * under floods (also from one address), and a random differential test.
 */
#include "testlib.h"
#include "tracker_state.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

/* Makes a 20-byte id whose first bytes spell n, so tests can create many distinct ids. */
static void make_id(unsigned char id[20], char tag, unsigned n)
{
    memset(id, tag, 20);
    id[16] = (unsigned char)(n >> 24);
    id[17] = (unsigned char)(n >> 16);
    id[18] = (unsigned char)(n >> 8);
    id[19] = (unsigned char)n;
}

/* Fills an announce for torrent t, peer p, from 10.x.y.z:port. */
static struct tracker_state_announce ann(unsigned t, unsigned p, uint16_t port, uint64_t left,
                                         enum tracker_event ev)
{
    struct tracker_state_announce a;
    memset(&a, 0, sizeof a);
    make_id(a.info_hash, 'T', t);
    make_id(a.peer.peer_id, 'P', p);
    a.peer.family = 4;
    a.peer.ip[0] = 10;
    a.peer.ip[1] = (unsigned char)(p >> 16);
    a.peer.ip[2] = (unsigned char)(p >> 8);
    a.peer.ip[3] = (unsigned char)p;
    a.peer.port = port;
    a.left = left;
    a.event = ev;
    return a;
}

/* Starts a tracker with the given caps and time-to-live. */
static void start(struct tracker_state *ts, size_t torrents, size_t per, size_t total, int64_t ttl)
{
    struct tracker_state_config cfg = {torrents, per, total, ttl, 0, 0, 0};
    char err[128];
    ck_assert_int_eq(tracker_state_init(ts, &cfg, 12345, err, sizeof err), TRACKER_STATE_OK);
}

/* Announces and insists it worked. */
static void must_announce(struct tracker_state *ts, struct tracker_state_announce a, int64_t now)
{
    char err[128] = "";
    ck_assert_msg(tracker_state_announce(ts, &a, now, err, sizeof err) == TRACKER_STATE_OK, "%s",
                  err);
}

/* Checks the invariants. */
static void must_be_valid(const struct tracker_state *ts)
{
    char err[128] = "";
    ck_assert_msg(tracker_state_check(ts, err, sizeof err) == 0, "invariant broken: %s", err);
}

/* Returns the scrape counts of torrent t. */
static struct tracker_scrape_counts counts(const struct tracker_state *ts, unsigned t)
{
    unsigned char ih[20];
    struct tracker_scrape_counts c;
    make_id(ih, 'T', t);
    tracker_state_scrape(ts, ih, &c);
    return c;
}

/* ---------------------------------------------------------------- announce, update, stop */

START_TEST(tracker_state_announce_and_scrape)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 60);
    must_announce(&ts, ann(1, 1, 6881, 0, TRACKER_EVENT_STARTED), 0);
    must_announce(&ts, ann(1, 2, 6881, 500, TRACKER_EVENT_STARTED), 0);
    must_announce(&ts, ann(1, 3, 6881, 700, TRACKER_EVENT_NONE), 0);
    must_announce(&ts, ann(2, 1, 6881, 9, TRACKER_EVENT_STARTED), 0);
    struct tracker_scrape_counts c = counts(&ts, 1);
    ck_assert_uint_eq(c.complete, 1);
    ck_assert_uint_eq(c.incomplete, 2);
    ck_assert_uint_eq(c.downloaded, 0);
    c = counts(&ts, 2);
    ck_assert_uint_eq(c.complete, 0);
    ck_assert_uint_eq(c.incomplete, 1);

    unsigned char ih[20];
    make_id(ih, 'T', 3);
    ck_assert_int_eq(tracker_state_scrape(&ts, ih, &c), 0);
    ck_assert_uint_eq(c.complete + c.incomplete + c.downloaded, 0);
    ck_assert_uint_eq(ts.ntorrents, 2);
    ck_assert_uint_eq(ts.npeers_total, 4);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* Returns the one peer of torrent t, failing unless there is exactly one. */
static struct tracker_peer only_peer(const struct tracker_state *ts, unsigned t)
{
    struct tracker_peer out[4];
    uint64_t rng = 1;
    unsigned char ih[20];
    make_id(ih, 'T', t);
    ck_assert_uint_eq(tracker_state_pick(ts, ih, NULL, out, 4, &rng), 1);
    return out[0];
}

/* Sets an announce's BEP 7 key. */
static void set_key(struct tracker_state_announce *a, const char *key)
{
    a->key_len = strlen(key);
    memcpy(a->key, key, a->key_len);
}

/* The attack: someone reads a peer's id (a non-compact reply lists it) and announces it from
 * another address, to move the entry there, or says "stopped" to delete it. Both are refused
 * and the entry stays where its owner put it; the owner itself, from its own address and port,
 * still updates and removes it. */
START_TEST(tracker_state_peer_id_hijack_refused)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 60);
    struct tracker_state_announce owner = ann(1, 7, 6881, 100, TRACKER_EVENT_STARTED);
    must_announce(&ts, owner, 0);

    char err[160] = "";
    struct tracker_state_announce evil = ann(1, 7, 6881, 0, TRACKER_EVENT_NONE);
    evil.peer.ip[0] = 66; /* same peer id and port, another address */
    ck_assert_int_eq(tracker_state_announce(&ts, &evil, 1, err, sizeof err), TRACKER_STATE_EDENIED);
    ck_assert_ptr_nonnull(strstr(err, "another address"));
    evil.event = TRACKER_EVENT_STOPPED;
    ck_assert_int_eq(tracker_state_announce(&ts, &evil, 1, err, sizeof err), TRACKER_STATE_EDENIED);
    /* The same address with another port is another peer too (two clients behind one NAT). */
    struct tracker_state_announce other_port = ann(1, 7, 7000, 0, TRACKER_EVENT_STOPPED);
    ck_assert_int_eq(tracker_state_announce(&ts, &other_port, 1, err, sizeof err),
                     TRACKER_STATE_EDENIED);

    struct tracker_peer p = only_peer(&ts, 1);
    ck_assert_mem_eq(p.ip, owner.peer.ip, 4);
    ck_assert_uint_eq(p.port, 6881);
    ck_assert_uint_eq(counts(&ts, 1).incomplete, 1); /* "left" was not changed either */
    must_be_valid(&ts);

    owner.event = TRACKER_EVENT_STOPPED;
    must_announce(&ts, owner, 2);
    ck_assert_uint_eq(ts.npeers_total, 0);
    ck_assert_uint_eq(ts.ntorrents, 0);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* A client that sent a BEP 7 key may announce from a new address (IPv4 to IPv6 here) and is
 * moved there in place; an announce with another key, or none, from elsewhere is refused. */
START_TEST(tracker_state_key_moves_entry)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 60);
    struct tracker_state_announce first = ann(1, 7, 6881, 100, TRACKER_EVENT_STARTED);
    set_key(&first, "1A2B3C4D");
    must_announce(&ts, first, 0);

    struct tracker_state_announce moved = ann(1, 7, 51413, 100, TRACKER_EVENT_NONE);
    moved.peer.family = 6;
    memset(moved.peer.ip, 0, 16);
    moved.peer.ip[15] = 1;
    char err[160];
    set_key(&moved, "1A2B3C4E");
    ck_assert_int_eq(tracker_state_announce(&ts, &moved, 5, err, sizeof err),
                     TRACKER_STATE_EDENIED);
    moved.key_len = 0;
    ck_assert_int_eq(tracker_state_announce(&ts, &moved, 5, err, sizeof err),
                     TRACKER_STATE_EDENIED);
    set_key(&moved, "1A2B3C4D");
    must_announce(&ts, moved, 10);

    struct tracker_peer p = only_peer(&ts, 1);
    ck_assert_uint_eq(ts.npeers_total, 1);
    ck_assert_int_eq(p.family, 6);
    ck_assert_uint_eq(p.port, 51413);
    ck_assert_mem_eq(p.ip, moved.peer.ip, 16);
    ck_assert_int_eq(p.has_peer_id, 1);
    ck_assert_mem_eq(p.peer_id, moved.peer.peer_id, 20);
    must_be_valid(&ts); /* the counts per address moved with it */
    /* The old address now holds nothing, so its whole share is free again. */
    ck_assert_uint_eq(ts.addrs.n, 1);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_left_moves_between_seeders_and_leechers)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 60);
    must_announce(&ts, ann(1, 1, 1, 100, TRACKER_EVENT_STARTED), 0);
    ck_assert_uint_eq(counts(&ts, 1).complete, 0);
    must_announce(&ts, ann(1, 1, 1, 0, TRACKER_EVENT_COMPLETED), 1);
    ck_assert_uint_eq(counts(&ts, 1).complete, 1);
    ck_assert_uint_eq(counts(&ts, 1).incomplete, 0);
    /* A seeder that finds corruption becomes a leecher again. */
    must_announce(&ts, ann(1, 1, 1, 16384, TRACKER_EVENT_NONE), 2);
    ck_assert_uint_eq(counts(&ts, 1).complete, 0);
    ck_assert_uint_eq(counts(&ts, 1).incomplete, 1);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_completed_counted_once_per_peer)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 60);
    must_announce(&ts, ann(1, 1, 1, 0, TRACKER_EVENT_COMPLETED), 0);
    must_announce(&ts, ann(1, 1, 1, 0, TRACKER_EVENT_COMPLETED), 1);
    must_announce(&ts, ann(1, 2, 1, 0, TRACKER_EVENT_COMPLETED), 1);
    ck_assert_uint_eq(counts(&ts, 1).downloaded, 2);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_stopped_removes)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 60);
    must_announce(&ts, ann(1, 1, 1, 0, TRACKER_EVENT_STARTED), 0);
    must_announce(&ts, ann(1, 2, 1, 5, TRACKER_EVENT_STARTED), 0);
    must_announce(&ts, ann(1, 1, 1, 0, TRACKER_EVENT_STOPPED), 1);
    ck_assert_uint_eq(counts(&ts, 1).complete, 0);
    ck_assert_uint_eq(counts(&ts, 1).incomplete, 1);
    /* Stopping twice, or stopping a stranger, is harmless. */
    must_announce(&ts, ann(1, 1, 1, 0, TRACKER_EVENT_STOPPED), 1);
    must_announce(&ts, ann(9, 1, 1, 0, TRACKER_EVENT_STOPPED), 1);
    ck_assert_uint_eq(ts.ntorrents, 1);
    /* The last peer leaving makes the tracker forget the torrent. */
    must_announce(&ts, ann(1, 2, 1, 5, TRACKER_EVENT_STOPPED), 2);
    ck_assert_uint_eq(ts.ntorrents, 0);
    ck_assert_uint_eq(ts.npeers_total, 0);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* ---------------------------------------------------------------- expiry */

START_TEST(tracker_state_expire_stale_peers)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 150);
    must_announce(&ts, ann(1, 1, 1, 0, TRACKER_EVENT_STARTED), 0);
    must_announce(&ts, ann(1, 2, 1, 5, TRACKER_EVENT_STARTED), 100);
    must_announce(&ts, ann(2, 3, 1, 5, TRACKER_EVENT_STARTED), 0);
    /* At 150 s, the oldest are exactly at their time-to-live: still there. */
    ck_assert_uint_eq(tracker_state_expire(&ts, 150), 0);
    ck_assert_uint_eq(ts.npeers_total, 3);
    /* At 151 s they are gone, and torrent 2 with them; peer 2 (seen at 100) stays. */
    ck_assert_uint_eq(tracker_state_expire(&ts, 151), 2);
    ck_assert_uint_eq(ts.npeers_total, 1);
    ck_assert_uint_eq(ts.ntorrents, 1);
    ck_assert_uint_eq(counts(&ts, 1).incomplete, 1);
    ck_assert_uint_eq(counts(&ts, 1).complete, 0);
    must_be_valid(&ts);
    /* A re-announce refreshes the clock. */
    must_announce(&ts, ann(1, 2, 1, 5, TRACKER_EVENT_NONE), 240);
    ck_assert_uint_eq(tracker_state_expire(&ts, 260), 0);
    ck_assert_uint_eq(tracker_state_expire(&ts, 391), 1);
    ck_assert_uint_eq(ts.ntorrents, 0);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* ---------------------------------------------------------------- picking */

/* ---------------------------------------------------------------- rates */

/* Returns the entry of peer p in torrent t (which must exist). */
static const struct tracker_state_peer *entry(const struct tracker_state *ts, unsigned t,
                                              unsigned p)
{
    unsigned char ih[20], id[20];
    make_id(ih, 'T', t);
    make_id(id, 'P', p);
    for (size_t i = 0; i < ts->ntorrents; i++)
        if (memcmp(ts->torrents[i].info_hash, ih, 20) == 0)
            for (size_t k = 0; k < ts->torrents[i].npeers; k++)
                if (memcmp(ts->torrents[i].peers[k].addr.peer_id, id, 20) == 0)
                    return &ts->torrents[i].peers[k];
    ck_abort_msg("peer %u of torrent %u is not there", p, t);
    return NULL;
}

/* Announces peer p of torrent 1 with its counters at ms on the caller's clock. */
static void counters(struct tracker_state *ts, unsigned p, uint64_t up, uint64_t down, int64_t ms)
{
    struct tracker_state_announce a = ann(1, p, 6881, 1000, TRACKER_EVENT_NONE);
    a.uploaded = up;
    a.downloaded = down;
    a.now_ms = ms;
    must_announce(ts, a, ms / 1000);
}

/* The rates are the growth of the counters between two announces over the milliseconds between
 * them, per peer. */
START_TEST(tracker_state_rates_from_two_announces)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 600);
    counters(&ts, 1, 0, 1000, 10000);
    counters(&ts, 2, 7, 7, 10100);
    ck_assert(entry(&ts, 1, 1)->up_Bps == 0 && entry(&ts, 1, 1)->down_Bps == 0); /* one sample */
    counters(&ts, 1, 500000, 201000, 12000); /* two seconds later */
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 250000);
    ck_assert_uint_eq(entry(&ts, 1, 1)->down_Bps, 100000);
    ck_assert(entry(&ts, 1, 2)->up_Bps == 0 && entry(&ts, 1, 2)->down_Bps == 0); /* others: not */
    counters(&ts, 1, 500000, 251000, 12500); /* it stopped uploading */
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 0);
    ck_assert_uint_eq(entry(&ts, 1, 1)->down_Bps, 100000);
    counters(&ts, 1, 501000, 251000, 12503); /* 1000 bytes in 3 ms, rounded down */
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 333333);
    counters(&ts, 2, 7 + 3000, 7, 13100);
    ck_assert_uint_eq(entry(&ts, 1, 2)->up_Bps, 1000);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* A restarted client counts from 0 again: a counter that goes down resets the rates (rather than
 * showing a wrapped-around difference), and the next announce measures from the restart. Two
 * announces in the same millisecond, or a clock that goes back, leave the rates alone. */
START_TEST(tracker_state_rates_reset_and_same_time)
{
    struct tracker_state ts;
    start(&ts, 10, 10, 100, 600);
    counters(&ts, 1, 1000000, 1000000, 5000);
    counters(&ts, 1, 2000000, 1500000, 6000);
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 1000000);
    counters(&ts, 1, 3000, 2000000, 7000); /* restarted: "uploaded" went down */
    ck_assert(entry(&ts, 1, 1)->up_Bps == 0 && entry(&ts, 1, 1)->down_Bps == 0);
    counters(&ts, 1, 4000, 2000000, 7500);
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 2000);
    counters(&ts, 1, 4000, 1000, 8000); /* "downloaded" went down alone: a reset too */
    ck_assert(entry(&ts, 1, 1)->up_Bps == 0 && entry(&ts, 1, 1)->down_Bps == 0);
    counters(&ts, 1, 6000, 3000, 9000);
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 2000);
    counters(&ts, 1, 9000, 9000, 9000); /* the same millisecond: no new rate */
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 2000);
    counters(&ts, 1, 9500, 9500, 8000); /* the clock went back: no new rate either */
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 2000);
    counters(&ts, 1, 10000, 3000 + 7000, 10000); /* measured from 9000 ms, over the whole second */
    ck_assert_uint_eq(entry(&ts, 1, 1)->up_Bps, 4000);
    ck_assert_uint_eq(entry(&ts, 1, 1)->down_Bps, 7000);
    /* Stopped and back: a new entry, nothing to compare with. */
    struct tracker_state_announce bye = ann(1, 1, 6881, 1000, TRACKER_EVENT_STOPPED);
    must_announce(&ts, bye, 11);
    counters(&ts, 1, 1000000, 1000000, 12000);
    ck_assert(entry(&ts, 1, 1)->up_Bps == 0 && entry(&ts, 1, 1)->down_Bps == 0);
    /* Counters from the network may be anything: no overflow, the rate saturates. */
    counters(&ts, 1, UINT64_MAX, 1000000, 12001);
    ck_assert(entry(&ts, 1, 1)->up_Bps == UINT64_MAX);
    counters(&ts, 2, 0, 0, 0);
    counters(&ts, 2, UINT64_MAX, UINT64_MAX / 1000, 2000);
    ck_assert(entry(&ts, 1, 2)->up_Bps == UINT64_MAX / 2000 * 1000);
    ck_assert(entry(&ts, 1, 2)->down_Bps == UINT64_MAX / 1000 * 1000 / 2000);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_pick_excludes_caller)
{
    struct tracker_state ts;
    start(&ts, 10, 1000, 1000, 60);
    for (unsigned p = 0; p < 100; p++)
        must_announce(&ts, ann(1, p, (uint16_t)(1000 + p), 1, TRACKER_EVENT_STARTED), 0);
    unsigned char ih[20], me[20];
    make_id(ih, 'T', 1);
    make_id(me, 'P', 42);
    struct tracker_peer out[TRACKER_STATE_PICK_MAX];
    uint64_t rng = 99;
    for (int round = 0; round < 50; round++) {
        size_t n = tracker_state_pick(&ts, ih, me, out, 50, &rng);
        ck_assert_uint_eq(n, 50);
        int seen[100] = {0};
        for (size_t i = 0; i < n; i++) {
            unsigned p = out[i].port - 1000u;
            ck_assert_uint_lt(p, 100);
            ck_assert_uint_ne(p, 42);
            ck_assert_msg(!seen[p], "peer %u listed twice", p);
            seen[p] = 1;
        }
    }
    /* Asking for more than there are gives everyone else, exactly once. */
    ck_assert_uint_eq(tracker_state_pick(&ts, ih, me, out, 150, &rng), 99);
    ck_assert_uint_eq(tracker_state_pick(&ts, ih, NULL, out, 150, &rng), 100);
    ck_assert_uint_eq(tracker_state_pick(&ts, ih, me, out, 0, &rng), 0);
    make_id(ih, 'T', 2);
    ck_assert_uint_eq(tracker_state_pick(&ts, ih, me, out, 50, &rng), 0);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_pick_capped)
{
    struct tracker_state ts;
    start(&ts, 10, 1000, 1000, 60);
    for (unsigned p = 0; p < 300; p++)
        must_announce(&ts, ann(1, p, 1, 1, TRACKER_EVENT_STARTED), 0);
    unsigned char ih[20];
    make_id(ih, 'T', 1);
    static struct tracker_peer out[300];
    uint64_t rng = 5;
    ck_assert_uint_eq(tracker_state_pick(&ts, ih, NULL, out, 300, &rng), TRACKER_STATE_PICK_MAX);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_pick_is_uniform)
{
    /* Picking 3 of 10 others, each peer should come up 30% of the time. */
    struct tracker_state ts;
    start(&ts, 10, 100, 100, 60);
    for (unsigned p = 0; p <= 10; p++)
        must_announce(&ts, ann(1, p, (uint16_t)(1000 + p), 1, TRACKER_EVENT_STARTED), 0);
    unsigned char ih[20], me[20];
    make_id(ih, 'T', 1);
    make_id(me, 'P', 0);
    struct tracker_peer out[3];
    uint64_t seed = 2024, rng = seed;
    int hits[11] = {0};
    const int trials = 20000;
    for (int i = 0; i < trials; i++) {
        ck_assert_uint_eq(tracker_state_pick(&ts, ih, me, out, 3, &rng), 3);
        for (int k = 0; k < 3; k++)
            hits[out[k].port - 1000]++;
    }
    ck_assert_int_eq(hits[0], 0);
    for (int p = 1; p <= 10; p++)
        ck_assert_msg(hits[p] > trials * 28 / 100 && hits[p] < trials * 32 / 100,
                      "seed %llu: peer %d picked %d times of %d", (unsigned long long)seed, p,
                      hits[p], trials);
    tracker_state_free(&ts);
}
END_TEST

/* ---------------------------------------------------------------- caps and floods */

START_TEST(tracker_state_flood_of_info_hashes_is_bounded)
{
    struct tracker_state ts;
    start(&ts, 64, 100, 1000, 60);
    must_announce(&ts, ann(0, 0, 1, 1, TRACKER_EVENT_STARTED), 0);
    int refused = 0;
    char err[128];
    for (unsigned t = 1; t <= 10000; t++) {
        struct tracker_state_announce a = ann(t, t, 1, 1, TRACKER_EVENT_STARTED);
        int rc = tracker_state_announce(&ts, &a, 1, err, sizeof err);
        if (rc == TRACKER_STATE_EFULL) {
            refused++;
            ck_assert_str_eq(err, "tracker full: too many torrents");
        } else {
            ck_assert_int_eq(rc, TRACKER_STATE_OK);
        }
    }
    ck_assert_uint_eq(ts.ntorrents, 64);
    ck_assert_int_eq(refused, 10000 - 63);
    /* The peers already there keep being served. */
    must_announce(&ts, ann(0, 0, 1, 0, TRACKER_EVENT_NONE), 2);
    ck_assert_uint_eq(counts(&ts, 0).complete, 1);
    must_be_valid(&ts);
    /* Once the flood's entries expire, new torrents are welcome again. */
    tracker_state_expire(&ts, 62);
    ck_assert_uint_eq(ts.ntorrents, 1);
    must_announce(&ts, ann(20000, 1, 1, 1, TRACKER_EVENT_STARTED), 62);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_flood_of_peer_ids_is_bounded)
{
    struct tracker_state ts;
    start(&ts, 64, 100, 250, 60);
    char err[128];
    for (unsigned p = 0; p < 5000; p++) {
        struct tracker_state_announce a = ann(1, p, 1, 1, TRACKER_EVENT_STARTED);
        int rc = tracker_state_announce(&ts, &a, 0, err, sizeof err);
        ck_assert_int_eq(rc, p < 100 ? TRACKER_STATE_OK : TRACKER_STATE_EFULL);
    }
    ck_assert_str_eq(err, "tracker full: too many peers in this torrent");
    ck_assert_uint_eq(counts(&ts, 1).incomplete, 100);
    /* The total cap: torrents 2 and 3 take 100 and 50 more, then nothing fits anywhere. */
    for (unsigned t = 2; t <= 4; t++)
        for (unsigned p = 0; p < 100; p++) {
            struct tracker_state_announce a = ann(t, p, 1, 1, TRACKER_EVENT_STARTED);
            tracker_state_announce(&ts, &a, 0, err, sizeof err);
        }
    ck_assert_str_eq(err, "tracker full: too many peers");
    ck_assert_uint_eq(ts.npeers_total, 250);
    /* A refused first peer leaves no empty torrent behind. */
    ck_assert_uint_eq(ts.ntorrents, 3);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* Makes an announce of torrent t and peer p that comes from the one address 10.0.0.1. */
static struct tracker_state_announce from_one(unsigned t, unsigned p)
{
    struct tracker_state_announce a =
        ann(t, p, (uint16_t)(1000 + p % 60000), 1, TRACKER_EVENT_STARTED);
    memset(a.peer.ip, 0, 16);
    a.peer.ip[0] = 10;
    a.peer.ip[3] = 1;
    return a;
}

/* The attack: one address announces 1024 random info hashes, then many peer ids into one
 * torrent. It gets only its share of each table (64 torrents, 625 peers in one torrent, 6250
 * peers in all, by default), and every other address can still add new torrents and peers. */
START_TEST(tracker_state_one_address_gets_a_small_share)
{
    struct tracker_state ts;
    struct tracker_state_config cfg;
    tracker_state_config_default(&cfg, 60);
    char err[160] = "";
    ck_assert_int_eq(tracker_state_init(&ts, &cfg, 99, err, sizeof err), TRACKER_STATE_OK);
    const uint64_t seed = 0x5eed17;
    uint64_t rng = seed;
    int ok = 0, full = 0;
    for (unsigned i = 0; i < 1024; i++) {
        struct tracker_state_announce a = from_one(0, i);
        for (int k = 0; k < 20; k += 8) {
            uint64_t r = tracker_state_rand(&rng);
            memcpy(a.info_hash + k, &r, k + 8 <= 20 ? 8 : 4);
        }
        int rc = tracker_state_announce(&ts, &a, 0, err, sizeof err);
        ok += rc == TRACKER_STATE_OK;
        full += rc == TRACKER_STATE_EFULL;
    }
    ck_assert_msg(ok == 64 && full == 1024 - 64, "seed %llx: %d accepted, %d refused",
                  (unsigned long long)seed, ok, full);
    ck_assert_str_eq(err, "tracker full for your address: too many torrents");
    ck_assert_uint_eq(ts.ntorrents, 64);
    must_be_valid(&ts);

    /* Many peer ids into one torrent it is already in: 625 at most. */
    for (unsigned p = 0; p < 2000; p++) {
        struct tracker_state_announce a = from_one(0, 100000 + p);
        rng = seed;
        for (int k = 0; k < 20; k += 8) {
            uint64_t r = tracker_state_rand(&rng);
            memcpy(a.info_hash + k, &r, k + 8 <= 20 ? 8 : 4);
        }
        tracker_state_announce(&ts, &a, 0, err, sizeof err);
    }
    ck_assert_str_eq(err, "tracker full for your address: too many peers in this torrent");
    must_be_valid(&ts);

    /* Everyone else is still welcome: a new torrent, and a new peer in the flooded torrent. */
    for (unsigned t = 1; t <= 100; t++)
        must_announce(&ts, ann(t, 1000 + t, 6881, 1, TRACKER_EVENT_STARTED), 1);
    ck_assert_uint_eq(ts.ntorrents, 164);
    struct tracker_state_announce other = from_one(0, 5);
    other.peer.ip[3] = 2;
    rng = seed;
    for (int k = 0; k < 20; k += 8) {
        uint64_t r = tracker_state_rand(&rng);
        memcpy(other.info_hash + k, &r, k + 8 <= 20 ? 8 : 4);
    }
    must_announce(&ts, other, 1);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* The total cap per address over all torrents, and an IPv6 /64 counting as one address. */
START_TEST(tracker_state_ipv6_prefix_is_one_address)
{
    struct tracker_state ts;
    struct tracker_state_config cfg = {100, 100, 1000, 60, 50, 30, 20};
    char err[160] = "";
    ck_assert_int_eq(tracker_state_init(&ts, &cfg, 7, err, sizeof err), TRACKER_STATE_OK);
    int ok = 0;
    for (unsigned p = 0; p < 100; p++) {
        struct tracker_state_announce a = ann(p % 3, p, 6881, 1, TRACKER_EVENT_STARTED);
        a.peer.family = 6;
        memset(a.peer.ip, 0, 16);
        a.peer.ip[0] = 0x20;
        a.peer.ip[1] = 0x01;
        a.peer.ip[8] = (unsigned char)(p >> 8); /* the last 64 bits vary: the same subscriber */
        a.peer.ip[15] = (unsigned char)p;
        ok += tracker_state_announce(&ts, &a, 0, err, sizeof err) == TRACKER_STATE_OK;
    }
    ck_assert_int_eq(ok, 30);
    ck_assert_str_eq(err, "tracker full for your address: too many peers");
    must_be_valid(&ts);
    /* Expiry gives the share back. */
    tracker_state_expire(&ts, 100);
    ck_assert_uint_eq(ts.addrs.n, 0);
    struct tracker_state_announce a = ann(5, 5, 6881, 1, TRACKER_EVENT_STARTED);
    must_announce(&ts, a, 100);
    must_be_valid(&ts);
    tracker_state_free(&ts);

    /* A cap per address above the tracker's own cap is a configuration error. */
    struct tracker_state_config bad = {10, 10, 10, 60, 11, 0, 0};
    ck_assert_int_eq(tracker_state_init(&ts, &bad, 7, err, sizeof err), TRACKER_STATE_EINVAL);
}
END_TEST

START_TEST(tracker_state_rejects_bad_config)
{
    struct tracker_state ts;
    struct tracker_state_config cfg;
    char err[128] = "";
    tracker_state_config_default(&cfg, 1800);
    ck_assert_int_eq(cfg.peer_ttl_s, 3600);
    cfg.max_torrents = 0;
    ck_assert_int_eq(tracker_state_init(&ts, &cfg, 1, err, sizeof err), TRACKER_STATE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "limits"));
    tracker_state_config_default(&cfg, 0);
    ck_assert_int_eq(tracker_state_init(&ts, &cfg, 1, err, sizeof err), TRACKER_STATE_EINVAL);

    struct tracker_state_announce a = ann(1, 1, 1, 1, TRACKER_EVENT_STARTED);
    start(&ts, 4, 4, 4, 10);
    a.peer.family = 5;
    ck_assert_int_eq(tracker_state_announce(&ts, &a, 0, err, sizeof err), TRACKER_STATE_EINVAL);
    tracker_state_free(&ts);
}
END_TEST

/* ---------------------------------------------------------------- scale and a differential test */

START_TEST(tracker_state_ten_thousand_peers)
{
    /* 10k peers in one swarm, each announcing twice and picking 50: fast only if nothing is
     * quadratic (Check's default 4 s timeout would catch a quadratic scan under sanitizers). */
    struct tracker_state ts;
    start(&ts, 4, 10000, 10000, 3600);
    unsigned char ih[20];
    make_id(ih, 'T', 1);
    struct tracker_peer out[50];
    uint64_t rng = 7;
    for (int round = 0; round < 2; round++)
        for (unsigned p = 0; p < 10000; p++) {
            struct tracker_state_announce a = ann(1, p, 1, p % 3, TRACKER_EVENT_NONE);
            must_announce(&ts, a, round);
            ck_assert_uint_eq(tracker_state_pick(&ts, ih, a.peer.peer_id, out, 50, &rng),
                              p == 0 && round == 0 ? 0 : (p < 50 && round == 0 ? p : 50));
        }
    ck_assert_uint_eq(ts.npeers_total, 10000);
    must_be_valid(&ts);
    for (unsigned p = 0; p < 10000; p += 2)
        must_announce(&ts, ann(1, p, 1, 1, TRACKER_EVENT_STOPPED), 3);
    ck_assert_uint_eq(ts.npeers_total, 5000);
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

START_TEST(tracker_state_random_ops_match_model)
{
    /* A naive model (arrays indexed by torrent and peer number) against the real thing, over
     * random announces, stops and expiries with a moving clock. */
    enum { NT = 6, NP = 300 };
    static int present[NT][NP], seeder[NT][NP], done[NT][NP];
    static int64_t seen[NT][NP];
    int downloaded[NT] = {0};
    memset(present, 0, sizeof present);
    memset(done, 0, sizeof done);
    const uint64_t seed = 0xC0FFEE;
    uint64_t rng = seed;
    struct tracker_state ts;
    start(&ts, NT, NP, NT * NP, 40);
    int64_t now = 0;

    for (int step = 0; step < 30000; step++) {
        unsigned t = (unsigned)(tracker_state_rand(&rng) % NT);
        unsigned p = (unsigned)(tracker_state_rand(&rng) % NP);
        unsigned r = (unsigned)(tracker_state_rand(&rng) % 100);
        if (r < 60) {
            uint64_t left = tracker_state_rand(&rng) % 3;
            enum tracker_event ev = r < 10 ? TRACKER_EVENT_COMPLETED : TRACKER_EVENT_NONE;
            must_announce(&ts, ann(t, p, 1, left, ev), now);
            if (!present[t][p])
                done[t][p] = 0;
            present[t][p] = 1;
            seeder[t][p] = left == 0;
            seen[t][p] = now;
            if (ev == TRACKER_EVENT_COMPLETED && !done[t][p]) {
                done[t][p] = 1;
                downloaded[t]++;
            }
        } else if (r < 80) {
            must_announce(&ts, ann(t, p, 1, 0, TRACKER_EVENT_STOPPED), now);
            present[t][p] = 0;
        } else if (r < 81) {
            tracker_state_expire(&ts, now);
            for (unsigned i = 0; i < NT; i++)
                for (unsigned j = 0; j < NP; j++)
                    if (present[i][j] && now - seen[i][j] > 40)
                        present[i][j] = 0;
        } else {
            now++;
        }
        /* A torrent that lost all its peers is forgotten, counter included. */
        int any = 0;
        for (unsigned j = 0; j < NP; j++)
            any |= present[t][j];
        if (!any)
            downloaded[t] = 0;

        if (step % 1000 == 0)
            must_be_valid(&ts);
        unsigned c = 0, l = 0;
        for (unsigned j = 0; j < NP; j++) {
            c += present[t][j] && seeder[t][j];
            l += present[t][j] && !seeder[t][j];
        }
        struct tracker_scrape_counts got = counts(&ts, t);
        ck_assert_msg(
            got.complete == c && got.incomplete == l && got.downloaded == (uint32_t)downloaded[t],
            "seed %llx step %d torrent %u: got %u/%u/%u, model %u/%u/%d", (unsigned long long)seed,
            step, t, got.complete, got.incomplete, got.downloaded, c, l, downloaded[t]);
    }
    must_be_valid(&ts);
    tracker_state_free(&ts);
}
END_TEST

/* Random announces from a few addresses, ports, peer ids and keys (so entries move, hijacks are
 * refused and the caps per address bite), with stops and expiry: after every step the address
 * tables must agree with the peers, which tracker_state_check() verifies in full. */
START_TEST(tracker_state_random_addresses_keep_invariants)
{
    const uint64_t seed = 0xADD2E55;
    uint64_t rng = seed;
    struct tracker_state ts;
    struct tracker_state_config cfg = {8, 12, 40, 30, 3, 6, 2};
    char err[160];
    ck_assert_int_eq(tracker_state_init(&ts, &cfg, 5, err, sizeof err), TRACKER_STATE_OK);
    int64_t now = 0;
    int results[5] = {0};
    for (int step = 0; step < 20000; step++) {
        unsigned r = (unsigned)(tracker_state_rand(&rng) % 100);
        if (r < 3) {
            now += 1 + (int64_t)(tracker_state_rand(&rng) % 20);
            tracker_state_expire(&ts, now);
        } else {
            unsigned t = (unsigned)(tracker_state_rand(&rng) % 10);
            unsigned p = (unsigned)(tracker_state_rand(&rng) % 30);
            struct tracker_state_announce a = ann(
                t, p, (uint16_t)(1 + tracker_state_rand(&rng) % 3), tracker_state_rand(&rng) % 2,
                r < 20 ? TRACKER_EVENT_STOPPED : TRACKER_EVENT_NONE);
            unsigned where = (unsigned)(tracker_state_rand(&rng) % 5);
            memset(a.peer.ip, 0, 16);
            if (where == 4) {
                a.peer.family = 6;
                a.peer.ip[0] = 0x20;
                a.peer.ip[15] = (unsigned char)p; /* one /64 */
            } else {
                a.peer.ip[0] = 10;
                a.peer.ip[3] = (unsigned char)where;
            }
            if (tracker_state_rand(&rng) % 2)
                set_key(&a, p % 2 ? "k-odd" : "k-even");
            int rc = tracker_state_announce(&ts, &a, now, err, sizeof err);
            ck_assert_msg(rc <= 0 && rc >= TRACKER_STATE_EDENIED, "seed %llx step %d: rc %d",
                          (unsigned long long)seed, step, rc);
            ck_assert_msg(rc != TRACKER_STATE_ENOMEM && rc != TRACKER_STATE_EINVAL,
                          "seed %llx step %d: %s", (unsigned long long)seed, step, err);
            results[-rc]++;
        }
        char why[128] = "";
        ck_assert_msg(tracker_state_check(&ts, why, sizeof why) == 0, "seed %llx step %d: %s",
                      (unsigned long long)seed, step, why);
    }
    printf("tracker_state_random_addresses_keep_invariants (seed %llx): %d ok, %d full, %d "
           "denied\n",
           (unsigned long long)seed, results[0], results[1], results[4]);
    ck_assert(results[0] > 0 && results[1] > 0 && results[4] > 0);
    tracker_state_free(&ts);
}
END_TEST

static Suite *tracker_state_suite(void)
{
    Suite *s = suite_create("tracker_state");
    TCase *tc = tcase_create("tracker_state");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, tracker_state_announce_and_scrape);
    tcase_add_test(tc, tracker_state_peer_id_hijack_refused);
    tcase_add_test(tc, tracker_state_key_moves_entry);
    tcase_add_test(tc, tracker_state_left_moves_between_seeders_and_leechers);
    tcase_add_test(tc, tracker_state_completed_counted_once_per_peer);
    tcase_add_test(tc, tracker_state_stopped_removes);
    tcase_add_test(tc, tracker_state_expire_stale_peers);
    tcase_add_test(tc, tracker_state_rates_from_two_announces);
    tcase_add_test(tc, tracker_state_rates_reset_and_same_time);
    tcase_add_test(tc, tracker_state_pick_excludes_caller);
    tcase_add_test(tc, tracker_state_pick_capped);
    tcase_add_test(tc, tracker_state_pick_is_uniform);
    tcase_add_test(tc, tracker_state_flood_of_info_hashes_is_bounded);
    tcase_add_test(tc, tracker_state_flood_of_peer_ids_is_bounded);
    tcase_add_test(tc, tracker_state_one_address_gets_a_small_share);
    tcase_add_test(tc, tracker_state_ipv6_prefix_is_one_address);
    tcase_add_test(tc, tracker_state_rejects_bad_config);
    tcase_add_test(tc, tracker_state_ten_thousand_peers);
    tcase_add_test(tc, tracker_state_random_ops_match_model);
    tcase_add_test(tc, tracker_state_random_addresses_keep_invariants);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(tracker_state_suite)
