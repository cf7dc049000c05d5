#!/usr/bin/env bash
# Scenario 38: line churn across instrument kinds. README "Instruments and key grammar": quote records of
# indexes, futures and FX carry identity fields (`sec_type`, `con_id`, `local_symbol`, `contract_month`,
# `multiplier`, `currency`); stock records are CONTRACT's; option keys of index classes are named by the
# trading class (SPX, SPXW). A line's merged state holding another kind's fields (a future's contract_month on
# an index, an FX pair's currency on a stock) is another instrument's data. Set-up: pinned AAPL and the ES
# December future; `st` holds IND:VIX@CBOE and an SPX 1x2 window (SPX and SPXW); c1..c3 lease and give up
# SPX, NDX, EUR.USD, GBP.USD, USD.JPY, NQ December, ES March, MSFT, NVDA for 50 s (TTL 2-5 s, grace 1 s).
# Expected: every key's messages name one instrument throughout (identity fields never change) at one price
# level; stock records have no sec_type; the held lines keep being written; released lines stop.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 38-line-churn-sectypes"
export SIMSYMS=AAPL,MSFT,NVDA
start_redis $RP; start_ib --rate 150
write_config "  - AAPL
  - {symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202612}" no live 30 1 30
set_lines 100; lease_config 1 30 10 50 1000
start_worker; start_events; start_data_sub
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
wait_for 20 field_is $PFX:quote:ES.202612 source ib || fail "ES.202612 never arrived"
keep(){ while :; do lease st IND:VIX@CBOE 10; lease st 'IND:SPX@CBOE#options=1x2' 10; sleep 2; done; }
keep & PIDS+=($!)
wait_for 20 field_is $PFX:quote:VIX source ib || fail "VIX no data (state $(rstate st IND:VIX@CBOE))"
nspx(){ [ "$(R --scan --pattern "$PFX:option:SPX*" | wc -l)" -ge 10 ]; }
wait_for 30 nspx || fail "SPX window: $(R --scan --pattern "$PFX:option:SPX*" | wc -l) option keys, state $(rstate st 'IND:SPX@CBOE#options=1x2') $(rfield st 'IND:SPX@CBOE#options=1x2' reason)"
sleep 3
info "SPX window keys: $(R --scan --pattern "$PFX:option:SPX*" | wc -l); lines $(sim_lines)"
held(){ echo $PFX:quote:AAPL $PFX:quote:ES.202612 $PFX:quote:VIX $PFX:quote:SPX; }
advancing "held quotes (AAPL, ES.202612, VIX, SPX) before the churn" 5 $(held)
POOL=(IND:SPX@CBOE IND:NDX@NASDAQ CASH:EUR.USD CASH:GBP.USD CASH:USD.JPY FUT:NQ.202612@CME FUT:ES.202703@CME MSFT NVDA)
churn(){ local end=$((SECONDS+$1)) spec app
  while [ $SECONDS -lt $end ]; do
    spec=${POOL[$((RANDOM % ${#POOL[@]}))]}; app=c$((RANDOM % 3 + 1))
    if [ $((RANDOM % 3)) = 0 ]; then unlease $app "$spec"; else lease $app "$spec" $((2 + RANDOM % 4)); fi
    sleep 0.$((3 + RANDOM % 5))
  done; }
churn 50 & CP=$!; PIDS+=($CP)
round=0
while kill -0 $CP 2>/dev/null; do round=$((round+1)); advancing "churn round $round: held quotes" 6 $(held); done
for a in c1 c2 c3; do for s in "${POOL[@]}"; do unlease $a "$s"; done; done
sleep 4
GONE=($(for k in NDX EUR.USD GBP.USD USD.JPY NQ.202612 ES.202703 MSFT NVDA; do [ "$(R EXISTS $PFX:quote:$k)" = 1 ] && echo $PFX:quote:$k; done))
frozen "released quotes (${#GONE[@]})" 5 "${GONE[@]}"
advancing "held quotes after the churn" 5 $(held)
SPXK=($(R --scan --pattern "$PFX:option:SPX*" | sort)); info "SPX/SPXW option keys: ${#SPXK[@]}"
for k in $(R --scan --pattern "$PFX:quote:*"); do
  st=$(hget $k sec_type); s=${k#$PFX:quote:}
  case "$s" in AAPL|MSFT|NVDA) want="";; SPX|NDX|VIX) want=IND;; EUR.USD|GBP.USD|USD.JPY) want=CASH;; *.20*) want=FUT;; *) want=?;; esac
  [ "$st" = "$want" ] && pass "$s: sec_type '${st}'" || fail "$s: sec_type '$st', expected '$want' ($(R HGETALL $k | paste -sd' ' | cut -c1-300))"
done
out=$(python3 "$LC" consistency "$RUN/data-pubsub.txt" $PFX); [ $? = 0 ] && pass "every key one instrument throughout: $(echo "$out" | cut -c1-900)" || { fail "a key changed instrument: $(echo "$out" | wc -l) problems"; echo "$out" | head -20; }
no_bad_codes
finish
