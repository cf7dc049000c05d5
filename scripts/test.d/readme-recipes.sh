#!/usr/bin/env bash
# The README's recipes, pasted beside a running scripts/demo (issue 16 items 1, 2, 11).
#
# Also checks the worker's /metrics against the README, the alert rules and the dashboard
# (ops/check-metrics.py).
#
# Starts the real scripts/demo (its own process group, as from a terminal), sources the env
# file it writes (as the README says to), then runs every line of every fenced block that the
# README marks with `<!-- recipes: ... -->` on the line before the fence, one line at a time,
# exactly as written. Checks per line: exit status 0 and some output; SUBSCRIBE lines must stay
# subscribed and receive at least one message (the stage makes IB send a farm notice meanwhile,
# so mkt:events has something to carry). Then runs the README's Python example of
# "Subscriptions at runtime" (issue 12) against the demo's worker. Finally sends Ctrl-C (SIGINT to the demo's process
# group) and checks that the worker's shutdown lines still reach the demo's output.
#
# The demo's default ports (6399, 4002, 4099, 8089, 9464) are used when free, so the recipes run
# byte for byte; when one is taken (another demo on this machine) every port is chosen free and
# the simulator/HTTP ports written in the recipes are mapped to the chosen ones.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
source scripts/lib.sh

work=$(mktemp -d /tmp/quote-relay-recipes.XXXXXX)
demo_pid=""
cleanup() {
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM -- "-$demo_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$demo_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
defaults=(6399 4002 4099 8089 9464)
all_free=1
for p in "${defaults[@]}"; do port_free "$p" || all_free=0; done
if [ "$all_free" -eq 1 ]; then
  redis_port=6399 ib_port=4002 control_port=4099 av_port=8089 http_port=9464
else
  redis_port=$(free_port) ib_port=$(free_port) control_port=$(free_port) av_port=$(free_port) http_port=$(free_port)
  echo "recipes: a default demo port is taken; using redis $redis_port ib $ib_port control $control_port av $av_port http $http_port"
fi
env_file="$work/demo.env"

DEMO_REDIS_PORT=$redis_port DEMO_IB_PORT=$ib_port DEMO_IB_CONTROL_PORT=$control_port DEMO_AV_PORT=$av_port \
  DEMO_HTTP_PORT=$http_port DEMO_ENV_FILE=$env_file \
  python3 -c 'import os, signal, sys
# As from a terminal: its own session and process group, and SIGINT not ignored (a background
# job of a script starts with SIGINT ignored, and bash cannot trap a signal ignored at entry).
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' scripts/demo >"$work/demo.out" 2>&1 </dev/null &
demo_pid=$!

fail() { echo "recipes: FAIL: $*"; echo "--- demo output (last 40 lines)"; tail -n 40 "$work/demo.out"; exit 1; }

# Ready: the env file exists and IB's data is in Redis (quote, chain, at least one option).
ready=0
for _ in $(seq 1 600); do
  kill -0 "$demo_pid" 2>/dev/null || fail "scripts/demo exited early"
  if [ -f "$env_file" ] \
    && [ "$(redis-cli -p "$redis_port" HGET mkt:quote:AAPL source 2>/dev/null)" = ib ] \
    && [ "$(redis-cli -p "$redis_port" EXISTS mkt:chain:SPY 2>/dev/null)" = 1 ] \
    && [ -n "$(redis-cli -p "$redis_port" --scan --pattern 'mkt:option:SPY:*' 2>/dev/null | head -1)" ]; then
    ready=1; break
  fi
  sleep 0.2
done
[ "$ready" -eq 1 ] || fail "the demo did not publish IB data within 120 s"
echo "recipes: demo up (pid $demo_pid)"

# The worker's real /metrics against the README's metrics table, the alert rules and the
# dashboard (names exist, HELP on every family, no duplicate family).
curl -sf "http://127.0.0.1:$http_port/metrics" >"$work/metrics.txt" || fail "no /metrics on 127.0.0.1:$http_port"
python3 ops/check-metrics.py "$work/metrics.txt" README.md ops/prometheus/quote-relay.rules.yml \
  ops/grafana/quote-relay-dashboard.json || fail "the metrics do not match README / alert rules / dashboard"

# The recipe lines, in README order, with the demo's ports mapped when they had to move.
python3 - "$root/README.md" "$work/recipes.txt" "$control_port" "$av_port" "$http_port" <<'PY'
import re, sys
readme, out, control, av, http = sys.argv[1:]
lines, recipes, marked, inside = open(readme).read().split("\n"), [], False, False
for line in lines:
    if not inside:
        if line.strip().startswith("<!-- recipes"):
            marked = True
        elif line.startswith("```"):
            inside, take, marked = True, marked, False
        continue
    if line.startswith("```"):
        inside = False
        continue
    text = line.strip()
    if take and text and not text.startswith("#"):
        text = text.replace("127.0.0.1:9464", "127.0.0.1:" + http)
        text = text.replace("127.0.0.1/4099", "127.0.0.1/" + control).replace("127.0.0.1 4099", "127.0.0.1 " + control)
        text = text.replace("127.0.0.1:8089", "127.0.0.1:" + av)
        recipes.append(text)
open(out, "w").write("\n".join(recipes) + "\n")
PY
count=$(grep -c . "$work/recipes.txt" || true)
[ "$count" -ge 10 ] || fail "found only $count recipe lines in README.md (markers missing?)"

# Subscriptions first, all at once in the background; IB then sends a farm notice (2103/2104)
# so that mkt:events carries ib_error events while they listen.
n=0
declare -a sub_files sub_lines
while IFS= read -r line; do
  case "$line" in
  *SUBSCRIBE*)
    n=$((n + 1))
    sub_lines[$n]=$line
    sub_files[$n]="$work/sub-$n.out"
    (timeout 6 bash -c ". '$env_file'; $line" >"${sub_files[$n]}" 2>&1 || true) &
    ;;
  esac
done <"$work/recipes.txt"
sleep 1.5
for command in farm-down farm-up; do
  exec 4<>"/dev/tcp/127.0.0.1/$control_port"; echo "$command" >&4; head -1 <&4 >/dev/null; exec 4>&-
  sleep 0.5
done
for pid in $(jobs -p); do [ "$pid" = "$demo_pid" ] || wait "$pid" || true; done
status=0
for i in $(seq 1 "$n"); do
  if grep -qx 'p\?message' "${sub_files[$i]}"; then
    echo "  ok    ${sub_lines[$i]}"
  else
    echo "  FAIL  ${sub_lines[$i]}  (no message received)"; sed 's/^/        /' "${sub_files[$i]}" | head -5; status=1
  fi
done

# Every other line on its own: exit 0 and some output, and never another Redis.
while IFS= read -r line; do
  case "$line" in *SUBSCRIBE*) continue ;; esac
  set +e
  output=$(timeout 20 bash -c ". '$env_file'; $line" 2>&1 </dev/null)
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] && [ -n "$output" ] && ! grep -qE 'Could not connect|^ERR|^\(error\)' <<<"$output"; then
    echo "  ok    $line"
  else
    echo "  FAIL  $line  (exit $rc)"; sed 's/^/        /' <<<"$output" | head -5; status=1
  fi
done <"$work/recipes.txt"
# The README's Python example (issue 12) on the demo's Redis: it leases a symbol, waits for
# `active`, reads and subscribes (printing prices), refreshes, then lets the lease lapse.
# redis-py from Debian's python3-redis (scripts/setup-deps); /usr/bin/python3 first, since a
# python3 earlier on PATH (pyenv) does not see Debian's packages.
python3 - "$root/README.md" "$work/example.py" "$redis_port" <<'PY'
import sys
readme, out, port = sys.argv[1:]
text = open(readme).read()
block = text.split("### From Python (redis-py)", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
assert "redis.Redis(decode_responses=True)" in block, "the example's connection line changed"
open(out, "w").write(block.replace("redis.Redis(decode_responses=True)", "redis.Redis(port=%s, decode_responses=True)" % port))
PY
py=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import redis' 2>/dev/null; then py=$candidate; break; fi
done
if [ -z "$py" ]; then
  echo "  FAIL  the Python example: no python3 with redis-py (apt-get install python3-redis)"; status=1
else
  set +e
  output=$(timeout 90 "$py" "$work/example.py" 2>&1 </dev/null)
  rc=$?
  set -e
  prices=$(grep -cE '^[0-9]+(\.[0-9]+)?$' <<<"$output" || true)
  if [ "$rc" -eq 0 ] && [ "$prices" -ge 1 ]; then
    echo "  ok    the README's Python example (lease, active, read, subscribe: $prices prices)"
  else
    echo "  FAIL  the README's Python example (exit $rc, $prices prices)"; sed 's/^/        /' <<<"$output" | tail -8; status=1
  fi
fi

# A recipe may have stalled the simulator: resume it, so the demo ends as it started.
exec 4<>"/dev/tcp/127.0.0.1/$control_port"; echo resume >&4; head -1 <&4 >/dev/null; exec 4>&-
# Alpha Vantage's mode back to ok for the same reason.
curl -s "http://127.0.0.1:$av_port/_control?mode=ok" >/dev/null || true

# Ctrl-C: SIGINT to the demo's process group, as a terminal sends it.
kill -INT -- "-$demo_pid"
for _ in $(seq 1 150); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$demo_pid" 2>/dev/null; then
  echo "  FAIL  Ctrl-C: scripts/demo still running after 15 s"; status=1
elif ! grep -q 'quote-relay stopped' "$work/demo.out"; then
  echo "  FAIL  Ctrl-C: the worker's shutdown lines are missing from the demo's output"; tail -n 15 "$work/demo.out"; status=1
else
  echo "  ok    Ctrl-C: the worker logged its shutdown ($(grep -c 'state=stopped\|-> stopped\|quote-relay stopped' "$work/demo.out") shutdown lines)"
fi
[ ! -e "$env_file" ] || { echo "  FAIL  the demo left $env_file behind"; status=1; }
demo_pid=""
[ "$status" -eq 0 ] && echo "recipes: all $count README recipe lines work beside scripts/demo" || fail "see above"
