/*
 * trace.h - a peer's own record of where its upload time goes (`seed`/`get`/`swarm` --trace).
 *
 * Every TRACE_INTERVAL_MS a sampler thread takes the torrent's lock, reads the counters the peer
 * threads keep, and writes one line of text:
 *
 *   trace mono_ms=81234567 t_ms=1200 up=98304 down=65536 wire_up=98421 allowed=104857
 *     unused=6436 cause=nothing_requested unchoked=5 busy=2 idle=2 notint=1 verified=17
 *     inprog=3 pick_us=12 q=3,0,0,4,0
 *
 * (one line in the file). The fields, for the 100 ms that end at mono_ms:
 *   up, down       block bytes we sent (queued for the socket) and block bytes we kept
 *   wire_up        every byte we wrote to sockets, messages included: what the upload limit counts
 *   allowed        what the upload limit allowed in the interval (rate x time; 0 without a limit)
 *   unused         upload tokens that went unused: what overflowed a token bucket like the
 *                  limiter's, filled by the rate and emptied by wire_up
 *   cause          why they went unused, from the connections' state at the sample (below)
 *   unchoked       connections we upload to now; of them busy have requests of theirs waiting,
 *                  idle are interested with nothing asked, notint are not interested in us
 *   verified       pieces verified so far; inprog: pieces in progress in our picker
 *   pick_us        microseconds spent choosing blocks (picker_next, under the torrent's lock)
 *   q              requests waiting at us, one number per unchoked connection
 *
 * The file starts with a line "# minitorrent trace up_rate=BPS interval_ms=100". mono_ms is the
 * monotonic clock, which every process of one machine shares, so `swarm` can line the traces of
 * its peers up against its own clock.
 *
 * A shortcut: the cause is read from the state at the end of each interval, a snapshot, while the
 * tokens were lost at some moment inside it. A profiler would record every transition of every
 * connection with a timestamp (libtorrent's "session stats" counters are sampled the same way we
 * do, though, and are read the same way).
 */
#ifndef TRACE_H
#define TRACE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { TRACE_INTERVAL_MS = 100, TRACE_MAX_Q = 64 };

/* Why upload tokens went unused, from the most to the least fundamental. */
enum trace_cause {
    TRACE_BUSY = 0,          /* nothing went unused */
    TRACE_NOBODY_UNCHOKED,   /* no connection unchoked (or uploading is off) */
    TRACE_NOT_INTERESTED,    /* every unchoked peer is not interested in us */
    TRACE_NOTHING_REQUESTED, /* an unchoked peer is interested, but none has a request waiting */
    TRACE_REQUESTS_WAITING,  /* requests were waiting: the socket, the thread or the limit */
    TRACE_CAUSES
};

/* The name of a cause as the trace writes it ("nothing_requested"), and as people read it. */
const char *trace_cause_name(enum trace_cause c);
const char *trace_cause_text(enum trace_cause c);

/* One line of a trace. */
struct trace_sample {
    uint64_t mono_ms, t_ms;
    uint64_t up, down, wire_up, allowed, unused;
    enum trace_cause cause;
    unsigned unchoked, busy, idle, notint;
    uint32_t verified, inprog;
    uint64_t pick_us;
    unsigned nq;
    unsigned q[TRACE_MAX_Q];
};

/* Says why tokens went unused from the counts of a sample (unused > 0), or TRACE_BUSY. */
enum trace_cause trace_classify(const struct trace_sample *s);

/* Writes one sample as a line of the format above, with a newline. Returns 0 or -1. */
int trace_write_sample(FILE *f, const struct trace_sample *s);

/* Reads a line of the format above (a "trace " line, its newline optional) into *s. Returns 0, or
 * -1 for a line that is not a sample or has a field missing or out of range. With rest non-NULL,
 * *rest points at the text after "trace " (what `swarm` copies into its merged file). */
int trace_parse_line(const char *line, struct trace_sample *s, const char **rest);

/* The sums of samples over a stretch of time, for the swarm's report. */
struct trace_totals {
    uint64_t samples;
    uint64_t up, down, wire_up, allowed, unused;
    uint64_t unused_by[TRACE_CAUSES];
    uint64_t pick_us;
};

/* Adds a sample to the totals. */
void trace_totals_add(struct trace_totals *tt, const struct trace_sample *s);

/* The share of the allowed upload that was used, in percent (0 when nothing was allowed). */
double trace_totals_used_pct(const struct trace_totals *tt);

struct torrent;

/* The sampler of one torrent. */
struct trace {
    FILE *f;
    struct torrent *t;
    int stop[2]; /* a byte in this pipe ends the sampler */
    pthread_t thread;
    bool started;
    uint64_t start_ms, last_ms;
    uint64_t last_up, last_down, last_wire, last_pick_ns;
    int64_t bucket; /* the tokens of the sampler's own bucket (below 0: sent on credit) */
    int error;      /* an errno from writing the file; 0: none */
};

/* Opens path for the trace of torrent t and starts the sampler. Returns 0, or -1 with a message
 * in err. Call it after the torrent is open (it reads its counters). */
int trace_start(struct trace *tr, struct torrent *t, const char *path, char *err, size_t errlen);

/* Writes a last sample, stops the sampler and closes the file. Returns 0, or -1 with errno set
 * when the file could not be written completely. Does nothing for a trace never started. */
int trace_stop(struct trace *tr);

#endif
