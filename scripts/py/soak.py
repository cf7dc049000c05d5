#!/usr/bin/env python3
"""Chaos soak for quote-relay (issue 11): the worker binary against both simulators and a real
redis-server, faults injected at seeded random times, invariants checked all along.

Started by scripts/soak (which builds the binaries and the venv); loopback only; bounded by
--seconds and --max-faults. Everything random comes from --seed, so a run is reproducible up to
the timing of the processes themselves.

Faults are rows of FAULTS: a name, how to inject, how long it lasts, how to heal. Adding a fault
kind (e.g. the simulator modes of issue 10) is one row.

Invariants (counted as violations, each with the time and the evidence):
  alive        the worker process runs; its status hash P:worker:ID exists (outside the grace
               after a Redis outage) with a known state, and `source` is alphavantage exactly
               when some key is served by Alpha Vantage (checked at recovery points and the end)
  recovered    after each fault is healed, every configured quote key is present, not stale,
               fresh (Redis TIME - updated_ms < staleness) and confirmed by its source after
               the healing (updated_ms >= Redis TIME at healing) within --recover-bound seconds
  value        at every recovery point and at the end, with the feed paused (`quiet`) so
               nothing is in flight: each quote key served by IB holds exactly the last bid,
               ask and last the simulator sent to the worker's client id for that symbol
               (control command `last`), and none where the simulator sent none
  mixed        a hash's data_type belongs to its source (never IB's type on an AV record or back)
  seq          `seq` of a key never goes backwards while the key lives (data-loss faults reset
               the tracking: the key is gone, its seq starts again)
  garbage      every number is plain decimal; prices and sizes are >= 0 and < 1e9; no empty field
  silent-stale a key not confirmed for staleness + check interval + probe timeout (+ 1 s of
               sampling slack) carries stale=1
  lines        market data lines in use at the gateway <= ib.max_market_data_lines; at the end
               no more lines than at the first steady state (no leak)
  resources    RSS and open fds sampled every 5 s; growth from the first to the last fifth of
               the run is reported, a violation when fds grow by > 16 or RSS doubles
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import redis

PRICE_FIELDS = {"bid", "ask", "last", "open", "high", "low", "close", "und_price", "model_price"}
SIZE_FIELDS = {"bid_size", "ask_size", "last_size", "volume", "open_interest"}
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
IB_TYPES = {"live", "frozen", "delayed", "delayed_frozen"}
AV_TYPES = {"alphavantage_realtime", "alphavantage_delayed", "alphavantage_eod"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.procs = {}
        self.violations = []
        self.faults = []  # {kind, start, healed, recovered_after}
        self.resources = []  # (t, rss_kb, fds)
        self.lines = []  # (t, lines)
        self.seq = {}
        self.expires = {}  # member -> monotonic time its TTL runs out, from the last PTTL seen
        self.expired = 0  # keys seen leaving P:updated (TTL ran out), for the report
        self.grace_until = 0.0
        self.t0 = time.monotonic()
        self.prefix = "soak"
        self.worker_id = "soak-1"
        self.symbols = ["AAPL", "MSFT", "NVDA"]
        self.staleness = 3
        self.check_interval = 1
        self.max_lines = 40
        self.bound = self.staleness + self.check_interval + self.check_interval + 1.0
        self.baseline_lines = None
        self.redis_up = True

    # ---- processes -------------------------------------------------------------------
    def now(self):
        return time.monotonic() - self.t0

    def log(self, *parts):
        print(f"[{self.now():7.1f}s]", *parts, flush=True)

    def start_redis(self, name, port):
        logf = open(os.path.join(self.out, f"{name}.log"), "ab")
        p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", self.out, "--logfile", ""],
                             stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        self.procs[name] = p
        client = redis.Redis(port=port, socket_timeout=2, decode_responses=True)
        for _ in range(100):
            try:
                client.ping()
                return client
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not start on {port}")

    def start_sims(self):
        sim = os.path.join(self.args.bin_dir, "quote-relay-sim")
        out = open(os.path.join(self.out, "ib-sim.out"), "w+")
        err = open(os.path.join(self.out, "ib-sim.err"), "wb")
        self.procs["ib-sim"] = subprocess.Popen([sim, "ib-gateway", "--port", "0", "--control-port", "0",
                                                 "--seed", str(self.args.seed), "--rate", "50"],
                                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.ib_port = self.control_port = None
        for _ in range(200):
            out.seek(0)
            m = re.search(r"ib-gateway listening port=(\d+) control_port=(\d+)", out.read())
            if m:
                self.ib_port, self.control_port = int(m.group(1)), int(m.group(2))
                break
            time.sleep(0.05)
        if not self.ib_port:
            raise RuntimeError("ib simulator did not start")
        out = open(os.path.join(self.out, "av-sim.out"), "w+")
        err = open(os.path.join(self.out, "av-sim.err"), "wb")
        self.procs["av-sim"] = subprocess.Popen([sim, "alpha-vantage", "--port", "0", "--seed", str(self.args.seed),
                                                 "--delay-ms", "3000"],
                                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.av_base = None
        for _ in range(200):
            out.seek(0)
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)/query", out.read())
            if m:
                self.av_base = m.group(1)
                break
            time.sleep(0.05)
        if not self.av_base:
            raise RuntimeError("alpha vantage simulator did not start")

    def start_worker(self):
        config = os.path.join(self.out, "worker.yaml")
        with open(config, "w") as f:
            f.write(f"""worker:
  id: {self.worker_id}
  status_interval_seconds: 1
ib:
  port: {self.ib_port}
  client_id: 17
  client_id_pool: [18, 19]
  heartbeat_interval_seconds: 1
  connect_timeout_seconds: 2
  max_market_data_lines: {self.max_lines}
  reconnect:
    initial_delay_ms: 200
    max_delay_ms: 2000
redis:
  url: redis://127.0.0.1:{self.redis_port}/0
  key_prefix: {self.prefix}
  quote_ttl_seconds: 30
  option_ttl_seconds: 30
  scripts_dir: {self.args.lua}
symbols:
  - AAPL
  - MSFT
  - NVDA
  - symbol: SPY
    options:
      expirations: 1
      strikes_around_atm: 2
failover:
  max_reconnect_attempts: 3
  staleness_seconds: {self.staleness}
  check_interval_seconds: {self.check_interval}
  failback_stable_seconds: 3
alphavantage:
  base_url: {self.av_base}/query
  api_key: soak-key
  requests_per_minute: 600
  requests_per_day: 1000000
  entitlement: realtime
http:
  listen: 127.0.0.1:{free_port()}
log:
  level: info
""")
        binary = os.path.join(self.args.bin_dir, "quote-relay")
        self.worker_log = open(os.path.join(self.out, "worker.log"), "wb")
        self.procs["worker"] = subprocess.Popen([binary, "run", "--config", config], stdout=self.worker_log,
                                                stderr=self.worker_log, stdin=subprocess.DEVNULL)

    def stop_all(self):
        w = self.procs.get("worker")
        if w and w.poll() is None:
            w.send_signal(signal.SIGTERM)
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()
        for name, p in self.procs.items():
            if p.poll() is None:
                p.kill()
                p.wait()

    # ---- control -----------------------------------------------------------------------
    def ctl(self, line):
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as s:
            s.sendall((line + "\n").encode())
            return s.makefile().readline().strip()

    def av_mode(self, mode):
        with urllib.request.urlopen(f"{self.av_base}/_control?mode={mode}", timeout=5) as r:
            r.read()

    def admin(self, *cmd):
        return self.r.execute_command(*cmd)

    def redis_kill(self, hold):
        self.procs["redis"].kill()
        self.procs["redis"].wait()
        self.redis_up = False
        time.sleep(hold)  # sampled by nobody: Redis is down
        self.r = self.start_redis("redis", self.redis_port)
        self.redis_up = True
        self.forget_seq()

    def replica(self, hold):
        self.admin("REPLICAOF", "127.0.0.1", str(self.spare_port))
        self.forget_seq()
        self.hold(hold)
        self.admin("REPLICAOF", "NO", "ONE")
        self.forget_seq()

    def maxmemory(self, hold):
        used = int(self.r.info("memory")["used_memory"])
        self.admin("CONFIG", "SET", "maxmemory-policy", "noeviction")
        self.admin("CONFIG", "SET", "maxmemory", str(used))
        self.hold(hold)
        self.admin("CONFIG", "SET", "maxmemory", "0")

    def ib_window(self, start, stop, av=None):
        def run(hold):
            if av:
                self.av_mode(av)
            self.ctl(start)
            self.hold(hold)
            if stop:
                self.ctl(stop)
            if av:
                self.av_mode("ok")
        return run

    def ib_once(self, line):
        def run(hold):
            self.ctl(line)
            self.hold(hold)
        return run

    def faults_table(self):
        # name: (inject-and-heal(hold seconds), (min hold, max hold), data_loss)
        return {
            "ib-drop": (self.ib_once("drop"), (0.5, 2), False),
            "ib-refuse": (lambda h: (self.ctl(f"refuse {h:.1f}"), self.hold(h)), (1, 4), False),
            "ib-hang": (self.ib_window("hang", "resume"), (2, 6), False),
            "ib-stall": (self.ib_window("stall", "resume"), (2, 8), False),
            "ib-quiet": (self.ib_window("quiet", "resume"), (2, 6), False),
            "ib-farm-down": (self.ib_window("farm-down", "farm-up"), (1, 5), False),
            "ib-1100-1102": (self.ib_window("connectivity-lost", "connectivity-restored maintained"), (1, 4), False),
            "ib-1100-1101": (self.ib_window("connectivity-lost", "connectivity-restored lost"), (1, 4), False),
            "ib-10197": (self.ib_window("competing-session on", "competing-session off"), (1, 5), False),
            "ib-malformed": (self.ib_once("malformed"), (0.5, 1), False),
            "ib-slow-handshake+drop": (lambda h: (self.ctl("slow-handshake 1500"), self.ctl("drop"), self.hold(h),
                                                  self.ctl("slow-handshake 0")), (2, 3), False),
            "redis-kill-9": (self.redis_kill, (0.5, 3), True),
            "redis-script-flush": (lambda h: (self.admin("SCRIPT", "FLUSH"), self.hold(h)), (0.5, 1), False),
            "redis-replicaof": (self.replica, (1, 5), True),
            "redis-maxmemory": (self.maxmemory, (1, 5), False),
            "av-throttle": (self.ib_window("stall", "resume", av="throttle"), (3, 8), False),
            "av-daily-limit": (self.ib_window("stall", "resume", av="daily-limit"), (3, 8), False),
            "av-http-500": (self.ib_window("stall", "resume", av="http-500"), (3, 8), False),
            "av-malformed": (self.ib_window("stall", "resume", av="malformed"), (3, 8), False),
            "av-error": (self.ib_window("stall", "resume", av="error"), (3, 8), False),
            "av-slow": (self.ib_window("stall", "resume", av="slow"), (3, 8), False),
            # Issue 10's field behaviours: a warning on a live line (10090: part of the data not
            # subscribed, the line streams on), delayed data on one line (10167), a halted
            # instrument (tick 49), a stall that still acknowledges every request (81) but
            # sends no data, and 326 (another client holds the worker's client id).
            "ib-warning-10090": (self.ib_window("error AAPL 10090 keep", "resume"), (2, 6), False),
            "ib-delayed-10167": (self.ib_window("error MSFT 10167 keep", "resume"), (2, 6), False),
            "ib-halt": (self.ib_window("halt NVDA", "unhalt NVDA"), (2, 6), False),
            "ib-326": (self.client_id_taken, (1, 4), False),
        }

    def client_id_taken(self, hold):
        """Drops the worker's connection and, before it reconnects (its backoff starts at
        200 ms), another API client connects with the worker's client id: the gateway answers
        the worker's START_API with error 326 and closes (IB: "client id is already in use").
        The worker must take the next id of ib.client_id_pool."""
        status = self.r.hgetall(f"{self.prefix}:worker:{self.worker_id}")
        client_id = int(status.get("client_id") or 17)
        self.ctl("drop")
        sock = socket.create_connection(("127.0.0.1", self.ib_port), timeout=5)
        try:
            def frame(fields):
                body = b"".join(f.encode() + b"\0" for f in fields)
                return len(body).to_bytes(4, "big") + body
            version = b"v100..176"
            sock.sendall(b"API\0" + len(version).to_bytes(4, "big") + version)
            sock.recv(4096)  # server version and connection time
            sock.sendall(frame(["71", "2", str(client_id), ""]))  # START_API (msg 71, version 2)
            self.hold(hold)
        finally:
            sock.close()
        self.took_326 = getattr(self, "took_326", 0) + 1

    def check_values(self, when, retries=2):
        """The `value` invariant: pause the feed, let the worker write what it received, then
        compare each IB-served quote key with the last values the simulator sent."""
        try:
            self.ctl("quiet")
            paused_ms = self.redis_now_ms()
        except (OSError, redis.RedisError):
            return
        try:
            mismatches = []
            for attempt in range(retries + 2):
                time.sleep(0.8)
                # The status hash names the client id in use; only one written after the pause
                # began is current (it is rewritten every worker.status_interval_seconds, and
                # the worker may just have reconnected under another id, e.g. after 326).
                mismatches = self.value_mismatches(paused_ms)
                if not mismatches:
                    break
            for m in mismatches:
                self.violation("value", f"{when}: {m}")
            self.values_checked = getattr(self, "values_checked", 0) + 1
        finally:
            self.ctl("resume")

    def value_mismatches(self, paused_ms):
        out = []
        try:
            status = self.r.hgetall(f"{self.prefix}:worker:{self.worker_id}")
            if int(status.get("updated_ms") or 0) < paused_ms:
                return ["status hash not rewritten since the feed was paused"]
            hashes = {sym: self.r.hgetall(f"{self.prefix}:quote:{sym}") for sym in self.symbols}
        except redis.RedisError as e:
            return [f"cannot read Redis: {e}"]
        client_id = status.get("client_id")
        if not client_id:
            return ["status hash has no client_id"]
        for sym, h in hashes.items():
            # Only what claims to be IB's current value: a key flagged stale says it is not.
            if h.get("source") != "ib" or h.get("stale") == "1":
                continue
            reply = self.ctl(f"last {client_id} {sym}")
            groups = reply.split("conId=")[1:]
            if len(groups) != 1:
                out.append(f"{sym}: simulator reports {len(groups)} contracts: {reply}")
                continue
            sent = dict(part.split("=", 1) for part in groups[0].split()[1:])
            delayed = h.get("data_type", "").startswith("delayed")
            for field, (live, late) in {"bid": ("1", "66"), "ask": ("2", "67"), "last": ("4", "68")}.items():
                value = sent.get(late if delayed else live)
                if value is None:
                    continue  # never sent on this line type: nothing to compare
                have = h.get(field)
                if value == "none":
                    if have is not None:
                        out.append(f"{sym}: {field}={have} in Redis, the simulator's last {field} was none (absent)")
                elif have is None or abs(float(have) - float(value)) > 1e-9 * max(1.0, abs(float(value))):
                    out.append(f"{sym}: {field}={have} in Redis, last sent {value}")
        return out

    # ---- sampling and invariants -------------------------------------------------------
    def violation(self, kind, detail):
        self.violations.append({"t": round(self.now(), 2), "kind": kind, "detail": detail})
        self.log("VIOLATION", kind, detail)

    def forget_seq(self):
        self.seq.clear()
        self.grace_until = self.now() + self.check_interval + 2 * 1 + 1.5

    def hold(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sample()
            time.sleep(0.2)

    def redis_now_ms(self):
        sec, usec = self.r.time()
        return sec * 1000 + usec // 1000

    def sample(self):
        w = self.procs["worker"]
        if w.poll() is not None:
            self.violation("alive", f"worker exited with {w.returncode}")
            raise SystemExit(self.finish())
        try:
            now_ms = self.redis_now_ms()
            members = self.r.zrange(f"{self.prefix}:updated", 0, -1)
            pipe = self.r.pipeline(transaction=False)
            for m in members:
                pipe.hgetall(f"{self.prefix}:{m}")
                pipe.pttl(f"{self.prefix}:{m}")
            replies = pipe.execute()
            hashes, pttls = replies[0::2], replies[1::2]
            status = self.r.hgetall(f"{self.prefix}:worker:{self.worker_id}")
        except redis.RedisError:
            return None
        in_grace = self.now() < self.grace_until
        # A key whose TTL ran out leaves P:updated (staleness.lua prunes it, an `expired`
        # event): its next write starts a new key at seq 1, which is not seq going backwards.
        for gone in set(self.seq) - set(members):
            del self.seq[gone]
            self.expired += 1
        sampled = time.monotonic()
        for member, h, pttl in zip(members, hashes, pttls):
            if not h:
                self.seq.pop(member, None)
                continue
            self.check_record(member, h, now_ms, in_grace)
            if pttl and pttl > 0:
                self.expires[member] = sampled + pttl / 1000.0
        if not status and not in_grace:
            self.violation("alive", "status hash missing")
        elif status and status.get("state") not in {"connected", "degraded", "failover", "connecting",
                                                     "reconnecting", "starting", "disconnected"}:
            self.violation("alive", f"status state {status.get('state')!r}")
        self.sample_gateway()
        return now_ms, dict(zip(members, hashes)), status

    def check_record(self, member, h, now_ms, in_grace):
        source = h.get("source")
        dtype = h.get("data_type")
        if source not in ("ib", "alphavantage"):
            self.violation("mixed", f"{member} source={source!r}")
        elif dtype is not None and dtype not in (IB_TYPES if source == "ib" else AV_TYPES):
            self.violation("mixed", f"{member} source={source} data_type={dtype}")
        for field, value in h.items():
            if value == "":
                self.violation("garbage", f"{member} {field} is empty")
            elif field in PRICE_FIELDS or field in SIZE_FIELDS:
                if not NUMBER_RE.match(value) or not (0 <= float(value) < 1e9):
                    self.violation("garbage", f"{member} {field}={value}")
            elif field in ("change", "change_percent", "iv", "delta", "gamma", "vega", "theta"):
                if not NUMBER_RE.match(value):
                    self.violation("garbage", f"{member} {field}={value}")
        seq = int(h.get("seq", "0") or 0)
        if member in self.seq and seq < self.seq[member]:
            # A key whose TTL ran out (no data write for its whole TTL, e.g. options while the
            # worker served quotes from Alpha Vantage) starts again at seq 1; when the next write
            # comes before staleness.lua prunes the member, the key never left P:updated. That
            # is an expiry (the last PTTL seen says so, 0.5 s of sampling slack), not seq going
            # backwards.
            if time.monotonic() >= self.expires.get(member, float("inf")) - 0.5:
                self.expired += 1
            else:
                self.violation("seq", f"{member} seq {self.seq[member]} -> {seq}")
        self.seq[member] = seq
        updated = int(h.get("updated_ms", "0") or 0)
        age = (now_ms - updated) / 1000.0
        if age > self.bound and h.get("stale") != "1" and not in_grace:
            self.violation("silent-stale", f"{member} age {age:.1f}s stale={h.get('stale')} source={source}")

    def sample_gateway(self):
        if self.now() - getattr(self, "_last_gw", -10) < 1:
            return
        self._last_gw = self.now()
        try:
            reply = self.ctl("counters")
        except OSError:
            return
        m = re.search(r"subscriptions=(\d+)", reply)
        if m:
            lines = int(m.group(1))
            self.lines.append((round(self.now(), 1), lines))
            if lines > self.max_lines:
                self.violation("lines", f"{lines} lines in use > {self.max_lines}")
        if getattr(self, "steady", False) and (not self.resources or self.now() - self.resources[-1][0] >= 5):
            pid = self.procs["worker"].pid
            try:
                rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))
                fds = len(os.listdir(f"/proc/{pid}/fd"))
                self.resources.append((round(self.now(), 1), rss, fds))
            except (OSError, AttributeError):
                pass

    def healthy(self, snapshot, since_ms=0):
        """Every configured quote key present, stale=0, fresh, and confirmed by its source after
        `since_ms` (Redis TIME when the fault was healed): values from before the fault that
        are still young do not count as a recovery."""
        if snapshot is None:
            return False
        now_ms, records, status = snapshot
        if not status:
            return False
        for s in self.symbols:
            h = records.get(f"quote:{s}")
            if not h or h.get("stale") != "0" or now_ms - int(h.get("updated_ms", "0")) > self.staleness * 1000:
                return False
            if int(h.get("updated_ms", "0")) < since_ms:
                return False
        return True

    def check_status_truth(self, snapshot, when):
        now_ms, records, status = snapshot
        on_av = sorted(m for m, h in records.items() if m.startswith("quote:") and h.get("source") == "alphavantage")
        if on_av and status.get("source") != "alphavantage":
            self.violation("alive", f"{when}: {on_av} on alphavantage but status source={status.get('source')}")
        if not on_av and status.get("source") == "alphavantage" and not status.get("symbols_failover"):
            self.violation("alive", f"{when}: status source=alphavantage with no symbol on it")

    def wait_healthy(self, limit, since_ms=0):
        start = time.monotonic()
        while time.monotonic() - start < limit:
            snap = self.sample()
            if self.healthy(snap, since_ms):
                return time.monotonic() - start, snap
            time.sleep(0.1)
        return None, None

    # ---- the run -----------------------------------------------------------------------
    def run(self):
        self.redis_port, self.spare_port = free_port(), free_port()
        self.r = self.start_redis("redis", self.redis_port)
        self.start_redis("redis-spare", self.spare_port)
        self.start_sims()
        self.start_worker()
        self.log(f"redis {self.redis_port} spare {self.spare_port} ib {self.ib_port}/{self.control_port} av {self.av_base}")
        self.grace_until = float("inf")  # nothing is expected before the worker's first writes
        self.steady = False
        took, snap = self.wait_healthy(60)
        self.grace_until = 0.0
        self.steady = True
        if took is None:
            self.violation("recovered", "never healthy after start-up")
            return self.finish()
        self.hold(3)
        self.baseline_lines = self.lines[-1][1] if self.lines else None
        self.log(f"steady after {took:.1f}s, {self.baseline_lines} lines")
        table = self.faults_table()
        kinds = [k for k in table if k not in self.args.skip and (not self.args.only or k in self.args.only)]
        deck = []
        deadline = self.args.seconds
        while self.now() < deadline and len(self.faults) < self.args.max_faults:
            if not deck:
                deck = kinds[:]
                self.rng.shuffle(deck)
            kind = deck.pop()
            gap = self.rng.uniform(1, 4)
            self.hold(gap)
            inject, (lo, hi), _ = table[kind]
            hold = round(self.rng.uniform(lo, hi), 1)
            self.log(f"fault {len(self.faults) + 1}: {kind} for {hold}s")
            started = self.now()
            try:
                inject(hold)
            except (OSError, redis.RedisError) as e:
                self.violation("driver", f"{kind}: could not inject: {e}")
            healed = self.now()
            try:
                healed_ms = self.redis_now_ms()
            except redis.RedisError:
                healed_ms = 0
            took, snap = self.wait_healthy(self.args.recover_bound, healed_ms)
            if took is None:
                self.violation("recovered", f"{kind}: not healthy {self.args.recover_bound}s after healing")
                took, snap = self.wait_healthy(120)  # keep going if it comes back later
            else:
                self.check_status_truth(snap, f"after {kind}")
                self.check_values(f"after {kind}")
            self.faults.append({"kind": kind, "hold": hold, "start": round(started, 1), "healed": round(healed, 1),
                                "recover_s": None if took is None else round(took, 2)})
            self.log(f"  recovered in {took:.2f}s" if took is not None else "  NOT recovered")
        self.hold(max(5, self.staleness + 2))
        snap = self.sample()
        if snap:
            self.check_status_truth(snap, "end")
        self.check_values("end")
        if self.baseline_lines is not None and self.lines and self.lines[-1][1] > self.baseline_lines:
            self.violation("lines", f"{self.lines[-1][1]} lines at the end > {self.baseline_lines} at the start (leak)")
        return self.finish()

    def finish(self):
        res = self.resources
        growth = {}
        if len(res) >= 5:
            n = max(1, len(res) // 5)
            first, last = res[:n], res[-n:]
            growth = {"rss_kb_first": statistics.mean(r[1] for r in first), "rss_kb_last": statistics.mean(r[1] for r in last),
                      "fds_first": statistics.mean(r[2] for r in first), "fds_last": statistics.mean(r[2] for r in last)}
            if growth["fds_last"] - growth["fds_first"] > 16:
                self.violation("resources", f"fds grew {growth['fds_first']:.0f} -> {growth['fds_last']:.0f}")
            if growth["rss_kb_last"] > 2 * growth["rss_kb_first"]:
                self.violation("resources", f"RSS grew {growth['rss_kb_first']:.0f} -> {growth['rss_kb_last']:.0f} kB")
        per_kind = {}
        for f in self.faults:
            per_kind.setdefault(f["kind"], []).append(f["recover_s"])
        summary = {}
        for kind, times in sorted(per_kind.items()):
            ok = sorted(t for t in times if t is not None)
            summary[kind] = {"injected": len(times), "recovered": len(ok),
                             "p50": pct(ok, 50), "p99": pct(ok, 99), "max": ok[-1] if ok else None}
        result = {"seed": self.args.seed, "seconds": round(self.now(), 1), "faults": len(self.faults),
                  "value_checks": getattr(self, "values_checked", 0), "client_id_taken": getattr(self, "took_326", 0),
                  "keys_expired": self.expired,
                  "violations": self.violations, "per_kind": summary, "resources": res, "growth": growth,
                  "lines": {"baseline": self.baseline_lines, "max": max((l for _, l in self.lines), default=None),
                            "end": self.lines[-1][1] if self.lines else None, "limit": self.max_lines},
                  "fault_log": self.faults}
        with open(os.path.join(self.out, "result.json"), "w") as f:
            json.dump(result, f, indent=1)
        with open(os.path.join(self.out, "summary.md"), "w") as f:
            f.write(render(result))
        print(render(result))
        return 1 if self.violations else 0


def pct(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def render(r):
    out = [f"soak: seed {r['seed']}, {r['seconds']} s, {r['faults']} faults, {len(r['violations'])} invariant violations", "",
           "| fault | injected | recovered | p50 s | p99 s | max s |", "|---|---|---|---|---|---|"]
    for kind, s in r["per_kind"].items():
        out.append(f"| {kind} | {s['injected']} | {s['recovered']} | {s['p50']} | {s['p99']} | {s['max']} |")
    out += ["", f"keys that expired (left P:updated) during the run: {r.get('keys_expired')}",
            f"value checks (Redis equal to the simulator's last values, feed paused): {r.get('value_checks')}"]
    out += ["", f"lines: baseline {r['lines']['baseline']}, max {r['lines']['max']}, end {r['lines']['end']}, "
                f"limit {r['lines']['limit']}", "", "| t s | RSS MiB | fds |", "|---|---|---|"]
    res = r["resources"]
    step = max(1, len(res) // 12)
    for t, rss, fds in res[::step] + ([res[-1]] if res and (len(res) - 1) % step else []):
        out.append(f"| {t} | {rss / 1024:.1f} | {fds} |")
    if r["violations"]:
        out += ["", "violations:"] + [f"- {v['t']} s {v['kind']}: {v['detail']}" for v in r["violations"][:50]]
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--lua", required=True)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--max-faults", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--recover-bound", type=float, default=30)
    p.add_argument("--skip", nargs="*", default=[], help="fault kinds to leave out")
    p.add_argument("--only", nargs="*", default=[], help="only these fault kinds")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    soak = Soak(args)
    rc = 1
    try:
        rc = soak.run()
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    finally:
        soak.stop_all()
    sys.exit(rc)


if __name__ == "__main__":
    main()
