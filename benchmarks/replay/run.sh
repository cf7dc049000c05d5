#!/usr/bin/env bash
# The replayed-flood benchmark (issue 15), in one command:
#   benchmarks/replay/run.sh     # writes benchmarks/results/replay-DATE-TIME.{md,json}
# A pre-encoded flood of TWS tick messages (default 8 stocks + 80 options, 1,000 rounds =
# 1,024,000 messages) is written to quote-relay's and to the ib_async + redis-py peer's
# gateway connection in turn, as fast as each reads it; the time runs until Redis holds every
# final value (a run that does not reach the exact final state is a failure, not a number).
# Environment knobs (all optional):
#   REPLAY_ROUNDS=1000  REPLAY_REPEATS=3  REPLAY_STOCKS=8  REPLAY_STRIKES=2  REPLAY_TARGETS=quote-relay,peer
#   BENCH_SKIP_BUILD=1 (use the existing release binaries)  BENCH_SCRATCH_PATH=.build-release
#   REPLAY_WORKER=/path/to/quote-relay (another build of the worker, e.g. before a change)
# Everything runs on loopback; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
command_line="benchmarks/replay/run.sh $*"
for v in REPLAY_ROUNDS REPLAY_REPEATS REPLAY_STOCKS REPLAY_STRIKES REPLAY_TARGETS REPLAY_WORKER BENCH_SCRATCH_PATH; do
  [ -n "${!v+x}" ] && command_line="$v=${!v} $command_line"
done
source scripts/lib.sh

rounds=${REPLAY_ROUNDS:-1000}
repeats=${REPLAY_REPEATS:-3}
stocks=${REPLAY_STOCKS:-8}
strikes=${REPLAY_STRIKES:-2}
targets=${REPLAY_TARGETS:-quote-relay,peer}
stamp=$(date -u +%Y-%m-%d-%H%M)
results_dir=benchmarks/results
mkdir -p "$results_dir"
work=$(mktemp -d /tmp/bench-replay.XXXXXX)
redis_port=""

cleanup() {
  [ -n "$redis_port" ] && stop_redis "$redis_port" "$work"
  echo "==> logs and raw results in $work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scratch=()
[ -n "${BENCH_SCRATCH_PATH:-}" ] && scratch=(--scratch-path "$BENCH_SCRATCH_PATH")
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  echo "==> release build (takes minutes the first time)"
  swift build "${scratch[@]}" -c release --product bench-replay 2>&1 | grep -v 'prohibited flag' | tail -n 2
  swift build "${scratch[@]}" -c release --product quote-relay 2>&1 | grep -v 'prohibited flag' | tail -n 2
fi
bin=$(swift build "${scratch[@]}" -c release --show-bin-path)

venv=benchmarks/e2e/.venv
if [[ ",$targets," == *",peer,"* ]]; then
  echo "==> peer venv (pinned: benchmarks/e2e/requirements-peer.txt)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r benchmarks/e2e/requirements-peer.txt
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
redis_port=$(free_port)
start_redis "$redis_port" "$work"
redis_pid=$(cat "$work/redis-$redis_port.pid")
echo "==> redis-server on 127.0.0.1:$redis_port (pid $redis_pid)"

"$bin/bench-replay" \
  --redis-port "$redis_port" --redis-pid "$redis_pid" \
  --worker "${REPLAY_WORKER:-$bin/quote-relay}" --lua-dir "$root/lua" \
  --peer-python "$root/$venv/bin/python" --peer-script "$root/benchmarks/peer/ib_async_redis_peer.py" \
  --work-dir "$work" --output "$work/replay.json" \
  --targets "$targets" --stocks "$stocks" --strikes "$strikes" --rounds "$rounds" --repeats "$repeats" 2>&1 | tee "$work/bench-replay.log"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
out="$results_dir/replay-$stamp"
cp "$work/replay.json" "$out.json"
python3 - "$work/replay.json" "$command_line" "$load_before" "$load_after" >"$out.md" <<'PY'
import json, os, platform, statistics, subprocess, sys
report = json.load(open(sys.argv[1]))
command, load_before, load_after = sys.argv[2:5]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
swift = subprocess.run("swift --version 2>&1 | head -n 1", shell=True, capture_output=True, text=True).stdout.strip()
redis = subprocess.run("redis-server --version", shell=True, capture_output=True, text=True).stdout.strip()
print(f"# Replayed flood: quote-relay vs ib_async + redis-py\n")
print(f"- command: `{command}`")
print(f"- date: {subprocess.run('date -u +%Y-%m-%dT%H:%MZ', shell=True, capture_output=True, text=True).stdout.strip()}")
print(f"- machine: {cpu}, {os.cpu_count()} vCPU, kernel {platform.release()}; {swift}; {redis}")
print(f"- load average before / after: {load_before} / {load_after}")
print(f"- lines: {report['stocks']} stocks + {report['options']} options; {report['rounds']} rounds; "
      f"server versions {report['serverVersions']}\n")
print("| target | repeat | messages | seconds | ticks/s | CPU-s | CPU-s per M ticks | redis CPU-s | final state |")
print("|---|--:|--:|--:|--:|--:|--:|--:|---|")
for r in report["results"]:
    rc = r.get("redisCPUSeconds")
    print(f"| {r['target']} | {r['repeatIndex']} | {r['messages']:,} | {r['seconds']:.3f} | {r['ticksPerSecond']:,.0f} | "
          f"{r['cpuSeconds']:.2f} | {r['cpuSecondsPerMillionTicks']:.3f} | {'' if rc is None else f'{rc:.2f}'} | {r['status']} |")
by = {}
for r in report["results"]:
    by.setdefault(r["target"], []).append(r)
print()
med = {}
for t, rs in by.items():
    ok = [r for r in rs if r["status"] == "exact"]
    if not ok:
        print(f"- {t}: no exact run")
        continue
    m = statistics.median(r["ticksPerSecond"] for r in ok)
    c = statistics.median(r["cpuSecondsPerMillionTicks"] for r in ok)
    med[t] = (m, c)
    print(f"- {t}: median {m:,.0f} ticks/s, {c:.3f} CPU-s per million ticks ({len(ok)} of {len(rs)} runs exact)")
if "quote-relay" in med and "peer" in med:
    qr, pe = med["quote-relay"], med["peer"]
    print(f"- **ratio (medians): {qr[0] / pe[0]:.1f}x ticks/s, {pe[1] / qr[1]:.1f}x less CPU per tick**")
    # Per repeat: the two runs taken seconds apart.
    pairs = [(a, b) for a in by["quote-relay"] for b in by["peer"] if a["repeatIndex"] == b["repeatIndex"]
             and a["status"] == b["status"] == "exact"]
    if pairs:
        print("- ratio per repeat: " + ", ".join(f"{a['ticksPerSecond'] / b['ticksPerSecond']:.1f}x" for a, b in pairs))
PY
cat "$out.md"
echo "==> wrote $out.md"
