#!/usr/bin/env bash
# Conformance of quote-relay-sim ib-gateway with IB's own Python clients: ibapi (EClient /
# EWrapper, from ibapi-stable) and ib_async (IB()). Each must decode a stock quote, an option
# chain, an option quote with greeks and error 326, and (issue 13) indexes with several option
# classes, futures with their FOP chains, FX on IDEALPRO and all four option computation ticks
# (at v176 and, for ibapi, v155), with values cross-checked against what the simulator says
# it sent. Uses (and creates) .venv; kills everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

IBAPI_VERSION=10.50.2
IB_ASYNC_VERSION=2.1.0
venv="$root/.venv"
py="$venv/bin/python"

if [ ! -x "$py" ]; then
  echo "conformance: creating $venv"
  python3 -m venv "$venv"
fi
if ! "$py" - <<PY 2>/dev/null
import importlib.metadata as m
assert m.version("ibapi-stable") == "$IBAPI_VERSION"
assert m.version("ib-async") == "$IB_ASYNC_VERSION"
PY
then
  echo "conformance: installing ibapi-stable==$IBAPI_VERSION ib-async==$IB_ASYNC_VERSION"
  "$venv/bin/pip" install -q "ibapi-stable==$IBAPI_VERSION" "ib-async==$IB_ASYNC_VERSION"
fi

bin="$root/.build/debug/quote-relay-sim"
if [ ! -x "$bin" ]; then
  echo "conformance: building quote-relay-sim"
  swift build --product quote-relay-sim 2>&1 | grep -v 'prohibited flag' | tail -n 20
fi

work=$(mktemp -d /tmp/quote-relay-conformance.XXXXXX)
sim_pids=()
cleanup() {
  for pid in "${sim_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# start_sim NAME SERVER_VERSION: starts a simulator; sets $port and $control.
start_sim() {
  local name=$1 version=$2 line
  "$bin" ib-gateway --port 0 --control-port 0 --seed 11 --rate 50 --server-version "$version" \
    >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  sim_pids+=("$pid")
  port="" control=""
  for _ in $(seq 1 100); do
    line=$(grep -m1 '^ib-gateway listening' "$work/$name.out" 2>/dev/null || true)
    if [ -n "$line" ]; then
      port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"${line%% control_port=*}")
      control=$(sed -E 's/.*control_port=([0-9]+).*/\1/' <<<"$line")
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ] || [ -z "$control" ]; then
    echo "conformance: the simulator did not start"; cat "$work/$name.err"; exit 1
  fi
  echo "conformance: simulator $name (v$version) pid $pid on 127.0.0.1:$port (control $control)"
}

declare -A result
order=()
status=0
run_check() {  # run_check LABEL SCRIPT ARGS...
  local label=$1; shift
  order+=("$label")
  echo "--- $label"
  if (cd scripts/py && timeout 120 "$py" "$@"); then
    result[$label]=PASS
  else
    result[$label]=FAIL
    status=1
  fi
}

start_sim v176 176
# Stocks and their options, errors (conformance_ibapi.py / conformance_ib_async.py); then
# indexes with several option classes, futures with FOP, FX (issue 13), on the same gateway.
run_check ibapi conformance_ibapi.py "$port" "$control"
run_check ib_async conformance_ib_async.py "$port" "$control"
run_check "ibapi instruments v176" conformance_instruments_ibapi.py "$port" "$control" 176
run_check "ib_async instruments" conformance_instruments_ib_async.py "$port" "$control"
# Below v156 TICK_OPTION_COMPUTATION carries a version field and no tickAttrib (ibapi
# decoder.py processTickOptionComputationMsg): the same instruments at v155.
start_sim v155 155
run_check "ibapi instruments v155" conformance_instruments_ibapi.py "$port" "$control" 155

echo "=== conformance summary (ibapi-stable $IBAPI_VERSION, ib_async $IB_ASYNC_VERSION)"
for label in "${order[@]}"; do echo "  ${result[$label]}  $label"; done
if [ "$status" -ne 0 ]; then
  for log in "$work"/*.err; do echo "--- $log (last 30 lines)"; tail -n 30 "$log"; done
fi
exit $status
