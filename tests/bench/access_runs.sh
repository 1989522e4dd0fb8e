#!/usr/bin/env bash
# The access benchmark of docs/PERFORMANCE.md: habilisd and the bare no-op server on CPU 0, habilis-loadgen
# on CPU 1, on a dataset habilis-dataset wrote. Each run restarts habilisd (start-up time and resident
# memory), then runs, interleaved within each: the closed loop over every mode, the open loop at 5,000
# calls/s while 200 grants and revokes a second commit, and the closed loop with Zipf-skewed accounts.
# Any wrong answer or failed call stops the script (exit 1).
#
#   bash tests/bench/access_runs.sh DATA_DIR KEYS_FILE ACCOUNTS STRUCTURES [RUNS=3] [SECONDS=10]
set -euo pipefail
. "$(dirname "$0")/habilisd.sh"
build=${BUILD:-build}
data=$1 keys=$2 accounts=$3 structures=$4 runs=${5:-3} seconds=${6:-10}
port=${PORT:-50078}
bare_port=$((port + 1))
logs=$(mktemp -d)
echo "habilisd's output: $logs"
server=0
trap 'kill $server $bare 2>/dev/null || true' EXIT

taskset -c 0 "$build/clients/habilis-noop-server" --listen "127.0.0.1:$bare_port" > /dev/null &
bare=$!
loadgen() {
  taskset -c 1 "$build/clients/habilis-loadgen" --target "127.0.0.1:$port" --bare-target "127.0.0.1:$bare_port" \
    --keys-file "$keys" --accounts "$accounts" --structures "$structures" --seconds "$seconds" \
    --server-pid "$server" --bare-pid "$bare" "$@"
}

for run in $(seq 1 "$runs"); do
  echo "=== run $run ($(date -u +%H:%M:%S))"
  started=$(date +%s.%N)
  log=$logs/run$run.log
  start_habilisd "$log"
  ready=$(date +%s.%N)
  grep "access index of" "$log" || true
  echo "start-up: $(awk -v a="$started" -v b="$ready" 'BEGIN { printf "%.2f", b - a }') s to listening (index loaded)," \
    "resident $(( $(ps -o rss= -p "$server") / 1024 )) MiB"
  echo "--- closed loop, uniform"
  loadgen
  echo "--- open loop at 5000/s, 200 writes/s"
  loadgen --rate 5000 --write-rate 200
  echo "--- closed loop, Zipf 0.99"
  loadgen --zipf 0.99 --modes bare,check,check-structure,batch
  echo "resident after the run: $(( $(ps -o rss= -p "$server") / 1024 )) MiB"
  grep "access index of" "$log" || true
  if ! kill "$server"; then
    echo "habilisd $server had exited:" && tail -20 "$log"
    exit 1
  fi
  wait "$server" || true
done
