#!/usr/bin/env bash
# Scenario 28: never two writers. Both workers of a group started at the same instant; then the active one
# killed with -9 and started again at once (a supervisor's Restart=always) while the other takes over.
# README "A standby pair": "Only one worker's writes are ever applied for a key at a time". Ground truth:
# Redis MONITOR; every data write (HSET on a quote key inside publish.lua) is attributed to the worker
# whose EVALSHA ran it; between two writes by different workers there must be a lease change.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 28-standby-race"
TTL=3; RENEW=1
start_redis $RP; start_ib --rate 40
write_config "  - AAPL
  - SPY" no live 30 1 30
lease_config 5 30; pair_configs $TTL $RENEW
R MONITOR >"$RUN/monitor.txt" 2>&1 & PIDS+=($!)
start_worker; WPIDA=$WPID; start_worker_b; start_events
wait_for 30 holder_is sk-a || wait_for 1 holder_is sk-b || fail "nobody holds the lease"
sleep 6
ra=$(hget $PFX:worker:sk-a role); rb=$(hget $PFX:worker:sk-b role)
[ "$ra$rb" = activestandby ] || [ "$ra$rb" = standbyactive ] && pass "simultaneous start: one active ($(holder)), one standby" || fail "simultaneous start: sk-a $ra, sk-b $rb"
n=$(sim_lines); [ "$n" = 2 ] && pass "2 lines at the gateway (one worker's)" || fail "$n lines at the gateway after a simultaneous start (expected 2)"
ports(){ ss -tnp | grep "pid=$1," | awk -v rp=":$RP" '$5 ~ rp"$" {print $4}' | sed 's/.*://' | sort -u | tr '\n' ' '; }
PA="$(ports $WPIDA)"; PB="$(ports $WPIDB)"
H=$(holder); if [ $H = sk-a ]; then kill -9 $WPIDA; start_worker; WPIDA=$WPID; else kill -9 $WPIDB; start_worker_b; fi
sleep 12
PA="$PA $(ports $WPIDA)"; PB="$PB $(ports $WPIDB)"
info "holder now $(holder); sk-a role $(hget $PFX:worker:sk-a role), sk-b role $(hget $PFX:worker:sk-b role)"
n=$(sim_lines); [ "$n" = 2 ] && pass "2 lines at the gateway after the kill and restart" || fail "$n lines at the gateway after kill -9 + restart (expected 2)"
python3 - "$RUN/monitor.txt" "$PA" "$PB" "$PFX" <<'PY' && pass "MONITOR: data writes never interleave between the workers without a lease change" || fail "MONITOR: both workers' writes applied in the same lease term (see above)"
import sys, re
path, pa, pb, pfx = sys.argv[1], set(sys.argv[2].split()), set(sys.argv[3].split()), sys.argv[4]
who=None; last_writer=None; switches=0; lease_sets=0; writes={"a":0,"b":0}; bad=0; since_switch=0
for l in open(path, errors="replace"):
    m=re.match(r'^(\d+\.\d+) \[\d+ ([^\]]+)\] "(\w+)"(?: "([^"]*)")?', l)
    if not m: continue
    src, cmd, arg = m.group(2), m.group(3).upper(), m.group(4) or ""
    if src!="lua":
        p=src.rsplit(":",1)[-1]; who="a" if p in pa else "b" if p in pb else None
        continue
    if cmd=="SET" and arg==pfx+":group:g:lease": lease_sets+=1
    if cmd=="HSET" and arg.startswith(pfx+":quote:") and who:
        writes[who]+=1
        if last_writer and who!=last_writer:
            switches+=1
            if lease_sets==0: bad+=1; print("    writer switched", last_writer, "->", who, "without a lease SET in between:", l.strip()[:120])
        if who!=last_writer: lease_sets=0
        last_writer=who
print("    data writes by sk-a %d, sk-b %d; writer switches %d" % (writes["a"], writes["b"], switches))
sys.exit(1 if bad or switches>2 else 0)
PY
finish
