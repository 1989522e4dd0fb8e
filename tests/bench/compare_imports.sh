#!/usr/bin/env bash
# Two builds of habilis-csv-bench alternated run by run, each run on a fresh copy of one store: a change's
# effect on the CSV import in the same hour of the machine (its noise drifts by tens of percent).
#   tests/bench/compare_imports.sh CSV_BENCH_A CSV_BENCH_B TEMPLATE_DIR ACCOUNTS [ROWS] [RUNS]
# TEMPLATE_DIR: a store of one structure of ACCOUNTS members, written once, for example by
#   build/server/habilis-dataset --data-dir /tmp/csvtpl --keys-file /tmp/csvtpl.keys --structures 1 --accounts 100000
# Each run copies it, imports ROWS new members, then the same file again (every row verified by the benchmark).
set -euo pipefail
a=$1 b=$2 template=$3 accounts=$4 rows=${5:-100000} runs=${6:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for run in $(seq 1 "$runs"); do
  for which in A B; do
    binary=$a && [[ $which == B ]] && binary=$b
    rm -rf "$work/store"
    cp -a "$template" "$work/store"
    echo "=== run $run, $which ($binary)"
    "$binary" --data-dir "$work/store" --accounts "$accounts" --import-rows "$rows" --memory-check false | grep import
  done
done
