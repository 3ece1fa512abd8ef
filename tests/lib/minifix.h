/*
 * minifix.h - loopback fixtures for the minitorrent process tests: a scratch folder, random
 * content, a `minitorrent tracker`, a .torrent for the content, and waiting (on the tracker's
 * scrape, never on a sleep) until the seeders it expects have announced.
 */
#ifndef MINIFIX_H
#define MINIFIX_H

#include "testlib.h"

#include <stddef.h>

struct mf {
    char root[64]; /* the test's scratch folder, /tmp/mt-NAME-XXXXXX */
    struct tk_proc tracker;
    char url[128];     /* the tracker's HTTP announce URL */
    char torrent[160]; /* the .torrent made by mf_create_torrent */
};

/* Makes the scratch folder, with the given subfolders (NULL-terminated list). */
void mf_make_root(struct mf *f, const char *name, const char *const subdirs[]);

/* Removes the scratch folder and everything in it. */
void mf_remove_root(struct mf *f);

/* Builds root/rel into out. */
void mf_path(const struct mf *f, char *out, size_t cap, const char *rel);

/* Writes size pseudo-random bytes (from seed) to path. */
void mf_write_random(const char *path, size_t size, unsigned seed);

/* Returns 1 when the two files hold the same bytes. */
int mf_same_file(const char *a, const char *b);

/* Starts `minitorrent tracker` on 127.0.0.1 (re-announce interval 1 s) and fills f->url. */
void mf_start_tracker(struct mf *f);

/* Creates f->torrent for content (a file or folder) with pieces of the given size ("32K"). */
void mf_create_torrent(struct mf *f, const char *content, const char *piece);

/* Waits until the tracker's scrape counts at least n seeders of f->torrent. */
void mf_wait_seeders(struct mf *f, unsigned n, int timeout_ms);

/* Starts `minitorrent seed` of f->torrent from dir, bound to 127.0.0.1, with extra options
 * (NULL-terminated, may be NULL), and returns its port. Does not wait for the scrape. */
int mf_start_seed(struct mf *f, struct tk_proc *p, const char *dir, const char *const extra[]);

/* Starts `minitorrent get` of f->torrent into dir with extra options (NULL-terminated, may be
 * NULL), stderr merged into its output, and returns its listening port. */
int mf_start_get(struct mf *f, struct tk_proc *p, const char *dir, const char *const extra[]);

/* Reads the child's output until a line containing `what` appears; returns a pointer to it, or
 * NULL at end of output or after timeout_ms. Output beyond the buffer's size is dropped from
 * the front, so a long-running child with status lines never blocks on a full pipe. */
const char *mf_wait_output(struct tk_proc *p, const char *what, int timeout_ms);

/* Returns the last 3000 characters of a child's output (all of it when shorter), for failure
 * messages: Check refuses messages longer than about 4 KiB. */
const char *mf_tail(const struct tk_proc *p);

/* Stops the tracker (SIGTERM) and checks it exited cleanly. */
void mf_stop_tracker(struct mf *f);

#endif
