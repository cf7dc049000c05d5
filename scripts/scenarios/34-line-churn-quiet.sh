#!/usr/bin/env bash
# Scenario 34: a quiet market (no ticks; snapshots answered) while lines are added and removed.
# README "Quiet lines stay alive": "A line quiet for a third of its key's TTL is confirmed with a snapshot
# request; an answered snapshot refreshes updated_ms and the TTL". IB: a snapshot is a reqMktData with
# snapshot=1 under a reqId of its own, answered by ticks then TICK_SNAPSHOT_END (57). A snapshot in flight
# while another line is removed must still confirm the line it was asked for, and only that line.
# Set-up: quote/option TTL 12 s (snapshots after ~4 s quiet), pinned AAPL and MSFT with a SPY 1x2 window,
# `st` holds NVDA; simulator `quiet`; c1..c3 churn AMZN, GOOGL, META, TSLA and an IWM 1x2 window for 36 s (TTL 6-11 s: long
# enough for a new line's first snapshot; in the simulator's quiet market a new line gets no ticks).
# Expected: every held line keeps being confirmed (updated_ms moves within 9 s) with its own instrument's
# values; released lines are not confirmed any more; after `resume` every held line streams again.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 34-line-churn-quiet"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,GOOGL,META,IWM
ALL="AAPL MSFT SPY QQQ NVDA AMZN TSLA GOOGL META IWM"
start_redis $RP; start_ib --rate 100
write_config "  - AAPL
  - MSFT
  - {symbol: SPY, options: {expirations: 1, strikes_around_atm: 2}}" no live 40 1 30
sed -i 's/^  quote_ttl_seconds: 120$/  quote_ttl_seconds: 12/; s/^  option_ttl_seconds: 120$/  option_ttl_seconds: 12/' "$RUN/cfg.yaml"
set_lines 100; lease_config 1 30 10 50 1000
start_worker; start_events; start_data_sub
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
keep(){ while :; do lease st NVDA 10; sleep 2; done; }; keep & PIDS+=($!)
nopt(){ [ "$(okeys $1 | wc -l)" = 10 ]; }
wait_for 30 nopt SPY || fail "SPY option keys: $(okeys SPY | wc -l) (expected 10)"
wait_for 20 field_is $PFX:quote:NVDA source ib || fail "NVDA no data"
LIVE=($PFX:quote:AAPL $PFX:quote:MSFT $PFX:quote:SPY $PFX:quote:NVDA)
advancing_w "streaming: every held line" 4 "SPY 2" -- "${LIVE[@]}"
ctl quiet
sleep 2
POOL=(AMZN GOOGL META TSLA 'IWM#options=1x2')
churn(){ local end=$((SECONDS+$1)) spec app
  while [ $SECONDS -lt $end ]; do
    spec=${POOL[$((RANDOM % ${#POOL[@]}))]}; app=c$((RANDOM % 3 + 1))
    if [ $((RANDOM % 3)) = 0 ]; then unlease $app "$spec"; else lease $app "$spec" $((6 + RANDOM % 6)); fi
    sleep 0.$((3 + RANDOM % 5))
  done; }
churn 36 & CP=$!; PIDS+=($CP)
round=0
while kill -0 $CP 2>/dev/null; do round=$((round+1)); advancing_w "quiet market, churn round $round: every held line confirmed" 9 "SPY 2" -- "${LIVE[@]}"; done
refs $ALL; info "simulator prices: $(tr '\n' ' ' <"$RUN/refs")"
check_hashes "quiet market after the churn: hashes"
n=$(for s in AMZN GOOGL META TSLA IWM; do R EXISTS $PFX:quote:$s; done | grep -c 1); [ "$n" -ge 3 ] && pass "$n of the 5 churned quotes were confirmed by snapshots in the quiet market" || info "only $n of the 5 churned quotes got a value in the quiet market"
for a in c1 c2 c3; do for s in "${POOL[@]}"; do unlease $a "$s"; done; done
sleep 4
GONE=($(for s in AMZN GOOGL META TSLA IWM; do echo $PFX:quote:$s; done) $(okeys IWM))
GONE=($(for k in "${GONE[@]}"; do [ "$(R EXISTS $k)" = 1 ] && echo $k; done))
frozen "released lines (${#GONE[@]} keys) not confirmed any more" 8 "${GONE[@]}"
ctl resume
sleep 2
advancing_w "after resume: every held line streams" 5 "SPY 2" -- "${LIVE[@]}"
L=$(sim_lines); [ "$L" = 14 ] && pass "14 lines at the gateway (13 pinned + NVDA)" || fail "$L lines at the gateway, expected 14"
refs $ALL; check_hashes "after resume: hashes"
check_pubsub "every message published during the run"
no_bad_codes
finish
