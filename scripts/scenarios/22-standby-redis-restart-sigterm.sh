#!/usr/bin/env bash
# Scenario 22: a standby pair across a Redis restart and a graceful stop.
# README "A standby pair": standbys write only their own status hash and bid for the lease; "only the
# active worker reads leases and writes request statuses"; "A graceful stop (SIGTERM) releases the lease
# after the last write, so a standby takes over within one renew interval"; the lease lives in Redis: a
# Redis that loses it (restart without persistence) -> "the holder then finds its token gone and stands
# by, and one worker takes the lease again within TTL + renew interval (the fence keeps that safe)".
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 22-standby-redis-restart-sigterm"
TTL=3; RENEW=1
start_redis $RP; start_ib
write_config "  - AAPL
  - SPY" no live 30 1 30
lease_config 5 30; pair_configs $TTL $RENEW
start_worker; WPIDA=$WPID; start_events
wait_for 30 holder_is sk-a || fail "sk-a never held the lease"
start_worker_b
wait_for 30 field_is $PFX:worker:sk-b role standby || fail "sk-b role=$(hget $PFX:worker:sk-b role)"
keep(){ while :; do lease app1 MSFT 30; sleep 1; done; }; keep & PIDS+=($!)
wait_for 15 state_is app1 MSFT active || fail "app1|MSFT state=$(rstate app1 MSFT)"
# (a) what the standby sends to Redis
R MONITOR >"$RUN/monitor.txt" 2>&1 & MONPID=$!; PIDS+=($MONPID)
BPORTS=$(ss -tnp | grep "pid=$WPIDB," | awk -v rp=":$RP" '$5 ~ rp"$" {print $4}' | sed 's/.*://' | sort -u | tr '\n' ' ')
sleep 6; kill $MONPID
info "standby's commands in 6 s: $(python3 - "$RUN/monitor.txt" "$BPORTS" <<'PY'
import sys, re, collections
ports=set(sys.argv[2].split()); c=collections.Counter()
for l in open(sys.argv[1], errors="replace"):
    m=re.match(r'^\d+\.\d+ \[\d+ ([^\]]+)\] "(\w+)"(?: "([^"]*)")?', l)
    if m and m.group(1)!="lua" and m.group(1).rsplit(":",1)[-1] in ports: c[(m.group(2).upper(), (m.group(3) or "").split(":")[1] if ":" in (m.group(3) or "") else m.group(3))]+=1
print(dict(c))
PY
)"
python3 - "$RUN/monitor.txt" "$BPORTS" "$PFX" <<'PY' && pass "standby neither reads leases nor writes request statuses or data" || fail "standby touched leases/requests/data (see above)"
import sys, re
ports=set(sys.argv[2].split()); pfx=sys.argv[3]; bad=[]
for l in open(sys.argv[1], errors="replace"):
    m=re.match(r'^\d+\.\d+ \[\d+ ([^\]]+)\] "(\w+)"(?: "([^"]*)")?', l)
    if not m or m.group(1)=="lua" or m.group(1).rsplit(":",1)[-1] not in ports: continue
    a=m.group(3) or ""
    if a.startswith(pfx+":leases") or a.startswith(pfx+":request") or a.startswith(pfx+":quote"): bad.append(l.strip()[:160])
for b in bad[:5]: print("   ", b)
sys.exit(1 if bad else 0)
PY
# (b) Redis restart without persistence: the lease key, statuses and leases are gone; the app re-leases
R SHUTDOWN NOSAVE >/dev/null 2>&1; sleep 2; start_redis $RP
T=$SECONDS
one(){ local h; h=$(holder); [ -n "$h" ] && [ "$(hget $PFX:worker:$h role)" = active ] && [ "$(hget $PFX:worker:$([ $h = sk-a ] && echo sk-b || echo sk-a) role)" = standby ]; }
wait_for 20 one && pass "after the Redis restart one worker holds the lease ($(holder)) and the other stands by ($((SECONDS-T)) s)" || fail "after the Redis restart: holder '$(holder)', sk-a role $(hget $PFX:worker:sk-a role), sk-b role $(hget $PFX:worker:sk-b role)"
wait_for 15 state_is app1 MSFT active && pass "app1|MSFT active again" || fail "app1|MSFT state=$(rstate app1 MSFT)"
for s in AAPL SPY MSFT; do wait_for 10 field_is $PFX:quote:$s source ib && pass "$s written again" || fail "$s missing after the Redis restart"; done
sleep 3; n=$(sim_lines); [ "$n" = 3 ] && pass "gateway holds 3 lines (one worker's)" || fail "gateway holds $n lines after the Redis restart (expected 3: both workers subscribed?)"
# (c) SIGTERM of the active one
H=$(holder); HP_=$([ $H = sk-a ] && echo $WPIDA || echo $WPIDB); O=$([ $H = sk-a ] && echo sk-b || echo sk-a)
T0=$(date +%s%N); kill -TERM $HP_
while ! holder_is $O; do sleep 0.05; [ $(( ($(date +%s%N) - T0)/1000000 )) -gt 10000 ] && break; done
dt=$(( ($(date +%s%N) - T0)/1000000 ))
holder_is $O && [ $dt -le $(( RENEW*1000 + 1000 )) ] && pass "SIGTERM of $H: $O holds the lease ${dt} ms later (one renew interval $((RENEW*1000)) ms)" || fail "SIGTERM of $H: holder '$(holder)' after ${dt} ms (expected $O within ~$((RENEW*1000)) ms)"
wait_for 10 state_is app1 MSFT active && pass "app1|MSFT active under $O" || fail "app1|MSFT state=$(rstate app1 MSFT)"
wait_for 10 field_is $PFX:worker:$H state stopped && pass "$H state=stopped" || info "$H hash: state=$(hget $PFX:worker:$H state) role=$(hget $PFX:worker:$H role)"
grep -o '{"type":"role"[^}]*}' "$RUN/events.txt" | tail -6
finish
