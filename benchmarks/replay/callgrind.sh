#!/usr/bin/env bash
# Instruction counts per stage (issue 15 item 2), repeatable on a noisy shared machine:
#   benchmarks/replay/callgrind.sh [ROUNDS]     # default 100 rounds = 102,400 tick messages
# 1. bench-stages under callgrind: each stage is an @inline(never) function `stage*`; its
#    inclusive instruction count / ticks = instructions per tick in that stage.
# 2. with REPLAY_CALLGRIND_WORKER=1 also the real quote-relay under callgrind during a replay of
#    ROUNDS rounds (bench-replay --targets quote-relay --repeats 1), annotated by function.
# Needs valgrind (apt-get install valgrind) and the release build (BENCH_SCRATCH_PATH, default .build-release).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
rounds=${1:-100}
scratch=${BENCH_SCRATCH_PATH:-.build-release}
bin=$(swift build --scratch-path "$scratch" -c release --show-bin-path)
out=$(mktemp -d /tmp/bench-callgrind.XXXXXX)
ticks=$((rounds * 1024))

echo "==> bench-stages $rounds rounds under callgrind ($ticks ticks)"
# valgrind 3.19 gives up on the Swift binaries' DWARF ("possibly corrupted debuginfo"): run a
# copy without it (the symbol table, which names the functions, stays).
strip --strip-debug -o "$out/bench-stages" "$bin/bench-stages"
valgrind --tool=callgrind --callgrind-out-file="$out/stages.cg" "$out/bench-stages" "$rounds" 262144 1 >"$out/stages.txt" 2>"$out/stages.log"
cat "$out/stages.txt"
callgrind_annotate --inclusive=yes --threshold=100 "$out/stages.cg" 2>/dev/null >"$out/stages-annotated.txt"
echo "| stage | instructions per tick |"
echo "|---|--:|"
for stage in stageFraming stageDecoding stageRouting stageMergingBefore stageMerging stageRecords stageEncoding; do
  # Swift's mangled name spells the function as <length><name>: "12stageMerging" is not "18stageMergingBefore".
  ir=$(grep -E "[^0-9]${#stage}${stage}" "$out/stages-annotated.txt" | head -n 1 | awk '{gsub(",","",$1); print $1}' || true)
  if [ -n "$ir" ]; then echo "| $stage | $((ir / ticks)) |"; else echo "| $stage | (inlined: no symbol of its own) |"; fi
done

if [ -n "${REPLAY_CALLGRIND_WORKER:-}" ]; then
  source scripts/lib.sh
  port=$(free_port)
  start_redis "$port" "$out"
  strip --strip-debug -o "$out/quote-relay" "$bin/quote-relay"
  cat >"$out/worker.sh" <<SH
#!/usr/bin/env bash
exec valgrind --tool=callgrind --callgrind-out-file=$out/worker.cg $out/quote-relay "\$@"
SH
  chmod +x "$out/worker.sh"
  echo "==> quote-relay under callgrind, one replay of $rounds rounds"
  "$bin/bench-replay" --redis-port "$port" --worker "$out/worker.sh" --lua-dir "$root/lua" \
    --peer-python /bin/false --peer-script /dev/null --work-dir "$out" --output "$out/replay.json" \
    --targets quote-relay --rounds "$rounds" --repeats 1 --timeout 600 2>&1 | tail -n 3 || true
  stop_redis "$port" "$out"
  sleep 2
  callgrind_annotate --inclusive=yes "$out"/worker.cg* 2>/dev/null | head -n 80 >"$out/worker-annotated.txt" || true
  echo "   annotated: $out/worker-annotated.txt"
fi
echo "==> raw output in $out"
