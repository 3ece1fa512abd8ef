#!/bin/sh
# The socket demo for the first lectures: each uppercase server on loopback, a client talking to
# it line by line, and every line that goes over the wire printed in the order it happens, with
# what the server learns about its client. It finishes by itself.
#
#   sh demo/sockets.sh [BINDIR]     (what `make demo-sockets` runs)
set -eu
bin=${1:-bin}
tmp=$(mktemp -d)
pids=""
cleanup() {
    exec 4>&- 5<&- 2>/dev/null || true
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# start_server NAME: runs bin/NAME on a free port of 127.0.0.1 with -v, sets $port and $log.
start_server() {
    log="$tmp/$1.log"
    "$bin/$1" -p 0 -b 127.0.0.1 -v >"$log" &
    pids="$pids $!"
    wait_for "$log" "listening on"
    port=$(sed -n 's/^listening on //p' "$log")
    seen=1
    echo "  \$ $1 -p 0 -b 127.0.0.1 -v"
    echo "      server | listening on $port"
}

# server_says: prints the server's log lines that have not been shown yet.
server_says() {
    total=$(wc -l <"$log")
    if [ "$total" -gt "$seen" ]; then
        sed -n "$((seen + 1)),${total}p" "$log" | while IFS= read -r l; do
            echo "      server | $l"
        done
        seen=$total
    fi
}

# converse CLIENT...: runs the client with its input and output on FIFOs, sends each line of
# $lines, and prints it, the server's log and the reply, one exchange at a time.
converse() {
    rm -f "$tmp/in" "$tmp/out"
    mkfifo "$tmp/in" "$tmp/out"
    "$@" <"$tmp/in" >"$tmp/out" &
    client=$!
    exec 4>"$tmp/in" 5<"$tmp/out"
    while IFS= read -r l; do
        echo "      sent   > $l"
        printf '%s\n' "$l" >&4
        IFS= read -r reply <&5
        server_says
        echo "      reply  < $reply"
    done <<END
$lines
END
    exec 4>&- 5<&- # end of input: the TCP client half-closes and exits
    wait "$client"
}

lines='hello, network
Sockets are the door between a process and the transport layer.
the server only changes a-z'

echo "== UDP: no connection. Every datagram carries its sender's address and port,"
echo "   and recvfrom() hands them to the server with the data."
start_server udp_upper_server
echo "  \$ udp_upper_client 127.0.0.1 $port"
converse "$bin/udp_upper_client" 127.0.0.1 "$port"

echo
echo "== TCP: the client connects first. The server gets a new socket for each client,"
echo "   and the clients are told apart by their source ports."
start_server tcp_upper_server3
n=0
for who in first second; do
    n=$((n + 1))
    echo "  \$ tcp_upper_client 127.0.0.1 $port      # the $who client"
    converse "$bin/tcp_upper_client" 127.0.0.1 "$port"
    wait_for "$log" " left" $n
    server_says
done
echo
echo "Done. To try your own lines, run a server and a client in two terminals (README.md)."
