#!/usr/bin/env bash
# Scenario 25: every message on a key's channel is the full record as valid JSON, including the one
# published when the `stale` flag changes. CONTRACT §3 "Pub/sub": "Every write of a data key publishes the
# full new record as JSON"; README extensions: "A stale flag change is a write: seq grows by one and the
# full record is published on the key's own channel"; the identity fields of non-stock records
# (sec_type, local_symbol, currency, contract_month; trading_class on options) are strings. The README's
# own redis-py example does json.loads(msg["data"]) on every message.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 25-stale-json"
start_redis $RP; start_ib
write_config "  - AAPL
  - {symbol: SPX, sec_type: IND, exchange: CBOE, options: {expirations: 1, strikes_around_atm: 1}}
  - {symbol: ES, sec_type: FUT, exchange: CME, last_trade_date_or_contract_month: 202612}
  - {symbol: EUR.USD, sec_type: CASH}" no live 3 1 30
R PSUBSCRIBE "$PFX:quote:*" "$PFX:option:*" >"$RUN/ps.txt" 2>&1 & PIDS+=($!)
start_worker
wait_for 40 field_is $PFX:quote:EUR.USD source ib || fail "EUR.USD never arrived"
sleep 4; ctl stall; sleep 8; ctl resume; sleep 6
python3 - "$RUN/ps.txt" <<'PY' && pass "every published record is valid JSON (stale flips included)" || fail "invalid JSON published (see above)"
import sys, json, collections
bad=collections.Counter(); ex={}; n=0; flips=0
for l in open(sys.argv[1]):
    if not l.startswith("{"): continue
    n+=1
    try:
        d=json.loads(l)
        if d.get("stale")==1: flips+=1
    except Exception as e:
        k=l.split('"key":"')[1].split('"')[0] if '"key":"' in l else "?"
        bad[k.split(":")[1]]+=1; ex.setdefault(k.split(":")[1], l.strip()[:260])
print("   ", n, "messages,", flips, "valid stale=1 records; invalid by kind:", dict(bad))
for k,v in ex.items(): print("   ", v)
sys.exit(1 if bad or n==0 else 0)
PY
finish
