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
source benchmarks/redis/lib.sh
a=$1; b=$2; shift 2
rounds=7
keys=50000
bench_options "$0 A_BIN B_BIN [--rounds N] [--keys N]" "rounds keys" "$@"
bench_server ab
run_a() { distinct "$a" "$url"; }
run_b() { distinct "$b" "$url"; }
interleave "$rounds" "$work/rounds" flush_redis "A=run_a" "B=run_b"
python3 - "$work/rounds" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
ratios = [r[1] / r[0] for r in rows]
print(f"MEDIAN A {statistics.median(r[0] for r in rows):.0f}/s, B {statistics.median(r[1] for r in rows):.0f}/s")
print(f"RATIO B / A: median of rounds {statistics.median(ratios):.2f} (per round: {', '.join(f'{x:.2f}' for x in ratios)})")
PY
machine_line
