#!/usr/bin/env bash
# Scenario 19: an FX pair (CASH on IDEALPRO) fails over to Alpha Vantage's CURRENCY_EXCHANGE_RATE and back.
# README "FX failover" (alphavantage.fx: true): the pair's own key gets source=alphavantage,
# data_type=alphavantage_realtime, bid ("8. Bid Price"), ask ("9. Ask Price"), last ("5. Exchange Rate",
# only while on Alpha Vantage), last_trade_ms ("6. Last Refreshed" in "7. Time Zone"), the identity fields
# (sec_type=CASH, currency, local_symbol, con_id); no sizes, volume or open/high/low/close. On failback IB's
# record replaces it (`last` disappears). IB side: IDEALPRO quotes bid/ask with sizes, no last/volume.
# Phase A: pinned EUR.USD + a leased CASH:GBP.USD, fx on. Phase B: fx off -> stale=1, never filled,
# symbols_stale_no_fallback says why.
MODE=${1:-both}
if [ "$MODE" = both ]; then rc=0; bash "$0" A || rc=1; bash "$0" B || rc=1; exit $rc; fi
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 19-fx-failover phase $MODE"
start_redis $RP; start_ib; start_av
write_config "  - AAPL
  - {symbol: EUR.USD, sec_type: CASH}" yes live 3 1 5
set_lines 20; lease_config 5 30
K=$PFX:quote:EUR.USD
if [ "$MODE" = B ]; then
  sed -i 's/^  options: false$/  options: false\n  fx: false/' "$RUN/cfg.yaml"
  start_worker; start_events
  wait_for 40 field_is $K source ib || fail "EUR.USD never arrived from IB"
  b0=$(hget $K bid); ctl stall
  wait_for 20 field_is $K stale 1 && pass "fx off: EUR.USD flagged stale=1" || fail "fx off: stale=$(hget $K stale) source=$(hget $K source)"
  wait_for 10 field_is $PFX:quote:AAPL source alphavantage || info "AAPL source=$(hget $PFX:quote:AAPL source)"
  [ "$(hget $K source)" = ib ] && pass "fx off: EUR.USD keeps IB's last values (source ib)" || fail "fx off: source=$(hget $K source)"
  nfb(){ case "$(hget $PFX:worker:$WID symbols_stale_no_fallback)" in *EUR.USD*) return 0;; esac; return 1; }
  wait_for 10 nfb; nf=$(hget $PFX:worker:$WID symbols_stale_no_fallback); case "$nf" in *EUR.USD*alphavantage.fx*) pass "symbols_stale_no_fallback: $nf";; *) fail "symbols_stale_no_fallback='$nf'";; esac
  [ -z "$nf" ] && dump $PFX:worker:$WID
  flick=0; for i in $(seq 12); do nfb || flick=$((flick+1)); sleep 0.5; done
  [ $flick = 0 ] && pass "symbols_stale_no_fallback stays (12 samples)" || fail "symbols_stale_no_fallback missing in $flick of 12 samples over 6 s while EUR.USD stays stale"
  [ "$(curl -s http://127.0.0.1:$AVP/_stats | grep -o 'CURRENCY_EXCHANGE_RATE[^,]*' | head -1)" = "" ] || info "AV stats: $(curl -s http://127.0.0.1:$AVP/_stats)"
  finish; exit
fi
sed -i 's/^  options: false$/  options: false\n  fx: true/' "$RUN/cfg.yaml"
start_worker; start_events
wait_for 40 field_is $K source ib && pass "EUR.USD from IB" || fail "EUR.USD never arrived from IB"
keep(){ while :; do lease app1 CASH:GBP.USD 30; sleep 2; done; }; keep & PIDS+=($!)
wait_for 15 state_is app1 CASH:GBP.USD active && pass "app1|CASH:GBP.USD active (key $(rfield app1 CASH:GBP.USD key))" || fail "app1|CASH:GBP.USD state=$(rstate app1 CASH:GBP.USD) reason=$(rfield app1 CASH:GBP.USD reason)"
wait_for 15 field_is $PFX:quote:GBP.USD source ib || fail "GBP.USD never arrived from IB"
sleep 2; dump $K
has(){ [ -n "$(hget $1 $2)" ]; }
for f in bid ask bid_size ask_size sec_type currency local_symbol con_id; do has $K $f || fail "IB record lacks $f"; done
for f in last last_size volume; do has $K $f && fail "IB FX record has $f=$(hget $K $f) (IDEALPRO has none)"; done
[ "$(hget $K sec_type)/$(hget $K currency)/$(hget $K local_symbol)" = "CASH/USD/EUR.USD" ] && pass "IB record identity CASH/USD/EUR.USD" || fail "identity $(hget $K sec_type)/$(hget $K currency)/$(hget $K local_symbol)"
cid=$(hget $K con_id)
ctl stall; T=$SECONDS
wait_for 25 field_is $K source alphavantage && pass "EUR.USD failed over after $((SECONDS-T)) s" || fail "EUR.USD source=$(hget $K source) stale=$(hget $K stale) 25 s after the stall"
wait_for 10 field_is $PFX:quote:GBP.USD source alphavantage && pass "leased GBP.USD failed over" || fail "GBP.USD source=$(hget $PFX:quote:GBP.USD source)"
wait_for 5 state_is app1 CASH:GBP.USD fallback && pass "app1|CASH:GBP.USD status fallback" || fail "app1|CASH:GBP.USD state=$(rstate app1 CASH:GBP.USD)"
sleep 1; dump $K
AVJ=$(curl -s "http://127.0.0.1:$AVP/query?function=CURRENCY_EXCHANGE_RATE&from_currency=EUR&to_currency=USD&apikey=demo")
python3 - "$AVJ" "$(R HGETALL $K | paste -sd'\t')" "$cid" <<'PY' && pass "AV record fields as documented" || fail "AV record fields (see above)"
import sys, json, calendar, time
av=json.loads(sys.argv[1])["Realtime Currency Exchange Rate"]; f=sys.argv[2].split("\t"); h=dict(zip(f[0::2], f[1::2])); bad=[]
def want(c, m):
    if not c: bad.append(m)
want(h.get("data_type")=="alphavantage_realtime", "data_type=%s" % h.get("data_type"))
for k in ("bid","ask","last","last_trade_ms","sec_type","currency","local_symbol","con_id"): want(k in h, "missing "+k)
for k in ("bid_size","ask_size","last_size","volume","open","high","low","close"): want(k not in h, "has %s=%s" % (k, h.get(k)))
want(h.get("sec_type")=="CASH" and h.get("currency")=="USD" and h.get("local_symbol")=="EUR.USD", "identity")
want(h.get("con_id")==sys.argv[3], "con_id %s vs IB's %s" % (h.get("con_id"), sys.argv[3]))
if "bid" in h and "ask" in h: want(float(h["bid"])<=float(h["ask"]), "bid > ask")
for k,a in (("bid","8. Bid Price"),("ask","9. Ask Price"),("last","5. Exchange Rate")):
    if k in h: want(abs(float(h[k])-float(av[a]))<0.002, "%s %s far from AV's %s" % (k, h[k], av[a]))
for k,v in h.items():
    if k!="symbol" and v in ("", "-1", "-"): bad.append("%s=%r" % (k, v))
if "last_trade_ms" in h:
    lr=calendar.timegm(time.strptime(av["6. Last Refreshed"], "%Y-%m-%d %H:%M:%S"))*1000
    want(abs(int(h["last_trade_ms"])-lr) < 120000, "last_trade_ms %s vs Last Refreshed %s UTC" % (h["last_trade_ms"], av["6. Last Refreshed"]))
print("   ", "; ".join(bad) if bad else "ok"); sys.exit(1 if bad else 0)
PY
info "metrics: $(curl -s http://127.0.0.1:$HP/metrics | grep 'alphavantage_requests_total{function="CURRENCY_EXCHANGE_RATE"}')"
# records published while on Alpha Vantage carry source/data_type consistently
ctl resume; T=$SECONDS
wait_for 60 field_is $K source ib && pass "EUR.USD back on IB $((SECONDS-T)) s after resume" || fail "EUR.USD source=$(hget $K source) 60 s after resume"
sleep 1
has $K last && fail "after failback EUR.USD still has last=$(hget $K last) (IDEALPRO has none)" || pass "after failback no last"
[ "$(hget $K data_type)" = live ] && pass "after failback data_type live" || fail "after failback data_type=$(hget $K data_type)"
has $K bid_size && pass "after failback sizes back" || fail "after failback no bid_size"
wait_for 30 field_is $PFX:quote:GBP.USD source ib && pass "leased GBP.USD back on IB" || fail "GBP.USD source=$(hget $PFX:quote:GBP.USD source)"
wait_for 5 state_is app1 CASH:GBP.USD active && pass "app1|CASH:GBP.USD active again" || fail "app1|CASH:GBP.USD state=$(rstate app1 CASH:GBP.USD)"
finish
