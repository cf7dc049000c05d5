#!/usr/bin/env bash
# Scenario 9 (extra): IB stalls and the fallback cannot deliver (Alpha Vantage answers with its
# throttle note "Thank you for using Alpha Vantage! ... call frequency", or malformed JSON).
# Option keys (no AV options configured) must go stale as well.
# Expectation: every key is flagged stale within staleness+check+probe (+AV timeout); nothing from
# the AV error body lands as data; never source=ib,stale=0 older than the bound.
AVMODE=${1:-both}
if [ "$AVMODE" = both ]; then rc=0; bash "$0" throttle || rc=1; bash "$0" malformed || rc=1; exit $rc; fi
source "$(dirname "$0")/lib.sh"
echo "=== 09 stall with Alpha Vantage mode=$AVMODE"
ST=4; CI=1; BOUND=$((ST+CI+2+3))
start_redis $RP; start_ib; start_av --mode $AVMODE
write_config "  - AAPL
  - symbol: SPY
    primary_exchange: ARCA
    options:
      expirations: 1
      strikes_around_atm: 1" yes live $ST $CI 8
start_worker; start_events
K=$PFX:quote:AAPL
wait_for 40 field_is $K source ib || { fail "AAPL never arrived"; finish; exit 1; }
sleep 6
T0=$(now_ms); ctl stall
monitor $K $((BOUND+4)) $RUN/mon.txt
first=$(awk -v t0=$T0 '$3=="1"{print $1-t0; exit}' $RUN/mon.txt)
silent=$(awk -v b=$BOUND '$3=="0" && $1-$4 > b*1000' $RUN/mon.txt | wc -l)
[ -n "$first" ] && [ "$first" -le $((BOUND*1000)) ] && pass "AAPL flagged stale after $first ms" || fail "AAPL not flagged stale within ${BOUND}s (first=${first:-never}); now source=$(hget $K source) stale=$(hget $K stale)"
[ "$silent" = 0 ] && pass "never silently stale" || fail "silently stale (stale=0, older than ${BOUND}s) in $silent samples"
srcs=$(awk '{print $2}' $RUN/mon.txt | sort -u | tr '\n' ' '); info "sources seen: $srcs"
now=$(now_ms); nopt=0; nbad=0
for k in $(R --scan --pattern "$PFX:option:*"); do nopt=$((nopt+1)); s=$(hget $k stale); u=$(hget $k updated_ms); [ "$s" = 1 ] || { nbad=$((nbad+1)); echo "  $k stale=$s age=$((now-u))"; }; done
[ $nopt -gt 0 ] && [ $nbad = 0 ] && pass "all $nopt option keys flagged stale" || fail "$nbad of $nopt option keys not stale"
st=$(hget $PFX:worker:$WID state); info "worker state=$st symbols_stale_no_fallback=$(hget $PFX:worker:$WID symbols_stale_no_fallback) failover_reason=$(hget $PFX:worker:$WID failover_reason | cut -c1-150)"
rz=$(readyz); [ "$rz" = 503 ] && pass "/readyz 503: $(cat $RUN/readyz.body)" || fail "/readyz $rz $(cat $RUN/readyz.body) while nothing delivers"
dump $K
finish
