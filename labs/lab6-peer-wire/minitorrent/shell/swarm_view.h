/*
 * swarm_view.h - what `minitorrent swarm` shows while a swarm runs: one row per peer.
 *
 * Every child process prints a status line a few times a second (see swarm_run.c for the
 * options that ask for it). This module turns those lines into a table an instructor can put on
 * the projector, 100 columns wide:
 *
 *   t = 3.2 s   P2P  N=8  F=4.0 MiB  u_s=1.0 MiB/s  u_i=512.0 KiB/s  d=unlimited  bound 6.4 s
 *   pieces: # rarest in the swarm, + rare, - common, . missing   rates: last 2 s   *: optimistic
 *   peer  address     unchokes               have    down/s     up/s       done    pieces
 *   seed  127.0.0.2   p1 p3 p4 p6 *p5        64/64   -          1.0 MiB/s  seed    #+--+#-+--...
 *   p1    127.0.0.11  seed p4 p2 *p7         22/64   498.2 KiB/ 251.0 KiB/ -       ..#.+-..-#...
 *
 * "unchokes" lists the peers this one is currently uploading to (BitTorrent's tit-for-tat
 * choice); the one marked * is the optimistic unchoke, the random extra slot that lets a
 * newcomer with nothing to trade get its first pieces. The piece map has a cell per piece (or
 * per group of pieces, to fit the width), shaded by how many peers hold that piece: rarest first
 * is seen working when the '#' cells spread first.
 *
 * On a terminal the table is redrawn in place with ANSI cursor movement. When the output is a
 * file or a pipe (a log, a test), redrawing would only add noise, so a short plain line is
 * printed every two seconds instead (the first says why), and events (a peer finished, was
 * killed, came back) get a line of their own.
 */
#ifndef SWARM_VIEW_H
#define SWARM_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { SWARM_PIECES_HEX = 1024 };

/* One status line's fields. Missing keys stay 0 or empty. */
struct swarm_status {
    uint64_t t_ms;        /* the child's own time since it started */
    uint32_t have, total; /* verified pieces of all pieces */
    uint64_t bytes;       /* verified bytes */
    double down_Bps, up_Bps;
    uint64_t uploaded;   /* block bytes sent since the child started */
    unsigned peers;      /* connections */
    char unchoked[512];  /* "127.0.0.11:40001,127.0.0.12:40007" or "" or "-" */
    char optimistic[64]; /* one address, or "-" */
    bool complete;
    /* The verified pieces as hex, piece 0 in the top bit of the first digit (the order of a
     * BITFIELD message); "" until the child reports them. Up to 4096 pieces. */
    char pieces[SWARM_PIECES_HEX + 1];
};

/* Returns whether the status says the peer holds piece i (false when it did not say). */
bool swarm_status_has_piece(const struct swarm_status *st, uint32_t i);

enum swarm_line {
    SWARM_LINE_OTHER,     /* anything else a child prints; ignored */
    SWARM_LINE_LISTENING, /* "listening on PORT" */
    SWARM_LINE_STATUS,    /* "status key=value ..." */
    SWARM_LINE_COMPLETE,  /* "complete t_ms=..." : every piece verified */
};

/* Reads one line (without its newline). For a status line fills *st, starting from its current
 * contents so a key the child left out keeps its last value; for "listening on PORT" sets *port.
 * Unknown keys are skipped, so the children may add keys without breaking the swarm. */
enum swarm_line swarm_parse_line(const char *line, struct swarm_status *st, int *port);

enum swarm_peer_state {
    SWARM_PEER_STARTING, /* started, no status line yet */
    SWARM_PEER_RUNNING,
    SWARM_PEER_DONE,   /* said "complete" */
    SWARM_PEER_DOWN,   /* killed by the churn, waiting to be restarted */
    SWARM_PEER_FAILED, /* exited by itself before finishing */
};

struct swarm_view_peer {
    char name[16];      /* "seed", "p1", ... */
    char addr[48];      /* the IP address it is bound to, without a port */
    char prev_addr[48]; /* the address it had before a restart on a new one, or "" */
    enum swarm_peer_state state;
    struct swarm_status st;
    double finish_s; /* when it completed, on the swarm's clock; negative before */
    unsigned restarts;
};

enum { SWARM_VIEW_EVENTS = 5, SWARM_MAP_MAX = 256 };

struct swarm_view {
    FILE *out;
    bool tty;                      /* redraw in place, or print plain lines */
    size_t width;                  /* characters per line; longer rows are cut, so none wraps */
    char title[300];               /* the first line: mode, N, file, rates, bound */
    double bound_s;                /* the run's lower bound on D, for the web page's plot */
    char rate_window[16];          /* the children's rate window in seconds, for the label */
    struct swarm_view_peer *peers; /* the caller's array; peers[0] is the seed */
    size_t npeers;
    char events[SWARM_VIEW_EVENTS][160]; /* the latest events, oldest first (terminal mode) */
    unsigned nevents;
    int lines_drawn;     /* how far up the next redraw must move the cursor */
    char plain_why[120]; /* why the view prints plain lines, said once at the first one */
    bool plain_said;
    double next_plain_s; /* when the next plain progress line is due */
};

void swarm_view_init(struct swarm_view *v, FILE *out, bool tty, struct swarm_view_peer *peers,
                     size_t npeers);

/* Notes why the view prints plain lines rather than redrawing a table ("output is not a
 * terminal"); the first plain line says so, once. */
void swarm_view_note_plain(struct swarm_view *v, const char *why);

/* Reports an event ("p3 finished in 8.1 s"). On a terminal it goes into the list under the
 * table; otherwise it is printed at once, with the time. */
void swarm_view_event(struct swarm_view *v, double now_s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Shows the current state: a redraw on a terminal, or a plain line when one is due. */
void swarm_view_draw(struct swarm_view *v, double now_s);

/* Draws the last frame (on a terminal), so the final state stays on the screen. */
void swarm_view_finish(struct swarm_view *v, double now_s);

/* Writes the table (without cursor movement) into buf and returns its length, as snprintf
 * does: a result >= cap means it was cut short. Used by the drawing and by the tests. */
size_t swarm_view_format(const struct swarm_view *v, double now_s, char *buf, size_t cap);

/* Finds the peer an "ADDR:PORT" (or "[V6]:PORT") names, by its IP address alone: each peer has
 * an address of its own, and the port of a connection it dialled is not its listening port.
 * Returns the peer's name, or NULL for an address no peer has. */
const char *swarm_view_name_of(const struct swarm_view *v, const char *addr_port);

#endif
