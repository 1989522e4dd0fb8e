#!/usr/bin/env bash
# Every benchmark of docs/PERFORMANCE.md, run by its documented command on a tiny dataset: each starts, checks
# every answer it gets against the dataset's truth, and finishes (exit 0). Any wrong answer, failed call or
# failed write makes a benchmark, and so this test, fail. The numbers they print mean nothing at this size and
# are not read: a test never times anything.
#
#   bash tests/bench/benchmarks_smoke_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
export BUILD=$2
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$source_dir"
# Ports of their own, away from the benchmarks' defaults (a benchmark may be running on this machine).
export PORT=50278
accounts=2000 structures=200

step() { echo "=== $*"; }

step "the dataset"
"$build/server/habilis-dataset" --data-dir "$work/data" --keys-file "$work/keys" --structures "$structures" \
  --accounts "$accounts"

step "access_runs.sh and summarize_runs.py"
bash tests/bench/access_runs.sh "$work/data" "$work/keys" "$accounts" "$structures" 1 1 > "$work/runs.log"
python3 tests/bench/summarize_runs.py "$work/runs.log" > "$work/summary.txt"
# The summary has the rate of every mode the closed loop measured.
for mode in bare health check check-structure batch list; do
  grep -qE "^closed loop, uniform +$mode +calls/s" "$work/summary.txt" ||
    { echo "no summary of mode $mode"; cat "$work/runs.log" "$work/summary.txt"; exit 1; }
done

step "startup_runs.sh"
PORT=50288 bash tests/bench/startup_runs.sh "$work/data" "$work/keys" "$accounts" "$structures" 1

step "compare_builds.sh (one build against itself)"
PORT=50290 bash tests/bench/compare_builds.sh "$build/server/habilisd" "$build/server/habilisd" "$work/data" \
  "$work/keys" "$accounts" "$structures" 1 1

step "habilis-bench"
"$build/tests/habilis-bench" --accounts "$accounts" --queries 2000

step "count_instructions.sh"
bash tests/bench/count_instructions.sh "$build" "$accounts" 2000

step "habilis-csv-bench"
"$build/tests/habilis-csv-bench" --data-dir "$work/csv" --accounts "$accounts" --import-rows 1000 --memory-check false

step "compare_imports.sh (one build against itself)"
"$build/server/habilis-dataset" --data-dir "$work/csvtpl" --keys-file "$work/csvtpl.keys" --structures 1 \
  --accounts "$accounts"
bash tests/bench/compare_imports.sh "$build/tests/habilis-csv-bench" "$build/tests/habilis-csv-bench" \
  "$work/csvtpl" "$accounts" 1000 1

echo "every benchmark ran and verified its answers"
