/*
 * check_hostile.c - hostile peers against a running minitorrent, on loopback.
 *
 * Each test starts a tracker and a victim (a `minitorrent seed`, or a `get` that is downloading),
 * and a scripted peer (tests/lib/evilpeer.c) connects to the victim and misbehaves in one way:
 * garbage instead of a handshake, a wrong info hash, a length prefix of 2^32 - 1, a bad bitfield,
 * requests out of range or too large, ten thousand requests at once, silence, a thousand
 * connections, wrong data. Each checks the victim's defence (it closes the connection, soon; its
 * memory and descriptors stay bounded; it drops the sender of bad data) and that the victim goes
 * on serving: a real `minitorrent get` finishes with a byte-for-byte copy. The last test floods
 * the tracker with announces for random torrents.
 *
 * Deadlines are generous and scaled by CK_TIMEOUT_MULTIPLIER (the sanitizer runs are slower);
 * nothing waits on a sleep, only on events: a line of output, a closed socket, a scrape.
 */
#include "announce.h"
#include "evilpeer.h"
#include "minifix.h"
#include "testlib.h"
#include "tracker_udp.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The victim's content: 1 MiB and a bit, in 256 KiB pieces, so there are 5 pieces (a bitfield of
 * one byte with 3 spare bits) and a request of more than 128 KiB can still lie inside a piece. */
enum { SIZE = 1024 * 1024 + 5000, PIECE = 256 * 1024 };
/* How much the victim's resident memory may grow during an attack. */
enum { RSS_BOUND_KIB = 16 * 1024 };

/* Checks that a process's resident memory grew by less than RSS_BOUND_KIB. Under a sanitizer the
 * figure says little (ASan keeps freed memory in quarantine, both add shadow memory), so there
 * the test only reports it; the plain `make check` enforces the bound. */
#define check_rss(what, before, after)                                                             \
    do {                                                                                           \
        if (EP_SANITIZED)                                                                          \
            printf("%s RSS %ld -> %ld KiB (not checked under a sanitizer)\n", what, before,        \
                   after);                                                                         \
        else if ((before) > 0 && (after) > 0)                                                      \
            ck_assert_msg((after) - (before) < RSS_BOUND_KIB, "%s grew from %ld to %ld KiB", what, \
                          before, after);                                                          \
    } while (0)

static struct mf fx;
static struct tk_proc victim, legit;
static char src[256];

/* Starts a tracker and a seeder of fresh random content (pieces of the given size, extra options
 * for the seeder), waits until the tracker lists it, and returns the seeder's port. */
static int start_seed_victim(const char *piece, const char *const extra[])
{
    mf_make_root(&fx, "hostile", (const char *const[]){"seed", "get", NULL});
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, SIZE, 5);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, piece);
    char dir[256];
    mf_path(&fx, dir, sizeof dir, "seed");
    int port = mf_start_seed(&fx, &victim, dir, extra);
    mf_wait_seeders(&fx, 1, ep_scaled_ms(20000));
    return port;
}

/* Starts the real downloader, which the victim must go on serving; returns its port. */
static int start_legit(const char *const extra[])
{
    char dir[256];
    mf_path(&fx, dir, sizeof dir, "get");
    return mf_start_get(&fx, &legit, dir, extra);
}

/* Waits for the real downloader to finish and checks its copy byte for byte. */
static void legit_finishes(int timeout_ms)
{
    int st = tk_wait_exit(&legit, ep_scaled_ms(timeout_ms));
    ck_assert_msg(st == 0, "the real downloader exited with %d:\n%s", st, mf_tail(&legit));
    char dst[256];
    mf_path(&fx, dst, sizeof dst, "get/data.bin");
    ck_assert_msg(mf_same_file(src, dst), "the real downloader's copy differs from the original");
}

/* Stops the victim (it must exit cleanly, not crash) and the tracker, and cleans up. */
static void finish(void)
{
    int st = tk_stop(&victim, ep_scaled_ms(10000));
    ck_assert_msg(st == 0, "the victim exited with %d after the attack:\n%s", st, mf_tail(&victim));
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}

/* Connects a hostile peer to the victim at port. */
static void evil_connect(struct ep *e, int port, unsigned tag)
{
    ck_assert_int_eq(ep_load_torrent(e, fx.torrent, tag), 0);
    ck_assert_msg(ep_connect(e, port) == 0, "cannot connect to the victim: %s", strerror(errno));
}

/* Checks that the victim closes the hostile connection within a few seconds, then closes ours. */
static void expect_closed(struct ep *e, const char *what)
{
    long long ms = ep_wait_closed(e, ep_scaled_ms(5000));
    ck_assert_msg(ms >= 0, "the victim kept the connection open after %s", what);
    ep_close(e);
}

/* Connects, handshakes correctly, sends n bytes, and expects the victim to hang up. */
static void after_handshake_send(int port, const void *bytes, size_t n, const char *what)
{
    struct ep e;
    evil_connect(&e, port, 1);
    ck_assert_msg(ep_handshake(&e, ep_scaled_ms(5000)) == 0, "no handshake from the victim");
    (void)ep_send(&e, bytes, n); /* the victim may hang up while we send: that is the point */
    expect_closed(&e, what);
}

/* ===================================================================== handshakes ========= */

/* Garbage instead of a handshake: 68 bytes that carry the right info hash where a handshake has
 * it, so only the check of the protocol string can refuse them. */
START_TEST(hostile_garbage_instead_of_handshake)
{
    int port = start_seed_victim("256K", NULL);
    start_legit(NULL);
    struct ep e;
    evil_connect(&e, port, 1);
    unsigned char junk[WIRE_HANDSHAKE_LEN];
    memcpy(junk, "GET /announce?info_hash=xx HTTP/1.0\r\n", 28);
    memcpy(junk + 28, e.info_hash, 20);
    memcpy(junk + 48, e.peer_id, 20);
    ck_assert_int_eq(ep_send(&e, junk, sizeof junk), 0);
    expect_closed(&e, "an HTTP request instead of a handshake");
    legit_finishes(60000);
    finish();
}
END_TEST

START_TEST(hostile_wrong_info_hash)
{
    int port = start_seed_victim("256K", NULL);
    start_legit(NULL);
    struct ep e;
    evil_connect(&e, port, 1);
    e.info_hash[7] ^= 0x40; /* another torrent */
    unsigned char hs_bytes[WIRE_HANDSHAKE_LEN];
    struct wire_handshake hs = {{0}, {0}, {0}};
    memcpy(hs.info_hash, e.info_hash, 20);
    memcpy(hs.peer_id, e.peer_id, 20);
    wire_handshake_encode(hs_bytes, &hs);
    ck_assert_int_eq(ep_send(&e, hs_bytes, sizeof hs_bytes), 0);
    expect_closed(&e, "a handshake for another torrent");
    legit_finishes(60000);
    finish();
}
END_TEST

/* ===================================================================== framing ============ */

/* A length prefix of 2^32 - 1 announces a 4 GiB message: the victim must refuse it at once rather
 * than wait for (or allocate room for) 4 GiB. */
START_TEST(hostile_length_prefix_of_4_gib)
{
    int port = start_seed_victim("256K", NULL);
    long before = ep_rss_kib(victim.pid);
    start_legit(NULL);
    unsigned char msg[4 + 1 + 8 + 100] = {0xff, 0xff, 0xff, 0xff, WIRE_PIECE};
    after_handshake_send(port, msg, sizeof msg, "a length prefix of 2^32 - 1");
    long after = ep_rss_kib(victim.pid);
    check_rss("the victim", before, after);
    legit_finishes(60000);
    finish();
}
END_TEST

/* ===================================================================== bitfields ========== */

/* A bitfield one byte too long, then one with a spare bit set, each on its own connection, sent to
 * a downloader in the middle of its download. */
START_TEST(hostile_bitfield_wrong_size_or_spare_bits)
{
    start_seed_victim("256K", NULL);
    /* Here the victim is the downloader; slowed down so the attack lands during its download. */
    int port = start_legit((const char *const[]){"--down-rate", "256K", NULL});
    struct ep e;
    ck_assert_int_eq(ep_load_torrent(&e, fx.torrent, 9), 0);
    ck_assert_uint_eq(e.geom.piece_count, 5); /* one byte, 3 spare bits */

    unsigned char msg[16];
    unsigned char two[2] = {0xf8, 0x00};
    size_t n = wire_put_bitfield(msg, sizeof msg, two, 2);
    after_handshake_send(port, msg, n, "a bitfield of 2 bytes for 5 pieces");

    unsigned char spare = 0xf8 | 0x01; /* the five pieces, and a sixth that does not exist */
    n = wire_put_bitfield(msg, sizeof msg, &spare, 1);
    after_handshake_send(port, msg, n, "a bitfield with a spare bit set");

    /* The download itself is unharmed. */
    legit_finishes(60000);
    ck_assert_int_eq(tk_stop(&victim, ep_scaled_ms(10000)), 0);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

/* ===================================================================== requests =========== */

/* Requests for a piece that does not exist and for bytes past the end of a piece: the victim
 * closes each connection (a peer that asks for what no torrent has is broken or hostile). */
START_TEST(hostile_requests_out_of_range)
{
    int port = start_seed_victim("256K", NULL);
    start_legit(NULL);
    unsigned char msg[WIRE_REQUEST_SIZE];
    wire_put_request(msg, 5, 0, WIRE_BLOCK_LEN); /* piece 5 of 0..4 */
    after_handshake_send(port, msg, sizeof msg, "a request for piece 5 of 5");
    wire_put_request(msg, 1, PIECE - 8192, WIRE_BLOCK_LEN); /* 8 KiB past the piece's end */
    after_handshake_send(port, msg, sizeof msg, "a request past the end of a piece");
    /* The last piece is short (5000 bytes): a whole block of it does not exist. */
    wire_put_request(msg, 4, 0, WIRE_BLOCK_LEN);
    after_handshake_send(port, msg, sizeof msg, "a request past the end of the last piece");
    legit_finishes(60000);
    finish();
}
END_TEST

/* A request of 128 KiB + 16 KiB lies inside a 256 KiB piece: only the cap on the block size
 * refuses it. */
START_TEST(hostile_request_larger_than_128_kib)
{
    int port = start_seed_victim("256K", NULL);
    start_legit(NULL);
    unsigned char msg[WIRE_REQUEST_SIZE];
    wire_put_request(msg, 0, 0, WIRE_MAX_BLOCK_LEN + WIRE_BLOCK_LEN);
    after_handshake_send(port, msg, sizeof msg, "a request of 144 KiB");
    legit_finishes(60000);
    finish();
}
END_TEST

/* Ten thousand valid requests at once from a peer that then never reads: the victim queues only
 * a bounded number and keeps its outbox bounded, so its memory stays put, and it keeps serving. */
START_TEST(hostile_ten_thousand_requests)
{
    enum { FLOOD = 10000 };
    int port = start_seed_victim("256K", NULL);
    long before = ep_rss_kib(victim.pid);
    if (before < 0) {
        finish();
        tk_skip("no /proc/PID/status here to read the victim's memory from");
    }
    struct ep e;
    evil_connect(&e, port, 1);
    ck_assert_int_eq(ep_handshake(&e, ep_scaled_ms(5000)), 0);
    unsigned char msg[WIRE_SIMPLE_SIZE];
    ck_assert_int_eq(ep_send(&e, msg, wire_put_interested(msg)), 0);
    struct wire_msg m;
    ck_assert_msg(ep_wait_type(&e, WIRE_UNCHOKE, ep_scaled_ms(10000), &m) == 1,
                  "the victim never unchoked the peer that is about to flood it");
    /* Every block of the first four (whole) pieces, over and over: 10000 requests, 156 MiB of
     * blocks if the victim served them all into memory. */
    unsigned char *flood = malloc((size_t)FLOOD * WIRE_REQUEST_SIZE);
    ck_assert_ptr_nonnull(flood);
    for (size_t i = 0; i < FLOOD; i++) {
        uint32_t block = (uint32_t)(i % (4 * (PIECE / WIRE_BLOCK_LEN)));
        wire_put_request(flood + i * WIRE_REQUEST_SIZE, block / (PIECE / WIRE_BLOCK_LEN),
                         block % (PIECE / WIRE_BLOCK_LEN) * WIRE_BLOCK_LEN, WIRE_BLOCK_LEN);
    }
    /* The victim reads requests while its replies pile up unread; a send that blocks for good
     * would mean it stopped reading, which is also a bounded (if rude) answer, so send from a
     * non-blocking socket and move on after a deadline. */
    fcntl(e.fd, F_SETFL, fcntl(e.fd, F_GETFL) | O_NONBLOCK);
    size_t off = 0, total = (size_t)FLOOD * WIRE_REQUEST_SIZE;
    long long deadline = tk_now_ms() + ep_scaled_ms(10000);
    while (off < total && tk_now_ms() < deadline) {
        ssize_t w = send(e.fd, flood + off, total - off, 0);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            break;
        else
            poll(&(struct pollfd){.fd = e.fd, .events = POLLOUT}, 1, 100);
    }
    free(flood);
    ck_assert_msg(off > total / 2, "the victim read only %zu of %zu request bytes", off, total);

    /* While the flood sits in the victim, a real peer downloads everything. */
    start_legit(NULL);
    legit_finishes(60000);
    long after = ep_rss_kib(victim.pid);
    check_rss("the victim, under 10000 requests,", before, after);
    printf("hostile_ten_thousand_requests: victim RSS %ld -> %ld KiB\n", before, after);
    ep_close(&e);
    finish();
}
END_TEST

/* ===================================================================== silence ============ */

/* A connection that never sends a byte, and one that handshakes and then falls silent, are both
 * closed at the peer timeout (here --peer-timeout-ms 3000), and not long before it. */
START_TEST(hostile_silent_connections_time_out)
{
    int port = start_seed_victim("256K", (const char *const[]){"--peer-timeout-ms", "3000", NULL});
    struct ep mute, quiet;
    /* Times count from before the connections: we can only see a close late, never early. */
    long long t0 = tk_now_ms();
    evil_connect(&mute, port, 1);
    evil_connect(&quiet, port, 2);
    ck_assert_int_eq(ep_handshake(&quiet, ep_scaled_ms(5000)), 0);
    long long t_quiet = tk_now_ms();
    start_legit(NULL);
    ck_assert_msg(ep_wait_closed(&mute, ep_scaled_ms(20000)) >= 0,
                  "a connection that never sent anything was never closed");
    long long a = tk_now_ms() - t0;
    ck_assert_msg(ep_wait_closed(&quiet, ep_scaled_ms(20000)) >= 0,
                  "a connection silent after its handshake was never closed");
    long long b = tk_now_ms() - t_quiet;
    /* Both must have waited their time out: an earlier close would mean something else did it. */
    ck_assert_msg(a >= 1500, "the silent connection was closed after only %lld ms", a);
    ck_assert_msg(b >= 1500, "the quiet connection was closed after only %lld ms", b);
    printf("hostile_silent_connections_time_out: closed after %lld and %lld ms (time out 3000)\n",
           a, b);
    ep_close(&mute);
    ep_close(&quiet);
    legit_finishes(60000);
    finish();
}
END_TEST

/* ===================================================================== squatters ========== */

/* Connections that take every slot, say they are interested, and then send nothing but
 * keep-alives: each keep-alive resets the idle time out, so that never fires, and without another
 * defence the real downloader would be locked out for good. At the cap the victim closes the
 * connection that has gone longest without a block either way (here over 3000 / 6 = 500 ms) to
 * let a newcomer in, and the real downloader gets its file while the squatters keep trying. */
START_TEST(hostile_keepalive_squatters_make_room)
{
    enum { CAP = 3 };
    int port = start_seed_victim(
        "256K", (const char *const[]){"--max-peers", "3", "--peer-timeout-ms", "3000", NULL});
    static const unsigned char interested[] = {0, 0, 0, 1, 2}, keepalive[] = {0, 0, 0, 0};
    struct ep sq[CAP];
    for (int i = 0; i < CAP; i++) {
        evil_connect(&sq[i], port, 10 + (unsigned)i);
        ck_assert_int_eq(ep_handshake(&sq[i], ep_scaled_ms(5000)), 0);
        ck_assert_int_eq(ep_send(&sq[i], interested, sizeof interested), 0);
    }
    start_legit(NULL);
    /* A keep-alive from every squatter every 200 ms, far inside the 3 s time out, until the real
     * downloader is done. */
    long long deadline = tk_now_ms() + ep_scaled_ms(60000);
    int st;
    while ((st = tk_wait_exit(&legit, 200)) == -1) {
        ck_assert_msg(tk_now_ms() < deadline,
                      "the real downloader never got past %d squatters sending keep-alives:\n%s",
                      CAP, mf_tail(&legit));
        for (int i = 0; i < CAP; i++)
            (void)ep_send(&sq[i], keepalive, sizeof keepalive);
    }
    ck_assert_msg(st == 0, "the real downloader exited with %d:\n%s", st, mf_tail(&legit));
    char dst[256];
    mf_path(&fx, dst, sizeof dst, "get/data.bin");
    ck_assert_msg(mf_same_file(src, dst), "the real downloader's copy differs from the original");
    /* The evicted squatter was closed long ago, but what the victim sent it first is still
     * unread in its socket: give each a second to drain to the end (a zero wait can expire
     * before the first read, as it did under ThreadSanitizer). */
    int closed = 0;
    for (int i = 0; i < CAP; i++) {
        closed += ep_wait_closed(&sq[i], ep_scaled_ms(1000)) >= 0;
        ep_close(&sq[i]);
    }
    printf("hostile_keepalive_squatters_make_room: %d of %d squatters closed to make room\n",
           closed, CAP);
    ck_assert_msg(closed >= 1, "the downloader got in, yet no squatter was closed");
    finish();
}
END_TEST

/* ===================================================================== connection flood === */

/* Opens n non-blocking connections to port and waits until each is connected or refused. */
static int flood_connect(int *fds, int n, int port)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int opened = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0)
            break;
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
            close(fds[i]);
            fds[i] = -1;
            continue;
        }
        opened++;
    }
    return opened;
}

/* Counts the flood sockets the victim has closed (end of stream or reset), closing ours. */
static int reap_closed(int *fds, int n)
{
    static struct pollfd pfd[1000];
    int k = 0, closed = 0;
    for (int i = 0; i < n && k < 1000; i++)
        if (fds[i] >= 0)
            pfd[k++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    if (poll(pfd, (nfds_t)k, 0) <= 0)
        return 0;
    for (int j = 0; j < k; j++) {
        if (pfd[j].revents == 0)
            continue;
        char c[512];
        ssize_t r = read(pfd[j].fd, c, sizeof c);
        if (r > 0)
            continue; /* the victim's handshake: it is still open */
        if (r < 0 && (errno == EAGAIN || errno == ENOTCONN))
            continue;
        for (int i = 0; i < n; i++)
            if (fds[i] == pfd[j].fd) {
                close(fds[i]);
                fds[i] = -1;
                closed++;
            }
    }
    return closed;
}

/* A thousand connections at once against --max-peers 20: the victim's descriptors stay bounded,
 * the connections over the cap (here all but two: connections from one address still in their
 * handshake are at most two) are closed at once, the rest at the handshake deadline (10 s by
 * default), and a real peer gets its download. */
START_TEST(hostile_thousand_connections)
{
    enum { FLOOD = 1000, CAP = 20 };
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < FLOOD + 100) {
        rl.rlim_cur = rl.rlim_max;
        if (rl.rlim_cur < FLOOD + 100 || setrlimit(RLIMIT_NOFILE, &rl) < 0)
            tk_skip("the descriptor limit is below %d", FLOOD + 100);
    }
    int port = start_seed_victim("256K", (const char *const[]){"--max-peers", "20", NULL});
    int fds_before = ep_fd_count(victim.pid);
    long rss_before = ep_rss_kib(victim.pid);
    if (fds_before < 0) {
        finish();
        tk_skip("no /proc/PID/fd here to count the victim's descriptors");
    }
    static int fds[FLOOD];
    long long t0 = tk_now_ms();
    int opened = flood_connect(fds, FLOOD, port);
    ck_assert_msg(opened > FLOOD / 2, "only %d of %d connections could be opened", opened, FLOOD);

    /* Wait until the victim has turned away everything over the cap (it closes those at once),
     * counting its descriptors all along: each live peer holds a socket and a wake-up pipe. */
    int closed = 0, fds_max = fds_before;
    long long deadline = tk_now_ms() + ep_scaled_ms(30000);
    while (closed < opened - CAP) {
        ck_assert_msg(tk_now_ms() < deadline, "only %d of %d connections over the cap were closed",
                      closed, opened - CAP);
        int n = ep_fd_count(victim.pid);
        if (n > fds_max)
            fds_max = n;
        closed += reap_closed(fds, FLOOD);
        poll(NULL, 0, 20);
    }
    long rss_flood = ep_rss_kib(victim.pid);
    printf("hostile_thousand_connections: victim fds %d -> max %d, RSS %ld -> %ld KiB\n",
           fds_before, fds_max, rss_before, rss_flood);
    ck_assert_msg(fds_max - fds_before <= 3 * CAP + 8,
                  "the victim held %d descriptors during the flood (%d before, cap %d peers)",
                  fds_max, fds_before, CAP);
    check_rss("the victim", rss_before, rss_flood);

    /* The connections under the cap never send a handshake: the handshake deadline frees their
     * slots, and the real peer, from the same address and so turned away until then, gets its
     * download. */
    start_legit(NULL);
    legit_finishes(90000);
    deadline = tk_now_ms() + ep_scaled_ms(20000);
    while (closed < opened) {
        ck_assert_msg(tk_now_ms() < deadline, "%d silent connections under the cap still open",
                      opened - closed);
        closed += reap_closed(fds, FLOOD);
        poll(NULL, 0, 50);
    }
    printf("hostile_thousand_connections: all %d closed after %lld ms\n", opened, tk_now_ms() - t0);
    finish();
}
END_TEST

/* ===================================================================== wrong data ========= */

/* A "seeder" that answers every request with wrong bytes connects to a downloader that also has
 * a real seeder. The pieces it sends fail their hash and are fetched again, the file ends up
 * right, and the downloader drops the liar after repeated offences, whether its blocks came
 * alone or mixed with good ones in the same piece. */
START_TEST(hostile_wrong_data_sender_is_dropped)
{
    enum { BIG = 4 * 1024 * 1024 };
    mf_make_root(&fx, "hostile", (const char *const[]){"seed", "get", NULL});
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, BIG, 6);
    mf_start_tracker(&fx);
    /* Pieces of 16 blocks: the downloader asks both peers for blocks of the same piece, so most
     * bad pieces hold good blocks too, and blaming whoever sent "the piece" does not work. */
    mf_create_torrent(&fx, src, "256K");
    char dir[256];
    mf_path(&fx, dir, sizeof dir, "seed");
    mf_start_seed(&fx, &victim, dir, NULL);
    mf_wait_seeders(&fx, 1, ep_scaled_ms(20000));

    /* The downloader stays after its download (--keep-seeding), so that a liar it has not
     * dropped would still be connected at the end; slowed so the liar takes part. */
    int port =
        start_legit((const char *const[]){"--keep-seeding", "--down-rate", "2M", "-v", NULL});
    static struct ep_bad_seeder liar;
    ck_assert_int_eq(ep_load_torrent(&liar.e, fx.torrent, 66), 0);
    ck_assert_msg(ep_bad_seeder_start(&liar, port, ep_scaled_ms(5000)) == 0,
                  "the lying seeder could not connect to the downloader");
    ck_assert_msg(mf_wait_output(&legit, "done: ", ep_scaled_ms(90000)) != NULL,
                  "the download never finished:\n%s", mf_tail(&legit));
    char dst[256];
    mf_path(&fx, dst, sizeof dst, "get/data.bin");
    ck_assert_msg(mf_same_file(src, dst), "the downloaded file differs from the original");
    unsigned sent = atomic_load(&liar.blocks_sent);
    ck_assert_msg(sent > 0, "the downloader never asked the liar for anything; nothing tested");
    /* Dropped for its offences, not merely ignored: the downloader closes the connection. */
    long long deadline = tk_now_ms() + ep_scaled_ms(10000);
    while (!atomic_load(&liar.closed) && tk_now_ms() < deadline)
        poll(NULL, 0, 50);
    ck_assert_msg(atomic_load(&liar.closed),
                  "the downloader kept the peer that sent %u wrong blocks connected", sent);
    /* How it was caught, for the log: -v prints each strike. */
    int strikes = 0, failed = 0;
    for (const char *l = legit.out; (l = strstr(l, "sent bad data")) != NULL; l++)
        strikes++;
    for (const char *l = legit.out; (l = strstr(l, "failed its hash")) != NULL; l++)
        failed++;
    printf("hostile_wrong_data_sender_is_dropped: the liar sent %u wrong blocks; %d pieces failed, "
           "%d strikes\n",
           sent, failed, strikes);
    ep_bad_seeder_stop(&liar);
    ck_assert_int_eq(tk_stop(&legit, ep_scaled_ms(10000)), 0);
    finish();
}
END_TEST

/* ===================================================================== attacks on a leecher */

/* Attacks 1, 2 and 8 of the hardening review, each against a real `minitorrent get` that has an
 * honest seeder limited to ATK_RATE: the leecher must finish with a correct file in less than
 * twice the time the same download takes unattacked, measured first in the same test (so a slow
 * machine or a sanitizer build slows both alike). The attackers come from addresses of their own
 * (127.0.0.2 and up, which Linux routes to the loopback), as attackers on a network do; a ban
 * by address would otherwise hit the honest seeder on 127.0.0.1 too. */
enum { ATK_SIZE = 2 * 1024 * 1024, ATK_SQUATTERS = 60 };
#define ATK_PIECE "64K" /* 4 blocks a piece: room for a wrong block that is not the last */
#define ATK_RATE "1M"

/* Counts the lines of a child's output that contain what. */
static int count_lines(const struct tk_proc *p, const char *what)
{
    int n = 0;
    for (const char *l = p->out; (l = strstr(l, what)) != NULL; l++)
        n++;
    return n;
}

/* Says whether this machine lets a socket bind addr (127.0.0.x other than 127.0.0.1 is Linux's
 * loopback; macOS and the BSDs have only 127.0.0.1 until an alias is added). */
static bool can_bind(const char *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    bool ok = fd >= 0 && inet_pton(AF_INET, addr, &a.sin_addr) == 1 &&
              bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Opens a socket bound to local (port 0) and starts connecting it to 127.0.0.1:port, without
 * waiting. Sends time out after 200 ms, so an attacker thread never blocks on a victim that does
 * not read. Returns the socket or -1. */
static int connect_from(const char *local, int port, bool nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0}, to = {0};
    a.sin_family = to.sin_family = AF_INET;
    inet_pton(AF_INET, local, &a.sin_addr);
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {0, 200 * 1000};
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (nonblocking)
        (void)fcntl(fd, F_SETFL, O_NONBLOCK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        (connect(fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Connects e (loaded with ep_load_torrent) to 127.0.0.1:port from address local. Returns 0 or
 * -1. */
static int ep_connect_from(struct ep *e, const char *local, int port)
{
    e->fd = connect_from(local, port, false);
    if (e->fd < 0)
        return -1;
    wire_framer_init(&e->framer, true, wire_max_len_for(e->geom.piece_count));
    e->framer_ready = true;
    e->in_start = e->in_end = 0;
    return 0;
}

/* One address may hold only a few of the victim's slots (here --max-peers 8: 4), even with
 * connections that handshake correctly, each under its own peer id; a real peer from another
 * address still gets in and gets its file. */
START_TEST(hostile_attack_one_address_holds_few_slots)
{
    enum { TRIES = 8, PER_ADDRESS = 4 };
    if (!can_bind("127.0.0.2"))
        tk_skip("cannot bind 127.0.0.2: no 127/8 loopback here");
    int port = start_seed_victim("256K", (const char *const[]){"--max-peers", "8", NULL});
    static struct ep e[TRIES];
    int took = 0;
    for (int i = 0; i < TRIES; i++) {
        ck_assert_int_eq(ep_load_torrent(&e[i], fx.torrent, 30 + (unsigned)i), 0);
        ck_assert_msg(ep_connect_from(&e[i], "127.0.0.2", port) == 0,
                      "cannot connect from 127.0.0.2: %s", strerror(errno));
        /* A connection refused at once gets no handshake back. */
        took += ep_handshake(&e[i], ep_scaled_ms(3000)) == 0;
    }
    printf(
        "hostile_attack_one_address_holds_few_slots: %d of %d connections from one address taken\n",
        took, TRIES);
    ck_assert_msg(took == PER_ADDRESS, "the victim took %d connections from one address; cap %d",
                  took, PER_ADDRESS);
    start_legit(NULL);
    legit_finishes(60000);
    for (int i = 0; i < TRIES; i++)
        ep_close(&e[i]);
    finish();
}
END_TEST

/* Connections that never handshake, from many addresses (two from each, the most one address
 * may have in its handshake), fill the victim's budget for connections in their handshake (here
 * --max-peers 16: 8). A real peer that comes later still gets in: the connection that has waited
 * longest without a handshake is closed to make room for it. The real peer is a scripted one that
 * never announces, so the victim cannot reach it by dialling out instead: it must come in past
 * the squatters. Like any client it tries again when it is refused, after a short pause. */
START_TEST(hostile_attack_squatters_from_many_addresses_make_room)
{
    enum { ADDRS = 8, EACH = 2 };
    char from[ADDRS][24];
    for (int i = 0; i < ADDRS; i++) {
        snprintf(from[i], sizeof from[i], "127.0.0.%d", 40 + i);
        if (!can_bind(from[i]))
            tk_skip("cannot bind %s: no 127/8 loopback here", from[i]);
    }
    if (!can_bind("127.0.0.60"))
        tk_skip("cannot bind 127.0.0.60: no 127/8 loopback here");
    int port = start_seed_victim("256K", (const char *const[]){"--max-peers", "16", "-v", NULL});
    int fds[ADDRS * EACH];
    for (int i = 0; i < ADDRS * EACH; i++) {
        fds[i] = connect_from(from[i / EACH], port, false);
        ck_assert_msg(fds[i] >= 0, "cannot connect from %s: %s", from[i / EACH], strerror(errno));
    }
    static struct ep real;
    ck_assert_int_eq(ep_load_torrent(&real, fx.torrent, 77), 0);
    long long deadline = tk_now_ms() + ep_scaled_ms(10000);
    int tries = 0, in = 0;
    while (!in && tk_now_ms() < deadline) {
        tries++;
        ck_assert_msg(ep_connect_from(&real, "127.0.0.60", port) == 0,
                      "cannot connect from 127.0.0.60: %s", strerror(errno));
        in = ep_handshake(&real, ep_scaled_ms(2000)) == 0;
        if (!in) {
            ep_close(&real);
            poll(NULL, 0, 50); /* a refused client waits a moment before it tries again */
        }
    }
    for (int i = 0; i < ADDRS * EACH; i++)
        close(fds[i]);
    ck_assert_msg(in,
                  "a real peer got no handshake in %d tries over 10 s while squatters held the "
                  "victim's budget:\n%s",
                  tries, mf_tail(&victim));
    ep_close(&real);
    /* The victim prints (-v) each connection it closes to make room; its output is complete
     * once it has exited. */
    finish();
    int evicted = count_lines(&victim, "no handshake yet, closed");
    printf("hostile_attack_squatters_from_many_addresses_make_room: the real peer got in on try "
           "%d; %d squatters closed to make room\n",
           tries, evicted);
    ck_assert_msg(evicted >= 1, "the real peer got in without closing a squatter:\n%s",
                  mf_tail(&victim));
}
END_TEST

enum attack_kind {
    ATTACK_UNREQUESTED = 1, /* item 1: wrong blocks nobody asked for, into pieces in progress */
    ATTACK_SQUAT = 2,       /* item 2: connections that never handshake, re-opened when closed */
    ATTACK_LIAR = 8         /* item 8: wrong answers to requests, back with a new id when dropped */
};

struct attacker {
    enum attack_kind kind;
    const char *from; /* our address */
    int port;         /* the victim's */
    struct ep e;      /* loaded with the torrent; a new peer id for every connection */
    pthread_t thread;
    atomic_bool stop;
    atomic_uint connects; /* connections opened */
    atomic_uint sessions; /* connections the victim answered with its handshake */
    atomic_uint blocks;   /* wrong blocks delivered */
};

/* Gives the attacker's next connection a peer id never used before. */
static void new_peer_id(struct attacker *a)
{
    char id[32];
    snprintf(id, sizeof id, "-EV0001-%06u%06u", (unsigned)a->kind, atomic_load(&a->connects));
    memcpy(a->e.peer_id, id, 20);
}

/* Item 1: after the handshake, sends a wrong copy of the first block of every piece the victim
 * lacks (by its BITFIELD and HAVEs), round and round, never the last block of a piece, so an
 * honest peer completes each spoiled piece. Returns when the victim closes the connection. */
static void attack_unrequested(struct attacker *a)
{
    uint32_t n = a->e.geom.piece_count, next = 0;
    bool *has = calloc(n, sizeof *has);
    unsigned char *msg = malloc(WIRE_PIECE_HEADER_SIZE + WIRE_BLOCK_LEN);
    unsigned char *junk = malloc(WIRE_BLOCK_LEN);
    if (has == NULL || msg == NULL || junk == NULL)
        goto out;
    for (size_t i = 0; i < WIRE_BLOCK_LEN; i++)
        junk[i] = (unsigned char)(i * 13 + 1);
    while (!atomic_load(&a->stop)) {
        struct wire_msg m;
        int r;
        while ((r = ep_next_msg(&a->e, 0, &m)) == 1) {
            if (m.type == WIRE_HAVE && m.index < n)
                has[m.index] = true;
            if (m.type == WIRE_BITFIELD)
                for (uint32_t i = 0; i < n && i / 8 < m.data_len; i++)
                    has[i] = (m.data[i / 8] >> (7 - i % 8)) & 1;
        }
        if (r == 0)
            break;
        for (int k = 0; k < 4; k++) {
            uint32_t tries = 0;
            while (tries < n && has[next % n])
                next++, tries++;
            if (tries == n)
                break;
            uint32_t i = next++ % n;
            size_t len = wire_put_piece(msg, WIRE_PIECE_HEADER_SIZE + WIRE_BLOCK_LEN, i, 0, junk,
                                        WIRE_BLOCK_LEN);
            if (ep_send(&a->e, msg, len) < 0)
                goto out;
            atomic_fetch_add(&a->blocks, 1);
        }
        poll(NULL, 0, 2);
    }
out:
    free(has);
    free(msg);
    free(junk);
}

/* Item 8: says it has every piece, unchokes, and answers every request with wrong bytes until
 * the victim closes the connection. */
static void attack_liar(struct attacker *a)
{
    size_t nbytes = (a->e.geom.piece_count + 7) / 8;
    unsigned char *msg = malloc(WIRE_PIECE_HEADER_SIZE + WIRE_MAX_BLOCK_LEN + nbytes);
    unsigned char *junk = malloc(WIRE_MAX_BLOCK_LEN);
    unsigned char *bits = calloc(1, nbytes);
    if (msg == NULL || junk == NULL || bits == NULL)
        goto out;
    for (size_t i = 0; i < WIRE_MAX_BLOCK_LEN; i++)
        junk[i] = (unsigned char)(i * 31 + 7);
    for (uint32_t i = 0; i < a->e.geom.piece_count; i++)
        bits[i / 8] |= (unsigned char)(0x80u >> (i % 8));
    size_t n = wire_put_bitfield(msg, WIRE_BITFIELD_HEADER_SIZE + nbytes, bits, nbytes);
    n += wire_put_unchoke(msg + n);
    if (ep_send(&a->e, msg, n) < 0)
        goto out;
    while (!atomic_load(&a->stop)) {
        struct wire_msg m;
        int r = ep_next_msg(&a->e, 50, &m);
        if (r == 0)
            break;
        if (r < 0 || m.type != WIRE_REQUEST)
            continue;
        n = wire_put_piece(msg, WIRE_PIECE_HEADER_SIZE + WIRE_MAX_BLOCK_LEN, m.index, m.begin, junk,
                           m.length);
        if (n == 0 || ep_send(&a->e, msg, n) < 0)
            break;
        atomic_fetch_add(&a->blocks, 1);
    }
out:
    free(msg);
    free(junk);
    free(bits);
}

/* Item 2: keeps ATK_SQUATTERS connections open to the victim that never send a byte, and opens
 * a new one when the victim closes one, every 50 ms: soon enough to take any slot freed under
 * the old rules long before the leecher's next try (a second later). Re-opening faster turns the
 * attack into a flood of connections, whose cost in processor time (about 7000 connections a
 * second, refused at once, on two cores) slows the victim down whatever it does with them; the
 * defence against that is a firewall, not the client. */
static void attack_squat(struct attacker *a)
{
    int fds[ATK_SQUATTERS];
    for (int i = 0; i < ATK_SQUATTERS; i++)
        fds[i] = -1;
    long long next_open = 0;
    while (!atomic_load(&a->stop)) {
        struct pollfd pfd[ATK_SQUATTERS];
        bool reopen = tk_now_ms() >= next_open;
        if (reopen)
            next_open = tk_now_ms() + 50;
        for (int i = 0; i < ATK_SQUATTERS; i++) {
            if (reopen && fds[i] < 0 && (fds[i] = connect_from(a->from, a->port, true)) >= 0)
                atomic_fetch_add(&a->connects, 1);
            pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
        }
        long long left = next_open - tk_now_ms();
        if (poll(pfd, ATK_SQUATTERS, left > 0 ? (int)left : 0) <= 0)
            continue;
        for (int i = 0; i < ATK_SQUATTERS; i++) {
            if (fds[i] < 0 || pfd[i].revents == 0)
                continue;
            char c[512];
            ssize_t r = read(fds[i], c, sizeof c);
            if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
                continue; /* the victim's handshake: still open */
            close(fds[i]);
            fds[i] = -1;
        }
    }
    for (int i = 0; i < ATK_SQUATTERS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* The attacker's thread: connects, handshakes with a new peer id, attacks, and when the victim
 * closes the connection comes back, until told to stop. */
static void *attacker_main(void *arg)
{
    struct attacker *a = arg;
    if (a->kind == ATTACK_SQUAT) {
        attack_squat(a);
        return NULL;
    }
    while (!atomic_load(&a->stop)) {
        new_peer_id(a);
        if (ep_connect_from(&a->e, a->from, a->port) == 0) {
            atomic_fetch_add(&a->connects, 1);
            if (ep_handshake(&a->e, 2000) == 0) {
                atomic_fetch_add(&a->sessions, 1);
                if (a->kind == ATTACK_UNREQUESTED)
                    attack_unrequested(a);
                else
                    attack_liar(a);
            }
            ep_close(&a->e);
        }
        poll(NULL, 0, 50); /* a pause between tries, as a real client's reconnect timer */
    }
    return NULL;
}

/* Starts an attacker of the given kind from address `from` against port. */
static void attacker_start(struct attacker *a, enum attack_kind kind, const char *from, int port)
{
    ck_assert_int_eq(ep_load_torrent(&a->e, fx.torrent, 90 + kind), 0);
    a->kind = kind;
    a->from = from;
    a->port = port;
    atomic_init(&a->stop, false);
    atomic_init(&a->connects, 0);
    atomic_init(&a->sessions, 0);
    atomic_init(&a->blocks, 0);
    ck_assert_int_eq(pthread_create(&a->thread, NULL, attacker_main, a), 0);
}

static void attacker_stop(struct attacker *a)
{
    atomic_store(&a->stop, true);
    pthread_join(a->thread, NULL);
}

/* Downloads into folder `dir` (under the scratch folder) and returns the milliseconds from the
 * start of `get` to its exit, or -1 when it did not exit within timeout_ms. The copy is checked
 * byte for byte. */
static long long timed_get(const char *dir, struct tk_proc *p, int timeout_ms)
{
    char path[256];
    mf_path(&fx, path, sizeof path, dir);
    long long t0 = tk_now_ms();
    mf_start_get(&fx, p, path, (const char *const[]){"-v", NULL});
    int st = tk_wait_exit(p, timeout_ms);
    long long ms = tk_now_ms() - t0;
    if (st == -1) {
        (void)tk_stop(p, ep_scaled_ms(10000));
        return -1;
    }
    ck_assert_msg(st == 0, "the leecher in %s exited with %d:\n%s", dir, st, mf_tail(p));
    char dst[256];
    mf_path(&fx, dst, sizeof dst, dir);
    snprintf(dst + strlen(dst), sizeof dst - strlen(dst), "/data.bin");
    ck_assert_msg(mf_same_file(src, dst), "the copy in %s differs from the original", dir);
    return ms;
}

/* Starts the tracker and a seeder limited to ATK_RATE, and measures the unattacked download:
 * *port gets the seeder's port, *base_ms the time. Skips the test where from cannot be bound. */
static void attack_baseline(const char *from, int *port, long long *base_ms)
{
    if (!can_bind(from))
        tk_skip("cannot bind %s: no 127/8 loopback here", from);
    mf_make_root(&fx, "hostile", (const char *const[]){"seed", "base", "attacked", NULL});
    mf_path(&fx, src, sizeof src, "seed/data.bin");
    mf_write_random(src, ATK_SIZE, 17);
    mf_start_tracker(&fx);
    mf_create_torrent(&fx, src, ATK_PIECE);
    char dir[256];
    mf_path(&fx, dir, sizeof dir, "seed");
    *port = mf_start_seed(&fx, &victim, dir, (const char *const[]){"--up-rate", ATK_RATE, NULL});
    mf_wait_seeders(&fx, 1, ep_scaled_ms(20000));
    *base_ms = timed_get("base", &legit, ep_scaled_ms(60000));
    ck_assert_msg(*base_ms > 0, "the unattacked download did not finish");
}

/* Waits for the attacked download and checks it took less than twice the baseline. */
static long long attacked_get(long long base_ms, const char *what)
{
    long long ms = timed_get("attacked", &legit, (int)(4 * base_ms) + ep_scaled_ms(10000));
    ck_assert_msg(ms >= 0, "%s: the leecher did not finish in %lld ms (unattacked: %lld ms):\n%s",
                  what, 4 * base_ms + ep_scaled_ms(10000), base_ms, mf_tail(&legit));
    ck_assert_msg(ms < 2 * base_ms, "%s: the download took %lld ms, unattacked %lld ms", what, ms,
                  base_ms);
    return ms;
}

/* Item 1: a peer that sends wrong blocks nobody asked for into the pieces being downloaded (never
 * the last block of a piece, so the honest seeder completes each one) once kept a download at
 * 5 of 64 pieces for good. No such block may enter a piece: no piece fails its hash, and the
 * sender is struck and dropped at its second block. */
START_TEST(hostile_attack_unrequested_blocks_do_not_stall_a_leecher)
{
    long long base;
    int port;
    attack_baseline("127.0.0.3", &port, &base);
    /* The attacker connects to the leecher as soon as it listens. */
    static struct attacker a;
    char dir[256];
    mf_path(&fx, dir, sizeof dir, "attacked");
    long long t0 = tk_now_ms();
    int lport = mf_start_get(&fx, &legit, dir, (const char *const[]){"-v", NULL});
    attacker_start(&a, ATTACK_UNREQUESTED, "127.0.0.3", lport);
    int st = tk_wait_exit(&legit, (int)(4 * base) + ep_scaled_ms(10000));
    long long ms = tk_now_ms() - t0;
    attacker_stop(&a);
    ck_assert_msg(st == 0,
                  "the attacked leecher exited with %d after %lld ms (unattacked %lld):\n%s", st,
                  ms, base, mf_tail(&legit));
    char dst[256];
    mf_path(&fx, dst, sizeof dst, "attacked/data.bin");
    ck_assert_msg(mf_same_file(src, dst), "the attacked copy differs from the original");
    int failed = count_lines(&legit, "failed its hash"),
        struck = count_lines(&legit, "never asked for");
    printf("hostile_attack_unrequested_blocks_do_not_stall_a_leecher: unattacked %lld ms, attacked "
           "%lld "
           "ms; the attacker sent %u blocks over %u connections (%u accepted); %d pieces failed, "
           "%d strikes\n",
           base, ms, atomic_load(&a.blocks), atomic_load(&a.connects), atomic_load(&a.sessions),
           failed, struck);
    ck_assert_msg(ms < 2 * base, "the attacked download took %lld ms, unattacked %lld ms", ms,
                  base);
    ck_assert_msg(atomic_load(&a.blocks) > 0, "the attacker never sent a block: nothing tested");
    ck_assert_msg(failed == 0, "%d pieces failed: a block nobody asked for entered a piece",
                  failed);
    ck_assert_msg(struck >= 1, "the sender of unasked blocks was never struck");
    finish();
}
END_TEST

/* Item 2: sixty connections from one address that never handshake, re-opened as soon as the
 * seeder closes them, once locked every real peer out of the seeder. Connections in their
 * handshake now wait in a small budget of their own, two at most from one address, and never
 * hold the slots of peers that have handshaken. */
START_TEST(hostile_attack_handshake_squatters_do_not_lock_out_a_leecher)
{
    long long base;
    int port;
    attack_baseline("127.0.0.2", &port, &base);
    static struct attacker a;
    attacker_start(&a, ATTACK_SQUAT, "127.0.0.2", port);
    /* The squatters are in place before the leecher comes. */
    long long deadline = tk_now_ms() + ep_scaled_ms(10000);
    while (atomic_load(&a.connects) < ATK_SQUATTERS && tk_now_ms() < deadline)
        poll(NULL, 0, 10);
    ck_assert_msg(atomic_load(&a.connects) >= ATK_SQUATTERS, "only %u squatters connected",
                  atomic_load(&a.connects));
    long long ms = attacked_get(base, "handshake squatters");
    attacker_stop(&a);
    printf("hostile_attack_handshake_squatters_do_not_lock_out_a_leecher: unattacked %lld ms, "
           "attacked "
           "%lld ms; %d squatters opened %u connections\n",
           base, ms, ATK_SQUATTERS, atomic_load(&a.connects));
    finish();
}
END_TEST

/* Item 8: a peer that answers requests with wrong data and, each time it is dropped, comes back
 * with a new peer id, once did so 1139 times in one download. Its address is banned when it is
 * dropped, for the rest of the download: it never gets a second session. */
START_TEST(hostile_attack_banned_liar_cannot_come_back)
{
    long long base;
    int port;
    attack_baseline("127.0.0.4", &port, &base);
    static struct attacker a;
    char dir[256];
    mf_path(&fx, dir, sizeof dir, "attacked");
    long long t0 = tk_now_ms();
    int lport = mf_start_get(&fx, &legit, dir, (const char *const[]){"-v", NULL});
    attacker_start(&a, ATTACK_LIAR, "127.0.0.4", lport);
    int st = tk_wait_exit(&legit, (int)(4 * base) + ep_scaled_ms(10000));
    long long ms = tk_now_ms() - t0;
    attacker_stop(&a);
    ck_assert_msg(st == 0,
                  "the attacked leecher exited with %d after %lld ms (unattacked %lld):\n%s", st,
                  ms, base, mf_tail(&legit));
    char dst[256];
    mf_path(&fx, dst, sizeof dst, "attacked/data.bin");
    ck_assert_msg(mf_same_file(src, dst), "the attacked copy differs from the original");
    unsigned sessions = atomic_load(&a.sessions), connects = atomic_load(&a.connects);
    printf("hostile_attack_banned_liar_cannot_come_back: unattacked %lld ms, attacked %lld ms; the "
           "liar "
           "sent %u wrong blocks, %u sessions of %u connections; %d pieces failed, %d strikes\n",
           base, ms, atomic_load(&a.blocks), sessions, connects,
           count_lines(&legit, "failed its hash"), count_lines(&legit, "sent bad data"));
    ck_assert_msg(atomic_load(&a.blocks) > 0, "the leecher never asked the liar: nothing tested");
    ck_assert_msg(sessions == 1 && connects > 1,
                  "the liar got %u sessions in %u connections: it was %s", sessions, connects,
                  connects > 1 ? "let back in" : "never dropped");
    ck_assert_msg(ms < 2 * base, "the attacked download took %lld ms, unattacked %lld ms", ms,
                  base);
    finish();
}
END_TEST

/* ===================================================================== the tracker ======== */

/* A flood of UDP announces, each for a new random torrent from a new random peer: the tracker
 * refuses new torrents past its cap with an error saying why, keeps serving the torrents it has,
 * and its memory stays bounded. (Bad queries, connection floods and expiry are covered in
 * check_tracker_server.c.) */
START_TEST(hostile_tracker_announce_flood)
{
    enum { FLOOD = 3000, WINDOW = 32, TORRENT_CAP = 1024 };
    mf_make_root(&fx, "hostile", NULL);
    char *argv[] = {"minitorrent", "tracker", "-p", "0", "-u", "0", "-b", "127.0.0.1", NULL};
    ck_assert_int_eq(tk_spawn(&fx.tracker, argv), 0);
    ck_assert_int_gt(tk_wait_listening(&fx.tracker, ep_scaled_ms(10000)), 0);
    const char *u = mf_wait_output(&fx.tracker, "udp://", ep_scaled_ms(10000));
    ck_assert_msg(u != NULL, "no udp:// line from the tracker: %s", mf_tail(&fx.tracker));
    int uport = 0;
    ck_assert_msg(sscanf(u, "udp://127.0.0.1:%d", &uport) == 1, "cannot read %s", u);
    long before = ep_rss_kib(fx.tracker.pid);

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)uport);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    unsigned char pkt[TRACKER_UDP_PACKET_MAX];
    uint64_t cid = 0;
    char err[256];
    for (int tries = 0; cid == 0; tries++) {
        ck_assert_msg(tries < 10, "the UDP tracker never answered a connect");
        send(fd, pkt, tracker_udp_encode_connect_req(pkt, 77), 0);
        if (tk_wait_readable(fd, 1000) == 1) {
            ssize_t n = recv(fd, pkt, sizeof pkt, 0);
            ck_assert_int_eq(
                tracker_udp_parse_connect_resp(pkt, (size_t)n, 77, &cid, err, sizeof err),
                TRACKER_UDP_OK);
        }
    }
    /* Announces go out WINDOW at a time, so the loopback's socket buffers never overflow; a lost
     * one is simply not counted. */
    unsigned seed = 20261124, x = seed;
    int ok = 0, refused = 0, sent = 0;
    char refusal[256] = "";
    while (sent < FLOOD) {
        int batch = 0;
        for (; batch < WINDOW && sent < FLOOD; batch++, sent++) {
            struct tracker_udp_announce_req req = {0};
            req.connection_id = cid;
            req.transaction_id = (uint32_t)sent + 1000;
            for (int i = 0; i < 20; i++) {
                x = x * 1103515245u + 12345u;
                req.info_hash[i] = (unsigned char)(x >> 16);
                x = x * 1103515245u + 12345u;
                req.peer_id[i] = (unsigned char)(x >> 16);
            }
            req.left = 100;
            req.event = TRACKER_EVENT_STARTED;
            req.num_want = -1;
            req.port = 6881;
            send(fd, pkt, tracker_udp_encode_announce_req(pkt, &req), 0);
        }
        for (int got = 0; got < batch && tk_wait_readable(fd, ep_scaled_ms(2000)) == 1; got++) {
            ssize_t n = recv(fd, pkt, sizeof pkt, 0);
            if (n >= 8 && pkt[3] == TRACKER_UDP_ACTION_ANNOUNCE)
                ok++;
            else if (n >= 8 && pkt[3] == TRACKER_UDP_ACTION_ERROR) {
                refused++;
                snprintf(refusal, sizeof refusal, "%.*s", (int)(n - 8), (const char *)pkt + 8);
            }
        }
    }
    close(fd);
    long after = ep_rss_kib(fx.tracker.pid);
    printf("hostile_tracker_announce_flood (seed %u): %d accepted, %d refused (\"%s\"), RSS %ld -> "
           "%ld KiB\n",
           seed, ok, refused, refusal, before, after);
    ck_assert_msg(ok <= TORRENT_CAP, "the tracker took %d new torrents; its cap is %d", ok,
                  TORRENT_CAP);
    ck_assert_msg(refused >= FLOOD - TORRENT_CAP - FLOOD / 10,
                  "only %d of the announces past the cap were refused with an error", refused);
    check_rss("the tracker", before, after);
    /* Over HTTP, a new torrent gets a bencoded failure reason, and a known one still works. */
    snprintf(fx.url, sizeof fx.url, "http://127.0.0.1:%d/announce",
             atoi(strstr(fx.tracker.out, "listening on ") + 13));
    struct announce_params ap;
    announce_defaults(&ap);
    ap.url = fx.url;
    memset(ap.info_hash, 0xab, 20);
    memcpy(ap.peer_id, "-EV0001-000000000001", 20);
    ap.port = 6881;
    ap.left = 100;
    ap.event = TRACKER_EVENT_STARTED;
    ap.timeout_ms = ep_scaled_ms(5000);
    static struct announce_result r;
    ck_assert_int_eq(announce(&ap, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "tracker") != NULL || strstr(err, "full") != NULL ||
                      strstr(err, "torrent") != NULL,
                  "the refusal says: %s", err);
    mf_stop_tracker(&fx);
    mf_remove_root(&fx);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tk_tcase(s, "hostile", 120);
    tk_add_test(tc, hostile_garbage_instead_of_handshake);
    tk_add_test(tc, hostile_wrong_info_hash);
    tk_add_test(tc, hostile_length_prefix_of_4_gib);
    tk_add_test(tc, hostile_bitfield_wrong_size_or_spare_bits);
    tk_add_test(tc, hostile_requests_out_of_range);
    tk_add_test(tc, hostile_request_larger_than_128_kib);
    tk_add_test(tc, hostile_ten_thousand_requests);
    tk_add_test(tc, hostile_silent_connections_time_out);
    tk_add_test(tc, hostile_keepalive_squatters_make_room);
    tk_add_test(tc, hostile_thousand_connections);
    tk_add_test(tc, hostile_wrong_data_sender_is_dropped);
    tk_add_test(tc, hostile_tracker_announce_flood);

    /* hostile_attack_: attacks against a leecher, timed against the same download unattacked. */
    tc = tk_tcase(s, "hostile_attack", 120);
    tk_add_test(tc, hostile_attack_unrequested_blocks_do_not_stall_a_leecher);
    tk_add_test(tc, hostile_attack_handshake_squatters_do_not_lock_out_a_leecher);
    tk_add_test(tc, hostile_attack_banned_liar_cannot_come_back);
    tk_add_test(tc, hostile_attack_one_address_holds_few_slots);
    tk_add_test(tc, hostile_attack_squatters_from_many_addresses_make_room);
    return s;
}

TK_MAIN(hostile_suite)
