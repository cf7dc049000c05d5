#!/usr/bin/env bash
# What the worker.group fence costs inside Redis: redis-benchmark (-c 1 -P 64) running the
# publisher's own EVALSHA of publish.lua for one option record, interleaved per round:
#   plain   the command without a group (3 keys), as every worker without worker.group sends it
#   fenced  the same with the lease key as KEYS[4] and the owner token as the last argument
#           (the key holds the token, so every write passes the fence: GET + compare)
#   before  (with --before FILE: a publish.lua from before the fence existed) the plain command
#           against that script: the cost of the fence's presence for writers without a group
# Prints per-round rates and the medians' ratios.
#
#   benchmarks/redis/fence.sh [--rounds 7] [--before /path/to/old/publish.lua]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
source benchmarks/redis/lib.sh
rounds=7
before=""
bench_options "$0 [--rounds N] [--before OLD_PUBLISH_LUA]" "rounds before" "$@"
bench_server fence
bench_build
"$bin" --redis-url "$url" --scripts-dir lua --emit-evalsha-args "$work/args"
mapfile -d '' plain < "$work/args"
# EVALSHA sha 3 key updated stream ARGV... -> EVALSHA sha 4 key updated stream lease ARGV... token
lease="bench:rb:group:bench:lease"
token="bench#fence"
redis-cli -p "$port" SET "$lease" "$token" >/dev/null
fenced=("${plain[@]:0:2}" 4 "${plain[@]:3:3}" "$lease" "${plain[@]:6}" "$token")
old=()
if [ -n "$before" ]; then
  old=("${plain[@]}")
  old[1]=$(redis-cli -p "$port" SCRIPT LOAD "$(cat "$before")")
fi

# The fenced command must really write (not answer FENCED).
redis-cli -p "$port" "${fenced[@]}" | grep -q '^[0-9]' || { echo "the fenced command was refused"; exit 1; }

run_plain() { rb 1 "${plain[@]}"; }
run_fenced() { rb 1 "${fenced[@]}"; }
run_before() { rb 1 "${old[@]}"; }
# Between rounds: an empty server again, with the lease key that lets the fenced writes pass.
reset_round() {
  flush_redis
  redis-cli -p "$port" SET "$lease" "$token" >/dev/null
}

variants=("plain=run_plain" "fenced=run_fenced")
[ -n "$before" ] && variants+=("before=run_before")
interleave "$rounds" "$work/rounds" reset_round "${variants[@]}"
python3 - "$work/rounds" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
med = lambda i: statistics.median(r[i] for r in rows)
print(f"MEDIAN plain {med(0):.0f}/s, fenced {med(1):.0f}/s: fenced / plain {statistics.median(r[1] / r[0] for r in rows):.2f} (per round: {', '.join(f'{r[1] / r[0]:.2f}' for r in rows)})")
if len(rows[0]) > 2:
    print(f"MEDIAN before {med(2):.0f}/s: plain / before {statistics.median(r[0] / r[2] for r in rows):.2f} (per round: {', '.join(f'{r[0] / r[2]:.2f}' for r in rows)})")
PY
machine_line
