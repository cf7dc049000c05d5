#!/usr/bin/env python3
"""Redis' own ceiling for the two command mixes, measured with redis-benchmark (-P 64, one
connection, as the publishers use one) in the same run as the end-to-end benchmark.

- quote-relay: one EVALSHA of lua/publish.lua per record. The arguments are taken from the
  hash the worker left in Redis (qr:quote:AAPL), so field count and sizes are the real ones;
  a representative record is used when the worker did not run.
- peer: HSET (its fields, from peer:quote:AAPL) + EXPIRE + PUBLISH per update. redis-benchmark
  runs one command at a time, so each is measured alone and the mix's ceiling is
  1 / (1/hset + 1/expire + 1/publish): Redis is single-threaded and their costs add up.

PUBLISH and EVALSHA run with bench-e2e's subscriber PSUBSCRIBEd to the channels (as in the
real runs: fan-out to a subscriber is part of the cost), which also measures the
subscriber's own ceiling. Prints one JSON object.
"""
import argparse
import json
import subprocess
import sys
import time

import redis

QUOTE_FIELDS = [
    ("symbol", "AAPL"), ("bid", "190.12"), ("bid_size", "300"), ("ask", "190.14"), ("ask_size", "500"),
    ("last", "190.13"), ("last_size", "100"), ("volume", "48123400"), ("open", "189.5"), ("high", "191.2"),
    ("low", "188.9"), ("close", "189.8"), ("change", "0.33"), ("change_percent", "0.1739"),
    ("last_trade_ms", "1764130000000"), ("updated_ms", "1764130000123"), ("source", "ib"), ("data_type", "live"),
]


def real_fields(r, key, fallback):
    fields = r.hgetall(key)
    if not fields:
        return fallback, False
    out = [(k.decode(), v.decode()) for k, v in fields.items() if k.decode() not in ("seq", "stale")]
    return out, True


def json_number_or_string(v):
    try:
        float(v)
        return v if v.lower() not in ("nan", "inf", "-inf", "infinity") else json.dumps(v)
    except ValueError:
        return json.dumps(v)


def payload(fields, key):
    body = ",".join(f'{json.dumps(k)}:{json_number_or_string(v)}' for k, v in fields)
    return "{" + body + f',"key":{json.dumps(key)},"type":"quote"' + "}"


def run_benchmark(args, command, requests, subscribe_pattern=None):
    sub = None
    if subscribe_pattern:
        sub = subprocess.Popen(
            [args.bench_e2e, "subscribe", "--redis-port", str(args.redis_port), "--pattern", subscribe_pattern,
             "--idle-seconds", "1.5"],
            stdout=subprocess.PIPE, text=True)
        line = sub.stdout.readline()  # {"subscribed": true}
        if "subscribed" not in line:
            sub.kill()
            raise RuntimeError(f"subscriber did not start: {line!r}")
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(args.redis_port), "-c", "1", "-P", "64",
           "-n", str(requests), "-r", "100", "--csv"] + command
    started = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    elapsed = time.time() - started
    rps = None
    for line in out.stdout.strip().splitlines()[1:]:
        # The test name is the command line, JSON quotes included: split from the right,
        # where the seven numeric columns are (rps, avg, min, p50, p95, p99, max).
        cells = line.rsplit('","', 7)
        if len(cells) == 8:
            try:
                rps = float(cells[1])
            except ValueError:
                pass
    result = {"command": command[0], "requests": requests, "requests_per_second": rps, "seconds": round(elapsed, 2)}
    if out.returncode != 0 or rps is None:
        result["error"] = (out.stderr or out.stdout)[-500:]
    if sub:
        try:
            so, _ = sub.communicate(timeout=30)
            result["subscriber"] = json.loads(so.strip().splitlines()[-1])
        except Exception as e:  # the subscriber is a measurement aid; its failure is reported, not fatal
            sub.kill()
            result["subscriber"] = {"error": str(e)}
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis-port", type=int, required=True)
    ap.add_argument("--lua", required=True, help="lua/publish.lua")
    ap.add_argument("--bench-e2e", required=True, help="the bench-e2e binary (for the subscriber)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the request counts (short runs)")
    args = ap.parse_args()

    r = redis.Redis(host="127.0.0.1", port=args.redis_port)
    sha = r.script_load(open(args.lua).read())
    qr_fields, qr_real = real_fields(r, "qr:quote:AAPL", QUOTE_FIELDS)
    peer_fields, peer_real = real_fields(r, "peer:quote:AAPL", [(k, v) for k, v in QUOTE_FIELDS
                                                                if k in ("symbol", "bid", "bid_size", "ask", "ask_size",
                                                                         "last", "last_size", "volume", "close",
                                                                         "updated_ms", "source")])
    key = "rb:quote:__rand_int__"
    n = lambda base: max(10_000, int(base * args.scale))

    evalsha = ["EVALSHA", sha, "3", key, "rb:updated", "rb:stream", "quote:__rand_int__", "1764130000123", "300000",
               payload(qr_fields, "rb:quote:AAPL"), "0", "", "stale", "0", "seq", "0"]
    for k, v in qr_fields:
        evalsha += [k, v]
    hset = ["HSET", key]
    for k, v in peer_fields:
        hset += [k, v]
    publish = ["PUBLISH", key, payload(peer_fields, "rb:quote:AAPL")]

    results = {
        "quote_relay_args_from_worker": qr_real,
        "peer_args_from_peer": peer_real,
        "quote_relay_fields": len(qr_fields),
        "peer_fields": len(peer_fields),
        "evalsha_publish_lua": run_benchmark(args, evalsha, n(500_000), "rb:quote:*"),
        "hset": run_benchmark(args, hset, n(1_000_000)),
        "expire": run_benchmark(args, ["EXPIRE", key, "300"], n(1_000_000)),
        "publish": run_benchmark(args, publish, n(2_000_000), "rb:quote:*"),
    }
    parts = [results[k]["requests_per_second"] for k in ("hset", "expire", "publish")]
    if all(parts):
        results["peer_mix_updates_per_second"] = 1 / sum(1 / p for p in parts)
    results["quote_relay_mix_updates_per_second"] = results["evalsha_publish_lua"]["requests_per_second"]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
