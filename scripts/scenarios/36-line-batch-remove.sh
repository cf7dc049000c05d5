#!/usr/bin/env bash
# Scenario 36: many lines removed in one go (one ZREM of several members, read in one lease poll), every other
# one, while the rest stream; then all leased again at once, and a different subset removed. IB: each removal
# is a cancelMktData (out 2) of that reqId; the other reqIds keep streaming TICK_PRICE (1) / TICK_SIZE (2) /
# TICK_OPTION_COMPUTATION (21). Expected after each batch: the remaining lines are written again with their
# own instrument's values (hash and every published message), the removed ones are not written any more, and
# the gateway holds exactly the lines still wanted.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 36-line-batch-remove"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,GOOGL,META,IWM
ALL="AAPL MSFT SPY QQQ NVDA AMZN TSLA GOOGL META IWM"
start_redis $RP; start_ib --rate 150
write_config "  - AAPL" no live 30 1 30
set_lines 100; lease_config 1 30 10 50 1000
start_worker; start_events; start_data_sub
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
SPECS=(MSFT SPY QQQ NVDA AMZN TSLA GOOGL META 'IWM#options=1x2')
lease_all(){ local t m=(); t=($(R TIME)); for s in "${SPECS[@]}"; do m+=($(( (${t[0]} + 600) * 1000 )) "b|$s"); done; R ZADD $PFX:leases "${m[@]}" >/dev/null; }
remove(){ local m=(); for s in "$@"; do m+=("b|$s"); done; R ZREM $PFX:leases "${m[@]}" >/dev/null; }
keys_of(){ local s; for s in "$@"; do case "$s" in *'#options'*) echo $PFX:quote:${s%%#*};; *) echo $PFX:quote:$s;; esac; done; }
round(){ local label=$1; shift; local gone=("$@") keep=() s g
  for s in "${SPECS[@]}"; do g=0; for x in "${gone[@]}"; do [ "$x" = "$s" ] && g=1; done; [ $g = 0 ] && keep+=("$s"); done
  remove "${gone[@]}"; sleep 3
  local kw=() ww=(); for s in "${keep[@]}"; do case "$s" in 'IWM#options=1x2') ww=("IWM 2");; esac; done
  advancing_w "$label: the ${#keep[@]} lines kept (${keep[*]})" 5 "${ww[@]}" -- $PFX:quote:AAPL $(keys_of "${keep[@]}")
  local gk=($(keys_of "${gone[@]}")); for s in "${gone[@]}"; do [ "$s" = 'IWM#options=1x2' ] && gk+=($(okeys IWM)); done
  frozen "$label: the ${#gone[@]} lines removed (${gone[*]})" 4 "${gk[@]}"
  local want=$((1 + ${#keep[@]})); for s in "${keep[@]}"; do [ "$s" = 'IWM#options=1x2' ] && want=$((want + 10)); done
  L=$(sim_lines); [ "$L" = $want ] && pass "$label: $L lines at the gateway" || fail "$label: $L lines at the gateway, expected $want"
  refs $ALL; check_hashes "$label: hashes"; }
for r in 1 2 3; do
  lease_all
  ok(){ [ "$(okeys IWM | wc -l)" -ge 10 ] && for s in MSFT SPY QQQ NVDA AMZN TSLA GOOGL META; do field_is $PFX:quote:$s source ib || return 1; done; }
  wait_for 30 ok || fail "round $r: not every leased line has data"
  sleep 2
  case $r in
    1) round "round 1 (every other one removed)" MSFT QQQ AMZN GOOGL 'IWM#options=1x2';;
    2) round "round 2 (the first five removed)" MSFT SPY QQQ NVDA AMZN;;
    3) round "round 3 (all but the first and the last removed)" SPY QQQ NVDA AMZN TSLA GOOGL META;;
  esac
done
check_pubsub "every message published during the run"
no_bad_codes
finish
