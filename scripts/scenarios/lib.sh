#!/usr/bin/env bash
# Shared harness for the skeptic scenarios. Source it; then call: setup_env, start_all, ... ; finish
set -u
# The repository (lua/) and the binaries (QR_BIN, default .build/debug) under test.
SK=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${QR_BIN:-$SK/.build/debug}
FAILS=0; PASSES=0
PIDS=()
RUN=$(mktemp -d /tmp/qr-scenario.XXXXXX)
log(){ echo "[$(date -u +%H:%M:%S)] $*"; }
pass(){ PASSES=$((PASSES+1)); echo "PASS: $*"; }
fail(){ FAILS=$((FAILS+1)); echo "FAIL: $*"; }
info(){ echo "INFO: $*"; }
USED=" "
freeport(){ local p; while :; do p=$((17000 + RANDOM % 990)); case "$USED" in *" $p "*) continue;; esac; (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }; done; }
cleanup(){
  # faketime forks the worker instead of exec'ing it: also end the worker started with this run's config
  for p in $(pgrep -f -- "--config $RUN/cfg.yaml"); do PIDS+=($p); done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
}
trap cleanup EXIT
for v in RP RP2 IBP CTL AVP HP; do p=$(freeport); USED="$USED$p "; eval $v=$p; done
PFX=sk
WID=sk-1
R(){ redis-cli -p $RP "$@"; }
ctl(){ local out; out=$(exec 3<>/dev/tcp/127.0.0.1/$CTL; echo "$*" >&3; timeout 5 head -1 <&3); log "ctl '$*' -> $out"; }
start_redis(){ # port
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$RUN/redis-$1.log" 2>&1 & PIDS+=($!)
  for i in $(seq 50); do redis-cli -p "$1" ping >/dev/null 2>&1 && return; sleep 0.2; done; echo "redis $1 did not start"; exit 3; }
start_ib(){ # extra flags
  $BIN/quote-relay-sim ib-gateway --port $IBP --control-port $CTL --seed 7 --symbols ${SIMSYMS:-AAPL,MSFT,SPY,QQQ} --rate 10 "$@" >"$RUN/ib.log" 2>&1 & PIDS+=($!)
  for i in $(seq 50); do grep -q 'Address already in use' "$RUN/ib.log" && { echo "ib sim: port in use, retry the scenario"; exit 3; }; (exec 3<>/dev/tcp/127.0.0.1/$CTL) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/$IBP) 2>/dev/null && return; sleep 0.2; done; echo "ib sim did not start"; exit 3; }
start_av(){ $BIN/quote-relay-sim alpha-vantage --port $AVP --seed 7 "$@" >"$RUN/av.log" 2>&1 & PIDS+=($!); sleep 1; }
# write_config SYMBOLS_YAML AV(yes|no) MDT STALE CHECK FAILBACK
write_config(){
  local syms="$1" av="$2" mdt="${3:-live}" st="${4:-4}" ci="${5:-1}" fb="${6:-10}"
  cat >"$RUN/cfg.yaml" <<EOC
worker:
  id: $WID
  status_interval_seconds: 1
ib:
  host: 127.0.0.1
  port: $IBP
  client_id: 31
  client_id_pool: [32, 33]
  connect_timeout_seconds: 5
  heartbeat_interval_seconds: 2
  market_data_type: $mdt
  reconnect:
    initial_delay_ms: 200
    max_delay_ms: 2000
    multiplier: 2.0
redis:
  url: redis://127.0.0.1:$RP/0
  key_prefix: $PFX
  quote_ttl_seconds: 120
  option_ttl_seconds: 120
  scripts_dir: $SK/lua
symbols:
$syms
failover:
  max_reconnect_attempts: 3
  staleness_seconds: $st
  check_interval_seconds: $ci
  failback_stable_seconds: $fb
http:
  listen: 127.0.0.1:$HP
log:
  level: info
  format: text
EOC
  if [ "$av" = yes ]; then cat >>"$RUN/cfg.yaml" <<EOC
alphavantage:
  base_url: http://127.0.0.1:$AVP/query
  api_key: demo
  requests_per_minute: 600
  requests_per_day: 100000
  entitlement: realtime
  bulk_quotes: false
  options: false
EOC
  fi
}
start_worker(){ # extra prefix cmd (e.g. faketime)
  (cd "$RUN" && exec "$@" $BIN/quote-relay run --config "$RUN/cfg.yaml") >"$RUN/worker.log" 2>&1 & PIDS+=($!); WPID=$!
}
start_events(){ redis-cli -p $RP SUBSCRIBE $PFX:events >"$RUN/events.txt" 2>&1 & PIDS+=($!); }
start_sub(){ redis-cli -p $RP PSUBSCRIBE "$PFX:quote:*" >"$RUN/quotes-pubsub.txt" 2>&1 & PIDS+=($!); }
hget(){ R HGET "$1" "$2"; }
wait_for(){ # timeout_s cmd... : polls until cmd true
  local t=$1; shift; local end=$((SECONDS+t)); while [ $SECONDS -lt $end ]; do "$@" && return 0; sleep 0.25; done; return 1; }
field_is(){ [ "$(R HGET "$1" "$2")" = "$3" ]; }
readyz(){ curl -s -m 3 -o "$RUN/readyz.body" -w '%{http_code}' http://127.0.0.1:$HP/readyz; }
now_ms(){ local t; t=($(R TIME)); echo $(( ${t[0]}*1000 + ${t[1]}/1000 )); }
dump(){ for k in "$@"; do echo "--- HGETALL $k"; R HGETALL "$k" | paste - - | sed 's/^/    /'; done; }
finish(){
  echo "== run dir: $RUN (worker.log, ib.log, events.txt)"
  echo "== $PASSES passed, $FAILS failed"
  [ $FAILS -eq 0 ]
}
# monitor KEY SECONDS OUTFILE : samples "redis_now_ms source stale updated_ms seq data_type bid halted" every ~0.3 s
monitor(){
  local key=$1 secs=$2 out=$3 end=$((SECONDS+$2))
  : >"$out"
  while [ $SECONDS -lt $end ]; do
    local t v; t=$(now_ms); v=$(R HMGET "$key" source stale updated_ms seq data_type bid halted | tr '\n' ' ')
    echo "$t $v" >>"$out"; sleep 0.3
  done
}
