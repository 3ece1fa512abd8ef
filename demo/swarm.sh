#!/bin/sh
# The lecture demo: a real BitTorrent swarm on this machine, timed against the course notes'
# bound on distribution time (Kurose & Ross). It finishes by itself in about half a minute.
#
#   sh demo/swarm.sh [BINDIR] [OUTDIR]     (what `make demo-swarm` runs; `make demo` too)
#
# It runs `minitorrent swarm` twice over: N = 2 and N = 8 leechers, each first as P2P (every
# leecher uploads at 512 KiB/s) and then as client-server (the leechers upload nothing, so the
# seed serves everyone at 1 MiB/s). The live table shows each swarm: who has which share of the
# pieces, who uploads to whom, and the optimistic unchoke (*). At the end a table gives the
# measured distribution time D, the bound and their ratio for each run, and the figure of D
# against N goes to OUTDIR/distribution-time.svg (open it in a browser).
#
# The re-choke interval is 2 s instead of BitTorrent's 10 s, so the choices visibly change during
# a short demo; the algorithm is the same, on a faster clock.
set -eu
bin=${1:-bin}
out=${2:-build/demo}
mkdir -p "$out"
plot="$out/distribution-time.svg"
json="$out/distribution-time.json"

echo "== A 2 MiB file to N leechers, each a separate process on its own 127.0.0.x address."
echo "   Seed upload u_s = 1 MiB/s; in P2P each leecher uploads u_i = 512 KiB/s."
echo "   K&R: client-server D >= N*F/u_s grows with N; P2P D >= max{F/u_s, N*F/(u_s + N*u_i)}"
echo "   levels off. Watch the two modes at N = 2 and N = 8."
echo
"$bin/minitorrent" swarm --peers 2,8 --size 2M --piece 64K --seed-up 1M --peer-up 512K \
    --rechoke-secs 2 --plot "$plot" --json "$json"
echo
echo "The figure (D against N, measured points and both bounds) is in $plot;"
echo "the numbers are in $json. For a bigger figure: minitorrent swarm --peers 2,4,8,16 --plot FILE.svg"
