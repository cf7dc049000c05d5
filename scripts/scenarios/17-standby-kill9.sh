#!/usr/bin/env bash
# Scenario 17: a standby pair (README "A standby pair"); kill -9 of the active worker.
# Expected: one active (lease P:group:g:lease = its owner token WORKER_ID#RANDOM), the other `standby`
# with a warm session and NO market data lines at the gateway; after kill -9 of the active one the
# standby holds the lease within TTL + one renew interval (+ a round trip), subscribes everything and
# writes; `seq` never goes backwards; status hashes show role and lease_holder; an application's
# runtime lease is served again by the new worker from scratch; the final state equals the gateway's
# last values (simulator `quiet`, then compare with `last CLIENT SYMBOL`).
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 17-standby-kill9"
TTL=${TTL:-3}; RENEW=${RENEW:-1}
start_redis $RP; start_ib
write_config "  - AAPL
  - SPY" no live 30 1 30
lease_config 5 30; pair_configs $TTL $RENEW
start_worker; WPIDA=$WPID; start_events
wait_for 30 holder_is sk-a && pass "sk-a holds the lease" || fail "lease holder '$(holder)'"
start_worker_b
wait_for 30 field_is $PFX:worker:sk-b role standby && pass "sk-b standby" || fail "sk-b role=$(hget $PFX:worker:sk-b role)"
wait_for 15 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived"
keep(){ while :; do lease app1 MSFT 30; sleep 1; done; }; keep & PIDS+=($!)
wait_for 15 state_is app1 MSFT active && pass "app1|MSFT active under sk-a" || fail "app1|MSFT state=$(rstate app1 MSFT)"
sleep 3
dump $PFX:worker:sk-a $PFX:worker:sk-b | grep -E 'HGETALL|state|role|group|lease_holder|lease_ttl_ms|client_id|symbols'
[ "$(hget $PFX:worker:sk-a role)" = active ] && pass "sk-a role active" || fail "sk-a role=$(hget $PFX:worker:sk-a role)"
[ "$(hget $PFX:worker:sk-b lease_holder)" = sk-a ] && pass "sk-b sees lease_holder sk-a" || fail "sk-b lease_holder=$(hget $PFX:worker:sk-b lease_holder)"
[ "$(hget $PFX:worker:sk-b state)" = connected ] && pass "standby sk-b connected (warm session)" || fail "sk-b state=$(hget $PFX:worker:sk-b state)"
n=$(sim_lines); [ "$n" = 3 ] && pass "gateway holds 3 lines (AAPL SPY MSFT of sk-a; none for the standby)" || fail "gateway holds $n lines, expected 3"
rb=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$RP2/readyz); [ "$rb" = 503 ] && pass "standby /readyz 503" || fail "standby /readyz $rb"
info "quote-relay status: $($BIN/quote-relay status --redis-url redis://127.0.0.1:$RP/0 --prefix $PFX 2>&1 | grep -i -e group -e sk- | head -5 | tr '\n' '|')"
# seq/source monitor on the pinned key and the leased key
mon(){ R SUBSCRIBE $PFX:quote:AAPL $PFX:quote:MSFT >"$RUN/pubsub.txt" 2>&1; }; mon & PIDS+=($!)
sleep 1
T0=$(date +%s%N); kill -9 $WPIDA
while ! holder_is sk-b; do sleep 0.05; [ $(( ($(date +%s%N) - T0)/1000000 )) -gt 15000 ] && break; done
dt=$(( ($(date +%s%N) - T0)/1000000 )); bound=$(python3 -c "print(int(($TTL+$RENEW)*1000+500))")
holder_is sk-b && [ $dt -le $bound ] && pass "sk-b holds the lease ${dt} ms after kill -9 (bound TTL+renew+500 ms = $bound ms)" || fail "lease holder '$(holder)' ${dt} ms after kill -9 (bound $bound ms)"
s0=$(hget $PFX:quote:AAPL seq)
wait_for 10 field_not $PFX:quote:AAPL seq "$s0" && pass "AAPL written again $(( ($(date +%s%N) - T0)/1000000 )) ms after the kill" || fail "AAPL not written again (seq $s0)"
wait_for 15 state_is app1 MSFT active && pass "app1|MSFT active again under sk-b" || fail "app1|MSFT state=$(rstate app1 MSFT) after takeover"
wait_for 10 field_is $PFX:worker:sk-b role active && pass "sk-b role active" || fail "sk-b role=$(hget $PFX:worker:sk-b role)"
wait_for 10 field_is $PFX:worker:sk-b lease_holder sk-b && pass "sk-b lease_holder sk-b" || fail "sk-b lease_holder=$(hget $PFX:worker:sk-b lease_holder)"
sleep 3
n=$(sim_lines); [ "$n" = 3 ] && pass "gateway holds 3 lines after takeover (sk-a's dropped with its socket, sk-b's 3)" || fail "gateway holds $n lines after takeover, expected 3"
# seq never goes backwards on either key
python3 - "$RUN/pubsub.txt" <<'PY' && pass "seq strictly increasing on AAPL and MSFT across the takeover" || fail "seq went backwards (see above)"
import sys, json
lines=open(sys.argv[1]).read().split("\n"); last={}; bad=0; n=0
for i,l in enumerate(lines):
    if l.startswith("{"):
        d=json.loads(l); k=d["key"]; s=d["seq"]; n+=1
        if k in last and s<=last[k]: print("  seq", last[k], "->", s, "on", k); bad+=1
        last[k]=s
        if d.get("source")!="ib": print("  source", d.get("source"), "on", k); bad+=1
print("  ", n, "messages checked"); sys.exit(1 if bad or n==0 else 0)
PY
ctl quiet; sleep 2
for s in AAPL SPY MSFT; do
  simv=$(sim_last 41 $s); rb=$(hget $PFX:quote:$s bid); ra=$(hget $PFX:quote:$s ask)
  sb=$(echo "$simv" | grep -o ' 1=[0-9.]*' | cut -d= -f2); sa=$(echo "$simv" | grep -o ' 2=[0-9.]*' | cut -d= -f2)
  awk -v a="$rb" -v b="$sb" -v c="$ra" -v d="$sa" 'BEGIN{exit !(a+0==b+0 && c+0==d+0)}' && pass "$s final bid/ask $rb/$ra = gateway's last to client 41" || fail "$s Redis bid/ask $rb/$ra vs gateway's last to client 41: $sb/$sa"
done
grep -o '{"type":"role"[^}]*}' "$RUN/events.txt" | head -5
finish
