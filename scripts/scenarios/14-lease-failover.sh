#!/usr/bin/env bash
# Scenario 14: a leased instrument fails over to Alpha Vantage and back, like a pinned one.
# README "Subscriptions at runtime": a granted lease gets "failover/failback to Alpha Vantage (`fallback`)",
# state `fallback` = "IB cannot deliver and Alpha Vantage serves the key"; "IB error codes": 10197 "No
# market data during competing live session" is request_fatal, retried on a timer, counts as IB unable
# to deliver (failover). Phase 1: 10197 on the leased MSFT only (the pinned AAPL stays on IB); resume ->
# back to IB after failback_stable_seconds, status `active` again. Phase 2: whole gateway stalled
# (81 acknowledgements only) -> both fail over; resume -> both back.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 14-lease-failover"
start_redis $RP; start_ib; start_av
write_config "  - AAPL" yes live 3 1 5
set_lines 20; lease_config 5 30
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
R SUBSCRIBE $PFX:request:app1 >"$RUN/app1.txt" 2>&1 & PIDS+=($!)
keep(){ while :; do lease app1 MSFT 30; sleep 2; done; }; keep & PIDS+=($!)
wait_for 15 state_is app1 MSFT active && pass "app1|MSFT active" || fail "app1|MSFT state=$(rstate app1 MSFT)"
wait_for 15 field_is $PFX:quote:MSFT source ib && pass "MSFT from IB" || fail "MSFT source=$(hget $PFX:quote:MSFT source)"
ctl error MSFT 10197 drop
T=$SECONDS
wait_for 25 field_is $PFX:quote:MSFT source alphavantage && pass "MSFT failed over after $((SECONDS-T)) s" || fail "MSFT source=$(hget $PFX:quote:MSFT source) stale=$(hget $PFX:quote:MSFT stale) after 25 s of 10197"
dump $PFX:quote:MSFT
dt=$(hget $PFX:quote:MSFT data_type); [ "$dt" = alphavantage_realtime ] && pass "data_type $dt" || fail "MSFT data_type=$dt on Alpha Vantage (entitlement realtime)"
wait_for 5 state_is app1 MSFT fallback && pass "app1|MSFT status fallback" || fail "app1|MSFT state=$(rstate app1 MSFT) while served by Alpha Vantage"
grep -q '"spec":"MSFT","state":"fallback"' "$RUN/app1.txt" && pass "fallback published on $PFX:request:app1" || fail "no fallback message on the requester channel"
[ "$(hget $PFX:quote:AAPL source)" = ib ] && pass "pinned AAPL stays on IB" || fail "AAPL source=$(hget $PFX:quote:AAPL source)"
case "$(hget $PFX:worker:$WID symbols_failover)" in *MSFT*) pass "worker symbols_failover lists MSFT";; *) fail "symbols_failover='$(hget $PFX:worker:$WID symbols_failover)'";; esac
ctl resume
T=$SECONDS
wait_for 40 field_is $PFX:quote:MSFT source ib && pass "MSFT back on IB $((SECONDS-T)) s after resume (failback_stable 5 s)" || fail "MSFT source=$(hget $PFX:quote:MSFT source) 40 s after resume"
wait_for 5 state_is app1 MSFT active && pass "app1|MSFT active again" || fail "app1|MSFT state=$(rstate app1 MSFT) after failback"
[ -z "$(hget $PFX:quote:MSFT change_percent)$(hget $PFX:quote:MSFT last_trade_ms)" ] || info "after failback MSFT has change_percent/last_trade_ms: $(R HMGET $PFX:quote:MSFT change_percent last_trade_ms | tr '\n' ' ')"
# phase 2: the whole gateway stalls
ctl stall
T=$SECONDS
wait_for 30 field_is $PFX:quote:MSFT source alphavantage && pass "stall: MSFT failed over after $((SECONDS-T)) s" || fail "stall: MSFT source=$(hget $PFX:quote:MSFT source) stale=$(hget $PFX:quote:MSFT stale)"
wait_for 10 field_is $PFX:quote:AAPL source alphavantage && pass "stall: AAPL failed over" || fail "stall: AAPL source=$(hget $PFX:quote:AAPL source)"
wait_for 5 state_is app1 MSFT fallback && pass "stall: app1|MSFT fallback" || fail "stall: app1|MSFT state=$(rstate app1 MSFT)"
ctl resume
wait_for 60 field_is $PFX:quote:MSFT source ib && pass "MSFT back on IB after the stall" || fail "MSFT source=$(hget $PFX:quote:MSFT source) after the stall"
wait_for 20 field_is $PFX:quote:AAPL source ib && pass "AAPL back on IB" || fail "AAPL source=$(hget $PFX:quote:AAPL source)"
wait_for 5 state_is app1 MSFT active && pass "app1|MSFT active after the stall" || fail "app1|MSFT state=$(rstate app1 MSFT)"
info "app1 channel: $(grep '{' $RUN/app1.txt | tr '\n' ' ' | cut -c1-1200)"
finish
