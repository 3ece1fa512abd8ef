#!/bin/sh
# Runs every test binary given on the command line, shows each suite's own Check summary, and ends
# with one line for the whole run: "N passed, N failed" (and ", N skipped" when a test skipped).
#
# A test that cannot run on this machine (no IPv6, not root, a tool missing) calls tk_skip(), which
# prints "SKIP name: reason" and passes; this script counts those lines so the total is honest.
set -u
# Check gives each test 4 s unless a suite says otherwise; a loaded laptop or a sanitizer build can
# need more. A hang still fails, just later. (CK_TIMEOUT_MULTIPLIER scales this too.)
: "${CK_DEFAULT_TIMEOUT:=30}"
export CK_DEFAULT_TIMEOUT
passed=0
failed=0
skipped=0
status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

for bin in "$@"; do
    echo "== $(basename "$bin")"
    "$bin" >"$out" 2>&1
    rc=$?
    cat "$out"
    # Check's summary line looks like "100%: Checks: 12, Failures: 0, Errors: 0".
    # (Not anchored: a suite whose tests were all filtered away prints it after "Running
    # suite(s): NAME" on the same line.)
    summary=$(grep -oE '[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out" |
        tail -n 1)
    if [ -z "$summary" ]; then
        echo "run-suites: $(basename "$bin") exited with status $rc before printing a summary"
        failed=$((failed + 1))
        status=1
        continue
    fi
    n=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$summary" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$summary" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    s=$(grep -c '^SKIP ' "$out")
    passed=$((passed + n - f - e - s))
    failed=$((failed + f + e))
    skipped=$((skipped + s))
    [ "$rc" -eq 0 ] || status=1
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] || status=1
exit $status
