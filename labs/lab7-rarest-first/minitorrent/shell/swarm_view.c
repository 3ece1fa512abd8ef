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
    v->width = 100;
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

/* How rare each piece is, for the piece maps: the copies of each piece among the peers that run
 * (the seed too, while it runs), and the fewest and most of any piece. */
struct rarity {
    uint32_t pieces;
    unsigned *copies; /* per piece; NULL when no peer has reported its pieces */
    unsigned lo, hi;
};

/* Counts the copies of every piece from the peers' status lines. Returns 0, or -1 when memory
 * runs out (the maps then fall back to progress bars). */
static int count_rarity(const struct swarm_view *v, struct rarity *r)
{
    memset(r, 0, sizeof *r);
    bool any = false;
    for (size_t i = 0; i < v->npeers; i++) {
        if (v->peers[i].st.total > r->pieces)
            r->pieces = v->peers[i].st.total;
        any |= v->peers[i].st.pieces[0] != '\0';
    }
    if (!any || r->pieces == 0 || r->pieces > 4 * SWARM_PIECES_HEX)
        return 0;
    r->copies = calloc(r->pieces, sizeof *r->copies);
    if (r->copies == NULL)
        return -1;
    for (size_t i = 0; i < v->npeers; i++) {
        const struct swarm_view_peer *p = &v->peers[i];
        if (p->state != SWARM_PEER_RUNNING && p->state != SWARM_PEER_DONE)
            continue;
        for (uint32_t k = 0; k < r->pieces; k++)
            r->copies[k] += swarm_status_has_piece(&p->st, k);
    }
    r->lo = r->hi = r->copies[0];
    for (uint32_t k = 1; k < r->pieces; k++) {
        if (r->copies[k] < r->lo)
            r->lo = r->copies[k];
        if (r->copies[k] > r->hi)
            r->hi = r->copies[k];
    }
    return 0;
}

/* The shade of a piece a peer holds: '#' the rarest in the swarm, '+' rare (up to halfway
 * between the rarest and the most common), '-' common. A piece it lacks is '.'. */
static char shade(const struct rarity *r, unsigned copies)
{
    if (copies <= r->lo)
        return '#';
    if (2 * copies <= r->lo + r->hi)
        return '+';
    return '-';
}

/* Writes a peer's piece map in cells characters: one cell per group of pieces (as many pieces
 * per cell as it takes to fit), shaded by the rarest piece of the group the peer holds. Without
 * the peer's pieces, a progress bar of '#' and '.'. */
static void piece_map(const struct rarity *r, const struct swarm_view_peer *p, char *dst,
                      size_t cells)
{
    uint32_t total = p->st.total;
    if (r->copies == NULL || p->st.pieces[0] == '\0' || total == 0) {
        uint32_t filled = total > 0 ? (uint32_t)((uint64_t)p->st.have * cells / total) : 0;
        for (size_t i = 0; i < cells; i++)
            dst[i] = i < filled ? '#' : '.';
        dst[cells] = '\0';
        return;
    }
    if (cells > total)
        cells = total;
    uint32_t per = (uint32_t)((total + cells - 1) / cells);
    cells = (total + per - 1) / per;
    for (size_t c = 0; c < cells; c++) {
        unsigned best = UINT32_MAX;
        bool held = false;
        for (uint32_t k = (uint32_t)c * per; k < total && k < (uint32_t)(c + 1) * per; k++)
            if (swarm_status_has_piece(&p->st, k)) {
                held = true;
                if (r->copies[k] < best)
                    best = r->copies[k];
            }
        dst[c] = held ? shade(r, best) : '.';
    }
    dst[cells] = '\0';
}

/* The columns before the piece map: peer, address, unchokes, have, rates, finish. The unchoke
 * list comes before the wide columns so it survives a narrow terminal. */
#define ROW_FORMAT "%-5s %-11s %-22.22s %-7s %-10s %-10s %-7s "

/* Writes one peer's row (no newline), cut at the view's width so a redraw never wraps. */
static void peer_row(const struct swarm_view *v, const struct rarity *r,
                     const struct swarm_view_peer *p, bool is_seed, size_t width, char *line,
                     size_t cap)
{
    struct out o = {line, cap, 0};
    switch (p->state) {
    case SWARM_PEER_STARTING:
        put(&o, "%-5s %-11s starting...", p->name, p->addr);
        return;
    case SWARM_PEER_DOWN:
        put(&o, "%-5s %-11s %s at %u/%u pieces", p->name, p->addr,
            is_seed ? "left the swarm" : "killed with SIGKILL", p->st.have, p->st.total);
        if (!is_seed)
            put(&o, "; waiting to restart");
        return;
    case SWARM_PEER_FAILED:
        put(&o, "%-5s %-11s exited before finishing", p->name, p->addr);
        return;
    case SWARM_PEER_RUNNING:
    case SWARM_PEER_DONE:
        break;
    }
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
    unchoke_names(v, &p->st, names, 23);
    put(&o, ROW_FORMAT, p->name, p->addr, names, have, down, up, done);
    char map[SWARM_MAP_MAX + 1];
    size_t cells = width > o.len + 2 ? width - o.len : 0;
    if (cells > SWARM_MAP_MAX)
        cells = SWARM_MAP_MAX;
    if (cells >= 4) {
        piece_map(r, p, map, cells);
        put(&o, "%s", map);
    }
}

size_t swarm_view_format(const struct swarm_view *v, double now_s, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    size_t width = v->width > 20 && v->width < 1000 ? v->width : 100;
    char line[1200];
    /* The clock first, so a narrow terminal cuts the title and not the time. */
    snprintf(line, sizeof line, "t = %.1f s   %s", now_s, v->title);
    put(&o, "%.*s\n", (int)width, line);
    snprintf(line, sizeof line,
             "pieces: # rarest in the swarm, + rare, - common, . missing   rates: last %s s   "
             "*: optimistic unchoke",
             v->rate_window[0] != '\0' ? v->rate_window : "5");
    put(&o, "%.*s\n", (int)width, line);
    snprintf(line, sizeof line, ROW_FORMAT "%s", "peer", "address", "unchokes", "have", "down/s",
             "up/s", "done", "pieces");
    put(&o, "%.*s\n", (int)width, line);
    struct rarity r;
    if (count_rarity(v, &r) < 0)
        r.copies = NULL;
    for (size_t i = 0; i < v->npeers; i++) {
        peer_row(v, &r, &v->peers[i], i == 0, width, line, sizeof line);
        put(&o, "%.*s\n", (int)width, line);
    }
    free(r.copies);
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
