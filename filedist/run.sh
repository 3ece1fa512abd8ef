#!/bin/sh
# run.sh - client-server file distribution, measured: starts filedist_server with an upload limit
# u_s on a random file of F bytes, then filedist_client with N clients for each N given, and
# prints the distribution time D next to the bound N*F/u_s.
#
#   sh filedist/run.sh BINDIR SIZE RATE N...      e.g. sh filedist/run.sh bin 1M 1M 1 2 4
set -eu
bin=$1 size=$2 rate=$3
shift 3
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
case $size in
*K) bytes=$((${size%K} * 1024)) ;;
*M) bytes=$((${size%M} * 1048576)) ;;
*) bytes=$size ;;
esac
head -c "$bytes" /dev/urandom >"$tmp/file"
"$bin/filedist_server" -p 0 --up-rate "$rate" "$tmp/file" >"$tmp/server.out" &
pid=$!
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening on //p' "$tmp/server.out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "run.sh: the server did not start" >&2; exit 1; }
echo "filedist_server on port $port: F = $size, u_s = $rate/s"
for n in "$@"; do
    mkdir -p "$tmp/out$n"
    echo "== N = $n"
    "$bin/filedist_client" 127.0.0.1 "$port" -n "$n" -o "$tmp/out$n" | sed -n 's/^distribution time/  &/p; s/^client-server bound/  &/p; s/^D \/ bound/  &/p'
    for f in "$tmp/out$n"/copy*; do cmp -s "$f" "$tmp/file" || echo "  $f differs from the file"; done
done
