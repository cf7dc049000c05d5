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
rounds=7
before=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--before OLD_PUBLISH_LUA]"; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/quote-relay-bench-fence.XXXXXX)
port=$(free_port)
cleanup() { stop_redis "$port" "$work"; rm -rf "$work"; }
trap cleanup EXIT
start_redis "$port" "$work"
url="redis://127.0.0.1:$port/0"

swift build -c release --product bench-publisher 2>&1 | grep -v 'prohibited flag' | tail -n 1
bin="$(swift build -c release --show-bin-path)/bench-publisher"
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

rb() {  # requests/s of redis-benchmark -c 1 -P 64 running ARGS
  redis-benchmark -p "$port" -c 1 -P 64 -n 200000 -r 100000 -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep 'requests per second' | tail -n 1 \
    | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}
# The fenced command must really write (not answer FENCED).
redis-cli -p "$port" "${fenced[@]}" | grep -q '^[0-9]' || { echo "the fenced command was refused"; exit 1; }

: > "$work/rounds"
for r in $(seq 1 "$rounds"); do
  p=$(rb "${plain[@]}"); f=$(rb "${fenced[@]}"); o=0
  [ -n "$before" ] && o=$(rb "${old[@]}")
  echo "round $r: plain $p/s, fenced $f/s$([ -n "$before" ] && echo ", before $o/s")"
  echo "$p $f $o" >> "$work/rounds"
  redis-cli -p "$port" FLUSHALL >/dev/null
  redis-cli -p "$port" SET "$lease" "$token" >/dev/null
done
python3 - "$work/rounds" <<'PY'
import statistics, sys
rows = [tuple(float(x) for x in line.split()) for line in open(sys.argv[1]) if line.strip()]
med = lambda i: statistics.median(r[i] for r in rows)
print(f"MEDIAN plain {med(0):.0f}/s, fenced {med(1):.0f}/s: fenced / plain {statistics.median(r[1] / r[0] for r in rows):.2f} (per round: {', '.join(f'{r[1] / r[0]:.2f}' for r in rows)})")
if med(2) > 0:
    print(f"MEDIAN before {med(2):.0f}/s: plain / before {statistics.median(r[0] / r[2] for r in rows):.2f} (per round: {', '.join(f'{r[0] / r[2]:.2f}' for r in rows)})")
PY
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); redis $(redis-server --version | cut -d' ' -f3)"
