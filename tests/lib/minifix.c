/*
 * minifix.c - loopback fixtures for the minitorrent process tests; see minifix.h.
 */
#include "minifix.h"
#include "announce.h"
#include "evilpeer.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void mf_make_root(struct mf *f, const char *name, const char *const subdirs[])
{
    snprintf(f->root, sizeof f->root, "/tmp/mt-%s-XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(f->root));
    for (size_t i = 0; subdirs != NULL && subdirs[i] != NULL; i++) {
        char path[256];
        mf_path(f, path, sizeof path, subdirs[i]);
        ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s failed", path);
    }
}

void mf_remove_root(struct mf *f)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
    ck_assert_int_eq(system(cmd), 0);
}

void mf_path(const struct mf *f, char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", f->root, rel);
}

void mf_write_random(const char *path, size_t size, unsigned seed)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "cannot create %s", path);
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 16) & 0xff, fp);
    }
    fclose(fp);
}

int mf_same_file(const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

void mf_start_tracker(struct mf *f)
{
    char *argv[] = {"minitorrent", "tracker",    "-p", "0", "-b",
                    "127.0.0.1",   "--interval", "1",  NULL};
    ck_assert_int_eq(tk_spawn(&f->tracker, argv), 0);
    int port = tk_wait_listening(&f->tracker, ep_scaled_ms(10000));
    ck_assert_msg(port > 0, "the tracker did not start: %s", mf_tail(&f->tracker));
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/announce", port);
}

void mf_create_torrent(struct mf *f, const char *content, const char *piece)
{
    snprintf(f->torrent, sizeof f->torrent, "%s/t.torrent", f->root);
    char *argv[] = {"minitorrent", "create", (char *)content, "-a", f->url, "-l", (char *)piece,
                    "--private",   "-o",     f->torrent,      NULL};
    static struct tk_proc tool;
    tool.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&tool, argv), 0);
    tk_write(&tool, NULL);
    int st = tk_wait_exit(&tool, ep_scaled_ms(60000));
    ck_assert_msg(st == 0, "create exited with %d: %s", st, mf_tail(&tool));
}

void mf_wait_seeders(struct mf *f, unsigned n, int timeout_ms)
{
    struct ep e;
    ck_assert_int_eq(ep_load_torrent(&e, f->torrent, 0), 0);
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        struct tracker_scrape_counts c = {0, 0, 0};
        char err[256];
        if (announce_scrape(f->url, e.info_hash, 2000, &c, err, sizeof err) == 0 && c.complete >= n)
            return;
        ck_assert_msg(tk_now_ms() < deadline, "only %u of %u seeders showed up in the scrape",
                      (unsigned)c.complete, n);
        /* Ask again soon: a seeder announces right after it starts listening. */
        poll(NULL, 0, 20);
    }
}

/* Starts `minitorrent CMD f->torrent -d dir -b 127.0.0.1 EXTRA...` and returns its port. */
static int start_client(struct mf *f, struct tk_proc *p, const char *cmd, const char *dir,
                        const char *const extra[])
{
    char *argv[48];
    int n = 0;
    argv[n++] = "minitorrent";
    argv[n++] = (char *)cmd;
    argv[n++] = f->torrent;
    argv[n++] = "-d";
    argv[n++] = (char *)dir;
    argv[n++] = "-b";
    argv[n++] = "127.0.0.1";
    /* A later -b in extra overrides this one (getopt keeps the last). */
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 47; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    p->merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(p, argv), 0);
    int port = tk_wait_listening(p, ep_scaled_ms(30000));
    ck_assert_msg(port > 0, "minitorrent %s did not start: %s", cmd, mf_tail(p));
    return port;
}

int mf_start_seed(struct mf *f, struct tk_proc *p, const char *dir, const char *const extra[])
{
    return start_client(f, p, "seed", dir, extra);
}

int mf_start_get(struct mf *f, struct tk_proc *p, const char *dir, const char *const extra[])
{
    return start_client(f, p, "get", dir, extra);
}

const char *mf_wait_output(struct tk_proc *p, const char *what, int timeout_ms)
{
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        const char *hit = strstr(p->out, what);
        if (hit != NULL && strchr(hit, '\n') != NULL)
            return hit;
        long long left = deadline - tk_now_ms();
        if (left <= 0 || tk_wait_readable(p->out_fd, (int)left) != 1)
            return NULL;
        if (p->out_len + 4096 > sizeof p->out) {
            /* Keep the last half: enough for any line we look for. */
            size_t keep = sizeof p->out / 2;
            memmove(p->out, p->out + p->out_len - keep, keep);
            p->out_len = keep;
            p->out[keep] = '\0';
        }
        ssize_t r = read(p->out_fd, p->out + p->out_len, sizeof p->out - 1 - p->out_len);
        if (r <= 0)
            return NULL;
        p->out_len += (size_t)r;
        p->out[p->out_len] = '\0';
    }
}

void mf_stop_tracker(struct mf *f)
{
    ck_assert_int_eq(tk_stop(&f->tracker, ep_scaled_ms(10000)), 0);
}

const char *mf_tail(const struct tk_proc *p)
{
    return p->out_len > 3000 ? p->out + p->out_len - 3000 : p->out;
}
