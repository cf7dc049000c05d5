#!/usr/bin/env bash
# The Redis publisher benchmark, one command: starts a throw-away redis-server on a free
# loopback port, builds bench-publisher (release), runs redis-benchmark with EVALSHA of the
# very same publish.lua call (pipelined -P 64) and then the publisher's scenarios against the
# same server, and prints the results with the ratio.
#
#   benchmarks/redis/run.sh [--keys N] [--passes N]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

keys=50000
passes=3
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys=$2; shift 2 ;;
    --passes) passes=$2; shift 2 ;;
    *) echo "usage: $0 [--keys N] [--passes N]"; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/quote-relay-bench.XXXXXX)
port=$(free_port)
cleanup() { stop_redis "$port" "$work"; rm -rf "$work"; }
trap cleanup EXIT
start_redis "$port" "$work"
url="redis://127.0.0.1:$port/0"

echo "==> swift build -c release --product bench-publisher"
swift build -c release --product bench-publisher 2>&1 | grep -v 'prohibited flag' | tail -n 3
bin="$(swift build -c release --show-bin-path)/bench-publisher"

# The exact EVALSHA the publisher sends for one option record (23 fields), NUL-separated.
"$bin" --redis-url "$url" --scripts-dir lua --emit-evalsha-args "$work/args"
mapfile -d '' args < "$work/args"

rb() {  # rb CLIENTS ARGS...: requests/s of redis-benchmark
  local clients=$1; shift
  redis-benchmark -p "$port" -c "$clients" -P 64 -n 400000 -r 100000 -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep 'requests per second' | tail -n 1 \
    | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}

echo "==> redis-benchmark: EVALSHA publish.lua, -P 64, keyspace 100000"
rb1=$(rb 1 "${args[@]}")
rb50=$(rb 50 "${args[@]}")
echo "redis-benchmark EVALSHA publish.lua -c 1  -P 64: $rb1 req/s"
echo "redis-benchmark EVALSHA publish.lua -c 50 -P 64: $rb50 req/s"

# The design alternative publish.lua rejected: update in place, HKEYS + HDEL of the fields
# that became unknown (and DEL only on a source switch).
alt_sha=$(redis-cli -p "$port" SCRIPT LOAD "$(cat benchmarks/redis/publish_inplace.lua)")
alt_args=("${args[@]}")
alt_args[1]=$alt_sha
rb_alt=$(rb 1 "${alt_args[@]}")
echo "redis-benchmark EVALSHA publish_inplace.lua (alternative) -c 1 -P 64: $rb_alt req/s"
redis-cli -p "$port" FLUSHALL >/dev/null

echo "==> bench-publisher"
"$bin" --redis-url "$url" --scripts-dir lua --keys "$keys" --passes "$passes" | tee "$work/bench.txt"

distinct=$(sed -nE 's/^RESULT distinct_writes_per_s=([0-9]+).*/\1/p' "$work/bench.txt")
python3 - "$distinct" "$rb1" "$rb50" <<'PY'
import sys
d, rb1, rb50 = (float(x) for x in sys.argv[1:])
print(f"RATIO publisher distinct / redis-benchmark -c 1 -P 64 = {d/rb1:.2f}")
print(f"RATIO publisher distinct / redis-benchmark -c 50 -P 64 = {d/rb50:.2f}")
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); $(redis-server --version | cut -d' ' -f3)"
