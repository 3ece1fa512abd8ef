/*
 * opts.h - one table-driven command-line parser for every minitorrent subcommand.
 *
 * Each command describes its options once, in a table of struct opt_spec: the option's names,
 * what kind of value it takes, where in the command's options struct the value goes (an offset,
 * from offsetof), the range it must fall in, and one line of help. The parser reads argv against
 * the table, checks every value, and writes it into the struct; the --help text is printed from
 * the same table, so an option is listed exactly when it exists and the two can never disagree.
 *
 * What it accepts, as getopt_long does: "--name VALUE", "--name=VALUE", "-x VALUE", "-xVALUE",
 * positional arguments anywhere (they are handed back in order), and "--" to end the options.
 * What it leaves out on purpose: abbreviated long names ("--kee" for "--keep-seeding") and
 * clusters of short flags ("-vf"). Both save a few keystrokes and cost a reader the certainty of
 * what a script means; real programs that need them use getopt_long.
 *
 * Every command also gets -h/--help and --version without listing them.
 */
#ifndef OPTS_H
#define OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_kind {
    OPT_FLAG,   /* no value: sets a bool to true */
    OPT_STRING, /* const char *, the argument itself (it points into argv) */
    OPT_PORT,   /* const char *, a decimal port 0..65535 */
    OPT_LONG,   /* long, a decimal number in [min, max] */
    OPT_SIZE,   /* uint64_t bytes: "256K", "1.5M" (units.h), in [min, max] */
    OPT_RATE,   /* uint64_t bytes per second: "512K", "2M/s", in [min, max] */
    OPT_MS,     /* uint64_t milliseconds, typed as seconds: "10", "0.5", in [min, max] ms */
    OPT_DOUBLE, /* double, a decimal number in [min, max] */
    OPT_CHOICE, /* int: the value of the choice whose name was typed */
    OPT_CALL,   /* the command's own function reads the argument */
};

/* One name a choice option accepts, and the value it stores. */
struct opt_choice {
    const char *name;
    int value;
};

/* A command's own reader for an OPT_CALL option: store arg into the options struct at dest, or
 * return -1 with the reason (what was expected) in why. */
typedef int opt_call_fn(void *dest, const char *arg, char *why, size_t whylen);

struct opt_spec {
    char short_name;                  /* 'p' for -p, or 0 */
    const char *long_name;            /* "port" for --port */
    enum opt_kind kind;               /* what the value is */
    size_t offset;                    /* where it goes in the options struct (offsetof) */
    const char *arg_name;             /* "PORT", as --help shows it; NULL for a flag */
    const char *help;                 /* the help text; "\n" starts a continuation line */
    double min, max;                  /* the range for numbers (in the stored unit); both 0: any */
    const char *expect;               /* what to say after "expected" when a value is bad; NULL: the
                                         range, "MIN to MAX" */
    const struct opt_choice *choices; /* OPT_CHOICE: the names, ending with {NULL, 0} */
    opt_call_fn *call;                /* OPT_CALL: the reader */
    const char *optional; /* non-NULL: the value may be left out, and this is used instead
                             (the next word is taken as the value only when it does not start
                             with '-', and for a port only when it is a number) */
    size_t seen_offset;   /* with has_seen: a bool set to true when the option was given */
    bool has_seen;
    unsigned variants; /* which variants of the command have it (a bit mask); 0: all */
};

/* A command: its name (for messages), the usage lines above the option list, the table, and
 * lines printed below the list. variant selects the options whose variants mask has that bit
 * (commands that share one table, such as seed and get). */
struct opt_command {
    const char *name;  /* "swarm": messages read "minitorrent swarm: ..." */
    const char *usage; /* "usage: minitorrent swarm [...]\nWhat it does.\n" */
    const struct opt_spec *specs;
    size_t nspecs;
    const char *epilog; /* printed after the options in --help, or NULL */
    unsigned variant;   /* 0: every option */
};

/* The result of opts_parse. */
enum opt_result {
    OPTS_OK = 0,     /* the options are good; run the command */
    OPTS_EXIT = 1,   /* --help or --version was printed: exit 0 */
    OPTS_ERROR = -1, /* a usage error was printed on stderr: exit 2 */
};

/* Reads argv[1..argc-1] (argv[0] is the command's name) against cmd's table into the struct at
 * dest, which the caller has already filled with the defaults. Positional arguments are stored
 * in pos (at most maxpos of them, more is a usage error) and counted in *npos. */
enum opt_result opts_parse(const struct opt_command *cmd, int argc, char **argv, void *dest,
                           char **pos, int maxpos, int *npos);

/* Prints cmd's --help text: the usage lines, every option of the table, -h and --version, then
 * the epilog. */
void opts_print_help(const struct opt_command *cmd, FILE *f);

/* Finds the option of cmd named long_name (for tests and for commands that check one option
 * against another). Returns NULL when there is none. */
const struct opt_spec *opts_find(const struct opt_command *cmd, const char *long_name);

#endif
