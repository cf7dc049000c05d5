#!/usr/bin/env bash
# A/B of two bench-publisher binaries (e.g. before and after a change) on one throw-away
# redis-server, alternating the distinct-keys scenario so both see the same machine load.
# Prints the medians and the ratio B / A.
#
#   benchmarks/redis/ab.sh A_BIN B_BIN [--rounds 7] [--keys 50000]
#
# Build A from another checkout: git worktree add /tmp/before <commit> &&
# (cd /tmp/before && swift build -c release --product bench-publisher).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
a=$1; b=$2; shift 2
rounds=7
keys=50000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    *) echo "usage: $0 A_BIN B_BIN [--rounds N] [--keys N]"; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/quote-relay-bench-ab.XXXXXX)
port=$(free_port)
cleanup() { stop_redis "$port" "$work"; rm -rf "$work"; }
trap cleanup EXIT
start_redis "$port" "$work"
url="redis://127.0.0.1:$port/0"
distinct() {
  "$1" --redis-url "$url" --scripts-dir lua --scenario distinct --keys "$keys" --passes 1 \
    | sed -nE 's/^RESULT distinct_writes_per_s=([0-9]+).*/\1/p'
}
: > "$work/rounds"
for r in $(seq 1 "$rounds"); do
  x=$(distinct "$a"); y=$(distinct "$b")
  echo "round $r: A $x/s, B $y/s"
  echo "$x $y" >> "$work/rounds"
  redis-cli -p "$port" FLUSHALL >/dev/null
done
python3 - "$work/rounds" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
ratios = [r[1] / r[0] for r in rows]
print(f"MEDIAN A {statistics.median(r[0] for r in rows):.0f}/s, B {statistics.median(r[1] for r in rows):.0f}/s")
print(f"RATIO B / A: median of rounds {statistics.median(ratios):.2f} (per round: {', '.join(f'{x:.2f}' for x in ratios)})")
PY
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); redis $(redis-server --version | cut -d' ' -f3)"
