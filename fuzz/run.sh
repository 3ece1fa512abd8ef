#!/bin/sh
# Runs the libFuzzer harnesses for `make fuzz` and reports on them.
#
#   sh fuzz/run.sh run DIR NAME SECONDS [libFuzzer options...]
#       Runs DIR/bin/fuzz_NAME for SECONDS on a corpus in DIR/corpus/NAME (seeded from
#       fuzz/corpus/NAME, and kept between runs so it keeps growing), with fuzz/dict/NAME.dict.
#       Writes "fuzz NAME: N execs, M crashes" to DIR/results/NAME and prints it. A crash does
#       not stop the other harnesses: the summary step turns it into a failure. Each run also
#       appends "NAME EXECS CRASHES SECONDS" to DIR/history.
#   sh fuzz/run.sh summary DIR NAME...
#       Prints every harness's result line; exits 1 when any harness crashed or did not run.
#   sh fuzz/run.sh totals DIR
#       Adds up DIR/history: executions, crashes and seconds per harness over all runs.
set -u
mode=$1
dir=$2
shift 2

if [ "$mode" = totals ]; then
    [ -f "$dir/history" ] || { echo "fuzz: no runs recorded in $dir/history yet"; exit 0; }
    awk '{ e[$1] += $2; c[$1] += $3; s[$1] += $4; r[$1]++ }
         END { for (n in e) printf "fuzz %s: %d execs, %d crashes in %d runs, %d s\n",
                                    n, e[n], c[n], r[n], s[n] }' "$dir/history" | sort
    exit 0
fi

if [ "$mode" = summary ]; then
    status=0
    echo "== fuzz summary"
    for name in "$@"; do
        if [ -f "$dir/results/$name" ]; then
            cat "$dir/results/$name"
            grep -q ', 0 crashes$' "$dir/results/$name" || status=1
        else
            echo "fuzz $name: did not run"
            status=1
        fi
    done
    [ $status -eq 0 ] || echo "fuzz: crashes are saved in $dir/artifacts/; see fuzz/README.md"
    exit $status
fi

name=$1
seconds=$2
shift 2
bin="$dir/bin/fuzz_$name"
corpus="$dir/corpus/$name"
log="$dir/logs/$name.log"
mkdir -p "$corpus" "$dir/logs" "$dir/results" "$dir/artifacts"
rm -f "$dir/results/$name"

# The grown corpus lives in build/; the committed seeds are copied in (again, when they changed).
if [ -d "fuzz/corpus/$name" ]; then
    cp fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
fi
dict=""
[ -f "fuzz/dict/$name.dict" ] && dict="-dict=fuzz/dict/$name.dict"

before=$(ls "$dir/artifacts" | grep -c "^$name-" || true)
# -print_final_stats=1 makes libFuzzer end with "stat::number_of_executed_units: N";
# -artifact_prefix puts any crashing input where the summary can find it; -timeout turns an input
# that hangs (a deadlock, an endless loop) into a saved "timeout-" artifact after 30 s.
"$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=30 \
    -artifact_prefix="$dir/artifacts/$name-" $dict "$@" "$corpus" >"$log" 2>&1
rc=$?
after=$(ls "$dir/artifacts" | grep -c "^$name-" || true)

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
[ -n "$execs" ] || execs=0
crashes=$((after - before))
# A non-zero exit without a saved input (libFuzzer itself failed) still counts as a failure.
if [ $rc -ne 0 ] && [ $crashes -eq 0 ]; then
    crashes=1
fi
line="fuzz $name: $execs execs, $crashes crashes"
echo "$line" >"$dir/results/$name"
# Every run is also appended to a history, so executions over many runs can be added up.
echo "$name $execs $crashes $seconds" >>"$dir/history"
echo "$line"
if [ $crashes -ne 0 ]; then
    echo "fuzz $name: see $log; reproduce with: $bin $dir/artifacts/$name-<file>"
    grep -E 'ERROR|invariant failed|SUMMARY' "$log" | head -n 5
fi
exit 0
