#!/usr/bin/env bash
# Scenario 33: lines removed from the middle, the same instrument released and leased again at once, a window
# shrinking and growing back. README "Subscriptions at runtime": one line per instrument whatever the spelling;
# windows of one underlying are served as their union, the extra window lines "released leases.grace_seconds
# after no live lease needs them"; a released line is cancelled (cancelMktData) and its keys expire by TTL.
# IB: a new reqMktData for an instrument starts a new line with a new reqId (TICK_PRICE 1 / TICK_SIZE 2 /
# TICK_OPTION_COMPUTATION 21 carry it); a reqId cancelled may still see ticks already on the wire.
# Expected at every step: the lines still held are written again within seconds with their own instrument's
# values (symbol, strike, right, expiry, a con_id that never changes under a key, prices at its level); lines
# given up stop being written; an instrument leased again is written again with its own data.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 33-line-readd"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,GOOGL,META,IWM
ALL="AAPL MSFT SPY QQQ NVDA AMZN TSLA GOOGL META IWM"
start_redis $RP; start_ib --rate 120
write_config "  - AAPL" no live 30 1 30
set_lines 100; lease_config 1 30 10 50 1000
start_worker; start_events; start_data_sub
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
Q(){ echo $PFX:quote:$1; }
# --- 1. three lines in the order MSFT, NVDA, AMZN; the first is removed, then the middle one
lease a MSFT 600; sleep 1.2; lease b NVDA 600; sleep 1.2; lease c AMZN 600; sleep 1.2; lease d GOOGL 600
for s in MSFT NVDA AMZN GOOGL; do wait_for 15 field_is $(Q $s) source ib || fail "$s no data"; done
advancing "four leased lines stream" 4 $(Q AAPL) $(Q MSFT) $(Q NVDA) $(Q AMZN) $(Q GOOGL)
unlease a MSFT; sleep 2.5
frozen "MSFT (first leased) released" 3 $(Q MSFT)
advancing "after MSFT's line was cancelled: NVDA AMZN GOOGL AAPL" 4 $(Q AAPL) $(Q NVDA) $(Q AMZN) $(Q GOOGL)
unlease c AMZN; sleep 2.5
advancing "after AMZN's (a middle) line was cancelled: NVDA GOOGL AAPL" 4 $(Q AAPL) $(Q NVDA) $(Q GOOGL)
refs $ALL; check_hashes "after two removals"
# --- 2. leased again after their grace (new lines, new reqIds): MSFT by another application, AMZN too; GOOGL leaves
lease a2 MSFT 600; unlease d GOOGL; lease c2 AMZN 600
wait_for 10 state_is a2 MSFT active || fail "a2|MSFT state=$(rstate a2 MSFT)"
sleep 2
advancing "MSFT and AMZN leased again, NVDA, AAPL" 4 $(Q AAPL) $(Q MSFT) $(Q NVDA) $(Q AMZN)
frozen "GOOGL released" 3 $(Q GOOGL)
refs $ALL; check_hashes "after leasing again"
# --- 3. flapping: META leased and given up every ~1 s (around the 1 s grace) 15 times, next to a steady IWM
lease e IWM 600
for i in $(seq 15); do lease f META 2; sleep 0.$((5 + RANDOM % 5)); unlease f META; sleep 0.$((6 + RANDOM % 7)); done
lease f META 600
wait_for 10 state_is f META active || fail "f|META state=$(rstate f META)"
sleep 2
advancing "after META flapped 15 times: META, IWM, MSFT, NVDA, AMZN, AAPL" 4 $(Q META) $(Q IWM) $(Q MSFT) $(Q NVDA) $(Q AMZN) $(Q AAPL)
L=$(sim_lines); [ "$L" = 6 ] && pass "6 lines at the gateway (AAPL MSFT NVDA AMZN IWM META, none left over)" || fail "$L lines at the gateway, expected 6 (AAPL MSFT NVDA AMZN IWM META)"
refs $ALL; check_hashes "after the flapping"
# --- 4. a window shrinking and growing back: TSLA 2x3 (w1) over TSLA 1x2 (w2); w1 leaves, comes back
lease w2 'TSLA#options=1x2' 600; lease w1 'TSLA#options=2x3' 600
big(){ [ "$(okeys TSLA | wc -l)" -ge 24 ]; }
wait_for 30 big && pass "TSLA 2x3 window: $(okeys TSLA | wc -l) option keys" || fail "TSLA option keys: $(okeys TSLA | wc -l) (2x3: up to 28), w1=$(rstate w1 'TSLA#options=2x3')"
sleep 3
BIG=($(okeys TSLA)); advancing "TSLA 2x3 window streams" 6 $(Q TSLA) "${BIG[@]}"
check_hashes "TSLA 2x3 window"
# which keys the 1x2 window alone keeps: the nearest expiry, 2 strikes each side (the chain's strikes around the money)
unlease w1 'TSLA#options=2x3'; sleep 4
A=$(stamps "${BIG[@]}"); sleep 5; B=$(stamps "${BIG[@]}")
KEPT=(); DROPPED=()
while read -r k u s; do read -r _ u2 s2 <<<"$(grep "^$k " <<<"$B")"; if [ "$u2" != "$u" ]; then KEPT+=($k); else DROPPED+=($k); fi; done <<<"$A"
[ ${#KEPT[@]} = 10 ] && pass "after the 2x3 lease left, 10 TSLA option keys still written (the 1x2 window)" || fail "after the 2x3 lease left, ${#KEPT[@]} TSLA option keys still written (1x2 window: 10): ${KEPT[*]#$PFX:}"
info "kept: $(echo ${KEPT[*]#$PFX:option:} | tr ' ' ',')"
frozen "the ${#DROPPED[@]} option keys outside the 1x2 window" 4 "${DROPPED[@]}"
advancing "the 1x2 window's keys and TSLA" 5 $(Q TSLA) "${KEPT[@]}"
lease w1 'TSLA#options=2x3' 600; sleep 6
advancing "the 2x3 window back: all ${#BIG[@]} keys" 6 "${BIG[@]}"
advancing "and the other lines" 3 $(Q META) $(Q IWM) $(Q MSFT) $(Q NVDA) $(Q AMZN) $(Q AAPL)
refs $ALL; check_hashes "after the window grew back"
# --- 5. one instrument, three spellings, two given up: one line, still written
lease s1 QQQ 600; lease s2 qqq 600; lease s3 STK:QQQ 600
wait_for 10 field_is $(Q QQQ) source ib || fail "QQQ no data"
unlease s1 QQQ; unlease s3 STK:QQQ; sleep 3
advancing "QQQ with one of three spellings left" 4 $(Q QQQ)
check_pubsub "every message published during the run"
no_bad_codes
finish
