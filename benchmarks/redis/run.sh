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
source benchmarks/redis/lib.sh

rounds=5
keys=50000
bench_options "$0 [--rounds N] [--keys N]" "rounds keys" "$@"

bench_server bench
bench_build

# The exact EVALSHA the publisher sends for one option record (23 fields), NUL-separated,
# with __rand_int__ in the key and member (keyspace 100000).
"$bin" --redis-url "$url" --scripts-dir lua --emit-evalsha-args "$work/args"
mapfile -d '' args < "$work/args"
# The design alternative publish.lua rejected (update in place + HKEYS/HDEL), same arguments.
alt_args=("${args[@]}")
alt_args[1]=$(redis-cli -p "$port" SCRIPT LOAD "$(cat benchmarks/redis/publish_inplace.lua)")

run_script() { rb 1 "${args[@]}"; }
run_publisher() { distinct "$bin" "$url"; }
run_inplace() { rb 1 "${alt_args[@]}"; }
echo "==> $rounds rounds: redis-benchmark -c 1 -P 64 EVALSHA publish.lua | bench-publisher distinct | redis-benchmark EVALSHA publish_inplace.lua"
interleave "$rounds" "$work/rounds" : "redis-benchmark publish.lua=run_script" "publisher=run_publisher" \
  "redis-benchmark publish_inplace.lua=run_inplace"
rb50=$(rb 50 "${args[@]}")
echo "redis-benchmark -c 50 -P 64 EVALSHA publish.lua: $rb50/s"
flush_redis

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
machine_line
