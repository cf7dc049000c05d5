#!/usr/bin/env python3
"""The peer a user would otherwise glue together: ib_async + redis-py.

It does quote-relay's core job the idiomatic Python way, so the benchmark compares like with
like: subscribe every symbol on the gateway, and on each of ib_async's pendingTickersEvent (one
per network read, ib_async's own natural batching) write each changed ticker as HSET + EXPIRE +
PUBLISH, pipelined in one round trip (as well as redis-py allows).

With --options-file (benchmarks/replay) it also follows option contracts and writes each one's
quote, open interest and greeks (bid/ask/last implied volatility and the model computation) to
the key given for it, like quote-relay's option records.

Runs until SIGTERM/SIGINT or --seconds; prints one JSON line of counters at exit.
"""
import argparse
import json
import math
import signal
import sys
import time

import redis
from ib_async import IB, Option, Stock, StartupFetchNONE


def number(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f) or f == -1:
        return None
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ib-port", type=int, default=4002)
    ap.add_argument("--client-id", type=int, default=91)
    ap.add_argument("--redis-port", type=int, default=6379)
    ap.add_argument("--prefix", default="peer")
    ap.add_argument("--symbols", default="AAPL,MSFT,SPY")
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--options-file", default="",
                    help="JSON list of {symbol, expiry, strike, right, trading_class, key}")
    args = ap.parse_args()

    r = redis.Redis(host="127.0.0.1", port=args.redis_port)
    ib = IB()
    # A market-data-only client: no orders, no account or position downloads at connect (the
    # simulator, like a data-only gateway login, would leave them to time out one by one).
    ib.connect("127.0.0.1", args.ib_port, clientId=args.client_id, timeout=10, readonly=True,
               fetchFields=StartupFetchNONE)
    contracts = [Stock(s, "SMART", "USD") for s in args.symbols.split(",") if s]
    option_keys = {}
    if args.options_file:
        with open(args.options_file) as f:
            for spec in json.load(f):
                o = Option(spec["symbol"], spec["expiry"], float(spec["strike"]), spec["right"], "SMART",
                           tradingClass=spec["trading_class"], currency="USD")
                contracts.append(o)
                option_keys[(spec["symbol"], spec["expiry"], float(spec["strike"]), spec["right"])] = spec["key"]
    ib.qualifyContracts(*contracts)
    for c in contracts:
        ib.reqMktData(c, "", False, False)

    stats = {"updates": 0, "batches": 0, "ticks": 0}

    def on_pending(tickers):
        pipe = r.pipeline(transaction=False)
        now_ms = int(time.time() * 1000)
        for t in tickers:
            c = t.contract
            sym = c.symbol
            fields = {"symbol": sym, "updated_ms": now_ms, "source": "ib"}
            values = [("bid", t.bid), ("bid_size", t.bidSize), ("ask", t.ask), ("ask_size", t.askSize),
                      ("last", t.last), ("last_size", t.lastSize), ("volume", t.volume)]
            if c.secType == "OPT":
                key = option_keys.get((sym, c.lastTradeDateOrContractMonth, float(c.strike), c.right[:1]))
                if key is None:
                    continue
                kind = "option"
                oi = t.callOpenInterest if c.right.startswith("C") else t.putOpenInterest
                model = t.modelGreeks
                values += [("open_interest", oi),
                           ("bid_iv", t.bidGreeks.impliedVol if t.bidGreeks else None),
                           ("ask_iv", t.askGreeks.impliedVol if t.askGreeks else None),
                           ("last_iv", t.lastGreeks.impliedVol if t.lastGreeks else None)]
                if model:
                    values += [("iv", model.impliedVol), ("delta", model.delta), ("gamma", model.gamma),
                               ("vega", model.vega), ("theta", model.theta), ("und_price", model.undPrice),
                               ("model_price", model.optPrice)]
            else:
                key = f"{args.prefix}:quote:{sym}"
                kind = "quote"
                values += [("high", t.high), ("close", t.close)]
            for name, v in values:
                n = number(v)
                if n is not None:
                    fields[name] = n
            stats["ticks"] += len(t.ticks)
            pipe.hset(key, mapping={k: str(v) for k, v in fields.items()})
            pipe.expire(key, 300)
            fields["key"] = key
            fields["type"] = kind
            pipe.publish(key, json.dumps(fields))
            stats["updates"] += 1
        pipe.execute()
        stats["batches"] += 1

    ib.pendingTickersEvent += on_pending

    stopping = {"flag": False}

    def stop(*_):
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    deadline = time.time() + args.seconds if args.seconds > 0 else None
    while not stopping["flag"] and (deadline is None or time.time() < deadline):
        ib.sleep(0.05)
    ib.disconnect()
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    sys.exit(main())
