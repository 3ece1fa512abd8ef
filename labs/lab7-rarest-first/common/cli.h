/*
 * cli.h - what every server's main() shares: its options, and stopping on SIGINT or SIGTERM.
 */
#ifndef CLI_H
#define CLI_H

#include <signal.h>
#include <sys/socket.h>

struct server_opts {
    const char *port; /* -p PORT; "0" asks the system for any free port */
    const char *bind; /* -b ADDR; NULL means every interface */
    int verbose;      /* -v: print each peer's address */
    long max_clients; /* --max-clients N, only where the program offers it */
    long idle_secs;   /* --idle-secs S: drop a client silent that long (with --max-clients) */
};

/* Parses a server's command line. usage is printed for --help (to stdout, returning 1) and after a
 * bad option (to stderr, returning -1); 0 means the options are good. default_max_clients is the
 * default for --max-clients, and 0 means the program has no such option. A program with
 * --max-clients also has --idle-secs (default 60): a cap on clients needs a time out, or idle
 * clients keep the slots for ever. */
int cli_server_opts(int argc, char **argv, const char *usage, long default_max_clients,
                    struct server_opts *o);

/* Returns 1 when s is a decimal port number from 0 to 65535. */
int cli_valid_port(const char *s);

/* Parses a decimal number in [min, max] into *out. Returns 0, or -1 when s is not such a number. */
int cli_parse_long(const char *s, long min, long max, long *out);

/* Set to 1 by the SIGINT/SIGTERM handler that cli_catch_stop_signals() installs. */
extern volatile sig_atomic_t cli_stop_requested;

/* Installs a handler for SIGINT and SIGTERM that sets cli_stop_requested and writes one byte into
 * a pipe of its own (the "self-pipe"). Checking the flag and then calling accept() has a gap: a
 * signal that lands between the two sets the flag too late for the check and too early to
 * interrupt accept(), which then waits for the next client. The byte in the pipe closes the gap:
 * cli_wait_readable() waits on the pipe and the socket together, and the byte, once written,
 * stays there for every later wait to see. The handler is installed without SA_RESTART, so a
 * blocking call elsewhere (a read in a session) still fails with EINTR. Returns 0, or -1 when
 * the pipe cannot be made (the waits then check the flag ten times a second instead). */
int cli_catch_stop_signals(void);

/* Waits until fd is readable or a stop is requested, whichever comes first. A stop requested at
 * any moment since cli_catch_stop_signals(), even just before the call, ends the wait at once.
 * Returns 1 when fd is readable, 0 when a stop has been requested, -1 on an error (errno set). */
int cli_wait_readable(int fd);

/* Accepts the next connection on the listening socket lfd, waiting with cli_wait_readable() so
 * that a stop request always ends the wait. lfd is made non-blocking (a client that resets its
 * connection between poll() and accept() must not leave accept() blocked); the returned socket is
 * blocking. A client that left before it was accepted is skipped. Returns the connected socket,
 * or -1: with cli_stop_requested set when a stop was requested, with errno set on an error. */
int cli_accept(int lfd, struct sockaddr *peer, socklen_t *peerlen);

/* Prints "listening on PORT" for the socket fd and flushes stdout, so a test or script waiting for
 * that line sees it at once even when stdout is a pipe. Returns 0 or -1. */
int cli_announce_listening(int fd);

#endif
