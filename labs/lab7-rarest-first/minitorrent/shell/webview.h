/*
 * webview.h - the live view of a swarm as a web page, served by a small HTTP server of our own.
 *
 * `minitorrent swarm --web`, `experiment --web` and `tracker --web` print
 * "web view at http://127.0.0.1:PORT/". The page is one self-contained HTML document (its
 * script and style inline, no fonts, images or scripts from anywhere else, so it works offline
 * in a lecture hall); it asks for GET /state.json twice a second and draws a peers x pieces grid
 * coloured by how rare each piece is, who unchokes whom (the optimistic unchoke marked), the
 * rates, and the finish times filling in as peers complete.
 *
 * /state.json is one JSON object:
 *   {"t_s": 12.3, "title": "...", "pieces": 64, "bound_s": 8.0,
 *    "peers": [{"name": "p1", "address": "127.0.0.11", "have": 22, "bitfield": "ffc0..." or
 *               null, "down_Bps": 500000, "up_Bps": 250000, "unchokes": ["seed", "p4"],
 *               "optimistic": "p2" or null, "finished_s": 8.1 or null, "state": "running"}]}
 * "have" counts verified pieces; "bitfield" is the pieces in BITFIELD order as hex, or null
 * where only the count is known (the tracker learns a peer's progress, not its pieces).
 *
 * The server is single-threaded and driven by the caller's loop: webview_service() accepts and
 * answers whatever is waiting, without blocking longer than it is told. It answers GET / and
 * GET /state.json and nothing else, one request per connection (Connection: close). A real web
 * server keeps connections alive, queues partial writes per connection and runs beside the
 * program's work; the swarm's loop already wakes every 50 ms, which is often enough here.
 */
#ifndef WEBVIEW_H
#define WEBVIEW_H

#include "swarm_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>

struct webview;

/* Starts serving on 127.0.0.1:port ("0": any free port). Returns the view, or NULL with a
 * message in err. */
struct webview *webview_start(const char *port, char *err, size_t errlen);

/* Starts serving for the command cmd and prints "web view at http://127.0.0.1:PORT/" to out; on
 * failure prints why on stderr and returns NULL. */
struct webview *webview_start_for(FILE *out, const char *cmd, const char *port);

/* The port the page is served on. */
int webview_port(const struct webview *w);

/* Replaces the state that /state.json returns (a JSON document of len bytes; copied). */
int webview_set_state(struct webview *w, const char *json, size_t len);

/* Writes the state of a swarm's view at now_s as /state.json's JSON, into a string the caller
 * frees (its length in *len). Returns NULL when memory runs out. */
char *webview_state_json(const struct swarm_view *v, double now_s, size_t *len);

/* Publishes the swarm's current state (at most five times a second) and answers waiting
 * requests. Does nothing when w is NULL. */
void webview_publish(struct webview *w, const struct swarm_view *v, double now_s);

/* Accepts and answers waiting requests, waiting at most timeout_ms for the first. Returns the
 * number of requests answered. */
int webview_service(struct webview *w, int timeout_ms);

/* At the end of a run: with hold, says so and serves until Ctrl-C; then stops. w may be NULL. */
void webview_finish(struct webview *w, bool hold, FILE *out);

struct tracker_server;

/* Serves the view of a tracker (`tracker --web`) until Ctrl-C: every half second it builds the
 * state from what the tracker learnt in announces (progress from each peer's "left", the rates
 * from how its "uploaded" and "downloaded" grew between its last two announces), and answers
 * requests in between. It waits in
 * pselect() with wait_mask, so SIGINT and SIGTERM, blocked elsewhere, end the wait at once. The
 * tracker sees no pieces and no unchokes: "bitfield" is null and "unchokes" empty. */
void webview_serve_tracker(struct webview *w, struct tracker_server *srv,
                           const sigset_t *wait_mask);

/* Stops serving and frees the view. w may be NULL. */
void webview_stop(struct webview *w);

#endif
