#!/usr/bin/env bash
# Scenario 23: hostile or careless applications. README: "Bad leases never disturb other instruments";
# issue 12 "a flood of bad requests leaves the pinned data untouched"; the worker reads at most 10 000
# members; priorities are clamped to leases.max_priority. Redis sorted-set scores may be +inf/-inf or
# huge (ZADD accepts them); an application may write its expiry in seconds instead of milliseconds.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 23-lease-abuse"
start_redis $RP; start_ib
write_config "  - AAPL" no live 30 1 30
set_lines 20; lease_config 4 30 10
start_worker; start_events
wait_for 40 field_is $PFX:quote:AAPL source ib || fail "AAPL never arrived"
# odd scores
R ZADD $PFX:leases +inf 'inf1|MSFT' >/dev/null
R ZADD $PFX:leases 1e300 'huge1|QQQ' >/dev/null
R ZADD $PFX:leases $(( $(now_ms)/1000 + 60 )) 'secs1|SPY' >/dev/null        # seconds, not ms: expired in 1970
lease pr1 MSFT 60; R ZADD $PFX:leases:priority +inf 'pr1|MSFT' >/dev/null
lease good1 SPY 60
wait_for 10 state_is good1 SPY active && pass "a normal lease beside odd scores is served" || fail "good1|SPY state=$(rstate good1 SPY) beside +inf/1e300 scores"
for x in "inf1 MSFT" "huge1 QQQ"; do set -- $x; st=$(rstate $1 $2); ttl=$(R PTTL "$PFX:request:$1:$2"); info "$1|$2 (score $(R ZSCORE $PFX:leases "$1|$2")): state '$st' reason '$(rfield $1 $2 reason)' status PTTL $ttl"; [ -n "$st" ] && pass "$1|$2 has a status ($st)" || fail "$1|$2 (score $(R ZSCORE $PFX:leases "$1|$2")) has no status: silently ignored"; done
st=$(rstate secs1 SPY); info "secs1|SPY (expiry written in seconds): state '$st'; still in $PFX:leases: $(R ZSCORE $PFX:leases 'secs1|SPY')"
info "pr1|MSFT priority +inf: state $(rstate pr1 MSFT)"
$BIN/quote-relay subscriptions --redis-url redis://127.0.0.1:$RP/0 --prefix $PFX >"$RUN/subs.out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q 'pr1 ' "$RUN/subs.out" && pass "quote-relay subscriptions lists pr1 (priority +inf)" || fail "quote-relay subscriptions exit $rc with a priority of +inf in $PFX:leases:priority: $(grep -m1 'Fatal error' $RUN/subs.out)"
a0=$(hget $PFX:quote:AAPL seq)
# a flood of distinct unknown instruments from many requesters (each within its own limits)
python3 - $RP $PFX <<'PY'
import socket, sys
port, pfx = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
def cmd(*a):
    b = b"*%d\r\n" % len(a)
    for x in a:
        x = x.encode() if isinstance(x, str) else x
        b += b"$%d\r\n%s\r\n" % (len(x), x)
    return b
s.sendall(cmd("TIME")); t = s.recv(100).split(b"\r\n"); now = int(t[2]) * 1000
buf = b"".join(cmd("ZADD", pfx + ":leases", str(now + 90000), "flood%04d|ZQ%04d" % (i, i)) for i in range(1500))
s.sendall(buf)
got = b""
while got.count(b"\r\n") < 1500: got += s.recv(65536)
print("   1500 flood leases written")
PY
sleep 3   # the worker has seen the flood; now a well-behaved application asks
T=$SECONDS
lease late1 QQQ 60
wait_for 20 state_is late1 QQQ active && pass "a good lease written after 1500 bad ones is active after $((SECONDS-T)) s" || fail "late1|QQQ state=$(rstate late1 QQQ) $((SECONDS-T)) s after 1500 bad leases"
wait_for 20 field_is $PFX:quote:QQQ source ib && pass "QQQ data after $((SECONDS-T)) s" || fail "no QQQ data $((SECONDS-T)) s after a flood of 1500 bad leases"
sleep 5
a1=$(hget $PFX:quote:AAPL seq); age=$(( $(now_ms) - $(hget $PFX:quote:AAPL updated_ms) ))
[ "$a1" -gt "$a0" ] && [ $age -lt 5000 ] && [ "$(hget $PFX:quote:AAPL stale)" = 0 ] && pass "pinned AAPL untouched by the flood (seq $a0->$a1, age ${age} ms)" || fail "AAPL seq $a0->$a1 age ${age} ms stale $(hget $PFX:quote:AAPL stale)"
nref=0; for i in 0001 0500 1499; do st=$(rstate flood$i ZQ$i); info "flood$i|ZQ$i: $st $(rfield flood$i ZQ$i reason | cut -c1-80)"; done
grep -q '"code":100[,}]' "$RUN/events.txt" && fail "IB pacing violation (100) during the flood" || pass "no pacing violation (100)"
st=$(hget $PFX:worker:$WID state); [ "$st" = connected ] && pass "worker connected" || fail "worker state=$st"
info "sim counters: $(exec 3<>/dev/tcp/127.0.0.1/$CTL; echo counters >&3; timeout 3 head -1 <&3)"
info "worker RSS: $(ps -o rss= -p $WPID) KiB"
nl=$(wc -l <"$RUN/worker.log"); nrs=$(grep -c 'request status' "$RUN/worker.log")
[ $nl -lt 10000 ] && pass "worker log $nl lines" || fail "worker log $nl lines ($(du -h $RUN/worker.log | cut -f1)) in about a minute, $nrs of them 'request status' (every queued place change of every lease at info)"
finish
