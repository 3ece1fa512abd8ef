/*
 * cmd_info.c - `minitorrent info FILE.torrent`: show what a .torrent holds.
 *
 * It reads the file (at most INFO_MAX_FILE bytes, so a huge or endless file cannot exhaust
 * memory), parses it with metainfo_parse() - the same strict parser every other command uses,
 * so `info` accepts exactly the torrents `seed` and `get` accept - and prints the fields.
 *
 * Everything printed from the torrent came from a stranger. Names and URLs are printed with
 * control bytes escaped (\x1b and so on), so a hostile file name cannot move the cursor or
 * recolour the terminal when someone inspects the torrent.
 */
#include "commands.h"
#include "metainfo.h"
#include "opts.h"
#include "units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Real torrents are kilobytes, and even one listing 100000 files is a few MiB. */
#define INFO_MAX_FILE (64u * 1024 * 1024)

static const char usage[] =
    "usage: minitorrent info FILE.torrent...\n"
    "Shows a torrent's name, size, pieces, info hash, trackers and files.\n";

/* Reads all of path into a new buffer, refusing more than max bytes. Reading until EOF (rather
 * than trusting a size from stat) also works for pipes such as /dev/stdin. Returns the buffer
 * and its length in *len, or NULL with a message in err. */
static unsigned char *read_capped(const char *path, size_t max, size_t *len, char *err,
                                  size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 64 * 1024, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break; /* end of file or an error; ferror() tells which */
        if (cap > max) {
            snprintf(err, errlen, "larger than %u MiB, too large for a .torrent",
                     (unsigned)(max >> 20));
            goto fail;
        }
        /* Grow to at most max + 1 bytes: one byte past the cap is enough to know it is too big. */
        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
        unsigned char *nb = realloc(buf, ncap);
        if (nb == NULL) {
            free(buf);
            buf = NULL; /* reported as out of memory below */
            break;
        }
        buf = nb;
        cap = ncap;
    }
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "read error: %s", strerror(errno));
        goto fail;
    }
    fclose(f);
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

/* Prints a string from the torrent with every byte outside printable ASCII (apart from UTF-8
 * sequences' bytes, which stay, so accented names read normally) escaped as \xNN. */
static void print_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            printf("\\x%02x", *p);
        else
            putchar(*p);
    }
}

/* Prints the optional "created by", "creation date" and "comment" fields, which struct metainfo
 * does not keep; the file was already validated, so decoding it again cannot fail in new ways. */
static void print_extras(const unsigned char *buf, size_t len)
{
    struct bencode_doc doc;
    if (bencode_decode(&doc, buf, len, BENCODE_LENIENT_ORDER, NULL) < 0)
        return;
    const struct bencode_value *v;
    static const char *const strings[][2] = {{"created by", "created by:   "},
                                             {"comment", "comment:      "}};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        v = bencode_dict_get_str(doc.root, strings[i][0]);
        /* A string with a NUL inside cannot be printed as a C string; leave it out. */
        if (v != NULL && memchr(v->s, '\0', v->len) == NULL && v->len < 4096) {
            char *s = malloc(v->len + 1);
            if (s != NULL) {
                memcpy(s, v->s, v->len);
                s[v->len] = '\0';
                fputs(strings[i][1], stdout);
                print_safe(s);
                putchar('\n');
                free(s);
            }
        }
    }
    v = bencode_dict_get_int(doc.root, "creation date");
    if (v != NULL && v->i > 0 && v->i < INT64_C(253402300800)) { /* before the year 10000 */
        time_t t = (time_t)v->i;
        struct tm tm;
        char when[64];
        if (gmtime_r(&t, &tm) != NULL && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm))
            printf("created:      %s\n", when);
    }
    bencode_doc_free(&doc);
}

/* Prints one parsed torrent. */
static void print_torrent(const struct metainfo *m, const unsigned char *buf, size_t len)
{
    char hex[41], human[UNITS_BUFLEN];
    metainfo_hash_hex(m->info_hash, hex);
    fputs("name:         ", stdout);
    print_safe(m->name);
    printf("\ninfo hash:    %s\n", hex);
    printf("total size:   %" PRIu64 " bytes (%s)\n", m->total_length,
           units_format_size(m->total_length, human, sizeof human));
    printf("piece length: %" PRIu32 " bytes (%s)\n", m->piece_length,
           units_format_size(m->piece_length, human, sizeof human));
    printf("pieces:       %" PRIu32 "\n", m->piece_count);
    printf("private:      %s\n", m->is_private ? "yes" : "no");
    fputs("announce:     ", stdout);
    if (m->announce != NULL)
        print_safe(m->announce);
    else
        fputs("(none)", stdout);
    putchar('\n');
    /* BEP 12 tiers: a client tries the URLs of tier 1 (in random order) before those of tier 2. */
    for (size_t t = 0; t < m->tier_count; t++) {
        printf("tier %-8zu ", t + 1);
        for (size_t u = 0; u < m->tiers[t].count; u++) {
            if (u > 0)
                putchar(' ');
            print_safe(m->tiers[t].urls[u]);
        }
        putchar('\n');
    }
    print_extras(buf, len);
    printf("files:        %zu (%s)\n", m->file_count, m->multi_file ? "multi-file" : "single-file");
    for (size_t i = 0; i < m->file_count; i++) {
        printf("  %12" PRIu64 "  %10s  ", m->files[i].length,
               units_format_size(m->files[i].length, human, sizeof human));
        if (m->multi_file) {
            print_safe(m->name);
            putchar('/');
        }
        print_safe(m->files[i].path_str);
        putchar('\n');
    }
}

/* Reads, parses and prints one file. Returns 0, or 1 after printing why it failed. */
static int show(const char *path)
{
    char err[256];
    size_t len;
    unsigned char *buf = read_capped(path, INFO_MAX_FILE, &len, err, sizeof err);
    if (buf == NULL) {
        fprintf(stderr, "minitorrent info: %s: %s\n", path, err);
        return 1;
    }
    struct metainfo m;
    if (metainfo_parse(&m, buf, len, err, sizeof err) < 0) {
        fprintf(stderr, "minitorrent info: %s: %s\n", path, err);
        free(buf);
        return 1;
    }
    print_torrent(&m, buf, len);
    metainfo_free(&m);
    free(buf);
    return 0;
}

/* info has no options of its own: only -h and --version, which every command gets. */
static const struct opt_command command = {.name = "info", .usage = usage};

int cmd_info(int argc, char **argv)
{
    char *files[256];
    int nfiles;
    enum opt_result r = opts_parse(&command, argc, argv, NULL, files, 256, &nfiles);
    if (r != OPTS_OK)
        return r == OPTS_EXIT ? 0 : 2;
    if (nfiles == 0) {
        fprintf(stderr, "minitorrent info: expected a FILE.torrent\n%s", usage);
        return 2;
    }
    int status = 0;
    for (int i = 0; i < nfiles; i++) {
        if (i > 0)
            putchar('\n'); /* a blank line between torrents */
        if (show(files[i]) != 0)
            status = 1;
        fflush(stdout); /* keep stdout and stderr in order when both go to one pipe */
    }
    return status;
}
