#!/usr/bin/env bash
# Conformance of quote-relay-sim ib-gateway with IB's own Python clients: ibapi (EClient /
# EWrapper, from ibapi-stable) and ib_async (IB()). Each must decode a stock quote, an option
# chain, an option quote with greeks and error 326, with values cross-checked against what
# the simulator says it sent. Uses (and creates) .venv; kills everything it started.
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
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$bin" ib-gateway --port 0 --control-port 0 --seed 11 --rate 50 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
port="" control=""
for _ in $(seq 1 100); do
  line=$(grep -m1 '^ib-gateway listening' "$work/sim.out" 2>/dev/null || true)
  if [ -n "$line" ]; then
    port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"${line%% control_port=*}")
    control=$(sed -E 's/.*control_port=([0-9]+).*/\1/' <<<"$line")
    break
  fi
  kill -0 "$sim_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ] || [ -z "$control" ]; then
  echo "conformance: the simulator did not start"; cat "$work/sim.err"; exit 1
fi
echo "conformance: simulator pid $sim_pid on 127.0.0.1:$port (control $control)"

declare -A result
status=0
for client in ibapi ib_async; do
  echo "--- $client"
  if (cd scripts/py && timeout 120 "$py" "conformance_$client.py" "$port" "$control"); then
    result[$client]=PASS
  else
    result[$client]=FAIL
    status=1
  fi
done

echo "=== conformance summary (ibapi-stable $IBAPI_VERSION, ib_async $IB_ASYNC_VERSION)"
for client in ibapi ib_async; do echo "  ${result[$client]}  $client"; done
if [ "$status" -ne 0 ]; then
  echo "--- simulator log (last 30 lines)"; tail -n 30 "$work/sim.err"
fi
exit $status
