#!/usr/bin/env bash
# Scenario 8 (extra): IB-side outages the socket survives, and garbage frames.
# IB message codes: 1100 "Connectivity between IB and TWS has been lost" (data stops, API socket up),
# 1101 "restored - data lost" (market data requests must be resubmitted), 1102 "restored - data
# maintained"; 2103 "Market data farm connection is broken" (ticks of that farm stop until 2104).
# Expectation: the keys go stale within staleness+check+probe (never silently stale), the worker
# shows degraded; after 1101 every line is requested again and data is fresh; malformed frames
# never put garbage (non-numeric / sentinel) values into Redis.
MODE=${1:-all}
if [ "$MODE" = all ]; then rc=0; for m in conn farm malformed; do bash "$0" $m || rc=1; done; exit $rc; fi
source "$(dirname "$0")/lib.sh"
echo "=== 08 phase $MODE"
ST=4; CI=1; BOUND=$((ST+CI+2+3))
start_redis $RP; start_ib
write_config "  - AAPL
  - MSFT" no live $ST $CI 8
start_worker; start_events
K=$PFX:quote:AAPL; W=$PFX:worker:$WID
wait_for 40 field_is $K source ib || { fail "AAPL never arrived"; finish; exit 1; }
sleep 2
case $MODE in
conn|farm)
  T0=$(now_ms)
  if [ $MODE = conn ]; then ctl connectivity-lost; else ctl farm-down usfarm; fi
  monitor $K $((BOUND+2)) $RUN/mon.txt
  first=$(awk -v t0=$T0 '$3=="1"{print $1-t0; exit}' $RUN/mon.txt)
  silent=$(awk -v b=$BOUND '$2=="ib" && $3=="0" && $1-$4 > b*1000' $RUN/mon.txt | wc -l)
  [ -n "$first" ] && [ "$first" -le $((BOUND*1000)) ] && pass "flagged stale after $first ms" || fail "not flagged stale within ${BOUND}s (first=${first:-never})"
  [ "$silent" = 0 ] && pass "never silently stale" || fail "silently stale in $silent samples"
  st=$(hget $W state); [ "$st" = degraded ] && pass "worker state=degraded (last_error: $(hget $W last_error))" || fail "worker state=$st"
  ctl counters
  if [ $MODE = conn ]; then ctl connectivity-restored lost; else ctl farm-up usfarm; fi
  T1=$(now_ms)
  wait_for 30 bash -c "[ \"\$(redis-cli -p $RP HGET $K stale)\" = 0 ] && [ \"\$(redis-cli -p $RP HGET $PFX:quote:MSFT stale)\" = 0 ]" && pass "both keys fresh again $(( $(now_ms)-T1 )) ms after restore" || fail "keys not fresh 30 s after restore"
  ctl counters
  subs=$(exec 3<>/dev/tcp/127.0.0.1/$CTL; echo counters >&3; timeout 3 head -1 <&3 | grep -o 'subscriptions=[0-9]*')
  [ "$subs" = subscriptions=2 ] && pass "gateway holds both lines again ($subs)" || fail "gateway lines after restore: $subs"
  ;;
malformed)
  for i in 1 2 3; do ctl malformed; sleep 1; done
  sleep 4
  R --scan --pattern "$PFX:quote:*" | while read k; do R HGETALL $k | paste - -; done > $RUN/fields.txt
  bad=$(awk -F'\t' '$1!~/^(symbol|source|data_type)$/ && $2 !~ /^-?[0-9]+(\.[0-9]+)?$/' $RUN/fields.txt)
  [ -z "$bad" ] && pass "every numeric field numeric after malformed frames" || { fail "non-numeric values:"; echo "$bad"; }
  sent=$(awk -F'\t' '$1~/^(bid|ask|last)$/ && ($2+0<=0 || $2+0>100000)' $RUN/fields.txt)
  [ -z "$sent" ] && pass "no sentinel/absurd prices" || { fail "absurd prices:"; echo "$sent"; }
  wait_for 20 bash -c "[ \"\$(redis-cli -p $RP HGET $K source)\" = ib ] && [ \"\$(redis-cli -p $RP HGET $K stale)\" = 0 ]" && pass "AAPL fresh from IB after malformed frames" || fail "AAPL not fresh after malformed frames"
  grep -i 'malformed\|unknown message\|decode\|protocol' $RUN/worker.log | head -5
  dump $K
  ;;
esac
finish
