#!/usr/bin/env python3
"""What Redis pays per published update (issue 15 item 4), for several versions of publish.lua
side by side on ONE redis-server, interleaved per round (the machine is shared and noisy).

For every variant and record kind it runs redis-benchmark (-c 1 -P 64, one connection like the
worker's writer) with the exact command the worker sends (Sources/RedisPublisher/Writer+batch.swift
`encodePublish`: EVALSHA sha 3 KEY P:updated P:stream member updated_ms ttl_ms payload maxlen
age_ms stale S seq 0 name value ...), over a fixed set of keys that already exist (the worker
rewrites the same keys all day), with one pattern subscriber attached (PUBLISH fans out to it,
as in production). After each run it reads, from Redis itself:

- INFO commandstats: usec_per_call of EVALSHA (or FCALL): Redis' time inside the command,
  inner commands included = Redis-side microseconds per update;
- INFO latencystats: p50/p99 of that command (Redis 7 latency tracking);
- redis-server's own CPU time over the run (/proc/PID/stat) / requests: everything Redis spent
  per update, parsing the ~60 arguments and writing replies included;
- SLOWLOG: calls slower than 1 ms; LATENCY LATEST: events over 1 ms.

Variants are given as NAME=PATH (a script, run with EVALSHA) or fn:NAME=PATH (the same script
body registered as a Redis Function with FUNCTION LOAD and run with FCALL). Before measuring,
every variant is checked against the first one for the same effects: the hash's fields (also
after a write that drops fields and switches source), seq, TTL, the P:updated entry, the
published message, the fence. Prints a table and writes JSON (--json).
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time


# ---------------------------------------------------------------- a minimal RESP client

class Redis:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _read_line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._read_line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RedisErrorReply(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._read_exact(n).decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(f"unexpected reply {line!r}")

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))

    def call(self, *args):
        self.send(*args)
        return self.read()


class RedisErrorReply(str):
    pass


def info(r, section):
    out = {}
    for line in r.call("INFO", section).splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def parse_kv(text):
    return dict(p.split("=", 1) for p in text.split(","))


# ---------------------------------------------------------------- the worker's command

QUOTE = [
    ("symbol", "AAPL"), ("bid", "190.12"), ("bid_size", "300"), ("ask", "190.14"), ("ask_size", "500"),
    ("last", "190.13"), ("last_size", "100"), ("volume", "48123400"), ("open", "189.5"), ("high", "191.2"),
    ("low", "188.9"), ("close", "189.8"), ("change", "0.33"), ("change_percent", "0.1739"),
    ("last_trade_ms", "1764130000000"), ("updated_ms", "1764130000123"), ("source", "ib"), ("data_type", "live"),
]
OPTION = [
    ("symbol", "SPY"), ("expiry", "20261218"), ("strike", "450"), ("right", "C"), ("con_id", "700000000"),
    ("trading_class", "SPY"), ("multiplier", "100"),
    ("bid", "12.35"), ("bid_size", "10"), ("ask", "12.4"), ("ask_size", "12"), ("last", "12.37"), ("last_size", "1"),
    ("volume", "1234"), ("open_interest", "5678"), ("iv", "0.2345"), ("bid_iv", "0.2331"), ("ask_iv", "0.2359"),
    ("last_iv", "0.2344"), ("delta", "0.5123"), ("gamma", "0.0123"), ("vega", "0.456"), ("theta", "-0.0789"),
    ("und_price", "450.12"), ("model_price", "12.38"), ("updated_ms", "1764130000123"), ("source", "ib"),
    ("data_type", "live"),
]
KINDS = {"quote": QUOTE, "option": OPTION}
PREFIX = "rb"


def json_value(v):
    try:
        float(v)
        return v
    except ValueError:
        return json.dumps(v)


def payload(fields, key, kind):
    body = ",".join(f"{json.dumps(k)}:{json_value(v)}" for k, v in fields)
    return "{" + body + f',"key":{json.dumps(key)},"type":"{kind}"' + "}"


# What one update typically changes (the delta estimate): a quote's bid tick with its size and
# the volume; an option's quote and its model computation (tick 13).
CHANGED = {"quote": {"bid", "bid_size", "volume", "updated_ms"},
           "option": {"bid", "bid_size", "iv", "delta", "gamma", "vega", "theta", "und_price", "model_price",
                      "updated_ms"}}


def script_args(kind, fields, key_suffix, age="3", stale="0", fence=None, delta=False):
    """KEYS and ARGV of one publish.lua call, laid out like Writer.encodePublish (delta: the
    layout of benchmarks/redis/publish_delta_estimate.lua, only the fields in CHANGED)."""
    key = f"{PREFIX}:{kind}:{key_suffix}"
    keys = [key, f"{PREFIX}:updated", f"{PREFIX}:stream"]
    if fence:
        keys.append(fence[0])
    argv = [f"{kind}:{key_suffix}", "1764130000123", "300000", payload(fields, key, kind), "0", age]
    if delta:
        argv.append(str(len(fields)))
    argv += ["stale", stale, "seq", "0"]
    for k, v in fields:
        if not delta or k in CHANGED[kind]:
            argv += [k, v]
    if fence:
        argv.append(fence[1])
    return keys, argv


class Variant:
    def __init__(self, spec):
        self.function = spec.startswith("fn:")
        self.delta = spec.startswith("delta:")
        name, path = spec.split(":", 1)[1].split("=", 1) if (self.function or self.delta) else spec.split("=", 1)
        self.name, self.path = name, path
        self.text = open(path).read()
        self.handle = None

    def load(self, r):
        if self.function:
            body = self.text
            if body.startswith("#!"):
                body = "--" + body[2:]
            lib = f"qrbench_{self.name}".replace("-", "_")
            fn = f"publish_{self.name}".replace("-", "_")
            code = f"#!lua name={lib}\nredis.register_function('{fn}', function(KEYS, ARGV)\n{body}\nend)\n"
            reply = r.call("FUNCTION", "LOAD", "REPLACE", code)
            if isinstance(reply, RedisErrorReply):
                raise RuntimeError(f"FUNCTION LOAD {self.name}: {reply}")
            self.handle = fn
        else:
            reply = r.call("SCRIPT", "LOAD", self.text)
            if isinstance(reply, RedisErrorReply):
                raise RuntimeError(f"SCRIPT LOAD {self.name}: {reply}")
            self.handle = reply

    @property
    def command_name(self):
        return "fcall" if self.function else "evalsha"

    def command(self, keys, argv):
        return ["FCALL" if self.function else "EVALSHA", self.handle, str(len(keys))] + keys + argv


# ---------------------------------------------------------------- same effects check

def effects(r, sub, variant, tag):
    """Runs a sequence of writes with `variant` on keys of its own and returns what a reader sees."""
    seen = []
    lease = f"{PREFIX}:check:{tag}:lease"
    r.call("SET", lease, "tok")
    steps = [
        ("quote", QUOTE, {}),
        ("quote", [(k, "191" if k == "bid" else v) for k, v in QUOTE], {}),  # same fields, new value
        ("quote", [(k, v) for k, v in QUOTE if k not in ("open", "high", "low")], {"stale": "1"}),  # fields gone
        ("quote", [(k, "alphavantage" if k == "source" else v) for k, v in QUOTE if k in
                   ("symbol", "bid", "ask", "last", "volume", "updated_ms", "source", "data_type")] + [("extra", "x")],
         {}),  # source switch with other fields
        ("quote", QUOTE, {"fence": (lease, "tok")}),
        ("quote", QUOTE, {"fence": (lease, "other")}),  # refused by the fence: nothing changes
        ("option", OPTION, {}),
        ("option", OPTION, {"age": ""}),  # score = updated_ms
    ]
    out = []
    for kind, fields, opts in steps:
        keys, argv = script_args(kind, fields, f"check{tag}", age=opts.get("age", "3"),
                                 stale=opts.get("stale", "0"), fence=opts.get("fence"))
        reply = r.call(*variant.command(keys, argv))
        h = r.call("HGETALL", keys[0])
        h = dict(zip(h[0::2], h[1::2]))
        score = r.call("ZSCORE", f"{PREFIX}:updated", f"{kind}:check{tag}")
        pttl = r.call("PTTL", keys[0])
        out.append({
            "reply": str(reply).split(" this worker")[0],
            "hash": h,
            "has_score": score is not None,
            "ttl_ok": isinstance(pttl, int) and 290_000 < pttl <= 300_000,
        })
    # messages: the subscriber saw one per accepted write
    msgs = []
    sub.sock.settimeout(1.0)
    try:
        while True:
            m = sub.read()
            if isinstance(m, list) and m and m[0] == "pmessage" and m[2].endswith(f"check{tag}"):
                msgs.append(m[3].replace(f"check{tag}", "checkX"))
                if len(msgs) == 7:
                    break
    except (socket.timeout, TimeoutError):
        pass
    for o in out:
        o["hash"] = {k: v.replace(f"check{tag}", "checkX") for k, v in o["hash"].items()}
    return out, msgs


# ---------------------------------------------------------------- measuring

def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def callgrind_counts(args, variant):
    """Dumps the callgrind counters of the server (zeroed before the run) and returns
    (instructions in the whole server, instructions inside EVALSHA/FCALL), summed over the run."""
    before = set(os.listdir(args.callgrind_dir))
    subprocess.run(["callgrind_control", "-d", str(args.callgrind_pid)], capture_output=True, check=True)
    for _ in range(600):
        new = [f for f in set(os.listdir(args.callgrind_dir)) - before if not f.endswith(".tmp")]
        if new:
            break
        time.sleep(0.5)
    else:
        raise RuntimeError("callgrind wrote no dump")
    path = os.path.join(args.callgrind_dir, new[0])
    time.sleep(1)
    total = None
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):
                total = int(line.split()[1])
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         capture_output=True, text=True).stdout
    fn = "fcallCommand" if variant.function else "evalShaCommand"
    inside = None
    for line in out.splitlines():
        if line.rstrip().endswith("]") and f":{fn} [" in line:
            inside = int(line.split()[0].replace(",", ""))
            break
    os.remove(path)
    return total, inside


def benchmark(args, cmd, requests, timeout):
    """redis-benchmark with one connection and -P 64, like the worker's writer. (It sometimes
    gives up with "All clients disconnected" on this loaded machine; run_one tries again.)"""
    return subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(args.redis_port), "-c", "1", "-P", "64",
                           "-n", str(requests), "-r", str(args.keys), "--csv"] + cmd,
                          capture_output=True, text=True, timeout=timeout)


def run_one(args, r, variant, kind, requests):
    keys, argv = script_args(kind, KINDS[kind], "__rand_int__", delta=variant.delta)
    cmd = variant.command(keys, argv)
    if args.callgrind_pid:
        # Instruction counts: repeatable on a noisy machine (valgrind counts, nothing is timed).
        for attempt in range(3):
            r.call("CONFIG", "RESETSTAT")
            subprocess.run(["callgrind_control", "-z", str(args.callgrind_pid)], capture_output=True, check=True)
            out = benchmark(args, cmd, requests, 3600)
            if out.returncode == 0:
                break
            print(f"  (redis-benchmark failed, attempt {attempt + 1}: {out.stderr.strip()[-200:]}; again)", flush=True)
        else:
            raise RuntimeError(f"{variant.name} {kind}: redis-benchmark: {out.stderr[-300:]}")
        cs = parse_kv(info(r, "commandstats")[f"cmdstat_{variant.command_name}"])
        total, inside = callgrind_counts(args, variant)
        calls = int(cs["calls"])
        return {"variant": variant.name, "kind": kind, "calls": calls,
                "instructions_per_update": total / calls, "instructions_in_command_per_update": inside / calls}
    for attempt in range(3):
        r.call("CONFIG", "RESETSTAT")
        r.call("SLOWLOG", "RESET")
        r.call("LATENCY", "RESET")
        cpu0 = proc_cpu_seconds(args.redis_pid)
        t0 = time.monotonic()
        out = benchmark(args, cmd, requests, 900)
        elapsed = time.monotonic() - t0
        cpu = proc_cpu_seconds(args.redis_pid) - cpu0
        if out.returncode == 0:
            break
        print(f"  (redis-benchmark failed, attempt {attempt + 1}: {out.stderr.strip()[-200:]}; again)", flush=True)
    if out.returncode != 0:
        raise RuntimeError(f"{variant.name} {kind}: redis-benchmark: {out.stderr[-300:]} {out.stdout[-300:]}")
    stats = info(r, "commandstats")
    cs = parse_kv(stats[f"cmdstat_{variant.command_name}"])
    if int(cs.get("failed_calls", 0)) or int(cs.get("rejected_calls", 0)):
        raise RuntimeError(f"{variant.name}: failed calls {cs}")
    lat = info(r, "latencystats").get(f"latency_percentiles_usec_{variant.command_name}", "")
    lat = parse_kv(lat) if lat else {}
    inner = {k[len("cmdstat_"):]: float(parse_kv(v)["usec_per_call"]) for k, v in stats.items()
             if k.startswith("cmdstat_") and k[8:] not in ("evalsha", "fcall", "config", "slowlog", "latency")}
    calls = int(cs["calls"])
    return {
        "variant": variant.name, "kind": kind, "calls": calls,
        "usec_per_call": float(cs["usec_per_call"]),
        "p50_usec": float(lat.get("p50", "nan")), "p99_usec": float(lat.get("p99", "nan")),
        "redis_cpu_usec_per_update": cpu / calls * 1e6,
        "updates_per_s": calls / elapsed,
        "slowlog_over_1ms": r.call("SLOWLOG", "LEN"),
        "latency_events_over_1ms": len(r.call("LATENCY", "LATEST")),
        "inner_usec_per_call": inner,
    }


def subscriber_process(port):
    """A pattern subscriber that reads and discards everything (its own process)."""
    code = (
        "import socket,sys\n"
        f"s=socket.create_connection(('127.0.0.1',{port}))\n"
        f"s.sendall(b'*2\\r\\n$10\\r\\nPSUBSCRIBE\\r\\n${len(PREFIX) + 2}\\r\\n{PREFIX}:*\\r\\n')\n"
        "s.recv(4096); print('ok', flush=True)\n"
        "while s.recv(1<<20): pass\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ok":
        raise RuntimeError("subscriber did not start")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--redis-pid", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--keys", type=int, default=1000, help="distinct keys rewritten (they exist before measuring)")
    ap.add_argument("--kinds", default="quote,option")
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--callgrind-pid", type=int, help="the server runs under valgrind --tool=callgrind (this pid): "
                    "count instructions instead of timing")
    ap.add_argument("--callgrind-dir", help="where that callgrind writes its dumps")
    ap.add_argument("variants", nargs="+", help="NAME=PATH (EVALSHA) or fn:NAME=PATH (FCALL)")
    args = ap.parse_args()

    r = Redis(args.redis_port)
    if args.callgrind_pid:
        # Nothing but the commands: no slow log entries (under valgrind every call is "slow",
        # and an entry copies the ~60 arguments), and the 1 Hz minimum of the time-driven cron.
        r.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
        r.call("CONFIG", "SET", "latency-monitor-threshold", "0")
        r.call("CONFIG", "SET", "hz", "1")
    else:
        r.call("CONFIG", "SET", "slowlog-log-slower-than", "1000")
        r.call("CONFIG", "SET", "slowlog-max-len", "100000")
        r.call("CONFIG", "SET", "latency-monitor-threshold", "1")
    variants = [Variant(s) for s in args.variants]
    for v in variants:
        v.load(r)

    # Same effects as the first variant.
    sub = Redis(args.redis_port)
    sub.call("PSUBSCRIBE", f"{PREFIX}:*")
    reference = None
    for i, v in enumerate(variants):
        if v.delta:
            print(f"check: {v.name} is an estimate (changed fields only), not checked")
            continue
        got = effects(r, sub, v, str(i))
        if reference is None:
            reference = got
            if len(got[1]) != 7:
                raise SystemExit(f"the reference published {len(got[1])} messages, expected 7")
        elif got != reference:
            for a, b in zip(got[0], reference[0]):
                if a != b:
                    print(f"  {v.name}: {a}\n  {variants[0].name}: {b}")
            if got[1] != reference[1]:
                print(f"  messages differ:\n  {got[1]}\n  {reference[1]}")
            raise SystemExit(f"variant {v.name} does not have the same effects as {variants[0].name}")
        print(f"check: {v.name} has the same effects as {variants[0].name}" if i else
              f"check: reference {v.name}: {len(got[0])} writes, {len(got[1])} messages")
    sub.sock.close()

    kinds = args.kinds.split(",")
    # Every key the runs touch exists with the full record first (redis-benchmark replaces
    # __rand_int__ with a 12-digit number below --keys): the worker rewrites existing keys.
    for k in kinds:
        for i in range(args.keys):
            keys, argv = script_args(k, KINDS[k], f"{i:012d}")
            r.send(*variants[0].command(keys, argv))
        for i in range(args.keys):
            if isinstance(r.read(), RedisErrorReply):
                raise SystemExit("pre-populating the keys failed")
    subscriber = subscriber_process(args.redis_port)
    results = []
    try:
        # Warm-up: every key exists (and every script/function has run) before measuring.
        for v in variants:
            for k in kinds:
                run_one(args, r, v, k, max(args.keys * 3, 300 if args.callgrind_pid else 5000))
        for rnd in range(1, args.rounds + 1):
            order = variants[rnd % len(variants):] + variants[:rnd % len(variants)]
            for v in order:
                for k in kinds:
                    res = run_one(args, r, v, k, args.requests)
                    res["round"] = rnd
                    results.append(res)
                    if args.callgrind_pid:
                        print(f"round {rnd} {v.name:>16} {k:<6} {res['instructions_per_update']:9.0f} instructions "
                              f"per update in redis-server, {res['instructions_in_command_per_update']:9.0f} inside "
                              f"{v.command_name.upper()}", flush=True)
                    else:
                        print(f"round {rnd} {v.name:>16} {k:<6} {res['usec_per_call']:6.2f} µs/call in Redis, "
                              f"CPU {res['redis_cpu_usec_per_update']:6.2f} µs/update, p50 {res['p50_usec']:.2f} "
                              f"p99 {res['p99_usec']:.2f} µs, {res['updates_per_s']:8.0f} upd/s, "
                              f"slowlog(>1ms) {res['slowlog_over_1ms']}", flush=True)
    finally:
        subscriber.kill()

    if args.callgrind_pid:
        base = variants[0].name
        summary = {}
        print(f"\n| variant | kind | instructions / update in redis-server | inside the command | vs {base} |")
        print("|---|---|--:|--:|--:|")
        for k in kinds:
            basis = statistics.median(x["instructions_per_update"] for x in results
                                      if x["variant"] == base and x["kind"] == k)
            for v in variants:
                rows = [x for x in results if x["variant"] == v.name and x["kind"] == k]
                tot = statistics.median(x["instructions_per_update"] for x in rows)
                ins = statistics.median(x["instructions_in_command_per_update"] for x in rows)
                summary[f"{v.name}/{k}"] = {"instructions_per_update": tot, "instructions_in_command": ins,
                                            "ratio": tot / basis}
                print(f"| {v.name} | {k} | {tot:,.0f} | {ins:,.0f} | {tot / basis:.2f} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "summary": summary, "rounds": results}, f, indent=1)
        return

    load = open("/proc/loadavg").read().split()[:3]
    print(f"\nmachine: {os.cpu_count()} cores, load average {' '.join(load)}; "
          f"{subprocess.run(['redis-server', '--version'], capture_output=True, text=True).stdout.strip()}")
    base = variants[0].name
    summary = {}
    print(f"\n| variant | kind | µs/call in Redis (median) | vs {base} (median of per-round ratios) | "
          f"Redis CPU µs/update | p50 / p99 µs | updates/s |")
    print("|---|---|--:|--:|--:|--:|--:|")
    for k in kinds:
        for v in variants:
            rows = [x for x in results if x["variant"] == v.name and x["kind"] == k]
            basis = {x["round"]: x for x in results if x["variant"] == base and x["kind"] == k}
            ratio = statistics.median(x["usec_per_call"] / basis[x["round"]]["usec_per_call"] for x in rows)
            med = lambda f: statistics.median(x[f] for x in rows)
            summary[f"{v.name}/{k}"] = {
                "usec_per_call": med("usec_per_call"), "ratio": ratio,
                "cpu_usec_per_update": med("redis_cpu_usec_per_update"),
                "p50_usec": med("p50_usec"), "p99_usec": med("p99_usec"), "updates_per_s": med("updates_per_s"),
                "per_round_usec": [x["usec_per_call"] for x in rows],
            }
            print(f"| {v.name} | {k} | {med('usec_per_call'):.2f} ({', '.join(f'{x:.1f}' for x in summary[f'{v.name}/{k}']['per_round_usec'])}) | "
                  f"{ratio:.2f} | {med('redis_cpu_usec_per_update'):.2f} | {med('p50_usec'):.1f} / {med('p99_usec'):.1f} | "
                  f"{med('updates_per_s'):.0f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": {"cores": os.cpu_count(), "load": load}, "args": vars(args),
                       "summary": summary, "rounds": results}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
