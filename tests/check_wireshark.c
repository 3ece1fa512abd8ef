/*
 * check_wireshark.c - Wireshark understands minitorrent, with the capture command deck 5 shows.
 *
 * The test reads the `tshark` command from the live-demo slide of deck 5
 * (slides/src/05-bittorrent-protocol.md), runs it on the loopback interface with two fields
 * added to its output, runs a small `minitorrent swarm` (what `make demo` runs, on random
 * ports), and checks that tshark decoded, as BitTorrent, the handshake and the bitfield,
 * interested, unchoke, request, piece and have messages. So the slide's command is the one that
 * works on the demo's traffic, and the bytes minitorrent sends are the real protocol.
 *
 * Capturing on `lo` needs root or dumpcap's capture capabilities; without them, or without
 * tshark, the test is skipped with the reason.
 */
#include "testlib.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DECK5 "slides/src/05-bittorrent-protocol.md"

/* Finds tshark on PATH; returns its path in a static buffer, or NULL. */
static const char *find_tshark(void)
{
    static char path[4096];
    const char *env = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s", env != NULL ? env : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d != NULL;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/tshark", d);
        if (access(path, X_OK) == 0)
            return path;
    }
    return NULL;
}

/* Reads the "$ tshark ..." line of deck 5 into line and splits it at spaces into argv (at most
 * max - 1 words, NULL-terminated). Returns the number of words, or 0 when there is no such
 * line. The deck writes it without quotes, so splitting at spaces is exact. */
static int slide_command(char *line, size_t cap, char **argv, int max)
{
    FILE *f = fopen(DECK5, "r");
    ck_assert_msg(f != NULL, "cannot read %s", DECK5);
    int n = 0;
    while (fgets(line, (int)cap, f) != NULL) {
        if (strncmp(line, "$ tshark ", 9) != 0)
            continue;
        ck_assert_msg(strchr(line, '\'') == NULL && strchr(line, '"') == NULL,
                      "the slide's tshark command should need no quotes: %s", line);
        char *hash = strstr(line, "  #");
        if (hash != NULL)
            *hash = '\0';
        for (char *save = NULL, *w = strtok_r(line + 2, " \n", &save); w != NULL && n < max - 1;
             w = strtok_r(NULL, " \n", &save))
            argv[n++] = w;
        break;
    }
    fclose(f);
    argv[n] = NULL;
    return n;
}

/* Waits until the child's output holds text; returns 1, or 0 when it ends or time runs out. */
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

START_TEST(wireshark_decodes_a_minitorrent_swarm_with_the_slide_command)
{
    const char *tshark = find_tshark();
    if (tshark == NULL)
        tk_skip("no tshark installed (apt-get install tshark)");
    /* The swarm gives every peer its own 127.0.0.x, which only some systems route to lo. */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    if (probe >= 0) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(0x7f000002);
        int ok = bind(probe, (struct sockaddr *)&a, sizeof a) == 0;
        close(probe);
        if (!ok)
            tk_skip("127.0.0.2 is not a loopback address here; the swarm needs it");
    }

    /* The slide's command, with -l (a line at a time) and the two fields to check added. */
    char line[512], shown[512];
    char *argv[32];
    int n = slide_command(line, sizeof line, argv, 24);
    shown[0] = '\0';
    for (int i = 0; i < n; i++)
        snprintf(shown + strlen(shown), sizeof shown - strlen(shown), "%s%s", i ? " " : "",
                 argv[i]);
    ck_assert_msg(n >= 3, "%s has no \"$ tshark ...\" line", DECK5);
    argv[0] = (char *)tshark;
    const char *extra[] = {
        "-l", "-T", "fields", "-e", "bittorrent.protocol.name", "-e", "bittorrent.msg.type"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;

    static struct tk_proc cap;
    memset(&cap, 0, sizeof cap);
    cap.merge_stderr = 1;
    ck_assert_int_eq(tk_spawn(&cap, argv), 0);
    /* tshark says "Capturing on 'Loopback: lo'" once packets are being captured. */
    if (!wait_for_text(&cap, "Capturing on", 30000)) {
        tk_stop(&cap, 5000);
        if (strstr(cap.out, "ermission") != NULL || strstr(cap.out, "not permitted") != NULL)
            tk_skip("tshark cannot capture on lo (needs root or dumpcap's capabilities): %.200s",
                    cap.out);
        ck_abort_msg("tshark did not start capturing; it said:\n%s", cap.out);
    }

    static struct tk_proc sw;
    memset(&sw, 0, sizeof sw);
    sw.merge_stderr = 1;
    char *swarm[] = {
        (char *)tk_bin("minitorrent"), "swarm", "--peers", "2", "--size", "512K", "--plain", NULL};
    ck_assert_int_eq(tk_spawn(&sw, swarm), 0);
    tk_write(&sw, NULL);
    int done = tk_read_all(&sw, 60000);
    int st = tk_wait_exit(&sw, 10000);
    tk_stop(&cap, 10000); /* SIGTERM: tshark prints what is left and exits */
    ck_assert_msg(done == 0 && st == 0, "the swarm failed (%d); it said:\n%s", st, sw.out);

    /* Each output line: the protocol name (handshakes only), a tab, the message types of the
     * packet, comma-separated. */
    int handshakes = 0, seen[10] = {0};
    for (char *save = NULL, *l = strtok_r(cap.out, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(l, '\t');
        if (tab == NULL)
            continue;
        if (strncmp(l, "BitTorrent protocol\t", 20) == 0)
            handshakes++;
        for (char *p = tab + 1; *p != '\0';) {
            char *end;
            long t = strtol(p, &end, 10);
            if (end == p)
                break;
            if (t >= 0 && t < 10)
                seen[t]++;
            p = *end == ',' ? end + 1 : end;
        }
    }
    static const struct {
        int type;
        const char *name;
    } want[] = {{5, "bitfield"}, {2, "interested"}, {1, "unchoke"},
                {6, "request"},  {7, "piece"},      {4, "have"}};
    ck_assert_msg(handshakes >= 2,
                  "tshark decoded %d BitTorrent handshakes with the slide's command (%s)",
                  handshakes, shown);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(seen[want[i].type] > 0,
                      "tshark decoded no %s message (type %d) in the swarm's traffic with the "
                      "slide's command (%s)",
                      want[i].name, want[i].type, shown);
}
END_TEST

static Suite *wireshark_suite(void)
{
    Suite *s = suite_create("wireshark");
    TCase *tc = tk_tcase(s, "wireshark", 120);
    tk_add_test(tc, wireshark_decodes_a_minitorrent_swarm_with_the_slide_command);
    return s;
}

TK_MAIN(wireshark_suite)
