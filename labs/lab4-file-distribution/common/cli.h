/*
 * cli.h - what every server's main() shares: its options, and stopping on SIGINT or SIGTERM.
 */
#ifndef CLI_H
#define CLI_H

#include <signal.h>

struct server_opts {
    const char *port; /* -p PORT; "0" asks the system for any free port */
    const char *bind; /* -b ADDR; NULL means every interface */
    int verbose;      /* -v: print each peer's address */
    long max_clients; /* --max-clients N, only where the program offers it */
};

/* Parses a server's command line. usage is printed for --help (to stdout, returning 1) and after a
 * bad option (to stderr, returning -1); 0 means the options are good. default_max_clients is the
 * default for --max-clients, and 0 means the program has no such option. */
int cli_server_opts(int argc, char **argv, const char *usage, long default_max_clients,
                    struct server_opts *o);

/* Returns 1 when s is a decimal port number from 0 to 65535. */
int cli_valid_port(const char *s);

/* Parses a decimal number in [min, max] into *out. Returns 0, or -1 when s is not such a number. */
int cli_parse_long(const char *s, long min, long max, long *out);

/* Set to 1 by the SIGINT/SIGTERM handler that cli_catch_stop_signals() installs. */
extern volatile sig_atomic_t cli_stop_requested;

/* Installs a handler for SIGINT and SIGTERM that only sets cli_stop_requested. It is installed
 * without SA_RESTART on purpose: a blocking accept() or recvfrom() then fails with EINTR, and the
 * server loop sees the flag and shuts down cleanly instead of dying mid-reply. */
void cli_catch_stop_signals(void);

/* Prints "listening on PORT" for the socket fd and flushes stdout, so a test or script waiting for
 * that line sees it at once even when stdout is a pipe. Returns 0 or -1. */
int cli_announce_listening(int fd);

#endif
