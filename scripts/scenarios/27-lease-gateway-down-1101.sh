#!/usr/bin/env bash
# Scenario 27: leases while the gateway is down at start, across IB's 1101 ("Connectivity between IB and
# TWS has been restored - data lost": every market data request must be made again), and the requester
# channel's noise. README: statuses are `active` (a line is granted ... data follows), `queued`, `refused`,
# `fallback`; "resubscription after a reconnect or 1101" for requested instruments; P:request:<requester>
# carries "every status change"; "No lease is silently ignored".
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 27-lease-gateway-down-1101"
start_redis $RP
write_config "  - AAPL" no live 30 1 30
set_lines 20; lease_config 5 30
start_worker; start_events
R SUBSCRIBE $PFX:request:app1 >"$RUN/app1.txt" 2>&1 & PIDS+=($!)
keep(){ while :; do lease app1 MSFT 30; lease app1 SPY 30; sleep 1; done; }; keep & PIDS+=($!)
sleep 6
st=$(rstate app1 MSFT); info "with no gateway: app1|MSFT state '$st' reason '$(rfield app1 MSFT reason)'; worker state $(hget $PFX:worker:$WID state)"
[ -n "$st" ] && pass "a lease made while the gateway is down has a status ($st)" || fail "no status for app1|MSFT 6 s after leasing while the gateway is down"
start_ib
wait_for 30 field_is $PFX:quote:MSFT source ib && pass "MSFT data once the gateway is up" || fail "no MSFT data after the gateway came up (state $(rstate app1 MSFT))"
wait_for 5 state_is app1 MSFT active && pass "app1|MSFT active" || fail "app1|MSFT state=$(rstate app1 MSFT)"
sleep 2; L0=$(sim_lines)
# 1101: the gateway drops every line; the worker must request them all again
ctl connectivity-lost; sleep 2; ctl connectivity-restored lost
sleep 1; info "lines right after 1101: $(sim_lines)"
wait_for 15 lines_are $L0 && pass "after 1101 all $L0 lines requested again" || fail "after 1101: $(sim_lines) lines, expected $L0"
for s in AAPL MSFT SPY; do u=$(hget $PFX:quote:$s seq); sleep 2; [ "$(hget $PFX:quote:$s seq)" != "$u" ] && pass "$s streams after 1101" || fail "$s not written after 1101"; done
# channel noise: a steady lease refreshed every second for 10 s
n0=$(grep -c '^{' "$RUN/app1.txt"); sleep 10; n1=$(grep -c '^{' "$RUN/app1.txt")
[ $((n1-n0)) -le 1 ] && pass "requester channel quiet while nothing changes ($((n1-n0)) messages in 10 s)" || fail "requester channel: $((n1-n0)) messages in 10 s of steady 'active' leases refreshed every second (README: 'every status change'): $(tail -2 $RUN/app1.txt | tr '\n' ' ' | cut -c1-200)"
finish
