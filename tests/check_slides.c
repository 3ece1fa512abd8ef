/*
 * check_slides.c - the lecture decks: generated from the sources we test, and fit to project.
 *
 * Without a browser:
 * - the checked-in decks are exactly what the generator makes from slides/src today, so no slide
 *   shows code that differs from the code the other suites run;
 * - deck 6's choking timeline is exactly what tools/slides/chokeline draws from a run of today's
 *   choker, so the figure never shows behaviour the code has lost;
 * - deck 4's distribution-time figure and table are exactly what tools/slides/distplot draws
 *   from the checked-in measurement, with no text under 18 px, and distplot refuses a
 *   measurement with a D below its lower bound;
 * - a directive that names a missing file, function or line stops the build with FILE:LINE, and
 *   so do an excerpt with no highlighted line, a code slide with no takeaway, and a bencoded
 *   example that the toolkit's own decoder or metainfo parser rejects;
 * - an excerpt keeps its comment and loses the lab markers.
 *
 * In headless Chromium (skipped, with the reason, when no Chromium is installed), each deck is
 * opened with ?selftest, which makes the deck's own script check itself and write the findings
 * into the page (tools/slides/selftest.js); --dump-dom hands us that page. Then two screenshots
 * per deck, slide 1 and a middle slide, are decoded (tests/lib/tkpng.c) and must show a white
 * slide with dark text on it, and differ from each other. The browser runs happen once, in an
 * unchecked fixture, two at a time; the tests then read their results.
 *
 * Two more tests prove the checks can fail: a deck broken on purpose (an overflowing box, a
 * script error, a key handler that swallows the right arrow) must fail its self-test, and a
 * blank page must be called blank.
 */
#include "testlib.h"
#include "tkpng.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLIDEGEN "build/tools/slidegen"
#define CHOKELINE "build/tools/chokeline"
#define TIMELINE "slides/figures/choking-timeline.svg"
#define MAX_DECKS 32
#define JOB_TIMEOUT_MS 90000

/* ===================================================================== running programs ==== */

/* One child process whose standard output we collect. */
struct job {
    pid_t pid;
    int out_fd;
    char *out;
    size_t len, cap;
    int status; /* as tk_stop reports it: exit status, 128 + signal, or -1 on time out */
    int running;
};

/* Starts argv with stdout on a pipe; stderr goes to the same pipe when errpath is NULL, else to
 * that file. The child leads its own process group, so a time out can stop all of Chromium's
 * helper processes at once. Returns 0 or -1. */
static int job_start(struct job *j, char *const argv[], const char *errpath)
{
    memset(j, 0, sizeof *j);
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(p[1], 1);
        if (errpath == NULL) {
            dup2(p[1], 2);
        } else {
            int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (e >= 0)
                dup2(e, 2);
        }
        close(p[0]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(p[1]);
    j->pid = pid;
    j->out_fd = p[0];
    j->running = 1;
    return 0;
}

/* Reads the jobs' output until every one has closed it and exited, or until timeout_ms passes;
 * jobs still running then are killed with their whole process group. End of output is the event
 * we wait for, so nothing here sleeps. */
static void jobs_wait(struct job *jobs, size_t n, int timeout_ms)
{
    long long deadline = tk_now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd[8];
        size_t idx[8], np = 0;
        for (size_t i = 0; i < n && np < 8; i++) {
            if (jobs[i].running) {
                pfd[np].fd = jobs[i].out_fd;
                pfd[np].events = POLLIN;
                idx[np++] = i;
            }
        }
        if (np == 0)
            return;
        long long left = deadline - tk_now_ms();
        if (left <= 0) {
            for (size_t k = 0; k < np; k++) {
                struct job *j = &jobs[idx[k]];
                kill(-j->pid, SIGKILL);
                waitpid(j->pid, NULL, 0);
                close(j->out_fd);
                j->running = 0;
                j->status = -1;
            }
            return;
        }
        int r = poll(pfd, np, (int)left);
        if (r < 0 && errno != EINTR)
            return;
        for (size_t k = 0; r > 0 && k < np; k++) {
            if (pfd[k].revents == 0)
                continue;
            struct job *j = &jobs[idx[k]];
            if (j->len + 65536 + 1 > j->cap) {
                size_t cap = j->cap ? j->cap * 2 : 131072;
                char *p = realloc(j->out, cap);
                if (p == NULL)
                    continue;
                j->out = p;
                j->cap = cap;
            }
            ssize_t got = read(j->out_fd, j->out + j->len, 65536);
            if (got > 0) {
                j->len += (size_t)got;
                j->out[j->len] = '\0';
                continue;
            }
            if (got < 0 && errno == EINTR)
                continue;
            /* End of output: the program has exited (or is about to). Its helpers, if any
             * outlived it, go with its process group. */
            close(j->out_fd);
            int st = 0;
            waitpid(j->pid, &st, 0);
            kill(-j->pid, SIGKILL);
            j->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            j->running = 0;
            if (j->out == NULL) {
                j->out = calloc(1, 1);
                j->cap = 1;
            }
        }
    }
}

/* Runs one program to completion and returns its status; *out gets its output (caller frees). */
static int run(char *const argv[], char **out)
{
    struct job j;
    if (job_start(&j, argv, NULL) < 0)
        return -1;
    jobs_wait(&j, 1, JOB_TIMEOUT_MS);
    *out = j.out ? j.out : calloc(1, 1);
    return j.status;
}

/* Removes a directory tree we made, the simple way. */
static void remove_tree(const char *dir)
{
    char *argv[] = {"rm", "-rf", (char *)dir, NULL};
    char *out = NULL;
    run(argv, &out);
    free(out);
}

static char *read_text(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, len = 0, n;
    char *s = malloc(cap);
    while (s != NULL && (n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 4096) {
            char *p = realloc(s, cap * 2);
            if (p == NULL) {
                free(s);
                s = NULL;
                break;
            }
            s = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (s != NULL)
        s[len] = '\0';
    if (lenp)
        *lenp = len;
    return s;
}

static int write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = strlen(s);
    int ok = fwrite(s, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* ===================================================================== the decks =========== */

static char deck_path[MAX_DECKS][256]; /* slides/NAME.html */
static int deck_slides[MAX_DECKS];
static int ndecks;

/* Lists the decks the sources say exist: one slides/NAME.html per slides/src/NAME.md. */
static void list_decks(void)
{
    glob_t g;
    ndecks = 0;
    if (glob("slides/src/*.md", 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc && ndecks < MAX_DECKS; i++) {
        const char *base = g.gl_pathv[i] + strlen("slides/src/");
        snprintf(deck_path[ndecks], sizeof deck_path[0], "slides/%.*s.html",
                 (int)(strlen(base) - 3), base);
        size_t len;
        char *html = read_text(deck_path[ndecks], &len);
        int n = 0;
        for (const char *p = html; p && (p = strstr(p, "<section class=\"slide")) != NULL; p++)
            n++;
        free(html);
        deck_slides[ndecks] = n;
        ndecks++;
    }
    globfree(&g);
}

/* Finds Chromium: $CHROMIUM, else the usual names on PATH. Returns NULL when there is none. */
static const char *find_chromium(void)
{
    static char found[4096];
    const char *env = getenv("CHROMIUM");
    if (env != NULL && *env != '\0')
        return access(env, X_OK) == 0 ? env : NULL;
    const char *names[] = {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"};
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/bin:/bin";
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        for (const char *p = path; *p;) {
            const char *colon = strchr(p, ':');
            size_t len = colon ? (size_t)(colon - p) : strlen(p);
            snprintf(found, sizeof found, "%.*s/%s", (int)len, p, names[k]);
            if (len > 0 && access(found, X_OK) == 0)
                return found;
            p += len + (colon ? 1 : 0);
        }
    }
    return NULL;
}

/* Fills argv for one headless Chromium run with its own fresh profile directory; mode is
 * "--dump-dom" or "--screenshot=PATH". The flags keep it from reaching for the network. */
static void chromium_argv(char *argv[16], char bufs[4][4200], const char *chromium,
                          const char *profile, const char *mode, const char *url)
{
    int n = 0;
    snprintf(bufs[0], sizeof bufs[0], "%s", chromium);
    snprintf(bufs[1], sizeof bufs[1], "--user-data-dir=%s", profile);
    snprintf(bufs[2], sizeof bufs[2], "%s", mode);
    snprintf(bufs[3], sizeof bufs[3], "%s", url);
    argv[n++] = bufs[0];
    argv[n++] = "--headless";
    argv[n++] = "--no-sandbox";
    argv[n++] = "--disable-gpu";
    argv[n++] = "--disable-quic";
    argv[n++] = "--no-first-run";
    argv[n++] = "--disable-background-networking";
    argv[n++] = "--disable-component-update";
    argv[n++] = "--disable-sync";
    argv[n++] = "--disable-dev-shm-usage";
    argv[n++] = "--window-size=1280,720";
    argv[n++] = bufs[1];
    argv[n++] = bufs[2];
    argv[n++] = bufs[3];
    argv[n] = NULL;
}

/* What the fixture learned in the browser, per deck. */
static const char *chromium;
static char tmpdir[256];
static char *selftest_out[MAX_DECKS];
static int selftest_status[MAX_DECKS];
static char shot_path[MAX_DECKS][2][512];
static int shot_status[MAX_DECKS][2];
static char cwd[4096];

struct browser_task {
    char mode[600];
    char url[4300];
    char profile[512];
    char errpath[512];
    char **out;
    int *status;
};

/* Runs the browser tasks two at a time (the machines have two cores). */
static void run_tasks(struct browser_task *t, size_t n)
{
    size_t next = 0;
    while (next < n) {
        struct job jobs[2];
        struct browser_task *mine[2];
        size_t nj = 0;
        char bufs[2][4][4200];
        while (nj < 2 && next < n) {
            char *argv[16];
            mkdir(t[next].profile, 0700);
            chromium_argv(argv, bufs[nj], chromium, t[next].profile, t[next].mode, t[next].url);
            if (job_start(&jobs[nj], argv, t[next].errpath) < 0) {
                *t[next].status = -2;
                next++;
                continue;
            }
            mine[nj++] = &t[next++];
        }
        jobs_wait(jobs, nj, JOB_TIMEOUT_MS);
        for (size_t k = 0; k < nj; k++) {
            *mine[k]->status = jobs[k].status;
            if (mine[k]->out != NULL)
                *mine[k]->out = jobs[k].out;
            else
                free(jobs[k].out);
        }
    }
}

/* Says whether CHECK_SLIDES_BROWSER=0 asks to leave the browser out: the decks do not change
 * with the sanitizer variant, so CI can run the browser half once instead of three times. */
static int browser_disabled(void)
{
    const char *v = getenv("CHECK_SLIDES_BROWSER");
    return v != NULL && strcmp(v, "0") == 0;
}

/* The unchecked fixture: opens every deck in Chromium once, before the tests read the results. */
static void browser_setup(void)
{
    list_decks();
    if (browser_disabled())
        return;
    chromium = find_chromium();
    if (chromium == NULL || ndecks == 0)
        return;
    if (getcwd(cwd, sizeof cwd) == NULL)
        return;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/check_slides.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        tmpdir[0] = '\0';
        return;
    }
    struct browser_task *t = calloc((size_t)ndecks * 3, sizeof *t);
    if (t == NULL)
        return;
    size_t n = 0;
    for (int d = 0; d < ndecks; d++) {
        int mid = (deck_slides[d] + 1) / 2;
        if (mid < 2 && deck_slides[d] > 1)
            mid = 2;
        for (int k = 0; k < 3; k++, n++) {
            ck_assert(snprintf(t[n].profile, sizeof t[n].profile, "%s/profile-%d-%d", tmpdir, d,
                               k) < (int)sizeof t[n].profile);
            ck_assert(snprintf(t[n].errpath, sizeof t[n].errpath, "%s/stderr-%d-%d.txt", tmpdir, d,
                               k) < (int)sizeof t[n].errpath);
            if (k == 0) {
                ck_assert(snprintf(t[n].mode, sizeof t[n].mode, "--dump-dom") <
                          (int)sizeof t[n].mode);
                ck_assert(snprintf(t[n].url, sizeof t[n].url, "file://%s/%s?selftest", cwd,
                                   deck_path[d]) < (int)sizeof t[n].url);
                t[n].out = &selftest_out[d];
                t[n].status = &selftest_status[d];
            } else {
                ck_assert(snprintf(shot_path[d][k - 1], sizeof shot_path[0][0],
                                   "%s/deck-%d-slide-%d.png", tmpdir, d,
                                   k == 1 ? 1 : mid) < (int)sizeof shot_path[d][k - 1]);
                ck_assert(snprintf(t[n].mode, sizeof t[n].mode, "--screenshot=%s",
                                   shot_path[d][k - 1]) < (int)sizeof t[n].mode);
                ck_assert(snprintf(t[n].url, sizeof t[n].url, "file://%s/%s#%d", cwd, deck_path[d],
                                   k == 1 ? 1 : mid) < (int)sizeof t[n].url);
                t[n].status = &shot_status[d][k - 1];
            }
        }
    }
    run_tasks(t, n);
    free(t);
}

static void browser_teardown(void)
{
    if (tmpdir[0] != '\0' && getenv("CHECK_SLIDES_KEEP") == NULL)
        remove_tree(tmpdir);
    for (int d = 0; d < ndecks; d++)
        free(selftest_out[d]);
}

/* Returns the self-test block of a dumped page (from "SELFTEST-BEGIN"), or NULL. */
static const char *selftest_block(const char *dom)
{
    return dom ? strstr(dom, "SELFTEST-BEGIN") : NULL;
}

/* Reads "KEY N" from a self-test block; -1 when the line is missing. */
static long selftest_number(const char *block, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s ", key);
    const char *p = block ? strstr(block, pat) : NULL;
    return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/* Collects the FAIL lines of a block that contain any of the words (NULL: all of them). */
static void selftest_failures(const char *block, const char *const *words, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = block; p && (p = strstr(p, "\nFAIL ")) != NULL; p++) {
        const char *end = strchr(p + 1, '\n');
        size_t len = end ? (size_t)(end - p - 1) : strlen(p + 1);
        int match = words == NULL;
        for (size_t k = 0; words && words[k]; k++) {
            const char *w = strstr(p + 1, words[k]);
            if (w != NULL && w < p + 1 + len)
                match = 1;
        }
        if (match && strlen(out) + len + 3 < cap) {
            strncat(out, p + 1, len);
            strcat(out, "\n");
        }
    }
}

/* Makes sure the fixture could run the browser; otherwise the test skips or fails with why. */
#define NEED_BROWSER()                                                                             \
    do {                                                                                           \
        if (browser_disabled())                                                                    \
            tk_skip("CHECK_SLIDES_BROWSER=0: the browser tests were turned off");                  \
        if (chromium == NULL)                                                                      \
            tk_skip("no Chromium installed (apt-get install chromium, or set CHROMIUM)");          \
        ck_assert_msg(ndecks > 0, "no decks: slides/src/*.md matched nothing");                    \
    } while (0)

/* Checks deck d's self-test ran at all, and returns its block. */
static const char *deck_block(int d)
{
    const char *b = selftest_block(selftest_out[d]);
    ck_assert_msg(b != NULL,
                  "%s: headless Chromium (status %d) printed no self-test result; is the deck's "
                  "script broken? stderr is in %s/stderr-%d-0.txt (set CHECK_SLIDES_KEEP=1)",
                  deck_path[d], selftest_status[d], tmpdir, d);
    return b;
}

/* ===================================================================== screenshots ========= */

/* Says what is wrong with a screenshot, or returns 0 when it shows a slide: mostly the white of
 * a slide (so our page rendered, not an error page or the dark window behind the deck), and at
 * least 0.3 % dark "ink" pixels (so there is text on it). A blank slide has no ink at all. */
static int screenshot_problem(const char *path, struct tk_image *img, char *why, size_t cap)
{
    char err[160];
    if (tk_png_read(path, img, err, sizeof err) < 0) {
        snprintf(why, cap, "%s: %s", path, err);
        return -1;
    }
    if (img->width != 1280 || img->height != 720) {
        snprintf(why, cap, "%s is %ux%u, not 1280x720", path, img->width, img->height);
        return -1;
    }
    size_t total = (size_t)img->width * img->height, white = 0, ink = 0;
    for (size_t i = 0; i < total; i++) {
        const unsigned char *p = img->rgba + i * 4;
        if (p[0] >= 250 && p[1] >= 250 && p[2] >= 250)
            white++;
        if (p[0] * 299 + p[1] * 587 + p[2] * 114 < 110 * 1000)
            ink++;
    }
    if (white < total / 4) {
        snprintf(why, cap, "%s: only %zu%% of it is slide white; the deck did not render", path,
                 white * 100 / total);
        return -1;
    }
    if (ink * 1000 < total * 3) {
        snprintf(why, cap, "%s looks blank: %zu dark pixels of %zu", path, ink, total);
        return -1;
    }
    return 0;
}

/* ===================================================================== generator tests ===== */

/* Runs slidegen on the given sources into a fresh directory; returns its status. */
static int slidegen(const char *outdir, const char *const *sources, size_t n, char **out)
{
    char *argv[32];
    size_t k = 0;
    argv[k++] = SLIDEGEN;
    argv[k++] = "--out";
    argv[k++] = (char *)outdir;
    for (size_t i = 0; i < n && k < 31; i++)
        argv[k++] = (char *)sources[i];
    argv[k] = NULL;
    return run(argv, out);
}

static void need_slidegen(void)
{
    ck_assert_msg(access(SLIDEGEN, X_OK) == 0,
                  "%s is missing; `make check` builds it (or run `make slides`)", SLIDEGEN);
}

START_TEST(slides_checked_in_decks_match_their_sources)
{
    need_slidegen();
    list_decks();
    ck_assert_msg(ndecks > 0, "no decks: slides/src/*.md matched nothing");
    char dir[] = "/tmp/check_slides_gen.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    glob_t g;
    ck_assert_int_eq(glob("slides/src/*.md", 0, NULL, &g), 0);
    char *out;
    int st = slidegen(dir, (const char *const *)g.gl_pathv, g.gl_pathc, &out);
    ck_assert_msg(st == 0, "slidegen failed on the decks:\n%s", out);
    free(out);
    char stale[2048] = "";
    for (size_t i = 0; i <= g.gl_pathc; i++) {
        char fresh[512], kept[512];
        if (i == g.gl_pathc) {
            snprintf(fresh, sizeof fresh, "%s/index.html", dir);
            snprintf(kept, sizeof kept, "slides/index.html");
        } else {
            const char *base = g.gl_pathv[i] + strlen("slides/src/");
            int len = (int)strlen(base) - 3;
            snprintf(fresh, sizeof fresh, "%s/%.*s.html", dir, len, base);
            snprintf(kept, sizeof kept, "slides/%.*s.html", len, base);
        }
        size_t la, lb;
        char *a = read_text(fresh, &la), *b = read_text(kept, &lb);
        if (a == NULL || b == NULL || la != lb || memcmp(a, b, la) != 0)
            snprintf(stale + strlen(stale), sizeof stale - strlen(stale), " %s", kept);
        free(a);
        free(b);
    }
    globfree(&g);
    remove_tree(dir);
    ck_assert_msg(stale[0] == '\0',
                  "these decks differ from what their sources and the code they quote make "
                  "now:%s. Run `make slides` and commit slides/",
                  stale);
}
END_TEST

START_TEST(slides_choking_timeline_matches_the_choker)
{
    ck_assert_msg(access(CHOKELINE, X_OK) == 0,
                  "%s is missing; `make check` builds it (or run `make slides`)", CHOKELINE);
    char *argv[] = {CHOKELINE, NULL};
    struct job j;
    ck_assert_int_eq(job_start(&j, argv, "/dev/null"), 0);
    jobs_wait(&j, 1, JOB_TIMEOUT_MS);
    ck_assert_msg(j.status == 0, "%s exited with %d", CHOKELINE, j.status);
    size_t len;
    char *kept = read_text(TIMELINE, &len);
    ck_assert_msg(kept != NULL, "%s is missing; run `make slides` and commit it", TIMELINE);
    ck_assert_msg(j.out != NULL && len == j.len && memcmp(kept, j.out, len) == 0,
                  "%s differs from what %s draws from the choker now. Run `make slides` and "
                  "commit slides/",
                  TIMELINE, CHOKELINE);
    ck_assert_msg(strstr(kept, "<svg") != NULL && strstr(kept, "class=\"tl-opt\"") != NULL,
                  "%s shows no optimistic unchoke", TIMELINE);
    free(kept);
    free(j.out);
}
END_TEST

#define DISTPLOT "build/tools/distplot"

/* Runs distplot on a measurement into dir; returns its exit status and its output in *out. */
static int distplot(const char *json, const char *dir, char **out)
{
    ck_assert_msg(access(DISTPLOT, X_OK) == 0,
                  "%s is missing; `make check` builds it (or run `make slides`)", DISTPLOT);
    char *argv[] = {DISTPLOT, (char *)json, (char *)dir, NULL};
    struct job j;
    ck_assert_int_eq(job_start(&j, argv, NULL), 0);
    jobs_wait(&j, 1, JOB_TIMEOUT_MS);
    *out = j.out != NULL ? j.out : strdup("");
    return j.status;
}

START_TEST(slides_distribution_figure_matches_the_measurement)
{
    char dir[] = "/tmp/check_slides_plot.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *out;
    int st = distplot("slides/figures/distribution-time.json", dir, &out);
    ck_assert_msg(st == 0, "distplot failed on the checked-in measurement:\n%s", out);
    free(out);
    static const char *const files[] = {"distribution-time-p2p.svg", "distribution-time-cs.svg",
                                        "distribution-time.txt"};
    for (size_t i = 0; i < 3; i++) {
        char fresh[512], kept[512];
        snprintf(fresh, sizeof fresh, "%s/%s", dir, files[i]);
        snprintf(kept, sizeof kept, "slides/figures/%s", files[i]);
        size_t la, lb;
        char *a = read_text(fresh, &la), *b = read_text(kept, &lb);
        ck_assert_msg(a != NULL && b != NULL && la == lb && memcmp(a, b, la) == 0,
                      "%s differs from what distplot draws from the measurement now. Run `make "
                      "slides` and commit slides/",
                      kept);
        /* Readable on a projector: no text below 18 px, and a ratio on every measured point. */
        if (strstr(files[i], ".svg") != NULL) {
            for (const char *p = strstr(b, "font-size=\""); p != NULL;
                 p = strstr(p + 1, "font-size=\""))
                ck_assert_msg(atof(p + 11) >= 18, "%s has text of %g px", kept, atof(p + 11));
            ck_assert_msg(strstr(b, "\xc3\x97"
                                    "1.") != NULL,
                          "%s shows no ratio labels", kept);
        }
        free(a);
        free(b);
    }
    remove_tree(dir);
}
END_TEST

/* A client-server D of 7.99 s against a bound of 8.00 s is a measurement error: distplot must
 * refuse it and draw nothing, so that no slide shows a ratio below 1. */
START_TEST(slides_measurement_below_its_bound_is_refused)
{
    char dir[] = "/tmp/check_slides_plot.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *out;
    int st = distplot("tests/slides/below-bound.json", dir, &out);
    ck_assert_msg(st == 1, "distplot should refuse a D below its bound; it exited with %d:\n%s", st,
                  out);
    ck_assert_msg(strstr(out, "client-server, N = 2: measured D = 7.99 s is BELOW its lower "
                              "bound 8.00 s") != NULL,
                  "distplot should say which run is below its bound; it said:\n%s", out);
    char path[512];
    snprintf(path, sizeof path, "%s/distribution-time-p2p.svg", dir);
    ck_assert_msg(access(path, F_OK) != 0, "distplot drew a figure from a wrong measurement");
    free(out);
    remove_tree(dir);
}
END_TEST

/* Runs slidegen on one broken source and checks it fails with FILE:LINE and the reason, and
 * leaves no page behind. */
static void expect_build_error(const char *src, const char *where, const char *reason)
{
    need_slidegen();
    char dir[] = "/tmp/check_slides_err.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *srcs[] = {src};
    char *out;
    int st = slidegen(dir, srcs, 1, &out);
    ck_assert_msg(st == 1, "slidegen on %s exited with %d, expected 1; it said:\n%s", src, st, out);
    ck_assert_msg(strstr(out, where) != NULL && strstr(out, reason) != NULL,
                  "slidegen on %s should say \"%s ...%s...\"; it said:\n%s", src, where, reason,
                  out);
    char page[512];
    const char *base = strrchr(src, '/') + 1;
    snprintf(page, sizeof page, "%s/%.*s.html", dir, (int)strlen(base) - 3, base);
    ck_assert_msg(access(page, F_OK) != 0, "a failed build left %s behind", page);
    free(out);
    remove_tree(dir);
}

START_TEST(slides_missing_function_fails_the_build)
{
    expect_build_error("tests/slides/missing-function.md", "tests/slides/missing-function.md:7:",
                       "no function or variable named 'no_such_function' in common/io.c");
}
END_TEST

START_TEST(slides_missing_file_fails_the_build)
{
    expect_build_error("tests/slides/missing-file.md",
                       "tests/slides/missing-file.md:5:", "cannot read common/no_such_file.c");
}
END_TEST

START_TEST(slides_missing_from_text_fails_the_build)
{
    expect_build_error("tests/slides/missing-from.md", "tests/slides/missing-from.md:5:",
                       "no line of readn() contains the from text \"no such line\"");
}
END_TEST

START_TEST(slides_too_long_excerpt_fails_the_build)
{
    expect_build_error("tests/slides/too-long.md", "tests/slides/too-long.md:5:", "Split it");
}
END_TEST

START_TEST(slides_excerpt_without_mark_fails_the_build)
{
    expect_build_error("tests/slides/missing-mark.md", "tests/slides/missing-mark.md:5:",
                       "no mark \"TEXT\": highlight the line that matters");
}
END_TEST

START_TEST(slides_code_slide_without_takeaway_fails_the_build)
{
    expect_build_error("tests/slides/no-takeaway.md",
                       "tests/slides/no-takeaway.md:4:", "this slide shows code but no takeaway");
}
END_TEST

/* The slip the lecture once had: "announce31:" before a 30-byte URL. */
START_TEST(slides_wrong_bencode_length_fails_the_build)
{
    expect_build_error("tests/slides/bad-bencode.md", "tests/slides/bad-bencode.md:8:",
                       "is not valid bencode (the toolkit's decoder says: offset 45");
}
END_TEST

START_TEST(slides_torrent_that_is_not_metainfo_fails_the_build)
{
    expect_build_error("tests/slides/bad-metainfo.md", "tests/slides/bad-metainfo.md:6:",
                       "not valid metainfo: info.pieces is 19 bytes");
}
END_TEST

START_TEST(slides_excerpt_keeps_comment_and_drops_lab_markers)
{
    need_slidegen();
    char dir[] = "/tmp/check_slides_ex.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *srcs[] = {"tests/slides/excerpt.md"};
    char *out;
    int st = slidegen(dir, srcs, 1, &out);
    ck_assert_msg(st == 0, "slidegen failed:\n%s", out);
    free(out);
    char page[512];
    snprintf(page, sizeof page, "%s/excerpt.html", dir);
    char *html = read_text(page, NULL);
    ck_assert_ptr_nonnull(html);
    /* The fixture's function has a comment above a format-attribute prototype, lab markers in
     * its body, and a call of itself indented below that must not count as a definition. */
    ck_assert_msg(strstr(html, "Adds two numbers, the teaching way.") != NULL,
                  "the comment above the function is missing");
    ck_assert_msg(strstr(html, "a + b;") != NULL, "the function body is missing");
    ck_assert_msg(strstr(html, "lab2") == NULL, "a lab marker line leaked into the slide");
    ck_assert_msg(strstr(html, "__attribute__") == NULL, "the prototype leaked into the slide");
    ck_assert_msg(strstr(html, "not_this_one") == NULL, "the wrong definition was taken");
    ck_assert_msg(
        strstr(html, "<mark class=\"hl\">    <span class=\"kw\">return</span> a + b;</mark>") !=
            NULL,
        "the marked line is not highlighted");
    ck_assert_msg(strstr(html, "<blockquote>The marked line is the one the slide is about.") !=
                      NULL,
                  "the takeaway is missing");
    ck_assert_msg(strstr(html, "<span class=\"cm\">  # an integer</span>") != NULL,
                  "the comment of a bencoded example is not shown as a comment");
    free(html);
    remove_tree(dir);
}
END_TEST

/* ===================================================================== browser tests ======= */

START_TEST(slides_load_without_errors_or_network)
{
    NEED_BROWSER();
    static const char *const words[] = {"error", "fetched", "did not start", "promise", NULL};
    for (int d = 0; d < ndecks; d++) {
        const char *b = deck_block(d);
        char fails[4096];
        selftest_failures(b, words, fails, sizeof fails);
        ck_assert_msg(selftest_number(b, "errors") == 0 && selftest_number(b, "resources") == 0 &&
                          fails[0] == '\0',
                      "%s: errors while loading, or resources fetched:\n%s", deck_path[d], fails);
    }
}
END_TEST

START_TEST(slides_every_slide_fits_1280x720)
{
    NEED_BROWSER();
    static const char *const words[] = {"overflows", "scroll bars", "not 1280x720", NULL};
    for (int d = 0; d < ndecks; d++) {
        const char *b = deck_block(d);
        char fails[4096];
        selftest_failures(b, words, fails, sizeof fails);
        ck_assert_msg(selftest_number(b, "overflowing") == 0 && fails[0] == '\0',
                      "%s: slides that do not fit 1280x720:\n%s", deck_path[d], fails);
    }
}
END_TEST

START_TEST(slides_keyboard_reaches_every_slide)
{
    NEED_BROWSER();
    static const char *const words[] = {"key", "keyboard", "Home", "End", "arrow", "space", NULL};
    for (int d = 0; d < ndecks; d++) {
        const char *b = deck_block(d);
        long n = selftest_number(b, "slides"), reached = selftest_number(b, "reached");
        char fails[4096];
        selftest_failures(b, words, fails, sizeof fails);
        ck_assert_msg(n == deck_slides[d], "%s: the page has %ld slides, the HTML %d", deck_path[d],
                      n, deck_slides[d]);
        ck_assert_msg(reached == n && fails[0] == '\0',
                      "%s: keyboard reached %ld of %ld slides\n%s", deck_path[d], reached, n,
                      fails);
    }
}
END_TEST

START_TEST(slides_selftest_passes_as_a_whole)
{
    NEED_BROWSER();
    for (int d = 0; d < ndecks; d++) {
        const char *b = deck_block(d);
        char fails[4096];
        selftest_failures(b, NULL, fails, sizeof fails);
        ck_assert_msg(strstr(b, "\nRESULT PASS\n") != NULL, "%s: self-test failed:\n%s",
                      deck_path[d], fails);
    }
}
END_TEST

START_TEST(slides_first_and_middle_screenshots_are_not_blank)
{
    NEED_BROWSER();
    for (int d = 0; d < ndecks; d++) {
        struct tk_image img[2];
        char why[600];
        for (int k = 0; k < 2; k++) {
            ck_assert_msg(shot_status[d][k] == 0, "%s: Chromium's screenshot exited with %d",
                          deck_path[d], shot_status[d][k]);
            ck_assert_msg(screenshot_problem(shot_path[d][k], &img[k], why, sizeof why) == 0,
                          "%s: %s", deck_path[d], why);
        }
        /* Slide 1 and the middle slide differ: the address (#N) really picks the slide. */
        size_t differ = 0, total = (size_t)img[0].width * img[0].height;
        for (size_t i = 0; i < total * 4; i += 4)
            if (memcmp(img[0].rgba + i, img[1].rgba + i, 3) != 0)
                differ++;
        ck_assert_msg(differ * 200 > total,
                      "%s: the first and middle slides look the same (%zu pixels differ)",
                      deck_path[d], differ);
        tk_image_free(&img[0]);
        tk_image_free(&img[1]);
    }
}
END_TEST

/* Breaks a copy of the first deck three ways and checks its self-test reports each one. */
START_TEST(slides_selftest_catches_a_broken_deck)
{
    NEED_BROWSER();
    char *html = read_text(deck_path[0], NULL);
    ck_assert_ptr_nonnull(html);
    const char *slide_end = strstr(html, "</section>");
    const char *body_end = strstr(html, "</main>\n");
    ck_assert_ptr_nonnull(slide_end);
    ck_assert_ptr_nonnull(body_end);
    body_end += strlen("</main>\n");
    static const char wide[] = "<div style=\"width:1500px;height:40px\">too wide</div>";
    static const char breakers[] = "<script>document.addEventListener('keydown', function (e) {\n"
                                   "  if (e.key === 'ArrowRight') e.stopImmediatePropagation();\n"
                                   "}, true);\nnoSuchFunction();</script>\n";
    /* The breakers go in before the deck's own script: a capture-phase listener on document
     * runs before the deck's bubble-phase one and swallows the right arrow; then a call of a
     * function that does not exist throws. */
    size_t len = strlen(html) + sizeof wide + sizeof breakers + 1;
    char *broken = malloc(len);
    ck_assert_ptr_nonnull(broken);
    size_t a = (size_t)(slide_end - html), b = (size_t)(body_end - html);
    snprintf(broken, len, "%.*s%s%.*s%s%s", (int)a, html, wide, (int)(b - a), html + a, breakers,
             html + b);
    free(html);

    char dir[] = "/tmp/check_slides_broken.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char page[512], profile[512], url[1024], mode[] = "--dump-dom";
    snprintf(page, sizeof page, "%s/broken.html", dir);
    snprintf(profile, sizeof profile, "%s/profile", dir);
    ck_assert_int_eq(write_text(page, broken), 0);
    free(broken);
    snprintf(url, sizeof url, "file://%s?selftest", page);
    char *argv[16], bufs[4][4200];
    chromium_argv(argv, bufs, chromium, profile, mode, url);
    char *dom;
    int st = run(argv, &dom);
    const char *blk = selftest_block(dom);
    ck_assert_msg(blk != NULL, "the broken deck printed no self-test (Chromium status %d)", st);
    ck_assert_msg(strstr(blk, "RESULT FAIL") != NULL, "a broken deck passed its self-test");
    ck_assert_msg(strstr(blk, "slide 1 overflows") != NULL, "the too-wide box was not caught:\n%s",
                  blk);
    ck_assert_msg(strstr(blk, "noSuchFunction") != NULL, "the script error was not caught:\n%s",
                  blk);
    ck_assert_msg(strstr(blk, "keyboard reached") != NULL,
                  "the swallowed right arrow was not caught:\n%s", blk);
    free(dom);
    remove_tree(dir);
}
END_TEST

START_TEST(slides_blank_screenshot_is_called_blank)
{
    NEED_BROWSER();
    char dir[] = "/tmp/check_slides_blank.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char page[512], profile[512], url[1024], shot[512], mode[600];
    snprintf(page, sizeof page, "%s/blank.html", dir);
    snprintf(profile, sizeof profile, "%s/profile", dir);
    snprintf(shot, sizeof shot, "%s/blank.png", dir);
    snprintf(mode, sizeof mode, "--screenshot=%s", shot);
    ck_assert_int_eq(write_text(page, "<!DOCTYPE html><html><body style=\"background:#fff\">"
                                      "</body></html>\n"),
                     0);
    snprintf(url, sizeof url, "file://%s", page);
    char *argv[16], bufs[4][4200];
    chromium_argv(argv, bufs, chromium, profile, mode, url);
    char *out;
    int st = run(argv, &out);
    free(out);
    ck_assert_msg(st == 0, "Chromium's screenshot of a blank page exited with %d", st);
    struct tk_image img;
    char why[600];
    ck_assert_msg(screenshot_problem(shot, &img, why, sizeof why) < 0,
                  "a blank white page passed the not-blank check");
    ck_assert_msg(strstr(why, "looks blank") != NULL, "unexpected reason: %s", why);
    tk_image_free(&img);
    remove_tree(dir);
}
END_TEST

static Suite *slides_suite(void)
{
    Suite *s = suite_create("slides");
    TCase *gen = tcase_create("generator");
    tcase_set_timeout(gen, 60);
    tcase_add_test(gen, slides_checked_in_decks_match_their_sources);
    tcase_add_test(gen, slides_choking_timeline_matches_the_choker);
    tcase_add_test(gen, slides_missing_function_fails_the_build);
    tcase_add_test(gen, slides_missing_file_fails_the_build);
    tcase_add_test(gen, slides_missing_from_text_fails_the_build);
    tcase_add_test(gen, slides_too_long_excerpt_fails_the_build);
    tcase_add_test(gen, slides_distribution_figure_matches_the_measurement);
    tcase_add_test(gen, slides_measurement_below_its_bound_is_refused);
    tcase_add_test(gen, slides_excerpt_without_mark_fails_the_build);
    tcase_add_test(gen, slides_code_slide_without_takeaway_fails_the_build);
    tcase_add_test(gen, slides_wrong_bencode_length_fails_the_build);
    tcase_add_test(gen, slides_torrent_that_is_not_metainfo_fails_the_build);
    tcase_add_test(gen, slides_excerpt_keeps_comment_and_drops_lab_markers);
    suite_add_tcase(s, gen);

    TCase *browser = tcase_create("browser");
    tcase_add_unchecked_fixture(browser, browser_setup, browser_teardown);
    tcase_set_timeout(browser, 120);
    tcase_add_test(browser, slides_load_without_errors_or_network);
    tcase_add_test(browser, slides_every_slide_fits_1280x720);
    tcase_add_test(browser, slides_keyboard_reaches_every_slide);
    tcase_add_test(browser, slides_selftest_passes_as_a_whole);
    tcase_add_test(browser, slides_first_and_middle_screenshots_are_not_blank);
    tcase_add_test(browser, slides_selftest_catches_a_broken_deck);
    tcase_add_test(browser, slides_blank_screenshot_is_called_blank);
    suite_add_tcase(s, browser);
    return s;
}

TK_MAIN(slides_suite)
