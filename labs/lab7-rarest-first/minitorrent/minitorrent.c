/*
 * minitorrent - a small BitTorrent client, tracker and swarm, for learning how P2P works.
 *
 * main() only finds the subcommand and hands over; each command lives in
 * minitorrent/shell/cmd_NAME.c, and the protocol itself in minitorrent/core/.
 *
 * Adding a command: write cmd_NAME.c, declare cmd_NAME in shell/commands.h, then add one line to
 * the commands[] table below (its name, its function and its one-line summary). The usage text
 * is built from the table, so a command is listed exactly when it exists.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis; /* "NAME ARGS" as the usage shows it */
    const char *summary;  /* one line on what it does */
};

static const struct command commands[] = {
    {"create", cmd_create, "create PATH -a URL", "make a .torrent for a file or a folder"},
    {"info", cmd_info, "info FILE.torrent", "show what a .torrent holds"},
    {"tracker", cmd_tracker, "tracker [-p PORT]", "run a tracker (HTTP; UDP too with -u)"},
    {"seed", cmd_seed, "seed FILE.torrent", "share a file you have"},
    {"get", cmd_get, "get FILE.torrent", "download a file from the swarm"},
    {"swarm", cmd_swarm, "swarm [--peers N]", "run a whole swarm on loopback and time it"},
    {"experiment", cmd_experiment, "experiment NAME",
     "measure what one mechanism of BitTorrent buys"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Prints the usage, listing every command in the table. */
static void print_usage(FILE *f)
{
    fputs("usage: minitorrent COMMAND [OPTIONS]\n"
          "A small BitTorrent client that speaks the real protocol (BEP 3, 12, 15, 23, 27).\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-22s %s\n", commands[i].synopsis, commands[i].summary);
    fputs("\n"
          "Run `minitorrent COMMAND --help` for a command's options.\n",
          f);
}

int main(int argc, char **argv)
{
    minitorrent_argv0 = argv[0]; /* for commands that start copies of this program */
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("minitorrent %s\n", MINITORRENT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "minitorrent: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
