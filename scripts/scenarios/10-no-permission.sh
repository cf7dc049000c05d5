#!/usr/bin/env bash
# Scenario 10 (extra): no market data permission for a symbol (simulator --no-permission: error 354).
# IB message codes: 354 "Requested market data is not subscribed" - the request is rejected, no data.
# With reqMarketDataType(3) a real gateway serves delayed data instead (warning 10167 + delayed tick
# types 66-76). Expectation: live mode -> AAPL in problems, failed over to Alpha Vantage (same US
# stock) or flagged stale, never IB data labelled live; delayed mode -> AAPL either delayed-labelled
# IB data or problems/failover; MSFT unaffected in both.
MODE=${1:-both}
if [ "$MODE" = both ]; then rc=0; bash "$0" live || rc=1; bash "$0" delayed || rc=1; exit $rc; fi
source "$(dirname "$0")/lib.sh"
echo "=== 10 no-permission AAPL, ib.market_data_type=$MODE"
start_redis $RP; start_ib --no-permission AAPL; start_av
write_config "  - AAPL
  - MSFT" yes $MODE 4 1 10
start_worker; start_events
wait_for 40 field_is $PFX:quote:MSFT source ib || fail "MSFT never arrived"
sleep 10
dump $PFX:quote:AAPL
K=$PFX:quote:AAPL; src=$(hget $K source); dt=$(hget $K data_type); stl=$(hget $K stale)
prob=$(hget $PFX:worker:$WID problems); info "problems: $prob"
grep -o '{"type":"ib_error"[^}]*"code":354[^}]*}' $RUN/events.txt | head -2
if [ "$src" = ib ]; then
  [ "$dt" != live ] && pass "AAPL from IB labelled $dt (not live)" || fail "AAPL from IB labelled live although IB refused live data (354)"
elif [ "$src" = alphavantage ]; then pass "AAPL served by Alpha Vantage ($dt)"
else [ "$(R EXISTS $K)" = 0 ] && info "AAPL key absent" ; fi
case "$prob" in *AAPL*) pass "AAPL in problems";; *) [ "$src" = ib ] && info "AAPL not in problems (served from IB as $dt)" || fail "AAPL not in problems";; esac
[ "$(hget $PFX:quote:MSFT source)" = ib ] && [ "$(hget $PFX:quote:MSFT stale)" = 0 ] && pass "MSFT unaffected (ib, fresh, data_type=$(hget $PFX:quote:MSFT data_type))" || fail "MSFT source=$(hget $PFX:quote:MSFT source) stale=$(hget $PFX:quote:MSFT stale)"
finish
