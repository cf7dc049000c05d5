#!/usr/bin/env bash
# Scenario 24: what Alpha Vantage's CURRENCY_EXCHANGE_RATE may answer while EUR.USD is failed over.
# README "FX failover": "An answer naming another pair, a crossed bid/ask or a rate that is not positive
# is refused, never written; error, throttle (`Note` / `Information`) ... are handled as on GLOBAL_QUOTE";
# CONTRACT §3: an unknown value is an ABSENT field, never "" or a sentinel. Real Alpha Vantage answers
# "-" for a bid/ask it does not have. A scriptable stand-in (fake-av.py) gives those answers.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 24-fx-av-answers"
echo ok >"$RUN/avmode"
python3 "$SK/scripts/scenarios/fake-av.py" $AVP "$RUN/avmode" >"$RUN/av.log" 2>&1 & PIDS+=($!); sleep 1
start_redis $RP; start_ib
write_config "  - {symbol: EUR.USD, sec_type: CASH}" yes live 3 1 30
sed -i 's/^  options: false$/  options: false\n  fx: true/' "$RUN/cfg.yaml"
start_worker; start_events
K=$PFX:quote:EUR.USD
wait_for 40 field_is $K source ib || fail "EUR.USD never arrived from IB"
R SUBSCRIBE $K >"$RUN/pubsub.txt" 2>&1 & PIDS+=($!)
ctl stall
wait_for 25 field_is $K source alphavantage && pass "EUR.USD on Alpha Vantage" || fail "EUR.USD source=$(hget $K source)"
sleep 2
mode(){ echo "$1" >"$RUN/avmode"; local s0; s0=$(hget $K seq); sleep ${2:-6}; info "mode $1: seq $s0 -> $(hget $K seq), bid/ask/last $(R HMGET $K bid ask last | paste -sd/) stale $(hget $K stale)"; }
mode dash; mode ok 4; mode otherpair; mode crossed; mode zero; mode note 4
echo ok >"$RUN/avmode"; s0=$(hget $K seq); T=$SECONDS
wait_for 120 field_not $K seq "$s0" && info "Alpha Vantage answers again: written $((SECONDS-T)) s after the mode went back to ok" || fail "EUR.USD not written for 120 s after Alpha Vantage answers well again (seq $s0)"
python3 - "$RUN/pubsub.txt" <<'PY' && pass "every record published was EUR.USD's, bid <= ask, rate > 0, no '-' or empty values" || fail "a record with another pair's rate or garbage was published (see above)"
import sys, json
bad=0; n=0
for l in open(sys.argv[1]):
    if not l.startswith("{"): continue
    try: d=json.loads(l)
    except ValueError: print("    invalid JSON (scenario 25):", l.strip()[:200]); continue
    n+=1
    if d.get("source")!="alphavantage": continue
    for k,v in d.items():
        if v in ("-", "", None): print("   ", k, "=", repr(v), "seq", d.get("seq")); bad+=1
    b,a,last=d.get("bid"),d.get("ask"),d.get("last")
    if isinstance(last,(int,float)) and not (1.0<last<1.2): print("    last", last, "seq", d.get("seq"), "(GBP/USD is 1.269, EUR/USD 1.086)"); bad+=1
    if isinstance(b,(int,float)) and isinstance(a,(int,float)) and b>a: print("    crossed", b, a, "seq", d.get("seq")); bad+=1
    if isinstance(b,(int,float)) and not (1.0<b<1.2): print("    bid", b, "seq", d.get("seq")); bad+=1
print("   ", n, "records"); sys.exit(1 if bad else 0)
PY
dump $K
info "fake AV served: $(curl -s http://127.0.0.1:$AVP/_stats)"
info "metrics: $(curl -s http://127.0.0.1:$HP/metrics | grep -E 'alphavantage_errors_total\{kind="(throttled|malformed|invalid_call|empty_result)"\}' | tr '\n' ' ')"
info "log: $(grep -i 'refus\|rejected\|another pair\|crossed' $RUN/worker.log | head -5 | cut -c1-220 | tr '\n' '|')"
finish
