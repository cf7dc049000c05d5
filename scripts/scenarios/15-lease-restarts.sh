#!/usr/bin/env bash
# Scenario 15: leases across a gateway restart and a Redis restart.
# README "Subscriptions at runtime": a granted lease gets "resubscription after a reconnect or 1101";
# "After a Redis restart it reconnects and reads them again; lines stay for the grace period after their
# lease was last seen, so applications that write their leases again within it cause no churn at IB".
# A gateway restart (IB Gateway's nightly restart) loses every line (IB: market data requests do not
# survive the socket); a Redis restart without persistence loses P:leases and every status hash.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 15-lease-restarts"
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 40; lease_config 8 30
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
SPECS=("MSFT" "IND:SPX@CBOE" "CASH:EUR.USD" "FUT:ES.202612@CME" "QQQ#options=1x2")
KEYS=(quote:MSFT quote:SPX quote:EUR.USD quote:ES.202612 quote:QQQ)
keep(){ while :; do for s in "${SPECS[@]}"; do lease app1 "$s" 20; done; [ -f "$RUN/stop-app2" ] || lease app2 SPY 20; sleep 2; done; }
keep & PIDS+=($!)
for s in "${SPECS[@]}"; do wait_for 20 state_is app1 "$s" active && pass "app1|$s active" || fail "app1|$s state=$(rstate app1 "$s") reason=$(rfield app1 "$s" reason)"; done
wait_for 20 state_is app2 SPY active || fail "app2|SPY state=$(rstate app2 SPY)"
sleep 4
L0=$(sim_lines); info "gateway lines: $L0 (AAPL, MSFT, SPX, EUR.USD, ES.202612, SPY, QQQ + 10 QQQ options = 17 expected)"
[ "$L0" = 17 ] && pass "17 lines at the gateway" || fail "$L0 lines at the gateway, expected 17"
nopt=$(R --scan --pattern "$PFX:option:QQQ:*" | wc -l); [ "$nopt" = 10 ] && pass "10 QQQ option keys" || fail "$nopt QQQ option keys (1x2 window: 10)"
[ "$(R EXISTS $PFX:chain:QQQ)" = 1 ] && pass "chain:QQQ written for the leased window" || fail "no chain:QQQ"
# --- gateway restart: kill -9 the simulator, start a fresh one on the same ports
SIMPID=$(pgrep -f -- "--control-port $CTL"); kill -9 $SIMPID; sleep 3; start_ib
T=$SECONDS
wait_for 40 lines_are 17 && pass "after the gateway restart all 17 lines requested again ($((SECONDS-T)) s)" || fail "after the gateway restart $(sim_lines) lines, expected 17"
sleep 3
for k in "${KEYS[@]}" quote:SPY quote:AAPL; do u1=$(hget $PFX:$k updated_ms); sleep 0.1; age=$(( $(now_ms) - u1 )); [ $age -lt 5000 ] && [ "$(hget $PFX:$k source)" = ib ] && pass "$k fresh from IB after the gateway restart (age ${age} ms)" || fail "$k age ${age} ms source=$(hget $PFX:$k source) after the gateway restart"; done
for s in "${SPECS[@]}"; do st=$(rstate app1 "$s"); [ "$st" = active ] && pass "app1|$s still active" || fail "app1|$s state=$st after the gateway restart"; done
# --- Redis restart without persistence: leases and statuses are gone; app1 writes its leases again, app2 does not
touch "$RUN/stop-app2"
echo 99 >"$RUN/minlines"; minl(){ local m=99 n; while :; do n=$(sim_lines); [ -n "$n" ] && [ "$n" -lt $m ] && { m=$n; echo $m >"$RUN/minlines"; }; sleep 0.2; done; }
minl & PIDS+=($!)
R SHUTDOWN NOSAVE >/dev/null 2>&1; sleep 3; start_redis $RP
T=$SECONDS
for s in "${SPECS[@]}"; do wait_for 20 state_is app1 "$s" active && pass "after the Redis restart app1|$s active again ($((SECONDS-T)) s)" || fail "after the Redis restart app1|$s state=$(rstate app1 "$s")"; done
for k in "${KEYS[@]}" quote:AAPL; do wait_for 15 field_is $PFX:$k source ib && pass "$k written again after the Redis restart" || fail "$k missing after the Redis restart"; done
wait_for 10 test "$(R EXISTS $PFX:chain:QQQ)" = 1 && pass "chain:QQQ (leased window) written again after the Redis restart" || fail "chain:QQQ missing 10 s after the Redis restart (the worker said: $(grep -o 'writing every live key again.*' $RUN/worker.log | tail -1))"
nopt=$(R --scan --pattern "$PFX:option:QQQ:*" | wc -l); [ "$nopt" = 10 ] && pass "10 QQQ option keys after the Redis restart" || fail "$nopt QQQ option keys after the Redis restart"
sleep 2
m=$(cat "$RUN/minlines"); [ "$m" -ge 16 ] && pass "no churn at the gateway during the Redis restart (min lines $m)" || fail "lines dropped to $m during the Redis restart (app1 re-leased within the grace)"
# app2 (SPY) did not write its lease again: released after the grace (8 s after it was last seen)
wait_for 20 lines_are 16 && pass "app2's SPY released after the grace (16 lines)" || fail "$(sim_lines) lines 20 s after app2 stopped (expected 16)"
info "worker status after: state=$(hget $PFX:worker:$WID state) symbols=$(hget $PFX:worker:$WID symbols)"
finish
