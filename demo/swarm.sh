#!/bin/sh
# The lecture demo: a real BitTorrent swarm on this machine, first watched live (who has which
# piece, who uploads to whom, the re-chokes and the optimistic unchoke), then timed against the
# course notes' bound on distribution time (Kurose & Ross). It finishes by itself in about a
# minute.
#
#   sh demo/swarm.sh [BINDIR] [OUTDIR]     (what `make demo-swarm` runs; `make demo` too)
#
# Part 1 runs 8 leechers on an 8 MiB file with the notes' rules (4 upload slots, a re-choke
# every 10 s, an optimistic unchoke every 30 s) at time scale 4: every timer divided by 4 and
# every rate multiplied by 4, so the same swarm runs 4 times faster and shows several re-chokes
# and at least two optimistic rotations in under 20 s. The live table has a piece map per peer
# ('#' marks the rarest pieces: watch them spread first), the unchoke list (* the optimistic
# one) and the rates over the last 2 s; the same view is served as a web page (the address is
# printed; open it on the projector).
#
# Part 2 runs N = 2 and N = 8 leechers, each first as P2P (every leecher uploads at 512 KiB/s)
# and then as client-server (the leechers upload nothing, so the seed serves everyone at
# 1 MiB/s), prints D, the bound and their ratio, and draws D against N into OUTDIR.
set -eu
bin=${1:-bin}
out=${2:-build/demo}
mkdir -p "$out"
plot="$out/distribution-time.svg"
json="$out/distribution-time.json"

echo "== Part 1: 8 leechers and a seed trade an 8 MiB file; BitTorrent's rules, 4 times faster."
echo "   Seed upload 256 KiB/s, leechers 128 KiB/s each (x4: 1 MiB/s and 512 KiB/s)."
echo "   Re-choke every 10 s and optimistic unchoke every 30 s (/4: 2.5 s and 7.5 s)."
echo
"$bin/minitorrent" swarm --peers 8 --size 8M --piece 128K --seed-up 256K --peer-up 128K \
    --time-scale 4 --web
echo
echo "== Part 2: a 2 MiB file to N leechers, each a separate process on its own 127.0.0.x address."
echo "   Seed upload u_s = 1 MiB/s; in P2P each leecher uploads u_i = 512 KiB/s."
echo "   K&R: client-server D >= N*F/u_s grows with N; P2P D >= max{F/u_s, N*F/(u_s + N*u_i)}"
echo "   levels off. Watch the two modes at N = 2 and N = 8."
echo
"$bin/minitorrent" swarm --peers 2,8 --size 2M --piece 64K --seed-up 1M --peer-up 512K \
    --rechoke-secs 2 --plot "$plot" --json "$json"
echo
echo "The figure (D against N, measured points and both bounds) is in $plot;"
echo "the numbers are in $json. To measure what each rule buys: minitorrent experiment --help"
