#!/usr/bin/env bash
# Scenario 1: IB feed goes silent (socket up, heartbeats answered, reqMktData only acknowledged with
# TICK_REQ_PARAMS 81). Run twice: with an Alpha Vantage fallback (MODE=av) and without (MODE=noav).
# Expectation (IB docs: tickReqParams is returned "immediately after a market data request is made";
# it is not data): updated_ms never moves during the stall; within staleness+check+probe the key is
# flagged stale (noav) or switched to source=alphavantage (av); never source=ib & stale=0 while older
# than that bound.
MODE=${1:-both}
if [ "$MODE" = both ]; then
  rc=0; bash "$0" av || rc=1; bash "$0" noav || rc=1; exit $rc
fi
source "$(dirname "$0")/lib.sh"
echo "=== 01-stall MODE=$MODE"
ST=4; CI=1; PROBE=2; SLACK=3
BOUND=$((ST+CI+PROBE+SLACK))
start_redis $RP; start_ib
if [ "$MODE" = av ]; then start_av; write_config "  - AAPL
  - MSFT" yes live $ST $CI 8; else write_config "  - AAPL
  - MSFT" no live $ST $CI 8; fi
start_worker; start_events
K=$PFX:quote:AAPL
wait_for 40 field_is $K source ib || { fail "AAPL never arrived from IB"; finish; exit 1; }
sleep 3
T0=$(now_ms); ctl stall
log "stalled at redis ms $T0"
monitor $K $((BOUND+6)) $RUN/mon-stall.txt
dump $K $PFX:worker:$WID
echo "readyz during stall: $(readyz) $(cat $RUN/readyz.body)"
# analysis
awk -v t0=$T0 -v st=$ST -v ci=$CI -v bound=$BOUND -v mode=$MODE '
  { now=$1; src=$2; stale=$3; upd=$4;
    if (src=="ib" && upd+0 > t0+1500) restamp++;
    if (src=="ib" && stale=="0" && now-upd > bound*1000) silent++;
    if (first=="" && ((mode=="av" && src=="alphavantage") || (mode=="noav" && stale=="1"))) first=now-t0;
  }
  END { printf "restamp=%d silent=%d first=%s\n", restamp, silent, (first==""?"never":first) }' $RUN/mon-stall.txt | tee $RUN/analysis.txt
read -r A B C < $RUN/analysis.txt
restamp=${A#restamp=}; silent=${B#silent=}; first=${C#first=}
[ "$restamp" = 0 ] && pass "IB data never re-stamped (updated_ms) during stall" || fail "updated_ms re-stamped with source=ib during stall ($restamp samples)"
[ "$silent" = 0 ] && pass "never source=ib,stale=0 older than ${BOUND}s" || fail "silently stale: source=ib stale=0 older than ${BOUND}s in $silent samples"
if [ "$first" = never ]; then fail "no stale flag / failover within $((BOUND+6))s of stall"
elif [ "$first" -le $((BOUND*1000)) ]; then pass "flagged/failed over after ${first} ms (bound ${BOUND}s = staleness $ST + check $CI + probe ~$PROBE + slack $SLACK)"
else fail "flagged/failed over only after ${first} ms (> ${BOUND}s)"; fi
if [ "$MODE" = av ]; then
  dt=$(hget $K data_type); [ "$dt" = alphavantage_realtime ] && pass "failover data_type=$dt" || fail "failover data_type=$dt"
  for f in bid_size ask_size last_size; do [ -z "$(hget $K $f)" ] || info "$f=$(hget $K $f) present on AV record"; done
  st=$(hget $PFX:worker:$WID state); [ "$st" = failover ] && pass "worker state=failover" || fail "worker state=$st during AV failover"
  grep -q '"type":"failover"' $RUN/events.txt && pass "failover event published" || fail "no failover event"
  ctl resume
  T1=$(now_ms)
  wait_for 40 field_is $K source ib && pass "failback to ib after $(( $(now_ms)-T1 )) ms (failback_stable 8s)" || fail "no failback within 40s of resume"
else
  st=$(hget $PFX:worker:$WID state); [ "$st" = degraded ] && pass "worker state=degraded (no fallback)" || fail "worker state=$st with stalled feed and no fallback"
  [ "$(hget $K stale)" = 1 ] && pass "key still flagged stale at end" || fail "key not stale at end: stale=$(hget $K stale)"
  grep -q '"type":"stale"' $RUN/events.txt && pass "stale event published" || fail "no stale event"
  rz=$(readyz); [ "$rz" = 503 ] && pass "readyz 503 while nothing flows: $(cat $RUN/readyz.body)" || fail "readyz $rz while no source delivers: $(cat $RUN/readyz.body)"
  ctl resume
  wait_for 30 field_is $K stale 0 && pass "stale cleared after resume" || fail "stale not cleared 30s after resume"
fi
finish
