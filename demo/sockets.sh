#!/bin/sh
# The socket demo for the first lectures, in five scenes on loopback, each line that goes over
# the wire printed in the order it happens:
#
#   1. UDP through a relay that loses a request and a reply: the client sends again;
#   2. a closed port: a UDP datagram meets silence, a TCP connect is refused;
#   3. one line written in two parts, "hel" then "lo\n": tcp_upper_server1 answers half of it,
#      tcp_upper_server2 (which reads up to the newline) the whole line;
#   4. two clients connected at once to tcp_upper_server3, each answered by its own thread.
#
# It is paced for a lecture hall: a short pause between steps (PAUSE seconds, default 0.7), or,
# with STEP=1, a wait for Enter before each scene. It finishes by itself.
#
#   sh demo/sockets.sh [BINDIR]          (what `make demo-sockets` runs; STEP=1 and PAUSE=S
#                                         work with make too)
#   LOSSY_RELAY=PATH                     the relay program (default build/tools/lossy_relay)
set -eu
bin=${1:-bin}
relay_bin=${LOSSY_RELAY:-build/tools/lossy_relay}
pause=${PAUSE:-0.7}
step=${STEP:-0}
tmp=$(mktemp -d)
pids=""
cleanup() {
    exec 4>&- 5<&- 6>&- 7<&- 2>/dev/null || true
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for prog in udp_upper_server udp_upper_client tcp_upper_server1 tcp_upper_server2 \
    tcp_upper_server3 tcp_upper_client; do
    if [ ! -x "$bin/$prog" ]; then
        echo "demo: $bin/$prog is missing; run make first" >&2
        exit 1
    fi
done
if [ ! -x "$relay_bin" ]; then
    echo "demo: $relay_bin is missing; run make demo-sockets (it builds the relay)" >&2
    exit 1
fi

# echo: prints its arguments as they are. (The sh of some systems turns "\n" inside echo's
# argument into a newline; the demo prints 'lo\n' literally.)
echo() {
    printf '%s\n' "$*"
}

# beat: a short pause between two steps of a scene, so the room can read what just happened.
beat() {
    [ "$pause" = 0 ] || sleep "$pause"
}

# scene TITLE...: starts a scene; with STEP=1 it first waits for Enter.
scene() {
    echo
    if [ "$step" = 1 ]; then
        printf '(Enter: next scene) '
        read -r _ || true
    else
        beat
    fi
    echo "== $*"
}

# wait_for FILE TEXT [N]: waits (up to 10 s) until FILE has N lines (default 1) containing TEXT.
wait_for() {
    i=0
    until [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "demo: gave up waiting for \"$2\" in $1" >&2
            exit 1
        fi
        sleep 0.05
    done
}

# start NAME PREFIX CMD...: runs CMD with its output in $tmp/NAME.log, waits for its "listening
# on PORT" line and sets $port. PREFIX labels its lines when they are shown.
start() {
    name=$1
    shift 2
    "$@" >"$tmp/$name.log" &
    pids="$pids $!"
    last_pid=$!
    wait_for "$tmp/$name.log" "listening on"
    port=$(sed -n 's/^listening on //p' "$tmp/$name.log")
    eval "seen_$name=1"
}

# show NAME PREFIX: prints the lines of $tmp/NAME.log not shown yet, each after PREFIX.
show() {
    eval "seen=\${seen_$1:-0}"
    total=$(wc -l <"$tmp/$1.log")
    if [ "$total" -gt "$seen" ]; then
        sed -n "$((seen + 1)),${total}p" "$tmp/$1.log" | while IFS= read -r l; do
            echo "      $2 | $l"
        done
        eval "seen_$1=$total"
    fi
}

# stop PID: stops one program the demo started, and waits for it.
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
scene "1. UDP loses datagrams; the client sends again."
echo "   A relay stands between client and server. It drops request 2 on the way to the server"
echo "   and reply 3 on the way back. The client waits 500 ms, then sends the line again."
start udpserver server "$bin/udp_upper_server" -p 0 -b 127.0.0.1 -v
server_port=$port
start relay relay "$relay_bin" --to "$server_port" --drop-requests 2 --drop-replies 3
echo "  \$ udp_upper_server -p 0 -b 127.0.0.1 -v        # listening on $server_port"
echo "  \$ lossy_relay --to $server_port --drop-requests 2 --drop-replies 3   # on $port"
echo "  \$ udp_upper_client --timeout-ms 500 127.0.0.1 $port"
mkfifo "$tmp/uin" "$tmp/uout"
"$bin/udp_upper_client" --timeout-ms 500 127.0.0.1 "$port" <"$tmp/uin" >"$tmp/uout" &
client=$!
exec 4>"$tmp/uin" 5<"$tmp/uout"
for l in "hello, network" "this line is lost on the way there" "and this answer on the way back"; do
    beat
    echo "      sent   > $l"
    printf '%s\n' "$l" >&4
    IFS= read -r reply <&5
    show relay "relay "
    show udpserver server
    echo "      reply  < $reply"
done
exec 4>&- 5<&-
wait "$client" || true
echo "   The server answered the third line twice: a lost reply costs the server work too."
stop "$last_pid"

# ---------------------------------------------------------------------------------------------
scene "2. A closed port: UDP meets silence, TCP is refused."
# A port that was open a moment ago and is closed now: start a server on a free port, stop it.
start closed server "$bin/udp_upper_server" -p 0 -b 127.0.0.1
stop "$last_pid"
udp_port=$port
start closedtcp server "$bin/tcp_upper_server2" -p 0 -b 127.0.0.1
stop "$last_pid"
tcp_port=$port
echo "  \$ echo hello | udp_upper_client --timeout-ms 300 --retries 1 127.0.0.1 $udp_port"
if echo hello | "$bin/udp_upper_client" --timeout-ms 300 --retries 1 127.0.0.1 "$udp_port" \
    >"$tmp/udpclosed.out" 2>&1; then :; fi
sed 's/^/      /' "$tmp/udpclosed.out"
echo "   UDP: no answer at all. Nothing tells a UDP sender that nobody listens."
beat
echo "  \$ echo hello | tcp_upper_client 127.0.0.1 $tcp_port"
if echo hello | "$bin/tcp_upper_client" 127.0.0.1 "$tcp_port" >"$tmp/tcpclosed.out" 2>&1; then :; fi
sed 's/^/      /' "$tmp/tcpclosed.out"
echo "   TCP: the connect is refused at once: the other host answers the SYN with a reset."

# ---------------------------------------------------------------------------------------------
scene "3. TCP is a byte stream: one line in two writes, \"hel\", a pause, \"lo\\n\"."
for server in tcp_upper_server1 tcp_upper_server2; do
    start "$server" server "$bin/$server" -p 0 -b 127.0.0.1 -v
    echo "  \$ $server -p 0 -b 127.0.0.1 -v      # listening on $port"
    echo "  \$ { printf hel; sleep 1; printf 'lo\\n'; } | tcp_upper_client 127.0.0.1 $port"
    { printf hel; sleep 1; printf 'lo\n'; sleep 0.3; } |
        "$bin/tcp_upper_client" 127.0.0.1 "$port" >"$tmp/split.out" 2>&1 || true
    wait_for "$tmp/$server.log" " left"
    show "$server" server
    echo "      reply  < $(cat "$tmp/split.out")"
    stop "$last_pid"
    beat
done
echo "   server1 took its one recv() for the whole line: \"lo\" was lost. server2 reads up to"
echo "   the newline, however the bytes were cut."

# ---------------------------------------------------------------------------------------------
scene "4. Two clients at once: tcp_upper_server3 gives each its own thread."
start server3 server "$bin/tcp_upper_server3" -p 0 -b 127.0.0.1 -v
echo "  \$ tcp_upper_server3 -p 0 -b 127.0.0.1 -v      # listening on $port"
mkfifo "$tmp/ain" "$tmp/aout" "$tmp/bin" "$tmp/bout"
"$bin/tcp_upper_client" 127.0.0.1 "$port" <"$tmp/ain" >"$tmp/aout" &
a=$!
exec 4>"$tmp/ain" 5<"$tmp/aout"
wait_for "$tmp/server3.log" "connected" 1
echo "  \$ tcp_upper_client 127.0.0.1 $port      # client A, stays connected"
show server3 server
beat
"$bin/tcp_upper_client" 127.0.0.1 "$port" <"$tmp/bin" >"$tmp/bout" &
b=$!
exec 6>"$tmp/bin" 7<"$tmp/bout"
wait_for "$tmp/server3.log" "connected" 2
echo "  \$ tcp_upper_client 127.0.0.1 $port      # client B, while A is still there"
show server3 server
# talk WHO LINE: one exchange of client WHO (A on fds 4/5, B on 6/7).
talk() {
    beat
    echo "      $1 sent  > $2"
    if [ "$1" = A ]; then printf '%s\n' "$2" >&4 && IFS= read -r reply <&5; else
        printf '%s\n' "$2" >&6 && IFS= read -r reply <&7
    fi
    echo "      $1 reply < $reply"
}
talk A "client a here"
talk B "client b here, at the same time"
talk A "still here"
exec 4>&- 5<&- 6>&- 7<&- # both half-close: each thread's session ends
wait "$a" "$b" || true
wait_for "$tmp/server3.log" " left" 2
show server3 server
# The server's log says whether the two were ever connected together: the second "connected"
# line comes before the first "left".
second_in=$(grep -n "connected" "$tmp/server3.log" | sed -n 2p | cut -d: -f1)
first_out=$(grep -n " left" "$tmp/server3.log" | sed -n 1p | cut -d: -f1)
if [ "$second_in" -lt "$first_out" ]; then
    echo "   Two clients served at once: each connection is told apart by its 4-tuple"
    echo "   (here the client ports differ), and each has its own thread."
else
    echo "   The two clients did not overlap this time." >&2
    exit 1
fi
stop "$last_pid"

echo
echo "Done. To try your own lines, run a server and a client in two terminals (README.md)."
