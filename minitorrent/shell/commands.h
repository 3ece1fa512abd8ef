/*
 * commands.h - the subcommands of the minitorrent program, one file each (cmd_NAME.c).
 *
 * Each takes the arguments after its own name (argv[0] is the command's name, e.g. "seed"), prints
 * its own --help, reports bad input on stderr, and returns the process exit status: 0 on success,
 * 1 on a failure at run time, 2 on a usage error.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

#define MINITORRENT_VERSION "0.1.0"

int cmd_create(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_tracker(int argc, char **argv);
int cmd_seed(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_swarm(int argc, char **argv);
int cmd_experiment(int argc, char **argv);

/* main() sets this to its argv[0], so a command that starts copies of the program (swarm starts
 * the tracker, the seed and the leechers that way) can find it. */
extern const char *minitorrent_argv0;

#endif
