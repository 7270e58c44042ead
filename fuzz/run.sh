#!/usr/bin/env bash
# Fuzz the table readers and the whole matcher with atheris (pip install -e '.[fuzz]').
#
#   fuzz/run.sh [SECONDS]     total time, split evenly between the two targets (default 3600)
#
# The corpus grows in $TRACER_FUZZ_WORK/corpus/<target> (default fuzz/work, not
# committed) and is reused by the next run; the seeds are regenerated from the
# fixtures each time.  A crash, hang (over 10 s for one input) or runaway memory
# (over 2 GB) stops the run with a non-zero exit, the log's tail and the input in
# $TRACER_FUZZ_WORK/crashes/; replay it with: python -m fuzz TARGET FILE
#
# Each target runs in slices of at most SLICE seconds, each a fresh process on
# the grown corpus: under atheris the match target's resident memory creeps up
# by ~20 KB per input (native memory, not Python objects, and not without
# atheris: the same inputs in a plain loop stay flat), which a long run would
# otherwise mistake for runaway memory.
set -euo pipefail
cd "$(dirname "$0")/.."

total=${1:-3600}
slice=${SLICE:-120}
export TRACER_FUZZ_WORK=${TRACER_FUZZ_WORK:-fuzz/work}
work=$TRACER_FUZZ_WORK
per_target=$(( total / 2 ))

python -m fuzz.seeds "$work"
mkdir -p "$work/crashes"
for target in tables match; do
    mkdir -p "$work/corpus/$target"
    log="$work/$target.log"
    started=$SECONDS
    runs=0
    for (( left = per_target; left > 0; left -= slice )); do
        if ! python -m fuzz "$target" \
                -max_total_time=$(( left < slice ? left : slice )) -timeout=10 -rss_limit_mb=2048 \
                -max_len=16384 -artifact_prefix="$work/crashes/$target-" -print_final_stats=1 \
                "$work/corpus/$target" "$work/seeds/$target" >"$log" 2>&1; then
            tail -n 80 "$log" >&2
            echo "fuzz: target $target failed; the input is in $work/crashes/" >&2
            exit 1
        fi
        runs=$(( runs + $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$') ))
    done
    echo "fuzz: $target: $runs inputs in $(( SECONDS - started )) s, no failure"
done
