/*
 * picker_cost.c - what the piece picker costs over a whole download, for `make bench`.
 *
 * picker_next runs under the torrent's lock, which every peer thread shares, so its time is
 * time no other connection can use the shared state. Its step 2 (choose_new_piece) looks at
 * every piece each time it runs, and it runs each time a piece is started and each time a peer
 * has nothing new to offer: O(P) per call, O(P^2) over a download of P pieces. This program
 * replays the requests of one download of PIECES pieces of 256 KiB from PEERS peers (each holds a
 * random half of the pieces, one holds all), the way peer.c keeps DEPTH requests at each, with
 * every block arriving at once, and times every call.
 *
 * Prints one line: "pieces=P blocks=B calls=C picker_ms=T start_ms=S failed_ms=F", where S is
 * the time of the calls that started a piece and F that of calls that found nothing (both pass
 * through choose_new_piece's scan).
 */
#include "bitfield.h"
#include "picker.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { PEERS = 32, DEPTH = 4, PIECE = 256 * 1024 };

/* Nanoseconds on the monotonic clock. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    uint32_t pieces = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1024;
    if (pieces == 0 || pieces > 1u << 20) {
        fprintf(stderr, "usage: picker_cost [PIECES]\n");
        return 2;
    }
    struct picker_config cfg;
    picker_config_defaults(&cfg, pieces, PIECE, (uint64_t)pieces * PIECE, 42);
    struct picker p;
    static struct bitfield has[PEERS];
    if (picker_init(&p, &cfg, NULL) < 0)
        return 1;
    srand(42);
    for (int k = 0; k < PEERS; k++) {
        if (bitfield_init(&has[k], pieces) < 0)
            return 1;
        for (uint32_t i = 0; i < pieces; i++)
            if (k == 0 || rand() % 2 == 0)
                bitfield_set(&has[k], i);
        picker_add_peer(&p, &has[k]);
    }
    /* Each peer's outstanding requests, oldest first. */
    static struct picker_block q[PEERS][DEPTH];
    size_t nq[PEERS] = {0};
    uint64_t total = 0, start = 0, failed = 0, calls = 0, blocks = 0;
    while (!picker_complete(&p)) {
        for (int k = 0; k < PEERS; k++) {
            size_t depth = picker_endgame(&p) ? (nq[k] == 0 ? 1 : 0) : DEPTH;
            while (nq[k] < depth) {
                uint32_t before = p.npartial;
                uint64_t t0 = now_ns();
                bool got = picker_next(&p, &has[k], NULL, NULL, &q[k][nq[k]]);
                uint64_t dt = now_ns() - t0;
                total += dt;
                calls++;
                if (!got) {
                    failed += dt;
                    break;
                }
                if (p.npartial > before)
                    start += dt;
                nq[k]++;
            }
            if (nq[k] == 0)
                continue;
            /* The oldest request is answered; a complete piece passes its hash at once. */
            struct picker_block b = q[k][0];
            for (size_t i = 1; i < nq[k]; i++)
                q[k][i - 1] = q[k][i];
            nq[k]--;
            blocks++;
            if (picker_received(&p, &b) == PICKER_PIECE_COMPLETE)
                picker_verified(&p, b.index, true);
        }
    }
    printf("pieces=%u blocks=%llu calls=%llu picker_ms=%.3f start_ms=%.3f failed_ms=%.3f\n", pieces,
           (unsigned long long)blocks, (unsigned long long)calls, (double)total / 1e6,
           (double)start / 1e6, (double)failed / 1e6);
    for (int k = 0; k < PEERS; k++)
        bitfield_free(&has[k]);
    picker_free(&p);
    return 0;
}
