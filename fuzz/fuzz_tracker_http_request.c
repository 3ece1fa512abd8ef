/*
 * fuzz_tracker_http_request.c - our tracker's side: tracker_http_parse_request_line() on any
 * request line a client could send ("GET /announce?info_hash=...&... HTTP/1.1").
 *
 * The whole input is the line; it is handed over with its exact length and no NUL after it, so
 * AddressSanitizer catches a parser that reads one byte too far.
 *
 * Invariants of an accepted request:
 *   - every field is in its documented range (port 1..65535, numwant -1 or 0..1000, a known
 *     event, at most 64 scrape hashes, an "ip" that is a printable C string);
 *   - the client side agrees with the server side: the request target our own client would
 *     build for the same announce (or scrape) parses back to the same fields.
 */
#include "fuzz.h"

#include "tracker_http.h"
#include "url.h"

#include <stdlib.h>
#include <string.h>

/* Builds "GET TARGET HTTP/1.0" for target and parses it; the result must be accepted. */
static void parse_built(const char *target, struct tracker_http_request *out)
{
    static const char prefix[] = "GET ", suffix[] = " HTTP/1.0";
    char line[TRACKER_HTTP_TARGET_MAX + 32];
    size_t tn = strlen(target);
    FUZZ_CHECK(tn + sizeof prefix + sizeof suffix < sizeof line);
    memcpy(line, prefix, 4);
    memcpy(line + 4, target, tn);
    memcpy(line + 4 + tn, suffix, sizeof suffix - 1);
    char err[256];
    FUZZ_CHECK(tracker_http_parse_request_line(line, 4 + tn + sizeof suffix - 1, out, err,
                                               sizeof err) == TRACKER_HTTP_OK);
}

static void check_announce(const struct tracker_http_request *req, const struct tracker_url *u)
{
    FUZZ_CHECK(req->port >= 1);
    FUZZ_CHECK(req->event >= TRACKER_EVENT_NONE && req->event <= TRACKER_EVENT_STOPPED);
    FUZZ_CHECK(req->numwant >= -1 && req->numwant <= TRACKER_HTTP_NUMWANT_MAX);
    const char *ipend = memchr(req->ip, '\0', sizeof req->ip);
    FUZZ_CHECK(ipend != NULL);
    for (const char *c = req->ip; c < ipend; c++)
        FUZZ_CHECK(*c >= 0x20 && *c <= 0x7e);

    /* What our client would send for this announce must read back the same. */
    struct tracker_http_announce a;
    memcpy(a.info_hash, req->info_hash, 20);
    memcpy(a.peer_id, req->peer_id, 20);
    a.port = req->port;
    a.uploaded = req->uploaded;
    a.downloaded = req->downloaded;
    a.left = req->left;
    a.event = req->event;
    a.numwant = (int)req->numwant;
    char target[TRACKER_HTTP_TARGET_MAX], err[256];
    FUZZ_CHECK(tracker_http_announce_target(u, &a, target, sizeof target, err, sizeof err) > 0);
    struct tracker_http_request back;
    parse_built(target, &back);
    FUZZ_CHECK(back.kind == TRACKER_HTTP_ANNOUNCE && back.compact == 1);
    FUZZ_CHECK(memcmp(back.info_hash, req->info_hash, 20) == 0);
    FUZZ_CHECK(memcmp(back.peer_id, req->peer_id, 20) == 0);
    FUZZ_CHECK(back.port == req->port && back.uploaded == req->uploaded &&
               back.downloaded == req->downloaded && back.left == req->left &&
               back.event == req->event && back.numwant == req->numwant);
}

static void check_scrape(const struct tracker_http_request *req, const struct tracker_url *u)
{
    FUZZ_CHECK(req->nscrape <= TRACKER_HTTP_SCRAPE_MAX);
    if (req->nscrape == 0)
        return;
    char target[TRACKER_HTTP_TARGET_MAX], err[256];
    FUZZ_CHECK(tracker_http_scrape_target(u, req->scrape_hashes[0], target, sizeof target, err,
                                          sizeof err) > 0);
    struct tracker_http_request back;
    parse_built(target, &back);
    FUZZ_CHECK(back.kind == TRACKER_HTTP_SCRAPE && back.nscrape == 1);
    FUZZ_CHECK(memcmp(back.scrape_hashes[0], req->scrape_hashes[0], 20) == 0);
}

int fuzz_target_tracker_http_request(const uint8_t *data, size_t size)
{
    /* An exact-size copy: libFuzzer's buffer is exact too, but the copy keeps the harness honest
     * when the regression suite calls it with a slice of a larger buffer. */
    char *line = malloc(size ? size : 1);
    FUZZ_CHECK(line != NULL);
    if (size > 0)
        memcpy(line, data, size);

    struct tracker_http_request req;
    char err[256];
    memset(err, 'X', sizeof err);
    int rc = tracker_http_parse_request_line(line, size, &req, err, sizeof err);
    FUZZ_CHECK(rc == TRACKER_HTTP_OK || rc == TRACKER_HTTP_EBAD || rc == TRACKER_HTTP_ENOTFOUND);
    if (rc != TRACKER_HTTP_OK) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    } else {
        struct tracker_url u;
        FUZZ_CHECK(url_parse("http://tracker.example:6969/announce", &u, err, sizeof err) == 0);
        if (req.kind == TRACKER_HTTP_ANNOUNCE)
            check_announce(&req, &u);
        else
            check_scrape(&req, &u);
    }
    free(line);
    return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_target_tracker_http_request(data, size);
}
#endif
