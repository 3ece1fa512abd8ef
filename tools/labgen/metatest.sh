#!/bin/sh
# metatest.sh - tests the lab handouts themselves: a lab whose tests pass on the starter, or do not
# catch a typical mistake, grades nothing.
#
#   sh tools/labgen/metatest.sh [-v] [--no-mutants] N...      from the toolkit's top folder
#
# For each lab N it copies labs/labN-*/ to a temporary folder (so the folder is shown to stand
# alone) and generates the lab's solution next to it, then checks that:
#   1. the starter builds with -Werror;
#   2. graded there, every test that lab N targets fails on the starter and its results.json
#      scores 0, while every test of the earlier labs passes (a test that skips on the solution too
#      is left out: the machine lacks what it needs, and skipping says nothing about the starter);
#   3. the solution passes every test of labs 1..N in every build (plain and sanitized), and its
#      results.json has every point of the lab, and only the lab's own tests carry points;
#   4. both results.json files hold the fields Gradescope reads;
#   5. the README names every function the student writes, and the runs it quotes are real (its
#      summary lines were printed, its failure lines name tests that fail there, its promised
#      final count is the solution's);
#   6. (unless --no-mutants) each mutant, tools/labgen/mutants/labN/NAME.patch, applied to a copy
#      of the built solution, makes at least one of the lab's own tests fail. A mutant is one
#      typical student mistake: its first line is "# mistake: ..." and the rest a unified diff of
#      the toolkit's sources (git diff), applied with patch -p1 in the lab folder. The copy keeps
#      the solution's build, so make recompiles only the patched file, and only the lab's own
#      test cases run (make grade ONLY=...).
# It prints one line per lab and "labN mutants: K of K caught", and with -v the whole grading
# output. It exits 1 if any lab fails or any mutant survives.
set -u
verbose=0 mutants=1
while [ $# -gt 0 ]; do
    case $1 in
    -v) verbose=1; shift ;;
    --no-mutants) mutants=0; shift ;;
    *) break ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
labgen="sh $here/labgen.sh"
top=$(pwd)
# The labs build and test themselves: nothing from a surrounding make or test run may leak in.
unset MAKEFLAGS MAKELEVEL MFLAGS TOOLKIT_BIN CK_RUN_SUITE CK_RUN_CASE CK_INCLUDE_TAGS \
    CK_EXCLUDE_TAGS CK_TAP_LOG_FILE_NAME CK_XML_LOG_FILE_NAME CK_LOG_FILE_NAME CK_FORK ONLY \
    SANITIZERS AUTOGRADER_ROOT
# Nothing is written to a real /autograder/results of this machine.
export AUTOGRADER_ROOT=/nonexistent-autograder

# Milliseconds since the epoch where date knows %N, whole seconds times 1000 elsewhere.
now_ms() {
    t=$(date +%s%N 2>/dev/null)
    case $t in
    *N | "") echo $(($(date +%s) * 1000)) ;;
    *) echo $((t / 1000000)) ;;
    esac
}

# results FILE: "name status max_score" for each test in a results.json that grade.sh wrote (one
# test a line); a regression test's name loses its "regression: " label, and a skipped test's
# status is "skipped".
results() {
    sed -n -e 's/^ *{"name": "\(regression: \)\{0,1\}\([^"]*\)", "score": [0-9]*, "max_score": \([0-9]*\), "status": "passed", "output": "skipped: .*/\2 skipped \3/p' \
        -e 't' -e 's/^ *{"name": "\(regression: \)\{0,1\}\([^"]*\)", "score": [0-9]*, "max_score": \([0-9]*\), "status": "\([a-z]*\)".*/\2 \4 \3/p' "$1"
}

# score FILE: the score of a results.json.
score() {
    sed -n 's/^  "score": \([0-9]*\),$/\1/p' "$1"
}

# valid_json FILE: the fields of Gradescope's results.json are all there (and, where python3
# exists, the file parses as JSON with the right types).
valid_json() {
    grep -q '^  "score": [0-9]*,$' "$1" && grep -q '^  "tests": \[' "$1" || return 1
    tests_n=$(grep -c '^ *[{]"name"' "$1")
    tests_m=$(grep -cE '^ *[{]"name": "[^"]*", "score": [0-9]+, "max_score": [0-9]+, "status": "(passed|failed)", "output": ".*", "visibility": "visible"[}]' "$1")
    [ "$tests_n" -gt 0 ] && [ "$tests_n" -eq "$tests_m" ] || return 1
    if command -v python3 >/dev/null 2>&1; then
        python3 - "$1" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["score"], (int, float))
for t in d["tests"]:
    assert isinstance(t["name"], str) and isinstance(t["output"], str)
    assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
    assert t["status"] in ("passed", "failed")
PY
    fi
}

# run_mutants N TMP GRADES: applies each of lab N's mutants to a copy of TMP/solution (built and
# graded) and grades it on the lab's own test cases; sets mutline, and calls problem for each
# mutant that survives or does not apply.
run_mutants() {
    mdir=$top/tools/labgen/mutants/lab$1
    k=0 caught=0 survived=""
    for patchf in "$mdir"/*.patch; do
        [ -f "$patchf" ] || continue
        k=$((k + 1))
        mname=$(basename "$patchf" .patch)
        mistake=$(sed -n '1s/^# mistake: //p' "$patchf")
        [ -n "$mistake" ] || problem "mutant $mname: its first line is not \"# mistake: ...\""
        rm -rf "$2/mutant"
        cp -Rp "$2/solution" "$2/mutant"
        rm -f "$2/mutant/results.json"
        if ! (cd "$2/mutant" && patch -p1 -s -f --dry-run <"$patchf" >"$2/patch.out" 2>&1); then
            problem "mutant $mname does not apply to the solution of lab $1 (regenerate it with git diff in the toolkit): $(head -n 3 "$2/patch.out" | tr '\n' ' ')"
            survived="$survived $mname(does-not-apply)"
            continue
        fi
        (cd "$2/mutant" && patch -p1 -s -f <"$patchf" >/dev/null 2>&1)
        m0=$(now_ms)
        (cd "$2/mutant" && make grade ONLY="$3" >"$2/mutant.out" 2>&1)
        m1=$(now_ms)
        echo "---- lab$1 mutant $mname ($(((m1 - m0) / 1000)) s): $mistake" >>"$log"
        tail -n 6 "$2/mutant.out" >>"$log"
        if ! [ -f "$2/mutant/results.json" ]; then
            problem "mutant $mname: the patched solution does not build or grade: $(grep -m 1 -E 'error|Error' "$2/mutant.out")"
            survived="$survived $mname(no-build)"
        elif grep -qE '^ *[{]"name": "[^r][^"]*", "score": 0, "max_score": 1, "status": "failed"' "$2/mutant/results.json"; then
            caught=$((caught + 1))
        else
            problem "mutant $mname survives (every test of lab $1 still passes): $mistake"
            survived="$survived $mname"
        fi
    done
    mutline="lab$1 mutants: $caught of $k caught"
    [ -z "$survived" ] || mutline="$mutline; survived:$survived"
    [ "$k" -ge 6 ] || mutline="$mutline (fewer than 6: add mutants in tools/labgen/mutants/lab$1/)"
    rm -rf "$2/mutant"
}

metatest() {
    n=$1
    folder=$($labgen get "$n" folder) || return 1
    grades=$($labgen get "$n" grades)
    prefixes=$($labgen get "$n" prefixes)
    given=$($labgen get "$n" given)
    given_before=""
    [ "$n" -le 1 ] || given_before=$($labgen get $((n - 1)) given)
    tmp=$(mktemp -d)
    log=$tmp/log
    problems=""
    problem() { problems="$problems
  - $*"; }

    [ -d "$top/labs/$folder" ] || { echo "lab$n FAIL: labs/$folder is missing (make handouts)"; return 1; }
    cp -R "$top/labs/$folder" "$tmp/starter"
    (cd "$tmp/starter" && rm -rf bin build results.json results.tap)
    $labgen solution "$n" "$tmp/solution" >>"$log" 2>&1 || problem "the generator could not write the solution"

    # 1. The starter builds with -Werror (the lab's Makefile always has it).
    if ! (cd "$tmp/starter" && make -j4 all >>"$log" 2>&1); then
        problem "the starter does not build with -Werror (see below)"
    fi

    # 2. and 4. Graded in the copy: lab N's tests fail, the earlier labs' pass.
    (cd "$tmp/starter" && make grade >"$tmp/starter.out" 2>&1)
    # 3. The solution passes everything. Its make grade (make check plus writing the results) is
    # timed from a clean folder, compiling included.
    t0=$(now_ms)
    (cd "$tmp/solution" && make grade >"$tmp/solution.out" 2>&1)
    sol_rc=$?
    t1=$(now_ms)
    [ $sol_rc -eq 0 ] || problem "make grade fails on the solution: $(tail -n 1 "$tmp/solution.out")"

    for r in starter solution; do
        if ! [ -f "$tmp/$r/results.json" ]; then
            problem "make grade wrote no results.json for the $r"
        elif ! valid_json "$tmp/$r/results.json"; then
            problem "the $r's results.json lacks Gradescope's fields or is not valid JSON"
        fi
    done
    [ -f "$tmp/starter/results.json" ] && [ -f "$tmp/solution/results.json" ] || {
        echo "lab$n FAIL:$problems"
        [ $verbose -eq 0 ] || cat "$log" "$tmp/starter.out" "$tmp/solution.out"
        rm -rf "$tmp"
        return 1
    }
    results "$tmp/solution/results.json" >"$tmp/sol"
    results "$tmp/starter/results.json" >"$tmp/sta"
    total=$(wc -l <"$tmp/sol")
    targeted=0 earlier=0 envskip=0
    while read -r name status max; do
        # The test case a test belongs to is the longest prefix of its name among the lab's.
        best=""
        for p in $prefixes $given; do
            case $name in "${p}_"*) [ ${#p} -gt ${#best} ] && best=$p ;; esac
        done
        [ -n "$best" ] || problem "$name ran but belongs to none of the test cases $prefixes $given"
        sol=$(awk -v t="$name" '$1 == t { print $2, $3 }' "$tmp/sol")
        if [ "$sol" = "skipped 0" ]; then
            envskip=$((envskip + 1)) # skipped on the solution: this machine cannot run it
            continue
        fi
        case " $grades " in
        *" $best "*)
            targeted=$((targeted + 1))
            [ "$status $max" = "failed 1" ] || problem "$name passes on the starter: it grades nothing"
            [ "${sol#* }" = 1 ] || problem "$name is one of the lab's own tests but is worth no point"
            continue
            ;;
        esac
        [ "$max" = 0 ] || problem "$name is not one of lab $n's own tests, but it is worth a point"
        case " $given " in
        *" $best "*)
            # Given code of this lab: it may rely on what the student writes, so it may fail on the
            # starter; it must pass on the solution (checked below) and carries no point.
            case " $given_before " in
            *" $best "*) ;;
            *) continue ;;
            esac
            ;;
        esac
        earlier=$((earlier + 1))
        [ "$status" = passed ] || problem "$name, from an earlier lab or given code, fails on the starter"
    done <"$tmp/sta"
    [ "$(wc -l <"$tmp/sta")" -eq "$total" ] || problem "the starter ran $(wc -l <"$tmp/sta") tests, the solution $total"
    grep -q '"status": "failed"' "$tmp/solution/results.json" && problem "the solution fails: $(grep -o '"name": "[^"]*", "score": 0, "max_score": [01], "status": "failed"' "$tmp/solution/results.json" | head -3)"
    [ "$targeted" -gt 0 ] || problem "no test targets lab $n"
    [ "$(score "$tmp/starter/results.json")" = 0 ] || problem "the starter scores $(score "$tmp/starter/results.json") points, not 0"
    [ "$(score "$tmp/solution/results.json")" = "$targeted" ] || problem "the solution scores $(score "$tmp/solution/results.json") points, not $targeted"
    grep -q '^sanitizers: ' "$tmp/solution.out" || problem "make grade printed no sanitizers: line"

    # 5. The handout names each function to write.
    nfun=0
    for fn in $($labgen functions "$n" | awk '{ print $2 }'); do
        nfun=$((nfun + 1))
        grep -q "$fn" "$tmp/starter/README.md" 2>/dev/null || problem "README.md does not mention $fn()"
    done

    # 5b. The handout's sample runs are real: every summary line it quotes was printed by the
    # starter or the solution, every failure line it quotes names a test that failed at that file
    # and line, and the count it promises at the end is the solution's. (Where a test skips on
    # this machine the counts differ from the handout's, so they are not compared.)
    readme="$tmp/starter/README.md"
    if [ $envskip -eq 0 ] && [ -f "$readme" ]; then
        stale=$(grep -E '^([0-9]+ passed, [0-9]+ failed|Lab [0-9]+: .*|sanitizers: .*|[0-9]+%: Checks: .*)$' "$readme" |
            while IFS= read -r line; do
                grep -qxF "$line" "$tmp/starter.out" "$tmp/solution.out" || echo "$line"
            done)
        [ -z "$stale" ] || problem "README.md quotes output no run printed: $(echo "$stale" | head -n 1)"
        # The line a test fails at may depend on timing (lab 3's starter server exits while a
        # client connects), so a quoted failure must name a test that failed in that file, at
        # whichever line.
        stale=$(grep -oE '^tests/[a-z0-9_]+\.c:[0-9]+:F:[a-z0-9_]+:[a-z0-9_]+:' "$readme" |
            while IFS= read -r line; do
                file=${line%%:*} name=${line#*:F:}
                grep -E "^$file:[0-9]+:F:$name" "$tmp/starter.out" >/dev/null || echo "$line"
            done)
        [ -z "$stale" ] || problem "README.md quotes a failure the starter does not print: $(echo "$stale" | head -n 1)"
        promised=$(sed -n 's/.*`make check` ends with `\([0-9]* passed, 0 failed\)`.*/\1/p' "$readme" | head -n 1)
        if [ -n "$promised" ]; then
            got=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/solution.out" | tail -n 1)
            [ "$promised" = "$got" ] || problem "README.md says make check ends with \"$promised\", the solution printed \"$got\""
        fi
    fi

    # 6. The mutants: each typical mistake must lose points.
    mutline=""
    if [ $mutants -eq 1 ] && [ $sol_rc -eq 0 ]; then
        run_mutants "$n" "$tmp" "$grades"
    fi

    ms=$((t1 - t0))
    summary="$nfun functions to write, $targeted tests target them, $earlier earlier-lab tests"
    [ $envskip -eq 0 ] || summary="$summary, $envskip skipped here"
    summary="$summary; the solution builds and grades in $((ms / 1000)).$(((ms % 1000) / 100)) s"
    if [ -z "$problems" ]; then
        echo "lab$n ok: $summary"
        status=0
    else
        echo "lab$n FAIL: $summary$problems"
        status=1
    fi
    [ -z "$mutline" ] || echo "$mutline"
    if [ $verbose -eq 1 ] || [ $status -ne 0 ]; then
        echo "---- lab$n: generator and starter build log (tail)"
        tail -n 20 "$log"
        echo "---- lab$n: make grade on the starter (tail)"
        tail -n 15 "$tmp/starter.out"
        echo "---- lab$n: make check on the solution (tail)"
        tail -n 15 "$tmp/solution.out"
    fi
    rm -rf "$tmp"
    return $status
}

[ $# -gt 0 ] || set -- $($labgen labs)
rc=0
for n in "$@"; do
    metatest "$n" || rc=1
done
exit $rc
