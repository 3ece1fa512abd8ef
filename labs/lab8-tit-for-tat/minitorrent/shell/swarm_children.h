/*
 * swarm_children.h - the child processes of `minitorrent swarm`: start them, read what they
 * print, and stop them, always by their PID.
 *
 * A swarm on one machine is several programs running at once: a tracker, a seed and N leechers,
 * each a copy of minitorrent started with fork + exec. Whatever its role, every child is handled
 * the same way, and that is what this module holds:
 *
 *   - a folder for the run (a new temporary one each time) that holds every child's stderr log,
 *     TMP/NAME.log, and the files the children work on;
 *   - starting: stdin from /dev/null, stdout into a pipe the parent reads, stderr into the log
 *     (a child's complaints would tear the live table apart, so they are kept and shown only if
 *     the child fails), and a process group of its own, so the terminal's Ctrl-C reaches only
 *     the parent, which then stops the children in order;
 *   - reading: the pipe gives bytes in whatever pieces the kernel hands over, so they are cut
 *     into whole lines; the first "listening on PORT" line gives the child's port, and every line
 *     goes to a function of the caller (cmd_swarm.c turns status lines into the live table);
 *   - stopping: SIGTERM first, so a peer can still say goodbye to the tracker, then SIGKILL after
 *     a deadline, and waitpid every time, so no zombie process is left behind.
 *
 * Nothing here sleeps to synchronise. The parent waits in poll() on the pipes: a pipe becomes
 * readable when its child prints and reaches end of file when the child exits.
 *
 * Between fork and exec the child makes only async-signal-safe calls (a failed exec is reported
 * into its log with write(2), from a message the parent formatted before the fork), so starting
 * children is safe even from a process with other threads. Nothing here prints, except
 * child_show_log_tail (where it is told) and a child whose exec failed (into its own log).
 */
#ifndef SWARM_CHILDREN_H
#define SWARM_CHILDREN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* One child process. Start from {.out_fd = -1} and a name; child_start fills in the rest. */
struct child {
    int role;       /* the caller's label for it (cmd_swarm.c: tracker, seed, leecher...) */
    char name[16];  /* "tracker", "seed", "p3"; also names its log, TMP/NAME.log */
    pid_t pid;      /* 0 when not running */
    int out_fd;     /* its stdout, or -1 after end of file */
    char buf[8192]; /* a partial line */
    size_t len;
    int port;          /* from its "listening on PORT" line; 0 before */
    bool exited;       /* reaped by waitpid */
    int wstatus;       /* how it ended, once exited (see child_exit_text) */
    bool killed_by_us; /* stopped with child_kill on purpose, so its end is not a failure */
};

/* What the children of one run share: their folder. */
struct children {
    char tmp[1024]; /* the run's temporary folder: the children's logs and working files */
};

/* Makes a new empty folder $TMPDIR/minitorrent-swarm.XXXXXX (or under /tmp) for the children.
 * Returns 0, or -1 with errno set. */
int children_make_folder(struct children *cs);

/* Removes the children's folder and everything in it. Returns 0, or -1 if something stayed. */
int children_remove_folder(const struct children *cs);

/* Starts the program at path with argv as a child, as described above. Returns 0, or -1 with a
 * message in err. */
int child_start(const struct children *cs, struct child *ch, const char *path, char *const argv[],
                char *err, size_t errlen);

/* What the caller does with each line a child prints (without its newline). */
typedef void child_line_fn(void *ctx, struct child *ch, const char *line);

/* Reads whatever ch has written, notes its port from a "listening on PORT" line, and hands each
 * complete line to fn with ctx. Call it when poll() says ch->out_fd is readable. Returns false at
 * end of file (the child closed its stdout, normally by exiting); ch->out_fd is then -1. */
bool child_read(struct child *ch, child_line_fn *fn, void *ctx);

/* Waits until ch prints "listening on PORT", handing every line it prints meanwhile to fn.
 * Returns 0, or -1 when ch exits, Ctrl-C comes (cli_stop_requested), or timeout_s passes. */
int child_wait_listening(struct child *ch, double timeout_s, child_line_fn *fn, void *ctx);

/* Reaps ch if it has exited, without blocking. Returns true when it is gone. */
bool child_reap(struct child *ch);

/* Closes the parent's end of ch's stdout pipe, if it is still open. */
void child_close(struct child *ch);

/* Kills ch at once with SIGKILL, by its PID, and reaps it; marks it killed_by_us. */
void child_kill(struct child *ch);

/* Stops the n children in list: SIGTERM to each still running, then up to grace_s seconds for
 * all of them to exit, then SIGKILL for the ones left, always by PID. Every one is reaped and its
 * pipe closed when this returns. */
void children_stop(struct child *list, size_t n, double grace_s);

/* Describes how a reaped child ended, in buf: "exit status 1", "killed by signal 9". */
const char *child_exit_text(const struct child *ch, char *buf, size_t cap);

/* Prints the last lines of ch's stderr log to out, where it said why it failed. */
void child_show_log_tail(const struct children *cs, const struct child *ch, FILE *out);

#endif
