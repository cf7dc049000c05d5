#!/usr/bin/env bash
# Scenario 7: the worker's wall clock 90 s off Redis' (faketime, monotonic clock not faked).
# Expectation (README "Clocks"; CONTRACT: P:worker TTL 3 x heartbeat, stale judged by staleness.lua
# with Redis TIME): the status hash exists; streaming data is stale=0; a stalled feed is still flagged
# within staleness + check + probe; report how far updated_ms (reader-visible) is from Redis' clock.
MODE=${1:-both}
if [ "$MODE" = both ]; then rc=0; bash "$0" -90s || rc=1; bash "$0" +90s || rc=1; exit $rc; fi
source "$(dirname "$0")/lib.sh"
echo "=== 07-clock-skew worker clock $MODE"
command -v faketime >/dev/null || { echo "faketime missing: apt-get install -y faketime"; exit 3; }
export FAKETIME_DONT_FAKE_MONOTONIC=1
ST=4; CI=1; BOUND=$((ST+CI+2+3))
start_redis $RP; start_ib
write_config "  - AAPL
  - MSFT" no live $ST $CI 10
start_worker faketime -f "$MODE"
start_events
K=$PFX:quote:AAPL
wait_for 40 field_is $K source ib || { fail "AAPL never arrived"; tail -5 $RUN/worker.log; finish; exit 1; }
log "worker log clock: $(grep -m1 -o '^[0-9T:.-]*Z' $RUN/worker.log)  (real: $(date -u +%H:%M:%S))"
sleep 6
W=$PFX:worker:$WID
present=0; for i in $(seq 1 10); do [ "$(R EXISTS $W)" = 1 ] && present=$((present+1)); sleep 0.3; done
[ $present -ge 9 ] && pass "status hash present in $present/10 samples (TTL $(R PTTL $W) ms)" || fail "status hash present in only $present/10 samples (PTTL now $(R PTTL $W))"
monitor $K 6 $RUN/mon-fresh.txt
nstale=$(awk '$3=="1"' $RUN/mon-fresh.txt | wc -l)
[ "$nstale" = 0 ] && pass "streaming data never flagged stale (6 s)" || fail "streaming data flagged stale in $nstale samples"
skew=$(awk '{d=$1-$4} END{print d}' $RUN/mon-fresh.txt)
sc=$(R ZSCORE $PFX:updated quote:AAPL | cut -d. -f1); now=$(now_ms)
info "reader-visible updated_ms is $skew ms behind Redis TIME; P:updated score is $((now-sc)) ms behind"
[ ${skew#-} -lt 5000 ] && info "updated_ms within 5 s of Redis' clock" || info "NOTE (documented: updated_ms is the worker's wall clock): updated_ms is ${skew} ms off Redis' clock; a reader computing age from updated_ms is misled; use stale / P:updated"
ttl=$(R PTTL $K); info "quote PTTL=$ttl (configured 120000)"
[ "$ttl" -gt 100000 ] && pass "quote TTL intact" || fail "quote PTTL $ttl"
echo "--- quote-relay status:"; $BIN/quote-relay status --redis-url redis://127.0.0.1:$RP/0 --prefix $PFX 2>&1 | head -12
T0=$(now_ms); ctl stall
monitor $K $((BOUND+4)) $RUN/mon-stall.txt
first=$(awk -v t0=$T0 '$3=="1"{print $1-t0; exit}' $RUN/mon-stall.txt)
[ -n "$first" ] && [ "$first" -le $((BOUND*1000)) ] && pass "stalled feed flagged stale after $first ms (bound ${BOUND}s)" || fail "stalled feed flagged stale after '${first:-never}' ms (bound ${BOUND}s)"
if [ -z "$first" ]; then
  log "not flagged within bound; watching up to 100 s more to see when (if ever) it is"
  monitor $K 100 $RUN/mon-stall-long.txt
  late=$(awk -v t0=$T0 '$3=="1"{print $1-t0; exit}' $RUN/mon-stall-long.txt)
  info "stalled feed first flagged stale after ${late:-never (>110 s)} ms; worker state=$(hget $W state) readyz=$(readyz) $(cat $RUN/readyz.body)"
  grep -m3 '"type":"stale"\|"type":"failover"' $RUN/events.txt
fi
restamp=$(awk -v t0=$T0 '$2=="ib" && $4+0 > t0+1500 + 0' $RUN/mon-stall.txt | wc -l)
info "(updated_ms re-stamp check skipped for skewed clock: $restamp samples above T0 on the skewed scale)"
[ "$(R EXISTS $W)" = 1 ] && pass "status hash present during stall: state=$(hget $W state)" || fail "status hash absent during stall"
finish
