#!/usr/bin/env bash
# Instructions per CheckAccess and per BatchCheck decision in process, counted by callgrind: a number that
# does not drift with this machine's noise (docs/PERFORMANCE.md "Instruction counts").
#
#   bash tests/bench/count_instructions.sh [BUILD_DIR] [ACCOUNTS] [QUERIES]
# habilis-bench runs once under callgrind with instrumentation off until its measured passes; each pass
# dumps its own totals, which this divides by the checks it made. Address randomization is off
# (setarch -R): absl seeds its hashes with an address, and the probe lengths that gave moved the count by
# 1-2% from one run to the next.
set -euo pipefail
build=${1:-build}
accounts=${2:-20000}
queries=${3:-20000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
setarch "$(uname -m)" -R valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg" \
  "$build/tests/habilis-bench" --accounts "$accounts" --queries "$queries" > "$out/stdout" 2> "$out/stderr" || {
  cat "$out/stdout" "$out/stderr" >&2
  exit 1
}
totals() { awk '/^totals:/ { print $2 }' "$1"; }
single=$(grep -l 'single checks' "$out"/cg.* | tail -1)
batch=$(grep -l 'batches' "$out"/cg.* | tail -1)
head -1 "$out/stdout"
echo "commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
awk -v ir="$(totals "$single")" -v n="$queries" 'BEGIN { printf "instructions per CheckAccess: %.0f\n", ir / n }'
awk -v ir="$(totals "$batch")" -v n="$(( queries / 1000 * 1000 ))" \
  'BEGIN { printf "instructions per BatchCheck decision: %.0f\n", ir / n }'
