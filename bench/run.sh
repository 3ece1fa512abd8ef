#!/bin/sh
# The benchmarks behind `make bench`. Every figure is printed as one `name: value` line, and all
# of them go to build/bench.json at the end. Ratios compare runs made here, in this same run, so
# they compare like with like on whatever machine this is.
#
#   QUICK=1 sh bench/run.sh     a 64 MiB file and one run each (under two minutes)
#   sh bench/run.sh             a 256 MiB file and the median of three runs
#
# Benchmarks never run inside `make check`: they measure speed, and tests must not depend on it.
set -eu

top=$(pwd)
mt="$top/bin/minitorrent"
bb="$top/build/bench"
out="$top/build/bench.txt"
json="$top/build/bench.json"
quick=${QUICK:-}
if [ -n "$quick" ]; then size_mib=64; runs=1; else size_mib=256; runs=3; fi

work=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
: >"$out"

# figure NAME VALUE [NOTE]: prints one figure and keeps it for the JSON file.
figure() {
    if [ $# -gt 2 ]; then
        echo "$1: $2    ($3)"
    else
        echo "$1: $2"
    fi
    echo "$1 $2" >>"$out"
}

# seconds CMD...: runs CMD and prints the seconds it took (from timecmd).
seconds() {
    "$bb/timecmd" "$@" 2>"$work/time.err" >"$work/time.out" || {
        cat "$work/time.out" "$work/time.err" >&2
        return 1
    }
    sed -n 's/^timecmd: //p' "$work/time.err"
}

# median VALUES...: the middle value (the lower middle for an even count).
median() {
    printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

# ratio A B: A / B with three decimals.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'
}

# mbps BYTES SECONDS: megabytes (10^6) per second.
mbps() {
    awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s / 1e6; else print "nan" }'
}

# wait_line FILE TEXT: waits up to 30 s for a line containing TEXT in FILE.
wait_line() {
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 600 ] || { echo "bench: no \"$2\" in $1" >&2; cat "$1" >&2; exit 1; }
        sleep 0.05
    done
}

echo "== bench: ${size_mib} MiB file, $runs run(s) per figure, $(nproc 2>/dev/null || echo '?') cores"
bytes=$((size_mib * 1024 * 1024))
mkdir -p "$work/seed"
head -c "$bytes" /dev/urandom >"$work/seed/data.bin"
cat "$work/seed/data.bin" >/dev/null # into the page cache, so no run pays for the disk

# ---- SHA-1: ours against sha1sum, on the same file -----------------------------------------------
ours=""
theirs=""
for i in $(seq 1 "$runs"); do
    ours="$ours $(seconds "$bb/sha1file" "$work/seed/data.bin")"
    theirs="$theirs $(seconds sha1sum "$work/seed/data.bin")"
done
t_ours=$(median $ours)
t_theirs=$(median $theirs)
figure sha1_MBps "$(mbps "$bytes" "$t_ours")"
figure sha1sum_MBps "$(mbps "$bytes" "$t_theirs")"
figure sha1_ratio_vs_sha1sum "$(ratio "$t_theirs" "$t_ours")" "goal >= 1.0"

# ---- The loopback TCP limit -------------------------------------------------------------------
tcp=""
for i in $(seq 1 "$runs"); do
    "$bb/tcpcopy" "$work/seed/data.bin" >"$work/tcp.out"
    tcp="$tcp $(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "$work/tcp.out")"
done
tcp_mbps=$(median $tcp)
figure loopback_tcp_MBps "$tcp_mbps"

# ---- minitorrent to minitorrent, one seeder and one leecher ------------------------------------
"$mt" tracker -p 0 -b 127.0.0.1 >"$work/tracker.out" 2>&1 &
pids="$pids $!"
wait_line "$work/tracker.out" "announce"
tport=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$work/tracker.out" | head -n 1)
"$mt" create "$work/seed/data.bin" -a "http://127.0.0.1:$tport/announce" --private \
    -o "$work/data.torrent" >/dev/null
"$mt" seed "$work/data.torrent" -d "$work/seed" -b 127.0.0.1 >"$work/seed.out" 2>&1 &
seedpid=$!
pids="$pids $seedpid"
wait_line "$work/seed.out" "listening on"
mt_runs=""
for i in $(seq 1 "$runs"); do
    rm -rf "$work/get"
    mkdir "$work/get"
    s=$(seconds "$mt" get "$work/data.torrent" -d "$work/get" -b 127.0.0.1)
    cmp -s "$work/seed/data.bin" "$work/get/data.bin" || { echo "bench: bad copy" >&2; exit 1; }
    mt_runs="$mt_runs $(mbps "$bytes" "$s")"
done
mt_mbps=$(median $mt_runs)
figure transfer_mt_mt_MBps "$mt_mbps" "wall time of minitorrent get, from start to exit"
figure transfer_fraction_of_tcp_limit "$(ratio "$mt_mbps" "$tcp_mbps")"
kill "$seedpid" 2>/dev/null || true

# ---- tcp_upper_server3 with 1000 clients at once, against server2 serving one at a time --------
hard=$(ulimit -Hn)
ulimit -n "$hard" 2>/dev/null || true
for server in tcp_upper_server3 tcp_upper_server2; do
    "$top/bin/$server" -p 0 -b 127.0.0.1 >"$work/$server.out" 2>&1 &
    spid=$!
    pids="$pids $spid"
    wait_line "$work/$server.out" "listening on"
    port=$(sed -n 's/^listening on //p' "$work/$server.out")
    if [ "$server" = tcp_upper_server3 ]; then conc=1000; else conc=1; fi
    "$bb/tcpload" "$port" "$conc" 1000 100 >"$work/load.out" || true
    kill "$spid" 2>/dev/null || true
    eval "${server}_lps=\$(sed -n 's/.*lines_per_s=\([0-9]*\).*/\1/p' \"\$work/load.out\")"
    eval "${server}_err=\$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' \"\$work/load.out\")"
done
figure tcp_server3_errors "$tcp_upper_server3_err" "goal 0; 1000 clients at once, 100 lines each"
figure tcp_server3_lines_per_s "$tcp_upper_server3_lps"
figure tcp_server2_lines_per_s "$tcp_upper_server2_lps" "the same 1000 clients, one at a time"
figure tcp_server3_lines_per_s_ratio_vs_server2 \
    "$(ratio "$tcp_upper_server3_lps" "$tcp_upper_server2_lps")"

# ---- build/bench.json -------------------------------------------------------------------------
awk 'BEGIN { printf "{" }
     { printf "%s\n  \"%s\": %s", (NR > 1 ? "," : ""), $1, ($2 == "nan" ? "null" : $2) }
     END { print "\n}" }' "$out" >"$json"
echo "== figures written to build/bench.json"
