#!/usr/bin/env bash
# Scenario 4: data_type on every record. IB: reqMarketDataType(1 live | 3 delayed); the gateway
# answers MARKET_DATA_TYPE (58) per request and, for delayed data, sends the delayed tick types
# 66-76/88 (ibapi ticktype.py: DELAYED_BID=66 ... DELAYED_LAST_TIMESTAMP=88). Expectation: every
# quote/option hash and every pub/sub message carries data_type, equal to live (resp. delayed).
MODE=${1:-both}
if [ "$MODE" = both ]; then rc=0; bash "$0" live || rc=1; bash "$0" delayed || rc=1; exit $rc; fi
source "$(dirname "$0")/lib.sh"
echo "=== 04-data-type ib.market_data_type=$MODE"
start_redis $RP; start_ib
write_config "  - AAPL
  - MSFT
  - symbol: SPY
    primary_exchange: ARCA
    options:
      expirations: 1
      strikes_around_atm: 1" no $MODE 10 1 30
redis-cli -p $RP PSUBSCRIBE "$PFX:quote:*" "$PFX:option:*" >"$RUN/pubsub.txt" 2>&1 & PIDS+=($!)
sleep 0.5
start_worker
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived"
sleep 12
keys=$(R --scan --pattern "$PFX:quote:*"; R --scan --pattern "$PFX:option:*")
nk=0; bad=0
for k in $keys; do nk=$((nk+1)); dt=$(hget $k data_type); [ "$dt" = $MODE ] || { bad=$((bad+1)); echo "  $k data_type='$dt'"; }; done
[ $nk -ge 3 ] && [ $bad -eq 0 ] && pass "$nk hashes (quotes+options), all data_type=$MODE" || fail "$bad of $nk hashes lack data_type=$MODE"
nopt=$(echo "$keys" | grep -c ":option:"); info "option keys: $nopt"
grep '^{' $RUN/pubsub.txt > $RUN/msgs.json
nm=$(wc -l < $RUN/msgs.json)
nbad=$(grep -vc "\"data_type\":\"$MODE\"" $RUN/msgs.json)
[ $nm -gt 5 ] && [ "$nbad" = 0 ] && pass "$nm pub/sub messages, all data_type=$MODE" || { fail "$nbad of $nm pub/sub messages without data_type=$MODE"; grep -v "\"data_type\":\"$MODE\"" $RUN/msgs.json | head -3; }
# garbage check on values: no sentinels, no exponent, no empty, no -1
R --scan --pattern "$PFX:*" | grep -E ':(quote|option):' | while read k; do R HGETALL $k | paste - - ; done > $RUN/allfields.txt
g=$(awk -F'\t' '$2=="" || $2 ~ /[eE][+-]?[0-9]/ || $2=="-1" || $2 ~ /^(2147483647|9223372036854775807|1\.79769)/' $RUN/allfields.txt | grep -v '^symbol\|^source\|^data_type\|^right' | head -5)
[ -z "$g" ] && pass "no sentinel/empty/exponent values in any hash" || { fail "garbage values:"; echo "$g"; }
dump $PFX:quote:AAPL
finish
