#!/usr/bin/env bash
# Start-up of habilisd on a dataset habilis-dataset wrote (docs/PERFORMANCE.md "Start-up"): the time from exec
# to "listening on" (the access index is built before it), in three situations, RUNS times each:
#   stopped:  after a clean stop (SIGTERM writes the index snapshot): restored, nothing to catch up;
#   killed:   after 10 s of checks with 200 grants and revokes a second, then kill -9: restored from the
#             last snapshot and caught up from the write-ahead log;
#   no snapshot: the snapshot file deleted: the index is read from the store.
# habilisd starts on both cores (a restore reads the logins and verifies the checksum on the second), the load
# generator runs on CPU 1. After each start, 2 s of checks verified against the dataset's truth: a wrong answer
# stops the script.
#
#   bash tests/bench/startup_runs.sh DATA_DIR KEYS_FILE ACCOUNTS STRUCTURES [RUNS=3]
set -euo pipefail
. "$(dirname "$0")/habilisd.sh"
build=${BUILD:-build}
data=$1 keys=$2 accounts=$3 structures=$4 runs=${5:-3}
port=${PORT:-50088}
habilisd_cpus=0,1
logs=$(mktemp -d)
echo "habilisd's output: $logs"
server=0
trap 'kill $server 2>/dev/null || true' EXIT

loadgen() {
  taskset -c 1 "$build/clients/habilis-loadgen" --target "127.0.0.1:$port" --keys-file "$keys" \
    --accounts "$accounts" --structures "$structures" "$@" > "$logs/loadgen.log" 2>&1 ||
    { cat "$logs/loadgen.log"; exit 1; }
}

# Starts habilisd, prints how long it took to listen and how the index was built.
start() {
  local label=$1 log=$logs/$1-$2.log
  local started
  started=$(date +%s.%N)
  start_habilisd "$log"
  local ready
  ready=$(date +%s.%N)
  printf '%-12s start-up %6.2f s, resident %5d MiB; %s\n' "$label" "$(awk -v a="$started" -v b="$ready" 'BEGIN { print b - a }')" \
    "$(( $(ps -o rss= -p "$server") / 1024 ))" "$(grep -o "access index of.*" "$log" | head -1)"
  loadgen --modes check --seconds 2
}

stop() {
  kill "$1" "$server"
  wait "$server" || true
}

# The first start writes the snapshot if there is none.
start first 0
stop -TERM
for run in $(seq 1 "$runs"); do
  echo "=== run $run ($(date -u +%H:%M:%S))"
  start stopped "$run"
  loadgen --modes check --seconds 10 --rate 1000 --write-rate 200
  stop -KILL
  start killed "$run"
  stop -TERM
  rm -f "$data/access-index.snapshot"
  start "no snapshot" "$run"
  stop -TERM
done
