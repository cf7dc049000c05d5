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
