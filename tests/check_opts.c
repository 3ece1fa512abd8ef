/*
 * check_opts.c - the table-driven option parser (minitorrent/shell/opts.c) and the --help text of
 * every minitorrent command, which is printed from the same tables.
 *
 * The opts_ tests run the parser in this process on a small table of every kind of option. The
 * opts_help_ tests run bin/minitorrent: every option a command's --help lists must be one the
 * command accepts, and a few that every command must have are checked by name.
 */
#include "testlib.h"
#include "opts.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct toy {
    bool flag, flag_seen;
    const char *name, *port, *plot;
    long count;
    uint64_t size, rate, ms;
    double scale;
    int color;
    int calls;
};

static const struct opt_choice colors[] = {{"red", 1}, {"green", 2}, {NULL, 0}};

/* An OPT_CALL reader that accepts only "ok", counting its calls. */
static int call_ok(void *dest, const char *arg, char *why, size_t whylen)
{
    struct toy *t = dest;
    if (strcmp(arg, "ok") != 0) {
        snprintf(why, whylen, "expected ok");
        return -1;
    }
    t->calls++;
    return 0;
}

#define O(f) offsetof(struct toy, f)
static const struct opt_spec toy_specs[] = {
    {.short_name = 'f',
     .long_name = "flag",
     .kind = OPT_FLAG,
     .offset = O(flag),
     .has_seen = true,
     .seen_offset = O(flag_seen),
     .help = "a flag"},
    {.short_name = 'n',
     .long_name = "name",
     .kind = OPT_STRING,
     .offset = O(name),
     .arg_name = "NAME",
     .help = "a name"},
    {.short_name = 'p',
     .long_name = "port",
     .kind = OPT_PORT,
     .offset = O(port),
     .arg_name = "PORT",
     .optional = "0",
     .help = "a port"},
    {.long_name = "plot",
     .kind = OPT_STRING,
     .offset = O(plot),
     .arg_name = "FILE",
     .optional = "-",
     .help = "a file"},
    {.short_name = 'c',
     .long_name = "count",
     .kind = OPT_LONG,
     .offset = O(count),
     .arg_name = "N",
     .min = 1,
     .max = 10,
     .help = "a count\nover two lines"},
    {.long_name = "size",
     .kind = OPT_SIZE,
     .offset = O(size),
     .arg_name = "BYTES",
     .min = 1024,
     .max = 1 << 20,
     .help = "a size"},
    {.long_name = "rate", .kind = OPT_RATE, .offset = O(rate), .arg_name = "RATE", .help = "r"},
    {.long_name = "secs",
     .kind = OPT_MS,
     .offset = O(ms),
     .arg_name = "S",
     .min = 10,
     .max = 60000,
     .help = "seconds"},
    {.long_name = "scale",
     .kind = OPT_DOUBLE,
     .offset = O(scale),
     .arg_name = "K",
     .min = 0.5,
     .max = 4,
     .help = "a factor"},
    {.long_name = "color",
     .kind = OPT_CHOICE,
     .offset = O(color),
     .arg_name = "C",
     .choices = colors,
     .help = "a colour"},
    {.long_name = "call", .kind = OPT_CALL, .call = call_ok, .arg_name = "X", .help = "a call"},
    {.long_name = "only-two",
     .kind = OPT_FLAG,
     .offset = O(flag),
     .variants = 2,
     .help = "variant two only"},
};
#undef O

static const struct opt_command toy = {.name = "toy",
                                       .usage = "usage: toy [options] FILE\n",
                                       .specs = toy_specs,
                                       .nspecs = sizeof toy_specs / sizeof toy_specs[0],
                                       .variant = 1};

/* Parses a NULL-terminated list of words (after the command's name) into *t. The expected
 * errors print their messages to the test's stderr. */
static enum opt_result parse(struct toy *t, char **pos, int *npos, ...)
{
    char *argv[32] = {"toy"};
    int argc = 1;
    va_list ap;
    va_start(ap, npos);
    for (char *w; (w = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = w;
    va_end(ap);
    argv[argc] = NULL;
    memset(t, 0, sizeof *t);
    enum opt_result r = opts_parse(&toy, argc, argv, t, pos, 2, npos);
    return r;
}

START_TEST(opts_every_kind_of_value)
{
    struct toy t;
    char *pos[2];
    int npos;
    ck_assert_int_eq(parse(&t, pos, &npos, "-f", "--name", "x", "-c", "7", "--size", "2K", "--rate",
                           "1M/s", "--secs", "0.5", "--scale=2.5", "--color", "green", "--call",
                           "ok", "file", NULL),
                     OPTS_OK);
    ck_assert(t.flag && t.flag_seen);
    ck_assert_str_eq(t.name, "x");
    ck_assert_int_eq(t.count, 7);
    ck_assert_uint_eq(t.size, 2048);
    ck_assert_uint_eq(t.rate, 1 << 20);
    ck_assert_uint_eq(t.ms, 500);
    ck_assert_double_eq(t.scale, 2.5);
    ck_assert_int_eq(t.color, 2);
    ck_assert_int_eq(t.calls, 1);
    ck_assert_int_eq(npos, 1);
    ck_assert_str_eq(pos[0], "file");
}
END_TEST

START_TEST(opts_short_inline_and_positionals_anywhere)
{
    struct toy t;
    char *pos[2];
    int npos;
    ck_assert_int_eq(parse(&t, pos, &npos, "a", "-nNAME", "-c3", "b", "--", "-f", NULL),
                     OPTS_ERROR); /* three positionals: one too many */
    ck_assert_int_eq(parse(&t, pos, &npos, "a", "-nNAME", "-c3", "--", "-f", NULL), OPTS_OK);
    ck_assert_str_eq(t.name, "NAME");
    ck_assert_int_eq(t.count, 3);
    ck_assert(!t.flag); /* after "--" it is a positional */
    ck_assert_int_eq(npos, 2);
    ck_assert_str_eq(pos[1], "-f");
    /* A required value is taken even when it starts with '-'. */
    ck_assert_int_eq(parse(&t, pos, &npos, "--name", "-x", NULL), OPTS_OK);
    ck_assert_str_eq(t.name, "-x");
}
END_TEST

START_TEST(opts_optional_values)
{
    struct toy t;
    char *pos[2];
    int npos;
    /* A bare --port at the end, or before another option, takes its default. */
    ck_assert_int_eq(parse(&t, pos, &npos, "--port", NULL), OPTS_OK);
    ck_assert_str_eq(t.port, "0");
    ck_assert_int_eq(parse(&t, pos, &npos, "--port", "-f", NULL), OPTS_OK);
    ck_assert_str_eq(t.port, "0");
    ck_assert(t.flag);
    /* A number is the port; a word is left as a positional. */
    ck_assert_int_eq(parse(&t, pos, &npos, "--port", "8080", "name", NULL), OPTS_OK);
    ck_assert_str_eq(t.port, "8080");
    ck_assert_int_eq(npos, 1);
    ck_assert_str_eq(pos[0], "name");
    /* "-" is a value (standard output) for a file. */
    ck_assert_int_eq(parse(&t, pos, &npos, "--plot", "-", NULL), OPTS_OK);
    ck_assert_str_eq(t.plot, "-");
    ck_assert_int_eq(parse(&t, pos, &npos, "--plot", "a.svg", NULL), OPTS_OK);
    ck_assert_str_eq(t.plot, "a.svg");
}
END_TEST

START_TEST(opts_bad_values_are_refused)
{
    struct toy t;
    char *pos[2];
    int npos;
    const char *bad[][2] = {
        {"--count", "0"},    {"--count", "11"},  {"--count", "x"},    {"--size", "1000"},
        {"--size", "2M"},    {"--size", "12Q"},  {"--rate", "-1"},    {"--secs", "0.001"},
        {"--scale", "5"},    {"--scale", "nan"}, {"--color", "blue"}, {"--call", "no"},
        {"--port", "70000"}, {"--nope", NULL},   {"--flag=1", NULL},  {"--only-two", NULL},
        {"-vf", NULL},       {"--name", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse(&t, pos, &npos, bad[i][0], bad[i][1], NULL) == OPTS_ERROR,
                      "%s %s was accepted", bad[i][0], bad[i][1] ? bad[i][1] : "");
}
END_TEST

/* Prints the toy command's help into a string. */
static char *help_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    opts_print_help(&toy, f);
    fclose(f);
    return buf;
}

START_TEST(opts_help_lists_the_table)
{
    char *h = help_text();
    ck_assert_msg(strncmp(h, "usage: toy", 10) == 0, "%s", h);
    for (size_t i = 0; i < sizeof toy_specs / sizeof toy_specs[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s", toy_specs[i].long_name);
        if (toy_specs[i].variants == 2)
            ck_assert_msg(strstr(h, want) == NULL, "%s is not in variant 1:\n%s", want, h);
        else
            ck_assert_msg(strstr(h, want) != NULL, "%s missing from:\n%s", want, h);
    }
    ck_assert_ptr_nonnull(strstr(h, "  -c, --count N"));
    ck_assert_ptr_nonnull(strstr(h, "--port [PORT]"));
    /* A continuation line of the help is indented under the first. */
    ck_assert_ptr_nonnull(strstr(h, "a count\n                        over two lines\n"));
    ck_assert_ptr_nonnull(strstr(h, "-h, --help"));
    ck_assert_ptr_nonnull(strstr(h, "--version"));
    free(h);
}
END_TEST

/* Runs bin/minitorrent with argv and returns its exit status, the output (both streams) in p. */
static int run_tool(struct tk_proc *p, char *const argv[])
{
    memset(p, 0, sizeof *p);
    p->merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(p, argv), 0);
    int st = tk_wait_exit(p, 10000);
    if (st == -1)
        st = tk_stop(p, 5000);
    return st;
}

/* Every option that a command's --help lists is one it knows: it is never an "unknown
 * option". */
START_TEST(opts_help_of_every_command_matches_its_options)
{
    static const char *const cmds[] = {"create", "info", "tracker", "seed", "get", "swarm"};
    static struct tk_proc p, q;
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        int st = run_tool(&p, (char *[]){"minitorrent", (char *)cmds[c], "--help", NULL});
        ck_assert_msg(st == 0, "%s --help exited %d: %s", cmds[c], st, p.out);
        char want[64];
        snprintf(want, sizeof want, "usage: minitorrent %s", cmds[c]);
        ck_assert_msg(strncmp(p.out, want, strlen(want)) == 0, "%s", p.out);
        ck_assert_msg(strstr(p.out, "--version") != NULL, "%s", p.out);
        int listed = 0;
        for (const char *s = p.out; (s = strstr(s, "\n  ")) != NULL; s++) {
            const char *dd = strstr(s, "--");
            if (dd == NULL || dd - s > 10)
                continue;
            char opt[48];
            size_t n = strcspn(dd, " \n[=");
            if (n >= sizeof opt || n < 3)
                continue;
            memcpy(opt, dd, n);
            opt[n] = '\0';
            if (strcmp(opt, "--help") == 0 || strcmp(opt, "--version") == 0)
                continue; /* the two every command has, checked above */
            listed++;
            /* Two unknown words after it: an option with a value takes the first (and may
             * refuse it as a value), and the second (or, after a flag, the first) stops the
             * parse, so nothing ever runs. */
            run_tool(&q, (char *[]){"minitorrent", (char *)cmds[c], opt, "--zz-not-an-option",
                                    "--zz-not-an-option", NULL});
            /* Refused as an unknown option, or as the option's value: either way quoted. */
            ck_assert_msg(strstr(q.out, "'--zz-not-an-option'") != NULL, "%s %s: %s", cmds[c], opt,
                          q.out);
            char bad[96];
            snprintf(bad, sizeof bad, "unknown option '%s'", opt);
            ck_assert_msg(strstr(q.out, bad) == NULL, "%s %s: %s", cmds[c], opt, q.out);
        }
        /* info has no options of its own; every other command has several. */
        ck_assert_msg(listed >= (strcmp(cmds[c], "info") == 0 ? 0 : 2),
                      "%s --help lists no options: %s", cmds[c], p.out);
    }
    /* The new policies are on every command that runs peers. */
    const char *const peers[] = {"seed", "get", "swarm"};
    for (size_t c = 0; c < 3; c++) {
        run_tool(&p, (char *[]){"minitorrent", (char *)peers[c], "--help", NULL});
        ck_assert_msg(strstr(p.out, "--picker") != NULL, "%s", p.out);
        ck_assert_msg(strstr(p.out, "--optimistic") != NULL, "%s", p.out);
        ck_assert_msg(strstr(p.out, "--upload-turns") != NULL, "%s", p.out);
    }
}
END_TEST

static Suite *opts_suite(void)
{
    Suite *s = suite_create("opts");
    TCase *tc = tk_tcase(s, "opts", 120);
    tk_add_test(tc, opts_every_kind_of_value);
    tk_add_test(tc, opts_short_inline_and_positionals_anywhere);
    tk_add_test(tc, opts_optional_values);
    tk_add_test(tc, opts_bad_values_are_refused);
    tk_add_test(tc, opts_help_lists_the_table);
    tk_add_test(tc, opts_help_of_every_command_matches_its_options);
    return s;
}

TK_MAIN(opts_suite)
