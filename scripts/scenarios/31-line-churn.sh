#!/usr/bin/env bash
# Scenario 31: market data lines come and go while every line streams.
# IB: each reqMktData line is its own reqId; TICK_PRICE (1), TICK_SIZE (2) and TICK_OPTION_COMPUTATION (21)
# carry that reqId; cancelMktData (out 2) ends it ("market data for the specified id will stop flowing",
# ibapi client.py), ticks already on the wire still come. README: "A key only ever holds data of the
# instrument it names"; a released line "is cancelled at the gateway"; `updated_ms` is when the values were
# last confirmed. Set-up: pinned AAPL, MSFT and SPY with a 1x2 window (13 lines), application `st` holds NVDA
# and a QQQ 1x2 window all along (12 lines), three applications lease and give up AMZN, GOOGL, META, TSLA
# and windows on TSLA and IWM (TTL 2-5 s, grace 1 s) for 60 s while the simulator streams 150 updates/s.
# Expected: every quote/option hash and every published message is its own instrument's (symbol, expiry,
# strike, right, a stable con_id, prices at that instrument's level, deltas by right and strike), the lines
# held all along are written again every few seconds throughout, and released lines stop being written.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 31-line-churn"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,GOOGL,META,IWM
CHURN_S=${CHURN_S:-60}
start_redis $RP; start_ib --rate 150
write_config "  - AAPL
  - MSFT
  - {symbol: SPY, options: {expirations: 1, strikes_around_atm: 2}}" no live 30 1 30
set_lines 100; lease_config 1 30 10 50 1000
start_worker; start_events; start_data_sub
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
keep(){ while [ ! -f "$RUN/stop-st" ]; do lease st NVDA 10; lease st 'QQQ#options=1x2' 10; sleep 2; done; }
keep & PIDS+=($!)
nopt(){ [ "$(okeys $1 | wc -l)" = 10 ]; }
wait_for 30 nopt SPY && pass "pinned SPY 1x2 window: 10 option keys" || fail "SPY option keys: $(okeys SPY | wc -l) (expected 10)"
wait_for 30 state_is st 'QQQ#options=1x2' active || true
wait_for 30 nopt QQQ && pass "leased QQQ 1x2 window: 10 option keys" || fail "QQQ option keys: $(okeys QQQ | wc -l) state=$(rstate st 'QQQ#options=1x2')"
wait_for 20 field_is $PFX:quote:NVDA source ib || fail "NVDA no data"
# held all along: the pinned and st quotes, and the SPY and QQQ windows as they are now (they follow the money)
LIVE=($PFX:quote:AAPL $PFX:quote:MSFT $PFX:quote:SPY $PFX:quote:NVDA $PFX:quote:QQQ)
info "gateway lines: $(sim_lines); windows centred on SPY $(centre SPY), QQQ $(centre QQQ)"
advancing_w "before the churn, every held line" 6 "SPY 2" "QQQ 2" -- "${LIVE[@]}"
# the churn: c1..c3 lease and give up instruments at random
POOL=(AMZN GOOGL META TSLA 'TSLA#options=1x2' 'IWM#options=1x2' IWM)
churn(){ local end=$((SECONDS+CHURN_S)) i=0 spec app
  while [ $SECONDS -lt $end ]; do
    spec=${POOL[$((RANDOM % ${#POOL[@]}))]}; app=c$((RANDOM % 3 + 1))
    if [ $((RANDOM % 3)) = 0 ]; then unlease $app "$spec"; else lease $app "$spec" $((2 + RANDOM % 4)); fi
    i=$((i+1)); sleep 0.$((3 + RANDOM % 5))
  done; echo $i >"$RUN/churn-ops"; }
churn & CP=$!; PIDS+=($CP)
linemax(){ local m=0 n; while :; do n=$(sim_lines); [ -n "$n" ] && [ "$n" -gt $m ] && { m=$n; echo $m >"$RUN/maxlines"; }; sleep 0.5; done; }
linemax & PIDS+=($!)
T0=$SECONDS; round=0
while kill -0 $CP 2>/dev/null; do
  round=$((round+1))
  advancing_w "churn round $round ($((SECONDS-T0)) s in, $(sim_lines) lines at the gateway): lines held all along" 5 "SPY 2" "QQQ 2" -- "${LIVE[@]}"
  if [ $((round % 3)) = 1 ]; then
    refs AAPL MSFT SPY QQQ NVDA AMZN TSLA GOOGL META IWM
    check_hashes "churn round $round: hashes"
  fi
done
wait $CP 2>/dev/null; info "churn: $(cat $RUN/churn-ops) lease changes in ${CHURN_S} s; most lines at the gateway: $(cat $RUN/maxlines)"
# give every churned instrument up; 1 s grace
for a in c1 c2 c3; do for s in "${POOL[@]}"; do unlease $a "$s"; done; done
sleep 5
L=$(sim_lines); [ "$L" = 25 ] && pass "after the churn the gateway holds the 25 lines still wanted (13 pinned, 12 st)" || fail "after the churn the gateway holds $L lines, expected 25"
CHURNED=($(for s in AMZN GOOGL META TSLA IWM; do echo $PFX:quote:$s; done) $(okeys TSLA) $(okeys IWM))
CHURNED=($(for k in "${CHURNED[@]}"; do [ "$(R EXISTS $k)" = 1 ] && echo $k; done))
frozen "released lines (${#CHURNED[@]} keys of AMZN GOOGL META TSLA IWM)" 5 "${CHURNED[@]}"
advancing_w "after the churn, every held line" 5 "SPY 2" "QQQ 2" -- "${LIVE[@]}"
left_behind "SPY 2" "QQQ 2"
refs AAPL MSFT SPY QQQ NVDA AMZN TSLA GOOGL META IWM
info "simulator prices: $(tr '\n' ' ' <"$RUN/refs")"
check_hashes "after the churn: hashes"
check_pubsub "every message published during the run"
left=$(R --scan --pattern "$PFX:request:c[123]:*" | head -5 | tr '\n' ' '); [ -z "$left" ] && pass "no request status left for the given-up leases" || fail "request statuses left after the leases were removed: $left"
syms=$(hget $PFX:worker:$WID symbols); case ",$syms," in *,AMZN,*|*,GOOGL,*|*,META,*|*,TSLA,*|*,IWM,*) fail "worker symbols still lists a released instrument: $syms";; *) pass "worker symbols: $syms";; esac
no_bad_codes
info "worker warnings/errors: $(grep -ciE 'warning|error' $RUN/worker.log) lines; $(grep -iE 'unknown (req|ticker)|no line|not found' $RUN/worker.log | head -3 | cut -c1-200)"
finish
