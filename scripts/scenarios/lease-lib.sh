#!/usr/bin/env bash
# Helpers for the runtime-subscription (lease) and worker-group scenarios (11-19). Source after lib.sh.
# set_lines N: ib.max_market_data_lines in the config written by write_config
set_lines(){ sed -i "s/^  market_data_type: \(.*\)$/  market_data_type: \1\n  max_market_data_lines: $1/" "$RUN/cfg.yaml"; }
# lease_config GRACE MIN_HOLD MAX_PRIO MAX_PER_REQ NEW_PER_MIN
lease_config(){ cat >>"$RUN/cfg.yaml" <<EOC
leases:
  enabled: true
  poll_interval_ms: 500
  grace_seconds: ${1:-6}
  min_hold_seconds: ${2:-30}
  max_priority: ${3:-10}
  max_requests_per_requester: ${4:-50}
  new_requests_per_minute: ${5:-30}
EOC
}
# lease APP SPEC TTL_S [PRIORITY]: what an application does (README "From the shell"), expiry on Redis' clock
lease(){ local t; t=($(R TIME 2>/dev/null)); [ ${#t[@]} -ge 1 ] || return 1; R ZADD $PFX:leases $(( (${t[0]} + $3) * 1000 )) "$1|$2" >/dev/null
  [ -n "${4:-}" ] && R ZADD $PFX:leases:priority "$4" "$1|$2" >/dev/null; true; }
unlease(){ R ZREM $PFX:leases "$1|$2" >/dev/null; }
rstate(){ R HGET "$PFX:request:$1:$2" state; }
rfield(){ R HGET "$PFX:request:$1:$2" "$3"; }
state_is(){ [ "$(rstate "$1" "$2")" = "$3" ]; }
# the gateway's view: market data lines open at the simulator (all clients)
sim_lines(){ local s; s=$(exec 3<>/dev/tcp/127.0.0.1/$CTL; echo counters >&3; timeout 3 head -1 <&3 | grep -o 'subscriptions=[0-9]*'); echo "${s#subscriptions=}"; }
sim_last(){ (exec 3<>/dev/tcp/127.0.0.1/$CTL; echo "last $1 $2" >&3; timeout 3 head -1 <&3); }
lines_are(){ [ "$(sim_lines)" = "$1" ]; }
# --- worker groups: pair_configs TTL RENEW -> cfg.yaml (worker sk-a, client 31, http HP) and cfg-b.yaml
# (worker sk-b, client 41, http RP2's port), both in group `g`
pair_configs(){
  sed -i "s/^  id: $WID$/  id: sk-a\n  group: g\n  lease_ttl_seconds: $1\n  lease_renew_seconds: $2/" "$RUN/cfg.yaml"
  sed -e "s/^  id: sk-a$/  id: sk-b/" -e "s/^  client_id: 31$/  client_id: 41/" -e "s/client_id_pool: \[32, 33\]/client_id_pool: [42, 43]/" \
      -e "s/listen: 127.0.0.1:$HP/listen: 127.0.0.1:$RP2/" "$RUN/cfg.yaml" >"$RUN/cfg-b.yaml"
}
start_worker_b(){ (cd "$RUN" && exec $BIN/quote-relay run --config "$RUN/cfg-b.yaml") >"$RUN/worker-b.log" 2>&1 & PIDS+=($!); WPIDB=$!; }
holder(){ local v; v=$(R GET $PFX:group:g:lease); echo "${v%%#*}"; }
holder_is(){ [ "$(holder)" = "$1" ]; }
metric(){ curl -s -m 2 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1==m{print $2}'; }
field_not(){ [ "$(R HGET "$1" "$2")" != "$3" ]; }
