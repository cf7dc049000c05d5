#!/usr/bin/env bash
# Scenario 37: leases change while the gateway is unreachable. IB: a new session starts with no market data
# lines; the worker asks again for what it still wants (reqMktData with fresh reqIds). README: a granted lease
# gets "resubscription after a reconnect"; a released line is not asked for again; "A key only ever holds data
# of the instrument it names". Set-up: pinned AAPL and SPY 1x2; st holds NVDA and QQQ 1x2; a1 MSFT, a2 AMZN, a3
# an IWM 1x2 window. The simulator drops the connection and refuses new ones for 10 s; meanwhile a1 and a3 give
# up, a4 GOOGL, a5 META and a6 a TSLA 1x2 window are leased. Expected after the reconnect: exactly the wanted
# lines at the gateway (AAPL, SPY 11, NVDA, QQQ 11, AMZN, GOOGL, META, TSLA 11 = 38), each written with its own
# instrument's data; MSFT and the IWM window not written any more.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 37-lines-change-while-down"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,GOOGL,META,IWM
ALL="AAPL MSFT SPY QQQ NVDA AMZN TSLA GOOGL META IWM"
start_redis $RP; start_ib --rate 150
write_config "  - AAPL
  - {symbol: SPY, options: {expirations: 1, strikes_around_atm: 2}}" no live 30 1 30
set_lines 100; lease_config 1 30 10 50 1000
start_worker; start_events; start_data_sub
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
keep(){ while :; do lease st NVDA 10; lease st 'QQQ#options=1x2' 10; lease a2 AMZN 10
  [ -f "$RUN/down" ] || { lease a1 MSFT 10; lease a3 'IWM#options=1x2' 10; }
  [ -f "$RUN/new" ] && { lease a4 GOOGL 10; lease a5 META 10; lease a6 'TSLA#options=1x2' 10; }; sleep 2; done; }
keep & PIDS+=($!)
nopt(){ [ "$(okeys $1 | wc -l)" -ge 10 ]; }
for s in SPY QQQ IWM; do wait_for 30 nopt $s || fail "$s option keys: $(okeys $s | wc -l)"; done
for s in NVDA MSFT AMZN; do wait_for 20 field_is $PFX:quote:$s source ib || fail "$s no data"; done
L=$(sim_lines); [ "$L" = 37 ] && pass "37 lines before the outage" || info "$L lines before the outage (expected 37)"
refs $ALL; check_hashes "before the outage"
ctl refuse 10; ctl drop
touch "$RUN/down"; unlease a1 MSFT; unlease a3 'IWM#options=1x2'
sleep 2; touch "$RUN/new"; lease a4 GOOGL 10; lease a5 META 10; lease a6 'TSLA#options=1x2' 10
T=$SECONDS
wait_for 40 lines_are 38 && pass "after the reconnect the gateway holds the 38 wanted lines ($((SECONDS-T)) s)" || fail "after the reconnect the gateway holds $(sim_lines) lines, expected 38"
for x in "st NVDA" "st QQQ#options=1x2" "a2 AMZN" "a4 GOOGL" "a5 META" "a6 TSLA#options=1x2"; do set -- $x; wait_for 10 state_is $1 "$2" active && pass "$1|$2 active" || fail "$1|$2 state=$(rstate $1 "$2") reason=$(rfield $1 "$2" reason)"; done
for s in GOOGL META; do wait_for 10 field_is $PFX:quote:$s source ib || fail "$s no data after the reconnect"; done
wait_for 20 nopt TSLA || fail "TSLA option keys: $(okeys TSLA | wc -l)"
sleep 2
advancing_w "after the reconnect, every wanted line" 6 "SPY 2" "QQQ 2" "TSLA 2" -- $(for s in AAPL SPY NVDA QQQ AMZN GOOGL META TSLA; do echo $PFX:quote:$s; done)
frozen "MSFT and the IWM window (given up while down)" 5 $PFX:quote:MSFT $PFX:quote:IWM $(okeys IWM)
left_behind "SPY 2" "QQQ 2" "TSLA 2"
refs $ALL; check_hashes "after the reconnect"
check_pubsub "every message published during the run"
no_bad_codes
finish
