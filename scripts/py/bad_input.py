#!/usr/bin/env python3
"""Bad-input table for RELIABILITY.md (issue 11): feeds the quote-relay binary every kind of
bad input and records what it did, as observed from outside (exit code, the first problem line,
log lines, /readyz, metrics, whether the latest values landed afterwards).

Started by scripts/bad-input (binaries + venv). Loopback only. Prints a markdown table per part
and writes DIR/bad-input.md.

Parts:
  config  `quote-relay check-config` over one file (or environment variable) per class of
          invalid value
  ib      a fake gateway on loopback that answers the handshake with an unsupported server
          version, sends garbage or an oversized frame after the handshake; plus the
          simulator's `malformed` frames on live lines
  redis   a real redis-server made to answer the worker's writes with each error reply
          (READONLY, OOM, NOSCRIPT, NOPERM, BUSY, WRONGTYPE, MISCONF, WRONGPASS, NOAUTH)
"""
import argparse
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

import redis

sys.path.insert(0, os.path.dirname(__file__))
from soak import free_port  # noqa: E402

BASE = """worker:
  id: bad-1
  status_interval_seconds: 1
ib:
  port: {ib_port}
  client_id: 17
  heartbeat_interval_seconds: 1
  connect_timeout_seconds: 2
  reconnect:
    initial_delay_ms: 200
    max_delay_ms: 1000
redis:
  url: {redis_url}
  key_prefix: bad
  scripts_dir: {lua}
symbols: [AAPL, MSFT]
failover:
  staleness_seconds: 3
  check_interval_seconds: 1
http:
  listen: 127.0.0.1:{http_port}
"""

CONFIG_CASES = [
    # (class, file text or None for the base, extra environment)
    ("not YAML", "ib: [port: 1\n", {}),
    ("top level not a map", "- a\n- b\n", {}),
    ("unknown key", "{base}ib_port: 4002\n", {}),
    ("section given a value", "{base_no_log}log: info\n", {}),
    ("map where a value belongs", "{base}", {"_set": "worker.id={a: 1}"}),
    ("list where a value belongs", "{base_no_ib}ib:\n  port: [1, 2]\n", {}),
    ("text for an integer", "{base}", {"IB_PORT": "forty"}),
    ("port out of range", "{base}", {"IB_PORT": "70000"}),
    ("negative duration", "{base}", {"FAILOVER_STALENESS_SECONDS": "-1"}),
    ("zero where positive is required", "{base}", {"FAILOVER_CHECK_INTERVAL_SECONDS": "0"}),
    ("non-finite number", "{base}", {"IB_RECONNECT_MULTIPLIER": "nan"}),
    ("unknown enum value", "{base}", {"IB_MARKET_DATA_TYPE": "realtime"}),
    ("bad boolean", "{base}", {"REDIS_STREAM_ENABLED": "maybe"}),
    ("bad Redis URL scheme", "{base}", {"REDIS_URL": "http://127.0.0.1:6379"}),
    ("TLS Redis URL (rediss://, valid since TLS support)", "{base}", {"REDIS_URL": "rediss://u:Secret-PW-1@h:6379/0"}),
    ("bad Redis URL port, with a password", "{base}", {"REDIS_URL": "redis://u:Secret-PW-1@h:99999/0"}),
    ("bad http.listen", "{base}", {"HTTP_LISTEN": "localhost"}),
    ("bad alphavantage.base_url", "{base}", {"ALPHAVANTAGE_BASE_URL": "ftp://x"}),
    ("empty symbol list", "{base_no_symbols}symbols: []\n", {}),
    ("duplicate symbol", "{base_no_symbols}symbols: [AAPL, aapl]\n", {}),
    ("bad sec_type", "{base_no_symbols}symbols: [{{symbol: X, sec_type: XYZ}}]\n", {}),
    ("negative strikes_around_atm", "{base_no_symbols}symbols: [{{symbol: SPY, options: {{strikes_around_atm: -1}}}}]\n", {}),
    ("daily budget below per-minute", "{base}", {"ALPHAVANTAGE_REQUESTS_PER_MINUTE": "10", "ALPHAVANTAGE_REQUESTS_PER_DAY": "5"}),
    ("client id in its own pool", "{base}", {"IB_CLIENT_ID_POOL": "17,18"}),
    ("unknown --set key", "{base}", {"_set": "ib.prot=1"}),
    ("--set without =", "{base}", {"_set": "ib.port"}),
    ("missing file", None, {}),
]


def run(cmd, env=None, timeout=30):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class BadInput:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        os.makedirs(self.out, exist_ok=True)
        self.binary = os.path.join(args.bin_dir, "quote-relay")
        self.sim = os.path.join(args.bin_dir, "quote-relay-sim")
        self.rows = {"config": [], "ib": [], "redis": []}

    # ---- configuration -------------------------------------------------------------------
    def config(self):
        base = BASE.format(ib_port=4002, redis_url="redis://127.0.0.1:6379/0", lua=self.args.lua, http_port=9464)
        no = lambda section: re.sub(rf"^{section}:.*?(?=^\S|\Z)", "", base, flags=re.S | re.M)
        for name, text, env in CONFIG_CASES:
            path = os.path.join(self.out, "bad.yaml")
            if text is None:
                path = os.path.join(self.out, "no-such-file.yaml")
            else:
                with open(path, "w") as f:
                    f.write(text.format(base=base, base_no_log=base, base_no_ib=no("ib"), base_no_symbols=no("symbols")))
            environment = {"PATH": "/usr/bin:/bin", "ALPHAVANTAGE_API_KEY": "Secret-AV-2"}
            cmd = [self.binary, "check-config", "--config", path, "--quiet"]
            for k, v in env.items():
                if k == "_set":
                    cmd += ["--set", v]
                else:
                    environment[k] = v
            rc, out, err = run(cmd, environment)
            lines = [l.strip() for l in (err + out).splitlines()
                     if l.strip() and not re.search(r"invalid configuration|problems?\):$", l)
                     and (rc == 0 or not l.startswith("warning:"))]
            first = lines[0] if lines else "(no output)"
            leaked = "Secret-PW-1" in out + err or "Secret-AV-2" in out + err
            self.rows["config"].append((name, rc, first + (" **SECRET SHOWN**" if leaked else "")))

    # ---- worker helpers ------------------------------------------------------------------
    def start_worker(self, ib_port, redis_url, tag):
        http_port = free_port()
        config = os.path.join(self.out, f"{tag}.yaml")
        with open(config, "w") as f:
            f.write(BASE.format(ib_port=ib_port, redis_url=redis_url, lua=self.args.lua, http_port=http_port))
        log = open(os.path.join(self.out, f"{tag}.log"), "wb")
        p = subprocess.Popen([self.binary, "run", "--config", config], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        return p, http_port, os.path.join(self.out, f"{tag}.log")

    @staticmethod
    def stop(p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    @staticmethod
    def http(port, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return None, str(e)

    @staticmethod
    def log_lines(path, pattern, limit=2):
        with open(path, errors="replace") as f:
            hits = [l.strip() for l in f if re.search(pattern, l) and "quote-relay starting" not in l
                    and "configuration: " not in l]
        uniq = []
        for h in hits:
            h = re.sub(r"^\S+ ", "", h)[:160]
            if h not in uniq:
                uniq.append(h)
        return uniq[:limit], len(hits)

    @staticmethod
    def metric(text, name):
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name):
                try:
                    total += float(line.rsplit(" ", 1)[1])
                except ValueError:
                    pass
        return total

    # ---- IB ------------------------------------------------------------------------------
    def fake_gateway(self, behaviour):
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(0.5)
        state = {"connections": 0, "stop": False}

        def frame(fields):
            payload = b"".join(f.encode() + b"\0" for f in fields)
            return struct.pack(">I", len(payload)) + payload

        def serve():
            while not state["stop"]:
                try:
                    conn, _ = server.accept()
                except socket.timeout:
                    continue
                state["connections"] += 1
                try:
                    conn.settimeout(2)
                    conn.recv(4096)  # "API\0" + the version range
                    if behaviour == "version":
                        conn.sendall(frame(["99", "20261129 12:00:00 EST"]))
                    else:
                        conn.sendall(frame(["176", "20261129 12:00:00 EST"]))
                        time.sleep(0.2)
                        if behaviour == "garbage":
                            conn.sendall(os.urandom(64) + b"\x00\x00\x00\x05hello")
                        elif behaviour == "oversized":
                            conn.sendall(struct.pack(">I", 0x7FFFFFFF) + b"x" * 100)
                        elif behaviour == "nonnumeric":
                            conn.sendall(frame(["9", "1", "abc"]))
                    time.sleep(1)
                except OSError:
                    pass
                finally:
                    conn.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        return server.getsockname()[1], state, server

    def ib(self, redis_url):
        cases = [
            ("unsupported server version (99) in the hello", "version", r"version|99"),
            ("garbage bytes after the handshake", "garbage", r"(?i)frame|protocol|decode|invalid|length"),
            ("oversized frame length (0x7FFFFFFF)", "oversized", r"(?i)frame|length|oversiz|too (long|large)"),
            ("non-numeric field in NEXT_VALID_ID", "nonnumeric", r"(?i)number|decode|invalid"),
        ]
        for name, behaviour, pattern in cases:
            port, state, server = self.fake_gateway(behaviour)
            p, http_port, log = self.start_worker(port, redis_url, f"ib-{behaviour}")
            time.sleep(6)
            alive = p.poll() is None
            status, body = self.http(http_port, "/readyz")
            lines, n = self.log_lines(log, pattern)
            state["stop"] = True
            self.stop(p)
            server.close()
            self.rows["ib"].append((name, f"alive={alive}, {state['connections']} connection attempts in 6 s, readyz {status}",
                                    "; ".join(lines) or "(no matching log line)"))
        # The simulator's malformed frames on live lines.
        sim_out = open(os.path.join(self.out, "sim.out"), "w+")
        sim = subprocess.Popen([self.sim, "ib-gateway", "--port", "0", "--control-port", "0", "--seed", "5", "--rate", "50"],
                               stdout=sim_out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        m = None
        for _ in range(100):
            sim_out.seek(0)
            m = re.search(r"port=(\d+) control_port=(\d+)", sim_out.read())
            if m:
                break
            time.sleep(0.05)
        ib_port, control = int(m.group(1)), int(m.group(2))
        p, http_port, log = self.start_worker(ib_port, redis_url, "ib-malformed")
        time.sleep(4)
        r = redis.Redis.from_url(redis_url, decode_responses=True)
        before = r.hget("bad:quote:AAPL", "seq")
        with socket.create_connection(("127.0.0.1", control)) as s:
            s.sendall(b"malformed\n")
            s.makefile().readline()
        time.sleep(3)
        after = r.hget("bad:quote:AAPL", "seq")
        _, metrics = self.http(http_port, "/metrics")
        skipped = self.metric(metrics, "quote_relay_ib_messages_skipped_total")
        lines, n = self.log_lines(log, r"(?i)skipp|malformed|unknown message|decode")
        bid = r.hget("bad:quote:AAPL", "bid")
        self.rows["ib"].append(("malformed frames on live lines (unknown id, non-numeric price, truncated tick)",
                                f"alive={p.poll() is None}, AAPL seq {before} -> {after}, bid {bid}, "
                                f"quote_relay_ib_messages_skipped_total {skipped:.0f}", "; ".join(lines) or "(no matching log line)"))
        self.stop(p)
        sim.kill()
        sim.wait()
        return ib_port

    # ---- Redis -----------------------------------------------------------------------------
    def redis_case(self, name, setup, inject, heal, pattern, server_args=(), url_user=None):
        port = free_port()
        srv = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", self.out, "--logfile", ""] + list(server_args),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        admin_pw = "admin-pw" if "--requirepass" in server_args else None
        self.current_port = port
        admin = redis.Redis(port=port, password=admin_pw, decode_responses=True, socket_timeout=10)
        for _ in range(100):
            try:
                admin.ping()
                break
            except redis.RedisError:
                time.sleep(0.05)
        url = setup(admin, port) if setup else f"redis://127.0.0.1:{port}/0"
        p, http_port, log = self.start_worker(self.sim_port, url, f"redis-{name.split()[0]}")
        try:
            self.observe_redis_case(name, inject, heal, pattern, admin, port, p, http_port, log)
        finally:
            self.stop(p)
            srv.kill()
            srv.wait()

    def observe_redis_case(self, name, inject, heal, pattern, admin, port, p, http_port, log):
        time.sleep(4)
        extra = inject(admin, port) if inject else None
        time.sleep(4)
        status, body = self.http(http_port, "/readyz")
        _, metrics = self.http(http_port, "/metrics")
        errors = self.metric(metrics, "quote_relay_redis_write_errors_total")
        lines, n = self.log_lines(log, r"(?i)refused|" + pattern.replace("(?i)", ""), limit=3)
        healed_note = ""
        if heal:
            heal(admin, port, extra)
            time.sleep(4)
            try:
                sec, usec = admin.time()
                now_ms = int(sec) * 1000 + int(usec) // 1000
                upd = admin.hget("bad:quote:AAPL", "updated_ms")
                stale = admin.hget("bad:quote:AAPL", "stale")
                healed_note = (f"; after healing: AAPL updated {((now_ms - int(upd)) / 1000):.1f} s ago, stale={stale}"
                               if upd else "; after healing: AAPL missing")
            except redis.RedisError as e:
                healed_note = f"; after healing: {e}"
        alive = p.poll() is None
        self.rows["redis"].append((name, f"alive={alive}, readyz {status} {body.strip()[:90]}, "
                                         f"write errors {errors:.0f}{healed_note}",
                                   "; ".join(lines) or "(no matching log line)"))

    def redis(self):
        spare = free_port()
        spare_srv = subprocess.Popen(["redis-server", "--port", str(spare), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--logfile", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

        def acl_user(minus):
            def setup(admin, port):
                text = open(os.path.join(os.path.dirname(self.args.lua), "config", "redis-acl.conf")).read()
                line = next(l for l in text.splitlines() if l.startswith("user "))
                words = [w.replace("mkt:", "bad:").replace(">CHANGE-ME", ">relay-pw") for w in line.split()[1:]]
                words = [w for w in words if w != minus]
                admin.execute_command("ACL", "SETUSER", *words)
                return f"redis://quote-relay:relay-pw@127.0.0.1:{port}/0"
            return setup

        busy_thread = {}

        def busy(admin, port):
            admin.config_set("busy-reply-threshold", 500)
            c = redis.Redis(port=port, password="admin-pw" if False else None, socket_timeout=30)
            t = threading.Thread(target=lambda: self._ignore(lambda: c.eval("local i = 0 while true do i = i + 1 end", 0)),
                                 daemon=True)
            t.start()
            busy_thread["t"] = t

        def unbusy(admin, port, _):
            for _ in range(20):
                try:
                    redis.Redis(port=port).script_kill()
                    break
                except redis.RedisError:
                    time.sleep(0.2)

        cases = [
            ("READONLY (made a replica)", None, lambda a, p: a.replicaof("127.0.0.1", spare),
             lambda a, p, x: a.replicaof("NO", "ONE"), r"READONLY"),
            ("OOM (maxmemory, noeviction)", None,
             lambda a, p: (a.config_set("maxmemory-policy", "noeviction"), a.config_set("maxmemory", 1)),
             lambda a, p, x: a.config_set("maxmemory", 0), r"OOM"),
            ("NOSCRIPT (SCRIPT FLUSH)", None, lambda a, p: a.script_flush(), None, r"(?i)NOSCRIPT|reloaded"),
            ("NOPERM (ACL without +publish)", acl_user("+publish"), None, None, r"(?i)NOPERM|permission"),
            ("NOPERM (ACL without +evalsha)", acl_user("+evalsha"), None, None, r"(?i)NOPERM|permission"),
            ("BUSY (a script running past busy-reply-threshold)", None, busy, unbusy, r"(?i)BUSY|timed? ?out|\bio\b"),
            ("WRONGTYPE (P:updated is a string)", None, lambda a, p: a.set("bad:updated", "x"),
             lambda a, p, x: a.delete("bad:updated"), r"WRONGTYPE"),
            ("MISCONF (RDB save failing)", None,
             lambda a, p: (a.config_set("stop-writes-on-bgsave-error", "yes"), a.config_set("dir", "/proc"),
                           self._ignore(lambda: a.bgsave())),
             lambda a, p, x: (a.config_set("stop-writes-on-bgsave-error", "no")), r"MISCONF",
             ("--enable-protected-configs", "yes", "--save", "3600 1")),
            ("WRONGPASS (wrong password in redis.url)", lambda a, p: f"redis://:wrong@127.0.0.1:{p}/0", None, None,
             r"(?i)WRONGPASS|auth", ("--requirepass", "admin-pw")),
            ("NOAUTH (no password in redis.url)", lambda a, p: f"redis://127.0.0.1:{p}/0", None, None, r"(?i)NOAUTH|auth",
             ("--requirepass", "admin-pw")),
        ]
        for case in cases:
            name, setup, inject, heal, pattern = case[:5]
            server_args = case[5] if len(case) > 5 else ()
            try:
                self.redis_case(name, setup, inject, heal, pattern, server_args)
            except Exception as e:  # a driver problem is reported, not hidden
                self.rows["redis"].append((name, f"driver error: {e}", ""))
        spare_srv.kill()
        spare_srv.wait()

    @staticmethod
    def _ignore(f):
        try:
            f()
        except Exception:
            pass

    def run(self):
        parts = self.args.parts
        sim_out = open(os.path.join(self.out, "sim-main.out"), "w+")
        self.sim_proc = subprocess.Popen([self.sim, "ib-gateway", "--port", "0", "--control-port", "0", "--seed", "5",
                                          "--rate", "50"], stdout=sim_out, stderr=subprocess.DEVNULL)
        for _ in range(100):
            sim_out.seek(0)
            m = re.search(r"port=(\d+) control_port=(\d+)", sim_out.read())
            if m:
                self.sim_port = int(m.group(1))
                break
            time.sleep(0.05)
        rport = free_port()
        rsrv = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                 "no", "--logfile", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        try:
            if "config" in parts:
                self.config()
            if "ib" in parts:
                self.ib(f"redis://127.0.0.1:{rport}/0")
            if "redis" in parts:
                self.redis()
        finally:
            rsrv.kill()
            self.sim_proc.kill()
        md = []
        headers = {"config": ("invalid value class", "exit", "first line check-config printed"),
                   "ib": ("bad input from the gateway", "what the worker did", "log"),
                   "redis": ("Redis error reply", "what the worker did", "log")}
        for part in parts:
            h = headers[part]
            md += ["", f"| {h[0]} | {h[1]} | {h[2]} |", "|---|---|---|"]
            for row in self.rows[part]:
                md.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
        text = "\n".join(md) + "\n"
        with open(os.path.join(self.out, "bad-input.md"), "w") as f:
            f.write(text)
        print(text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--lua", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--parts", nargs="*", default=["config", "ib", "redis"])
    BadInput(p.parse_args()).run()


if __name__ == "__main__":
    main()
