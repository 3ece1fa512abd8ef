/*
 * trace.c - the sampler behind --trace, and the reading and summing of its lines (see trace.h).
 */
#include "trace.h"
#include "clock.h"
#include "peer.h"
#include "threads.h"
#include "torrent.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const cause_names[TRACE_CAUSES] = {"busy", "nobody_unchoked", "not_interested",
                                                      "nothing_requested", "requests_waiting"};
static const char *const cause_texts[TRACE_CAUSES] = {
    "none (upload busy)", "nobody unchoked", "unchoked peers not interested",
    "interested peers with nothing requested", "requests waiting (socket, thread or limit)"};

/* Returns the short name of a cause, as the trace writes it. */
const char *trace_cause_name(enum trace_cause c)
{
    return c < TRACE_CAUSES ? cause_names[c] : "?";
}

/* Returns a cause in words, for the swarm's report. */
const char *trace_cause_text(enum trace_cause c)
{
    return c < TRACE_CAUSES ? cause_texts[c] : "?";
}

/* Says why a sample's tokens went unused. The order matters: a connection with requests waiting
 * means the upload had work and something else held it back, so it wins over idle connections;
 * an interested peer that asks for nothing comes before peers that do not want anything at all. */
enum trace_cause trace_classify(const struct trace_sample *s)
{
    if (s->unused == 0)
        return TRACE_BUSY;
    if (s->busy > 0)
        return TRACE_REQUESTS_WAITING;
    if (s->idle > 0)
        return TRACE_NOTHING_REQUESTED;
    if (s->unchoked > 0)
        return TRACE_NOT_INTERESTED;
    return TRACE_NOBODY_UNCHOKED;
}

/* Writes one sample line; see trace.h for the fields. */
int trace_write_sample(FILE *f, const struct trace_sample *s)
{
    if (fprintf(f,
                "trace mono_ms=%" PRIu64 " t_ms=%" PRIu64 " up=%" PRIu64 " down=%" PRIu64
                " wire_up=%" PRIu64 " allowed=%" PRIu64 " unused=%" PRIu64
                " cause=%s unchoked=%u busy=%u idle=%u notint=%u verified=%" PRIu32
                " inprog=%" PRIu32 " pick_us=%" PRIu64 " q=",
                s->mono_ms, s->t_ms, s->up, s->down, s->wire_up, s->allowed, s->unused,
                trace_cause_name(s->cause), s->unchoked, s->busy, s->idle, s->notint, s->verified,
                s->inprog, s->pick_us) < 0)
        return -1;
    if (s->nq == 0 && fputc('-', f) == EOF)
        return -1;
    for (unsigned i = 0; i < s->nq && i < TRACE_MAX_Q; i++)
        if (fprintf(f, "%s%u", i > 0 ? "," : "", s->q[i]) < 0)
            return -1;
    return fputc('\n', f) == EOF ? -1 : 0;
}

/* Finds " name=" (or "name=" at the start) in line and returns the text after '=', or NULL. */
static const char *field(const char *line, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(line, name); p != NULL; p = strstr(p + 1, name))
        if ((p == line || p[-1] == ' ') && p[n] == '=')
            return p + n + 1;
    return NULL;
}

/* Reads the decimal field name of line into *out, refusing a missing field, a sign, or a value
 * past max. Returns 0 or -1. */
static int num(const char *line, const char *name, uint64_t max, uint64_t *out)
{
    const char *v = field(line, name);
    if (v == NULL || *v < '0' || *v > '9')
        return -1;
    uint64_t x = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (x > (max - (uint64_t)(*v - '0')) / 10)
            return -1;
        x = x * 10 + (uint64_t)(*v - '0');
    }
    if (*v != ' ' && *v != '\n' && *v != '\0')
        return -1;
    *out = x;
    return 0;
}

/* Reads a sample line; see trace.h. */
int trace_parse_line(const char *line, struct trace_sample *s, const char **rest)
{
    if (strncmp(line, "trace ", 6) != 0)
        return -1;
    memset(s, 0, sizeof *s);
    enum { NFIELDS = 14 };
    uint64_t v[NFIELDS];
    static const char *const names[NFIELDS] = {
        "mono_ms",  "t_ms", "up",   "down",   "wire_up",  "allowed", "unused",
        "unchoked", "busy", "idle", "notint", "verified", "inprog",  "pick_us"};
    for (size_t i = 0; i < NFIELDS; i++) {
        uint64_t max = i >= 7 && i <= 12 ? UINT32_MAX : UINT64_MAX;
        if (num(line, names[i], max, &v[i]) < 0)
            return -1;
    }
    s->mono_ms = v[0];
    s->t_ms = v[1];
    s->up = v[2];
    s->down = v[3];
    s->wire_up = v[4];
    s->allowed = v[5];
    s->unused = v[6];
    s->unchoked = (unsigned)v[7];
    s->busy = (unsigned)v[8];
    s->idle = (unsigned)v[9];
    s->notint = (unsigned)v[10];
    s->verified = (uint32_t)v[11];
    s->inprog = (uint32_t)v[12];
    s->pick_us = v[13];
    const char *c = field(line, "cause");
    if (c == NULL)
        return -1;
    size_t clen = strcspn(c, " \n");
    s->cause = TRACE_CAUSES;
    for (int k = 0; k < TRACE_CAUSES; k++)
        if (strlen(cause_names[k]) == clen && strncmp(c, cause_names[k], clen) == 0)
            s->cause = (enum trace_cause)k;
    if (s->cause == TRACE_CAUSES)
        return -1;
    /* The list of queues: "-" when nothing is unchoked, else numbers separated by commas. */
    const char *q = field(line, "q");
    if (q == NULL)
        return -1;
    if (*q == '-') {
        q++;
    } else {
        while (*q >= '0' && *q <= '9') {
            unsigned long x = 0;
            for (; *q >= '0' && *q <= '9' && x < 1000000; q++)
                x = x * 10 + (unsigned long)(*q - '0');
            if (x >= 1000000 || s->nq >= TRACE_MAX_Q)
                return -1;
            s->q[s->nq++] = (unsigned)x;
            if (*q == ',')
                q++;
        }
    }
    if (*q != '\0' && *q != '\n' && *q != ' ')
        return -1;
    if (rest != NULL)
        *rest = line + 6;
    return 0;
}

/* Adds a sample to the sums. */
void trace_totals_add(struct trace_totals *tt, const struct trace_sample *s)
{
    tt->samples++;
    tt->up += s->up;
    tt->down += s->down;
    tt->wire_up += s->wire_up;
    tt->allowed += s->allowed;
    tt->unused += s->unused;
    if (s->cause < TRACE_CAUSES)
        tt->unused_by[s->cause] += s->unused;
    tt->pick_us += s->pick_us;
}

/* The upload used, in percent of what the limit allowed. */
double trace_totals_used_pct(const struct trace_totals *tt)
{
    if (tt->allowed == 0)
        return 0;
    return 100.0 * (double)(tt->allowed - tt->unused) / (double)tt->allowed;
}

/* ===================================================================== the sampler ======== */

/* Takes one sample of the torrent's state, for the interval since the last one. */
static void take_sample(struct trace *tr, struct trace_sample *s)
{
    struct torrent *t = tr->t;
    memset(s, 0, sizeof *s);
    uint64_t now = clock_ms();
    pthread_mutex_lock(&t->lock);
    s->up = t->uploaded - tr->last_up;
    tr->last_up = t->uploaded;
    s->down = t->received - tr->last_down;
    tr->last_down = t->received;
    s->pick_us = (t->pick_ns - tr->last_pick_ns) / 1000;
    tr->last_pick_ns = t->pick_ns - (t->pick_ns - tr->last_pick_ns) % 1000;
    s->verified = t->picker.have_count;
    s->inprog = t->picker.npartial;
    for (struct peer *p = t->peers; p != NULL; p = p->next) {
        if (p->finished || !p->handshaken || !p->want_unchoke || t->cfg.no_upload)
            continue;
        s->unchoked++;
        if (!p->peer_interested)
            s->notint++;
        else if (p->trace_waiting > 0)
            s->busy++;
        else
            s->idle++;
        if (s->nq < TRACE_MAX_Q)
            s->q[s->nq++] = p->trace_waiting;
    }
    pthread_mutex_unlock(&t->lock);
    uint64_t wire = atomic_load_explicit(&t->wire_up, memory_order_relaxed);
    s->wire_up = wire - tr->last_wire;
    tr->last_wire = wire;
    s->mono_ms = now;
    s->t_ms = now - tr->start_ms;
    s->allowed = t->cfg.up_rate * (now - tr->last_ms) / 1000;
    /* Tokens are lost only when the bucket overflows: a quiet moment inside the interval is made
     * up for by a burst after it, up to the bucket's size. So the sampler keeps a bucket of its
     * own, the size limiter.c gives the real one (a tenth of a second, at least one block),
     * filled by the rate and emptied by what went out; what overflows it is unused. */
    int64_t cap = (int64_t)(t->cfg.up_rate / 10 > 16384 ? t->cfg.up_rate / 10 : 16384);
    int64_t level = tr->bucket + (int64_t)s->allowed - (int64_t)s->wire_up;
    s->unused = 0;
    if (level > cap) {
        s->unused = (uint64_t)(level - cap);
        level = cap;
    }
    tr->bucket = level;
    s->cause = trace_classify(s);
    tr->last_ms = now;
}

/* Takes a sample and writes it, remembering the first write error. */
static void sample_and_write(struct trace *tr)
{
    struct trace_sample s;
    take_sample(tr, &s);
    if (tr->error == 0 && (trace_write_sample(tr->f, &s) < 0 || fflush(tr->f) == EOF))
        tr->error = errno != 0 ? errno : EIO;
}

/* The sampler thread: a sample every TRACE_INTERVAL_MS until a byte arrives on the stop pipe.
 * The wait is poll() on that pipe with a time out, so stopping never waits out an interval. */
static void *trace_main(void *arg)
{
    struct trace *tr = arg;
    uint64_t next = tr->last_ms + TRACE_INTERVAL_MS;
    for (;;) {
        uint64_t now = clock_ms();
        int wait = next > now ? (int)(next - now) : 0;
        struct pollfd pfd = {.fd = tr->stop[0], .events = POLLIN};
        int r = poll(&pfd, 1, wait);
        if (r > 0 || (r < 0 && errno != EINTR))
            break;
        if (r < 0)
            continue;
        sample_and_write(tr);
        /* Keep to the grid of intervals; after a long stall, start again from now. */
        next += TRACE_INTERVAL_MS;
        if (next + TRACE_INTERVAL_MS < clock_ms())
            next = clock_ms() + TRACE_INTERVAL_MS;
    }
    return NULL;
}

int trace_start(struct trace *tr, struct torrent *t, const char *path, char *err, size_t errlen)
{
    memset(tr, 0, sizeof *tr);
    tr->stop[0] = tr->stop[1] = -1;
    tr->t = t;
    tr->f = fopen(path, "w");
    if (tr->f == NULL) {
        snprintf(err, errlen, "cannot write the trace %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(tr->f, "# minitorrent trace up_rate=%" PRIu64 " interval_ms=%d\n", t->cfg.up_rate,
            TRACE_INTERVAL_MS);
    tr->start_ms = tr->last_ms = clock_ms();
    pthread_mutex_lock(&t->lock);
    tr->last_up = t->uploaded;
    tr->last_down = t->received;
    tr->last_pick_ns = t->pick_ns;
    pthread_mutex_unlock(&t->lock);
    tr->last_wire = atomic_load_explicit(&t->wire_up, memory_order_relaxed);
    int rc;
    if (pipe(tr->stop) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
    } else if ((rc = thread_start(&tr->thread, trace_main, tr, false, 0)) != 0) {
        snprintf(err, errlen, "cannot start the trace's thread: %s", strerror(rc));
    } else {
        tr->started = true;
        return 0;
    }
    fclose(tr->f);
    tr->f = NULL;
    for (int i = 0; i < 2; i++)
        if (tr->stop[i] >= 0)
            close(tr->stop[i]);
    return -1;
}

int trace_stop(struct trace *tr)
{
    if (!tr->started)
        return 0;
    (void)!write(tr->stop[1], "x", 1);
    pthread_join(tr->thread, NULL);
    tr->started = false;
    close(tr->stop[0]);
    close(tr->stop[1]);
    /* The last sample covers the time since the one before, so the sums of the whole trace are
     * the torrent's counters at the stop. */
    sample_and_write(tr);
    int err = tr->error;
    if (fclose(tr->f) == EOF && err == 0)
        err = errno;
    tr->f = NULL;
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}
