#!/usr/bin/env bash
# What Redis pays per published update (issue 15 item 4): versions of publish.lua side by side
# on one throw-away redis-server, interleaved per round (benchmarks/redis/pay.py says how).
#
#   benchmarks/redis/pay.sh [--rounds 5] [--requests 100000] [--before REV] [--callgrind] [--only before,after,...]
#
# Variants (all checked for the same effects as the first before anything is measured):
#   before       lua/publish.lua at REV (default: 8048be3, the script before issue 15: DEL + HSET)
#   after        lua/publish.lua of the working tree
#   hkeys        benchmarks/redis/publish_inplace.lua (in place, HKEYS + HDEL of the gone fields)
#   fn_before, fn_after   the same two scripts as Redis Functions (FUNCTION LOAD + FCALL)
#   delta        benchmarks/redis/publish_delta_estimate.lua: an ESTIMATE of a write carrying only
#                the changed fields (not a design; not checked for the same effects)
# --callgrind runs the server under valgrind's callgrind and reports instructions per update
# (repeatable on a shared machine; slow: use few requests). Without it: Redis' own
# usec_per_call (INFO commandstats), its latency percentiles (INFO latencystats), the server's
# CPU time per update, SLOWLOG and LATENCY. Raw JSON goes to benchmarks/results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
rounds=5
requests=100000
before_rev=8048be3
callgrind=""
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --before) before_rev=$2; shift 2 ;;
    --callgrind) callgrind=1; shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--requests N] [--before REV] [--callgrind] [--only NAME,...]"; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/quote-relay-bench-pay.XXXXXX)
port=$(free_port)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
git show "$before_rev:lua/publish.lua" > "$work/before.lua"
variants=(before="$work/before.lua" after=lua/publish.lua hkeys=benchmarks/redis/publish_inplace.lua
          fn:fn_before="$work/before.lua" fn:fn_after=lua/publish.lua
          delta:delta=benchmarks/redis/publish_delta_estimate.lua)
if [ -n "$only" ]; then  # keep the named variants, in this order (the first is the reference)
  kept=()
  for v in "${variants[@]}"; do
    name=${v%%=*}; name=${name#*:}
    [[ ",$only," == *",$name,"* ]] && kept+=("$v")
  done
  variants=("${kept[@]}")
fi
stamp=$(date -u +%Y-%m-%dT%H%M)
extra=()
if [ -n "$callgrind" ]; then
  command -v valgrind >/dev/null || { echo "valgrind missing (apt-get install valgrind)"; exit 1; }
  mkdir -p "$work/cg"
  (cd "$work/cg" && exec valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$work/cg/out.%p" \
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >"$work/valgrind.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 600); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.5; done
  extra=(--callgrind-pid "$pid" --callgrind-dir "$work/cg" --keys 100)
  out="benchmarks/results/redis-pay-callgrind-$stamp"
else
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize yes \
    --pidfile "$work/redis.pid" --logfile "$work/redis.log"
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  pid=$(cat "$work/redis.pid")
  out="benchmarks/results/redis-pay-$stamp"
fi
{
echo "# $0 --rounds $rounds --requests $requests --before $before_rev${callgrind:+ --callgrind}${only:+ --only $only}"
echo "# $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(redis-server --version | cut -d' ' -f3)"
} | tee "$out.txt"
python3 benchmarks/redis/pay.py --redis-port "$port" --redis-pid "$pid" --rounds "$rounds" --requests "$requests" \
  --json "$out.json" "${extra[@]}" "${variants[@]}" | tee -a "$out.txt"
echo "raw results: $out.json, $out.txt"
