/*
 * opts.c - the table-driven option parser (see opts.h).
 */
#include "opts.h"
#include "cli.h"
#include "commands.h"
#include "units.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Returns whether the spec belongs to the command's variant. */
static bool in_variant(const struct opt_command *cmd, const struct opt_spec *s)
{
    return cmd->variant == 0 || s->variants == 0 || (s->variants & cmd->variant) != 0;
}

const struct opt_spec *opts_find(const struct opt_command *cmd, const char *long_name)
{
    for (size_t i = 0; i < cmd->nspecs; i++)
        if (in_variant(cmd, &cmd->specs[i]) && cmd->specs[i].long_name != NULL &&
            strcmp(cmd->specs[i].long_name, long_name) == 0)
            return &cmd->specs[i];
    return NULL;
}

/* Finds the option with this short letter. */
static const struct opt_spec *find_short(const struct opt_command *cmd, char c)
{
    for (size_t i = 0; i < cmd->nspecs; i++)
        if (in_variant(cmd, &cmd->specs[i]) && cmd->specs[i].short_name == c)
            return &cmd->specs[i];
    return NULL;
}

/* Finds a long option by the name in [name, name+len). */
static const struct opt_spec *find_long(const struct opt_command *cmd, const char *name, size_t len)
{
    for (size_t i = 0; i < cmd->nspecs; i++) {
        const struct opt_spec *s = &cmd->specs[i];
        if (in_variant(cmd, s) && s->long_name != NULL && strlen(s->long_name) == len &&
            memcmp(s->long_name, name, len) == 0)
            return s;
    }
    return NULL;
}

/* Writes a number for a message without a useless ".000000": 16384, 0.01. */
static void number_text(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.15g", v);
}

/* Writes the "expected ..." part of a message about a bad value of s. */
static void expected_text(const struct opt_spec *s, char *buf, size_t cap)
{
    if (s->expect != NULL) {
        snprintf(buf, cap, "%s", s->expect);
        return;
    }
    char lo[UNITS_BUFLEN], hi[UNITS_BUFLEN];
    switch (s->kind) {
    case OPT_CHOICE: {
        size_t n = 0;
        n += (size_t)snprintf(buf, cap, "expected");
        for (const struct opt_choice *c = s->choices; c != NULL && c->name != NULL; c++)
            if (n < cap)
                n += (size_t)snprintf(buf + n, cap - n, "%s%s", c == s->choices ? " " : " or ",
                                      c->name);
        return;
    }
    case OPT_PORT:
        snprintf(buf, cap, "expected 0 to 65535");
        return;
    case OPT_SIZE:
    case OPT_RATE:
        snprintf(buf, cap, "expected %s to %s", units_format_size((uint64_t)s->min, lo, sizeof lo),
                 units_format_size((uint64_t)s->max, hi, sizeof hi));
        return;
    case OPT_MS:
        number_text(s->min / 1000.0, lo, sizeof lo);
        number_text(s->max / 1000.0, hi, sizeof hi);
        snprintf(buf, cap, "expected %s to %s seconds", lo, hi);
        return;
    default:
        number_text(s->min, lo, sizeof lo);
        number_text(s->max, hi, sizeof hi);
        snprintf(buf, cap, "expected %s to %s", lo, hi);
        return;
    }
}

/* Returns whether v lies in the spec's range (a range of 0 to 0 means any value). */
static bool in_range(const struct opt_spec *s, double v)
{
    return (s->min == 0 && s->max == 0) || (v >= s->min && v <= s->max);
}

/* Reads a double that must fill the whole string. */
static int parse_double(const char *arg, double *out)
{
    char *end;
    if (*arg == '\0')
        return -1;
    double v = strtod(arg, &end);
    if (*end != '\0' || v != v)
        return -1;
    *out = v;
    return 0;
}

/* Stores one option's value. Returns 0, or -1 after printing why on stderr. */
static int store(const struct opt_command *cmd, const struct opt_spec *s, const char *arg,
                 char *dest)
{
    void *at = dest + s->offset;
    char why[160] = "", expect[160];
    uint64_t u = 0;
    long l;
    double d;
    int bad = 0;
    switch (s->kind) {
    case OPT_FLAG:
        *(bool *)at = true;
        break;
    case OPT_STRING:
        *(const char **)at = arg;
        break;
    case OPT_PORT:
        if (!cli_valid_port(arg)) {
            fprintf(stderr, "minitorrent %s: bad port '%s': expected 0 to 65535\n", cmd->name, arg);
            return -1;
        }
        *(const char **)at = arg;
        break;
    case OPT_LONG:
        bad = cli_parse_long(arg, s->min != 0 || s->max != 0 ? (long)s->min : LONG_MIN,
                             s->min != 0 || s->max != 0 ? (long)s->max : LONG_MAX, &l) < 0;
        if (!bad)
            *(long *)at = l;
        break;
    case OPT_SIZE:
    case OPT_RATE:
    case OPT_MS: {
        int r = s->kind == OPT_SIZE   ? units_parse_size(arg, &u, why, sizeof why)
                : s->kind == OPT_RATE ? units_parse_rate(arg, &u, why, sizeof why)
                                      : units_parse_seconds(arg, &u, why, sizeof why);
        bad = r < 0 || !in_range(s, (double)u);
        if (r == 0)
            why[0] = '\0'; /* a value out of range: say the range, not the parser's text */
        if (!bad)
            *(uint64_t *)at = u;
        break;
    }
    case OPT_DOUBLE:
        bad = parse_double(arg, &d) < 0 || !in_range(s, d);
        if (!bad)
            *(double *)at = d;
        break;
    case OPT_CHOICE:
        bad = 1;
        for (const struct opt_choice *c = s->choices; c != NULL && c->name != NULL; c++)
            if (strcmp(c->name, arg) == 0) {
                *(int *)at = c->value;
                bad = 0;
                break;
            }
        break;
    case OPT_CALL:
        bad = s->call(dest, arg, why, sizeof why) < 0;
        break;
    }
    if (bad) {
        expected_text(s, expect, sizeof expect);
        fprintf(stderr, "minitorrent %s: bad --%s '%s': %s\n", cmd->name, s->long_name, arg,
                why[0] != '\0' ? why : expect);
        return -1;
    }
    if (s->has_seen)
        *(bool *)(dest + s->seen_offset) = true;
    return 0;
}

/* Returns whether word may serve as the value of an option whose value may be left out: a word
 * that does not look like an option ("-" alone is a value: standard output), and for a port only
 * a number, so that `--web rarest-first` leaves the experiment's name alone. */
static bool takes_optional(const struct opt_spec *s, const char *word)
{
    if (word == NULL || word[0] == '\0')
        return false;
    if (s->kind == OPT_PORT)
        return strspn(word, "0123456789") == strlen(word);
    return word[0] != '-' || strcmp(word, "-") == 0;
}

enum opt_result opts_parse(const struct opt_command *cmd, int argc, char **argv, void *dest,
                           char **pos, int maxpos, int *npos)
{
    *npos = 0;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (*npos >= maxpos) {
                fprintf(stderr, "minitorrent %s: unexpected argument '%s'\n", cmd->name, a);
                fputs(cmd->usage, stderr);
                return OPTS_ERROR;
            }
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        const struct opt_spec *s;
        const char *inline_value = NULL; /* "--name=VALUE" or "-xVALUE" */
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
            if (eq != NULL)
                inline_value = eq + 1;
            if (len == 4 && memcmp(name, "help", 4) == 0 && eq == NULL) {
                opts_print_help(cmd, stdout);
                return OPTS_EXIT;
            }
            if (len == 7 && memcmp(name, "version", 7) == 0 && eq == NULL) {
                printf("minitorrent %s\n", MINITORRENT_VERSION);
                return OPTS_EXIT;
            }
            s = find_long(cmd, name, len);
        } else {
            if (a[1] == 'h' && a[2] == '\0') {
                opts_print_help(cmd, stdout);
                return OPTS_EXIT;
            }
            s = find_short(cmd, a[1]);
            if (s != NULL && a[2] != '\0') {
                if (s->kind == OPT_FLAG)
                    s = NULL; /* "-vx": clusters of flags are not taken (see opts.h) */
                else
                    inline_value = a + 2;
            }
        }
        if (s == NULL) {
            fprintf(stderr, "minitorrent %s: unknown option '%s'\n", cmd->name, a);
            fputs(cmd->usage, stderr);
            return OPTS_ERROR;
        }
        const char *value = NULL;
        if (s->kind == OPT_FLAG) {
            if (inline_value != NULL) {
                fprintf(stderr, "minitorrent %s: --%s takes no value\n", cmd->name, s->long_name);
                return OPTS_ERROR;
            }
        } else if (inline_value != NULL) {
            value = inline_value;
        } else if (s->optional != NULL) {
            value = i + 1 < argc && takes_optional(s, argv[i + 1]) ? argv[++i] : s->optional;
        } else if (i + 1 < argc) {
            value = argv[++i]; /* a required value is taken whatever it looks like: "-l -5" */
        } else {
            fprintf(stderr, "minitorrent %s: --%s needs a value (%s)\n", cmd->name, s->long_name,
                    s->arg_name != NULL ? s->arg_name : "VALUE");
            fputs(cmd->usage, stderr);
            return OPTS_ERROR;
        }
        if (store(cmd, s, value, dest) < 0)
            return OPTS_ERROR;
    }
    return OPTS_OK;
}

/* Prints one option's help entry: the names in a column of 24, then the help text, each of its
 * lines after the first indented to the same column. */
static void print_entry(FILE *f, char short_name, const char *long_name, const char *arg_name,
                        bool optional, const char *help)
{
    char names[96];
    int n = 0;
    if (short_name != 0)
        n = snprintf(names, sizeof names, "-%c, --%s", short_name, long_name);
    else
        n = snprintf(names, sizeof names, "    --%s", long_name);
    if (arg_name != NULL && n > 0 && (size_t)n < sizeof names)
        snprintf(names + n, sizeof names - (size_t)n, optional ? " [%s]" : " %s", arg_name);
    bool wide = strlen(names) > 21;
    fprintf(f, "  %-21s", names);
    if (wide)
        fprintf(f, "\n  %-21s", "");
    for (const char *p = help; *p != '\0';) {
        size_t len = strcspn(p, "\n");
        fprintf(f, " %.*s\n", (int)len, p);
        p += len;
        if (*p == '\n') {
            p++;
            fprintf(f, "  %-21s", "");
        }
    }
}

void opts_print_help(const struct opt_command *cmd, FILE *f)
{
    fputs(cmd->usage, f);
    fputc('\n', f);
    for (size_t i = 0; i < cmd->nspecs; i++) {
        const struct opt_spec *s = &cmd->specs[i];
        if (in_variant(cmd, s))
            print_entry(f, s->short_name, s->long_name, s->arg_name, s->optional != NULL, s->help);
    }
    print_entry(f, 'h', "help", NULL, false, "show this help");
    print_entry(f, 0, "version", NULL, false, "show the version");
    if (cmd->epilog != NULL) {
        fputc('\n', f);
        fputs(cmd->epilog, f);
    }
}
