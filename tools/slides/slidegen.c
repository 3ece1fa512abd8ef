/*
 * slidegen - turns the lecture sources in slides/src/NAME.md into self-contained HTML decks.
 *
 *   slidegen [--root DIR] [--slides DIR] [--assets DIR] [--out DIR] DECK.md...
 *
 * A source is Markdown-like text: `---` on a line of its own separates slides, `#` starts a
 * slide's title, `-` a bullet, ``` fences code, and lines that start with `@` are directives. The
 * directives are what keep the slides honest:
 *
 *   @code FILE NAME [nocomment] [from "TEXT"] [to "TEXT"]
 *       pulls the function (or variable, struct NAME, enum NAME, START_TEST test) called NAME out
 *       of FILE, a path from the repository root, with the comment just above it; `from`/`to`
 *       narrow it to the lines between the first line holding each TEXT. Lab markers
 *       (`//> lab2 ...`, `//< lab2`) are dropped. A missing file, name or TEXT stops the build.
 *   @svg FILE [optional "PLACEHOLDER"] [width PX]
 *       inlines an SVG from the slides folder; with `optional`, a missing file becomes a box
 *       saying PLACEHOLDER instead of an error (the measured plot before anyone has measured);
 *       `width` draws it PX wide, scaled.
 *   @textfile FILE
 *       shows a text file from the slides folder (a table a program measured) as a code block.
 *   @packet TITLE / @sequence LEFT RIGHT / @bounds MAX_N
 *       draw a byte layout, a message sequence or the Kurose-Ross bound chart as inline SVG,
 *       from the lines that follow up to a blank line (see slides/README.md).
 *   @class NAME, @split
 *       style the slide (e.g. `title`), and start its right-hand column.
 *
 * The deck's CSS and JavaScript live beside this file (deck.css, deck.js, selftest.js) and are
 * copied into every page, so a deck opens from a USB stick with no network.
 *
 * This is a build tool, so it behaves like a compiler: the first error prints FILE:LINE: message
 * and stops with status 1, and nothing half-written is left behind (each page is written to a
 * temporary name and renamed).
 */
#include "bencode.h"
#include "metainfo.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== growable strings ==== */

struct buf {
    char *p;
    size_t len, cap;
};

/* Appends n bytes; on out of memory the tool stops, as there is nothing sensible left to do. */
static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            fprintf(stderr, "slidegen: out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        buf_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        fprintf(stderr, "slidegen: out of memory\n");
        exit(1);
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_add(b, big, (size_t)n);
    free(big);
}

/* Appends text with the five characters that mean something in HTML escaped. */
static void buf_esc(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&#39;");
            break;
        default:
            buf_add(b, s + i, 1);
        }
    }
}

static void buf_escs(struct buf *b, const char *s)
{
    buf_esc(b, s, strlen(s));
}

/* ===================================================================== errors and files ==== */

/* Where the directive being expanded sits, for error messages. */
static const char *err_file = "slidegen";
static int err_line = 0;

/* Prints FILE:LINE: message and stops the build. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    if (err_line > 0)
        fprintf(stderr, "%s:%d: ", err_file, err_line);
    else
        fprintf(stderr, "%s: ", err_file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Reads a whole file into a NUL-terminated string; returns NULL (errno set) when it cannot. */
static char *read_file(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b.p);
        errno = EIO;
        return NULL;
    }
    if (b.p == NULL)
        buf_add(&b, "", 0);
    if (lenp)
        *lenp = b.len;
    return b.p;
}

struct lines {
    char **v;
    size_t n;
};

/* Splits text into lines in place (the text must outlive them), dropping any '\r'. */
static struct lines split_lines(char *text)
{
    struct lines l = {0};
    size_t cap = 0;
    char *p = text;
    while (*p != '\0') {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        size_t len = strlen(p);
        if (len > 0 && p[len - 1] == '\r')
            p[len - 1] = '\0';
        if (l.n == cap) {
            cap = cap ? cap * 2 : 256;
            l.v = realloc(l.v, cap * sizeof *l.v);
            if (l.v == NULL)
                fail("out of memory");
        }
        l.v[l.n++] = p;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return l;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static int is_blank(const char *s)
{
    return *skip_space(s) == '\0';
}

static int is_ident(int c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* ===================================================================== C excerpts ========== */

/* Says whether line holds name as a whole identifier directly followed by '(', '[' or " =":
 * the shape of a function, array or variable definition at file scope. */
static int names_definition(const char *line, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(line, name); p != NULL; p = strstr(p + 1, name)) {
        if (p > line && is_ident(p[-1]))
            continue;
        const char *after = skip_space(p + n);
        if (is_ident(p[n]))
            continue;
        if (*after == '(' || *after == '[' || (*after == '=' && after[1] != '='))
            return 1;
    }
    return 0;
}

/* Says whether line i opens the definition asked for: `kind` is NULL for functions and
 * variables, or "struct", "enum" or "union". Only lines that start in column 0 count, so calls
 * inside function bodies (always indented) are never taken for definitions. */
static int opens_definition(const char *line, const char *kind, const char *name)
{
    if (!is_ident(line[0]))
        return 0;
    if (kind != NULL) {
        const char *p = line;
        if (starts_with(p, "typedef "))
            p += 8;
        size_t k = strlen(kind), n = strlen(name);
        return strncmp(p, kind, k) == 0 && p[k] == ' ' && strncmp(p + k + 1, name, n) == 0 &&
               !is_ident(p[k + 1 + n]);
    }
    if (starts_with(line, "START_TEST(")) {
        size_t n = strlen(name);
        return strncmp(line + 11, name, n) == 0 && line[11 + n] == ')';
    }
    return names_definition(line, name);
}

struct span {
    size_t first, last; /* inclusive line indexes */
    int has_body;
};

/* Finds where the definition opening at line i ends. A body opens with '{' and closes at the
 * first '}' in column 0 (the toolkit's clang-format style guarantees both); a prototype or a
 * variable ends at the first line ending in ';'. Returns 0 and fills *s, or -1 when the lines
 * after i do not look like a definition after all. */
static int definition_span(const struct lines *src, size_t i, struct span *s)
{
    for (size_t j = i; j < src->n && j < i + 12; j++) {
        const char *l = src->v[j];
        size_t len = strlen(l);
        while (len > 0 && (l[len - 1] == ' ' || l[len - 1] == '\t'))
            len--;
        if (len > 0 && l[len - 1] == '{') {
            for (size_t k = j + 1; k < src->n; k++) {
                if (src->v[k][0] == '}') {
                    s->first = i;
                    s->last = k;
                    if (k + 1 < src->n && strcmp(src->v[k + 1], "END_TEST") == 0)
                        s->last = k + 1;
                    s->has_body = 1;
                    return 0;
                }
            }
            return -1;
        }
        if (len > 0 && l[len - 1] == ';') {
            s->first = i;
            s->last = j;
            s->has_body = 0;
            return 0;
        }
        if (len == 0)
            return -1;
    }
    return -1;
}

/* Returns the index of the first line of the comment that ends right above line i, or i when
 * there is none. A blank line in between means the comment belongs to something else (a
 * section banner, say). */
static size_t comment_above(const struct lines *src, size_t i)
{
    if (i == 0)
        return i;
    const char *prev = skip_space(src->v[i - 1]);
    size_t len = strlen(prev);
    if (len >= 2 && strcmp(prev + len - 2, "*/") == 0) {
        for (size_t k = i; k-- > 0;)
            if (strstr(src->v[k], "/*") != NULL)
                return k;
        return i;
    }
    size_t k = i;
    while (k > 0 && starts_with(skip_space(src->v[k - 1]), "//") &&
           !starts_with(skip_space(src->v[k - 1]), "//>") &&
           !starts_with(skip_space(src->v[k - 1]), "//<"))
        k--;
    return k;
}

/* Lab markers belong to the lab generator, not to the code on a slide. */
static int is_lab_marker(const char *line)
{
    const char *t = skip_space(line);
    return starts_with(t, "//>") || starts_with(t, "//<");
}

struct excerpt {
    char **v; /* lines, pointing into the source file's text */
    size_t n;
    size_t mark; /* the line to highlight, as an index into v */
};

/* Parses the words after `@code`: FILE NAME or FILE struct NAME, then options. Quoted option
 * values may hold spaces. Returns the number of words, at most max. */
static int split_words(char *s, char **w, int max)
{
    int n = 0;
    while (n < max) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0')
            break;
        if (*s == '"') {
            char *end = strchr(s + 1, '"');
            if (end == NULL)
                fail("unterminated quote in directive");
            *end = '\0';
            w[n++] = s + 1;
            s = end + 1;
            continue;
        }
        w[n++] = s;
        while (*s != '\0' && *s != ' ' && *s != '\t')
            s++;
        if (*s != '\0')
            *s++ = '\0';
    }
    return n;
}

/* Expands an @code directive into the excerpt's lines. *caption gets "FILE · NAME()". */
static struct excerpt code_excerpt(const char *root, char *args, struct buf *caption)
{
    char *w[12];
    int nw = split_words(args, w, 12);
    if (nw < 2)
        fail("@code needs a file and a name: @code FILE NAME [nocomment] [from \"TEXT\"] "
             "[to \"TEXT\"] mark \"TEXT\"");
    const char *file = w[0], *kind = NULL, *name = w[1];
    int a = 2;
    if (strcmp(w[1], "struct") == 0 || strcmp(w[1], "enum") == 0 || strcmp(w[1], "union") == 0) {
        if (nw < 3)
            fail("@code %s %s needs a name", file, w[1]);
        kind = w[1];
        name = w[2];
        a = 3;
    }
    int with_comment = 1;
    const char *from = NULL, *to = NULL, *mark = NULL;
    for (; a < nw; a++) {
        if (strcmp(w[a], "nocomment") == 0)
            with_comment = 0;
        else if (strcmp(w[a], "mark") == 0 && a + 1 < nw)
            mark = w[++a];
        else if (strcmp(w[a], "from") == 0 && a + 1 < nw)
            from = w[++a];
        else if (strcmp(w[a], "to") == 0 && a + 1 < nw)
            to = w[++a];
        else
            fail("@code %s %s: unknown option '%s' (expected nocomment, from \"TEXT\", to "
                 "\"TEXT\", mark \"TEXT\")",
                 file, name, w[a]);
    }

    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, file);
    char *text = read_file(path, NULL);
    if (text == NULL)
        fail("@code %s %s: cannot read %s: %s", file, name, file, strerror(errno));
    struct lines src = split_lines(text);

    /* A definition with a body wins over a prototype of the same name (a header may declare
     * what the .c file defines; bencode.c declares fail() once to give it a format attribute). */
    struct span best = {0}, proto = {0};
    int nbody = 0, nproto = 0;
    for (size_t i = 0; i < src.n; i++) {
        struct span s;
        if (!opens_definition(src.v[i], kind, name) || definition_span(&src, i, &s) < 0)
            continue;
        if (s.has_body) {
            if (nbody++ == 0)
                best = s;
        } else if (nproto++ == 0) {
            proto = s;
        }
        i = s.last;
    }
    if (nbody > 1)
        fail("@code %s %s: %d definitions named '%s' in %s; the excerpt would be ambiguous", file,
             name, nbody, name, file);
    if (nbody == 0 && nproto == 0)
        fail("@code %s %s: no %s named '%s' in %s", file, name,
             kind ? kind : "function or variable", name, file);
    struct span s = nbody ? best : proto;

    /* The comment above the definition, or above a prototype that sits right on top of it
     * (bencode.c declares fail() once to give it a format attribute); the prototype itself is
     * left out. */
    size_t above = s.first;
    if (nbody && nproto && proto.last + 1 == s.first)
        above = proto.first;
    size_t cfirst = with_comment && from == NULL ? comment_above(&src, above) : above;

    struct excerpt ex = {0};
    ex.v = malloc((s.last - cfirst + 1) * sizeof *ex.v);
    if (ex.v == NULL)
        fail("out of memory");
    for (size_t i = cfirst; i <= s.last; i++) {
        if (i >= above && i < s.first)
            continue;
        if (!is_lab_marker(src.v[i]))
            ex.v[ex.n++] = src.v[i];
    }

    if (from != NULL || to != NULL) {
        size_t b = 0, e = ex.n - 1;
        if (from != NULL) {
            for (b = 0; b < ex.n && strstr(ex.v[b], from) == NULL; b++)
                ;
            if (b == ex.n)
                fail("@code %s %s: no line of %s() contains the from text \"%s\"", file, name, name,
                     from);
        }
        if (to != NULL) {
            for (e = b; e < ex.n && strstr(ex.v[e], to) == NULL; e++)
                ;
            if (e == ex.n)
                fail("@code %s %s: no line of %s() at or after the from line contains the to "
                     "text \"%s\"",
                     file, name, name, to);
        }
        /* A part that runs to the end of the function leaves the function's closing brace
         * out: alone, it would close nothing the slide opened. */
        if (to == NULL && e > b && ex.v[e][0] == '}')
            e--;
        else if (to == NULL && e > b + 1 && strcmp(ex.v[e], "END_TEST") == 0)
            e -= 2;
        memmove(ex.v, ex.v + b, (e - b + 1) * sizeof *ex.v);
        ex.n = e - b + 1;
    }
    /* Every excerpt highlights the one line the slide is about: a student looking at twenty
     * lines of C needs to know where to look first. */
    if (mark == NULL)
        fail("@code %s %s: no mark \"TEXT\": highlight the line that matters (the first line "
             "of the excerpt that holds TEXT)",
             file, name);
    for (ex.mark = 0; ex.mark < ex.n && strstr(ex.v[ex.mark], mark) == NULL; ex.mark++)
        ;
    if (ex.mark == ex.n)
        fail("@code %s %s: no line of the excerpt contains the mark text \"%s\"", file, name, mark);
    buf_printf(caption, "%s · %s%s%s", file, kind ? kind : "", kind ? " " : "", name);
    if (kind == NULL && s.has_body && strchr(src.v[s.first], '(') != NULL &&
        !starts_with(src.v[s.first], "START_TEST"))
        buf_puts(caption, "()");
    if (from != NULL || to != NULL)
        buf_puts(caption, ", in part");
    /* src.v is freed but text is kept: the excerpt's lines point into it until the tool exits. */
    free(src.v);
    return ex;
}

/* ===================================================================== highlighting ======== */

static const char *const c_keywords[] = {
    "auto",     "break",    "case",     "char",     "const",    "continue",  "default",  "do",
    "double",   "else",     "enum",     "extern",   "float",    "for",       "goto",     "if",
    "inline",   "int",      "long",     "register", "restrict", "return",    "short",    "signed",
    "sizeof",   "static",   "struct",   "switch",   "typedef",  "union",     "unsigned", "void",
    "volatile", "while",    "bool",     "true",     "false",    "NULL",      "size_t",   "ssize_t",
    "uint8_t",  "uint16_t", "uint32_t", "uint64_t", "int64_t",  "socklen_t", "pid_t",    NULL};

static int is_keyword(const char *s, size_t n)
{
    for (int i = 0; c_keywords[i] != NULL; i++)
        if (strlen(c_keywords[i]) == n && strncmp(c_keywords[i], s, n) == 0)
            return 1;
    return 0;
}

/* Writes one line of C with spans for comments, strings, keywords, numbers and preprocessor
 * lines. *in_comment carries an open block comment from one line to the next. */
static void highlight_c(struct buf *out, const char *s, int *in_comment)
{
    size_t n = strlen(s), i = 0;
    if (!*in_comment && *skip_space(s) == '#') {
        buf_puts(out, "<span class=\"pp\">");
        buf_esc(out, s, n);
        buf_puts(out, "</span>");
        return;
    }
    while (i < n) {
        if (*in_comment) {
            const char *end = strstr(s + i, "*/");
            size_t stop = end ? (size_t)(end - s) + 2 : n;
            buf_puts(out, "<span class=\"cm\">");
            buf_esc(out, s + i, stop - i);
            buf_puts(out, "</span>");
            i = stop;
            if (end)
                *in_comment = 0;
            continue;
        }
        if (s[i] == '/' && s[i + 1] == '*') {
            *in_comment = 1;
            continue;
        }
        if (s[i] == '/' && s[i + 1] == '/') {
            buf_puts(out, "<span class=\"cm\">");
            buf_esc(out, s + i, n - i);
            buf_puts(out, "</span>");
            return;
        }
        if (s[i] == '"' || s[i] == '\'') {
            char q = s[i];
            size_t j = i + 1;
            while (j < n && s[j] != q) {
                if (s[j] == '\\' && j + 1 < n)
                    j++;
                j++;
            }
            if (j < n)
                j++;
            buf_puts(out, "<span class=\"st\">");
            buf_esc(out, s + i, j - i);
            buf_puts(out, "</span>");
            i = j;
            continue;
        }
        if (is_ident(s[i])) {
            size_t j = i;
            while (j < n && is_ident(s[j]))
                j++;
            if (isdigit((unsigned char)s[i])) {
                buf_puts(out, "<span class=\"nu\">");
                buf_esc(out, s + i, j - i);
                buf_puts(out, "</span>");
            } else if (is_keyword(s + i, j - i)) {
                buf_puts(out, "<span class=\"kw\">");
                buf_esc(out, s + i, j - i);
                buf_puts(out, "</span>");
            } else {
                buf_esc(out, s + i, j - i);
            }
            i = j;
            continue;
        }
        buf_esc(out, s + i, 1);
        i++;
    }
}

/* Writes one line of a shell session: "$ command" lines get a prompt, "# ..." is a comment, and
 * everything else is output. */
static void highlight_sh(struct buf *out, const char *s)
{
    if (starts_with(s, "$ ")) {
        buf_puts(out, "<span class=\"pr\">$</span> <span class=\"cmd\">");
        const char *hash = strstr(s + 2, "  #");
        size_t n = hash ? (size_t)(hash - (s + 2)) : strlen(s + 2);
        buf_esc(out, s + 2, n);
        buf_puts(out, "</span>");
        if (hash) {
            buf_puts(out, "<span class=\"cm\">");
            buf_escs(out, hash);
            buf_puts(out, "</span>");
        }
    } else if (*skip_space(s) == '#') {
        buf_puts(out, "<span class=\"cm\">");
        buf_escs(out, s);
        buf_puts(out, "</span>");
    } else {
        buf_puts(out, "<span class=\"out\">");
        buf_escs(out, s);
        buf_puts(out, "</span>");
    }
}

/* Columns a line takes on screen: tabs are expanded to 4 and UTF-8 continuation bytes do not
 * count. */
static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) {
        if (*s == '\t')
            w = (w / 4 + 1) * 4;
        else if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    }
    return w;
}

/* The three code sizes a slide offers. The limits keep the font at 19 px or more on a 1280x720
 * slide, which a projector shows legibly; an excerpt too big for the smallest is an error, so
 * nobody ever has to squint: split it with from/to instead. */
struct code_size {
    const char *cls;
    size_t max_lines, max_cols;
};
static const struct code_size code_sizes[] = {
    {"code-l", 12, 66},
    {"code-m", 16, 82},
    {"code-s", 20, 100},
};

/* What one column of the slide being rendered holds, to choose one code size for the whole
 * slide: the largest at which the code and an estimate of everything else fit the slide's body
 * (a deck where two excerpts on one slide have different sizes looks careless). The browser
 * test has the last word on whether a slide really fits. */
struct budget {
    double other_px;   /* estimated height of prose and figures */
    size_t code_lines; /* lines of code in all blocks */
    int code_blocks;
    size_t max_cols;
};
static struct budget budgets[2]; /* [0] the slide or its left column, [1] the right column */
static int column;               /* which of the two is being filled */

enum { BODY_HEIGHT = 543, BODY_WIDTH = 1192, COLUMN_GAP = 28 };

/* Font size in pixels of each code size class, in code_sizes order. */
static const double code_px[] = {26, 22, 19};

/* Adds an estimate for a block of prose of chars characters at font size px (29 for body text)
 * plus margin pixels. */
static void budget_text(size_t chars, double px, double margin, int split)
{
    double width = split ? (BODY_WIDTH - COLUMN_GAP) / 2.0 - 40 : BODY_WIDTH - 40;
    double per_line = width / (px * 0.56);
    double lines = (double)(size_t)((double)chars / per_line) + 1;
    budgets[column].other_px += lines * px * 1.32 + margin;
}

/* Picks the code size class for the slide just rendered. */
static const char *choose_code_size(int split)
{
    for (size_t k = 0; k < 3; k++) {
        int ok = 1;
        for (int c = 0; c < 2; c++) {
            const struct budget *b = &budgets[c];
            double width = split ? (BODY_WIDTH - COLUMN_GAP) / 2.0 : BODY_WIDTH;
            double h =
                b->other_px + (double)b->code_lines * code_px[k] * 1.28 + 53.0 * b->code_blocks;
            if (b->code_lines > code_sizes[k].max_lines && b->code_blocks == 1)
                ok = 0;
            if (h > BODY_HEIGHT || (double)b->max_cols * 0.602 * code_px[k] + 34 > width)
                ok = 0;
        }
        if (ok)
            return code_sizes[k].cls;
    }
    return code_sizes[2].cls;
}

/* Replaces every "@@CODESIZE@@" in b with cls. */
static void set_code_size(struct buf *b, const char *cls)
{
    const char *mark = "@@CODESIZE@@";
    struct buf out = {0};
    const char *s = b->p ? b->p : "";
    for (const char *p; (p = strstr(s, mark)) != NULL; s = p + strlen(mark)) {
        buf_add(&out, s, (size_t)(p - s));
        buf_puts(&out, cls);
    }
    buf_puts(&out, s);
    free(b->p);
    *b = out;
}

/* Removes the indentation every non-blank line shares, so an excerpt from deep inside a
 * function does not waste the slide's width. */
static size_t common_indent(char **v, size_t n)
{
    size_t ind = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (is_blank(v[i]))
            continue;
        size_t k = 0;
        while (v[i][k] == ' ')
            k++;
        if (k < ind)
            ind = k;
    }
    return ind == (size_t)-1 ? 0 : ind;
}

/* Writes a code block. lang is "c", "sh", "bencode" or "text"; caption may be NULL; line mark
 * (an index into v, or NO_MARK) is highlighted. */
enum { NO_MARK = -1 };
static void emit_code(struct buf *out, char **v, size_t n, const char *lang, const char *caption,
                      const char *what, long mark)
{
    while (n > 0 && is_blank(v[n - 1]))
        n--;
    size_t ind = common_indent(v, n), cols = 0;
    for (size_t i = 0; i < n; i++) {
        size_t w = display_width(v[i]);
        w = w > ind ? w - ind : 0;
        if (w > cols)
            cols = w;
    }
    const struct code_size *size = NULL;
    for (size_t i = 0; i < sizeof code_sizes / sizeof code_sizes[0]; i++) {
        if (n <= code_sizes[i].max_lines && cols <= code_sizes[i].max_cols) {
            size = &code_sizes[i];
            break;
        }
    }
    if (size == NULL)
        fail("%s is %zu lines of up to %zu columns; a slide shows at most %zu lines of %zu "
             "columns legibly. Split it (from \"TEXT\" to \"TEXT\") across slides",
             what, n, cols, code_sizes[2].max_lines, code_sizes[2].max_cols);
    buf_puts(out, "<figure class=\"code\">");
    if (caption != NULL) {
        buf_puts(out, "<figcaption>");
        buf_escs(out, caption);
        buf_puts(out, "</figcaption>");
    }
    (void)size;
    budgets[column].code_lines += n;
    budgets[column].code_blocks++;
    if (cols > budgets[column].max_cols)
        budgets[column].max_cols = cols;
    buf_printf(out, "<pre class=\"%s @@CODESIZE@@\"><code>",
               strcmp(lang, "sh") == 0 ? "sh" : "src");
    int in_comment = 0;
    for (size_t i = 0; i < n; i++) {
        const char *l = strlen(v[i]) >= ind ? v[i] + ind : "";
        if ((long)i == mark)
            buf_puts(out, "<mark class=\"hl\">");
        if (strcmp(lang, "c") == 0) {
            highlight_c(out, l, &in_comment);
        } else if (strcmp(lang, "sh") == 0) {
            highlight_sh(out, l);
        } else if (strcmp(lang, "bencode") == 0 && strstr(l, "  # ") != NULL) {
            const char *hash = strstr(l, "  # ");
            buf_esc(out, l, (size_t)(hash - l));
            buf_puts(out, "<span class=\"cm\">");
            buf_escs(out, hash);
            buf_puts(out, "</span>");
        } else {
            buf_escs(out, l);
        }
        if ((long)i == mark)
            buf_puts(out, "</mark>");
        buf_puts(out, "\n");
    }
    buf_puts(out, "</code></pre></figure>\n");
}

/* ===================================================================== inline text ========= */

/* Writes one line of prose: `code`, **bold**, *emphasis*, _{subscript} and ^{superscript}. */
static void emit_inline(struct buf *out, const char *s)
{
    int bold = 0, em = 0;
    while (*s) {
        if (*s == '`') {
            const char *end = strchr(s + 1, '`');
            if (end == NULL)
                fail("unmatched ` in \"%s\"", s);
            buf_puts(out, "<code>");
            buf_esc(out, s + 1, (size_t)(end - s - 1));
            buf_puts(out, "</code>");
            s = end + 1;
        } else if (s[0] == '*' && s[1] == '*') {
            buf_puts(out, bold ? "</strong>" : "<strong>");
            bold = !bold;
            s += 2;
        } else if (s[0] == '*' && (em || (s[1] != ' ' && s[1] != '\0'))) {
            buf_puts(out, em ? "</em>" : "<em>");
            em = !em;
            s++;
        } else if ((s[0] == '_' || s[0] == '^') && s[1] == '{') {
            const char *end = strchr(s + 2, '}');
            if (end == NULL)
                fail("unmatched { in \"%s\"", s);
            const char *tag = s[0] == '_' ? "sub" : "sup";
            buf_printf(out, "<%s>", tag);
            buf_esc(out, s + 2, (size_t)(end - s - 2));
            buf_printf(out, "</%s>", tag);
            s = end + 1;
        } else {
            buf_esc(out, s, 1);
            s++;
        }
    }
    if (em)
        buf_puts(out, "</em>");
    if (bold)
        buf_puts(out, "</strong>");
}

/* ===================================================================== SVG figures ========= */

/* Width in pixels of text in the monospace font the figures use (DejaVu Sans Mono: 0.602 em). */
static double mono_width(const char *s, double px)
{
    return (double)display_width(s) * 0.602 * px;
}

struct field {
    char size[32]; /* "4", "20", or a variable size such as "n" or "len-9" */
    char name[64];
    char value[64];
};

/* Draws one message's byte layout: a row of boxes whose widths follow the byte counts (with a
 * floor so a 1-byte field still has room for its name), byte offsets above, sizes below. */
static void emit_packet(struct buf *out, const char *title, struct field *f, size_t nf)
{
    const double minw = 118, varbytes = 12;
    double bytes[32], w[32], total = 0;
    for (size_t i = 0; i < nf; i++) {
        char *end;
        double b = strtod(f[i].size, &end);
        bytes[i] = (*end == '\0' && end != f[i].size) ? b : varbytes;
        total += bytes[i];
    }
    /* At most 56 px a byte, so a 5-byte message looks small next to a 68-byte one; at most
     * 1160 px in all. Then the floor goes to small fields first and the rest is shared in
     * proportion. */
    double W = total * 56 < 1160 ? total * 56 : 1160;
    size_t nfloor = 0;
    for (size_t i = 0; i < nf; i++)
        nfloor += bytes[i] * W / total < minw;
    if (W < minw * (double)nf)
        W = minw * (double)nf;
    int fixed[32] = {0};
    for (int pass = 0; pass < 8; pass++) {
        double rest = W, rbytes = 0;
        for (size_t i = 0; i < nf; i++) {
            if (fixed[i])
                rest -= minw;
            else
                rbytes += bytes[i];
        }
        int changed = 0;
        for (size_t i = 0; i < nf; i++) {
            if (fixed[i])
                continue;
            w[i] = rbytes > 0 ? rest * bytes[i] / rbytes : minw;
            if (w[i] < minw) {
                fixed[i] = 1;
                changed = 1;
            }
        }
        for (size_t i = 0; i < nf; i++)
            if (fixed[i])
                w[i] = minw;
        if (!changed)
            break;
    }
    (void)nfloor;
    const double x0 = 10, top = 56, h = 78;
    buf_printf(out, "<svg class=\"packet\" viewBox=\"0 0 1180 172\" width=\"1180\" height=\"172\" "
                    "role=\"img\" aria-label=\"");
    buf_escs(out, title);
    buf_puts(out, "\" xmlns=\"http://www.w3.org/2000/svg\">\n");
    buf_puts(out, "<text x=\"10\" y=\"24\" class=\"ptitle\">");
    buf_escs(out, title);
    buf_puts(out, "</text>\n");
    double x = x0;
    char off[64] = "0";
    long num = 0;
    int var = 0;
    for (size_t i = 0; i < nf; i++) {
        const char *cls = "payload";
        if (strcmp(f[i].name, "length") == 0 || strcmp(f[i].name, "length prefix") == 0)
            cls = "len";
        else if (strcmp(f[i].name, "id") == 0 || strcmp(f[i].name, "action") == 0)
            cls = "id";
        char *end;
        strtol(f[i].size, &end, 10);
        int is_var = *end != '\0';
        buf_printf(out,
                   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"%s%s\"/>\n",
                   x, top, w[i], h, cls, is_var ? " var" : "");
        buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"off\">", x + 3, top - 8);
        buf_escs(out, off);
        buf_puts(out, "</text>\n");
        /* The name, shrunk if the box is narrow; the value under it in the same way. */
        double fs = 20;
        while (fs > 12 && mono_width(f[i].name, fs) > w[i] - 10)
            fs -= 1;
        buf_printf(out,
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"fname\" font-size=\"%.0f\" "
                   "text-anchor=\"middle\">",
                   x + w[i] / 2, top + (f[i].value[0] ? 32 : 46), fs);
        buf_escs(out, f[i].name);
        buf_puts(out, "</text>\n");
        if (f[i].value[0]) {
            double vs = 18;
            while (vs > 11 && mono_width(f[i].value, vs) > w[i] - 10)
                vs -= 1;
            buf_printf(out,
                       "<text x=\"%.1f\" y=\"%.1f\" class=\"fval\" font-size=\"%.0f\" "
                       "text-anchor=\"middle\">",
                       x + w[i] / 2, top + 60, vs);
            buf_escs(out, f[i].value);
            buf_puts(out, "</text>\n");
        }
        buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"size\" text-anchor=\"middle\">",
                   x + w[i] / 2, top + h + 24);
        if (is_var)
            buf_escs(out, f[i].size);
        else
            buf_printf(out, "%s byte%s", f[i].size, strcmp(f[i].size, "1") == 0 ? "" : "s");
        buf_puts(out, "</text>\n");
        x += w[i];
        if (is_var) {
            var = 1;
            snprintf(off, sizeof off, "%ld+%s", num, f[i].size);
        } else {
            num += strtol(f[i].size, NULL, 10);
            if (var)
                snprintf(off, sizeof off, "%s+%ld", f[i].size, num);
            else
                snprintf(off, sizeof off, "%ld", num);
        }
        if (var && !is_var) {
            /* After a variable field the offsets are no longer plain numbers; show only the
             * total at the end. */
            off[0] = '\0';
        }
    }
    if (!var) {
        buf_printf(out,
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"off\" text-anchor=\"end\">%ld</text>\n",
                   x - 3 > 1170 ? 1170.0 : x - 3, top - 8, num);
    }
    buf_puts(out, "</svg>\n");
}

struct seqmsg {
    int left_to_right;
    char label[160];
    int dashed;
};

/* Draws a message sequence between two parties: two lifelines and one arrow per message. */
static void emit_sequence(struct buf *out, const char *left, const char *right, struct seqmsg *m,
                          size_t nm, int narrow)
{
    /* In a column the drawing gets its own narrower coordinates instead of being scaled down,
     * so its text keeps the size it has everywhere else. */
    const double width = narrow ? 580 : 1180;
    const double xl = narrow ? 80 : 190, xr = narrow ? 500 : 990, step = 46, top = 64;
    double height = top + step * (double)nm + 30;
    buf_printf(out,
               "<svg class=\"sequence\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
               "role=\"img\" aria-label=\"message sequence\" "
               "xmlns=\"http://www.w3.org/2000/svg\">\n",
               width, height, width, height);
    /* Marker ids are unique in the page: a url(#id) that names a marker inside a hidden slide
     * draws nothing. */
    static int nseq = 0;
    nseq++;
    buf_printf(out,
               "<defs><marker id=\"ah%d\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
               "markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\">"
               "<path d=\"M0,0 L10,5 L0,10 z\" class=\"arrowhead\"/></marker></defs>\n",
               nseq);
    const char *who[2] = {left, right};
    double xs[2] = {xl, xr};
    for (int k = 0; k < 2; k++) {
        double bw = mono_width(who[k], 22) + 36;
        buf_printf(
            out,
            "<rect x=\"%.1f\" y=\"8\" width=\"%.1f\" height=\"40\" rx=\"6\" class=\"actor\"/>"
            "<text x=\"%.1f\" y=\"35\" class=\"actor\" text-anchor=\"middle\">",
            xs[k] - bw / 2, bw, xs[k]);
        buf_escs(out, who[k]);
        buf_printf(
            out, "</text>\n<line x1=\"%.1f\" y1=\"48\" x2=\"%.1f\" y2=\"%.1f\" class=\"life\"/>\n",
            xs[k], xs[k], height - 8);
    }
    for (size_t i = 0; i < nm; i++) {
        double y = top + step * (double)i + 26;
        double x1 = m[i].left_to_right ? xl : xr, x2 = m[i].left_to_right ? xr : xl;
        buf_printf(out,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"msg%s\" "
                   "marker-end=\"url(#ah%d)\"/>\n",
                   x1, y, x2 + (m[i].left_to_right ? -2 : 2), y + 10, m[i].dashed ? " dashed" : "",
                   nseq);
        double fs = 21;
        while (fs > 16 && mono_width(m[i].label, fs) > (xr - xl) - 30)
            fs -= 1;
        buf_printf(out,
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"mlabel\" font-size=\"%.0f\" "
                   "text-anchor=\"middle\">",
                   (xl + xr) / 2, y - 6, fs);
        buf_escs(out, m[i].label);
        buf_puts(out, "</text>\n");
    }
    buf_puts(out, "</svg>\n");
}

/* Draws the Kurose-Ross lower bounds on distribution time against the number of peers, with the
 * textbook's numbers: F/u = 1 hour, u_s = 10u, d_min >= u_s. Everything on the chart comes from
 * the two formulas; nothing is measured, and the title says so. */
static void emit_bounds(struct buf *out, int max_n)
{
    if (max_n < 2 || max_n > 1000)
        fail("@bounds needs a largest N from 2 to 1000");
    const double X0 = 110, Y0 = 376, PW = 1000, PH = 360;
    /* Time in hours, with F/u = 1: D_cs = max(N F/u_s, F/d_min) = max(N/10, 1/10);
     * D_p2p = max(F/u_s, F/d_min, N F/(u_s + N u)) = max(1/10, N/(10 + N)). */
    double ymax = max_n / 10.0;
    double ystep = ymax <= 4 ? 0.5 : ymax <= 10 ? 1 : ymax <= 40 ? 5 : 50;
    ymax = ystep * (double)(long)(ymax / ystep + 0.999);
    int xstep = max_n <= 20 ? 2 : max_n <= 50 ? 5 : max_n <= 200 ? 20 : 100;
    buf_puts(out, "<svg class=\"chart\" viewBox=\"0 0 1180 440\" width=\"1180\" height=\"440\" "
                  "role=\"img\" aria-label=\"Lower bounds on distribution time\" "
                  "xmlns=\"http://www.w3.org/2000/svg\">\n");
    for (double y = 0; y <= ymax + 1e-9; y += ystep) {
        double py = Y0 - PH * y / ymax;
        buf_printf(out,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%g</text>\n",
                   X0, py, X0 + PW, py, X0 - 10, py + 7, y);
    }
    for (int x = 0; x <= max_n; x += xstep) {
        double px = X0 + PW * x / max_n;
        buf_printf(out,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%d</text>\n",
                   px, Y0, px, Y0 - PH, px, Y0 + 28, x);
    }
    buf_printf(out,
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n",
               X0, Y0, X0 + PW, Y0, X0, Y0, X0, Y0 - PH);
    buf_printf(out,
               "<text x=\"%.1f\" y=\"%.1f\" class=\"alabel\" text-anchor=\"middle\">N "
               "(number of peers)</text>\n",
               X0 + PW / 2, Y0 + 56);
    buf_printf(out,
               "<text x=\"24\" y=\"%.1f\" class=\"alabel\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 24 %.1f)\">hours (lower bound)</text>\n",
               Y0 - PH / 2, Y0 - PH / 2);
    const char *cls[2] = {"cs", "p2p"};
    for (int k = 0; k < 2; k++) {
        buf_printf(out, "<polyline class=\"%s\" points=\"", cls[k]);
        for (int n = 0; n <= max_n; n++) {
            double d = k == 0 ? (n / 10.0 > 0.1 ? n / 10.0 : 0.1)
                              : (n / (10.0 + n) > 0.1 ? n / (10.0 + n) : 0.1);
            buf_printf(out, "%.1f,%.1f ", X0 + PW * n / max_n, Y0 - PH * d / ymax);
        }
        buf_puts(out, "\"/>\n");
    }
    buf_printf(out,
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"470\" height=\"86\" class=\"legend\"/>"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"cs\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" class=\"ltext\">client-server lower bound</text>"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"p2p\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" class=\"ltext\">P2P lower bound</text>\n",
               X0 + 20, Y0 - PH + 4, X0 + 36, Y0 - PH + 30, X0 + 96, Y0 - PH + 30, X0 + 110,
               Y0 - PH + 38, X0 + 36, Y0 - PH + 68, X0 + 96, Y0 - PH + 68, X0 + 110, Y0 - PH + 76);
    buf_puts(out, "</svg>\n");
}

/* Inlines an SVG file, dropping an XML declaration or DOCTYPE, which are not allowed inside
 * HTML. Options: `optional "PLACEHOLDER"` (a missing file becomes a marked box) and `width PX`
 * (draw it PX wide, scaled from its own size, e.g. to enlarge a small measured plot). */
static void emit_svg_file(struct buf *out, const char *slides_dir, char *args)
{
    char *w[6];
    int nw = split_words(args, w, 6);
    if (nw < 1)
        fail("@svg needs a file: @svg FILE [optional \"PLACEHOLDER\"] [width PX]");
    int optional = 0;
    const char *placeholder = "This figure has not been made yet.";
    double want_w = 0;
    for (int a = 1; a < nw; a++) {
        if (strcmp(w[a], "optional") == 0) {
            optional = 1;
            if (a + 1 < nw && strcmp(w[a + 1], "width") != 0)
                placeholder = w[++a];
        } else if (strcmp(w[a], "width") == 0 && a + 1 < nw) {
            want_w = atof(w[++a]);
            if (want_w < 100 || want_w > BODY_WIDTH)
                fail("@svg %s: width %s is not from 100 to %d pixels", w[0], w[a], BODY_WIDTH);
        } else {
            fail("@svg %s: unknown option '%s' (expected optional \"PLACEHOLDER\" or width PX)",
                 w[0], w[a]);
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", slides_dir, w[0]);
    char *text = read_file(path, NULL);
    if (text == NULL) {
        if (!optional)
            fail("@svg %s: cannot read %s: %s", w[0], path, strerror(errno));
        budgets[column].other_px += 220;
        buf_puts(out, "<div class=\"placeholder\"><p class=\"ph-head\">Not measured yet</p><p>");
        emit_inline(out, placeholder);
        buf_puts(out, "</p></div>\n");
        return;
    }
    char *s = strstr(text, "<svg");
    if (s == NULL)
        fail("@svg %s: %s holds no <svg> element", w[0], path);
    /* Its height on the slide, for choosing the code size: scaled to the width asked for, or
     * down if it is wider than the body. */
    char *tag_end = strchr(s, '>'), *hs = strstr(s, " height=\""), *ws = strstr(s, " width=\"");
    double h = hs && hs < tag_end ? atof(hs + 9) : 300, wd = ws && ws < tag_end ? atof(ws + 8) : 0;
    if (want_w > 0 && wd > 0) {
        budgets[column].other_px += h * want_w / wd;
        buf_printf(out, "<div class=\"svgfile sized\" style=\"width:%.0fpx\">", want_w);
    } else {
        budgets[column].other_px += wd > BODY_WIDTH ? h * BODY_WIDTH / wd : h;
        buf_puts(out, "<div class=\"svgfile\">");
    }
    buf_puts(out, s);
    buf_puts(out, "</div>\n");
    free(text);
}

/* ===================================================================== bencode examples ==== */

/* Checks one bencoded example with the toolkit's own decoder, and when it is a torrent (a
 * dictionary with an "info" key) with its metainfo parser too, so that no slide shows bytes the
 * code would reject. bytes[0..len) is the example; line is where it starts in the source. */
static void check_one_bencode(const unsigned char *bytes, size_t len, size_t line)
{
    err_line = (int)line;
    struct bencode_doc doc = {0};
    struct bencode_error e;
    if (bencode_decode(&doc, bytes, len, 0, &e) < 0)
        fail("this bencoded example is not valid bencode (the toolkit's decoder says: %s); the "
             "bytes it checked are \"%.*s\"",
             e.msg, (int)(len < 300 ? len : 300), (const char *)bytes);
    int torrent = doc.root->type == BENCODE_DICT && bencode_dict_get(doc.root, "info") != NULL;
    bencode_doc_free(&doc);
    if (torrent) {
        struct metainfo m;
        char err[256];
        metainfo_init(&m);
        if (metainfo_parse(&m, bytes, len, err, sizeof err) < 0)
            fail("this torrent is valid bencode but not valid metainfo: %s", err);
        metainfo_free(&m);
    }
}

/* Checks a ```bencode block. Each line that starts in column 0 starts an example; an indented
 * line continues the one above (its indentation is dropped, as is every line break), so a long
 * dictionary can be laid out over several lines. "  # text" to the end of a line is a comment.
 * "<N bytes: text>" stands for N bytes the slide does not spell out (20-byte hashes, say); the
 * check uses N zero bytes in their place. first_line is the source line of v[0]. */
static void check_bencode(char **v, size_t n, size_t first_line)
{
    struct buf ex = {0};
    size_t start = first_line;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || (v[i][0] != ' ' && v[i][0] != '\t' && !is_blank(v[i]))) {
            if (ex.len > 0)
                check_one_bencode((const unsigned char *)ex.p, ex.len, start);
            ex.len = 0;
            start = first_line + i;
            if (i == n)
                break;
        }
        const char *l = skip_space(v[i]);
        const char *hash = strstr(l, "  # ");
        size_t end = hash ? (size_t)(hash - l) : strlen(l);
        while (end > 0 && l[end - 1] == ' ')
            end--;
        for (size_t k = 0; k < end; k++) {
            unsigned long nbytes;
            char *after;
            if (l[k] == '<' && isdigit((unsigned char)l[k + 1]) &&
                (nbytes = strtoul(l + k + 1, &after, 10)) > 0 && nbytes <= 100000 &&
                starts_with(after, " bytes") && strchr(after, '>') != NULL &&
                (size_t)(strchr(after, '>') - l) < end) {
                for (unsigned long z = 0; z < nbytes; z++)
                    buf_add(&ex, "", 1);
                k = (size_t)(strchr(after, '>') - l);
                continue;
            }
            buf_add(&ex, l + k, 1);
        }
    }
    free(ex.p);
}

/* ===================================================================== slides ============== */

struct deck {
    const char *src; /* path of the source, for messages */
    char title[256];
    struct buf html; /* the slides' HTML */
    int nslides;
};

/* Renders one slide from lines [b, e) of the source. */
static void render_slide(struct deck *d, struct lines *L, size_t b, size_t e, int number, int total,
                         const char *root, const char *slides_dir)
{
    struct buf body = {0}, right = {0}, *cur = &body;
    char classes[128] = "";
    char title[256] = "";
    int list_depth = 0; /* 0 none, 1 one <ul> open, 2 a nested one too */
    char list_tag[2][3] = {"ul", "ul"};
    int in_para = 0;
    int has_split = 0;
    int ncode = 0, has_takeaway = 0; /* excerpts of C on the slide, and whether it says why */
    for (size_t i = b; i < e; i++)
        if (strcmp(L->v[i], "@split") == 0)
            has_split = 1;
    memset(budgets, 0, sizeof budgets);
    column = 0;

#define CLOSE_BLOCKS()                                                                             \
    do {                                                                                           \
        if (in_para) {                                                                             \
            buf_puts(cur, "</p>\n");                                                               \
            in_para = 0;                                                                           \
        }                                                                                          \
        while (list_depth > 0) {                                                                   \
            buf_printf(cur, "</li></%s>\n", list_tag[list_depth - 1]);                             \
            list_depth--;                                                                          \
        }                                                                                          \
    } while (0)

    for (size_t i = b; i < e; i++) {
        char *l = L->v[i];
        err_line = (int)i + 1;
        if (is_blank(l)) {
            CLOSE_BLOCKS();
            continue;
        }
        if (starts_with(l, "```")) {
            CLOSE_BLOCKS();
            const char *lang = skip_space(l + 3);
            if (*lang == '\0')
                lang = "text";
            size_t j = i + 1;
            while (j < e && !starts_with(L->v[j], "```"))
                j++;
            if (j == e)
                fail("code fence opened here is not closed before the end of the slide");
            char what[64];
            snprintf(what, sizeof what, "this code block");
            if (strcmp(lang, "bencode") == 0)
                check_bencode(L->v + i + 1, j - i - 1, i + 2);
            emit_code(cur, L->v + i + 1, j - i - 1, lang, NULL, what, NO_MARK);
            i = j;
            continue;
        }
        if (l[0] == '@') {
            CLOSE_BLOCKS();
            char *args = l + 1;
            while (*args && *args != ' ')
                args++;
            size_t nlen = (size_t)(args - (l + 1));
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(nlen < 31 ? nlen : 31), l + 1);
            char *a = (char *)skip_space(args);
            if (strcmp(name, "code") == 0) {
                struct buf cap = {0}, what = {0};
                buf_printf(&what, "@code %s", a);
                struct excerpt ex = code_excerpt(root, a, &cap);
                emit_code(cur, ex.v, ex.n, "c", cap.p, what.p, (long)ex.mark);
                ncode++;
                free(ex.v);
                free(cap.p);
                free(what.p);
            } else if (strcmp(name, "svg") == 0) {
                emit_svg_file(cur, slides_dir, a);
            } else if (strcmp(name, "textfile") == 0) {
                /* A text file a program wrote (a table of measured numbers), shown as it is. */
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", slides_dir, a);
                char *text = read_file(path, NULL);
                if (text == NULL)
                    fail("@textfile %s: cannot read %s: %s", a, path, strerror(errno));
                struct lines tl = split_lines(text);
                char what[300];
                snprintf(what, sizeof what, "@textfile %.200s", a);
                emit_code(cur, tl.v, tl.n, "text", NULL, what, NO_MARK);
                free(tl.v);
                free(text);
            } else if (strcmp(name, "class") == 0) {
                snprintf(classes + strlen(classes), sizeof classes - strlen(classes), " %s", a);
            } else if (strcmp(name, "split") == 0) {
                if (cur == &right)
                    fail("@split may appear once per slide");
                cur = &right;
                column = 1;
            } else if (strcmp(name, "packet") == 0) {
                struct field f[32];
                size_t nf = 0;
                for (i++; i < e && !is_blank(L->v[i]); i++) {
                    err_line = (int)i + 1;
                    if (nf == 32)
                        fail("@packet: at most 32 fields");
                    char *eq = strstr(L->v[i], " =");
                    memset(&f[nf], 0, sizeof f[nf]);
                    if (eq != NULL)
                        snprintf(f[nf].value, sizeof f[nf].value, "%s", skip_space(eq + 2));
                    char line[256];
                    snprintf(line, sizeof line, "%.*s", eq ? (int)(eq - L->v[i]) : 255, L->v[i]);
                    char *sp = strchr(line, ' ');
                    if (sp == NULL)
                        fail("@packet field lines are SIZE NAME [= VALUE]");
                    *sp = '\0';
                    snprintf(f[nf].size, sizeof f[nf].size, "%.31s", line);
                    snprintf(f[nf].name, sizeof f[nf].name, "%.63s", skip_space(sp + 1));
                    nf++;
                }
                if (nf == 0)
                    fail("@packet has no fields");
                emit_packet(cur, a, f, nf);
                budgets[column].other_px += 176;
            } else if (strcmp(name, "sequence") == 0) {
                char *w[2];
                if (split_words(a, w, 2) != 2)
                    fail("@sequence needs two names: @sequence LEFT RIGHT");
                struct seqmsg m[16];
                size_t nm = 0;
                for (i++; i < e && !is_blank(L->v[i]); i++) {
                    err_line = (int)i + 1;
                    if (nm == 16)
                        fail("@sequence: at most 16 messages fit on a slide");
                    const char *s = L->v[i];
                    int dashed = strstr(s, "-->") != NULL;
                    const char *arrow = dashed ? strstr(s, "-->") : strstr(s, "->");
                    const char *colon = arrow ? strchr(arrow, ':') : NULL;
                    if (arrow == NULL || colon == NULL || colon < arrow)
                        fail("@sequence lines are FROM -> TO: LABEL (or --> for a dashed arrow)");
                    char from[64];
                    snprintf(from, sizeof from, "%.*s", (int)(arrow - s), s);
                    for (size_t k = strlen(from); k > 0 && from[k - 1] == ' '; k--)
                        from[k - 1] = '\0';
                    if (strcmp(from, w[0]) != 0 && strcmp(from, w[1]) != 0)
                        fail("@sequence: '%s' is neither %s nor %s", from, w[0], w[1]);
                    m[nm].left_to_right = strcmp(from, w[0]) == 0;
                    m[nm].dashed = dashed;
                    snprintf(m[nm].label, sizeof m[nm].label, "%s", skip_space(colon + 1));
                    nm++;
                }
                i--;
                emit_sequence(cur, w[0], w[1], m, nm, has_split);
                budgets[column].other_px += 98 + 46.0 * (double)nm;
            } else if (strcmp(name, "bounds") == 0) {
                emit_bounds(cur, atoi(a));
                budgets[column].other_px += 445;
            } else {
                fail("unknown directive @%s (expected @code, @svg, @textfile, @packet, @sequence, "
                     "@bounds, @class or @split)",
                     name);
            }
            continue;
        }
        if (l[0] == '#') {
            CLOSE_BLOCKS();
            int level = 0;
            while (l[level] == '#')
                level++;
            const char *t = skip_space(l + level);
            if (level == 1) {
                if (title[0])
                    fail("a slide has one # title; use ## for a subtitle");
                snprintf(title, sizeof title, "%s", t);
            } else {
                budgets[column].other_px += level == 2 ? 52 : 46;
                buf_printf(cur, "<h%d>", level);
                emit_inline(cur, t);
                buf_printf(cur, "</h%d>\n", level);
            }
            continue;
        }
        const char *t = skip_space(l);
        size_t indent = (size_t)(t - l);
        int ordered = isdigit((unsigned char)t[0]) && t[1] == '.' && t[2] == ' ';
        if ((t[0] == '-' && t[1] == ' ') || ordered) {
            if (in_para) {
                buf_puts(cur, "</p>\n");
                in_para = 0;
            }
            int depth = indent >= 2 ? 2 : 1;
            const char *tag = ordered ? "ol" : "ul";
            if (depth > list_depth + 1)
                depth = list_depth + 1;
            if (depth > list_depth) {
                buf_printf(cur, "<%s>\n", tag);
                snprintf(list_tag[depth - 1], sizeof list_tag[0], "%s", tag);
                list_depth = depth;
            } else {
                while (list_depth > depth) {
                    buf_printf(cur, "</li></%s>\n", list_tag[list_depth - 1]);
                    list_depth--;
                }
                buf_puts(cur, "</li>\n");
            }
            buf_puts(cur, "<li>");
            budget_text(strlen(t), depth == 2 ? 26 : 29, 10, has_split);
            emit_inline(cur, t + (ordered ? 3 : 2));
            continue;
        }
        if (t[0] == '>' && (t[1] == ' ' || t[1] == '\0')) {
            CLOSE_BLOCKS();
            has_takeaway = 1;
            /* Consecutive "> " lines are one remark, wrapped in the source. */
            struct buf quote = {0};
            buf_puts(&quote, skip_space(t + 1));
            while (i + 1 < e && L->v[i + 1][0] == '>' &&
                   (L->v[i + 1][1] == ' ' || L->v[i + 1][1] == '\0')) {
                i++;
                buf_puts(&quote, " ");
                buf_puts(&quote, skip_space(L->v[i] + 1));
            }
            buf_puts(cur, "<blockquote>");
            budget_text(quote.len, 29, 44, has_split);
            emit_inline(cur, quote.p);
            buf_puts(cur, "</blockquote>\n");
            free(quote.p);
            continue;
        }
        if (list_depth > 0) {
            /* A continuation line of a bullet. */
            budget_text(strlen(t), 29, 0, has_split);
            buf_puts(cur, " ");
            emit_inline(cur, t);
            continue;
        }
        budget_text(strlen(t), 29, in_para ? 0 : 16, has_split);
        if (!in_para) {
            buf_puts(cur, "<p>");
            in_para = 1;
        } else {
            buf_puts(cur, " ");
        }
        emit_inline(cur, t);
    }
    CLOSE_BLOCKS();
#undef CLOSE_BLOCKS
    /* Code on a slide comes with the one sentence to remember from it. */
    if (ncode > 0 && !has_takeaway) {
        err_line = (int)b + 1;
        fail("this slide shows code but no takeaway: add a \"> \" line that says what to remember "
             "from it");
    }
    /* A title too long for one line takes a second one from the body. */
    if (display_width(title) > 52) {
        budgets[0].other_px += 50;
        budgets[1].other_px += 50;
    }
    const char *size = choose_code_size(has_split);
    set_code_size(&body, size);
    set_code_size(&right, size);

    if (number == 1 && d->title[0] == '\0')
        snprintf(d->title, sizeof d->title, "%s", title);
    buf_printf(&d->html,
               "<section class=\"slide%s\" id=\"slide-%d\" aria-label=\"Slide %d of %d\">\n",
               classes, number, number, total);
    if (title[0]) {
        buf_puts(&d->html, "<h1>");
        emit_inline(&d->html, title);
        buf_puts(&d->html, "</h1>\n");
    }
    if (right.len > 0) {
        buf_puts(&d->html, "<div class=\"body cols\"><div class=\"col\">\n");
        buf_puts(&d->html, body.p ? body.p : "");
        buf_puts(&d->html, "</div><div class=\"col\">\n");
        buf_puts(&d->html, right.p);
        buf_puts(&d->html, "</div></div>\n");
    } else {
        buf_puts(&d->html, "<div class=\"body\">\n");
        buf_puts(&d->html, body.p ? body.p : "");
        buf_puts(&d->html, "</div>\n");
    }
    buf_printf(
        &d->html,
        "<footer><span class=\"deck-title\">%s</span><span class=\"num\">%d / %d</span></footer>\n",
        "@@DECKTITLE@@", number, total);
    buf_puts(&d->html, "</section>\n");
    free(body.p);
    free(right.p);
}

/* Reads one of the page assets that sit beside slidegen.c. */
static char *asset(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = read_file(path, NULL);
    if (s == NULL) {
        err_line = 0;
        err_file = "slidegen";
        fail("cannot read %s: %s", path, strerror(errno));
    }
    return s;
}

/* Writes data to path through a temporary file, so a failed build never leaves half a page. */
static void write_atomically(const char *path, const char *data, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        fail("cannot write %s: %s", tmp, strerror(errno));
    if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
        fail("cannot write %s: %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0)
        fail("cannot rename %s to %s: %s", tmp, path, strerror(errno));
}

/* Replaces every "@@DECKTITLE@@" in s with the escaped title. */
static void put_with_title(struct buf *out, const char *s, const char *title)
{
    const char *mark = "@@DECKTITLE@@";
    for (const char *p; (p = strstr(s, mark)) != NULL; s = p + strlen(mark)) {
        buf_add(out, s, (size_t)(p - s));
        buf_escs(out, title);
    }
    buf_puts(out, s);
}

struct made {
    char file[256];
    char title[256];
    int nslides;
};

/* Builds one deck: SRC.md -> OUT/NAME.html. Fills *m with what the index page lists. */
static void build_deck(const char *src, const char *root, const char *slides_dir,
                       const char *assets, const char *outdir, struct made *m)
{
    err_file = src;
    err_line = 0;
    char *text = read_file(src, NULL);
    if (text == NULL)
        fail("cannot read: %s", strerror(errno));
    struct lines L = split_lines(text);

    /* Slides are separated by lines that are exactly "---" outside code fences. */
    size_t starts[512], ends[512];
    int n = 0, in_fence = 0;
    size_t b = 0;
    for (size_t i = 0; i <= L.n; i++) {
        if (i < L.n && starts_with(L.v[i], "```"))
            in_fence = !in_fence;
        if (i == L.n || (!in_fence && strcmp(L.v[i], "---") == 0)) {
            int empty = 1;
            for (size_t k = b; k < i; k++)
                if (!is_blank(L.v[k]))
                    empty = 0;
            if (!empty) {
                if (n == 512)
                    fail("more than 512 slides");
                starts[n] = b;
                ends[n] = i;
                n++;
            }
            b = i + 1;
        }
    }
    if (n == 0)
        fail("no slides");

    struct deck d = {0};
    d.src = src;
    for (int k = 0; k < n; k++)
        render_slide(&d, &L, starts[k], ends[k], k + 1, n, root, slides_dir);
    err_line = 0;
    if (d.title[0] == '\0')
        fail("the first slide needs a # title: it names the deck");

    /* The page: head with the error catcher first, so errors in anything after it are seen. */
    char *css = asset(assets, "deck.css"), *js = asset(assets, "deck.js"),
         *catcher = asset(assets, "errors.js"), *selftest = asset(assets, "selftest.js");
    struct buf page = {0};
    buf_puts(&page, "<!DOCTYPE html>\n<!-- Generated by tools/slides/slidegen from ");
    buf_escs(&page, src);
    buf_puts(&page, ". Do not edit: edit the source and run `make slides`. -->\n");
    buf_puts(&page, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>");
    buf_escs(&page, d.title);
    buf_puts(&page, "</title>\n<script>\n");
    buf_puts(&page, catcher);
    buf_puts(&page, "</script>\n<style>\n");
    buf_puts(&page, css);
    buf_puts(&page, "</style>\n</head>\n<body>\n<main id=\"deck\">\n");
    put_with_title(&page, d.html.p, d.title);
    buf_puts(&page, "</main>\n<script>\n");
    buf_puts(&page, js);
    buf_puts(&page, "</script>\n<script>\n");
    buf_puts(&page, selftest);
    buf_puts(&page, "</script>\n</body>\n</html>\n");

    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    char *dot = strrchr(name, '.');
    if (dot)
        *dot = '\0';
    char out[4096];
    snprintf(out, sizeof out, "%s/%s.html", outdir, name);
    write_atomically(out, page.p, page.len);
    snprintf(m->file, sizeof m->file, "%.200s.html", name);
    snprintf(m->title, sizeof m->title, "%s", d.title);
    m->nslides = n;
    printf("slidegen: %s -> %s (%d slides)\n", src, out, n);

    free(page.p);
    free(css);
    free(js);
    free(catcher);
    free(selftest);
    free(d.html.p);
    free(L.v);
    free(text);
}

/* Writes OUT/index.html: one link per deck, with its slide count. */
static void build_index(const char *assets, const char *outdir, const struct made *m, int n)
{
    char *css = asset(assets, "index.css");
    struct buf page = {0};
    buf_puts(&page, "<!DOCTYPE html>\n<!-- Generated by tools/slides/slidegen. Do not edit. -->\n"
                    "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<title>Lecture decks</title>\n<style>\n");
    buf_puts(&page, css);
    buf_puts(&page, "</style>\n</head>\n<body>\n<h1>Lecture decks</h1>\n<ol>\n");
    int total = 0;
    for (int i = 0; i < n; i++) {
        buf_puts(&page, "<li><a href=\"");
        buf_escs(&page, m[i].file);
        buf_puts(&page, "\">");
        buf_escs(&page, m[i].title);
        buf_printf(&page, "</a> <span class=\"count\">%d slides</span></li>\n", m[i].nslides);
        total += m[i].nslides;
    }
    buf_printf(&page,
               "</ol>\n<p>%d decks, %d slides. Keys: &rarr; or space next, &larr; back, Home "
               "first, End last. Print (Ctrl-P) gives one slide per page.</p>\n</body>\n</html>\n",
               n, total);
    char out[4096];
    snprintf(out, sizeof out, "%s/index.html", outdir);
    write_atomically(out, page.p, page.len);
    free(page.p);
    free(css);
}

static const char usage[] =
    "usage: slidegen [--root DIR] [--slides DIR] [--assets DIR] [--out DIR] DECK.md...\n"
    "Builds one self-contained HTML page per deck, and index.html, into --out (default slides).\n"
    "  --root DIR    where @code paths start (default .)\n"
    "  --slides DIR  where @svg paths start (default slides)\n"
    "  --assets DIR  deck.css, deck.js, errors.js, selftest.js, index.css (default tools/slides)\n"
    "  --no-index    do not write index.html\n";

int main(int argc, char **argv)
{
    const char *root = ".", *slides_dir = "slides", *assets = "tools/slides", *outdir = "slides";
    int index = 1, i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--no-index") == 0) {
            index = 0;
            continue;
        }
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fputs(usage, stderr);
            return 2;
        }
        if (strcmp(o, "--root") == 0)
            root = argv[++i];
        else if (strcmp(o, "--slides") == 0)
            slides_dir = argv[++i];
        else if (strcmp(o, "--assets") == 0)
            assets = argv[++i];
        else if (strcmp(o, "--out") == 0)
            outdir = argv[++i];
        else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (i == argc) {
        fputs(usage, stderr);
        return 2;
    }
    int n = argc - i;
    struct made *m = calloc((size_t)n, sizeof *m);
    if (m == NULL)
        fail("out of memory");
    for (int k = 0; k < n; k++)
        build_deck(argv[i + k], root, slides_dir, assets, outdir, &m[k]);
    if (index)
        build_index(assets, outdir, m, n);
    free(m);
    return 0;
}
