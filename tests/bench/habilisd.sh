# Sourced by the benchmark scripts: starts habilisd on the CPUs of $habilisd_cpus (CPU 0 if unset) for $data on
# $port with its output in LOG, sets $server to its pid, and returns once it listens (the access index is built
# before that).
start_habilisd() {
  local log=$1
  taskset -c "${habilisd_cpus:-0}" "$build/server/habilisd" --listen "127.0.0.1:$port" --data-dir "$data" > "$log" 2>&1 &
  server=$!
  until grep -q "listening on" "$log"; do
    kill -0 "$server"
    sleep 0.01
  done
}
