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

# Real clients run in a network namespace of their own when we are root, so that nothing they
# do can reach past this machine: the whole benchmark moves into one, where only loopback exists.
if [ "$(id -u)" = 0 ] && [ -z "${BENCH_IN_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 &&
    unshare --net true 2>/dev/null; then
    BENCH_IN_NETNS=1 exec unshare --net sh -c 'ip link set lo up && exec sh bench/run.sh'
fi

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

# ratio A B: A / B with three decimals ("nan" when either is unknown).
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "nan" && b != "nan" && b > 0) printf "%.3f", a / b; else print "nan" }'
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

# ---- SHA-1: ours against sha1sum, and against OpenSSL --------------------------------------
# sha1sum reads the file as it hashes, so sha1file does the same for that comparison. Against
# OpenSSL (its libcrypto, reached through Python's hashlib: the toolkit itself links libc only)
# both sides hash the file from memory, twenty passes each, and report their fastest pass; the
# two programs take turns so that both see the same load on a shared machine.
ours=""
theirs=""
mem_ours=""
mem_ossl=""
mem_port=""
have_ossl=yes
python3 -c 'import hashlib; assert hashlib.sha1.__name__ == "openssl_sha1"' 2>/dev/null || have_ossl=no
for i in $(seq 1 "$runs"); do
    ours="$ours $(seconds "$bb/sha1file" "$work/seed/data.bin")"
    theirs="$theirs $(seconds sha1sum "$work/seed/data.bin")"
    "$bb/sha1file" "$work/seed/data.bin" --memory 2>"$work/sha1.err" >"$work/sha1.ours"
    mem_ours="$mem_ours $(sed -n 's/.*(\([0-9.]*\) MB\/s.*/\1/p' "$work/sha1.err")"
    impl=$(sed -n 's/.*MB\/s, \(.*\))$/\1/p' "$work/sha1.err")
    "$bb/sha1file" "$work/seed/data.bin" --memory --portable 2>"$work/sha1.err" >/dev/null
    mem_port="$mem_port $(sed -n 's/.*(\([0-9.]*\) MB\/s.*/\1/p' "$work/sha1.err")"
    if [ $have_ossl = yes ]; then
        python3 "$top/bench/sha1_openssl.py" "$work/seed/data.bin" 2>"$work/sha1.err" >"$work/sha1.ossl"
        mem_ossl="$mem_ossl $(sed -n 's/.*(\([0-9.]*\) MB\/s.*/\1/p' "$work/sha1.err")"
        # A fast hash that computes something else is no result: the two digests must agree.
        cmp -s "$work/sha1.ours" "$work/sha1.ossl" || {
            echo "bench: our SHA-1 and OpenSSL's differ on the same bytes" >&2
            exit 1
        }
    fi
done
t_ours=$(median $ours)
t_theirs=$(median $theirs)
figure sha1_MBps "$(mbps "$bytes" "$t_ours")"
figure sha1sum_MBps "$(mbps "$bytes" "$t_theirs")"
figure sha1_ratio_vs_sha1sum "$(ratio "$t_theirs" "$t_ours")" "goal >= 1.0"
sha1_mem=$(median $mem_ours)
if [ $have_ossl = yes ]; then ossl_mbps=$(median $mem_ossl); else ossl_mbps=nan; fi
figure sha1_memory_MBps "$sha1_mem" "$impl, hashing from memory, fastest of 20 passes over up to 64 MiB"
figure sha1_portable_memory_MBps "$(median $mem_port)" "the portable C code, the same way"
figure sha1_openssl_MBps "$ossl_mbps" "the same, OpenSSL through Python's hashlib"
figure sha1_ratio_vs_openssl "$(ratio "$sha1_mem" "$ossl_mbps")" "goal >= 0.9"

# ---- The loopback TCP limit -------------------------------------------------------------------
tcp=""
for i in $(seq 1 "$runs"); do
    "$bb/tcpcopy" "$work/seed/data.bin" >"$work/tcp.out"
    tcp="$tcp $(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "$work/tcp.out")"
done
tcp_mbps=$(median $tcp)
figure loopback_tcp_MBps "$tcp_mbps"

# ---- Transfers: one seeder, one leecher, timed from the leecher's start to its exit -----------
# minitorrent, libtorrent (tests/interop/lt_peer.py) and aria2, each pair on the same torrent
# made by minitorrent and the same tracker (minitorrent's). Real clients run with DHT, local
# peer discovery, PEX, UPnP, NAT-PMP, uTP and encryption off.
lt="/usr/bin/python3 $top/tests/interop/lt_peer.py"
have_lt=no
/usr/bin/python3 -c 'import libtorrent' 2>/dev/null && have_lt=yes
have_aria2=no
command -v aria2c >/dev/null 2>&1 && have_aria2=yes
"$mt" tracker -p 0 -b 127.0.0.1 >"$work/tracker.out" 2>&1 &
pids="$pids $!"
wait_line "$work/tracker.out" "announce"
tport=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$work/tracker.out" | head -n 1)
url="http://127.0.0.1:$tport/announce"
"$mt" create "$work/seed/data.bin" -a "$url" --private -o "$work/data.torrent" >/dev/null

# start_seeder KIND: starts a seeder of the torrent and waits until the tracker lists it complete.
start_seeder() {
    case $1 in
    mt) "$mt" seed "$work/data.torrent" -d "$work/seed" -b 127.0.0.1 >"$work/seeder.out" 2>&1 & ;;
    lt) $lt seed "$work/data.torrent" "$work/seed" --bind 127.0.0.1 >"$work/seeder.out" 2>&1 & ;;
    aria2) timeout --kill-after=5 600 aria2c --no-conf=true --enable-dht=false \
        --enable-dht6=false --bt-enable-lpd=false --enable-peer-exchange=false \
        --bt-require-crypto=false --bt-min-crypto-level=plain --disable-ipv6=true \
        --file-allocation=none --summary-interval=0 --follow-torrent=false \
        --check-integrity=true --seed-ratio=0.0 --listen-port=6991 --dir="$work/seed" \
        "$work/data.torrent" >"$work/seeder.out" 2>&1 & ;;
    esac
    seederpid=$!
    pids="$pids $seederpid"
    /usr/bin/python3 "$top/tests/interop/tracker_wait.py" "$url" "$work/data.torrent" \
        --timeout 120 >/dev/null || { echo "bench: the $1 seeder never registered" >&2; exit 1; }
}

stop_seeder() {
    kill "$seederpid" 2>/dev/null || true
    wait "$seederpid" 2>/dev/null || true
}

# leech KIND: one download into a fresh folder; prints MB/s.
leech() {
    rm -rf "$work/get"
    mkdir "$work/get"
    case $1 in
    mt) s=$(seconds "$mt" get "$work/data.torrent" -d "$work/get" -b 127.0.0.1) ;;
    lt) s=$(seconds $lt get "$work/data.torrent" "$work/get" --bind 127.0.0.1 --timeout 300) ;;
    esac
    cmp -s "$work/seed/data.bin" "$work/get/data.bin" || { echo "bench: bad copy" >&2; exit 1; }
    mbps "$bytes" "$s"
}

# transfer SEEDER LEECHER: the median MB/s of the runs, or "nan" when a client is missing.
transfer() {
    for k in "$1" "$2"; do
        if { [ "$k" = lt ] && [ $have_lt = no ]; } || { [ "$k" = aria2 ] && [ $have_aria2 = no ]; }; then
            echo nan
            return
        fi
    done
    start_seeder "$1"
    r=""
    for i in $(seq 1 "$runs"); do r="$r $(leech "$2")"; done
    stop_seeder
    median $r
}

mt_mt=$(transfer mt mt)
lt_lt=$(transfer lt lt)
mt_lt=$(transfer mt lt)
lt_mt=$(transfer lt mt)
aria2_mt=$(transfer aria2 mt)
figure transfer_mt_mt_MBps "$mt_mt" "minitorrent seeds, minitorrent gets"
figure transfer_lt_lt_MBps "$lt_lt" "libtorrent seeds, libtorrent gets"
figure transfer_mt_seed_lt_get_MBps "$mt_lt"
figure transfer_lt_seed_mt_get_MBps "$lt_mt"
figure transfer_aria2_seed_mt_get_MBps "$aria2_mt"
figure transfer_ratio_vs_libtorrent "$(ratio "$mt_mt" "$lt_lt")" "goal >= 1.0"
figure transfer_ratio_mt_seed_lt_get "$(ratio "$mt_lt" "$lt_lt")"
figure transfer_ratio_lt_seed_mt_get "$(ratio "$lt_mt" "$lt_lt")"
figure transfer_ratio_aria2_seed_mt_get "$(ratio "$aria2_mt" "$lt_lt")"
figure transfer_fraction_of_tcp_limit "$(ratio "$mt_mt" "$tcp_mbps")"
# The leecher must receive every byte over TCP and hash it, so neither the loopback rate nor
# OpenSSL's SHA-1 rate on one core can be beaten; the smaller of the two is the limit.
limit_mbps=$(awk -v a="$tcp_mbps" -v b="$ossl_mbps" 'BEGIN { if (b == "nan" || a + 0 < b + 0) print a; else print b }')
figure transfer_fraction_of_limit "$(ratio "$mt_mt" "$limit_mbps")" \
    "goal >= 0.75; of min(loopback TCP, OpenSSL SHA-1) = $limit_mbps MB/s"

# The piece picker's cost over a whole download of 1024 pieces of 256 KiB (256 MiB) from 32 peers:
# its step that starts a new piece (choose_new_piece) scans every piece, so its cost grows with
# the square of the piece count, all of it under the lock every peer thread shares. Printed
# beside the time the same 256 MiB took over loopback above (transfer_mt_mt_MBps), and for 4096
# pieces (1 GiB) to show the growth.
set -- $("$bb/picker_cost" 1024)
pick_ms=$(echo "$4" | sed 's/picker_ms=//')
start_ms=$(echo "$5" | sed 's/start_ms=//')
figure picker_ms_1024_pieces "$pick_ms" "of which $start_ms ms in calls that started a piece"
figure picker_share_of_256mib_transfer_pct \
    "$(awk -v p="$pick_ms" -v r="$mt_mt" 'BEGIN { if (r > 0) printf "%.2f", 100 * p / (268.435456 / r * 1000); else print "nan" }')" \
    "picker time over the time 256 MiB took at transfer_mt_mt_MBps"
set -- $("$bb/picker_cost" 4096)
figure picker_ms_4096_pieces "$(echo "$4" | sed 's/picker_ms=//')" "O(P^2): about 16x the 1024 figure"

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

# ---- The swarm against the Kurose & Ross bound ----------------------------------------------
# The rates are the ones real clients were measured with on the same experiment (the README
# table puts their figures beside ours): u_s = 2 MiB/s, u_i = 1 MiB/s, F = 16 MiB (client-server:
# F = 8 MiB, u_s = 4 MiB/s), low enough that two cores are not the bottleneck even with 65
# processes. The first figures use 16 KiB pieces: a peer can pass a piece on only once it holds
# all of it, so small pieces shorten the start-up and the end game, which is where the gap to
# the bound comes from. The 256 KiB figures are the course notes' own piece size, with the notes'
# rules (4 upload slots, a re-choke every 10 s, an optimistic unchoke every 30 s), which are
# every peer's defaults. The swarm is timing-sensitive, so each figure also says how loaded the
# machine was (the 1-minute load average just before the run).

# load1: the 1-minute load average (from uptime, which every Unix has).
load1() {
    uptime | sed -n 's/.*load averages*: *\([0-9.]*\).*/\1/p'
}

# json_number KEY: the first number with that key in the last swarm run's JSON.
json_number() {
    sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" "$work/swarm.json" | head -n 1
}

# swarm_run N MODE SIZE SEED_UP PEER_UP PIECE [more swarm options]: one run, its JSON in
# $work/swarm.json and its report in $work/swarm.out; prints D / bound, or "nan" when the run
# failed.
swarm_run() {
    n=$1 mode=$2 size=$3 su=$4 pu=$5 piece=$6
    shift 6
    "$mt" swarm --peers "$n" --mode "$mode" --size "$size" --seed-up "$su" --peer-up "$pu" \
        --piece "$piece" --seed 42 --plain --json "$work/swarm.json" "$@" >"$work/swarm.out" 2>&1 || {
        echo "bench: minitorrent swarm --peers $n --mode $mode --piece $piece failed" >&2
        tail -n 20 "$work/swarm.out" >&2
        echo nan
        return
    }
    json_number ratio | awk '{ printf "%.3f\n", $1 }'
}
swarm_ratio() { # N MODE SIZE SEED_UP -> D / bound, 16 KiB pieces, u_i = 1 MiB/s
    swarm_run "$1" "$2" "$3" "$4" 1M 16K
}
if [ -n "$quick" ]; then sizes="8"; else sizes="8 16 32"; fi
# The same run's upload beyond the N copies of the file, in percent: the end game's duplicate
# blocks, the part of the gap to the bound that is bytes rather than time.
swarm_overhead() { # N -> percent, from the JSON of the run just made
    json_number uploaded_bytes | awk -v n="$1" '{ printf "%.1f\n", 100 * ($1 / (n * 16777216) - 1) }'
}
for n in $sizes; do
    l=$(load1)
    figure "swarm_ratio_p2p_N$n" "$(swarm_ratio "$n" p2p 16M 2M)" "goal <= 1.15; load $l"
    figure "swarm_upload_overhead_pct_p2p_N$n" "$(swarm_overhead "$n")" \
        "bytes uploaded beyond N copies"
done
[ -n "$quick" ] || figure swarm_ratio_cs_N16 "$(swarm_ratio 16 client-server 8M 4M)" "goal <= 1.05"

# The leechers' upload utilisation of the run just made, in percent of what they were allowed
# (N * u_i), between 10 % and 90 % of its distribution time D. The run writes a trace (--trace):
# every peer's bytes sent and tokens allowed, per 100 ms, summed by the swarm over that window,
# which is the exact figure; the JSON gives it as trace_upload_used_pct, and the upload left
# unused by cause beside it. The whole run is printed too, from the JSON's byte counts: every
# byte uploaded minus the seed's share (taken as u_s * D, since the seed is busy from start to
# end), over N * u_i * D.
swarm_utilisation() { # N PEER_UP_BPS SEED_UP_BPS -> "WINDOW_PCT WHOLE_RUN_PCT IDLE_CAUSE_PCT..."
    awk -v n="$1" -v ui="$2" -v us="$3" -v d="$(json_number distribution_time_s)" \
        -v up="$(json_number uploaded_bytes)" -v w="$(json_number trace_upload_used_pct)" \
        -v a="$(json_number nothing_requested)" -v b="$(json_number not_interested)" 'BEGIN {
            r = (d > 0) ? sprintf("%.1f", 100 * (up - us * d) / (n * ui * d)) : "nan"
            printf "%s %s %s/%s\n", (w == "") ? "nan" : sprintf("%.1f", w), r,
                (a == "") ? "nan" : sprintf("%.1f", a), (b == "") ? "nan" : sprintf("%.1f", b) }'
}

# The notes' piece size, median of three runs each (one with QUICK=1).
if [ -n "$quick" ]; then sizes="32"; else sizes="8 16 32 64"; fi
for n in $sizes; do
    l=$(load1)
    r=""
    util=""
    whole=""
    idle=""
    for i in $(seq 1 "$runs"); do
        if [ "$n" = 32 ]; then
            r="$r $(swarm_run "$n" p2p 16M 2M 1M 256K --trace "$work/trace.txt")"
            set -- $(swarm_utilisation 32 1048576 2097152)
            util="$util $1"
            whole="$whole $2"
            idle="$idle $3"
        else
            r="$r $(swarm_run "$n" p2p 16M 2M 1M 256K)"
        fi
    done
    figure "swarm_ratio_p2p_256k_N$n" "$(median $r)" \
        "goal <= 1.15; runs:$r; load $l before, $(load1) after"
    if [ "$n" = 32 ]; then
        figure swarm_upload_utilisation_pct_256k_N32 "$(median $util)" \
            "goal >= 90; 10-90 % of D, from the trace; runs:$util; whole run:$whole; unused %, nothing requested/not interested:$idle"
    fi
done

# The lecture's own configuration (4 MiB, 64 KiB pieces, u_s = 1 MiB/s, u_i = 512 KiB/s).
l=$(load1)
r=""
for i in $(seq 1 "$runs"); do r="$r $(swarm_run 32 p2p 4M 1M 512K 64K)"; done
figure swarm_ratio_lecture_N32 "$(median $r)" "goal <= 1.25; runs:$r; load $l"

# ---- Memory: a 64-peer swarm, the resident set of its peers sampled while it runs --------------
if [ -z "$quick" ] && command -v ps >/dev/null 2>&1; then
    "$mt" swarm --peers 64 --size 8M --seed-up 4M --peer-up 1M --piece 64K --seed 42 --plain \
        >"$work/swarm64.out" 2>&1 &
    swarmpid=$!
    pids="$pids $swarmpid"
    peak=0
    while kill -0 "$swarmpid" 2>/dev/null; do
        # The peers are the swarm's children; their RSS in KiB, summed, and how many there are.
        sample=$(ps -o rss= --ppid "$swarmpid" 2>/dev/null | awk '{s += $1; n++} END {print s + 0, n + 0}')
        set -- $sample
        if [ "$2" -ge 60 ]; then
            per=$(awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s / n / 1024 }')
            peak=$(awk -v a="$peak" -v b="$per" 'BEGIN { print (b > a ? b : a) }')
        fi
        sleep 0.5
    done
    wait "$swarmpid" 2>/dev/null || true
    figure swarm_64_rss_mib_per_peer "$peak" "goal <= 8; peak of the mean over the swarm's processes"
fi

# ---- build/bench.json -------------------------------------------------------------------------
awk 'BEGIN { printf "{" }
     { printf "%s\n  \"%s\": %s", (NR > 1 ? "," : ""), $1, ($2 == "nan" ? "null" : $2) }
     END { print "\n}" }' "$out" >"$json"
echo "== figures written to build/bench.json"
