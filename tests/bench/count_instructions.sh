#!/usr/bin/env bash
# Instructions per CheckAccess and per BatchCheck decision in process, counted by callgrind: a number that
# does not drift with this machine's noise (docs/PERFORMANCE.md "Instruction counts").
#
#   bash tests/bench/count_instructions.sh [BUILD_DIR] [ACCOUNTS] [QUERIES] [misses]
# habilis-bench runs once under callgrind with instrumentation off until its measured passes; each pass
# dumps its own totals, which this divides by the checks it made. Address randomization is off
# (setarch -R): absl seeds its hashes with an address, and the probe lengths that gave moved the count by
# 1-2% from one run to the next.
# With `misses`, callgrind also simulates the caches, fixed whatever the machine (32 KiB first level, 8 MiB
# last level), and the script prints the data reads that miss the last level per check: a lookup's cache
# misses as a count (run it with a dataset larger than 8 MiB of index: 1,000,000 accounts).
set -euo pipefail
build=${1:-build}
accounts=${2:-20000}
queries=${3:-20000}
cache=()
[[ "${4:-}" == misses ]] && cache=(--cache-sim=yes --D1=32768,8,64 --LL=8388608,16,64)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
setarch "$(uname -m)" -R valgrind --tool=callgrind "${cache[@]}" --instr-atstart=no --callgrind-out-file="$out/cg" \
  "$build/tests/habilis-bench" --accounts "$accounts" --queries "$queries" > "$out/stdout" 2> "$out/stderr" || {
  cat "$out/stdout" "$out/stderr" >&2
  exit 1
}
# The total of one event (Ir: instructions; DLmr: data reads missing the last level) in a dump.
totals() {
  awk -v event="${2:-Ir}" '/^events:/ { for (i = 2; i <= NF; ++i) if ($i == event) column = i }
    /^totals:/ { print $column }' "$1"
}
single=$(grep -l 'single checks' "$out"/cg.* | tail -1)
batch=$(grep -l 'batches' "$out"/cg.* | tail -1)
head -1 "$out/stdout"
echo "commit $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
awk -v ir="$(totals "$single")" -v n="$queries" 'BEGIN { printf "instructions per CheckAccess: %.0f\n", ir / n }'
awk -v ir="$(totals "$batch")" -v n="$(( queries / 1000 * 1000 ))" \
  'BEGIN { printf "instructions per BatchCheck decision: %.0f\n", ir / n }'
if (( ${#cache[@]} )); then
  awk -v m="$(totals "$single" DLmr)" -v n="$queries" \
    'BEGIN { printf "last-level data read misses per CheckAccess: %.3f\n", m / n }'
  awk -v m="$(totals "$batch" DLmr)" -v n="$(( queries / 1000 * 1000 ))" \
    'BEGIN { printf "last-level data read misses per BatchCheck decision: %.3f\n", m / n }'
fi
