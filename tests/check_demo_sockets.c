/*
 * check_demo_sockets.c - `make demo-sockets` (demo/sockets.sh) shows what the lectures promise.
 *
 * The demo runs non-interactively here (PAUSE=0), and every scene must print its key line:
 * the lossy relay drops a request and a reply and the client's retry still gets each answer; a
 * datagram to a closed port meets silence while a TCP connect there is refused; a line written
 * as "hel", a pause, "lo\n" comes back as "HEL" from tcp_upper_server1 and "HELLO" from
 * tcp_upper_server2; tcp_upper_server3 has two clients connected at once. With STEP=1 the demo
 * waits for Enter before each scene.
 */
#include "testlib.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEMO_TIMEOUT_MS 60000

/* Reads what the demo prints until text appears (returns 1), its output ends, or timeout_ms
 * passes (both return 0). */
static int wait_for_text(struct tk_proc *p, const char *text, int timeout_ms)
{
    long long deadline = tk_now_ms() + timeout_ms;
    while (strstr(p->out, text) == NULL) {
        long long left = deadline - tk_now_ms();
        if (left <= 0 || tk_wait_readable(p->out_fd, (int)left) <= 0)
            return 0;
        if (p->out_len + 1 >= sizeof p->out)
            return 0;
        ssize_t r = read(p->out_fd, p->out + p->out_len, sizeof p->out - 1 - p->out_len);
        if (r <= 0)
            return 0;
        p->out_len += (size_t)r;
        p->out[p->out_len] = '\0';
    }
    return 1;
}

/* Starts the demo with the given STEP and PAUSE=0, its stdout and stderr on one pipe. */
static void start_demo(struct tk_proc *p, const char *step)
{
    const char *bin = getenv("TOOLKIT_BIN");
    ck_assert_msg(access("build/tools/lossy_relay", X_OK) == 0,
                  "build/tools/lossy_relay is missing; `make check` builds it");
    setenv("PAUSE", "0", 1);
    if (step != NULL)
        setenv("STEP", step, 1);
    else
        unsetenv("STEP");
    char *argv[] = {"/bin/sh", "demo/sockets.sh", (char *)(bin != NULL ? bin : "bin"), NULL};
    memset(p, 0, sizeof *p);
    p->merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(p, argv), 0);
}

/* Says which of the key lines is missing from out, or NULL when all are there. */
static const char *missing_key_line(const char *out)
{
    static const char *const key[] = {
        /* 1. loss and retry: the dropped request, its retry and the answer; the dropped reply
         * and the answer the retry brought. */
        "request 2 \"this line is lost on the way there\" DROPPED on the way to the server",
        "request 3 \"this line is lost on the way there\" passed",
        "reply  < THIS LINE IS LOST ON THE WAY THERE",
        "reply 3 \"AND THIS ANSWER ON THE WAY BACK\" DROPPED on the way back",
        "reply  < AND THIS ANSWER ON THE WAY BACK",
        /* 2. closed ports */
        "no reply to line 1 after 2 tries; it is lost",
        "Connection refused",
        /* 3. the split write */
        "reply  < HEL\n",
        "reply  < HELLO\n",
        /* 4. overlapping clients */
        "B reply < CLIENT B HERE, AT THE SAME TIME",
        "Two clients served at once",
        "Done.",
    };
    for (size_t i = 0; i < sizeof key / sizeof key[0]; i++)
        if (strstr(out, key[i]) == NULL)
            return key[i];
    return NULL;
}

START_TEST(demo_sockets_every_scene_shows_its_key_line)
{
    struct tk_proc p;
    start_demo(&p, NULL);
    tk_write(&p, NULL);
    int closed = tk_read_all(&p, DEMO_TIMEOUT_MS);
    int status = tk_wait_exit(&p, 10000);
    ck_assert_msg(closed == 0, "the demo did not finish in %d s; it printed:\n%s",
                  DEMO_TIMEOUT_MS / 1000, p.out);
    ck_assert_msg(status == 0, "the demo exited with %d; it printed:\n%s", status, p.out);
    const char *miss = missing_key_line(p.out);
    ck_assert_msg(miss == NULL, "the demo never printed \"%s\"; it printed:\n%s", miss, p.out);
    /* server1 answered half a line, and before server2 answered the whole one. */
    const char *hel = strstr(p.out, "reply  < HEL\n"), *hello = strstr(p.out, "reply  < HELLO\n");
    ck_assert_msg(hel < hello, "the split write should break server1 first, then not server2");
}
END_TEST

START_TEST(demo_sockets_step_waits_for_enter)
{
    struct tk_proc p;
    start_demo(&p, "1");
    ck_assert_msg(wait_for_text(&p, "(Enter: next scene)", DEMO_TIMEOUT_MS),
                  "with STEP=1 the demo should ask for Enter; it printed:\n%s", p.out);
    /* Blocked on the read: nothing of scene 1 may come in the next half second. */
    ck_assert_msg(!wait_for_text(&p, "== 1.", 500),
                  "with STEP=1 scene 1 started before Enter was pressed:\n%s", p.out);
    for (int scene = 1; scene <= 4; scene++) {
        char title[16];
        snprintf(title, sizeof title, "== %d.", scene);
        ck_assert_int_eq(tk_write(&p, "\n"), 0);
        ck_assert_msg(wait_for_text(&p, title, DEMO_TIMEOUT_MS),
                      "after Enter, scene %d should start; the demo printed:\n%s", scene, p.out);
    }
    tk_write(&p, NULL);
    ck_assert_int_eq(tk_read_all(&p, DEMO_TIMEOUT_MS), 0);
    ck_assert_int_eq(tk_wait_exit(&p, 10000), 0);
    const char *miss = missing_key_line(p.out);
    ck_assert_msg(miss == NULL, "the demo never printed \"%s\"; it printed:\n%s", miss, p.out);
}
END_TEST

static Suite *demo_sockets_suite(void)
{
    Suite *s = suite_create("demo_sockets");
    TCase *tc = tk_tcase(s, "demo_sockets", 90);
    tk_add_test(tc, demo_sockets_every_scene_shows_its_key_line);
    tk_add_test(tc, demo_sockets_step_waits_for_enter);
    return s;
}

TK_MAIN(demo_sockets_suite)
