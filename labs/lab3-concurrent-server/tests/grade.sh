#!/bin/sh
# grade.sh - runs a lab's tests the way the course autograder does, and reports.
#
#   sh tests/grade.sh --lab N --prefixes "net udp ..." [--only "udp ..."] [--results DIR] BIN...
#
# Every test binary runs the Check test cases tagged with one of --prefixes (CK_INCLUDE_TAGS): the
# tests of labs 1..N. The binaries run a few at once; their outputs are then shown in the order
# given, and the last line counts every test: "N passed, N failed", plus ", N skipped" when a test
# could not run on this machine.
# With --results DIR it also writes DIR/results.tap (one TAP stream for all the binaries) and
# DIR/results.json in Gradescope's format:
#   {"score": S, "output": "...", "tests": [{"name", "score", "max_score", "status", "output"}]}
# Each test is worth one point; a skipped test is worth nothing either way (max_score 0).
#
# A run narrowed with --only (make check ONLY=...) or with Check's own variables (CK_RUN_SUITE,
# CK_RUN_CASE, CK_INCLUDE_TAGS, CK_EXCLUDE_TAGS) is partial: its last line says so, and its
# results.json has score 0, so it can never pass for a full grade.
set -u
lab=? prefixes="" only="" results=""
while [ $# -gt 0 ]; do
    case $1 in
    --lab) lab=$2; shift 2 ;;
    --prefixes) prefixes=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    *) break ;;
    esac
done

partial=""
if [ -n "${CK_INCLUDE_TAGS:-}" ]; then
    only="$only $CK_INCLUDE_TAGS"
fi
for v in CK_RUN_SUITE CK_RUN_CASE CK_EXCLUDE_TAGS; do
    eval "val=\${$v:-}"
    [ -n "$val" ] && partial="$partial $v=$val"
done
tags=$prefixes
if [ -n "$(echo $only)" ]; then
    for p in $only; do
        case " $prefixes " in
        *" $p "*) ;;
        *)
            echo "grade.sh: \"$p\" is not a test case of labs 1-$lab; they are: $prefixes" >&2
            exit 2
            ;;
        esac
    done
    tags=$(echo $only)
    partial="$partial ONLY=\"$tags\""
fi
partial=$(echo $partial)

work=build/results
mkdir -p "$work"
rm -f "$work"/*.tap "$work"/*.out "$work"/*.rc

# The test programs are independent (each binds its own port 0 and works in its own temporary
# folder), so they run several at a time: four per processor, since much of their time is spent
# waiting on sockets, time outs and rate limits rather than computing. Each writes its output,
# TAP stream and exit status to its own files; they are shown afterwards in the order given, so
# the report reads the same however the runs interleaved.
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
case $jobs in '' | *[!0-9]*) jobs=2 ;; esac
jobs=$((jobs * 4))
running=0
for bin in "$@"; do
    name=$(basename "$bin")
    (
        CK_INCLUDE_TAGS="$tags" CK_TAP_LOG_FILE_NAME="$work/$name.tap" "$bin" >"$work/$name.out" 2>&1
        echo $? >"$work/$name.rc"
    ) &
    running=$((running + 1))
    # POSIX sh has no "wait for any one job", so the runs go in batches of $jobs.
    if [ $running -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait

passed=0 failed=0 skipped=0 status=0
for bin in "$@"; do
    name=$(basename "$bin")
    echo "== $name"
    rc=$(cat "$work/$name.rc" 2>/dev/null || echo 1)
    cat "$work/$name.out"
    # Check's summary looks like "100%: Checks: 12, Failures: 0, Errors: 0". When a filter leaves a
    # binary nothing to run, it follows "Running suite(s):" on the same line.
    summary=$(sed -n 's/.*%: \(Checks: [0-9]*, Failures: [0-9]*, Errors: [0-9]*\).*/\1/p' \
        "$work/$name.out" | tail -n 1)
    if [ -z "$summary" ]; then
        echo "grade.sh: $name exited with status $rc before printing a summary"
        echo "CRASH $name: exited with status $rc before printing a summary" >>"$work/$name.out"
        failed=$((failed + 1))
        status=1
        continue
    fi
    n=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$summary" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$summary" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    s=$(grep -c '^SKIP ' "$work/$name.out")
    passed=$((passed + n - f - e - s))
    failed=$((failed + f + e))
    skipped=$((skipped + s))
    [ "$rc" -eq 0 ] || status=1
done

if [ -n "$results" ]; then
    mkdir -p "$results"
    # The binaries' TAP streams become one: tests renumbered, one plan at the end, and "# SKIP"
    # on the tests that skipped. The JSON is written from the same data.
    for bin in "$@"; do
        name=$(basename "$bin")
        [ -f "$work/$name.tap" ] || : >"$work/$name.tap"
    done
    tapfiles=$(for bin in "$@"; do echo "$work/$(basename "$bin").tap"; done)
    outfiles=$(for bin in "$@"; do echo "$work/$(basename "$bin").out"; done)
    LC_ALL=C awk -v tapout="$results/results.tap" -v jsonout="$results/results.json" \
        -v lab="$lab" -v partial="$partial" '
    # JSON string escapes. Backslashes and quotes are joined back with split() rather than
    # gsub(), whose handling of backslashes in the replacement differs between awks.
    function join(s, re, with,    parts, n, i, r) {
        n = split(s, parts, re)
        r = parts[1]
        for (i = 2; i <= n; i++) r = r with parts[i]
        return r
    }
    function esc(s) {
        s = join(s, "\\\\", "\\\\"); s = join(s, "\"", "\\\""); s = join(s, "\n", "\\n")
        s = join(s, "\t", "\\t"); gsub(/[\001-\037\177-\377]/, "?", s)
        return s
    }
    FNR == 1 { tap = (FILENAME ~ /\.tap$/) }
    !tap && /^SKIP [^ :]+: / {
        t = $0; sub(/^SKIP /, "", t); nm = t; sub(/:.*/, "", nm); sub(/^[^:]*: /, "", t); skip[nm] = t; next
    }
    !tap && /^[^:]+:[0-9]+:[FE]:[^:]+:[^:]+:[0-9]+: / {
        split($0, f, ":"); where[f[5]] = f[1] ":" f[2]; next
    }
    !tap && /^CRASH / {
        t = $0; sub(/^CRASH /, "", t); nm = t; sub(/:.*/, "", nm); sub(/^[^:]*: /, "", t)
        ntests++; name[ntests] = nm " (the whole test program)"; ok[ntests] = 0; msg[ntests] = t; next
    }
    !tap { next }
    /^(not )?ok [0-9]+ - / {
        ntests++
        ok[ntests] = ($0 ~ /^ok /)
        t = $0; sub(/^(not )?ok [0-9]+ - /, "", t)
        # file:tcase:test: message
        for (k = 0; k < 3; k++) sub(/^[^:]*:/, "", t)
        nm = $0; sub(/^(not )?ok [0-9]+ - /, "", nm); sub(/^[^:]*:[^:]*:/, "", nm); sub(/:.*/, "", nm)
        name[ntests] = nm; sub(/^ /, "", t); msg[ntests] = t; next
    }
    /^1\.\.[0-9]+/ { next }
    ntests > 0 { msg[ntests] = msg[ntests] "\n" $0 }
    END {
        score = 0; max = 0; npass = 0
        for (i = 1; i <= ntests; i++) {
            nm = name[i]
            if (ok[i] && (nm in skip)) {
                printf "ok %d - %s # SKIP %s\n", i, nm, skip[nm] > tapout
                status[i] = "passed"; pts[i] = 0; mx[i] = 0; out[i] = "skipped: " skip[nm]
            } else if (ok[i]) {
                printf "ok %d - %s\n", i, nm > tapout
                status[i] = "passed"; pts[i] = 1; mx[i] = 1; out[i] = ""
            } else {
                m = msg[i]; if (nm in where) m = where[nm] ": " m
                gsub(/\n/, "\n# ", m)
                printf "not ok %d - %s\n# %s\n", i, nm, m > tapout
                m = msg[i]; if (nm in where) m = where[nm] ": " m
                status[i] = "failed"; pts[i] = 0; mx[i] = 1; out[i] = m
            }
            score += pts[i]; max += mx[i]; if (ok[i]) npass++
        }
        printf "1..%d\n", ntests > tapout
        summary = sprintf("Lab %s: %d of %d tests pass (the tests of labs 1-%s).", lab, npass, ntests, lab)
        if (partial != "") {
            summary = "PARTIAL RUN (" partial "): not every test of labs 1-" lab " ran, so this is not a grade. " summary
            score = 0
        }
        printf "{\n  \"score\": %d,\n  \"output\": \"%s\",\n  \"tests\": [", score, esc(summary) > jsonout
        for (i = 1; i <= ntests; i++) {
            printf "%s\n    {\"name\": \"%s\", \"score\": %d, \"max_score\": %d, \"status\": \"%s\", \"output\": \"%s\"}", \
                (i > 1 ? "," : ""), esc(name[i]), pts[i], mx[i], status[i], esc(out[i]) > jsonout
        }
        printf "\n  ]\n}\n" > jsonout
    }' $outfiles $tapfiles
    echo "grade.sh: wrote $results/results.json and $results/results.tap"
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
[ -n "$partial" ] && line="$line (PARTIAL RUN: $partial; not a grade)"
echo "$line"
[ "$failed" -eq 0 ] || status=1
exit $status
