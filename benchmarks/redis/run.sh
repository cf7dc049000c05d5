#!/usr/bin/env bash
# The Redis publisher benchmark, one command: starts a throw-away redis-server on a free
# loopback port, builds bench-publisher (release), and on that same server alternates
# redis-benchmark running the very EVALSHA of publish.lua the publisher sends (pipelined
# -P 64) with the publisher writing distinct keys, so both see the same machine load; then
# the coalescing and latency scenarios. Prints medians and the ratio.
#
#   benchmarks/redis/run.sh [--rounds 5] [--keys 50000]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

rounds=5
keys=50000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--keys N]"; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/quote-relay-bench.XXXXXX)
port=$(free_port)
cleanup() { stop_redis "$port" "$work"; rm -rf "$work"; }
trap cleanup EXIT
start_redis "$port" "$work"
url="redis://127.0.0.1:$port/0"

echo "==> swift build -c release --product bench-publisher"
swift build -c release --product bench-publisher 2>&1 | grep -v 'prohibited flag' | tail -n 1
bin="$(swift build -c release --show-bin-path)/bench-publisher"

# The exact EVALSHA the publisher sends for one option record (23 fields), NUL-separated,
# with __rand_int__ in the key and member (keyspace 100000).
"$bin" --redis-url "$url" --scripts-dir lua --emit-evalsha-args "$work/args"
mapfile -d '' args < "$work/args"
# The design alternative publish.lua rejected (update in place + HKEYS/HDEL), same arguments.
alt_args=("${args[@]}")
alt_args[1]=$(redis-cli -p "$port" SCRIPT LOAD "$(cat benchmarks/redis/publish_inplace.lua)")

rb() {  # rb CLIENTS ARGS...: requests/s of redis-benchmark
  local clients=$1; shift
  redis-benchmark -p "$port" -c "$clients" -P 64 -n 200000 -r 100000 -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep 'requests per second' | tail -n 1 \
    | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}

echo "==> $rounds rounds: redis-benchmark -c 1 -P 64 EVALSHA publish.lua | bench-publisher distinct | redis-benchmark EVALSHA publish_inplace.lua"
: > "$work/rounds"
for r in $(seq 1 "$rounds"); do
  a=$(rb 1 "${args[@]}")
  p=$("$bin" --redis-url "$url" --scripts-dir lua --scenario distinct --keys "$keys" --passes 1 \
      | sed -nE 's/^RESULT distinct_writes_per_s=([0-9]+).*/\1/p')
  b=$(rb 1 "${alt_args[@]}")
  echo "round $r: redis-benchmark publish.lua $a/s, publisher $p/s, redis-benchmark publish_inplace.lua $b/s"
  echo "$a $p $b" >> "$work/rounds"
done
rb50=$(rb 50 "${args[@]}")
echo "redis-benchmark -c 50 -P 64 EVALSHA publish.lua: $rb50/s"
redis-cli -p "$port" FLUSHALL >/dev/null

echo "==> bench-publisher: coalescing and paced latency"
"$bin" --redis-url "$url" --scripts-dir lua --scenario coalesce
"$bin" --redis-url "$url" --scripts-dir lua --scenario paced

python3 - "$work/rounds" "$rb50" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
rb = statistics.median(r[0] for r in rows)
pub = statistics.median(r[1] for r in rows)
alt = statistics.median(r[2] for r in rows)
ratios = [r[1] / r[0] for r in rows]
print(f"MEDIAN redis-benchmark EVALSHA publish.lua -c 1 -P 64: {rb:.0f}/s; publisher distinct keys: {pub:.0f}/s; "
      f"publish_inplace.lua: {alt:.0f}/s ({alt / rb:.2f} of publish.lua)")
print(f"RATIO publisher / redis-benchmark (-c 1 -P 64): median of rounds {statistics.median(ratios):.2f} "
      f"(per round: {', '.join(f'{x:.2f}' for x in ratios)}); vs -c 50: {pub / float(sys.argv[2]):.2f}")
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); redis $(redis-server --version | cut -d' ' -f3)"
