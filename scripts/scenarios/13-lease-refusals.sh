#!/usr/bin/env bash
# Scenario 13: bad leases get `refused` with a clear reason and never disturb other instruments.
# README "Subscriptions at runtime": reason starts with `invalid request` (malformed spec, absurd option
# window: at most 12 expirations x 25 strikes), `unknown contract` (IB answers 200 "No security definition
# has been found for the request" to reqContractDetails), `no permission` (354 "Requested market data is
# not subscribed"), `not allowed` (rate limit, per-requester maximum, more lines than exist, another
# instrument already under that key). A member without a valid `<requester>|` is removed from P:leases
# and reported as `lease_refused` on P:events. The pinned AAPL keeps streaming throughout.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 13-lease-refusals"
export SIMSYMS=AAPL,MSFT,SPY,QQQ,NVDA,AMZN,TSLA,IWM
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 40; lease_config 5 30 10 6 8
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
ctl no-permission NVDA
a0=$(hget $PFX:quote:AAPL seq)
expect_refused(){ # APP SPEC CATEGORY
  if wait_for 12 state_is "$1" "$2" refused; then r=$(rfield "$1" "$2" reason)
    case "$r" in "$3"*) pass "$1|$2 refused: $r";; *) fail "$1|$2 refused with reason '$r', expected it to start with '$3'";; esac
  else fail "$1|$2 state=$(rstate "$1" "$2") reason=$(rfield "$1" "$2" reason), expected refused ($3)"; fi; }
# bad specs, one requester each (so the per-requester limits do not interfere)
lease u1 ZZZZ 60                    # IB 200
lease u2 'SPY#options=50x5' 60      # absurd window
lease u3 'SPY#options=2x40' 60
lease u4 'SPY#options=0x5' 60
lease u5 'FOO:BAR' 60               # unknown sec type
lease u6 'STK:' 60                  # no symbol
lease u7 'FUT:ES.2026@CME' 60       # bad contract month
lease u8 'CASH:EURUSD' 60           # not BASE.QUOTE
lease u9 'SPY#options=12x25' 60     # 1 + 12 x 51 x 2 = 1225 lines > 40
lease u10 'IND:AAPL@CBOE' 60        # another instrument under the pinned AAPL's key
lease u11 NVDA 60                   # 354
lease u12 'FUT:ES.202612@CME' 60
lease u13 'MSFT#options=2x5;rm -rf' 60
sleep 1; lease u14 'FUT:ES.202612@GLOBEX' 60   # another instrument under quote:ES.202612
# ZADD takes score-member pairs: one score per member (a lone score before four members is a
# syntax error Redis refuses, which made the first version of this check find nothing to refuse).
t=$(( $(now_ms) + 60000 ))
added=$(R ZADD $PFX:leases $t 'no requester here' $t 'bad requester|MSFT' $t "$(printf 'x%.0s' $(seq 70))|MSFT" $t '|MSFT')
[ "$added" = 4 ] || fail "ZADD of the four invalid members answered '$added'"
expect_refused u1 ZZZZ "unknown contract"
expect_refused u2 'SPY#options=50x5' "invalid request"
expect_refused u3 'SPY#options=2x40' "invalid request"
expect_refused u4 'SPY#options=0x5' "invalid request"
expect_refused u5 'FOO:BAR' "invalid request"
expect_refused u6 'STK:' "invalid request"
expect_refused u7 'FUT:ES.2026@CME' "invalid request"
expect_refused u8 'CASH:EURUSD' "invalid request"
expect_refused u9 'SPY#options=12x25' "not allowed"
expect_refused u10 'IND:AAPL@CBOE' "not allowed"
expect_refused u11 NVDA "no permission"
expect_refused u13 'MSFT#options=2x5;rm -rf' "invalid request"
wait_for 10 state_is u12 'FUT:ES.202612@CME' active && pass "u12 ES.202612@CME active" || fail "u12 state=$(rstate u12 'FUT:ES.202612@CME') reason=$(rfield u12 'FUT:ES.202612@CME' reason)"
expect_refused u14 'FUT:ES.202612@GLOBEX' "not allowed"
[ "$(R EXISTS $PFX:quote:ZZZZ)" = 0 ] && pass "nothing under quote:ZZZZ" || fail "quote:ZZZZ exists"
[ "$(hget $PFX:quote:AAPL sec_type)" = "" ] && pass "quote:AAPL still the stock (no sec_type)" || fail "quote:AAPL sec_type=$(hget $PFX:quote:AAPL sec_type)"
# The worker drops them on its next lease poll (every 500 ms; later on a loaded machine): wait for it.
invalid_left(){ R ZRANGE $PFX:leases 0 -1 | grep -c -e 'no requester' -e 'bad requester' -e 'xxxxxxxxxx' -e '^|MSFT'; }
refused_events(){ grep -c '"type":"lease_refused"' "$RUN/events.txt"; }
wait_for 15 eval '[ "$(invalid_left)" = 0 ] && [ "$(refused_events)" -ge 4 ]'
left=$(invalid_left)
[ "$left" = 0 ] && pass "members without a valid requester removed from $PFX:leases" || fail "$left invalid-requester members still in $PFX:leases"
n=$(refused_events); [ "$n" -ge 4 ] && pass "$n lease_refused events" || fail "only $n lease_refused events for 4 invalid members: $(grep -o '{"type":"lease_refused"[^}]*}' $RUN/events.txt | head -4)"
# per-requester maximum (6 live) and flood (8 new a minute)
for s in MSFT SPY QQQ AMZN TSLA IWM CASH:EUR.USD CASH:GBP.USD; do lease big "$s" 60; done
sleep 4
nref=0; nok=0; for s in MSFT SPY QQQ AMZN TSLA IWM CASH:EUR.USD CASH:GBP.USD; do st=$(rstate big "$s"); case $st in refused) nref=$((nref+1)); info "big|$s refused: $(rfield big "$s" reason)";; active|queued) nok=$((nok+1));; *) info "big|$s state '$st'";; esac; done
[ $nok = 6 ] && [ $nref = 2 ] && pass "per-requester maximum: 6 served, 2 refused" || fail "per-requester maximum 6: $nok served, $nref refused"
for s in MSFT SPY QQQ AMZN TSLA IWM CASH:EUR.USD CASH:GBP.USD; do st=$(rstate big "$s"); [ $st = refused ] && { case "$(rfield big "$s" reason)" in "not allowed"*) ;; *) fail "big|$s reason '$(rfield big "$s" reason)'";; esac; }; done
# flood: one requester asking for new instruments one after another, never more than one live
i=0; for s in MSFT SPY QQQ AMZN TSLA IWM CASH:EUR.USD CASH:GBP.USD IND:SPX@CBOE; do i=$((i+1)); lease fl "$s" 60; sleep 1.2; [ $i -lt 9 ] && unlease fl "$s"; done
expect_refused fl IND:SPX@CBOE "not allowed"
info "flood reason: $(rfield fl IND:SPX@CBOE reason)"
# the pinned AAPL was never disturbed
a1=$(hget $PFX:quote:AAPL seq); st=$(hget $PFX:quote:AAPL stale); src=$(hget $PFX:quote:AAPL source)
[ "$a1" -gt "$a0" ] && [ "$st" = 0 ] && [ "$src" = ib ] && pass "pinned AAPL kept streaming (seq $a0->$a1, stale 0, source ib)" || fail "AAPL seq $a0->$a1 stale=$st source=$src"
p=$(hget $PFX:worker:$WID problems); info "worker problems: $p"
st=$(hget $PFX:worker:$WID state); [ "$st" = connected ] && pass "worker state connected" || fail "worker state=$st after bad leases"
info "subscriptions: $($BIN/quote-relay subscriptions --redis-url redis://127.0.0.1:$RP/0 --prefix $PFX 2>&1 | grep -v '^big\|^fl' | head -30)"
finish
