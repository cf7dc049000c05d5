#!/usr/bin/env bash
# Scenario 18: a paused active worker (SIGSTOP: GC-like stall, frozen VM, partition) in a standby pair.
# README "A standby pair": "A paused old worker ... that resumes can never overwrite the new worker's
# data: its queued and in-flight writes carry its old token and are refused by the fence; seq never goes
# backwards and source stays consistent. Only one worker's writes are ever applied for a key at a time."
# It then "cancels every market data line at its gateway (none leak) ... and stands by". Ground truth:
# Redis MONITOR (commands run inside a script are listed after the EVALSHA that ran them, as "[0 lua]").
# Phase 0: a pause shorter than the TTL changes nothing (no takeover). Phase 1: a pause of 3 x TTL.
source "$(dirname "$0")/lib.sh"; source "$(dirname "$0")/lease-lib.sh"
echo "=== 18-standby-sigstop"
TTL=3; RENEW=1
start_redis $RP; start_ib --rate 60
write_config "  - AAPL
  - SPY
  - QQQ" no live 30 1 30
lease_config 5 30; pair_configs $TTL $RENEW
start_worker; WPIDA=$WPID; start_events
wait_for 30 holder_is sk-a || fail "sk-a never held the lease"
start_worker_b
wait_for 30 field_is $PFX:worker:sk-b role standby || fail "sk-b role=$(hget $PFX:worker:sk-b role)"
keep(){ while :; do lease app1 MSFT 30; sleep 1; done; }; keep & PIDS+=($!)
wait_for 15 state_is app1 MSFT active || fail "app1|MSFT state=$(rstate app1 MSFT)"
sleep 2
# phase 0: 1.5 s pause (< TTL 3 s)
kill -STOP $WPIDA; sleep 1.5; kill -CONT $WPIDA; sleep 3
holder_is sk-a && [ "$(hget $PFX:worker:sk-b role)" = standby ] && pass "a 1.5 s pause (TTL $TTL s) caused no takeover" || fail "after a 1.5 s pause: holder $(holder), sk-b role $(hget $PFX:worker:sk-b role)"
# phase 1
R MONITOR >"$RUN/monitor.txt" 2>&1 & PIDS+=($!)
R SUBSCRIBE $PFX:quote:AAPL $PFX:quote:SPY $PFX:quote:QQQ $PFX:quote:MSFT >"$RUN/pubsub.txt" 2>&1 & PIDS+=($!)
sleep 1
APORTS=$(ss -tnp | grep "pid=$WPIDA," | awk -v rp=":$RP" '$5 ~ rp"$" {print $4}' | sed 's/.*://' | sort -u | tr '\n' ' ')
info "sk-a's Redis connections (local ports): $APORTS"
fa0=$(metric $HP quote_relay_redis_writes_fenced_total)
kill -STOP $WPIDA; TS=$(date +%s.%N)
wait_for 10 holder_is sk-b && pass "sk-b took the lease while sk-a is paused" || fail "holder $(holder) after sk-a paused"
wait_for 10 field_not $PFX:quote:AAPL source x && sleep 5
TC=$(date +%s.%N); kill -CONT $WPIDA
T=$SECONDS
wait_for 10 field_is $PFX:worker:sk-a role standby && pass "sk-a reports standby $((SECONDS-T)) s after SIGCONT" || fail "sk-a role=$(hget $PFX:worker:sk-a role) after SIGCONT"
holder_is sk-b && pass "sk-b still holds the lease" || fail "holder $(holder) after sk-a resumed"
sleep 4
n=$(sim_lines); [ "$n" = 4 ] && pass "gateway holds 4 lines (sk-b's; sk-a cancelled its own)" || fail "gateway holds $n lines, expected 4 (sk-a's lines leaked?)"
fa1=$(metric $HP quote_relay_redis_writes_fenced_total); info "sk-a fenced writes: $fa0 -> $fa1"
python3 - "$RUN/monitor.txt" "$TC" "$APORTS" "$PFX" <<'PY' && pass "MONITOR: no data write of sk-a applied after it resumed" || fail "MONITOR: sk-a's writes applied after it lost the lease (see above)"
import sys, re
path, tc, ports, pfx = sys.argv[1], float(sys.argv[2]), set(sys.argv[3].split()), sys.argv[4]
cur=None; applied=[]; evals=0; direct=[]; total=0
for l in open(path, errors="replace"):
    m=re.match(r'^(\d+\.\d+) \[\d+ ([^\]]+)\] "(\w+)"(?: "([^"]*)")?', l)
    if not m: continue
    ts, src, cmd, arg = float(m.group(1)), m.group(2), m.group(3).upper(), m.group(4) or ""
    if src=="lua":
        if cmd=="HSET" and arg.startswith(pfx+":quote"): total+=1
        if cur and cmd in ("HSET","HINCRBY","HDEL","DEL","PUBLISH","ZADD","SADD","SREM","XADD","PEXPIRE") and (arg.startswith(pfx+":quote") or arg.startswith(pfx+":option") or arg.startswith(pfx+":chain") or arg==pfx+":updated"):
            applied.append(l.strip()[:200])
        continue
    port=src.rsplit(":",1)[-1]
    cur = (ts>=tc and port in ports and cmd=="EVALSHA")
    if cur: evals+=1
    if ts>=tc and port in ports and cmd in ("HSET","DEL","PUBLISH","PEXPIRE") and arg.startswith(pfx+":request"):
        direct.append(l.strip()[:200])
print("   data writes (HSET on quote keys) seen in MONITOR from anyone:", total)
if total==0: print("   MONITOR shows no script writes at all: cannot judge"); sys.exit(1)
print("   sk-a EVALSHA after SIGCONT:", evals, " data writes applied inside them:", len(applied), " request-status writes:", len(direct))
for a in (applied+direct)[:8]: print("   ", a)
sys.exit(1 if applied or direct else 0)
PY
python3 - "$RUN/pubsub.txt" <<'PY' && pass "seq strictly increasing, source ib on every published record" || fail "pub/sub shows seq going backwards or a wrong source"
import sys, json
last={}; bad=0; n=0
for l in open(sys.argv[1]):
    if l.startswith("{"):
        d=json.loads(l); k=d["key"]; n+=1
        if k in last and d["seq"]<=last[k]: print("  seq", last[k], "->", d["seq"], k); bad+=1
        last[k]=d["seq"]
        if d.get("source")!="ib": bad+=1
print("  ", n, "messages"); sys.exit(1 if bad or n==0 else 0)
PY
state_is app1 MSFT active && pass "app1|MSFT active (sk-b)" || fail "app1|MSFT state=$(rstate app1 MSFT)"
grep -o '{"type":"role"[^}]*}' "$RUN/events.txt" | tail -4
finish
