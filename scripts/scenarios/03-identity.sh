#!/usr/bin/env bash
# Scenario 3: instrument identity. IB answers reqContractDetails / reqMktData for an instrument it
# does not know with error 200 "No security definition has been found for the request"; a FUT
# without lastTradeDateOrContractMonth is ambiguous at a real gateway (several CONTRACT_DATA, or 200
# "ambiguous"). Alpha Vantage only knows US listings by ticker: "ES" there is Eversource Energy
# (NYSE), "SHOP" there is the NYSE listing in USD, not TSE/CAD. Expectation: nothing is ever
# written under a key that is not that instrument's data; check-config flags instruments that
# cannot be specified unambiguously.
# Phase A: the simulator knows only AAPL,MSFT. Phase B: the simulator also "knows" ES and SHOP
# (it has no notion of sec_type/currency: tests whether the worker verifies the contract IB returns).
MODE=${1:-both}
if [ "$MODE" = both ]; then rc=0; bash "$0" A || rc=1; bash "$0" B || rc=1; exit $rc; fi
source "$(dirname "$0")/lib.sh"
echo "=== 03-identity phase $MODE"
if [ "$MODE" = A ]; then export SIMSYMS=AAPL,MSFT; else export SIMSYMS=AAPL,MSFT,ES,SHOP; fi
start_redis $RP; start_ib; start_av
SYMS="  - AAPL
  - ZZZZ
  - NVDA
  - symbol: ES
    sec_type: FUT
    exchange: CME
  - symbol: SHOP
    exchange: TSE
    currency: CAD"
write_config "$SYMS" yes live 4 1 30
echo "--- check-config:"; $BIN/quote-relay check-config --config $RUN/cfg.yaml --quiet; echo "check-config rc=$?"
if $BIN/quote-relay check-config --config $RUN/cfg.yaml --quiet 2>&1 | grep -qi 'ES'; then pass "check-config says something about ES FUT without contract month"; else fail "check-config accepts 'ES FUT CME' with no contract month (and has no key to give one): ambiguous at IB"; fi
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived"
sleep 6
ctl stall     # AAPL must fail over; nothing else may appear from Alpha Vantage
sleep 12
dump $PFX:worker:$WID
R KEYS "$PFX:*" | sort
ib_aapl=$(grep -o 'bid=[0-9.]*' $RUN/worker.log | head -1)
for s in ZZZZ NVDA ES SHOP; do
  K=$PFX:quote:$s
  n=$(R EXISTS $K)
  if [ "$n" = 0 ]; then pass "$s: nothing written under $K"
  else
    src=$(hget $K source); info "$s record: $(R HGETALL $K | paste -sd' ' | cut -c1-300)"
    case "$s:$src" in
      ES:alphavantage|SHOP:alphavantage|ZZZZ:*) fail "$s: $K holds data from $src that is not that instrument's (AV '$s' is a different listing)";;
      NVDA:alphavantage) fail "$s: served from Alpha Vantage although IB rejected the contract (README: no failover for 200)";;
      ES:ib) [ "$(grep -c 'FUT' $RUN/worker.log)" -ge 0 ]; fail "ES FUT: written from IB although no contract month was given (simulator served the ES *stock* line?)";;
      SHOP:ib) fail "SHOP TSE/CAD: written from IB; simulator has a USD stock named SHOP (check the worker verified currency/exchange)";;
      *) fail "$s: unexpected $K source=$src";;
    esac
  fi
done
prob=$(hget $PFX:worker:$WID problems)
for s in ZZZZ ES; do case "$prob" in *$s*) pass "$s shown in problems";; *) fail "$s not in problems ('$prob')";; esac; done
grep -o '{"type":"symbol_rejected"[^}]*}' $RUN/events.txt | head
av=$(hget $PFX:quote:AAPL last); src=$(hget $PFX:quote:AAPL source)
[ "$src" = alphavantage ] && pass "AAPL failed over (last=$av)" || fail "AAPL did not fail over: source=$src"
finish
