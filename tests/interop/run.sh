#!/usr/bin/env bash
# tests/interop/run.sh - minitorrent against real BitTorrent clients (aria2, libtorrent), on loopback.
#
#   tests/interop/run.sh          every scenario (what `make interop` runs)
#   tests/interop/run.sh 2 5      only scenarios 2 and 5
#
# Environment: MINITORRENT (the binary; default bin/minitorrent), INTEROP_MIB (file size, default 8),
# INTEROP_KEEP=1 keeps each scenario's scratch folder for a look afterwards.
#
# Each scenario runs in its own network namespace (`unshare --net`, then `ip link set lo up`), so
# only loopback exists there: a client that ignores one of our settings still reaches nobody, and
# fixed ports (aria2 needs one) cannot collide with anything on the machine. That needs root; as
# another user every scenario is skipped with the reason printed. As root, a missing aria2c or
# python3-libtorrent is an error, because CI installs them.
#
# With every client: no DHT, no local peer discovery, no PEX, no UPnP or NAT-PMP, no uTP, plain
# connections, private torrents, the tracker on 127.0.0.1. Every process runs under
# `timeout --kill-after=5 SECS` and is stopped with TERM (never SIGKILL to the wrapper, which would
# orphan the client), then waited for. Readiness is an event: a "listening on" line in a log, or the
# tracker's scrape showing the seeder complete (tracker_wait.py). The short waits below are the
# steps of bounded polls on such a condition, never a guess at how long something takes.
#
# One line per scenario, "interop N NAME: ok (X MB/s)" or "interop N NAME: FAILED (reason)" followed
# by the tail of every log of that scenario, and a last line "P passed, F failed[, S skipped]".
# Throughput is the file size over the downloader's wall time from its start to its exit, so it
# includes start-up and aria2's one-second tick.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SELF="$HERE/run.sh"
MT=${MINITORRENT:-$ROOT/bin/minitorrent}
case $MT in /*) ;; *) MT="$ROOT/$MT" ;; esac
PY=/usr/bin/python3
LT_PEER="$HERE/lt_peer.py"
TRACKER_WAIT="$HERE/tracker_wait.py"
MIB=${INTEROP_MIB:-8}
SCENARIO_SECS=90 # the whole scenario, namespace and all; a hang becomes a failure
LIFE=80          # each process's own limit inside it

NAMES=(
    ""
    "aria2 seeds, minitorrent gets"
    "minitorrent seeds, aria2 gets"
    "libtorrent seeds, minitorrent gets"
    "minitorrent seeds, libtorrent gets"
    "aria2 seeds, libtorrent gets, minitorrent tracker"
    "libtorrent seeds, minitorrent gets, UDP tracker"
    "torrent files both ways, same info hash"
    "mixed swarm: 4 minitorrent + libtorrent + aria2 leechers"
)
ALL=(1 2 3 4 5 6 7 8)

# aria2 kept local and plain: no DHT, local peer discovery or peer exchange, no encryption. It has no bind option for BitTorrent listening, but
# inside the namespace there is nothing but loopback to listen on.
ARIA2_FLAGS=(--no-conf=true --enable-dht=false --enable-dht6=false --bt-enable-lpd=false
    --enable-peer-exchange=false --bt-require-crypto=false --bt-min-crypto-level=plain
    --disable-ipv6=true --file-allocation=none --summary-interval=0 --follow-torrent=false
    --console-log-level=notice)

# ---------------------------------------------------------------------------------------------
# Inside a scenario: processes, logs, waits.

WORK=""
PIDS=()
PNAMES=() # the log name of each process in PIDS
SCEN=0

# Starts a command in the background under timeout, output to $WORK/NAME.log; sets LAST_PID.
start() {
    local name=$1
    shift
    timeout --kill-after=5 "$LIFE" "$@" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    PNAMES+=("$name")
}

# Stops one process we started: TERM to its timeout wrapper (which passes it on), then wait.
stop() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Stops everything this scenario started and removes the scratch folder. TERM goes to all of them
# first, then we wait for each, so their goodbyes (a "stopped" announce each) overlap.
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ "${INTEROP_KEEP:-0}" = 1 ]; then
            echo "  (kept $WORK)"
        else
            rm -rf "$WORK"
        fi
    fi
}

# Prints the FAILED line and the tail of every log, then exits (cleanup runs from the trap).
fail() {
    echo "interop $SCEN ${NAMES[SCEN]}: FAILED ($*)"
    local f i rc
    # Which of our processes had already ended, and how (124: its time limit; 128+N: signal N).
    for i in "${!PIDS[@]}"; do
        if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
            rc=0
            wait "${PIDS[i]}" 2>/dev/null || rc=$?
            [ "$rc" = 127 ] || echo "  ${PNAMES[i]} had exited with status $rc"
        fi
    done
    for f in "$WORK"/*.log; do
        [ -s "$f" ] || continue
        # The first lines say how a process started (its "listening on" line, say), the last
        # ones how it was doing at the end.
        echo "  --- ${f##*/} (first and last lines)"
        tr '\r' '\n' <"$f" | grep -v '^progress:' >"$f.clean"
        if [ "$(wc -l <"$f.clean")" -gt 20 ]; then
            head -n 5 "$f.clean" | sed 's/^/  | /'
            echo "  | ..."
        fi
        tail -n 15 "$f.clean" | sed 's/^/  | /'
    done
    exit 1
}

ok() {
    echo "interop $SCEN ${NAMES[SCEN]}: ok ($*)"
    exit 0
}

now() { date +%s.%N; }

# MB/s for BYTES moved between two `now` stamps.
rate() { awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN { d = t1 - t0; if (d <= 0) d = 1e-6;
    printf "%.1f", b / d / 1e6 }'; }

# Waits until the command CMD... succeeds, while PID lives; fails after SECS seconds.
wait_for() {
    local pid=$1 secs=$2 what=$3
    shift 3
    local deadline=$((SECONDS + secs))
    until "$@"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            "$@" && return 0
            fail "$what exited before it was ready"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "$what not ready after ${secs} s"
        sleep 0.02
    done
}

has_line() { grep -qE "$2" "$1" 2>/dev/null; }

# Waits until LOG has a line matching the extended regex, while PID lives; fails after SECS.
wait_line() { wait_for "$3" "$4" "$5" has_line "$1" "$2"; }

# Waits for a process we started to exit; fails when it exits non-zero or after SECS.
wait_exit() {
    local pid=$1 secs=$2 what=$3 rc=0
    local deadline=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || fail "$what did not finish within ${secs} s"
        sleep 0.02
    done
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || fail "$what exited with status $rc"
}

# Writes MIB MiB of random bytes to a file.
random_file() { head -c $((MIB * 1024 * 1024)) /dev/urandom >"$1"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# Fails unless the downloaded file holds the original's bytes.
verify() {
    local orig=$1 got=$2 who=$3
    [ -f "$got" ] || fail "$who wrote no $got"
    [ "$(sha "$orig")" = "$(sha "$got")" ] || fail "$who's copy differs from the original (SHA-256)"
}

# Starts `minitorrent tracker` on 127.0.0.1 (HTTP, and UDP too) on free ports; sets HTTP_URL, UDP_URL.
start_tracker() {
    start tracker "$MT" tracker -p 0 -u 0 -b 127.0.0.1 --interval 2 -v
    TRACKER_PID=$LAST_PID
    wait_line "$WORK/tracker.log" '^listening on udp://' "$TRACKER_PID" 10 "the tracker"
    HTTP_URL=$(grep -oE 'http://[^ ]+' "$WORK/tracker.log" | head -n 1)
    UDP_URL=$(grep -oE 'udp://[^ ]+' "$WORK/tracker.log" | head -n 1)
}

# Waits until the tracker's scrape shows N seeders for TORRENT (default 1).
wait_seeders() {
    local torrent=$1 n=${2:-1}
    "$PY" "$TRACKER_WAIT" "$HTTP_URL" "$torrent" --complete "$n" --timeout 30 \
        >>"$WORK/tracker_wait.log" 2>&1 || fail "the seeder never showed up complete in the scrape"
}

# Makes a private torrent with minitorrent for one file, announcing to URL.
mt_create() {
    local path=$1 url=$2 out=$3
    shift 3
    "$MT" create "$path" -a "$url" --private -o "$out" -f "$@" >>"$WORK/create.log" 2>&1 ||
        fail "minitorrent create failed"
}

# Runs aria2 in the background: mode seed (serve DIR until stopped) or get (exit when done).
start_aria2() {
    local name=$1 mode=$2 torrent=$3 dir=$4 port=$5
    shift 5
    if [ "$mode" = seed ]; then
        start "$name" aria2c "${ARIA2_FLAGS[@]}" --listen-port="$port" --dir="$dir" \
            --check-integrity=true --seed-ratio=0.0 "$@" "$torrent"
    else
        start "$name" aria2c "${ARIA2_FLAGS[@]}" --listen-port="$port" --dir="$dir" \
            --seed-time=0 "$@" "$torrent"
    fi
}

# Starts a libtorrent peer (lt_peer.py) and waits for its "listening on" line.
start_lt() {
    local name=$1
    shift
    start "$name" "$PY" "$LT_PEER" "$@" --timeout "$((LIFE - 5))"
    # Python and libtorrent take a while to start, much longer on a loaded machine (a CI run once
    # waited more than 20 s), hence a generous wait; a healthy start takes well under a second.
    wait_line "$WORK/$name.log" '^listening on [0-9]+' "$LAST_PID" 45 "libtorrent ($name)"
}

# Writes an aria2 hook script that marks NAME as complete by creating $WORK/NAME.done; prints its
# path. aria2 runs --on-bt-download-complete when it has the whole file, before seeding.
aria2_hook() {
    printf '#!/bin/sh\ntouch "%s/%s.done"\n' "$WORK" "$1" >"$WORK/$1.hook"
    chmod +x "$WORK/$1.hook"
    echo "$WORK/$1.hook"
}

# Runs one downloader of TORRENT into DIR to the end and checks it exited cleanly. KIND is mt, lt
# or aria2. Sets T0 (its start) and T1 (when it held the whole file: minitorrent's exit,
# libtorrent's "done:" line, aria2's completion hook), so the rate leaves out the clients' ways of
# saying goodbye (aria2 spends a second on its "stopped" announce).
leech() {
    local kind=$1 torrent=$2 dir=$3 pid
    T0=$(now)
    case $kind in
    mt)
        start mt_get "$MT" get "$torrent" -d "$dir" -b 127.0.0.1 -v
        pid=$LAST_PID
        wait_exit "$pid" 60 "minitorrent get"
        T1=$(now)
        ;;
    lt)
        start lt_get "$PY" "$LT_PEER" get "$torrent" "$dir" -v --timeout 60
        pid=$LAST_PID
        wait_line "$WORK/lt_get.log" '^done:' "$pid" 60 "libtorrent (lt_get)"
        T1=$(now)
        wait_exit "$pid" 15 "libtorrent (lt_get)"
        ;;
    aria2)
        start_aria2 aria2_get get "$torrent" "$dir" 6882 \
            --on-bt-download-complete="$(aria2_hook aria2_get)"
        pid=$LAST_PID
        wait_for "$pid" 60 "aria2 (aria2_get)" test -e "$WORK/aria2_get.done"
        T1=$(now)
        wait_exit "$pid" 15 "aria2 (aria2_get)"
        ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# The scenarios. Each runs in its own namespace with a fresh $WORK holding src/ and get/.

# aria2 seeds through minitorrent's HTTP tracker; `minitorrent get` downloads.
scenario_1() {
    start_tracker
    mt_create src/data.bin "$HTTP_URL" t.torrent
    start_aria2 aria2_seed seed t.torrent src 6881
    local seed=$LAST_PID
    wait_seeders t.torrent
    kill -0 "$seed" 2>/dev/null || fail "aria2 stopped seeding"
    leech mt t.torrent get
    verify src/data.bin get/data.bin "minitorrent get"
    ok "$(rate "$((MIB << 20))" "$T0" "$T1") MB/s"
}

# `minitorrent seed` seeds; aria2 downloads.
scenario_2() {
    start_tracker
    mt_create src/data.bin "$HTTP_URL" t.torrent
    start mt_seed "$MT" seed t.torrent -d src -b 127.0.0.1 -v
    wait_line "$WORK/mt_seed.log" '^listening on' "$LAST_PID" 20 "minitorrent seed"
    wait_seeders t.torrent
    leech aria2 t.torrent get
    verify src/data.bin get/data.bin aria2
    ok "$(rate "$((MIB << 20))" "$T0" "$T1") MB/s"
}

# libtorrent seeds a torrent it made itself (v1 only, 64 KiB pieces); `minitorrent get` downloads.
scenario_3() {
    start_tracker
    "$PY" "$LT_PEER" create src/data.bin t.torrent --announce "$HTTP_URL" --piece-length 65536 \
        --private >>"$WORK/create.log" 2>&1 || fail "libtorrent's create_torrent failed"
    start_lt lt_seed seed t.torrent src -v
    wait_seeders t.torrent
    leech mt t.torrent get
    verify src/data.bin get/data.bin "minitorrent get"
    ok "$(rate "$((MIB << 20))" "$T0" "$T1") MB/s"
}

# `minitorrent seed` seeds; libtorrent downloads.
scenario_4() {
    start_tracker
    mt_create src/data.bin "$HTTP_URL" t.torrent
    start mt_seed "$MT" seed t.torrent -d src -b 127.0.0.1 -v
    wait_line "$WORK/mt_seed.log" '^listening on' "$LAST_PID" 20 "minitorrent seed"
    wait_seeders t.torrent
    leech lt t.torrent get
    verify src/data.bin get/data.bin libtorrent
    ok "$(rate "$((MIB << 20))" "$T0" "$T1") MB/s"
}

# aria2 seeds, libtorrent downloads, both told about each other by `minitorrent tracker` only.
scenario_5() {
    start_tracker
    mt_create src/data.bin "$HTTP_URL" t.torrent -l 128K
    start_aria2 aria2_seed seed t.torrent src 6881
    wait_seeders t.torrent
    leech lt t.torrent get
    verify src/data.bin get/data.bin libtorrent
    ok "$(rate "$((MIB << 20))" "$T0" "$T1") MB/s"
}

# libtorrent seeds, announcing over UDP (BEP 15) to `minitorrent tracker -u`; minitorrent gets
# over UDP too. The scrape that tells us the seeder is ready goes over HTTP to the same tracker,
# which keeps one swarm for both.
scenario_6() {
    start_tracker
    mt_create src/data.bin "$UDP_URL" t.torrent
    start_lt lt_seed seed t.torrent src -v
    wait_line "$WORK/lt_seed.log" '^seeding' "$LAST_PID" 20 "libtorrent (lt_seed)"
    wait_seeders t.torrent
    leech mt t.torrent get
    verify src/data.bin get/data.bin "minitorrent get"
    # The torrent names only the udp:// tracker, so minitorrent found the seeder over UDP; check
    # that libtorrent's announces went that way too.
    has_line "$WORK/lt_seed.log" 'tracker_reply_alert.*\(udp://' ||
        fail "libtorrent never got a reply from the UDP tracker"
    ok "$(rate "$((MIB << 20))" "$T0" "$T1") MB/s"
}

# Torrent files both ways: minitorrent's (single file, and a folder with an odd piece length) load
# in libtorrent with the same info hash; libtorrent's (a folder of several files, 32 KiB pieces)
# loads in `minitorrent info` with the same info hash.
scenario_7() {
    local url=http://127.0.0.1:6969/announce
    mkdir -p tree/sub/deeper
    head -c 100000 /dev/urandom >tree/a.bin
    head -c 70001 /dev/urandom >tree/sub/b.txt
    head -c 33 /dev/urandom >tree/sub/deeper/c
    head -c $((1 << 20)) /dev/urandom >tree/z.bin
    local mine theirs checked=0
    local -a cases=("src/data.bin|256K" "tree|48K")
    local c path piece
    for c in "${cases[@]}"; do
        path=${c%|*} piece=${c#*|}
        mt_create "$path" "$url" mt.torrent -l "$piece"
        mine=$(grep -oE 'info hash: [0-9a-f]{40}' "$WORK/create.log" | tail -n 1 | cut -d' ' -f3)
        theirs=$("$PY" "$LT_PEER" info-hash mt.torrent 2>>"$WORK/lt.log" |
            grep -oE '[0-9a-f]{40}' | tail -n 1) || true
        [ -n "$mine" ] || fail "minitorrent create printed no info hash"
        [ "$mine" = "$theirs" ] ||
            fail "minitorrent's torrent of $path ($piece): minitorrent says $mine, libtorrent ${theirs:-nothing}"
        checked=$((checked + 1))
    done
    "$PY" "$LT_PEER" create tree lt.torrent --announce "$url" --piece-length 32768 --private \
        >"$WORK/lt_create.log" 2>&1 || fail "libtorrent's create_torrent failed"
    theirs=$(grep -oE '[0-9a-f]{40}' "$WORK/lt_create.log" | tail -n 1)
    "$MT" info lt.torrent >"$WORK/mt_info.log" 2>&1 || fail "minitorrent info rejected libtorrent's torrent"
    mine=$(grep -oE 'info hash: +[0-9a-f]{40}' "$WORK/mt_info.log" | grep -oE '[0-9a-f]{40}')
    [ "$mine" = "$theirs" ] ||
        fail "libtorrent's torrent: libtorrent says $theirs, minitorrent info ${mine:-nothing}"
    grep -qE '^files: +4' "$WORK/mt_info.log" || fail "minitorrent info does not list the 4 files"
    checked=$((checked + 1))
    ok "$checked torrents, info hashes match"
}

# A mixed swarm: one minitorrent seed limited to 4 MiB/s, so the leechers must trade among
# themselves, and six leechers released together: four minitorrent (each on its own 127.0.0.x),
# one libtorrent, one aria2. Every leecher stays after finishing, so it serves the others.
scenario_8() {
    start_tracker
    mt_create src/data.bin "$HTTP_URL" t.torrent
    start mt_seed "$MT" seed t.torrent -d src -b 127.0.0.1 --up-rate 4M --rechoke-secs 1 -v
    wait_line "$WORK/mt_seed.log" '^listening on' "$LAST_PID" 20 "minitorrent seed"
    wait_seeders t.torrent
    local t0 t1 i
    local -a mt_pids=()
    mkdir -p get/mt1 get/mt2 get/mt3 get/mt4 get/lt get/aria2
    t0=$(now)
    for i in 1 2 3 4; do
        start "mt_get$i" "$MT" get t.torrent -d "get/mt$i" -b "127.0.0.$((i + 1))" --keep-seeding \
            --rechoke-secs 1 -v
        mt_pids+=("$LAST_PID")
    done
    start_lt lt_get get t.torrent get/lt --bind 127.0.0.6 --keep-seeding -v
    local lt_pid=$LAST_PID
    # aria2 seeds on after its download; its completion hook tells us when it is done.
    start_aria2 aria2_get seed t.torrent get/aria2 6881 \
        --on-bt-download-complete="$(aria2_hook aria2_get)"
    local aria2_pid=$LAST_PID
    local deadline=$((SECONDS + 60)) done_count
    while :; do
        done_count=0
        for i in 1 2 3 4; do
            grep -q '^done:' "$WORK/mt_get$i.log" 2>/dev/null && done_count=$((done_count + 1))
            kill -0 "${mt_pids[i - 1]}" 2>/dev/null || fail "minitorrent leecher $i exited"
        done
        grep -q '^done:' "$WORK/lt_get.log" && done_count=$((done_count + 1))
        [ -e aria2_get.done ] && done_count=$((done_count + 1))
        kill -0 "$lt_pid" 2>/dev/null || fail "the libtorrent leecher exited"
        kill -0 "$aria2_pid" 2>/dev/null || fail "the aria2 leecher exited"
        [ "$done_count" -lt 6 ] || break
        [ "$SECONDS" -lt "$deadline" ] || fail "only $done_count of 6 leechers finished in 60 s"
        sleep 0.02
    done
    t1=$(now)
    for i in 1 2 3 4; do verify src/data.bin "get/mt$i/data.bin" "minitorrent leecher $i"; done
    verify src/data.bin get/lt/data.bin "the libtorrent leecher"
    verify src/data.bin get/aria2/data.bin "the aria2 leecher"
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    ok "$(rate "$((6 * (MIB << 20)))" "$t0" "$t1") MB/s into 6 leechers, all done in $secs s"
}

# Runs scenario N here (already inside its namespace).
in_namespace() {
    SCEN=$1
    WORK=$(mktemp -d "/tmp/interop-$SCEN-XXXXXX")
    trap cleanup EXIT
    trap 'fail "stopped by a signal"' TERM INT
    cd "$WORK"
    mkdir src get
    random_file src/data.bin
    "scenario_$SCEN"
}

# ---------------------------------------------------------------------------------------------
# The driver: one namespace per scenario, a summary line at the end.

if [ "${1:-}" = --in-ns ]; then
    in_namespace "$2"
    exit 1 # not reached: a scenario ends in ok or fail
fi

selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${ALL[@]}")
for n in "${selected[@]}"; do
    case $n in [1-8]) ;; *) echo "run.sh: no scenario '$n' (1 to 8)" >&2; exit 2 ;; esac
done

passed=0 failed=0 skipped=0
if [ "$(id -u)" != 0 ]; then
    for n in "${selected[@]}"; do
        echo "interop $n ${NAMES[n]}: skipped (needs root for its own network namespace, unshare --net)"
        skipped=$((skipped + 1))
    done
    echo "0 passed, 0 failed, $skipped skipped"
    exit 0
fi

missing=()
command -v aria2c >/dev/null 2>&1 || missing+=("aria2 (apt-get install -y aria2)")
"$PY" -c 'import libtorrent' >/dev/null 2>&1 ||
    missing+=("python3-libtorrent for $PY (apt-get install -y python3-libtorrent)")
command -v unshare >/dev/null 2>&1 || missing+=("unshare (util-linux)")
command -v ip >/dev/null 2>&1 || missing+=("ip (apt-get install -y iproute2)")
[ -x "$MT" ] || missing+=("$MT (run make first)")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'interop: missing: %s\n' "${missing[@]}" >&2
    echo "interop: cannot run; install the above (CI's .ci/run does)" >&2
    exit 1
fi

# Every scenario runs one copy of the binary, so a rebuild during the run changes nothing. The
# copy has another name, so that someone's `pkill minitorrent` on a shared machine misses it.
BINCOPY=$(mktemp -d /tmp/interop-bin-XXXXXX)
trap 'rm -rf "$BINCOPY"' EXIT
cp "$MT" "$BINCOPY/mt-interop"
export MINITORRENT="$BINCOPY/mt-interop"

start_all=$SECONDS
for n in "${selected[@]}"; do
    rc=0
    # shellcheck disable=SC2016 # $0 and $1 are for the inner bash
    timeout --kill-after=10 "$SCENARIO_SECS" unshare --net bash -c \
        'ip link set lo up && exec bash "$0" --in-ns "$1"' "$SELF" "$n" || rc=$?
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
    else
        [ "$rc" != 124 ] && [ "$rc" != 137 ] ||
            echo "interop $n ${NAMES[n]}: FAILED (no result within $SCENARIO_SECS s)"
        failed=$((failed + 1))
    fi
done
echo "interop: ${#selected[@]} scenarios in $((SECONDS - start_all)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
