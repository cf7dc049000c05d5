#!/usr/bin/env bash
# Scenario 20: one instrument, many spellings; overlapping option windows; a burst of leases.
# README "Subscriptions at runtime": the instrument is case-insensitive, `MSFT` = `STK:MSFT` (SMART);
# "Leasing a pinned instrument costs no line: its status is `active` at once"; "One line serves every
# lease of an instrument"; an option window takes 1 + EXP x (2 x STRIKES + 1) x 2 lines; "every change
# paced within IB's message rate" (IB error 100 "Max rate of messages per second has been exceeded").
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 20-lease-spellings-windows"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,IWM
start_redis $RP; start_ib
write_config "  - AAPL
  - {symbol: SPY, primary_exchange: ARCA}" no live 30 1 30
set_lines 100; lease_config 4 30
start_worker; start_events
wait_for 40 field_is $PFX:quote:SPY source ib || fail "SPY never arrived from IB"
sleep 2; base=$(sim_lines); info "pinned lines: $base"
# pinned, spelled differently
lease a1 aapl 60; lease a2 STK:AAPL 60; lease a3 'STK:AAPL@SMART' 60; lease a4 SPY 60
for x in "a1 aapl" "a2 STK:AAPL" "a3 STK:AAPL@SMART" "a4 SPY"; do set -- $x; wait_for 8 state_is $1 "$2" active && pass "$1|$2 (pinned instrument) active" || fail "$1|$2 state=$(rstate $1 "$2") reason=$(rfield $1 "$2" reason)"; done
# a window on a pinned underlying (AAPL is pinned as a quote only): the window is more than the pinned quote
lease a5 'AAPL#options=1x1' 60
wait_for 8 state_is a5 'AAPL#options=1x1' active || fail "a5 state=$(rstate a5 'AAPL#options=1x1') reason=$(rfield a5 'AAPL#options=1x1' reason)"
na(){ [ "$(R --scan --pattern "$PFX:option:AAPL:*" | wc -l)" = 6 ]; }
wait_for 12 na && pass "AAPL#options=1x1 on the pinned AAPL: 6 option keys" || fail "AAPL#options=1x1 leased on the pinned AAPL: told '$(rstate a5 'AAPL#options=1x1')' but $(R --scan --pattern "$PFX:option:AAPL:*" | wc -l) option keys (expected 6)"
unlease a5 'AAPL#options=1x1'; sleep 6; base=$(sim_lines)
# one instrument, several spellings and requesters
lease b1 MSFT 60; lease b2 msft 60; lease b3 STK:MSFT 60
for x in "b1 MSFT" "b2 msft" "b3 STK:MSFT"; do set -- $x; wait_for 8 state_is $1 "$2" active && pass "$1|$2 active ($(rfield $1 "$2" key))" || fail "$1|$2 state=$(rstate $1 "$2") reason=$(rfield $1 "$2" reason)"; done
sleep 2; n=$(sim_lines); [ "$n" = $((base+1)) ] && pass "pinned spellings cost nothing, MSFT x3 one line ($n)" || fail "$n lines, expected $((base+1))"
# two windows on one underlying: a small one, then a larger one from another application
lease w1 'QQQ#options=1x2' 60
wait_for 15 state_is w1 'QQQ#options=1x2' active || fail "w1 state=$(rstate w1 'QQQ#options=1x2') reason=$(rfield w1 'QQQ#options=1x2' reason)"
nq(){ [ "$(R --scan --pattern "$PFX:option:QQQ:*" | wc -l)" = "$1" ]; }
wait_for 15 nq 10 && pass "QQQ 1x2 window: 10 option keys" || fail "QQQ 1x2: $(R --scan --pattern "$PFX:option:QQQ:*" | wc -l) option keys"
lease w2 'QQQ#options=2x3' 20; T_W2=$(now_ms)
wait_for 10 state_is w2 'QQQ#options=2x3' active && info "w2|QQQ#options=2x3 says active" || fail "w2 state=$(rstate w2 'QQQ#options=2x3') reason=$(rfield w2 'QQQ#options=2x3' reason)"
wait_for 15 nq 28 && pass "after w2 asked for 2x3 the window holds 28 option keys (2 x 7 x 2)" || fail "w2 asked for QQQ#options=2x3 (told '$(rstate w2 'QQQ#options=2x3')') but QQQ has $(R --scan --pattern "$PFX:option:QQQ:*" | wc -l) option keys 15 s later, not 28: w2 got w1's 1x2 window"
n=$(sim_lines); info "lines with both QQQ windows: $n (shared: $((base+1+1+28)))"
# w2 lapses (20 s + grace 4 s): back to w1's 1x2 window
while [ $(now_ms) -lt $((T_W2 + 20000 + 4000 + 3000)) ]; do sleep 0.5; done
n=$(sim_lines); [ "$n" = $((base+1+1+10)) ] && pass "after the 2x3 lease lapsed: $n lines (1x2 window + quotes)" || info "after the 2x3 lease lapsed: $n lines (1x2 window would be $((base+12)))"
unlease w1 'QQQ#options=1x2'
# the same underlying as a plain quote lease and as a window lease, both orders
lease p1 NVDA 60; wait_for 10 state_is p1 NVDA active || fail "p1|NVDA state=$(rstate p1 NVDA)"; sleep 2
lease p2 'NVDA#options=1x2' 60
wait_for 10 state_is p2 'NVDA#options=1x2' active && info "p2|NVDA#options=1x2 says active (key $(rfield p2 'NVDA#options=1x2' key))"
okw(){ [ "$(R --scan --pattern "$PFX:option:NVDA:*" | wc -l)" = 10 ] && [ "$(R EXISTS $PFX:chain:NVDA)" = 1 ]; }
wait_for 15 okw && pass "window leased after a plain lease of NVDA: chain and 10 option keys" || fail "NVDA quote leased first, then NVDA#options=1x2: status '$(rstate p2 'NVDA#options=1x2')' but $(R --scan --pattern "$PFX:option:NVDA:*" | wc -l) option keys, chain:NVDA exists=$(R EXISTS $PFX:chain:NVDA) 15 s later (the window request is silently ignored)"
L0=$(sim_lines)
lease q1 'IWM#options=1x2' 60; wait_for 10 state_is q1 'IWM#options=1x2' active || fail "q1 window state=$(rstate q1 'IWM#options=1x2')"
sleep 4; lease q2 IWM 60; wait_for 10 state_is q2 IWM active || fail "q2|IWM state=$(rstate q2 IWM)"; sleep 3
L1=$(sim_lines); unlease q1 'IWM#options=1x2'; sleep 10
L2=$(sim_lines)
seqs(){ for k in $(R --scan --pattern "$PFX:option:IWM:*" | sort); do R HGET $k seq; done | paste -sd,; }
s1=$(seqs); sleep 4; s2=$(seqs)
[ "$s1" = "$s2" ] && pass "IWM window given up (plain IWM still leased): its option keys no longer written" || fail "IWM#options=1x2 given up 10 s ago (grace 4 s), plain IWM still leased: the window's option keys are still written (seq $s1 -> $s2), lines $L1 -> $L2: its 10 lines stay held"
for x in p1 p2 q2; do :; done; unlease p1 NVDA; unlease p2 'NVDA#options=1x2'; unlease q2 IWM; sleep 6
# a burst: 6 instruments and two windows at once must stay under IB's pacing
for s in AMZN IND:SPX@CBOE IND:NDX@NASDAQ CASH:EUR.USD CASH:GBP.USD FUT:ES.202612@CME; do lease burst "$s" 60; done
lease burst2 'TSLA#options=2x5' 60; lease burst3 'MSFT#options=2x5' 60
T=$SECONDS
allb(){ for s in AMZN IND:SPX@CBOE IND:NDX@NASDAQ CASH:EUR.USD CASH:GBP.USD FUT:ES.202612@CME; do state_is burst "$s" active || return 1; done; state_is burst2 'TSLA#options=2x5' active && state_is burst3 'MSFT#options=2x5' active; }
wait_for 30 allb && pass "burst: all active in $((SECONDS-T)) s" || fail "burst: not all active after 30 s: $($BIN/quote-relay subscriptions --redis-url redis://127.0.0.1:$RP/0 --prefix $PFX | grep burst | tr -s ' ' | tr '\n' '|')"
okb(){ [ "$(R --scan --pattern "$PFX:option:TSLA:*" | wc -l)" = 44 ] && [ "$(R --scan --pattern "$PFX:option:MSFT:*" | wc -l)" = 44 ]; }
wait_for 30 okb && pass "TSLA and MSFT 2x5 windows complete (44 option keys each) $((SECONDS-T)) s after the burst" || fail "option keys 30 s after the burst: TSLA $(R --scan --pattern "$PFX:option:TSLA:*" | wc -l), MSFT $(R --scan --pattern "$PFX:option:MSFT:*" | wc -l) (2x5: 44 each)"
grep -q '"code":100[,}]' "$RUN/events.txt" && fail "IB error 100 (pacing) during the burst: $(grep -c '"code":100[,}]' $RUN/events.txt)" || pass "no pacing violation (100) in the burst"
grep -q '"code":322' "$RUN/events.txt" && fail "IB error 322 (duplicate ticker id)" || pass "no 322"
grep -q '"code":101' "$RUN/events.txt" && fail "IB error 101" || pass "no 101"
info "problems: $(hget $PFX:worker:$WID problems)"
finish
