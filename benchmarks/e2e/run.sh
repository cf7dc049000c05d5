#!/usr/bin/env bash
# The end-to-end benchmark (issue 5 item 7), in one command:
#   benchmarks/e2e/run.sh            # ~10 s per rate, 1k,10k,100k,max; writes benchmarks/results/e2e-DATE.md
# Environment knobs (all optional):
#   BENCH_SECONDS=10  BENCH_WARMUP=2  BENCH_RATES=1k,10k,100k,max  BENCH_TARGETS=quote-relay,peer  BENCH_REPEATS=1
#   BENCH_SYMBOLS=100  BENCH_OPTION_UNDERLYINGS=50 (0 skips the memory run)  BENCH_LIMITS_SCALE=1
#   BENCH_OPTION_LINES_RATES=10k (the option-lines scenario: over 1,000 lines on SPX/SPXW + 2 stocks; "" skips it)
#   BENCH_SKIP_CEILING=1 (no null-client flood)  BENCH_SKIP_LIMITS=1 (no redis-benchmark ceiling)
#   BENCH_SKIP_BUILD=1 (use the existing release binaries)  BENCH_SCRATCH_PATH=.build-release (a build
#   folder other than .build, so a release build does not wait for a debug build's lock)
# Everything runs on loopback; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
command_line="benchmarks/e2e/run.sh $*"
for v in BENCH_SECONDS BENCH_WARMUP BENCH_RATES BENCH_REPEATS BENCH_TARGETS BENCH_SYMBOLS BENCH_OPTION_UNDERLYINGS BENCH_LIMITS_SCALE \
  BENCH_OPTION_LINES_RATES BENCH_SKIP_CEILING BENCH_SKIP_LIMITS; do
  [ -n "${!v+x}" ] && command_line="$v=${!v} $command_line"
done
source scripts/lib.sh

seconds=${BENCH_SECONDS:-10}
warmup=${BENCH_WARMUP:-2}
rates=${BENCH_RATES-1k,10k,100k,max}
targets=${BENCH_TARGETS:-quote-relay,peer}
repeats=${BENCH_REPEATS:-1}
symbols=${BENCH_SYMBOLS:-100}
option_underlyings=${BENCH_OPTION_UNDERLYINGS:-50}
limits_scale=${BENCH_LIMITS_SCALE:-1}
option_lines_rates=${BENCH_OPTION_LINES_RATES-10k}
extra_flags=()
[ -n "${BENCH_SKIP_CEILING:-}" ] && extra_flags+=(--skip-simulator-ceiling)
date=$(date -u +%Y-%m-%d)
results_dir=benchmarks/results
mkdir -p "$results_dir"
work=$(mktemp -d /tmp/bench-e2e.XXXXXX)
redis_port=""

cleanup() {
  [ -n "$redis_port" ] && stop_redis "$redis_port" "$work"
  echo "==> logs and raw results in $work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/setup-deps
command -v redis-benchmark >/dev/null || { echo "redis-benchmark missing (apt-get install redis-tools)"; exit 1; }

scratch=()
[ -n "${BENCH_SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$BENCH_SCRATCH_PATH")
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  echo "==> release build (takes minutes the first time)"
  swift build "${scratch[@]}" -c release --product bench-e2e 2>&1 | grep -v 'prohibited flag' | tail -n 2
  if ! swift build "${scratch[@]}" -c release --product quote-relay >"$work/build-quote-relay.log" 2>&1; then
    echo "!! quote-relay did not build; measuring the peer only (see $work/build-quote-relay.log)"
  fi
fi
bin=$(swift build "${scratch[@]}" -c release --show-bin-path)

venv=benchmarks/e2e/.venv
# The venv serves the peer and redis_limits.py; a quote-relay-only run without limits needs neither.
if [[ ",$targets," == *",peer,"* ]] || [ -z "${BENCH_SKIP_LIMITS:-}" ]; then
  echo "==> peer venv (pinned: benchmarks/e2e/requirements-peer.txt)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r benchmarks/e2e/requirements-peer.txt
fi

# Other work on the machine shows up in latency: the load average goes into the report.
export BENCH_LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
redis_port=$(free_port)
start_redis "$redis_port" "$work"
redis_pid=$(cat "$work/redis-$redis_port.pid")
echo "==> redis-server on 127.0.0.1:$redis_port (pid $redis_pid)"

echo "==> end-to-end runs: targets=$targets rates=$rates, ${seconds}s each"
"$bin/bench-e2e" run \
  --redis-port "$redis_port" --redis-pid "$redis_pid" \
  --worker "$bin/quote-relay" --lua-dir "$root/lua" \
  --peer-python "$root/$venv/bin/python" --peer-script "$root/benchmarks/peer/ib_async_redis_peer.py" \
  --work-dir "$work" --output "$work/e2e.json" \
  --targets "$targets" --rates "$rates" --repeats "$repeats" --seconds "$seconds" --warmup "$warmup" \
  --symbols "$symbols" --option-underlyings "$option_underlyings" \
  --option-lines-rates "$option_lines_rates" "${extra_flags[@]}" 2>&1 | tee "$work/bench-e2e.log"

echo "==> Redis' own ceiling (redis-benchmark)"
if [ -n "${BENCH_SKIP_LIMITS:-}" ]; then
  echo "   skipped (BENCH_SKIP_LIMITS)"
elif ! "$venv/bin/python" benchmarks/e2e/redis_limits.py --redis-port "$redis_port" --lua lua/publish.lua \
  --bench-e2e "$bin/bench-e2e" --scale "$limits_scale" >"$work/limits.json" 2>"$work/limits.log"; then
  echo "!! redis-benchmark step failed: $(tail -n 3 "$work/limits.log")"
fi

python3 - "$work/machine.json" "$venv" <<'PY'
import json, os, platform, subprocess, sys
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return ""
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
load = open("/proc/loadavg").read().split()[:3]
facts = {
    "cpu": cpu, "nproc": os.cpu_count(), "kernel": platform.release(), "memory": mem,
    "swift": sh("swift --version 2>&1 | head -n 1"),
    "redis": sh("redis-server --version"),
    "python": platform.python_version(),
    "load_before": os.environ.get("BENCH_LOAD_BEFORE", "?"),
    "load_after": " ".join(load),
    "peer_packages": ", ".join(l for l in sh(f"{sys.argv[2]}/bin/pip freeze").splitlines()
                               if l.split("==")[0].lower() in ("ib_async", "ib-async", "redis", "hiredis")),
}
json.dump(facts, open(sys.argv[1], "w"), indent=2)
PY

out="$results_dir/e2e-$date.md"
python3 benchmarks/e2e/report.py --e2e "$work/e2e.json" --limits "$work/limits.json" \
  --machine "$work/machine.json" --command "$command_line" >"$out"
cp "$work/e2e.json" "$results_dir/e2e-$date.json"
[ -s "$work/limits.json" ] && cp "$work/limits.json" "$results_dir/e2e-$date-redis-limits.json"
echo "==> wrote $out"
cat "$out"
