#!/usr/bin/env bash
# Scenario 11: two applications lease overlapping instruments; one lets its lease lapse.
# README "Subscriptions at runtime": one line serves every lease of an instrument; a line is kept while
# any lease on it lives and leases.grace_seconds after the last expired, then cancelled at the gateway
# (cancelMktData, ibapi client.py: "market data for the specified id will stop flowing"); pinned
# instruments are never released. Expected: app1 {MSFT, SPY}, app2 {SPY, QQQ}, pinned AAPL -> 4 lines at
# the gateway; app1 stops refreshing -> at its expiry + 2 s (inside the grace) still 4 lines; after the
# grace MSFT's line is cancelled (3 lines), SPY and QQQ keep streaming, app1's statuses end.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 11-lease-overlap"
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 20; lease_config 6 30
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
sleep 2; base=$(sim_lines); info "lines with the pinned AAPL only: $base"
R SUBSCRIBE $PFX:request:app1 >"$RUN/app1.txt" 2>&1 & PIDS+=($!)
lease app1 MSFT 10; lease app1 SPY 10; lease app2 SPY 60; lease app2 QQQ 60
T_EXP=$(( $(now_ms) + 10000 ))
for a in "app1 MSFT" "app1 SPY" "app2 SPY" "app2 QQQ"; do
  set -- $a
  wait_for 15 state_is $1 $2 active && pass "$1|$2 active (key $(rfield $1 $2 key))" || fail "$1|$2 state=$(rstate $1 $2) reason=$(rfield $1 $2 reason)"
done
for s in MSFT SPY QQQ; do wait_for 15 field_is $PFX:quote:$s source ib && pass "$s data from IB" || fail "$s no data (source=$(hget $PFX:quote:$s source))"; done
n=$(sim_lines); [ "$n" = $((base+3)) ] && pass "gateway holds $n lines (AAPL + MSFT SPY QQQ: SPY shared, one line)" || fail "gateway holds $n lines, expected $((base+3))"
info "sim last MSFT: $(sim_last 31 MSFT)"
# app2 keeps refreshing; app1 lets its leases lapse
refresh(){ while :; do lease app2 SPY 60; lease app2 QQQ 60; sleep 2; done; }
refresh & PIDS+=($!)
while [ $(now_ms) -lt $((T_EXP + 2000)) ]; do sleep 0.3; done
n=$(sim_lines); [ "$n" = $((base+3)) ] && pass "2 s after app1's expiry (grace 6 s) MSFT still held: $n lines" || fail "2 s after app1's expiry, inside the grace, gateway holds $n lines (expected $((base+3)))"
info "app1|MSFT status inside the grace: $(R HGETALL $PFX:request:app1:MSFT | paste -sd' ')"
while [ $(now_ms) -lt $((T_EXP + 6000 + 3000)) ]; do sleep 0.3; done
n=$(sim_lines); [ "$n" = $((base+2)) ] && pass "after the grace MSFT released: $n lines" || fail "after the grace gateway holds $n lines (expected $((base+2)))"
info "sim last MSFT after release: $(sim_last 31 MSFT)"
u1=$(hget $PFX:quote:SPY seq); sleep 3; u2=$(hget $PFX:quote:SPY seq)
[ "$u2" -gt "$u1" ] && pass "SPY (still leased by app2) keeps streaming seq $u1->$u2" || fail "SPY stopped: seq $u1->$u2"
u1=$(hget $PFX:quote:QQQ seq); sleep 2; u2=$(hget $PFX:quote:QQQ seq)
[ "$u2" -gt "$u1" ] && pass "QQQ keeps streaming" || fail "QQQ stopped: seq $u1->$u2"
u1=$(hget $PFX:quote:MSFT seq); sleep 3; u2=$(hget $PFX:quote:MSFT seq)
[ "$u1" = "$u2" ] && pass "MSFT no longer written (seq $u1)" || fail "MSFT still written after release: seq $u1->$u2"
st=$(rstate app2 SPY); [ "$st" = active ] && pass "app2|SPY still active" || fail "app2|SPY state=$st"
grep -q '"state":"released"' "$RUN/app1.txt" && pass "app1 told 'released' on its channel" || fail "no 'released' on $PFX:request:app1: $(tail -5 $RUN/app1.txt | tr '\n' ' ')"
info "app1 channel: $(grep '{' $RUN/app1.txt | tr '\n' ' ' | cut -c1-900)"
W=$PFX:worker:$WID; info "worker symbols: $(hget $W symbols)"
case "$(hget $W symbols)" in *MSFT*) fail "worker hash still lists MSFT: $(hget $W symbols)";; *) pass "worker symbols without MSFT";; esac
finish
