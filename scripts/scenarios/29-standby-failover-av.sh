#!/usr/bin/env bash
# Scenario 29: a standby pair and Alpha Vantage. README "A standby pair": a standby requests no market
# data (and so has nothing to fail over: it must not spend the Alpha Vantage budget); the worker that takes
# over "subscribes everything ... and fails over to Alpha Vantage like a single worker would" when its
# gateway cannot deliver; failback as usual.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 29-standby-failover-av"
start_redis $RP; start_ib; start_av
write_config "  - AAPL
  - SPY" yes live 3 1 5
lease_config 5 30; pair_configs 3 1
start_worker; WPIDA=$WPID; wait_for 30 holder_is sk-a || fail "sk-a never held the lease"; start_worker_b
wait_for 30 field_is $PFX:worker:sk-b role standby || fail "sk-b role=$(hget $PFX:worker:sk-b role)"
ctl stall
wait_for 20 field_is $PFX:quote:AAPL source alphavantage && pass "active sk-a failed over to Alpha Vantage" || fail "AAPL source=$(hget $PFX:quote:AAPL source)"
sleep 8
avreq(){ curl -s http://127.0.0.1:$1/metrics | grep '^quote_relay_alphavantage_requests_total' | awk '{s+=$2} END{print s+0}'; }
sa=$(avreq $HP); sb=$(avreq $RP2)
[ "$sb" = 0 ] && [ "$sa" -gt 0 ] && pass "Alpha Vantage requests: active $sa, standby 0" || fail "Alpha Vantage requests: active $sa, standby $sb"
[ "$(hget $PFX:worker:sk-b role)" = standby ] && [ -z "$(hget $PFX:worker:sk-b symbols_failover)" ] && pass "standby reports no failover of its own" || fail "standby: $(R HMGET $PFX:worker:sk-b role state symbols_failover | paste -sd' ')"
kill -9 $WPIDA
wait_for 10 holder_is sk-b && pass "sk-b took over during the stall" || fail "holder $(holder)"
sleep 10
age=$(( $(now_ms) - $(hget $PFX:quote:AAPL updated_ms) ))
[ "$(hget $PFX:quote:AAPL source)" = alphavantage ] && [ $age -lt 5000 ] && [ "$(hget $PFX:worker:sk-b state)" = failover ] && pass "sk-b serves AAPL from Alpha Vantage (age ${age} ms, state failover)" || fail "after takeover during the stall: AAPL source $(hget $PFX:quote:AAPL source) age ${age} ms; sk-b state $(hget $PFX:worker:sk-b state)"
ctl resume
wait_for 30 field_is $PFX:quote:AAPL source ib && pass "AAPL back on IB under sk-b" || fail "AAPL source=$(hget $PFX:quote:AAPL source) after resume"
finish
