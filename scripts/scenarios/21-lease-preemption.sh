#!/usr/bin/env bash
# Scenario 21: hysteresis and preemption. README "Order": "a line, once given, is kept while any lease on
# it lives ...; only a strictly higher priority takes it away, and not before it was held
# leases.min_hold_seconds"; never more lines than ib.max_market_data_lines. Lines 3, pinned AAPL -> 2.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 21-lease-preemption"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 3; lease_config 3 8 10
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived"
echo 0 >"$RUN/maxlines"; maxl(){ local m=0 n; while :; do n=$(sim_lines); [ -n "$n" ] && [ "$n" -gt $m ] && { m=$n; echo $m >"$RUN/maxlines"; }; sleep 0.3; done; }; maxl & PIDS+=($!)
keep(){ while :; do lease lo1 MSFT 60 0; lease lo2 SPY 60 2; [ -f $RUN/eq ] && lease eq QQQ 60 2; [ -f $RUN/hi ] && lease hi NVDA 60 10; sleep 2; done; }
keep & PIDS+=($!)
wait_for 10 state_is lo1 MSFT active && wait_for 10 state_is lo2 SPY active && pass "MSFT (0) and SPY (2) active" || fail "lo1=$(rstate lo1 MSFT) lo2=$(rstate lo2 SPY)"
TA=$SECONDS
touch $RUN/eq; lease eq QQQ 60 2
# QQQ (2) > MSFT (0), but MSFT has not been held 8 s yet
wait_for 10 state_is eq QQQ queued || fail "eq|QQQ state=$(rstate eq QQQ)"
ta=$TA; wait_for 20 state_is eq QQQ active; dq=$((SECONDS-ta))
state_is eq QQQ active && [ $dq -ge 7 ] && pass "QQQ (2) took MSFT's (0) line only after min_hold (${dq} s after MSFT got it; min_hold 8 s)" || fail "QQQ state=$(rstate eq QQQ) after ${dq} s (expected active after ~8 s, not before)"
sleep 1
st=$(rstate lo1 MSFT); pl=$(rfield lo1 MSFT place); [ "$st" = queued ] && [ "$pl" = 1 ] && pass "preempted MSFT queued, place 1" || fail "MSFT state=$st place=$pl after being preempted"
state_is lo2 SPY active && pass "SPY (2) not taken by QQQ (equal priority)" || fail "SPY state=$(rstate lo2 SPY)"
u1=$(hget $PFX:quote:MSFT seq); sleep 2; u2=$(hget $PFX:quote:MSFT seq); [ "$u1" = "$u2" ] && pass "MSFT's line cancelled (no writes)" || fail "MSFT still written $u1->$u2 after losing its line"
# a priority 10 lease: must wait for min_hold of the lines it takes, then take one priority-2 line
sleep 9
touch $RUN/hi; lease hi NVDA 60 10
wait_for 15 state_is hi NVDA active && pass "NVDA (10) active" || fail "NVDA state=$(rstate hi NVDA) place=$(rfield hi NVDA place)"
sleep 2
a=0; for x in "lo2 SPY" "eq QQQ"; do set -- $x; state_is $1 $2 active && a=$((a+1)); done
[ $a = 1 ] && pass "exactly one of SPY/QQQ (2) gave way to NVDA (10)" || fail "$a of SPY/QQQ active after NVDA took a line"
snap(){ for x in "lo1 MSFT" "lo2 SPY" "eq QQQ" "hi NVDA"; do set -- $x; echo -n "$2=$(rstate $1 $2)/$(rfield $1 $2 place) "; done; }
info "after: $(snap)"
# no flapping: 16 s of nothing changing
s0=$(snap); flap=0; for i in $(seq 16); do sleep 1; [ "$(snap)" = "$s0" ] || { flap=$((flap+1)); info "changed: $(snap)"; }; done
[ $flap = 0 ] && pass "no flapping over 16 s" || fail "statuses changed $flap times in 16 s with nothing changing"
m=$(cat $RUN/maxlines); [ "$m" -le 3 ] && pass "never more than 3 lines at the gateway (max $m)" || fail "gateway held $m lines (limit 3)"
grep -q '"code":101' "$RUN/events.txt" && fail "IB error 101" || pass "no 101"
finish
