#!/bin/sh
# grade.sh - runs a lab's tests the way the course autograder does, and reports.
#
#   sh tests/grade.sh --lab N --grades "own..." --tags "all..." [--only "p ..."] [--results DIR]
#                     [--variant NAME:TESTDIR:BINDIR]... [--skipped "NAME: reason"]... TEST...
#
# --tags lists the Check test cases (tagged by test-name prefix, see tk_tcase) that this lab runs:
# its own, the earlier labs', and those of given code. --grades lists the lab's own test cases:
# only they carry points. Every other test is a "regression" test: it must pass, and a failure
# shows in the report and fails the run, but it is worth no points, so a lab is graded on its own
# work alone.
#
# Each TEST (a test program's name, such as check_wire) runs once per build variant: "plain",
# and the sanitizer builds "asan" (AddressSanitizer + UndefinedBehaviorSanitizer) and "tsan"
# (ThreadSanitizer) when given. A variant's test programs are in TESTDIR and the programs they
# start in BINDIR. A test passes only when it passes in every variant, and a sanitizer report
# printed while a test ran fails that test even when the test itself saw nothing wrong (a leak, an
# overflow that happened to hit harmless memory, a data race). --skipped names a sanitizer that
# this machine cannot run, and why, for the report.
#
# The last line counts every test: "N passed, N failed", plus ", N skipped" when a test could not
# run on this machine. With --results DIR it also writes DIR/results.tap and DIR/results.json in
# Gradescope's format:
#   {"score": S, "output": "...", "tests": [{"name", "score", "max_score", "status", "output",
#    "visibility"}]}
# Each of the lab's own tests is worth one point; a regression test is named "regression: NAME"
# and is worth 0; a skipped test is worth nothing either way.
#
# A run narrowed with --only (make check ONLY=...) or with Check's own variables (CK_RUN_SUITE,
# CK_RUN_CASE, CK_INCLUDE_TAGS, CK_EXCLUDE_TAGS) is partial: its last line says so, and its
# results.json has score 0, so it can never pass for a full grade.
set -u
lab=? grades="" tags="" only="" results="" variants="" skipped=""
while [ $# -gt 0 ]; do
    case $1 in
    --lab) lab=$2; shift 2 ;;
    --grades) grades=$2; shift 2 ;;
    --tags | --prefixes) tags=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --variant) variants="$variants $2"; shift 2 ;;
    --skipped) skipped="$skipped$2
"; shift 2 ;;
    *) break ;;
    esac
done
[ -n "$variants" ] || variants="plain:build/tests:${TOOLKIT_BIN:-bin}"

partial=""
if [ -n "${CK_INCLUDE_TAGS:-}" ]; then
    only="$only $CK_INCLUDE_TAGS"
fi
for v in CK_RUN_SUITE CK_RUN_CASE CK_EXCLUDE_TAGS; do
    eval "val=\${$v:-}"
    [ -n "$val" ] && partial="$partial $v=$val"
done
run_tags=$tags
if [ -n "$(echo $only)" ]; then
    for p in $only; do
        case " $tags " in
        *" $p "*) ;;
        *)
            echo "grade.sh: \"$p\" is not a test case of labs 1-$lab; they are: $tags" >&2
            exit 2
            ;;
        esac
    done
    run_tags=$(echo $only)
    partial="$partial ONLY=\"$run_tags\""
fi
partial=$(echo $partial)

work=build/results
rm -rf "$work"
mkdir -p "$work"

# The sanitizers' own settings. A report ends the process with a failing status (UBSan's
# halt_on_error, TSan's halt_on_error), so Check sees the test fail, and the report itself is
# printed on the test's standard error, where it is collected into that test's output below.
# Sanitized code runs slower, so Check's time outs stretch (unless the caller chose a multiplier).
# LeakSanitizer checks each test's process as it ends, which costs about 50 ms a test, so it
# looks for leaks in the lab's own tests only: the earlier labs' code had its leak check in its
# own lab.
variant_env() {
    case $1 in
    asan)
        echo "ASAN_OPTIONS=detect_leaks=$2:abort_on_error=0:exitcode=1:${ASAN_OPTIONS:-}" \
            "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
            "CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-2}"
        ;;
    tsan)
        echo "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}" \
            "CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-4}"
        ;;
    *) echo "CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-1}" ;;
    esac
}
variant_label() {
    case $1 in
    asan) echo "address,undefined" ;;
    tsan) echo "thread" ;;
    *) echo "$1" ;;
    esac
}
own_tags="" reg_tags=""
for p in $run_tags; do
    case " $grades " in
    *" $p "*) own_tags="$own_tags $p" ;;
    *) reg_tags="$reg_tags $p" ;;
    esac
done
own_tags=$(echo $own_tags) reg_tags=$(echo $reg_tags)

# The test programs are independent (each binds its own port 0 and works in its own temporary
# folder), so they run several at a time: four per processor, since much of their time is spent
# waiting on sockets, time outs and rate limits rather than computing. make(1) keeps that many
# running (POSIX sh cannot wait for "any one" of its jobs). Each run writes its output, with
# Check's TAP stream interleaved (CK_TAP_LOG_FILE_NAME=-), and its exit status to files of its
# own: the TAP line that ends a test tells which test the lines before it belong to.
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
case $jobs in '' | *[!0-9]*) jobs=2 ;; esac
jobs=$((jobs * 4))
mk=$work/run.mk
targets="" rules="" files=""
# job VARIANT RUN TAGS ENV TESTDIR BINDIR TEST: one run of one test program.
job() {
    [ -n "$3" ] || return 0
    targets="$targets $work/$1/$7.$2.rc"
    files="$files $work/$1/$7.$2.out"
    rules="$rules$work/$1/$7.$2.rc:
	@$4 TOOLKIT_BIN=$6 CK_TAP_LOG_FILE_NAME=- CK_INCLUDE_TAGS=\"$3\" $5/$7 >$work/$1/$7.$2.out 2>&1; echo \$\$? >\$@
"
}
for v in $variants; do
    vn=${v%%:*} rest=${v#*:}
    tdir=${rest%%:*} bdir=${rest#*:}
    mkdir -p "$work/$vn"
    for t in "$@"; do
        case $vn in
        asan)
            job "$vn" own "$own_tags" "$(variant_env asan 1)" "$tdir" "$bdir" "$t"
            job "$vn" reg "$reg_tags" "$(variant_env asan 0)" "$tdir" "$bdir" "$t"
            ;;
        *) job "$vn" all "$run_tags" "$(variant_env "$vn")" "$tdir" "$bdir" "$t" ;;
        esac
    done
done
printf 'all:%s\n%s' "$targets" "$rules" >"$mk"
MAKEFLAGS= MAKELEVEL= MFLAGS= make -s -f "$mk" -j"$jobs" all

# What the student reads: the plain run of every program in order, then the output of a sanitized
# run that failed (its report is there). Check's TAP lines are left out: they are for the parser.
show() {
    grep -v -E '^(not )?ok [0-9]+ - |^1\.\.[0-9]+$' "$1"
}
status=0
for f in $files; do
    rc=$(cat "${f%.out}.rc" 2>/dev/null || echo 1)
    [ "$rc" -eq 0 ] || status=1
    t=$(basename "$f" .out)
    t=${t%.*}
    vn=$(basename "$(dirname "$f")")
    if [ "$vn" = plain ]; then
        echo "== $t"
        show "$f"
    elif [ "$rc" -ne 0 ]; then
        echo "== $t, built with -fsanitize=$(variant_label "$vn")"
        show "$f"
    fi
done

# One awk reads every output file, cuts it into the tests' windows at the TAP lines, and merges
# the variants: the plain run gives the list of tests, and the others are matched to it by program,
# name and, for a test that runs in a loop, its turn.
[ -n "$results" ] && mkdir -p "$results"
LC_ALL=C awk -v tapout="${results:+$results/results.tap}" -v jsonout="${results:+$results/results.json}" \
    -v lab="$lab" -v partial="$partial" -v grades=" $(echo $grades) " -v skipped="$skipped" \
    -v rcdir="$work" '
# JSON string escapes. Backslashes and quotes are joined back with split() rather than gsub(),
# whose handling of backslashes in the replacement differs between awks.
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
function label(v) { return v == "asan" ? "address,undefined" : (v == "tsan" ? "thread" : v) }
# A sanitizer report in the text a test printed.
function report(s) {
    return s ~ /ERROR: (Address|Leak|Thread|Memory)Sanitizer|WARNING: ThreadSanitizer|runtime error: |SUMMARY: UndefinedBehaviorSanitizer/
}
# At most 3000 characters of a report: Gradescope shows the test output in a small box.
function cut(s) { return length(s) > 3000 ? substr(s, 1, 3000) "\n[... cut; make check shows it all]" : s }
function endfile() {
    if (cur != "" && !summary) {
        ncrash++; crashv[ncrash] = v; crashp[ncrash] = prog; crashrc[ncrash] = rc; crashtext[ncrash] = win
        crashed[v SUBSEP prog] = crashed[v SUBSEP prog] sprintf("%s exited with status %s before printing its summary", prog, rc) \
            (win == "" ? "" : ", after:\n" cut(win)) "\n"
    }
}
FNR == 1 {
    endfile()
    f = FILENAME; sub(/\.[a-z]+\.out$/, "", f); prog = f; sub(/.*\//, "", prog)
    v = f; sub(/\/[^\/]*$/, "", v); sub(/.*\//, "", v)
    if (!(v in seenv)) { seenv[v] = 1; nv++; vorder[nv] = v }
    cur = FILENAME; win = ""; summary = 0
    rc = ""; rcf = FILENAME; sub(/\.out$/, ".rc", rcf)
    if ((getline rc < rcf) <= 0) rc = "?"
    close(rcf)
}
/^Running suite\(s\):/ { win = ""; next }
/^(not )?ok [0-9]+ - / {
    t = $0; sub(/^(not )?ok [0-9]+ - /, "", t)
    # file:tcase:test: message
    split(t, part, ":")
    n = part[3]; turn = ++turns[v SUBSEP prog SUBSEP n]
    key = v SUBSEP prog SUBSEP n SUBSEP turn
    if (v == "plain") { nt++; tprog[nt] = prog; tname[nt] = n; tturn[nt] = turn; own[nt] = (index(grades, " " part[2] " ") > 0) }
    m = t; for (i = 0; i < 3; i++) sub(/^[^:]*:/, "", m); sub(/^ /, "", m)
    ran[key] = 1; ok[key] = ($0 ~ /^ok /); msg[key] = m; out[key] = win; win = ""
    next
}
/^[0-9]+%: Checks: [0-9]+/ { summary = 1; next }
/^[^:]+:[0-9]+:[FE]:[^:]+:[^:]+:[0-9]+: / {
    split($0, fl, ":"); wk = v SUBSEP prog SUBSEP fl[5]
    if (!(wk in where)) where[wk] = fl[1] ":" fl[2]
    next
}
/^1\.\.[0-9]+$/ { next }
/^SKIP [^ :]+: / {
    t = $0; sub(/^SKIP /, "", t); n = t; sub(/:.*/, "", n); sub(/^[^:]*: /, "", t); skip[v SUBSEP prog SUBSEP n] = t
}
{ win = win (win == "" ? "" : "\n") $0 }
END {
    endfile()
    for (i = 1; i <= nt; i++) {
        p = tprog[i]; n = tname[i]
        pass = 1; sk = ""; text = ""
        for (a = 1; a <= nv; a++) {
            v = vorder[a]; kv = v SUBSEP p SUBSEP n SUBSEP tturn[i]
            if (!(kv in ran)) {
                vfail[v]++; pass = 0
                text = text sprintf("[%s] %s did not run: %s\n", label(v), n, \
                    ((v SUBSEP p) in crashed) ? crashed[v SUBSEP p] : "it is missing from this build")
                continue
            }
            if ((v SUBSEP p SUBSEP n) in skip) sk = skip[v SUBSEP p SUBSEP n]
            if (!ok[kv] || report(out[kv])) {
                vfail[v]++; pass = 0
                w = ((v SUBSEP p SUBSEP n) in where) ? where[v SUBSEP p SUBSEP n] ": " : ""
                why = ok[kv] ? "passed, but a sanitizer reported an error while it ran" : msg[kv]
                text = text sprintf("[%s] %s%s\n", label(v), w, why)
                if (out[kv] != "") text = text cut(out[kv]) "\n"
            } else vpass[v]++
        }
        status[i] = pass ? "passed" : "failed"
        skipped_t[i] = (pass && sk != "")
        output[i] = pass ? (sk != "" ? "skipped: " sk : "") : text
    }
    # A program that stopped before printing its summary is one more failure: the tests it did not
    # reach are not in the list of the plain run when the plain run is the one that stopped.
    for (c = 1; c <= ncrash; c++) {
        nt++; tname[nt] = crashp[c] " (the whole test program, " label(crashv[c]) ")"; own[nt] = 0
        status[nt] = "failed"; skipped_t[nt] = 0; vfail[crashv[c]]++
        output[nt] = sprintf("%s exited with status %s before printing its summary:\n%s", crashp[c], crashrc[c], cut(crashtext[c]))
    }
    ownpass = 0; ownmax = 0; regpass = 0; regn = 0; npass = 0; nfail = 0; nskip = 0
    for (i = 1; i <= nt; i++) {
        if (skipped_t[i]) { nskip++; continue }
        if (status[i] == "passed") npass++; else nfail++
        if (own[i]) { ownmax++; if (status[i] == "passed") ownpass++ }
        else { regn++; if (status[i] == "passed") regpass++ }
    }
    for (a = 1; a <= nv; a++) {
        v = vorder[a]; if (v == "plain") continue
        printf "sanitizers: %s: %d passed, %d failed\n", label(v), vpass[v] + 0, vfail[v] + 0
    }
    ns = split(skipped, sl, "\n")
    for (a = 1; a <= ns; a++) if (sl[a] != "") printf "sanitizers: %s\n", sl[a]
    if (nv == 1 && skipped == "") printf "sanitizers: none in this run (SANITIZERS is empty)\n"
    summ = sprintf("Lab %s: %d of %d points: the lab'"'"'s own tests. Regression (earlier labs and given code, no points, must pass): %d of %d pass.", \
        lab, ownpass, ownmax, regpass, regn)
    if (partial != "")
        summ = "PARTIAL RUN (" partial "): not every test of labs 1-" lab " ran, so this is not a grade. " summ
    print summ
    printf "%d %d %d %d %d %d %d\n", npass, nfail, nskip, ownpass, ownmax, regpass, regn > (rcdir "/counts")
    if (jsonout == "") exit
    score = (partial != "") ? 0 : ownpass
    for (a = 1; a <= nv; a++) {
        v = vorder[a]; if (v != "plain") summ = summ sprintf(" Sanitizer build %s: %d passed, %d failed.", label(v), vpass[v] + 0, vfail[v] + 0)
    }
    for (a = 1; a <= ns; a++) if (sl[a] != "") summ = summ " Sanitizer " sl[a] "."
    printf "{\n  \"score\": %d,\n  \"output\": \"%s\",\n  \"tests\": [", score, esc(summ) > jsonout
    for (i = 1; i <= nt; i++) {
        mx = (own[i] && !skipped_t[i]) ? 1 : 0
        sc = (mx && status[i] == "passed") ? 1 : 0
        nmj = own[i] ? tname[i] : "regression: " tname[i]
        printf "%s\n    {\"name\": \"%s\", \"score\": %d, \"max_score\": %d, \"status\": \"%s\", \"output\": \"%s\", \"visibility\": \"visible\"}", \
            (i > 1 ? "," : ""), esc(nmj), sc, mx, status[i], esc(output[i]) > jsonout
        if (status[i] == "passed")
            printf "ok %d - %s%s\n", i, nmj, skipped_t[i] ? " # SKIP " output[i] : "" > tapout
        else {
            m = output[i]; gsub(/\n/, "\n# ", m)
            printf "not ok %d - %s\n# %s\n", i, nmj, m > tapout
        }
    }
    printf "\n  ]\n}\n" > jsonout
    printf "1..%d\n", nt > tapout
}' $files
[ -n "$results" ] && echo "grade.sh: wrote $results/results.json and $results/results.tap"

read -r passed failed nskipped ownpass ownmax regpass regn <"$work/counts" || {
    echo "grade.sh: could not read the results" >&2
    exit 1
}
line="$passed passed, $failed failed"
[ "$nskipped" -gt 0 ] && line="$line, $nskipped skipped"
[ -n "$partial" ] && line="$line (PARTIAL RUN: $partial; not a grade)"
echo "$line"
[ "$failed" -eq 0 ] || status=1
exit $status
