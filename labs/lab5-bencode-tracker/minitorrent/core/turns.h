/*
 * turns.h - upload turns: under an upload limit, the peers we upload to are served one at a time,
 * a piece's worth each, in the order they asked. Sans-I/O: the time is always a parameter.
 *
 * Why. A peer unchokes four or five others and its upload limit is shared among them. Shared
 * block by block, every one of them receives its piece at a fifth of the rate: with 256 KiB
 * pieces at 1 MiB/s, each piece we send is whole, and can be passed on, only after 1.25 s. The
 * same bytes in the same second, sent a piece at a time, make the first piece whole after
 * 0.25 s, the second after 0.5 s, and the last after 1.25 s as before: on average the pieces
 * reach the next peer 40 % sooner, and in a swarm where every piece hops from peer to peer, that
 * is time the whole swarm saves at every hop. Each peer still gets the same bytes over the
 * choker's 20-second window, so tit-for-tat sees the same rates.
 *
 * How. A connection with requests waiting asks for the turn (turns_ask). The holder queues blocks
 * and counts them (turns_used); after `quantum` bytes, the turn goes to the connection that has
 * waited longest, or stays with the holder when nobody waits. A holder with nothing left to send
 * gives the turn up (turns_done), and so does a connection that closes (turns_forget). A holder
 * whose blocks do not leave (a peer that stopped reading) would keep everyone waiting, so a turn
 * older than max_ms may be taken over by the next one to ask.
 *
 * Real clients do not do this: libtorrent's bandwidth manager hands out each second's bytes
 * among the connections that ask, in proportion to their priority, and aria2 lets every
 * connection draw from one bucket, as minitorrent did before. Both keep the rates fair over a
 * second; neither looks at when a piece becomes whole at the other end.
 */
#ifndef TURNS_H
#define TURNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct turns {
    uint64_t quantum;  /* bytes a turn lasts (a piece's worth) */
    uint64_t max_ms;   /* a turn older than this may be taken over */
    uint64_t holder;   /* the key of the connection whose turn it is; 0: nobody's */
    uint64_t used;     /* bytes the holder has queued in this turn */
    uint64_t since_ms; /* when this turn began */
    uint64_t *waiting; /* keys waiting for a turn, the longest-waiting first */
    size_t nwaiting, cap;
};

/* Sets up turns of quantum bytes (at least 1) that may be taken over after max_ms, for at most cap
 * connections waiting at once. Returns 0, or -1 when memory runs out. */
int turns_init(struct turns *tu, uint64_t quantum, uint64_t max_ms, size_t cap);
void turns_free(struct turns *tu);

/* Connection key (never 0) has requests to serve: returns true when the turn is its own (held
 * already, free, or taken over from a holder older than max_ms), false when it must wait; it is
 * then queued, once, and the caller wakes it when a later call names it. */
bool turns_ask(struct turns *tu, uint64_t key, uint64_t now_ms);

/* The holder key queued bytes. Returns the key whose turn it is now: key itself, or, once key has
 * used its quantum, the connection that waited longest (the caller wakes it; key stops and asks
 * again later, at the back of the queue). With nobody waiting, key starts a new turn. */
uint64_t turns_used(struct turns *tu, uint64_t key, uint64_t bytes, uint64_t now_ms);

/* Key has nothing left to send: if it holds the turn, the turn passes to the connection that
 * waited longest. Returns that connection's key, for the caller to wake, or 0 (nobody to wake). */
uint64_t turns_done(struct turns *tu, uint64_t key, uint64_t now_ms);

/* Key is gone: it leaves the queue, and its turn passes on as with turns_done. Returns the key to
 * wake, or 0. */
uint64_t turns_forget(struct turns *tu, uint64_t key, uint64_t now_ms);

#endif
