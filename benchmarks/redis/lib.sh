# Shared by the Redis benchmarks (run.sh, run-tls.sh, ab.sh, fence.sh). Sourced, not run, after
# scripts/lib.sh, from the repository root.

# bench_options USAGE NAMES "$@": reads `--NAME VALUE` for each NAME in the space-separated
# NAMES into the variable NAME (the caller sets the defaults first); anything else prints
# USAGE and exits 2. Positional arguments are the caller's to shift off before.
bench_options() {
  local usage=$1 names=" $2 " name
  shift 2
  while [ $# -gt 0 ]; do
    name=${1#--}
    if [ "$name" != "$1" ] && [ $# -ge 2 ] && [[ "$names" == *" $name "* ]]; then
      printf -v "$name" '%s' "$2"
      shift 2
    else
      echo "usage: $usage"
      exit 2
    fi
  done
}

# bench_server NAME: a throw-away redis-server on a free loopback port for this run, stopped and
# its directory removed on exit. Sets work (a fresh directory), port and url.
bench_server() {
  work=$(mktemp -d "/tmp/quote-relay-bench-$1.XXXXXX")
  port=$(free_port)
  trap bench_cleanup EXIT
  start_redis "$port" "$work"
  url="redis://127.0.0.1:$port/0"
}

# bench_cleanup: stops the server of bench_server and removes its directory once the server has
# exited (it writes its log until then).
bench_cleanup() {
  local pid=""
  [ -f "$work/redis-$port.pid" ] && pid=$(cat "$work/redis-$port.pid")
  stop_redis "$port" "$work"
  if [ -n "$pid" ]; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}

# bench_build: builds bench-publisher (release) and sets bin to it.
bench_build() {
  echo "==> swift build -c release --product bench-publisher"
  swift build -c release --product bench-publisher 2>&1 | grep -v 'prohibited flag' | tail -n 1
  bin="$(swift build -c release --show-bin-path)/bench-publisher"
}

# distinct BIN URL [ARGS...]: writes/s of bench-publisher's distinct-keys scenario ($keys keys,
# one pass) against URL.
distinct() {
  local binary=$1; shift
  "$binary" --redis-url "$@" --scripts-dir lua --scenario distinct --keys "$keys" --passes 1 \
    | sed -nE 's/^RESULT distinct_writes_per_s=([0-9]+).*/\1/p'
}

# rb CLIENTS ARGS...: requests/s of redis-benchmark (-P 64, 200000 requests, keyspace 100000)
# running the command ARGS against $port.
rb() {
  local clients=$1; shift
  redis-benchmark -p "$port" -c "$clients" -P 64 -n 200000 -r 100000 -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep 'requests per second' | tail -n 1 \
    | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}

# interleave ROUNDS OUT AFTER_ROUND 'LABEL=FUNCTION'...: ROUNDS rounds, each calling every
# FUNCTION once in the order given, so that all of them see the same machine load (a loaded
# machine moves every number; alternating within seconds keeps the ratios honest). Prints
# `round R: LABEL V/s, LABEL V/s` and appends each round's values, space-separated, as one
# line to OUT. AFTER_ROUND (a function, or `:`) runs after every round, e.g. a FLUSHALL.
interleave() {
  local rounds=$1 out=$2 after=$3 r spec value line values
  shift 3
  : > "$out"
  for r in $(seq 1 "$rounds"); do
    line="round $r:"
    values=""
    for spec in "$@"; do
      value=$("${spec##*=}")
      line+=" ${spec%=*} $value/s,"
      values+="$value "
    done
    echo "${line%,}"
    echo "${values% }" >> "$out"
    "$after"
  done
}

# flush_redis: empties the benchmark's server (between rounds, so every round starts alike).
flush_redis() {
  redis-cli -p "$port" FLUSHALL >/dev/null
}

# machine_line: what the numbers were measured on.
machine_line() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); redis $(redis-server --version | cut -d' ' -f3)"
}
