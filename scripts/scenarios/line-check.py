#!/usr/bin/env python3
"""Identity and freshness checks on quote:/option: records (scenarios 31-33). Speaks RESP itself (no redis-py).

  line-check.py refs REDISPORT CTLPORT CLIENT SYM...      -> prints "SYM price" per symbol: the simulator's own last
                                                             bid/ask/last sent to CLIENT (control command `last`)
  line-check.py hashes REDISPORT PREFIX REFS [CONIDS]     -> checks every P:quote:* and P:option:* hash now; prints
                                                             FAIL lines (exit 1) or one OK line; CONIDS (a file) keeps
                                                             option key -> con_id across calls (a key's con_id never changes)
  line-check.py pubsub FILE PREFIX REFS                    -> the same checks on every message a `redis-cli PSUBSCRIBE`
                                                             wrote to FILE (pmessage / pattern / channel / payload lines)
  line-check.py stamps REDISPORT PREFIX KEY...             -> "KEY updated_ms seq" per key (absent: "KEY - -")

What a record must be (README "Instruments and key grammar", "The Redis layout"): `symbol` is the key's SYM (an
option's `symbol` the underlying's; for stock options ROOT = SYM), an option's `expiry`, `strike` (canonical
decimal) and `right` are the key's, `source` is `ib`, bid <= ask, prices within TOL of what the simulator sent
for that instrument (REFS: "SYM price" lines), an option's `und_price` within TOL of its underlying's price, a
call's delta > 0 and a put's < 0 (IB's "not computed" -2 is an absent field), and within one expiry and right the
model price is monotonic in the strike (calls fall, puts rise), so a strike's record holding another strike's
values shows."""
import json, socket, sys

TOL = 0.03
NONNEG = ("bid", "ask", "last", "bid_size", "ask_size", "last_size", "volume", "open", "high", "low", "close",
          "iv", "gamma", "vega", "und_price", "model_price", "open_interest", "updated_ms", "seq", "strike")


class Redis:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def scan(self, pattern):
        cur, keys = "0", []
        while True:
            cur, batch = self.cmd("SCAN", cur, "MATCH", pattern, "COUNT", 1000)
            keys += batch
            if cur == "0":
                return sorted(set(keys))

    def hgetall(self, key):
        v = self.cmd("HGETALL", key) or []
        return dict(zip(v[0::2], v[1::2]))


SESSION = {}  # SYM -> {"close": x, "open": y}: fixed for the day in the simulator, a fingerprint of the instrument


def load_refs(path):
    refs = {}
    for line in open(path):
        p = line.split()
        if len(p) >= 2:
            refs[p[0]] = float(p[1])
        for w in p[2:]:
            k, v = w.split("=")
            SESSION.setdefault(p[0], {})[k] = float(v)
    return refs


def canonical(x):
    s = ("%.8f" % float(x)).rstrip("0").rstrip(".")
    return s


def near(v, ref):
    return abs(v - ref) <= TOL * ref


def check(key, rec, prefix, refs, problems):
    """Appends to problems what is wrong with one record (a hash or a published message)."""
    parts = key[len(prefix) + 1:].split(":")
    kind = parts[0]
    num = {}
    for f in ("bid", "ask", "last", "und_price", "delta", "model_price", "strike", "close"):
        if f in rec and rec[f] not in (None, ""):
            try:
                num[f] = float(rec[f])
            except ValueError:
                problems.append("%s: %s=%r is not a number" % (key, f, rec[f]))
    for f, v in rec.items():
        if v == "":
            problems.append("%s: field %s is an empty string (unknown values must be absent)" % (key, f))
        elif f in NONNEG:
            try:
                if float(v) < 0 or float(v) >= 1e300 or float(v) in (2147483647, 9223372036854775807):
                    problems.append("%s: %s=%s (a sentinel or negative; unknown values must be absent)" % (key, f, v))
            except ValueError:
                problems.append("%s: %s=%r is not a number" % (key, f, v))
    if rec.get("source") not in ("ib", None):
        problems.append("%s: source=%r (no Alpha Vantage configured)" % (key, rec.get("source")))
    if "bid" in num and "ask" in num and num["bid"] > num["ask"]:
        problems.append("%s: crossed bid %s > ask %s" % (key, rec["bid"], rec["ask"]))
    if kind == "quote":
        sym = parts[1]
        if rec.get("symbol") != sym:
            problems.append("%s: symbol=%r, not %s" % (key, rec.get("symbol"), sym))
        ref = refs.get(sym)
        for f, want in SESSION.get(sym, {}).items():
            # IB's close (tick 9) and open (tick 14) are the session's: they never change within a run, so the record
            # must hold exactly what the gateway sent for this instrument
            if f in rec and abs(float(rec[f]) - want) > 1e-9:
                other = [s for s, v in SESSION.items() if s != sym and abs(v.get(f, -1) - float(rec[f])) < 1e-9]
                problems.append("%s: %s=%s, the gateway sent %s %s for %s%s" % (key, f, rec[f], f, want, sym,
                                ("; that is " + "/".join(other) + "'s") if other else ""))
        for f in ("bid", "ask", "last"):
            if f in num and ref is not None and not near(num[f], ref):
                other = [s for s, r in refs.items() if s != sym and near(num[f], r)]
                problems.append("%s: %s=%s is not %s's price (~%s)%s" % (key, f, rec[f], sym, ref,
                                ("; it is " + "/".join(other) + "'s level") if other else ""))
    elif kind == "option":
        if len(parts) != 5:
            problems.append("%s: malformed option key" % key)
            return
        root, exp, strike, right = parts[1:]
        if rec.get("symbol") != root:
            problems.append("%s: symbol=%r, not %s" % (key, rec.get("symbol"), root))
        if rec.get("expiry") != exp:
            problems.append("%s: expiry=%r, not %s" % (key, rec.get("expiry"), exp))
        if "strike" in rec and canonical(rec["strike"]) != strike:
            problems.append("%s: strike=%r, not %s" % (key, rec.get("strike"), strike))
        if "strike" not in rec:
            problems.append("%s: no strike field" % key)
        if rec.get("right") != right:
            problems.append("%s: right=%r, not %s" % (key, rec.get("right"), right))
        if not rec.get("con_id"):
            problems.append("%s: no con_id" % key)
        ref = refs.get(root)
        if "und_price" in num and ref is not None and not near(num["und_price"], ref):
            problems.append("%s: und_price=%s is not %s's price (~%s)" % (key, rec["und_price"], root, ref))
        if "delta" in num:
            d = num["delta"]
            if (right == "C" and not 0 < d <= 1) or (right == "P" and not -1 <= d < 0):
                problems.append("%s: delta=%s impossible for a %s" % (key, rec["delta"], "call" if right == "C" else "put"))
    else:
        problems.append("%s: unexpected key kind" % key)


def monotonic(records, prefix, problems):
    """Within one root/expiry/right, model prices must be monotonic in the strike (and deltas too)."""
    groups = {}
    for key, rec in records.items():
        parts = key[len(prefix) + 1:].split(":")
        if parts[0] != "option" or len(parts) != 5:
            continue
        try:
            groups.setdefault((parts[1], parts[2], parts[4]), []).append((float(parts[3]), float(rec["delta"]), key))
        except (KeyError, ValueError):
            continue
    for (root, exp, right), rows in groups.items():
        rows.sort()
        for (k1, d1, key1), (k2, d2, key2) in zip(rows, rows[1:]):
            # delta falls with the strike for calls and puts alike (call 1 -> 0, put 0 -> -1); tolerance for
            # records written at slightly different underlying prices
            if d2 > d1 + 0.03:
                problems.append("%s/%s/%s: delta not falling with the strike: %s delta %s < %s delta %s" %
                                (root, exp, right, key1, d1, key2, d2))


def main():
    mode = sys.argv[1]
    if mode == "refs":
        port, client, syms = int(sys.argv[3]), sys.argv[4], sys.argv[5:]
        for sym in syms:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(("last %s %s\n" % (client, sym)).encode())
            line = s.makefile().readline()
            s.close()
            vals = {}
            for w in line.split():
                if "=" in w:
                    k, v = w.split("=", 1)
                    vals[k] = v
            p = []
            for k in ("1", "2", "4"):  # TICK_PRICE types bid, ask, last ("none": no quote)
                try:
                    if float(vals.get(k, "none")) > 0:
                        p.append(float(vals[k]))
                except ValueError:
                    pass
            extra = ""
            for k, name in (("9", "close"), ("14", "open")):  # TICK_PRICE types close, open
                try:
                    if float(vals.get(k, "none")) > 0:
                        extra += " %s=%s" % (name, vals[k])
                except ValueError:
                    pass
            if p:
                print(sym, sum(p) / len(p), extra.strip())
            else:
                print("#", sym, "no value:", line.strip(), file=sys.stderr)
        return 0
    if mode == "hashes":
        r = Redis(sys.argv[2])
        prefix, refs = sys.argv[3], load_refs(sys.argv[4])
        conid_file = sys.argv[5] if len(sys.argv) > 5 else None
        problems, records = [], {}
        for pat in ("quote:*", "option:*"):
            for key in r.scan(prefix + ":" + pat):
                rec = r.hgetall(key)
                if rec:
                    records[key] = rec
                    check(key, rec, prefix, refs, problems)
        monotonic(records, prefix, problems)
        if conid_file:
            known = {}
            try:
                for line in open(conid_file):
                    k, c = line.split()
                    known[k] = c
            except FileNotFoundError:
                pass
            owners = {}
            for key, rec in records.items():
                c = rec.get("con_id")
                if ":option:" not in key or not c:
                    continue
                if key in known and known[key] != c:
                    problems.append("%s: con_id changed %s -> %s" % (key, known[key], c))
                known.setdefault(key, c)
                if c in owners:
                    problems.append("con_id %s under two keys: %s and %s" % (c, owners[c], key))
                owners[c] = key
            with open(conid_file, "w") as f:
                for k, c in sorted(known.items()):
                    f.write("%s %s\n" % (k, c))
        for p in problems:
            print("FAIL: " + p)
        if not problems:
            print("OK: %d records (%d quotes, %d options) are their own instrument's" % (
                len(records), sum(":quote:" in k for k in records), sum(":option:" in k for k in records)))
        return 1 if problems else 0
    if mode == "pubsub":
        path, prefix, refs = sys.argv[2], sys.argv[3], load_refs(sys.argv[4])
        lines = open(path, errors="replace").read().split("\n")
        problems, n, i = [], 0, 0
        while i + 3 < len(lines):
            if lines[i] == "pmessage":
                channel, payload = lines[i + 2], lines[i + 3]
                i += 4
                n += 1
                try:
                    msg = json.loads(payload)
                except ValueError:
                    problems.append("%s: payload is not JSON: %r" % (channel, payload[:200]))
                    continue
                if msg.get("key") not in (channel, channel[len(prefix) + 1:]):  # the key, with or without P:
                    problems.append("%s: message says key=%r" % (channel, msg.get("key")))
                rec = {k: (str(v) if not isinstance(v, str) else v) for k, v in msg.items() if v is not None}
                rec.pop("key", None)
                rec.pop("type", None)
                if "strike" in msg and isinstance(msg["strike"], (int, float)):
                    rec["strike"] = repr(msg["strike"])
                check(channel, rec, prefix, refs, problems)
            else:
                i += 1
        for p in problems[:40]:
            print("FAIL: " + p)
        if len(problems) > 40:
            print("FAIL: ... and %d more" % (len(problems) - 40))
        if not problems:
            print("OK: %d published messages carry their own instrument" % n)
        return 1 if problems else 0
    if mode == "consistency":
        # every message on a key names one instrument all along: identity fields never change, prices stay at one
        # level (within TOL of the key's median), whatever lines came and went
        path, prefix = sys.argv[2], sys.argv[3]
        lines = open(path, errors="replace").read().split("\n")
        ident, prices, problems, n = {}, {}, [], 0
        for i in range(len(lines) - 3):
            if lines[i] != "pmessage":
                continue
            channel = lines[i + 2]
            try:
                msg = json.loads(lines[i + 3])
            except ValueError:
                problems.append("%s: payload is not JSON" % channel)
                continue
            n += 1
            t = tuple(str(msg.get(f)) for f in ("symbol", "sec_type", "con_id", "local_symbol", "contract_month", "currency",
                                                  "multiplier", "expiry", "strike", "right", "trading_class"))
            if channel in ident and ident[channel] != t:
                problems.append("%s: identity changed %s -> %s" % (channel, ident[channel], t))
            ident.setdefault(channel, t)
            for f in ("bid", "ask", "last") if ":quote:" in channel else ():  # options are leveraged: not compared
                if isinstance(msg.get(f), (int, float)) and msg[f] > 0:
                    prices.setdefault(channel, []).append((f, msg[f], msg.get("seq")))
        for ch, ps in prices.items():
            vals = sorted(v for _, v, _ in ps)
            med = vals[len(vals) // 2]
            for f, v, q in ps:
                if abs(v - med) > TOL * med:
                    problems.append("%s: %s=%s (seq %s) far from the key's level %s" % (ch, f, v, q, med))
        for p in problems[:40]:
            print("FAIL: " + p)
        if not problems:
            print("OK: %d messages on %d keys: each key one instrument throughout (%s)" % (n, len(ident), "; ".join(
                "%s=%s" % (k.split(":", 1)[1], "/".join(x for x in v if x != "None")) for k, v in sorted(ident.items()) if ":quote:" in k)))
        return 1 if problems else 0
    if mode == "stamps":
        r = Redis(sys.argv[2])
        for key in sys.argv[4:]:
            v = r.cmd("HMGET", key, "updated_ms", "seq")
            print(key, v[0] or "-", v[1] or "-")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
