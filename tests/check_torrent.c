/*
 * check_torrent.c - the shared torrent state without sockets: the choker's round over every peer,
 * and the ban list by address.
 *
 * The tests build a struct torrent by hand with fake peers (no threads, no sockets: a fake peer's
 * wake-up pipe is -1, so waking it writes nowhere) and call the functions that work on it.
 */
/* RTLD_NEXT, for the fault injection below (glibc only). */
#define _GNU_SOURCE 1
#include "testlib.h"
#include "clock.h"
#include "evilpeer.h"
#include "peer.h"
#include "torrent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fault injection: a pthread_mutex_init that fails on demand -------------------------------
 * Defined in the test program, this one replaces the C library's for every caller in the program
 * (the toolkit's code included); it passes on to the real one unless told to fail. It needs
 * glibc's RTLD_NEXT, and is left out under a sanitizer, whose runtime replaces the same
 * function. */
#if defined(__GLIBC__) && !EP_SANITIZED
#include <dlfcn.h>
#define TK_CAN_FAIL_MUTEX 1
static int fail_mutex_init; /* the error the next calls return; 0: call the real function */

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    if (fail_mutex_init != 0)
        return fail_mutex_init;
    int (*real)(pthread_mutex_t *, const pthread_mutexattr_t *);
    *(void **)&real = dlsym(RTLD_NEXT, "pthread_mutex_init");
    return real(m, a);
}
#else
#define TK_CAN_FAIL_MUTEX 0
#endif

/* A lock that cannot be made is an error the caller hears of, not a lock used uninitialised:
 * limiter_init fails with the error number in errno, and torrent_open says so before it
 * opens anything (and torrent_stop and torrent_close then touch nothing it did not make). */
START_TEST(torrent_open_reports_a_lock_it_cannot_make)
{
#if TK_CAN_FAIL_MUTEX
    struct limiter l;
    fail_mutex_init = EAGAIN;
    int rc = limiter_init(&l, 1000, 0);
    int e = errno;
    fail_mutex_init = 0;
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(e, EAGAIN);

    static struct torrent t;
    struct torrent_config cfg;
    torrent_config_defaults(&cfg);
    char err[256] = "";
    fail_mutex_init = EAGAIN;
    rc = torrent_open(&t, "/nonexistent/x.torrent", &cfg, false, err, sizeof err);
    fail_mutex_init = 0;
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err, "lock") != NULL, "torrent_open said: %s", err);
    torrent_stop(&t);
    torrent_close(&t);
#else
    tk_skip("no way to make pthread_mutex_init fail here (glibc without a sanitizer only)");
#endif
}
END_TEST

/* Sets up the parts of a torrent that torrent_tick and the ban list use. */
static void fake_torrent(struct torrent *t)
{
    memset(t, 0, sizeof *t);
    torrent_config_defaults(&t->cfg);
    ck_assert_int_eq(pthread_mutex_init(&t->lock, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&t->changed, NULL), 0);
    struct choker_config cc;
    choker_config_defaults(&cc, 7);
    choker_init(&t->choker, &cc, clock_ms());
    t->banned = calloc(TORRENT_BANS, sizeof *t->banned);
    ck_assert_ptr_nonnull(t->banned);
}

static void fake_torrent_free(struct torrent *t)
{
    while (t->peers != NULL) {
        struct peer *p = t->peers;
        t->peers = p->next;
        peer_free(p);
    }
    free(t->choker_peers);
    free(t->choker_who);
    free(t->banned);
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->lock);
}

/* Adds a handshaken, interested fake peer that sent us `rate` bytes in the last moment; the list
 * is kept in the order the peers were added. */
static struct peer *add_fake_peer(struct torrent *t, struct peer **tail, uint64_t rate)
{
    struct peer *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    p->t = t;
    p->fd = p->wake[0] = p->wake[1] = -1;
    p->key = ++t->next_key;
    p->handshaken = true;
    p->peer_interested = true;
    uint64_t now = clock_ms();
    rate_init(&p->to_us, 20000, now);
    rate_init(&p->from_us, 20000, now);
    rate_add(&p->to_us, rate, now);
    rate_add(&p->from_us, rate, now);
    p->last_block_ms = now;
    if (*tail == NULL)
        t->peers = p;
    else
        (*tail)->next = p;
    *tail = p;
    t->npeers++;
    return p;
}

/* With --max-peers above 1024, every peer takes part in the choker's round: the fastest peers
 * come last in the list, past the 1024 that a fixed array once held, and they are the ones
 * unchoked. */
START_TEST(torrent_tick_ranks_every_peer_past_1024)
{
    enum { N = 1500, FAST = 4 };
    struct torrent t;
    fake_torrent(&t);
    struct peer *tail = NULL, *fast[FAST];
    for (int i = 0; i < N - FAST; i++)
        add_fake_peer(&t, &tail, 1000);
    for (int i = 0; i < FAST; i++)
        fast[i] = add_fake_peer(&t, &tail, 1000000 + (uint64_t)i);
    torrent_tick(&t);
    int unchoked = 0;
    for (struct peer *p = t.peers; p != NULL; p = p->next)
        unchoked += p->want_unchoke;
    for (int i = 0; i < FAST; i++)
        ck_assert_msg(fast[i]->want_unchoke, "fast peer %d of %d (number %d in the list) choked", i,
                      FAST, N - FAST + i);
    ck_assert_msg(unchoked <= FAST + 1, "%d peers unchoked with %d upload slots", unchoked, FAST);
    fake_torrent_free(&t);
}
END_TEST

/* Runs torrent_tick on one torrent many times. */
static void *tick_many(void *arg)
{
    for (int i = 0; i < 200; i++)
        torrent_tick(arg);
    return NULL;
}

/* Two torrents in one process, each ticked by its own thread: their choker rounds share no
 * memory (under ThreadSanitizer a shared scratch array shows up as a data race here). */
START_TEST(torrent_tick_two_torrents_in_two_threads)
{
    static struct torrent t[2];
    for (int k = 0; k < 2; k++) {
        fake_torrent(&t[k]);
        struct peer *tail = NULL;
        for (int i = 0; i < 40; i++)
            add_fake_peer(&t[k], &tail, 1000 + (uint64_t)i * (k ? 7 : 3));
        t[k].cfg.rechoke_ms = 1;
        t[k].choker.cfg.rechoke_ms = 1;
    }
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, tick_many, &t[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 2; k++) {
        /* Each torrent's decisions name its own peers: the fastest of each is unchoked. */
        struct peer *last = t[k].peers;
        while (last->next != NULL)
            last = last->next;
        ck_assert_msg(last->want_unchoke, "torrent %d: its fastest peer is choked", k);
        fake_torrent_free(&t[k]);
    }
}
END_TEST

/* Makes an IPv4 or IPv6 socket address. */
static struct sockaddr_storage addr_of(const char *ip, unsigned port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(ip, ':') == NULL) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        ck_assert_int_eq(inet_pton(AF_INET, ip, &in->sin_addr), 1);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
    }
    return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

/* A banned address is refused on any port, and as its IPv4-mapped IPv6 form; other addresses
 * are not. The list is bounded: past TORRENT_BANS entries the oldest is forgotten. */
START_TEST(torrent_ban_by_address_any_port)
{
    struct torrent t;
    fake_torrent(&t);
    struct sockaddr_storage liar = addr_of("127.0.0.4", 40001);
    struct sockaddr_storage again = addr_of("127.0.0.4", 50002);
    struct sockaddr_storage mapped = addr_of("::ffff:127.0.0.4", 6881);
    struct sockaddr_storage other = addr_of("127.0.0.5", 40001);
    struct sockaddr_storage v6 = addr_of("2001:db8::1", 1);
    ck_assert(!torrent_banned_locked(&t, SA(liar)));
    torrent_ban_locked(&t, SA(liar));
    torrent_ban_locked(&t, SA(again)); /* the same address: no second entry */
    ck_assert_uint_eq(t.nbanned, 1);
    ck_assert(torrent_banned_locked(&t, SA(again)));
    ck_assert(torrent_banned_locked(&t, SA(mapped)));
    ck_assert(!torrent_banned_locked(&t, SA(other)));
    torrent_ban_locked(&t, SA(v6));
    ck_assert(torrent_banned_locked(&t, SA(v6)));
    /* Fill the list with other addresses: the first ban falls out, the last ones stay. */
    for (unsigned i = 0; i < TORRENT_BANS; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%u.%u", i / 256, i % 256);
        struct sockaddr_storage a = addr_of(ip, 1);
        torrent_ban_locked(&t, SA(a));
    }
    ck_assert_uint_eq(t.nbanned, TORRENT_BANS);
    ck_assert(!torrent_banned_locked(&t, SA(liar)));
    struct sockaddr_storage last = addr_of("10.0.0.255", 9);
    ck_assert(torrent_banned_locked(&t, SA(last)));
    fake_torrent_free(&t);
}
END_TEST

static Suite *torrent_suite(void)
{
    Suite *s = suite_create("torrent");
    TCase *tc = tk_tcase(s, "torrent", 30);
    tk_add_test(tc, torrent_tick_ranks_every_peer_past_1024);
    tk_add_test(tc, torrent_tick_two_torrents_in_two_threads);
    tk_add_test(tc, torrent_ban_by_address_any_port);
    tk_add_test(tc, torrent_open_reports_a_lock_it_cannot_make);
    return s;
}

TK_MAIN(torrent_suite)
