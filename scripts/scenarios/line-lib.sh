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
  if [ $rc = 0 ]; then pass "$1: $out"; else fail "$1: $(echo "$out" | wc -l) problems"; echo "$out" | head -20; fi
  out=$(python3 "$LC" consistency "$RUN/data-pubsub.txt" $PFX); rc=$?
  if [ $rc = 0 ]; then pass "$1: $(echo "$out" | cut -d'(' -f1)"; else fail "$1: a key changed instrument"; echo "$out" | head -20; fi; }
start_data_sub(){ redis-cli -p $RP PSUBSCRIBE "$PFX:quote:*" "$PFX:option:*" >"$RUN/data-pubsub.txt" 2>&1 & PIDS+=($!); }
stamps(){ python3 "$LC" stamps $RP $PFX "$@"; }
okeys(){ R --scan --pattern "$PFX:option:$1:*" | sort; }
# not_advancing SECONDS KEY...: prints the keys whose updated_ms and seq did not both grow within SECONDS
not_advancing(){ local secs=$1; shift; local a b bad="" k u1 s1 u2 s2
  a=$(stamps "$@"); sleep "$secs"; b=$(stamps "$@")
  while read -r k u1 s1; do read -r _ u2 s2 <<<"$(grep "^$k " <<<"$b")"
    if [ "$u1" = - ] || [ "$u2" = - ] || [ "$u2" -le "$u1" ] || [ "$s2" -le "$s1" ]; then bad="$bad ${k#$PFX:}($u1/$s1->$u2/$s2)"; fi
  done <<<"$a"; echo "$bad"; }
# advancing LABEL SECONDS KEY...: every key's updated_ms and seq grow within SECONDS
advancing(){ local label=$1 secs=$2; shift 2; local bad; bad=$(not_advancing "$secs" "$@")
  if [ -z "$bad" ]; then pass "$label: all $# keys written again within ${secs} s"; else fail "$label: not written within ${secs} s:$bad"; fi; }
# The option window follows the money: README "re-centred like a pinned window"; the worker logs
# "option window: centred on C at price X symbol=S" / "re-centred from A to C ...". A key left behind by a
# re-centring is no longer a line (it expires by its TTL), so the keys that must stream are the current window's.
centre(){ grep "option window: .*centred .*symbol=$1\$" "$RUN/worker.log" | tail -1 | sed -E 's/.* (centred on|to) ([0-9.]+) at price.*/\2/'; }
recentres(){ local w n=0; for w in "$@"; do set -- $w; n=$((n + $(grep -c "option window: .*centred .*symbol=$1\$" "$RUN/worker.log"))); done; echo $n; }
# window_keys SYM N: the option keys of SYM's current window (nearest expiry of its keys, N chain strikes each side)
window_keys(){ local c exp; c=$(centre $1); exp=$(okeys $1 | cut -d: -f4 | sort -u | head -1)
  [ -n "$c" ] && [ -n "$exp" ] || return
  python3 -c '
import sys
p, sym, exp, c, n, strikes = sys.argv[1:]
ks = sorted(float(x) for x in strikes.split(",") if x)
i = min(range(len(ks)), key=lambda j: abs(ks[j] - float(c)))
for k in ks[max(0, i - int(n)): i + int(n) + 1]:
    s = ("%.8f" % k).rstrip("0").rstrip(".")
    for r in "CP":
        print("%s:option:%s:%s:%s:%s" % (p, sym, exp, s, r))' $PFX $1 $exp $c $2 "$(hget $PFX:chain:$1 strikes)"; }
# advancing_w LABEL SECONDS "SYM N"... -- KEY...: like advancing, on the current windows of the SYMs plus KEYs;
# sampled again (at most 3 times) when a window re-centred during the sample
advancing_w(){ local label=$1 secs=$2; shift 2; local ws=() keys=() bad n0 try w
  while [ $# -gt 0 ] && [ "$1" != -- ]; do ws+=("$1"); shift; done; [ "${1:-}" = -- ] && shift
  for try in 1 2 3; do
    n0=$(recentres "${ws[@]}"); keys=("$@"); for w in "${ws[@]}"; do keys+=($(window_keys $w)); done
    bad=$(not_advancing "$secs" "${keys[@]}")
    [ "$(recentres "${ws[@]}")" = "$n0" ] && break; info "$label: a window re-centred during the sample; again"
  done
  if [ -z "$bad" ]; then pass "$label: all ${#keys[@]} keys written again within ${secs} s"; else fail "$label: not written within ${secs} s:$bad (centres: $(for w in "${ws[@]}"; do set -- $w; echo -n "$1=$(centre $1) "; done))"; fi; }
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
# left_behind "SYM N"...: option keys outside the current windows (left by a re-centring) are no longer written
left_behind(){ local w old=() k; for w in "$@"; do set -- $w; local cur; cur=" $(window_keys $1 $2 | tr '\n' ' ') "
    for k in $(okeys $1); do case "$cur" in *" $k "*) ;; *) old+=($k);; esac; done; done
  if [ ${#old[@]} = 0 ]; then info "no option keys left behind by a re-centring"; return; fi
  frozen "option keys left behind by re-centring (${#old[@]})" 4 "${old[@]}"; }
