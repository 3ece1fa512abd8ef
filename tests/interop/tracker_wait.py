#!/usr/bin/python3
"""tracker_wait.py - waits until an HTTP tracker's scrape shows enough seeders for a torrent.

    tracker_wait.py ANNOUNCE_URL TORRENT [--complete N] [--timeout SECS]

Polls the scrape URL (BEP 48: ".../announce" becomes ".../scrape") every 50 ms until "complete"
for the torrent's info hash reaches N (default 1), then prints the counts and exits 0. Exits 1
with the last answer when the time out (default 30 s) passes. A seeder appears as complete only
after its own hash check and its first announce, so this is the event a downloader waits for.

The info hash is computed here from the torrent file itself (SHA-1 of the bencoded info
dictionary as it appears in the file), with no BitTorrent library.
"""
import hashlib
import sys
import time
import urllib.parse
import urllib.request


def bdecode(data, i=0):
    """Decodes one bencoded value at data[i:]; returns (value, end). Dicts keep raw spans."""
    c = data[i:i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            start = i
            v, i = bdecode(data, i)
            out[k] = v
            out[(k, "raw")] = data[start:i]
        return out, i + 1
    j = data.index(b":", i)
    n = int(data[i:j])
    return data[j + 1:j + 1 + n], j + 1 + n


def info_hash(torrent):
    with open(torrent, "rb") as f:
        meta, _ = bdecode(f.read())
    return hashlib.sha1(meta[(b"info", "raw")]).digest()


def scrape_url(announce, ih):
    parts = announce.rsplit("/", 1)
    if len(parts) != 2 or not parts[1].startswith("announce"):
        raise SystemExit("tracker_wait: %s has no /announce to turn into /scrape" % announce)
    url = parts[0] + "/scrape" + parts[1][len("announce"):]
    sep = "&" if "?" in url else "?"
    return url + sep + "info_hash=" + urllib.parse.quote_from_bytes(ih, safe="")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    announce, torrent = argv[0], argv[1]
    want, timeout = 1, 30.0
    rest = argv[2:]
    while rest:
        if rest[0] == "--complete" and len(rest) > 1:
            want = int(rest[1])
        elif rest[0] == "--timeout" and len(rest) > 1:
            timeout = float(rest[1])
        else:
            print("tracker_wait: unknown option " + rest[0], file=sys.stderr)
            return 2
        rest = rest[2:]
    ih = info_hash(torrent)
    url = scrape_url(announce, ih)
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                reply, _ = bdecode(r.read())
            files = reply.get(b"files", {})
            counts = files.get(ih, {}) if isinstance(files, dict) else {}
            complete = counts.get(b"complete", 0)
            last = "%d complete, %d incomplete" % (complete, counts.get(b"incomplete", 0))
            if complete >= want:
                print("tracker: " + last, flush=True)
                return 0
        except (OSError, ValueError, IndexError, AttributeError) as e:
            last = "scrape failed: %s" % e
        if time.monotonic() > deadline:
            print("tracker_wait: after %.0f s still %s (wanted %d complete)" % (timeout, last, want))
            return 1
        time.sleep(0.05)  # a bounded poll on the condition, not a synchronising sleep


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
