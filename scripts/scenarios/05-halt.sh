#!/usr/bin/env bash
# Scenario 5: trading halt. IB tick type 49 HALTED (ibapi ticktype.py HALTED=49; IB docs "Halted":
# 0 not halted, 1 general halt, 2 volatility halt; -1 not available). During a halt IB quotes the
# sides as price -1 size 0 ("no quote on that side") and no trades print.
# Expectation: readers see halted=1 (hash + pub/sub); bid/ask (and their sizes) absent while halted
# - the pre-halt quote is never served as live; a halt is not an IB failure (no failover, no fake
# Alpha Vantage quote of a halted stock); after unhalt halted=0 and quotes return.
source "$(dirname "$0")/lib.sh"
echo "=== 05-halt"
start_redis $RP; start_ib; start_av
write_config "  - AAPL
  - MSFT" yes live 4 1 10
start_worker; start_events; start_sub
K=$PFX:quote:AAPL
wait_for 40 field_is $K source ib || { fail "AAPL never arrived"; finish; exit 1; }
sleep 3
pre_bid=$(hget $K bid); info "pre-halt bid=$pre_bid ask=$(hget $K ask)"
ctl halt AAPL
T0=$(now_ms)
wait_for 10 field_is $K halted 1 && pass "halted=1 visible after $(( $(now_ms)-T0 )) ms" || fail "halted=1 never appeared (halted='$(hget $K halted)')"
monitor $K 15 $RUN/mon-halt.txt
dump $K
# columns: now source stale updated_ms seq data_type bid halted
awk '$8=="1" && $7!="" {b++} $2=="alphavantage"{av++} END{printf "%d %d\n", b+0, av+0}' $RUN/mon-halt.txt > $RUN/a.txt
read -r bidwhilehalted avsamples < $RUN/a.txt
[ "$bidwhilehalted" = 0 ] && pass "no bid served while halted=1" || fail "bid present in $bidwhilehalted samples while halted=1"
[ -z "$(hget $K ask)$(hget $K bid_size)$(hget $K ask_size)" ] && pass "ask/bid_size/ask_size absent while halted" || fail "side fields while halted: ask=$(hget $K ask) bid_size=$(hget $K bid_size) ask_size=$(hget $K ask_size)"
[ "$avsamples" = 0 ] && pass "halt did not trigger failover to Alpha Vantage (15 s > staleness 4 + check 1 + probe)" || fail "halted AAPL failed over to Alpha Vantage ($avsamples samples)"
stl=$(hget $K stale); info "stale during halt at +15s: $stl; updated_ms age $(( $(now_ms) - $(hget $K updated_ms) )) ms"
grep -q '"halted":1' $RUN/quotes-pubsub.txt && pass "pub/sub message carries halted=1" || fail "no pub/sub message with \"halted\":1"
grep -o '"type":"failover"[^}]*' $RUN/events.txt | head -2
ctl unhalt AAPL
wait_for 15 field_is $K halted 0 && pass "halted=0 after unhalt" || fail "halted=$(hget $K halted) 15 s after unhalt"
wait_for 15 bash -c "[ -n \"\$(redis-cli -p $RP HGET $K bid)\" ]" && pass "bid back after unhalt: $(hget $K bid)" || fail "no bid 15s after unhalt"
[ "$(hget $K source)" = ib ] && [ "$(hget $K stale)" = 0 ] && pass "back to ib/fresh" || fail "after unhalt source=$(hget $K source) stale=$(hget $K stale)"
finish
