#!/usr/bin/env bash
# Scenario 12: more leases than lines. README "Subscriptions at runtime" / "Order": pinned first (not
# counted), then leases by priority (P:leases:priority, clamped to leases.max_priority), then age (when
# first asked for); the rest `queued` with `place` (1 is next); a line in its grace gives way to a
# waiting lease at once; never more lines than ib.max_market_data_lines (IB error 101 "Max number of
# tickers has been reached" otherwise). Lines: 4, pinned AAPL -> 3 leasable.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 12-lease-queue"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,IWM
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 4; lease_config 3 60 5
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
maxl(){ local m=0 n; while :; do n=$(sim_lines); [ -n "$n" ] && [ "$n" -gt $m ] && { m=$n; echo $m >"$RUN/maxlines"; }; sleep 0.3; done; }
echo 0 >"$RUN/maxlines"; maxl & PIDS+=($!)
keep(){ while :; do for a in "$@"; do lease ${a%%|*} ${a#*|} 60; done; sleep 3; done; }
lease appA MSFT 60; sleep 1.1; lease appB SPY 60; sleep 1.1; lease appC QQQ 60
for a in "appA MSFT" "appB SPY" "appC QQQ"; do set -- $a; wait_for 15 state_is $1 $2 active && pass "$1|$2 active" || fail "$1|$2 state=$(rstate $1 $2)"; done
# the queue: NVDA prio 0 first, then IWM prio 5, then AMZN prio 99 (clamped to 5: same as IWM, younger), then TSLA prio 3
lease appD NVDA 60 0; sleep 1.1; lease appG IWM 60 5; sleep 1.1; lease appE AMZN 60 99; sleep 1.1; lease appF TSLA 60 3
keep "appA|MSFT" "appB|SPY" "appC|QQQ" "appD|NVDA" "appG|IWM" "appE|AMZN" "appF|TSLA" & KP=$!; PIDS+=($KP)
sleep 3
showq(){ for a in "appD NVDA" "appG IWM" "appE AMZN" "appF TSLA"; do set -- $a; echo -n "$1|$2=$(rstate $1 $2)/$(rfield $1 $2 place) "; done; }
info "queue: $(showq)"
expect_place(){ local st pl; st=$(rstate $1 $2); pl=$(rfield $1 $2 place); [ "$st" = queued ] && [ "$pl" = "$3" ] && pass "$1|$2 queued, place $3 ($4)" || fail "$1|$2 state=$st place=$pl, expected queued place $3 ($4)"; }
expect_place appG IWM 1 "priority 5, older"
expect_place appE AMZN 2 "priority 99 clamped to 5, younger than IWM"
expect_place appF TSLA 3 "priority 3"
expect_place appD NVDA 4 "priority 0, oldest"
for s in NVDA IWM AMZN TSLA; do [ "$(R EXISTS $PFX:quote:$s)" = 0 ] && pass "$s (queued) not published" || fail "$s published while queued: source=$(hget $PFX:quote:$s source)"; done
# appA gives MSFT up: its line is in its grace; "a line in its grace gives way to any waiting lease at once"
kill $KP 2>/dev/null; wait $KP 2>/dev/null; unlease appA MSFT
keep "appB|SPY" "appC|QQQ" "appD|NVDA" "appG|IWM" "appE|AMZN" "appF|TSLA" & PIDS+=($!)
T=$SECONDS
wait_for 10 state_is appG IWM active && pass "IWM (place 1) active $((SECONDS-T)) s after MSFT was given up (grace 3 s)" || fail "IWM state=$(rstate appG IWM) place=$(rfield appG IWM place)"
wait_for 10 field_is $PFX:quote:IWM source ib && pass "IWM data from IB" || fail "IWM no data"
sleep 2
info "queue after: $(showq)"
expect_place appE AMZN 1 "moved up"; expect_place appF TSLA 2 "moved up"; expect_place appD NVDA 3 "moved up"
u1=$(hget $PFX:quote:MSFT seq); sleep 2; u2=$(hget $PFX:quote:MSFT seq)
[ "$u1" = "$u2" ] && pass "MSFT line released (seq stays $u1)" || fail "MSFT still written ($u1->$u2)"
m=$(cat "$RUN/maxlines"); [ "$m" -le 4 ] && pass "gateway never held more than 4 lines (max seen $m)" || fail "gateway held $m lines > ib.max_market_data_lines 4"
grep -q '"code":101' "$RUN/events.txt" && fail "IB error 101 (too many lines): $(grep -o '{"type":"ib_error"[^}]*"code":101[^}]*}' $RUN/events.txt | head -1)" || pass "no IB error 101"
info "subscriptions CLI: $($BIN/quote-relay subscriptions --redis-url redis://127.0.0.1:$RP/0 --prefix $PFX 2>&1 | head -20)"
finish
