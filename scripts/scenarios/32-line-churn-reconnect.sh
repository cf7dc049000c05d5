#!/usr/bin/env bash
# Scenario 32: the gateway connection is lost while applications add and remove leases.
# IB: market data lines do not survive the socket (a new session starts with none); 1100 then 1101
# "Connectivity between IB and TWS has been restored - data lost" means every line must be requested again
# (1102 "data maintained": they continue). README: a granted lease gets "resubscription after a reconnect or
# 1101"; released lines are cancelled; "A key only ever holds data of the instrument it names".
# Set-up as in 31 (pinned AAPL, MSFT, SPY 1x2; `st` holds NVDA and QQQ 1x2) while c1..c3 churn AMZN, GOOGL,
# META, TSLA, TSLA/IWM windows; during the churn: `drop` (every connection closed), 1100 + 1101, `drop` again.
# At the end c9 still wants AMZN and an IWM 1x2 window (leased during the churn, across the faults).
# Expected: after the last reconnect every wanted line (pinned, st, c9) is at the gateway once, written again
# with its own instrument's data; everything given up during the faults stays given up (not written).
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 32-line-churn-reconnect"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,GOOGL,META,IWM
start_redis $RP; start_ib --rate 150
write_config "  - AAPL
  - MSFT
  - {symbol: SPY, options: {expirations: 1, strikes_around_atm: 2}}" no live 30 1 30
set_lines 100; lease_config 1 30 10 50 1000
start_worker; start_events; start_data_sub
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
keep(){ while :; do lease st NVDA 10; lease st 'QQQ#options=1x2' 10; [ -f "$RUN/c9" ] && { lease c9 AMZN 10; lease c9 'IWM#options=1x2' 10; }; sleep 2; done; }
keep & PIDS+=($!)
nopt(){ [ "$(okeys $1 | wc -l)" -ge 10 ]; }
wait_for 30 nopt SPY || fail "SPY option keys: $(okeys SPY | wc -l) (expected 10)"
wait_for 30 nopt QQQ || fail "QQQ option keys: $(okeys QQQ | wc -l) state=$(rstate st 'QQQ#options=1x2')"
wait_for 20 field_is $PFX:quote:NVDA source ib || fail "NVDA no data"
POOL=(AMZN GOOGL META TSLA 'TSLA#options=1x2' 'IWM#options=1x2' IWM)
churn(){ local end=$((SECONDS+$1)) spec app
  while [ $SECONDS -lt $end ]; do
    spec=${POOL[$((RANDOM % ${#POOL[@]}))]}; app=c$((RANDOM % 3 + 1))
    if [ $((RANDOM % 3)) = 0 ]; then unlease $app "$spec"; else lease $app "$spec" $((2 + RANDOM % 4)); fi
    sleep 0.$((3 + RANDOM % 5))
  done; }
churn 45 & CP=$!; PIDS+=($CP)
sleep 8; ctl drop
sleep 6; touch "$RUN/c9"; lease c9 AMZN 10; lease c9 'IWM#options=1x2' 10
sleep 4; ctl connectivity-lost; sleep 2; ctl connectivity-restored lost
sleep 8; ctl drop
sleep 3; ctl drop
wait $CP 2>/dev/null
for a in c1 c2 c3; do for s in "${POOL[@]}"; do unlease $a "$s"; done; done
T=$SECONDS
wait_for 30 field_is $PFX:worker:$WID state connected && pass "worker connected again ($((SECONDS-T)) s after the churn ended)" || fail "worker state=$(hget $PFX:worker:$WID state)"
# wanted: 13 pinned + st 12 + c9 AMZN 1 + IWM window 11 = 37 lines
wait_for 30 lines_are 37 && pass "the gateway holds the 37 wanted lines ($((SECONDS-T)) s)" || fail "the gateway holds $(sim_lines) lines, expected 37 (13 pinned, st 12, c9 12)"
for x in "st NVDA" "st QQQ#options=1x2" "c9 AMZN" "c9 IWM#options=1x2"; do set -- $x; st=$(rstate $1 "$2"); [ "$st" = active ] && pass "$1|$2 active" || fail "$1|$2 state=$st reason=$(rfield $1 "$2" reason)"; done
wait_for 20 nopt IWM || fail "IWM option keys: $(okeys IWM | wc -l) (expected 10)"
sleep 2
WANT=($PFX:quote:AAPL $PFX:quote:MSFT $PFX:quote:SPY $PFX:quote:NVDA $PFX:quote:QQQ $PFX:quote:AMZN $PFX:quote:IWM)
advancing_w "after the reconnects, every wanted line" 6 "SPY 2" "QQQ 2" "IWM 2" -- "${WANT[@]}"
advancing_w "again, every wanted line" 5 "SPY 2" "QQQ 2" "IWM 2" -- "${WANT[@]}"
left_behind "SPY 2" "QQQ 2" "IWM 2"
GONE=($(for s in GOOGL META TSLA; do echo $PFX:quote:$s; done) $(okeys TSLA))
GONE=($(for k in "${GONE[@]}"; do [ "$(R EXISTS $k)" = 1 ] && echo $k; done))
frozen "given-up lines (${#GONE[@]} keys of GOOGL META TSLA)" 5 "${GONE[@]}"
refs AAPL MSFT SPY QQQ NVDA AMZN TSLA GOOGL META IWM
info "simulator prices: $(tr '\n' ' ' <"$RUN/refs")"
check_hashes "after the reconnects: hashes"
check_pubsub "every message published during the run"
no_bad_codes
info "state events: $(grep -o '"type":"state"[^}]*' $RUN/events.txt | grep -o '"to":"[a-z]*"' | tr '\n' ' ')"
finish
