#!/usr/bin/env bash
# Scenario 16: the README's ways to lease, run as written: `quote-relay subscribe|unsubscribe|subscriptions`
# (README "Commands": subscribe checks the spec first, exit 2 when malformed; unsubscribe exits 1 when
# there was no lease; Redis and prefix as for `status`: flags, else --config / REDIS_URL /
# REDIS_KEY_PREFIX) and the redis-py example of "From Python (redis-py)" (only the port changed).
# Needs redis-py: PY=/path/to/python with `redis` (default python3).
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
PFX=mkt   # the README's examples use the default prefix
PY=${PY:-python3}
echo "=== 16-lease-cli-python"
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 20; lease_config 5 30
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
Q="$BIN/quote-relay"; U="--redis-url redis://127.0.0.1:$RP/0"
out=$($Q subscribe $U --requester cli1 --ttl 60 --priority 5 MSFT 2>&1); rc=$?
[ $rc = 0 ] && pass "subscribe exit 0: $out" || fail "subscribe exit $rc: $out"
sc=$(R ZSCORE $PFX:leases 'cli1|MSFT'); now=$(now_ms); d=$(( ${sc%.*} - now ))
[ $d -gt 55000 ] && [ $d -le 60000 ] && pass "lease expiry = Redis' now + ${d} ms" || fail "lease score $sc, now $now (diff $d, expected ~60000)"
[ "$(R ZSCORE $PFX:leases:priority 'cli1|MSFT')" = 5 ] && pass "priority 5 written" || fail "priority=$(R ZSCORE $PFX:leases:priority 'cli1|MSFT')"
wait_for 10 state_is cli1 MSFT active && pass "cli1|MSFT active" || fail "cli1|MSFT state=$(rstate cli1 MSFT)"
for bad in 'FOO:BAR' 'STK:' 'CASH:EURUSD' 'SPY#options=2x5x1' 'SPY#options=50x5'; do
  out=$($Q subscribe $U --requester cli1 "$bad" 2>&1); rc=$?
  [ $rc = 2 ] && pass "subscribe '$bad' exit 2: $out" || fail "subscribe '$bad' exit $rc (expected 2): $out"
  [ -z "$(R ZSCORE $PFX:leases "cli1|$bad")" ] && pass "'$bad' not written" || fail "'$bad' written to $PFX:leases although refused"
done
out=$($Q subscribe $U --requester 'bad name' MSFT 2>&1); rc=$?
[ $rc != 0 ] && pass "subscribe with requester 'bad name' refused (exit $rc): $out" || fail "subscribe with an invalid requester exit 0 (the worker will drop it): $out; leases: $(R ZRANGE $PFX:leases 0 -1 | tr '\n' ' ')"
out=$(REDIS_URL=redis://127.0.0.1:$RP/0 REDIS_KEY_PREFIX=$PFX $Q subscriptions 2>&1); rc=$?
echo "$out" | sed 's/^/    /'
echo "$out" | grep -q 'cli1 .*MSFT .*active' && pass "subscriptions (REDIS_URL/REDIS_KEY_PREFIX) shows cli1 MSFT active" || fail "subscriptions output (exit $rc) lacks cli1 MSFT active"
out=$($Q subscriptions --config "$RUN/cfg.yaml" 2>&1); echo "$out" | grep -q 'cli1 .*MSFT' && pass "subscriptions --config finds the worker's Redis" || fail "subscriptions --config: $out"
out=$($Q unsubscribe $U --requester cli1 MSFT 2>&1); rc=$?
[ $rc = 0 ] && pass "unsubscribe exit 0" || fail "unsubscribe exit $rc: $out"
out=$($Q unsubscribe $U --requester cli1 MSFT 2>&1); rc=$?
[ $rc = 1 ] && pass "unsubscribe again exit 1: $out" || fail "unsubscribe of a lease that is gone: exit $rc (expected 1): $out"
sleep 2; L1=$(sim_lines); sleep 6; L2=$(sim_lines)
[ "$L1" = 2 ] && [ "$L2" = 1 ] && pass "after unsubscribe MSFT's line kept through the grace (2 s: $L1 lines) and released after it (8 s: $L2)" || fail "lines 2 s after unsubscribe: $L1 (expected 2: AAPL+MSFT, grace 5 s), 8 s after: $L2 (expected 1)"
out=$($Q subscribe $U QQQ 2>&1); rc=$?; info "subscribe without --requester/--ttl: exit $rc: $out; leases now: $(R ZRANGE $PFX:leases 0 -1 WITHSCORES | paste -sd' ')"
# --- the README's Python example, as written (port added)
if ! $PY -c 'import redis' 2>/dev/null; then fail "no redis-py for $PY (set PY=...)"; finish; exit; fi
awk '/^### From Python \(redis-py\)/{f=1} f&&/^```python/{g=1;next} g&&/^```/{exit} g' "$SK/README.md" >"$RUN/example.py"
sed -i "s/redis.Redis(decode_responses=True)/redis.Redis(port=$RP, decode_responses=True)/" "$RUN/example.py"
grep -q "port=$RP" "$RUN/example.py" || fail "README example changed: no 'redis.Redis(decode_responses=True)' line"
timeout 60 $PY "$RUN/example.py" >"$RUN/example.out" 2>&1; rc=$?
head -c 600 "$RUN/example.out"; echo
[ $rc = 0 ] && pass "README Python example exits 0" || fail "README Python example exit $rc"
head -1 "$RUN/example.out" | grep -q "'source': 'ib'" && pass "example printed the current quote" || fail "example's first line is not the quote"
nl=$(grep -cE '^[0-9]+(\.[0-9]+)?$' "$RUN/example.out"); [ $nl -ge 5 ] && pass "example printed $nl 'last' values from pub/sub" || fail "example printed $nl numeric 'last' values (None lines: $(grep -c None $RUN/example.out))"
# after the example stops refreshing, the lease lapses (TTL 30 s) and the line is released after the grace
sc=$(R ZSCORE $PFX:leases 'myapp|MSFT'); left=$(( ${sc%.*} - $(now_ms) )); info "myapp|MSFT lease expires in $left ms"
finish
