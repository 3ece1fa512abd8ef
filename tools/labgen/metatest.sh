#!/bin/sh
# metatest.sh - tests the lab handouts themselves: a lab whose tests pass on its starter grades nothing.
#
#   sh tools/labgen/metatest.sh [-v] N...      from the toolkit's top folder
#
# For each lab N it copies labs/labN-*/ to a temporary folder (so the folder is shown to stand
# alone) and generates the lab's solution next to it, then checks that:
#   1. the starter builds with -Werror;
#   2. graded there, every test that lab N targets fails on the starter, while every test of the
#      earlier labs passes (a test that skips on the solution too is left out: the machine lacks
#      what it needs, and skipping says nothing about the starter);
#   3. the solution passes every test of labs 1..N, and its results.json has a full score;
#   4. both results.json files hold the fields Gradescope reads;
#   5. the README names every function the student writes.
# It prints one line per lab, and with -v the whole grading output. It exits 1 if any lab fails.
set -u
verbose=0
if [ "${1:-}" = -v ]; then
    verbose=1
    shift
fi
here=$(cd "$(dirname "$0")" && pwd)
labgen="sh $here/labgen.sh"
top=$(pwd)
# The labs build and test themselves: nothing from a surrounding make or test run may leak in.
unset MAKEFLAGS MAKELEVEL MFLAGS TOOLKIT_BIN CK_RUN_SUITE CK_RUN_CASE CK_INCLUDE_TAGS \
    CK_EXCLUDE_TAGS CK_TAP_LOG_FILE_NAME CK_XML_LOG_FILE_NAME CK_LOG_FILE_NAME CK_FORK

# Milliseconds since the epoch where date knows %N, whole seconds times 1000 elsewhere.
now_ms() {
    t=$(date +%s%N 2>/dev/null)
    case $t in
    *N | "") echo $(($(date +%s) * 1000)) ;;
    *) echo $((t / 1000000)) ;;
    esac
}

# results FILE: "name status" for each test in a results.json that grade.sh wrote (one test a line).
results() {
    sed -n 's/^ *{"name": "\([^"]*\)", "score": [0-9]*, "max_score": \([0-9]*\), "status": "\([a-z]*\)".*/\1 \3 \2/p' "$1"
}

# valid_json FILE: the fields of Gradescope's results.json are all there (and, where python3
# exists, the file parses as JSON with the right types).
valid_json() {
    grep -q '^  "score": [0-9]*,$' "$1" && grep -q '^  "tests": \[' "$1" || return 1
    tests_n=$(grep -c '^ *[{]"name"' "$1")
    tests_m=$(grep -cE '^ *[{]"name": "[^"]*", "score": [0-9]+, "max_score": [0-9]+, "status": "(passed|failed)", "output": ".*"[}]' "$1")
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

metatest() {
    n=$1
    folder=$($labgen get "$n" folder) || return 1
    grades=$($labgen get "$n" grades)
    prefixes=$($labgen get "$n" prefixes)
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
        for p in $prefixes; do
            case $name in "${p}_"*) [ ${#p} -gt ${#best} ] && best=$p ;; esac
        done
        [ -n "$best" ] || problem "$name ran but belongs to none of the test cases $prefixes"
        sol=$(awk -v t="$name" '$1 == t { print $2, $3 }' "$tmp/sol")
        if [ "$sol" = "passed 0" ]; then
            envskip=$((envskip + 1)) # skipped on the solution: this machine cannot run it
            continue
        fi
        case " $grades " in
        *" $best "*)
            targeted=$((targeted + 1))
            [ "$status $max" = "failed 1" ] || problem "$name passes on the starter: it grades nothing"
            ;;
        *)
            earlier=$((earlier + 1))
            [ "$status $max" = "passed 1" ] || problem "$name, from an earlier lab, fails on the starter"
            ;;
        esac
    done <"$tmp/sta"
    [ "$(wc -l <"$tmp/sta")" -eq "$total" ] || problem "the starter ran $(wc -l <"$tmp/sta") tests, the solution $total"
    grep -q '"status": "failed"' "$tmp/solution/results.json" && problem "the solution fails: $(grep -o '"name": "[^"]*", "score": 0, "max_score": 1' "$tmp/solution/results.json" | head -3)"
    [ "$targeted" -gt 0 ] || problem "no test targets lab $n"

    # 5. The handout names each function to write.
    nfun=0
    for fn in $($labgen functions "$n" | awk '{ print $2 }'); do
        nfun=$((nfun + 1))
        grep -q "$fn" "$tmp/starter/README.md" 2>/dev/null || problem "README.md does not mention $fn()"
    done

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
