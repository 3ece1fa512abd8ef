/*
 * swarm_view.c - parsing the children's status lines, and the live table (see swarm_view.h).
 */
#include "swarm_view.h"
#include "units.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- Reading status lines -------------------------------------------------------------------- */

/* Copies the value [s, s+n) into dst (cap bytes with the NUL). A list that does not fit is cut
 * after its last whole item, so a long unchoke list loses names rather than showing half of one. */
static void copy_value(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && s[n] != ',')
            n--;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Parses an unsigned decimal number that must fill [s, s+n) exactly. Returns 0 or -1. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Applies one key=value pair to st. Keys this version does not know are ignored on purpose:
 * the children may report more than the swarm shows. */
static void apply_pair(struct swarm_status *st, const char *key, size_t klen, const char *val,
                       size_t vlen)
{
#define KEY_IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
    uint64_t n;
    if (KEY_IS("t_ms")) {
        if (parse_u64(val, vlen, &n) == 0)
            st->t_ms = n;
    } else if (KEY_IS("have")) {
        const char *slash = memchr(val, '/', vlen);
        uint64_t a, b;
        if (slash != NULL && parse_u64(val, (size_t)(slash - val), &a) == 0 &&
            parse_u64(slash + 1, vlen - (size_t)(slash - val) - 1, &b) == 0 && a <= b &&
            b <= UINT32_MAX) {
            st->have = (uint32_t)a;
            st->total = (uint32_t)b;
        }
    } else if (KEY_IS("bytes")) {
        if (parse_u64(val, vlen, &n) == 0)
            st->bytes = n;
    } else if (KEY_IS("down_Bps")) {
        if (parse_u64(val, vlen, &n) == 0)
            st->down_Bps = (double)n;
    } else if (KEY_IS("up_Bps")) {
        if (parse_u64(val, vlen, &n) == 0)
            st->up_Bps = (double)n;
    } else if (KEY_IS("uploaded")) {
        if (parse_u64(val, vlen, &n) == 0)
            st->uploaded = n;
    } else if (KEY_IS("peers")) {
        if (parse_u64(val, vlen, &n) == 0 && n <= 100000)
            st->peers = (unsigned)n;
    } else if (KEY_IS("unchoked")) {
        copy_value(st->unchoked, sizeof st->unchoked, val, vlen);
    } else if (KEY_IS("optimistic")) {
        copy_value(st->optimistic, sizeof st->optimistic, val, vlen);
    } else if (KEY_IS("pieces")) {
        if (vlen <= SWARM_PIECES_HEX && strspn(val, "0123456789abcdefABCDEF") >= vlen) {
            memcpy(st->pieces, val, vlen);
            st->pieces[vlen] = '\0';
        }
    } else if (KEY_IS("complete")) {
        st->complete = vlen == 1 && val[0] == '1';
    }
#undef KEY_IS
}

/* Walks the space-separated key=value pairs after the line's first word. */
static void parse_pairs(const char *p, struct swarm_status *st)
{
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '\r')
            return;
        const char *tok = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        const char *eq = memchr(tok, '=', (size_t)(p - tok));
        if (eq != NULL)
            apply_pair(st, tok, (size_t)(eq - tok), eq + 1, (size_t)(p - eq - 1));
    }
}

enum swarm_line swarm_parse_line(const char *line, struct swarm_status *st, int *port)
{
    static const char listening[] = "listening on ";
    if (strncmp(line, listening, sizeof listening - 1) == 0) {
        /* Only a bare number counts: the tracker prints its announce URL on a second
         * "listening on" line, and that one is not a port. */
        const char *s = line + sizeof listening - 1;
        uint64_t n;
        size_t len = strcspn(s, "\r");
        if (parse_u64(s, len, &n) == 0 && n <= 65535) {
            *port = (int)n;
            return SWARM_LINE_LISTENING;
        }
        return SWARM_LINE_OTHER;
    }
    if (strncmp(line, "status ", 7) == 0) {
        parse_pairs(line + 7, st);
        return SWARM_LINE_STATUS;
    }
    if (strcmp(line, "complete") == 0 || strncmp(line, "complete ", 9) == 0) {
        st->complete = true;
        if (line[8] != '\0') {
            /* Its t_ms is the child's own clock; parse it into a scratch copy so the status
             * keeps the t_ms of the last status line. */
            struct swarm_status scratch = *st;
            parse_pairs(line + 9, &scratch);
        }
        return SWARM_LINE_COMPLETE;
    }
    return SWARM_LINE_OTHER;
}

bool swarm_status_has_piece(const struct swarm_status *st, uint32_t i)
{
    size_t digit = i / 4;
    if (digit >= strlen(st->pieces))
        return false;
    char c = st->pieces[digit];
    unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
    return (v >> (3 - i % 4)) & 1;
}

/* ---- The table ------------------------------------------------------------------------------- */

void swarm_view_init(struct swarm_view *v, FILE *out, bool tty, struct swarm_view_peer *peers,
                     size_t npeers)
{
    memset(v, 0, sizeof *v);
    v->out = out;
    v->tty = tty;
    v->peers = peers;
    v->npeers = npeers;
    v->width = 110;
    v->next_plain_s = 2.0;
}

const char *swarm_view_name_of(const struct swarm_view *v, const char *addr_port)
{
    /* Cut the port off: "[::1]:5000" -> "::1", "127.0.0.3:5000" -> "127.0.0.3". */
    char ip[64];
    const char *start = addr_port, *end;
    if (*start == '[') {
        start++;
        end = strchr(start, ']');
    } else {
        end = strrchr(start, ':');
    }
    size_t n = end != NULL ? (size_t)(end - start) : strlen(start);
    if (n >= sizeof ip)
        return NULL;
    memcpy(ip, start, n);
    ip[n] = '\0';
    for (size_t i = 0; i < v->npeers; i++)
        if (strcmp(v->peers[i].addr, ip) == 0)
            return v->peers[i].name;
    /* Connections made before a peer moved still carry its old address for a while. */
    for (size_t i = 0; i < v->npeers; i++)
        if (v->peers[i].prev_addr[0] != '\0' && strcmp(v->peers[i].prev_addr, ip) == 0)
            return v->peers[i].name;
    return NULL;
}

/* A bounded appender for building the frame: it counts what it would have written, like
 * snprintf, so the caller learns how much room a full frame needs. */
struct out {
    char *buf;
    size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room > 0 ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* Writes the names of the peers that p unchokes, the optimistic one marked with '*'. */
static void unchoke_names(const struct swarm_view *v, const struct swarm_status *st, char *dst,
                          size_t cap)
{
    struct out o = {dst, cap, 0};
    dst[0] = '\0';
    const char *opt = st->optimistic;
    bool opt_listed = false;
    const char *p = st->unchoked;
    if (strcmp(p, "-") == 0)
        p = "";
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char one[80];
        if (n < sizeof one) {
            memcpy(one, p, n);
            one[n] = '\0';
            const char *name = swarm_view_name_of(v, one);
            bool is_opt = strcmp(one, opt) == 0;
            opt_listed |= is_opt;
            put(&o, "%s%s%s", o.len > 0 ? " " : "", is_opt ? "*" : "", name != NULL ? name : "?");
        }
        p += n;
        if (*p == ',')
            p++;
    }
    /* A child may list its optimistic peer apart from the regular unchokes; show it anyway. */
    if (!opt_listed && opt[0] != '\0' && strcmp(opt, "-") != 0) {
        const char *name = swarm_view_name_of(v, opt);
        put(&o, "%s*%s", o.len > 0 ? " " : "", name != NULL ? name : "?");
    }
    if (o.len >= cap && cap > 4)
        memcpy(dst + cap - 4, "...", 4);
}

/* Writes one peer's row (no newline), cut at the view's width so a redraw never wraps. */
static void peer_row(const struct swarm_view *v, const struct swarm_view_peer *p, bool is_seed,
                     char *line, size_t cap)
{
    enum { BAR = 30 };
    struct out o = {line, cap, 0};
    put(&o, "%-5s %-11s ", p->name, p->addr);
    switch (p->state) {
    case SWARM_PEER_STARTING:
        put(&o, "starting...");
        return;
    case SWARM_PEER_DOWN:
        put(&o, "killed with SIGKILL at %u/%u pieces; waiting to restart", p->st.have, p->st.total);
        return;
    case SWARM_PEER_FAILED:
        put(&o, "exited before finishing");
        return;
    case SWARM_PEER_RUNNING:
    case SWARM_PEER_DONE:
        break;
    }
    char bar[BAR + 1];
    uint32_t filled = p->st.total > 0 ? (uint32_t)((uint64_t)p->st.have * BAR / p->st.total) : 0;
    for (uint32_t i = 0; i < BAR; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR] = '\0';
    char have[24], down[UNITS_BUFLEN], up[UNITS_BUFLEN], done[16], names[256];
    snprintf(have, sizeof have, "%u/%u", p->st.have, p->st.total);
    if (is_seed)
        snprintf(down, sizeof down, "-");
    else
        units_format_rate(p->st.down_Bps, down, sizeof down);
    units_format_rate(p->st.up_Bps, up, sizeof up);
    if (p->finish_s >= 0)
        snprintf(done, sizeof done, "%.1f s", p->finish_s);
    else
        snprintf(done, sizeof done, "%s", is_seed ? "seed" : "-");
    unchoke_names(v, &p->st, names, sizeof names);
    put(&o, "[%s] %-9s %-12s %-12s %-8s %s", bar, have, down, up, done, names);
}

size_t swarm_view_format(const struct swarm_view *v, double now_s, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    size_t width = v->width > 20 && v->width < 1000 ? v->width : 110;
    char line[1024];
    snprintf(line, sizeof line, "%s   t = %.1f s", v->title, now_s);
    put(&o, "%.*s\n", (int)width, line);
    snprintf(line, sizeof line, "%-5s %-11s %-32s %-9s %-12s %-12s %-8s %s", "peer", "address",
             "pieces", "have", "down/s", "up/s", "finished", "unchokes (*: optimistic)");
    put(&o, "%.*s\n", (int)width, line);
    for (size_t i = 0; i < v->npeers; i++) {
        peer_row(v, &v->peers[i], i == 0, line, sizeof line);
        put(&o, "%.*s\n", (int)width, line);
    }
    for (unsigned i = 0; i < v->nevents; i++)
        put(&o, "%.*s\n", (int)width, v->events[i]);
    return o.len;
}

/* ---- Drawing --------------------------------------------------------------------------------- */

void swarm_view_event(struct swarm_view *v, double now_s, const char *fmt, ...)
{
    char msg[140];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!v->tty) {
        fprintf(v->out, "[%6.1f s] %s\n", now_s, msg);
        fflush(v->out);
        return;
    }
    /* Keep the newest few: drop the oldest when the list is full. */
    if (v->nevents == SWARM_VIEW_EVENTS) {
        memmove(v->events[0], v->events[1], sizeof v->events[0] * (SWARM_VIEW_EVENTS - 1));
        v->nevents--;
    }
    snprintf(v->events[v->nevents++], sizeof v->events[0], "  %6.1f s  %s", now_s, msg);
}

void swarm_view_note_plain(struct swarm_view *v, const char *why)
{
    snprintf(v->plain_why, sizeof v->plain_why, "%s", why);
}

/* Prints one plain progress line: every leecher's percentage, what the seed uploads and what the
 * leechers upload together. The first one says why there is no live table. */
static void plain_line(struct swarm_view *v, double now_s)
{
    if (!v->plain_said && v->plain_why[0] != '\0')
        fprintf(v->out, "(plain progress lines: %s; the live table needs a terminal)\n",
                v->plain_why);
    v->plain_said = true;
    fprintf(v->out, "[%6.1f s]", now_s);
    for (size_t i = 1; i < v->npeers; i++) {
        const struct swarm_view_peer *p = &v->peers[i];
        switch (p->state) {
        case SWARM_PEER_DONE:
            fprintf(v->out, " %s done", p->name);
            break;
        case SWARM_PEER_DOWN:
            fprintf(v->out, " %s killed", p->name);
            break;
        case SWARM_PEER_FAILED:
            fprintf(v->out, " %s failed", p->name);
            break;
        default:
            fprintf(v->out, " %s %u%%", p->name,
                    p->st.total > 0 ? (unsigned)((uint64_t)p->st.have * 100 / p->st.total) : 0);
        }
    }
    if (v->npeers > 0) {
        /* The leechers' uploads added up: the sum of u_i that the P2P bound counts on. */
        double leechers_up = 0;
        for (size_t i = 1; i < v->npeers; i++)
            leechers_up += v->peers[i].st.up_Bps;
        char up[UNITS_BUFLEN], lup[UNITS_BUFLEN];
        fprintf(v->out, " | seed up %s, leechers up %s\n",
                units_format_rate(v->peers[0].st.up_Bps, up, sizeof up),
                units_format_rate(leechers_up, lup, sizeof lup));
    }
    fflush(v->out);
}

/* Redraws the table in place: move the cursor up over the last frame, write each line with
 * "erase to end of line" after it, then erase whatever the old frame had below. */
static void redraw(struct swarm_view *v, double now_s)
{
    size_t need = swarm_view_format(v, now_s, NULL, 0) + 1;
    char *frame = malloc(need);
    if (frame == NULL)
        return;
    swarm_view_format(v, now_s, frame, need);
    if (v->lines_drawn > 0)
        fprintf(v->out, "\r\033[%dA", v->lines_drawn);
    int lines = 0;
    for (char *p = frame; *p != '\0';) {
        char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        fprintf(v->out, "%.*s\033[K\n", (int)n, p);
        lines++;
        p += n + (nl != NULL);
    }
    fputs("\033[J", v->out);
    fflush(v->out);
    v->lines_drawn = lines;
    free(frame);
}

void swarm_view_draw(struct swarm_view *v, double now_s)
{
    if (v->tty) {
        redraw(v, now_s);
    } else if (now_s >= v->next_plain_s) {
        plain_line(v, now_s);
        while (v->next_plain_s <= now_s)
            v->next_plain_s += 2.0;
    }
}

void swarm_view_finish(struct swarm_view *v, double now_s)
{
    if (v->tty)
        redraw(v, now_s);
    v->lines_drawn = 0;
}
