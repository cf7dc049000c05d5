#!/usr/bin/env bash
# Helpers for the line-churn scenarios (31-33). Source after lib.sh and lease-lib.sh.
# IB: every reqMktData line is answered by TICK_PRICE (1), TICK_SIZE (2), TICK_OPTION_COMPUTATION (21) ... carrying its
# reqId; after cancelMktData (out 2) "market data for the specified id will stop flowing" (ibapi client.py), but
# ticks already on the wire still arrive. Whatever the worker does with its lines internally, a key only ever holds
# its own instrument's values, and every line still held keeps being written.
LC="$(dirname "${BASH_SOURCE[0]}")/line-check.py"
# refs SYM...: the simulator's own prices for the symbols (what it last sent our client 31) -> $RUN/refs
refs(){ local c; c=$(hget $PFX:worker:$WID client_id); python3 "$LC" refs $RP $CTL "${c:-31}" "$@" >"$RUN/refs" 2>>"$RUN/refs.err"; }
# check_hashes LABEL: every quote/option hash is its own instrument's (con_ids kept in $RUN/conids across calls)
check_hashes(){ local out rc; out=$(python3 "$LC" hashes $RP $PFX "$RUN/refs" "$RUN/conids"); rc=$?
  if [ $rc = 0 ]; then pass "$1: $out"; else fail "$1: $(echo "$out" | wc -l) problems"; echo "$out" | head -20; fi; }
check_pubsub(){ local out rc; out=$(python3 "$LC" pubsub "$RUN/data-pubsub.txt" $PFX "$RUN/refs"); rc=$?
  if [ $rc = 0 ]; then pass "$1: $out"; else fail "$1: $(echo "$out" | wc -l) problems"; echo "$out" | head -20; fi; }
start_data_sub(){ redis-cli -p $RP PSUBSCRIBE "$PFX:quote:*" "$PFX:option:*" >"$RUN/data-pubsub.txt" 2>&1 & PIDS+=($!); }
stamps(){ python3 "$LC" stamps $RP $PFX "$@"; }
okeys(){ R --scan --pattern "$PFX:option:$1:*" | sort; }
# advancing LABEL SECONDS KEY...: every key's updated_ms and seq grow within SECONDS
advancing(){ local label=$1 secs=$2; shift 2; local a b bad="" k u1 s1 u2 s2
  a=$(stamps "$@"); sleep "$secs"; b=$(stamps "$@")
  while read -r k u1 s1; do read -r _ u2 s2 <<<"$(grep "^$k " <<<"$b")"
    if [ "$u1" = - ] || [ "$u2" = - ] || [ "$u2" -le "$u1" ] || [ "$s2" -le "$s1" ]; then bad="$bad ${k#$PFX:}($u1/$s1->$u2/$s2)"; fi
  done <<<"$a"
  if [ -z "$bad" ]; then pass "$label: all $# keys written again within ${secs} s"; else fail "$label: not written within ${secs} s:$bad"; fi; }
# frozen LABEL SECONDS KEY...: no key's updated_ms moves within SECONDS (released lines; a stale flag flip is a
# write that bumps seq but confirms nothing, so seq is not compared; a key that expires meanwhile is fine)
frozen(){ local label=$1 secs=$2; shift 2; local a b bad="" k u1 s1 u2 s2
  a=$(stamps "$@"); sleep "$secs"; b=$(stamps "$@")
  while read -r k u1 s1; do read -r _ u2 s2 <<<"$(grep "^$k " <<<"$b")"
    [ "$u2" != - ] && [ "$u2" != "$u1" ] && bad="$bad ${k#$PFX:}($u1/$s1->$u2/$s2)"
  done <<<"$a"
  if [ -z "$bad" ]; then pass "$label: none of $# keys written (updated_ms) in ${secs} s"; else fail "$label: still written:$bad"; fi; }
ib_errors(){ grep -o '"type":"ib_error"[^}]*' "$RUN/events.txt" | grep -o '"code":[0-9]*' | sort | uniq -c | tr '\n' ' '; }
# IB 100 pacing, 101 max tickers, 102 duplicate ticker id, 300 "Can't find EId with tickerId", 322 duplicate id
no_bad_codes(){ local c bad=0; for c in 100 101 102 300 322; do
  if grep -q "\"type\":\"ib_error\"[^}]*\"code\":$c[,}]" "$RUN/events.txt"; then bad=1; fail "IB error $c on $PFX:events: $(grep -o "{\"type\":\"ib_error\"[^}]*\"code\":$c[,}][^}]*" $RUN/events.txt | head -2)"; fi; done
  [ $bad = 0 ] && pass "no IB error 100/101/102/300/322 (seen: $(ib_errors))"; true; }
