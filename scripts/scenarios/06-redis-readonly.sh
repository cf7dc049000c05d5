#!/usr/bin/env bash
# Scenario 6: Redis refuses writes. The worker's Redis is made a replica of another, empty Redis for
# ~6 s (REPLICAOF: it drops its dataset on full sync and answers writes with READONLY), then promoted
# back (REPLICAOF NO ONE). The IB feed is stalled half-way so the "latest value" is fixed and can be
# compared with what the gateway last sent (control port: sent CLIENT REQ).
# Expectation: /readyz 503 with a READONLY reason during; afterwards every key (quotes, status hash,
# freshness index) is back, holding exactly the gateway's latest values, and /readyz 200.
source "$(dirname "$0")/lib.sh"
echo "=== 06-redis-readonly"
start_redis $RP; start_redis $RP2; start_ib
write_config "  - AAPL
  - MSFT
  - SPY" no live 30 1 10
start_worker; start_events
for s in AAPL MSFT SPY; do wait_for 40 field_is $PFX:quote:$s source ib || fail "$s never arrived"; done
sleep 2
R HGET $PFX:quote:AAPL seq > $RUN/seq0
log "REPLICAOF -> $(R REPLICAOF 127.0.0.1 $RP2)"
: > $RUN/readyz-during.txt
for i in $(seq 1 8); do echo "$(readyz) $(cat $RUN/readyz.body)" >> $RUN/readyz-during.txt; sleep 0.4; done
ctl stall   # fix the latest values while Redis still refuses writes
for i in $(seq 1 6); do echo "$(readyz) $(cat $RUN/readyz.body)" >> $RUN/readyz-during.txt; sleep 0.4; done
info "keys while replica: $(R DBSIZE)  role: $(R ROLE | head -1)"
sort $RP/dev/null 2>/dev/null; sort $RUN/readyz-during.txt | uniq -c
grep -q '^503.*READONLY' $RUN/readyz-during.txt && pass "/readyz 503 naming READONLY while writes refused" || fail "/readyz never 503/READONLY during refusal"
info "first 3 samples (<~1.5 s after REPLICAOF: detection window, the worker learns of READONLY from its next write): $(head -3 $RUN/readyz-during.txt | cut -c1-3 | tr '\n' ' ')"
tail -n +4 $RUN/readyz-during.txt | grep -q '^200' && fail "/readyz answered 200 later than 1.5 s into the refusal" || pass "/readyz never 200 after the 1.5 s detection window"
log "REPLICAOF NO ONE -> $(R REPLICAOF NO ONE)"
T1=$(now_ms)
wait_for 20 bash -c "[ \"\$(redis-cli -p $RP EXISTS $PFX:quote:AAPL $PFX:quote:MSFT $PFX:quote:SPY $PFX:worker:$WID)\" = 4 ]" && pass "all quote keys + status hash back $(( $(now_ms)-T1 )) ms after promotion" || fail "keys missing 20 s after promotion: $(R KEYS "$PFX:*" | tr '\n' ' ')"
sleep 3
dump $PFX:quote:AAPL $PFX:worker:$WID
# what the gateway last sent on each line
: > $RUN/sent.txt
for rid in $(seq 1 40); do o=$(exec 3<>/dev/tcp/127.0.0.1/$CTL; echo "sent 31 $rid" >&3; timeout 2 head -1 <&3); [ "$o" != OK ] && echo "$rid $o" >> $RUN/sent.txt; done
cat $RUN/sent.txt | cut -c1-200
for s in AAPL MSFT SPY; do
  K=$PFX:quote:$s; b=$(hget $K bid); a=$(hget $K ask); l=$(hget $K last)
  m=$(awk -v b="$b" -v a="$a" -v l="$l" '{bb="";aa="";ll=""; for(i=2;i<=NF;i++){split($i,kv,"="); if(kv[1]=="1")bb=kv[2]; if(kv[1]=="2")aa=kv[2]; if(kv[1]=="4")ll=kv[2]} if(bb+0==b+0 && aa+0==a+0 && ll+0==l+0) print $1}' $RUN/sent.txt | head -1)
  [ -n "$m" ] && pass "$s holds the gateway's latest bid/ask/last ($b/$a/$l, req $m)" || fail "$s bid/ask/last $b/$a/$l is not the gateway's latest"
done
n=$(R ZCARD $PFX:updated); [ "$n" -ge 3 ] && pass "freshness index $PFX:updated rebuilt ($n members)" || fail "$PFX:updated has $n members after promotion"
rz=$(readyz); info "readyz after: $rz $(cat $RUN/readyz.body) (IB is stalled, but data < staleness 30 s)"
[ "$rz" = 200 ] && pass "/readyz 200 after promotion" || fail "/readyz $rz after promotion"
grep -i 'readonly\|refus' $RUN/worker.log | head -4
seqnow=$(hget $PFX:quote:AAPL seq); info "AAPL seq before=$(cat $RUN/seq0) after=$seqnow (dataset was wiped by the sync)"
finish
