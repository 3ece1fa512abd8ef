#!/bin/sh
# sanitizers.sh - which sanitizer builds this compiler and machine can run.
#
#   sh tests/sanitizers.sh CC NAME...     NAME is asan (AddressSanitizer + UndefinedBehaviorSanitizer)
#                                         or tsan (ThreadSanitizer)
#
# For each NAME it compiles and runs a tiny threaded program with the sanitizer's flags, and prints
# "ok NAME" when that works, or "skip NAME-LABEL: why" when it does not (a compiler without the
# sanitizer, a missing runtime library, a kernel whose memory layout ThreadSanitizer cannot use).
# The lab's Makefile builds and runs the tests in every variant that printed "ok".
set -u
cc=$1
shift
tmp=$(mktemp -d 2>/dev/null || echo "/tmp/sanitizers.$$")
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/probe.c" <<'C'
#include <pthread.h>
#include <stdlib.h>
static void *run(void *arg) { return arg; }
int main(void)
{
    pthread_t t;
    char *p = malloc(16);
    if (p == NULL || pthread_create(&t, NULL, run, p) != 0)
        return 1;
    pthread_join(t, NULL);
    free(p);
    return 0;
}
C
for name in "$@"; do
    case $name in
    asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=all" label="address,undefined" ;;
    tsan) flags="-fsanitize=thread" label="thread" ;;
    *) echo "skip $name: not a sanitizer build this Makefile knows (asan, tsan)"; continue ;;
    esac
    # shellcheck disable=SC2086
    if ! $cc $flags -pthread -o "$tmp/probe-$name" "$tmp/probe.c" >"$tmp/err" 2>&1; then
        why=$(head -n 1 "$tmp/err" | tr -d '"' | cut -c 1-120)
        echo "skip $label: $cc cannot build with $flags ($why)"
    elif ! "$tmp/probe-$name" >"$tmp/err" 2>&1; then
        why=$(grep -v '^ *$' "$tmp/err" | head -n 1 | tr -d '"' | cut -c 1-120)
        echo "skip $label: a program built with $flags does not run here ($why)"
    else
        echo "ok $name"
    fi
done
