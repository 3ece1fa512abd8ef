/*
 * make_seeds.c - writes the seed corpora in fuzz/corpus/NAME/ (run by `make fuzz-seeds`).
 *
 * A fuzzer mutates inputs it already has, so it reaches deep code sooner when it starts from
 * valid ones: a torrent that parses, a stream of every peer-wire message, a tracker reply with
 * peers. The seeds are built here with the toolkit's own encoders where they exist, so they stay
 * correct when a format detail changes, and are written out as small files that are committed.
 * The output is the same on every run: no clock, no randomness.
 *
 * Every seed also runs in the normal test suite (tests/check_fuzz_regressions.c).
 */
#include "bencode.h"
#include "bytes.h"
#include "metainfo.h"
#include "tracker_http.h"
#include "tracker_udp.h"
#include "url.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;

/* A growable byte string to assemble one seed in. */
struct seed {
    unsigned char buf[64 * 1024];
    size_t len;
};

static void add(struct seed *s, const void *p, size_t n)
{
    if (s->len + n > sizeof s->buf) {
        fprintf(stderr, "make_seeds: seed too large\n");
        exit(1);
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void add_str(struct seed *s, const char *str)
{
    add(s, str, strlen(str));
}

static void add_u8(struct seed *s, unsigned v)
{
    unsigned char b = (unsigned char)v;
    add(s, &b, 1);
}

static void add_u16(struct seed *s, unsigned v)
{
    unsigned char b[2];
    put_u16be(b, (uint16_t)v);
    add(s, b, 2);
}

static void write_seed(const char *target, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void write_s(const char *target, const char *name, const struct seed *s)
{
    write_seed(target, name, s->buf, s->len);
}

static void write_text(const char *target, const char *name, const char *text)
{
    write_seed(target, name, text, strlen(text));
}

/* ============================================================== torrents */

static void torrents(void)
{
    unsigned char pieces[4 * 20];
    for (size_t i = 0; i < sizeof pieces; i++)
        pieces[i] = (unsigned char)(i * 7 + 1);
    char err[256];

    const char *single_path[] = {"ubuntu.iso"};
    struct metainfo_spec_file single = {single_path, 1, 40000};
    struct metainfo_spec spec = {.announce = "http://tracker.example:6969/announce",
                                 .name = "ubuntu.iso",
                                 .piece_length = 16384,
                                 .files = &single,
                                 .file_count = 1,
                                 .pieces = pieces,
                                 .piece_count = 3};
    struct benc_buf b;
    benc_buf_init(&b);
    if (metainfo_encode(&spec, &b, err, sizeof err) != 0) {
        fprintf(stderr, "make_seeds: %s\n", err);
        exit(1);
    }
    write_seed("metainfo", "single.torrent", b.data, b.len);
    write_seed("bencode", "single.torrent", b.data, b.len);
    benc_buf_free(&b);

    const char *p1[] = {"docs", "readme.txt"}, *p2[] = {"data", "a", "b.bin"}, *p3[] = {"empty"};
    struct metainfo_spec_file multi[] = {{p1, 2, 1000}, {p2, 3, 50000}, {p3, 1, 0}};
    spec.name = "course";
    spec.multi_file = 1;
    spec.files = multi;
    spec.file_count = 3;
    spec.piece_count = 4;
    spec.announce = "udp://[::1]:1337";
    spec.is_private = 1;
    benc_buf_init(&b);
    if (metainfo_encode(&spec, &b, err, sizeof err) != 0) {
        fprintf(stderr, "make_seeds: %s\n", err);
        exit(1);
    }
    write_seed("metainfo", "multi.torrent", b.data, b.len);

    /* BEP 12's announce-list and keys out of order, which old torrent makers wrote; the info
     * dictionary is taken from the torrent above as raw bytes. */
    struct bencode_doc doc;
    if (bencode_decode(&doc, b.data, b.len, 0, NULL) != 0) {
        fprintf(stderr, "make_seeds: cannot decode our own torrent\n");
        exit(1);
    }
    const struct bencode_value *info = bencode_dict_get_dict(doc.root, "info");
    static struct seed s;
    s.len = 0;
    add_str(&s, "d8:announce22:http://a.example/ann13:announce-listll22:http://a.example/ann"
                "el18:udp://b.example:118:udp://c.example:1ee4:info");
    add(&s, b.data + info->start, info->end - info->start);
    add_str(&s, "e");
    write_s("metainfo", "announce_list.torrent", &s);
    s.len = 0;
    add_str(&s, "d4:info");
    add(&s, b.data + info->start, info->end - info->start);
    add_str(&s, "8:announce16:http://x.example7:comment5:helloe");
    write_s("metainfo", "unsorted.torrent", &s);
    bencode_doc_free(&doc);
    benc_buf_free(&b);
}

/* ============================================================== peer wire */

static void wire_messages(struct seed *s, uint32_t piece_len)
{
    unsigned char m[WIRE_PIECE_HEADER_SIZE + 32];
    unsigned char bits[1] = {0xa0};
    add(s, m, wire_put_bitfield(m, sizeof m, bits, 1));
    add(s, m, wire_put_unchoke(m));
    add(s, m, wire_put_interested(m));
    add(s, m, wire_put_have(m, 1));
    add(s, m, wire_put_request(m, 0, 0, 16384));
    add(s, m, wire_put_cancel(m, 0, 0, 16384));
    add(s, m, wire_put_piece_header(m, 0, 0, 16));
    add(s, "0123456789abcdef", 16);
    add(s, m, wire_put_keepalive(m));
    add(s, m, wire_put_port(m, 6881));
    /* An extension message (BEP 10, id 20), which the framer skips. */
    put_u32be(m, 3);
    m[4] = 20;
    m[5] = 0;
    m[6] = 'd';
    add(s, m, 7);
    add(s, m, wire_put_request(m, 2, piece_len - 16384, 16384));
    add(s, m, wire_put_not_interested(m));
    add(s, m, wire_put_choke(m));
}

static void add_handshake(struct seed *s, const char *info_hash)
{
    struct wire_handshake hs;
    memset(&hs, 0, sizeof hs);
    memcpy(hs.info_hash, info_hash, 20);
    memcpy(hs.peer_id, "-XX0001-remote-peer!", 20);
    unsigned char out[WIRE_HANDSHAKE_LEN];
    wire_handshake_encode(out, &hs);
    add(s, out, sizeof out);
}

static void wire(void)
{
    /* fuzz_wire's header: flags, piece count - 1 (2 bytes), piece length selector, cut. */
    static struct seed s;
    s.len = 0;
    add_u8(&s, 0x01 | 0x02 | (5 << 2));
    add_u16(&s, 3); /* 4 pieces */
    add_u8(&s, 0);  /* 16 KiB */
    add_u16(&s, 100);
    add_handshake(&s, "fuzz-wire-info-hash!");
    wire_messages(&s, 16384);
    write_s("wire", "handshake_and_all_messages", &s);

    s.len = 0;
    add_u8(&s, 0x00); /* no handshake, byte-by-byte chunks */
    add_u16(&s, 7);
    add_u8(&s, 1);
    add_u16(&s, 0);
    wire_messages(&s, 32768);
    write_s("wire", "messages_byte_by_byte", &s);

    /* A length prefix over the cap, which must fail before anything is allocated. */
    s.len = 0;
    add_u8(&s, 0x02);
    add_u16(&s, 0);
    add_u8(&s, 0);
    add_u16(&s, 0);
    add(&s, "\xff\xff\xff\xff\x07", 5);
    write_s("wire", "too_long", &s);
}

static void session(void)
{
    /* fuzz_session's header: flags, piece count - 1, piece length selector, cut (2 bytes). */
    static struct seed s;
    s.len = 0;
    add_u8(&s, 0x01 | 0x02 | 0x04 | (9 << 3));
    add_u8(&s, 3);
    add_u8(&s, 0);
    add_u16(&s, 100);
    unsigned char m[WIRE_PIECE_HEADER_SIZE];
    unsigned char bits[1] = {0xf0};
    add(&s, m, wire_put_bitfield(m, sizeof m, bits, 1));
    add(&s, m, wire_put_interested(m));
    add(&s, m, wire_put_unchoke(m));
    add(&s, m, wire_put_request(m, 1, 0, 16384));
    add(&s, m, wire_put_piece_header(m, 0, 0, 16384));
    static unsigned char block[16384];
    add(&s, block, sizeof block);
    add(&s, m, wire_put_have(m, 3));
    add(&s, m, wire_put_cancel(m, 1, 0, 16384));
    add(&s, m, wire_put_keepalive(m));
    add(&s, m, wire_put_choke(m));
    add(&s, m, wire_put_not_interested(m));
    write_s("session", "full_exchange", &s);

    /* The handshake written out, without the harness's help, then a late BITFIELD. */
    s.len = 0;
    add_u8(&s, 0x02 | 0x04);
    add_u8(&s, 0);
    add_u8(&s, 2);
    add_u16(&s, 0);
    add_handshake(&s, "minitorrent-fuzz-ih!");
    add(&s, m, wire_put_have(m, 0));
    add(&s, m, wire_put_bitfield(m, sizeof m, bits, 1));
    write_s("session", "own_handshake_late_bitfield", &s);
}

/* ============================================================== HTTP tracker */

static void tracker_http(void)
{
    struct tracker_peer peers[3];
    memset(peers, 0, sizeof peers);
    peers[0].family = 4;
    memcpy(peers[0].ip, "\x7f\x00\x00\x01", 4);
    peers[0].port = 6881;
    peers[1].family = 6;
    peers[1].ip[15] = 1;
    peers[1].port = 6882;
    peers[2].family = 4;
    memcpy(peers[2].ip, "\x0a\x00\x00\x02", 4);
    peers[2].port = 51413;
    peers[2].has_peer_id = 1;
    memcpy(peers[2].peer_id, "-TR2940-abcdefghijkl", 20);
    struct tracker_http_reply_info info = {1800, 900, 5, 7};
    char err[256];

    for (int compact = 0; compact <= 1; compact++) {
        struct benc_buf b;
        benc_buf_init(&b);
        tracker_http_encode_announce_reply(&b, &info, peers, 3, compact, 0, err, sizeof err);
        static struct seed s;
        s.len = 0;
        add_u8(&s, 1 | (10 << 2)); /* an announce body, room for 10 peers */
        add(&s, b.data, b.len);
        write_s("tracker_http_reply", compact ? "announce_compact" : "announce_dicts", &s);

        /* The same as a whole HTTP response, as the socket delivers it. */
        char head[256];
        long hl = tracker_http_response_header(200, b.len, head, sizeof head);
        s.len = 0;
        add_u8(&s, 0 | (10 << 2));
        add(&s, head, (size_t)hl);
        add(&s, b.data, b.len);
        write_s("tracker_http_reply", compact ? "http_compact" : "http_dicts", &s);
        benc_buf_free(&b);
    }

    static struct seed s;
    s.len = 0;
    add_u8(&s, 1 | (4 << 2));
    add_str(&s, "d14:failure reason12:unregistered15:warning message4:busye");
    write_s("tracker_http_reply", "announce_failure", &s);

    s.len = 0;
    add_u8(&s, 0x80 | (4 << 2)); /* eof, no Content-Length */
    add_str(&s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: x\r\n\r\n"
                "d8:intervali60e5:peers6:\x7f\x00\x00\x01\x1a\xe1"
                "e");
    write_s("tracker_http_reply", "http_until_close", &s);

    const unsigned char hash[20] = "fuzz-scrape-hash-20b";
    struct tracker_scrape_counts counts = {3, 4, 5};
    struct benc_buf b;
    benc_buf_init(&b);
    tracker_http_encode_scrape_reply(&b, (const unsigned char(*)[20])hash, &counts, 1, err,
                                     sizeof err);
    s.len = 0;
    add_u8(&s, 2);
    add(&s, b.data, b.len);
    write_s("tracker_http_reply", "scrape", &s);
    benc_buf_free(&b);

    /* Requests our tracker receives, built by our client code. */
    struct tracker_url u;
    url_parse("http://tracker.example:6969/announce?passkey=abc", &u, err, sizeof err);
    struct tracker_http_announce a;
    memset(&a, 0, sizeof a);
    memcpy(a.info_hash, "\x01\x02\x03 info hash%&=+ \xff\x00!", 20);
    memcpy(a.peer_id, "-MT0001-0123456789ab", 20);
    a.port = 6881;
    a.left = 1000;
    a.event = TRACKER_EVENT_STARTED;
    a.numwant = 50;
    char target[TRACKER_HTTP_TARGET_MAX];
    tracker_http_announce_target(&u, &a, target, sizeof target, err, sizeof err);
    char line[TRACKER_HTTP_TARGET_MAX + 256];
    snprintf(line, sizeof line, "GET %s HTTP/1.1\r\n", target);
    write_text("tracker_http_request", "announce", line);
    snprintf(line, sizeof line, "GET %s&ip=10.0.0.1&no_peer_id=1&key=xyz HTTP/1.0", target);
    write_text("tracker_http_request", "announce_ip", line);
    tracker_http_scrape_target(&u, a.info_hash, target, sizeof target, err, sizeof err);
    snprintf(line, sizeof line,
             "GET %s&info_hash=%%41%%42%%43%%44%%45%%46%%47%%48%%49%%4a"
             "%%4b%%4c%%4d%%4e%%4f%%50%%51%%52%%53%%54 HTTP/1.1\r\n",
             target);
    write_text("tracker_http_request", "scrape_two", line);
    write_text("tracker_http_request", "scrape_all", "GET /scrape HTTP/1.0\r\n");
    write_text("tracker_http_request", "unknown_path", "GET /favicon.ico HTTP/1.1\r\n");
}

/* ============================================================== UDP tracker */

static void tracker_udp(void)
{
    unsigned char p[TRACKER_UDP_PACKET_MAX];
    static struct seed s;
    s.len = 0;
    uint32_t tid = 0x46555a5a; /* the harness's fixed transaction id */

    add_u8(&s, 0);
    add_u8(&s, 0);
    add(&s, p, tracker_udp_encode_connect_req(p, tid));
    write_s("tracker_udp", "connect_req", &s);

    s.len = 0;
    add_u8(&s, 1);
    add_u8(&s, 0);
    add(&s, p, tracker_udp_encode_connect_resp(p, tid, 0x1122334455667788ull));
    write_s("tracker_udp", "connect_resp", &s);

    struct tracker_udp_announce_req req;
    memset(&req, 0, sizeof req);
    req.connection_id = 0x1122334455667788ull;
    req.transaction_id = tid;
    memcpy(req.info_hash, "fuzz-udp-info-hash!!", 20);
    memcpy(req.peer_id, "-MT0001-0123456789ab", 20);
    req.left = 1000;
    req.event = TRACKER_EVENT_STARTED;
    req.num_want = -1;
    req.port = 6881;
    s.len = 0;
    add_u8(&s, 2);
    add_u8(&s, 0);
    add(&s, p, tracker_udp_encode_announce_req(p, &req));
    write_s("tracker_udp", "announce_req", &s);

    struct tracker_peer peers[2];
    memset(peers, 0, sizeof peers);
    peers[0].family = 4;
    memcpy(peers[0].ip, "\x7f\x00\x00\x01", 4);
    peers[0].port = 6881;
    peers[1].family = 6;
    peers[1].ip[15] = 1;
    peers[1].port = 6882;
    struct tracker_udp_announce_resp resp = {tid, 1800, 3, 4};
    s.len = 0;
    add_u8(&s, 3);
    add_u8(&s, 10);
    add(&s, p, tracker_udp_encode_announce_resp(p, sizeof p, &resp, peers, 2, 4));
    write_s("tracker_udp", "announce_resp4", &s);
    s.len = 0;
    add_u8(&s, 3 | 0x80);
    add_u8(&s, 10);
    add(&s, p, tracker_udp_encode_announce_resp(p, sizeof p, &resp, peers, 2, 6));
    write_s("tracker_udp", "announce_resp6", &s);

    unsigned char hashes[2][20];
    memcpy(hashes[0], "fuzz-udp-info-hash!!", 20);
    memcpy(hashes[1], "another-20-byte-hash", 20);
    s.len = 0;
    add_u8(&s, 4);
    add_u8(&s, 0);
    add(&s, p,
        tracker_udp_encode_scrape_req(p, sizeof p, 0x1122334455667788ull, tid,
                                      (const unsigned char(*)[20])hashes, 2));
    write_s("tracker_udp", "scrape_req", &s);

    struct tracker_scrape_counts counts[2] = {{1, 2, 3}, {4, 5, 6}};
    s.len = 0;
    add_u8(&s, 5 | 0x40); /* the packet's own transaction id */
    add_u8(&s, 2);
    add(&s, p, tracker_udp_encode_scrape_resp(p, sizeof p, 7, counts, 2));
    write_s("tracker_udp", "scrape_resp", &s);

    s.len = 0;
    add_u8(&s, 1);
    add_u8(&s, 0);
    add(&s, p, tracker_udp_encode_error(p, sizeof p, tid, "unknown torrent"));
    write_s("tracker_udp", "error", &s);
}

/* ============================================================== URLs and text */

static void text_seeds(void)
{
    write_text("bencode", "int", "i42e");
    write_text("bencode", "neg", "i-7e");
    write_text("bencode", "str", "4:spam");
    write_text("bencode", "list", "l4:spami42ee");
    write_text("bencode", "dict", "d3:bar4:spam3:fooi42ee");
    write_text("bencode", "nested", "d1:ad1:bl1:c0:i0eee1:zlee");
    write_text("bencode", "unsorted", "d3:foo1:a3:bar1:be");
    write_text("bencode", "trailing", "i42etrailing");

    write_text("url", "http", "http://tracker.example:6969/announce?passkey=abc#frag");
    write_text("url", "udp", "udp://tracker.example:1337/announce");
    write_text("url", "ipv6", "http://[2001:db8::7]/announce");
    write_text("url", "escapes", "%41%2f+a%ff%00-._~");

    write_text("linereader", "lines", "hello\nworld\r\n\nlast line without newline");
    static const char utf8[] = "caf\xc3\xa9 \xe2\x82\xac\n\x00\x01\x7f\n"; /* with a NUL */
    write_seed("linereader", "utf8", utf8, sizeof utf8 - 1);
    write_text("upper_session", "lines", "hello\nworld\r\n\nlast line without newline");
    static const char hello[] = "Hello, world! caf\xc3\xa9 \x00 z{`@[";
    write_seed("upper_datagram", "hello", hello, sizeof hello - 1);

    /* A line of exactly LINEREADER_MAX bytes, and one byte more, around the limit. */
    static char big[4096 + 4];
    memset(big, 'a', 4096);
    big[4096] = '\n';
    write_seed("linereader", "max_line", big, 4097);
    write_seed("upper_session", "max_line", big, 4097);
    big[4096] = 'b';
    big[4097] = '\n';
    write_seed("linereader", "too_long", big, 4098);
    write_seed("upper_session", "too_long", big, 4098);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR (usually fuzz/corpus)\n");
        return 2;
    }
    root = argv[1];
    torrents();
    wire();
    session();
    tracker_http();
    tracker_udp();
    text_seeds();
    return 0;
}
