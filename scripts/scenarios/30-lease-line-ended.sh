#!/usr/bin/env bash
# Scenario 30: IB ends a leased line mid-stream. IB: 354 "Requested market data is not subscribed" and an
# undocumented code (here 10999) on a market data request end it (ib_async wrapper.error: not a warning ->
# _endReq). README: 354 -> `refused` with `no permission`; "any other code on a market data line ... the
# line is cancelled at the gateway"; `active` means "a line is granted ... data follows"; "no lease is
# silently ignored". Expected: the requester's status stops saying `active` when its line is gone.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 30-lease-line-ended"
start_redis $RP; start_ib
write_config "  - AAPL" no live 4 1 30
set_lines 20; lease_config 4 30
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived"
keep(){ while :; do lease a1 MSFT 30; lease a1 SPY 30; sleep 1; done; }; keep & PIDS+=($!)
wait_for 10 state_is a1 MSFT active && wait_for 10 state_is a1 SPY active || fail "leases not active"
wait_for 10 field_is $PFX:quote:SPY source ib || fail "no SPY data"
ctl error MSFT 354 drop; ctl error SPY 10999 drop
sleep 12
r=$(rfield a1 MSFT reason); [ "$(rstate a1 MSFT)" = refused ] && case "$r" in "no permission"*) true;; *) false;; esac && pass "a1|MSFT refused: $r" || fail "a1|MSFT state=$(rstate a1 MSFT) reason=$r after 354"
info "worker problems: $(hget $PFX:worker:$WID problems); gateway lines: $(sim_lines)"
st=$(rstate a1 SPY); stl=$(hget $PFX:quote:SPY stale)
[ "$st" != active ] && pass "a1|SPY no longer 'active' after IB ended its line (state $st, reason $(rfield a1 SPY reason))" || fail "a1|SPY still 'active' 12 s after IB ended its line with 10999 (the worker cancelled it; key stale=$stl; problems: $(hget $PFX:worker:$WID problems))"
finish
