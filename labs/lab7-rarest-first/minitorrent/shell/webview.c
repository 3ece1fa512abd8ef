/*
 * webview.c - the live web page and its small HTTP server (see webview.h).
 */
#include "webview.h"
#include "cli.h"
#include "json_out.h"
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "tracker_server.h"

#include <sys/select.h>

struct webview {
    int listen_fd;
    int port;
    char *state; /* the current /state.json */
    size_t state_len;
    double next_publish_s;
};

/* The page. Everything it needs is in it; it talks only to the server it came from. */
static const char page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>minitorrent live view</title>\n"
    "<style>\n"
    "body{font-family:sans-serif;margin:16px;background:#fff;color:#111;font-size:18px}\n"
    "h1{font-size:22px;margin:0 0 8px}\n"
    "#title{font-family:monospace;font-size:16px;margin-bottom:8px}\n"
    "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;font-size:16px}\n"
    "th{border-bottom:1px solid #999}.map{display:flex;flex-wrap:wrap;width:320px}\n"
    ".cell{width:9px;height:14px;margin:0 1px 1px 0}\n"
    ".legend span{display:inline-block;width:14px;height:14px;margin:0 4px 0 12px;"
    "vertical-align:middle}\n"
    "#plot{border:1px solid #ccc;margin-top:12px}\n"
    "</style></head><body>\n"
    "<h1>minitorrent: the swarm, live</h1>\n"
    "<div id=\"title\">waiting for the swarm...</div>\n"
    "<div class=\"legend\">pieces: <span style=\"background:#c0392b\"></span>rarest\n"
    "<span style=\"background:#e67e22\"></span>rare<span style=\"background:#1f5fa8\"></span>"
    "common<span style=\"background:#eee;border:1px solid #ccc\"></span>missing\n"
    "&nbsp; unchokes: <b>*</b> marks the optimistic unchoke; rates are averages over the last "
    "2 s</div>\n"
    "<table><thead><tr><th>peer</th><th>address</th><th>unchokes (*: optimistic)</th>"
    "<th>have</th><th>down/s</th><th>up/s</th><th>finished</th><th>pieces</th></tr></thead>\n"
    "<tbody id=\"rows\"></tbody></table>\n"
    "<svg id=\"plot\" width=\"640\" height=\"260\" xmlns=\"http://www.w3.org/2000/svg\"></svg>\n"
    "<script>\n"
    "'use strict';\n"
    "function rate(b){if(b>=1048576)return (b/1048576).toFixed(1)+' MiB/s';"
    "if(b>=1024)return (b/1024).toFixed(1)+' KiB/s';return Math.round(b)+' B/s';}\n"
    "function has(hex,i){var d=parseInt(hex.charAt(i>>2),16);return "
    "!isNaN(d)&&((d>>(3-(i&3)))&1);}\n"
    "function td(tr,text){var c=document.createElement('td');c.textContent=text;"
    "tr.appendChild(c);return c;}\n"
    "function draw(s){\n"
    " document.getElementById('title').textContent=s.title+'   t = '+s.t_s.toFixed(1)+' s';\n"
    " var n=s.pieces,live=s.peers.filter(function(p){return p.state!=='down';});\n"
    " var avail=[];for(var i=0;i<n;i++){var c=0;live.forEach(function(p){"
    "if(p.bitfield?has(p.bitfield,i):p.have===n)c++;});avail.push(c);}\n"
    " var lo=Math.min.apply(null,avail.length?avail:[0]);\n"
    " var rows=document.getElementById('rows');rows.textContent='';\n"
    " s.peers.forEach(function(p){var tr=document.createElement('tr');td(tr,p.name);"
    "td(tr,p.address);\n"
    "  td(tr,p.unchokes.map(function(u){return (u===p.optimistic?'*':'')+u;}).join(' '));\n"
    "  td(tr,p.have+'/'+n);td(tr,p.name==='seed'?'-':rate(p.down_Bps));td(tr,rate(p.up_Bps));\n"
    "  td(tr,p.finished_s===null?'-':p.finished_s.toFixed(1)+' s');\n"
    "  var m=document.createElement('div');m.className='map';\n"
    "  for(var i=0;i<n;i++){var e=document.createElement('div');e.className='cell';\n"
    "   var h=p.bitfield?has(p.bitfield,i):i<p.have;\n"
    "   e.style.background=!h?'#eee':avail[i]<=lo?'#c0392b':avail[i]<=lo+1?'#e67e22':'#1f5fa8';\n"
    "   m.appendChild(e);}\n"
    "  var "
    "c=document.createElement('td');c.appendChild(m);tr.appendChild(c);rows.appendChild(tr);});\n"
    " plot(s);}\n"
    "function plot(s){var svg=document.getElementById('plot'),ns='http://www.w3.org/2000/svg';\n"
    " svg.textContent='';var W=640,H=260,L=60,B=40;\n"
    " var done=s.peers.filter(function(p){return p.finished_s!==null;}).map(function(p){"
    "return p.finished_s;}).sort(function(a,b){return a-b;});\n"
    " var leech=s.peers.filter(function(p){return p.name!=='seed';}).length||1;\n"
    " var tmax=Math.max(s.t_s,s.bound_s||0,1);\n"
    " function el(t,a,text){var e=document.createElementNS(ns,t);for(var k in a)"
    "e.setAttribute(k,a[k]);if(text)e.textContent=text;svg.appendChild(e);return e;}\n"
    " el('line',{x1:L,y1:H-B,x2:W-10,y2:H-B,stroke:'#333'});el('line',{x1:L,y1:10,x2:L,y2:H-B,"
    "stroke:'#333'});\n"
    " el('text',{x:W/2,y:H-8,'font-size':16,'text-anchor':'middle'},'time (s): peers finished "
    "so far; the dashed line is the lower bound on D');\n"
    " el('text',{x:L-8,y:20,'font-size':16,'text-anchor':'end'},String(leech));"
    "el('text',{x:L-8,y:H-B,'font-size':16,'text-anchor':'end'},'0');\n"
    " el('text',{x:W-10,y:H-B+18,'font-size':16,'text-anchor':'end'},tmax.toFixed(1));\n"
    " if(s.bound_s>0){var bx=L+(W-10-L)*s.bound_s/tmax;el('line',{x1:bx,y1:10,x2:bx,y2:H-B,"
    "stroke:'#c0392b','stroke-dasharray':'6 4'});}\n"
    " var pts=L+','+(H-B);done.forEach(function(t,i){var x=L+(W-10-L)*t/tmax,"
    "y=H-B-(H-B-10)*(i+1)/leech;pts+=' '+x+','+(H-B-(H-B-10)*i/leech)+' '+x+','+y;"
    "el('circle',{cx:x,cy:y,r:4,fill:'#1f5fa8'});});\n"
    " el('polyline',{points:pts,fill:'none',stroke:'#1f5fa8','stroke-width':2});}\n"
    "function tick(){fetch('/state.json',{cache:'no-store'}).then(function(r){return r.json();})"
    ".then(draw).catch(function(){document.getElementById('title').textContent="
    "'the swarm has ended (no answer from the server)';});}\n"
    "tick();setInterval(tick,500);\n"
    "</script></body></html>\n";

struct webview *webview_start(const char *port, char *err, size_t errlen)
{
    struct webview *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Loopback only: the page shows addresses and rates of the machine's swarm, and a lecture
     * needs no more. A view for other machines would bind a chosen address instead. */
    w->listen_fd = net_listen("127.0.0.1", port, SOCK_STREAM, err, errlen);
    if (w->listen_fd < 0 || net_set_nonblocking(w->listen_fd) < 0) {
        if (w->listen_fd >= 0) {
            snprintf(err, errlen, "fcntl: %s", strerror(errno));
            close(w->listen_fd);
        }
        free(w);
        return NULL;
    }
    w->port = net_local_port(w->listen_fd);
    static const char empty[] = "{\"t_s\": 0, \"title\": \"starting\", \"pieces\": 0, "
                                "\"bound_s\": 0, \"peers\": []}\n";
    if (webview_set_state(w, empty, sizeof empty - 1) < 0) {
        webview_stop(w);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return w;
}

struct webview *webview_start_for(FILE *out, const char *cmd, const char *port)
{
    char err[256];
    struct webview *w = webview_start(port, err, sizeof err);
    if (w == NULL) {
        fprintf(stderr, "minitorrent %s: cannot serve the web view on port %s: %s\n", cmd, port,
                err);
        return NULL;
    }
    fprintf(out, "web view at http://127.0.0.1:%d/\n", w->port);
    fflush(out);
    return w;
}

int webview_port(const struct webview *w)
{
    return w->port;
}

int webview_set_state(struct webview *w, const char *json, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, json, len);
    copy[len] = '\0';
    free(w->state);
    w->state = copy;
    w->state_len = len;
    return 0;
}

/* Writes the names of the peers that st unchokes as a JSON array (the optimistic one too). */
static void json_unchokes(struct json_out *j, const struct swarm_view *v,
                          const struct swarm_status *st)
{
    json_begin_array(j);
    const char *p = strcmp(st->unchoked, "-") == 0 ? "" : st->unchoked;
    bool opt_listed = false;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        char one[80];
        if (n < sizeof one) {
            memcpy(one, p, n);
            one[n] = '\0';
            const char *name = swarm_view_name_of(v, one);
            json_string(j, name != NULL ? name : one);
            opt_listed |= strcmp(one, st->optimistic) == 0;
        }
        p += n + (p[n] == ',');
    }
    if (!opt_listed && st->optimistic[0] != '\0' && strcmp(st->optimistic, "-") != 0) {
        const char *name = swarm_view_name_of(v, st->optimistic);
        json_string(j, name != NULL ? name : st->optimistic);
    }
    json_end_array(j);
}

static const char *state_name(enum swarm_peer_state s)
{
    switch (s) {
    case SWARM_PEER_STARTING:
        return "starting";
    case SWARM_PEER_RUNNING:
        return "running";
    case SWARM_PEER_DONE:
        return "done";
    case SWARM_PEER_DOWN:
        return "down";
    case SWARM_PEER_FAILED:
        return "failed";
    }
    return "?";
}

char *webview_state_json(const struct swarm_view *v, double now_s, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        return NULL;
    struct json_out j;
    json_out_init(&j, f);
    json_begin_object(&j);
    json_key(&j, "t_s");
    json_number(&j, now_s);
    json_key(&j, "title");
    json_string(&j, v->title);
    uint32_t pieces = 0;
    for (size_t i = 0; i < v->npeers; i++)
        if (v->peers[i].st.total > pieces)
            pieces = v->peers[i].st.total;
    json_key(&j, "pieces");
    json_uint(&j, pieces);
    json_key(&j, "bound_s");
    json_number(&j, v->bound_s);
    json_key(&j, "peers");
    json_begin_array(&j);
    for (size_t i = 0; i < v->npeers; i++) {
        const struct swarm_view_peer *p = &v->peers[i];
        json_begin_object(&j);
        json_key(&j, "name");
        json_string(&j, p->name);
        json_key(&j, "address");
        json_string(&j, p->addr);
        json_key(&j, "state");
        json_string(&j, state_name(p->state));
        json_key(&j, "have");
        json_uint(&j, p->st.have);
        json_key(&j, "bitfield");
        if (p->st.pieces[0] != '\0')
            json_string(&j, p->st.pieces);
        else
            json_null(&j);
        json_key(&j, "down_Bps");
        json_number(&j, i == 0 ? 0 : p->st.down_Bps);
        json_key(&j, "up_Bps");
        json_number(&j, p->st.up_Bps);
        json_key(&j, "unchokes");
        json_unchokes(&j, v, &p->st);
        json_key(&j, "optimistic");
        const char *opt = p->st.optimistic;
        const char *oname =
            opt[0] != '\0' && strcmp(opt, "-") != 0 ? swarm_view_name_of(v, opt) : NULL;
        if (oname != NULL)
            json_string(&j, oname);
        else
            json_null(&j);
        json_key(&j, "finished_s");
        if (p->finish_s >= 0)
            json_number(&j, p->finish_s);
        else
            json_null(&j);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    int rc = json_out_finish(&j);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

void webview_publish(struct webview *w, const struct swarm_view *v, double now_s)
{
    if (w == NULL)
        return;
    if (clock_s() >= w->next_publish_s) {
        size_t len;
        char *json = webview_state_json(v, now_s, &len);
        if (json != NULL) {
            free(w->state);
            w->state = json;
            w->state_len = len;
        }
        w->next_publish_s = clock_s() + 0.2;
    }
    webview_service(w, 0);
}

/* Sends a whole response. The socket has a send timeout, so a client that stops reading costs
 * at most a second. */
static void respond(int fd, const char *status, const char *type, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, type, len);
    const char *parts[2] = {head, body};
    size_t lens[2] = {(size_t)n, len};
    for (int k = 0; k < 2; k++)
        for (size_t off = 0; off < lens[k];) {
            ssize_t w = send(fd, parts[k] + off, lens[k] - off, 0);
            if (w <= 0) {
                if (w < 0 && errno == EINTR)
                    continue;
                return;
            }
            off += (size_t)w;
        }
}

/* Reads one request from a new connection (waiting at most a second for it) and answers it. */
static void answer(struct webview *w, int fd)
{
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[2048];
    size_t len = 0;
    /* Only the request line matters; read until the end of the headers or a full buffer. A
     * request that does not arrive within the timeout is dropped. */
    while (len < sizeof req - 1) {
        ssize_t n = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
            break;
    }
    req[len] = '\0';
    if (strncmp(req, "GET / ", 6) == 0 || strncmp(req, "GET /index.html ", 16) == 0)
        respond(fd, "200 OK", "text/html; charset=utf-8", page, sizeof page - 1);
    else if (strncmp(req, "GET /state.json ", 16) == 0)
        respond(fd, "200 OK", "application/json", w->state, w->state_len);
    else if (strncmp(req, "GET ", 4) == 0)
        respond(fd, "404 Not Found", "text/plain", "not found\n", 10);
    else
        respond(fd, "400 Bad Request", "text/plain", "bad request\n", 12);
}

int webview_service(struct webview *w, int timeout_ms)
{
    if (w == NULL)
        return 0;
    int answered = 0;
    struct pollfd pfd = {.fd = w->listen_fd, .events = POLLIN};
    while (answered < 16 && poll(&pfd, 1, answered == 0 ? timeout_ms : 0) > 0) {
        int fd = accept(w->listen_fd, NULL, NULL);
        if (fd < 0)
            break;
        answer(w, fd);
        close(fd);
        answered++;
    }
    return answered;
}

void webview_finish(struct webview *w, bool hold, FILE *out)
{
    if (w == NULL)
        return;
    if (hold && !cli_stop_requested) {
        fprintf(out, "web view still at http://127.0.0.1:%d/ (--hold): Ctrl-C to stop\n", w->port);
        fflush(out);
        while (!cli_stop_requested)
            webview_service(w, 200);
    }
    webview_stop(w);
}

void webview_stop(struct webview *w)
{
    if (w == NULL)
        return;
    if (w->listen_fd >= 0)
        close(w->listen_fd);
    free(w->state);
    free(w);
}

/* ======================================================================================== */
/* The tracker's view                                                                       */
/* ======================================================================================== */

enum { TRACKER_VIEW_PEERS = 512, TRACKER_VIEW_TORRENTS = 64 };

/* What the tracker's view remembers between two snapshots: each torrent's size as far as the
 * tracker can tell (the largest "left" any of its peers announced), and when each peer was first
 * seen complete. The rates need no memory here: the tracker keeps them (tracker_state.h). */
struct tracker_memory {
    struct {
        unsigned char hash[20];
        uint64_t size;
    } torrents[TRACKER_VIEW_TORRENTS];
    size_t ntorrents;
    struct {
        char key[80];
        double done_s;
    } peers[TRACKER_VIEW_PEERS];
    size_t npeers;
};

/* Returns the slot of the torrent with this hash, adding it; NULL when the table is full. */
static uint64_t *torrent_size(struct tracker_memory *m, const unsigned char hash[20])
{
    for (size_t i = 0; i < m->ntorrents; i++)
        if (memcmp(m->torrents[i].hash, hash, 20) == 0)
            return &m->torrents[i].size;
    if (m->ntorrents == TRACKER_VIEW_TORRENTS)
        return NULL;
    memcpy(m->torrents[m->ntorrents].hash, hash, 20);
    m->torrents[m->ntorrents].size = 0;
    return &m->torrents[m->ntorrents++].size;
}

/* Builds the tracker's state JSON from one snapshot of its peers, at now_s. */
static char *tracker_state_json(struct tracker_memory *m, const struct tracker_server_peer_view *v,
                                size_t n, double now_s, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t *sz = torrent_size(m, v[i].info_hash);
        if (sz != NULL && v[i].left > *sz)
            *sz = v[i].left;
    }
    struct json_out j;
    json_out_init(&j, f);
    json_begin_object(&j);
    json_key(&j, "t_s");
    json_number(&j, now_s);
    json_key(&j, "title");
    char title[160];
    snprintf(title, sizeof title,
             "tracker: %zu peers in %zu torrents (progress from their announces; the tracker "
             "sees no pieces or unchokes)",
             n, m->ntorrents);
    json_string(&j, title);
    json_key(&j, "pieces");
    json_uint(&j, 100); /* a cell per per cent: the tracker knows fractions, not pieces */
    json_key(&j, "bound_s");
    json_number(&j, 0);
    json_key(&j, "peers");
    json_begin_array(&j);
    for (size_t i = 0; i < n; i++) {
        char key[80];
        snprintf(key, sizeof key, "%02x%02x %s:%d", v[i].info_hash[0], v[i].info_hash[1], v[i].addr,
                 v[i].port);
        size_t k = 0;
        while (k < m->npeers && strcmp(m->peers[k].key, key) != 0)
            k++;
        if (k == m->npeers && k < TRACKER_VIEW_PEERS) {
            m->npeers++;
            snprintf(m->peers[k].key, sizeof m->peers[k].key, "%s", key);
            m->peers[k].done_s = -1;
        }
        if (k < TRACKER_VIEW_PEERS && v[i].left == 0 && m->peers[k].done_s < 0)
            m->peers[k].done_s = now_s;
        uint64_t *sz = torrent_size(m, v[i].info_hash);
        uint64_t total = sz != NULL ? *sz : 0;
        json_begin_object(&j);
        char name[64];
        snprintf(name, sizeof name, "%s:%d", v[i].addr, v[i].port);
        json_key(&j, "name");
        json_string(&j, name);
        json_key(&j, "address");
        json_string(&j, v[i].addr);
        json_key(&j, "state");
        json_string(&j, v[i].left == 0 ? "done" : "running");
        json_key(&j, "have");
        json_uint(&j, total > 0 ? (uint64_t)(100.0 * (double)(total - v[i].left) / (double)total)
                                : 100);
        json_key(&j, "bitfield");
        json_null(&j);
        /* The rates between the peer's last two announces: as fresh as its announce interval,
         * a minute by default, where the swarm's own view measures over seconds. */
        json_key(&j, "down_Bps");
        json_uint(&j, v[i].down_Bps);
        json_key(&j, "up_Bps");
        json_uint(&j, v[i].up_Bps);
        json_key(&j, "unchokes");
        json_begin_array(&j);
        json_end_array(&j);
        json_key(&j, "optimistic");
        json_null(&j);
        json_key(&j, "finished_s");
        if (k < TRACKER_VIEW_PEERS && m->peers[k].done_s >= 0)
            json_number(&j, m->peers[k].done_s);
        else
            json_null(&j);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    int rc = json_out_finish(&j);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

void webview_serve_tracker(struct webview *w, struct tracker_server *srv, const sigset_t *wait_mask)
{
    static struct tracker_memory mem; /* one tracker per process */
    static struct tracker_server_peer_view snap[TRACKER_VIEW_PEERS];
    double start = clock_s(), next = 0;
    while (!cli_stop_requested) {
        double now = clock_s() - start;
        if (now >= next) {
            size_t n = tracker_server_peers(srv, snap, TRACKER_VIEW_PEERS);
            if (n > TRACKER_VIEW_PEERS)
                n = TRACKER_VIEW_PEERS;
            size_t len;
            char *json = tracker_state_json(&mem, snap, n, now, &len);
            if (json != NULL) {
                free(w->state);
                w->state = json;
                w->state_len = len;
            }
            next = now + 0.5;
        }
        fd_set rfds;
        FD_ZERO(&rfds);
        FD_SET(w->listen_fd, &rfds);
        struct timespec ts = {0, 200 * 1000 * 1000};
        if (pselect(w->listen_fd + 1, &rfds, NULL, NULL, &ts, wait_mask) > 0)
            webview_service(w, 0);
    }
}
