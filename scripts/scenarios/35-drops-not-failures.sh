#!/usr/bin/env bash
# Scenario 35: the gateway drops the connection now and then, and every reconnect succeeds at once.
# README: `failover.max_reconnect_attempts` "consecutive failed connection attempts -> every symbol fails over";
# "`failed_attempts` counts consecutive failed connection attempts ... exactly as `reconnect_attempts` in the
# worker hash (0 while connected)". A connection that was established (nextValidId) and streamed for many
# seconds is not a failed attempt; IB Gateway closes sockets at its nightly restart or on a network blip.
# Set-up: max_reconnect_attempts 3, Alpha Vantage configured; `drop` four times, 12 s apart; each reconnect
# succeeds within a second and data flows in between. Expected: no failover, `reconnect_attempts` 0 once
# connected, state back to `connected`, AAPL from IB throughout.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"; source "$(dirname "$0")/line-lib.sh"
echo "=== 35-drops-not-failures"
start_redis $RP; start_ib --rate 50; start_av
write_config "  - AAPL
  - MSFT" yes live 30 1 10
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived from IB"
sleep 3
for i in 1 2 3 4; do
  ctl drop
  wait_for 10 field_is $PFX:worker:$WID reconnect_attempts 0 && sleep 1 && wait_for 5 field_is $PFX:worker:$WID reconnect_attempts 0 \
    && info "drop $i: reconnected (state $(hget $PFX:worker:$WID state))" || info "drop $i: reconnect_attempts=$(hget $PFX:worker:$WID reconnect_attempts) state=$(hget $PFX:worker:$WID state)"
  advancing "after drop $i, AAPL and MSFT streaming again" 4 $PFX:quote:AAPL $PFX:quote:MSFT
  sleep 7
done
grep -q '"type":"failover"' "$RUN/events.txt" && fail "failover after reconnects that all succeeded: $(grep -o '{"type":"failover"[^}]*' $RUN/events.txt | head -1 | cut -c1-300)" || pass "no failover: every reconnect succeeded"
for s in AAPL MSFT; do src=$(hget $PFX:quote:$s source); [ "$src" = ib ] && pass "$s source ib" || fail "$s source=$src"; done
st=$(hget $PFX:worker:$WID state); [ "$st" = connected ] && pass "worker state connected" || fail "worker state=$st (reason: $(grep -o '"to":"'$st'"[^}]*' $RUN/events.txt | tail -1 | cut -c1-200))"
info "state events: $(grep -o '"type":"state"[^}]*' $RUN/events.txt | grep -o '"to":"[a-z]*","reason":"[^"]*' | cut -c1-90 | tr '\n' '|')"
finish
