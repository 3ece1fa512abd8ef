/*
 * cmd_create.c - `minitorrent create PATH -a URL`: make a .torrent for a file or a folder.
 *
 * Making a torrent is three steps:
 *
 *   1. List the files. A single file is the torrent; a folder is walked recursively in sorted
 *      byte order, so the same tree always gives the same torrent (and the same info hash).
 *   2. Hash the pieces. BitTorrent sees the files as ONE byte stream (see core/layout.h), so the
 *      files are read back to back and cut into pieces of piece_length bytes; a piece may start
 *      in one file and end in the next.
 *   3. Write the metainfo with metainfo_encode(), which checks it by the parser's own rules, and
 *      print the info hash: the SHA-1 of the info dict, the torrent's name on the wire.
 *
 * What the walk does with things that are not plain files, so that nothing is dropped silently:
 *   - symbolic links inside the folder are skipped with a warning: a link may point outside the
 *     tree or back into it (a loop), and a torrent can only carry bytes, not links. PATH itself
 *     may be a link: the user named it, so it is followed.
 *   - FIFOs, sockets and devices are skipped with a warning: they hold no fixed bytes to hash.
 *   - empty folders get a note: BitTorrent v1 lists only files, so they cannot be recorded.
 *   - hidden files (".name") are included like any other: they are files too.
 *   - an unreadable folder or file is an error, not a skip: a torrent silently missing a file
 *     would look complete to everyone who downloads it.
 */
/* realpath() is in POSIX.1-2008, but glibc declares it only for X/Open; asking for X/Open 7
 * (the same standard, with its XSI part) makes it visible on glibc and changes nothing elsewhere.
 */
#define _XOPEN_SOURCE 700

#include "commands.h"
#include "clock.h"
#include "io.h"
#include "metainfo.h"
#include "opts.h"
#include "sha1.h"
#include "units.h"
#include "url.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PIECE_LENGTH (256u * 1024) /* the course notes' chunk size */
#define READ_CHUNK (4u * 1024 * 1024)      /* large reads: few system calls per piece */
#define MAX_TRACKER_URLS METAINFO_MAX_TRACKERS

static const char usage[] =
    "usage: minitorrent create PATH -a URL [-a URL...] [-o OUT.torrent] [-l PIECE] [options]\n"
    "Makes a .torrent for a file or a folder (walked recursively, in sorted order) and prints\n"
    "its info hash.\n";

static const char epilog[] =
    "Inside a folder, symbolic links and special files are skipped with a warning, and empty\n"
    "folders are left out (a torrent lists files only).\n";

/* ===================================================================================== */
/* Options                                                                               */
/* ===================================================================================== */

struct create_opts {
    const char *path;
    const char *output;
    uint32_t piece_length;
    bool is_private, force, no_date;
    /* Tracker tiers: tier_urls holds every URL, tier_start[t] the index of tier t's first. */
    char *url_storage[MAX_TRACKER_URLS];
    const char *tier_urls[MAX_TRACKER_URLS];
    struct metainfo_spec_tier tiers[MAX_TRACKER_URLS];
    size_t url_count, tier_count;
};

/* Adds one -a argument as a tier: its comma-separated URLs, each checked by url_parse(). Returns
 * 0, or -1 with the reason in why. It is the option table's reader for -a. */
static int add_tier(void *dest, const char *arg, char *why, size_t whylen)
{
    struct create_opts *o = dest;
    if (o->tier_count == MAX_TRACKER_URLS) {
        snprintf(why, whylen, "more than %d tracker URLs", MAX_TRACKER_URLS);
        return -1;
    }
    char *copy = strdup(arg);
    if (copy == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    o->url_storage[o->tier_count] = copy; /* freed by free_opts */
    size_t first = o->url_count;
    char *save = NULL;
    for (char *u = strtok_r(copy, ",", &save); u != NULL; u = strtok_r(NULL, ",", &save)) {
        struct tracker_url parsed;
        char bad[160];
        if (url_parse(u, &parsed, bad, sizeof bad) < 0) {
            snprintf(why, whylen, "bad tracker URL '%s': %s", u, bad);
            return -1;
        }
        if (o->url_count == MAX_TRACKER_URLS) {
            snprintf(why, whylen, "more than %d tracker URLs", MAX_TRACKER_URLS);
            return -1;
        }
        o->tier_urls[o->url_count++] = u;
    }
    if (o->url_count == first) {
        snprintf(why, whylen, "-a '%s' names no tracker URL", arg);
        return -1;
    }
    o->tiers[o->tier_count].urls = &o->tier_urls[first];
    o->tiers[o->tier_count].count = o->url_count - first;
    o->tier_count++;
    return 0;
}

/* Reads -l: a size from 16 KiB to 16 MiB. The option table's reader for -l. */
static int read_piece_length(void *dest, const char *arg, char *why, size_t whylen)
{
    struct create_opts *o = dest;
    uint64_t v;
    char bad[160], lo[UNITS_BUFLEN], hi[UNITS_BUFLEN];
    if (units_parse_size(arg, &v, bad, sizeof bad) < 0) {
        snprintf(why, whylen, "bad piece length: %s", bad);
        return -1;
    }
    if (v < METAINFO_MIN_PIECE_LENGTH || v > METAINFO_MAX_PIECE_LENGTH) {
        snprintf(why, whylen, "piece length %s (%llu bytes) is outside %s to %s", arg,
                 (unsigned long long)v, units_format_size(METAINFO_MIN_PIECE_LENGTH, lo, sizeof lo),
                 units_format_size(METAINFO_MAX_PIECE_LENGTH, hi, sizeof hi));
        return -1;
    }
    o->piece_length = (uint32_t)v;
    return 0;
}

/* Frees the copies add_tier() made. */
static void free_opts(struct create_opts *o)
{
    for (size_t t = 0; t < o->tier_count + 1 && t < MAX_TRACKER_URLS; t++) {
        free(o->url_storage[t]);
        o->url_storage[t] = NULL;
    }
}

#define O(field) offsetof(struct create_opts, field)
static const struct opt_spec specs[] = {
    {.short_name = 'a',
     .long_name = "announce",
     .kind = OPT_CALL,
     .call = add_tier,
     .arg_name = "URL",
     .help = "tracker URL (http:// or udp://); repeat -a for backup tiers, and\n"
             "separate URLs with commas for several trackers in one tier"},
    {.short_name = 'o',
     .long_name = "output",
     .kind = OPT_STRING,
     .offset = O(output),
     .arg_name = "FILE",
     .help = "where to write (default: PATH's name + .torrent, here)"},
    {.short_name = 'l',
     .long_name = "piece-length",
     .kind = OPT_CALL,
     .call = read_piece_length,
     .arg_name = "N",
     .help = "bytes per piece, 16K to 16M, any value (default 256K);\n"
             "K, M, G are powers of 1024, e.g. 512K, 1.5M, 20000"},
    {.short_name = 'p',
     .long_name = "private",
     .kind = OPT_FLAG,
     .offset = O(is_private),
     .help = "mark the torrent private (BEP 27): trackers only, no DHT or PEX"},
    {.short_name = 'f',
     .long_name = "force",
     .kind = OPT_FLAG,
     .offset = O(force),
     .help = "replace OUT if it exists"},
    {.long_name = "no-date",
     .kind = OPT_FLAG,
     .offset = O(no_date),
     .help = "leave out the creation date, so the file is reproducible"},
};
#undef O

static const struct opt_command command = {.name = "create",
                                           .usage = usage,
                                           .specs = specs,
                                           .nspecs = sizeof specs / sizeof specs[0],
                                           .epilog = epilog};

/* Parses the command line. Returns 0, 1 after --help/--version (exit 0), or -1 after a usage
 * error (exit 2), having printed why. */
static int parse_options(int argc, char **argv, struct create_opts *o)
{
    o->piece_length = DEFAULT_PIECE_LENGTH;
    char *pos[2];
    int npos;
    enum opt_result r = opts_parse(&command, argc, argv, o, pos, 2, &npos);
    if (r != OPTS_OK)
        return r == OPTS_EXIT ? 1 : -1;
    if (npos != 1) {
        fprintf(stderr, "minitorrent create: expected one PATH (a file or a folder)\n%s", usage);
        return -1;
    }
    o->path = pos[0];
    if (o->tier_count == 0) {
        fprintf(stderr, "minitorrent create: -a URL is required: the tracker's announce URL\n");
        return -1;
    }
    return 0;
}

/* ===================================================================================== */
/* Step 1: listing the files                                                             */
/* ===================================================================================== */

struct entry {
    char *full;      /* the path to open: PATH/dir/file */
    char **comps;    /* the path inside the torrent, one component each */
    size_t ncomps;   /* 0 for a single-file torrent */
    uint64_t length; /* the size when listed; hashing reads exactly this many bytes */
    dev_t dev;       /* identity, to refuse writing the output over one of the files */
    ino_t ino;
};

struct file_list {
    struct entry *v;
    size_t n, cap;
    uint64_t total;
};

/* Frees every entry and empties the list. */
static void file_list_free(struct file_list *fl)
{
    for (size_t i = 0; i < fl->n; i++) {
        free(fl->v[i].full);
        for (size_t k = 0; k < fl->v[i].ncomps; k++)
            free(fl->v[i].comps[k]);
        free(fl->v[i].comps);
    }
    free(fl->v);
    memset(fl, 0, sizeof *fl);
}

/* Joins a and b with a '/' into a new string, or returns NULL when out of memory. */
static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    s[la] = '/';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

/* Appends a file with the torrent path comps[0..ncomps) (copied) to the list. Returns 0 or -1. */
static int add_file(struct file_list *fl, const char *full, char *const *comps, size_t ncomps,
                    const struct stat *st)
{
    if (fl->n == METAINFO_MAX_FILES) {
        fprintf(stderr, "minitorrent create: more than %d files\n", METAINFO_MAX_FILES);
        return -1;
    }
    if ((uint64_t)st->st_size > METAINFO_MAX_TOTAL - fl->total) {
        fprintf(stderr, "minitorrent create: the files add up to more than a torrent can hold\n");
        return -1;
    }
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 64;
        struct entry *v = realloc(fl->v, cap * sizeof *v);
        if (v == NULL)
            goto nomem;
        fl->v = v;
        fl->cap = cap;
    }
    struct entry *e = &fl->v[fl->n];
    memset(e, 0, sizeof *e);
    e->length = (uint64_t)st->st_size;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    fl->n++; /* counted now, so file_list_free() releases a half-built entry */
    if ((e->full = strdup(full)) == NULL)
        goto nomem;
    if (ncomps > 0 && (e->comps = calloc(ncomps, sizeof *e->comps)) == NULL)
        goto nomem;
    for (; e->ncomps < ncomps; e->ncomps++)
        if ((e->comps[e->ncomps] = strdup(comps[e->ncomps])) == NULL)
            goto nomem;
    fl->total += e->length;
    return 0;
nomem:
    fprintf(stderr, "minitorrent create: out of memory\n");
    return -1;
}

/* Orders directory entries by their bytes, the same order on every machine and locale. */
static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the names in directory dir (without "." and ".."), sorted. Returns the count, or -1
 * after printing why; *out must be freed with its strings. */
static long read_dir_sorted(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "minitorrent create: cannot open folder '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    long rc = -1;
    for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **v = realloc(names, ncap * sizeof *v);
            if (v == NULL)
                goto nomem;
            names = v;
            cap = ncap;
        }
        if ((names[n] = strdup(de->d_name)) == NULL)
            goto nomem;
        n++;
    }
    if (errno != 0) {
        fprintf(stderr, "minitorrent create: cannot read folder '%s': %s\n", dir, strerror(errno));
        goto out;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, name_cmp);
    *out = names;
    names = NULL;
    rc = (long)n;
    goto out;
nomem:
    fprintf(stderr, "minitorrent create: out of memory\n");
out:
    closedir(d);
    if (names != NULL) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
    }
    return rc;
}

/* Walks folder dir, whose path inside the torrent is comps[0..depth), adding its files in sorted
 * order. Returns 0, or -1 after printing why. */
static int walk(struct file_list *fl, const char *dir, char **comps, size_t depth)
{
    char **names;
    long n = read_dir_sorted(dir, &names);
    if (n < 0)
        return -1;
    if (n == 0)
        fprintf(stderr,
                "minitorrent create: note: empty folder '%s' is left out (a torrent lists "
                "files only)\n",
                dir);
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        char *full = join_path(dir, names[i]);
        struct stat st;
        if (full == NULL) {
            fprintf(stderr, "minitorrent create: out of memory\n");
            rc = -1;
        } else if (lstat(full, &st) < 0) {
            fprintf(stderr, "minitorrent create: cannot stat '%s': %s\n", full, strerror(errno));
            rc = -1;
        } else if (S_ISLNK(st.st_mode)) {
            fprintf(stderr,
                    "minitorrent create: warning: skipping symbolic link '%s' (links are "
                    "not followed)\n",
                    full);
        } else if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
            if (depth + 1 > METAINFO_MAX_DEPTH) {
                fprintf(stderr, "minitorrent create: '%s' is nested more than %d levels deep\n",
                        full, METAINFO_MAX_DEPTH);
                rc = -1;
            } else {
                comps[depth] = names[i];
                rc = S_ISDIR(st.st_mode) ? walk(fl, full, comps, depth + 1)
                                         : add_file(fl, full, comps, depth + 1, &st);
            }
        } else {
            fprintf(stderr,
                    "minitorrent create: warning: skipping '%s': not a regular file (a "
                    "FIFO, socket or device has no fixed bytes to share)\n",
                    full);
        }
        free(full);
    }
    for (long i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Finds the torrent's name: PATH's last component, or the real folder's name when PATH ends in
 * "." or ".." (e.g. `minitorrent create .`). Returns a new string, or NULL after printing why. */
static char *torrent_name(const char *path)
{
    char *copy = strdup(path), *name = NULL;
    if (copy == NULL)
        goto nomem;
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    const char *slash = strrchr(copy, '/');
    const char *last = slash ? slash + 1 : copy;
    if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
        char *real = realpath(copy, NULL);
        if (real == NULL) {
            fprintf(stderr, "minitorrent create: cannot resolve '%s': %s\n", path, strerror(errno));
            free(copy);
            return NULL;
        }
        slash = strrchr(real, '/');
        name = strdup(slash ? slash + 1 : real);
        free(real);
    } else {
        name = strdup(last);
    }
    free(copy);
    if (name == NULL)
        goto nomem;
    char why[96];
    if (metainfo_check_component((const unsigned char *)name, strlen(name), why, sizeof why) < 0) {
        fprintf(stderr, "minitorrent create: cannot name a torrent after '%s': %s\n", path, why);
        free(name);
        return NULL;
    }
    return name;
nomem:
    fprintf(stderr, "minitorrent create: out of memory\n");
    return NULL;
}

/* Lists PATH's files: itself when it is a file (*multi = 0), its tree when it is a folder.
 * Returns 0, or -1 after printing why. */
static int list_files(const char *path, struct file_list *fl, int *multi)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "minitorrent create: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        *multi = 0;
        if (add_file(fl, path, NULL, 0, &st) < 0)
            return -1;
    } else if (S_ISDIR(st.st_mode)) {
        char *comps[METAINFO_MAX_DEPTH];
        *multi = 1;
        if (walk(fl, path, comps, 0) < 0)
            return -1;
    } else {
        fprintf(stderr, "minitorrent create: '%s' is neither a file nor a folder\n", path);
        return -1;
    }
    if (fl->total == 0) {
        fprintf(stderr,
                "minitorrent create: '%s' holds no data (%zu file%s, 0 bytes): a torrent needs at "
                "least one byte\n",
                path, fl->n, fl->n == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

/* ===================================================================================== */
/* Step 2: hashing the pieces                                                            */
/* ===================================================================================== */

/* Cuts a byte stream into pieces and hashes each one, whatever sizes the stream arrives in. */
struct piece_hasher {
    struct sha1_ctx ctx;
    uint32_t piece_length;
    uint32_t filled;       /* bytes of the current piece hashed so far */
    unsigned char *pieces; /* 20 bytes per piece, written as each piece completes */
    uint32_t done;         /* pieces completed */
};

/* Adds len bytes of the stream, closing a piece each time piece_length bytes have gone in. */
static void hasher_feed(struct piece_hasher *h, const unsigned char *p, size_t len)
{
    while (len > 0) {
        size_t take = h->piece_length - h->filled;
        if (take > len)
            take = len;
        sha1_update(&h->ctx, p, take);
        h->filled += (uint32_t)take;
        p += take;
        len -= take;
        if (h->filled == h->piece_length) {
            sha1_final(&h->ctx, h->pieces + (size_t)h->done++ * SHA1_DIGEST_LEN);
            sha1_init(&h->ctx);
            h->filled = 0;
        }
    }
}

/* Closes the last, shorter piece, if the stream did not end on a piece boundary. */
static void hasher_finish(struct piece_hasher *h)
{
    if (h->filled > 0) {
        sha1_final(&h->ctx, h->pieces + (size_t)h->done++ * SHA1_DIGEST_LEN);
        h->filled = 0;
    }
}

/* Reads every file in order into the hasher, exactly the length each had when listed. A file
 * that shrank since is an error (its pieces would describe bytes nobody has); one that grew is
 * hashed up to its listed length, as the torrent describes. Returns 0, or -1 after printing. */
static int hash_files(const struct file_list *fl, struct piece_hasher *h)
{
    unsigned char *buf = malloc(READ_CHUNK);
    if (buf == NULL) {
        fprintf(stderr, "minitorrent create: out of memory\n");
        return -1;
    }
    int rc = -1;
    for (size_t i = 0; i < fl->n; i++) {
        const struct entry *e = &fl->v[i];
        if (e->length == 0)
            continue;
        int fd = open(e->full, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "minitorrent create: cannot read '%s': %s\n", e->full, strerror(errno));
            goto out;
        }
        uint64_t left = e->length;
        while (left > 0) {
            size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
            ssize_t got = readn(fd, buf, want);
            if (got <= 0 || (size_t)got < want) {
                if (got < 0)
                    fprintf(stderr, "minitorrent create: cannot read '%s': %s\n", e->full,
                            strerror(errno));
                else
                    fprintf(stderr, "minitorrent create: '%s' shrank while it was being read\n",
                            e->full);
                close(fd);
                goto out;
            }
            hasher_feed(h, buf, (size_t)got);
            left -= (uint64_t)got;
        }
        close(fd);
    }
    hasher_finish(h);
    rc = 0;
out:
    free(buf);
    return rc;
}

/* ===================================================================================== */
/* Step 3: writing the .torrent                                                          */
/* ===================================================================================== */

/* Refuses an output path that is one of the files being shared: writing it would change the
 * bytes just hashed. Returns 0, or -1 after printing why. */
static int check_output_not_input(const char *out, const struct file_list *fl)
{
    struct stat st;
    if (stat(out, &st) < 0)
        return 0; /* it does not exist yet, so it is not one of them */
    for (size_t i = 0; i < fl->n; i++)
        if (fl->v[i].dev == st.st_dev && fl->v[i].ino == st.st_ino) {
            fprintf(stderr, "minitorrent create: output '%s' is one of the files being shared\n",
                    out);
            return -1;
        }
    return 0;
}

/* Opens a temporary file next to out (same folder, so it can be renamed over out at the end).
 * Returns its descriptor and the name in *tmp_out (to free), or -1 after printing why. */
static int open_temp_beside(const char *out, char **tmp_out)
{
    size_t len = strlen(out);
    char *tmp = malloc(len + sizeof ".tmpXXXXXX");
    if (tmp == NULL) {
        fprintf(stderr, "minitorrent create: out of memory\n");
        return -1;
    }
    memcpy(tmp, out, len);
    memcpy(tmp + len, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "minitorrent create: cannot write '%s': %s\n", out, strerror(errno));
        free(tmp);
        return -1;
    }
    /* mkstemp makes the file 0600; a .torrent is meant to be shared, so give it the mode an
     * ordinary new file would have (0666 less the umask). */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    *tmp_out = tmp;
    return fd;
}

/* Moves the finished temporary file to out. Without force it uses link(), which fails if out
 * appeared in the meantime: an atomic "create only if absent" that rename() cannot give. */
static int install_output(const char *tmp, const char *out, bool force)
{
    if (force) {
        if (rename(tmp, out) == 0)
            return 0;
    } else if (link(tmp, out) == 0) {
        unlink(tmp);
        return 0;
    }
    int saved = errno;
    fprintf(stderr, "minitorrent create: cannot write '%s': %s%s\n", out, strerror(saved),
            saved == EEXIST ? " (use --force to replace it)" : "");
    return -1;
}

/* Builds the metainfo spec from the options, the files and the piece hashes, and encodes it. */
static int encode_torrent(const struct create_opts *o, const char *name, int multi,
                          const struct file_list *fl, const struct piece_hasher *h,
                          struct benc_buf *out)
{
    struct metainfo_spec_file *sf = calloc(fl->n, sizeof *sf);
    if (sf == NULL) {
        fprintf(stderr, "minitorrent create: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < fl->n; i++) {
        sf[i].path = (const char *const *)fl->v[i].comps;
        sf[i].path_len = fl->v[i].ncomps;
        sf[i].length = fl->v[i].length;
    }
    char created_by[64];
    snprintf(created_by, sizeof created_by, "minitorrent %s", MINITORRENT_VERSION);
    /* BEP 12: with a single URL the plain announce says it all; with more, announce-list holds
     * every tier and announce repeats the first URL for clients that predate BEP 12. */
    struct metainfo_spec spec = {
        .announce = o->tier_urls[0],
        .name = name,
        .piece_length = o->piece_length,
        .multi_file = multi,
        .files = sf,
        .file_count = fl->n,
        .pieces = h->pieces,
        .piece_count = h->done,
        .is_private = o->is_private,
        .tiers = o->url_count > 1 ? o->tiers : NULL,
        .tier_count = o->url_count > 1 ? o->tier_count : 0,
        .created_by = created_by,
        .creation_date = o->no_date ? 0 : (int64_t)time(NULL),
    };
    char why[256];
    int rc = metainfo_encode(&spec, out, why, sizeof why);
    if (rc < 0)
        fprintf(stderr, "minitorrent create: %s\n", why);
    free(sf);
    return rc;
}

/* ===================================================================================== */
/* The command                                                                           */
/* ===================================================================================== */

/* Seconds on a monotonic clock, to report the hashing speed. */
int cmd_create(int argc, char **argv)
{
    struct create_opts o;
    memset(&o, 0, sizeof o);
    int prc = parse_options(argc, argv, &o);
    if (prc != 0) {
        free_opts(&o);
        return prc > 0 ? 0 : 2;
    }

    int status = 1, fd = -1, multi = 0;
    char *name = NULL, *out_path = NULL, *tmp = NULL;
    struct file_list fl = {0};
    struct piece_hasher h = {.pieces = NULL};
    struct benc_buf enc;
    benc_buf_init(&enc);

    if ((name = torrent_name(o.path)) == NULL || list_files(o.path, &fl, &multi) < 0)
        goto out;
    if (o.output != NULL)
        out_path = strdup(o.output);
    else if ((out_path = malloc(strlen(name) + sizeof ".torrent")) != NULL)
        sprintf(out_path, "%s.torrent", name);
    if (out_path == NULL) {
        fprintf(stderr, "minitorrent create: out of memory\n");
        goto out;
    }

    /* Fail before the long hash, not after it: the output must be new (or --force) and its folder
     * writable, which creating the temporary file proves. */
    struct stat st;
    if (!o.force && stat(out_path, &st) == 0) {
        fprintf(stderr, "minitorrent create: '%s' already exists (use --force to replace it)\n",
                out_path);
        goto out;
    }
    if (check_output_not_input(out_path, &fl) < 0 || (fd = open_temp_beside(out_path, &tmp)) < 0)
        goto out;

    uint64_t npieces = (fl.total + o.piece_length - 1) / o.piece_length;
    if (npieces > UINT32_MAX) {
        fprintf(stderr, "minitorrent create: %llu pieces are too many; use a larger -l\n",
                (unsigned long long)npieces);
        goto out;
    }
    h.piece_length = o.piece_length;
    if ((h.pieces = malloc((size_t)npieces * SHA1_DIGEST_LEN)) == NULL) {
        fprintf(stderr, "minitorrent create: out of memory\n");
        goto out;
    }
    sha1_init(&h.ctx);
    double t0 = clock_s();
    if (hash_files(&fl, &h) < 0)
        goto out;
    double secs = clock_s() - t0;

    if (encode_torrent(&o, name, multi, &fl, &h, &enc) < 0)
        goto out;
    if (writen(fd, enc.data, enc.len) < 0 || fsync(fd) < 0 || close(fd) < 0) {
        fprintf(stderr, "minitorrent create: cannot write '%s': %s\n", out_path, strerror(errno));
        fd = -1;
        goto out;
    }
    fd = -1;
    if (install_output(tmp, out_path, o.force) < 0)
        goto out;

    /* Report the info hash the way every client computes it: parse the bytes just written and
     * hash the info dict as it appears in them. */
    struct metainfo mi;
    char why[256], hex[41], size[UNITS_BUFLEN], rate[UNITS_BUFLEN], plen[UNITS_BUFLEN];
    if (metainfo_parse(&mi, enc.data, enc.len, why, sizeof why) < 0) {
        fprintf(stderr, "minitorrent create: %s\n", why); /* encode checked it; cannot happen */
        goto out;
    }
    metainfo_hash_hex(mi.info_hash, hex);
    metainfo_free(&mi);
    printf("wrote %s: %zu file%s, %llu bytes (%s), %u pieces of %s\n", out_path, fl.n,
           fl.n == 1 ? "" : "s", (unsigned long long)fl.total,
           units_format_size(fl.total, size, sizeof size), h.done,
           units_format_size(o.piece_length, plen, sizeof plen));
    printf("hashed in %.2f s (%s)\n", secs,
           units_format_rate(secs > 0 ? (double)fl.total / secs : 0, rate, sizeof rate));
    printf("info hash: %s\n", hex);
    status = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlink(tmp); /* after a success it is already linked or renamed; this is then a no-op */
    free(tmp);
    free(out_path);
    free(name);
    free(h.pieces);
    benc_buf_free(&enc);
    file_list_free(&fl);
    free_opts(&o);
    return status;
}
