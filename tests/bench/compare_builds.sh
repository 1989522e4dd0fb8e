#!/usr/bin/env bash
# Two builds of habilisd on one dataset, interleaved run by run (docs/PERFORMANCE.md): a change's effect on
# the access path measured in the same hour of the machine, whose speed drifts by up to 40% between runs.
# Each run starts build A, then build B, on CPU 0 beside the bare no-op server, and runs the closed loop over
# bare, check, check-structure and batch from CPU 1; it prints the start-up line, the resident memory and
# the load generator's lines. Any wrong answer or failed call stops the script (exit 1).
#
#   bash tests/bench/compare_builds.sh HABILISD_A HABILISD_B DATA_DIR KEYS_FILE ACCOUNTS STRUCTURES [RUNS=3] [SECONDS=8]
set -euo pipefail
build=${BUILD:-build}
a=$1 b=$2 data=$3 keys=$4 accounts=$5 structures=$6 runs=${7:-3} seconds=${8:-8}
port=${PORT:-50090}
logs=$(mktemp -d)
server=0
trap 'kill $server $bare 2>/dev/null || true' EXIT
taskset -c 0 "$build/clients/habilis-noop-server" --listen "127.0.0.1:$((port + 1))" > /dev/null &
bare=$!
for run in $(seq 1 "$runs"); do
  for which in A B; do
    binary=$a && [[ $which == B ]] && binary=$b
    log=$logs/run$run$which.log
    taskset -c 0 "$binary" --listen "127.0.0.1:$port" --data-dir "$data" > "$log" 2>&1 &
    server=$!
    until grep -q "listening on" "$log"; do
      kill -0 "$server"
      sleep 0.05
    done
    echo "=== run $run, $which ($binary): $(grep -o 'in [0-9.]*m\?s, [0-9]* MiB ([0-9]* bytes an account)' "$log")," \
      "resident $(( $(ps -o rss= -p "$server") / 1024 )) MiB"
    taskset -c 1 "$build/clients/habilis-loadgen" --target "127.0.0.1:$port" --bare-target "127.0.0.1:$((port + 1))" \
      --keys-file "$keys" --accounts "$accounts" --structures "$structures" --seconds "$seconds" \
      --server-pid "$server" --bare-pid "$bare" --modes bare,check,check-structure,batch
    kill "$server"
    wait "$server" || true
  done
done
