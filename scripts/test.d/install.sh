#!/usr/bin/env bash
# scripts/install into a scratch root (issue 16 item 10), then the installed files:
#   - the binary runs with an empty environment and no Swift toolchain libraries
#     (static Swift standard library: ldd names no libswift*/libFoundation*);
#   - the unit's ExecStartPre (check-config) passes on the installed configuration;
#   - as root: the installed binary, started the way the unit starts it (its User, its
#     WorkingDirectory, its ExecStart), connects to a simulated gateway, writes its status
#     hash to Redis, and stops cleanly (exit 0, state=stopped) on SIGTERM.
# Takes one release build (about two minutes on a 2-core machine).
# QR_SKIP_INSTALL_TEST=1 skips it (a quick local run).
set -euo pipefail
if [ "${QR_SKIP_INSTALL_TEST:-0}" = 1 ]; then echo "install: skipped (QR_SKIP_INSTALL_TEST=1)"; exit 0; fi
cd "$(dirname "$0")/../.."
repo=$(pwd)
source scripts/lib.sh

work=$(mktemp -d /tmp/quote-relay-install.XXXXXX)
chmod 0755 "$work"
root="$work/root"
pids=()
redis_port=""
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [ -n "$redis_port" ] && stop_redis "$redis_port" "$work/redis"
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install: FAIL: $*"; exit 1; }

create_user=""
[ "$(id -u)" -eq 0 ] && create_user="--create-user"
scripts/install --destdir "$root" $create_user

bin="$root/usr/local/bin/quote-relay"
unit="$root/etc/systemd/system/quote-relay.service"
[ -x "$bin" ] || fail "no binary at $bin"
[ -f "$root/usr/local/share/quote-relay/lua/publish.lua" ] || fail "Lua scripts not installed"
[ -f "$unit" ] || fail "unit not installed"
[ -f "$root/etc/quote-relay/quote-relay.yaml" ] || fail "configuration not installed"
if ldd "$bin" | grep -E 'libswift|libFoundation|/opt/swift'; then fail "the installed binary needs the Swift toolchain's libraries"; fi
echo "  ok    static Swift runtime: $(ldd "$bin" | wc -l) shared libraries, none from the toolchain"

# The unit's own commands, with the paths moved into the scratch root.
in_root() { sed -e "s| /etc/quote-relay| $root/etc/quote-relay|g" -e "s|^/usr/local|$root/usr/local|"; }
pre=$(sed -n 's/^ExecStartPre=//p' "$unit" | in_root)
start=$(sed -n 's/^ExecStart=//p' "$unit" | in_root)
service_user=$(sed -n 's/^User=//p' "$unit")
workdir="$root$(sed -n 's/^WorkingDirectory=//p' "$unit")"
[ -d "$workdir" ] || fail "the unit's WorkingDirectory $workdir does not exist"
env -i PATH=/usr/bin:/bin $pre || fail "the unit's ExecStartPre fails: $pre"
echo "  ok    ExecStartPre: $pre"

if [ "$(id -u)" -ne 0 ]; then
  echo "install: not root: skipping the start as user $service_user"; exit 0
fi
id -u "$service_user" >/dev/null || fail "scripts/install did not create the user $service_user"
[ "$(getent passwd "$service_user" | cut -d: -f7)" = /usr/sbin/nologin ] || fail "$service_user has a login shell"

redis_port=$(free_port)
start_redis "$redis_port" "$work/redis"
sim="$repo/.build/debug/quote-relay-sim"
[ -x "$sim" ] || swift build --product quote-relay-sim 2>&1 | grep -v 'prohibited flag' | tail -n 3
"$sim" ib-gateway --port 0 --control-port 0 --seed 5 --rate 20 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
ib_port=""
for _ in $(seq 1 100); do
  line=$(grep -m1 '^ib-gateway listening' "$work/sim.out" 2>/dev/null || true)
  if [ -n "$line" ]; then ib_port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"${line%% control_port=*}"); break; fi
  sleep 0.1
done
[ -n "$ib_port" ] || fail "the IB simulator did not start"
http_port=$(free_port)

# As systemd would: the service user, the unit's working directory and command line, the
# environment file's kind of overrides.
(cd "$workdir" && exec env -i PATH=/usr/bin:/bin REDIS_URL="redis://127.0.0.1:$redis_port/0" IB_PORT="$ib_port" \
  HTTP_LISTEN="127.0.0.1:$http_port" setpriv --reuid="$service_user" --regid="$service_user" --init-groups \
  $start) >"$work/worker.log" 2>&1 &
worker=$!
pids+=($worker)
state=""
for _ in $(seq 1 150); do
  state=$(redis-cli -p "$redis_port" HGET mkt:worker:quote-relay-1 state 2>/dev/null || true)
  [ "$state" = connected ] && break
  kill -0 "$worker" 2>/dev/null || break
  sleep 0.2
done
[ "$state" = connected ] || { tail -n 20 "$work/worker.log"; fail "the installed worker did not reach state=connected (state '$state')"; }
pid_in_hash=$(redis-cli -p "$redis_port" HGET mkt:worker:quote-relay-1 pid)
owner=$(ps -o user= -p "$pid_in_hash" | tr -d ' ')
[ "$owner" = "$service_user" ] || fail "the worker runs as '$owner', not $service_user"
echo "  ok    the installed worker runs as $owner from $workdir and is connected"
scrape=$(curl -sf "http://127.0.0.1:$http_port/metrics" || true)
grep -q '^quote_relay_ib_connected 1' <<<"$scrape" \
  || fail "the installed worker's /metrics does not answer (or says IB is not connected)"
echo "  ok    /metrics answers as $owner"
kill -TERM "$pid_in_hash"
rc=""
for _ in $(seq 1 100); do
  if ! kill -0 "$worker" 2>/dev/null; then wait "$worker" && rc=0 || rc=$?; break; fi
  sleep 0.1
done
[ "$rc" = 0 ] || { tail -n 20 "$work/worker.log"; fail "the worker did not exit 0 on SIGTERM (rc '$rc')"; }
[ "$(redis-cli -p "$redis_port" HGET mkt:worker:quote-relay-1 state)" = stopped ] || fail "state is not 'stopped' after SIGTERM"
echo "  ok    SIGTERM: exit 0, state=stopped"
echo "install: scripts/install works (scratch root, service user $service_user)"
