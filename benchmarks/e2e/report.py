#!/usr/bin/env python3
"""Turns one run's measurements (bench-e2e's JSON, redis_limits.py's JSON, machine facts)
into the markdown table of benchmarks/results/e2e-<date>.md. Standard library only."""
import argparse
import json
import sys


def fmt_int(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_ms(us):
    if us is None:
        return "–"
    ms = us / 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:,.0f}"


def fmt_pct(v):
    return "–" if v is None else f"{v:.0f}"


def fmt_mib(kib):
    return "–" if kib is None else f"{kib / 1024:.1f}"


def ratio(a, b):
    if not a or not b:
        return "–"
    return f"{a / b:.1f}x"


def run_of(runs, target, rate):
    for r in runs:
        if r["target"] == target and r["rate"] == rate:
            return r
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--e2e", required=True)
    ap.add_argument("--limits", required=True)
    ap.add_argument("--machine", required=True, help="JSON of machine facts")
    ap.add_argument("--command", required=True)
    args = ap.parse_args()

    e2e = json.load(open(args.e2e))
    try:
        limits = json.load(open(args.limits))
    except (OSError, ValueError):
        limits = {}
    machine = json.load(open(args.machine))
    runs = e2e["runs"]
    out = []
    w = out.append

    w(f"# End-to-end benchmark, {e2e['startedAt'][:10]}")
    w("")
    w(f"IB Gateway simulator (in the benchmark process) → quote-relay or the ib_async + redis-py peer → "
      f"Redis → a PSUBSCRIBE subscriber (in the benchmark process, same monotonic clock). "
      f"{e2e['symbols']} stock symbols; each rate measured for {e2e['windowSeconds']:g} s after "
      f"{e2e['warmupSeconds']:g} s of warm-up, with a fresh target process per rate; at each rate the targets "
      f"take turns, seconds apart (*pass*: the run's passes over the rates). Method and limits: BENCHMARKS.md.")
    w("")
    w("## Throughput and latency")
    w("")
    w("Rates are per second. *offered*: simulator market updates (one instrument's new state) and the TWS "
      "tick messages they made; *absorbed*: source updates whose effect reached the subscriber (a coalesced "
      "write counts for every update it covers); *delivered*: pub/sub messages. Latency: simulator socket write "
      "→ subscriber read, of updates issued inside the window that were delivered (coalesced-away updates have "
      "none). CPU in % of one core (the machine has "
      f"{machine.get('nproc', '?')}); *bench* = simulator + subscriber.")
    w("")
    w("| pass | target | rate | load avg | offered upd/s | offered ticks/s | absorbed upd/s | delivered msg/s | "
      "p50 ms | p99 ms | p99.9 ms | max ms | target CPU % | redis CPU % | bench CPU % | target RSS MiB | status |")
    w("|--:|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for r in runs:
        lat = r.get("latency") or {}
        status = r["status"].split("\n")[0][:80]
        w(f"| {r.get('pass') or 1} | {r['target']} | {r['rate']} | {r.get('loadAverage') or '–'} | "
          f"{fmt_int(r.get('offeredUpdatesPerSecond'))} | "
          f"{fmt_int(r.get('offeredTickMessagesPerSecond'))} | {fmt_int(r.get('absorbedUpdatesPerSecond'))} | "
          f"{fmt_int(r.get('deliveredMessagesPerSecond'))} | {fmt_ms(lat.get('p50Micros'))} | "
          f"{fmt_ms(lat.get('p99Micros'))} | {fmt_ms(lat.get('p999Micros'))} | {fmt_ms(lat.get('maxMicros'))} | "
          f"{fmt_pct(r.get('targetCPU'))} | "
          f"{fmt_pct(r.get('redisCPU'))} | {fmt_pct(r.get('benchProcessCPU'))} | "
          f"{fmt_mib(r.get('targetRSSKiB'))} | {status} |")
    w("")
    stock = [r for r in runs if r["target"] in ("quote-relay", "peer") and r["rate"] != "max"
             and (r.get("latency") or {}).get("p99Micros") is not None]
    if stock and max(r.get("pass") or 1 for r in stock) > 1:
        w("Latency over the passes (per pass, then the median of the passes):")
        w("")
        w("| rate | target | p50 ms | p99 ms | max ms | median p50 / p99 / max ms |")
        w("|---|---|---|---|---|--:|")
        seen = []
        for r in stock:
            if (r["rate"], r["target"]) not in seen:
                seen.append((r["rate"], r["target"]))
        for rate, target in seen:
            rs = [r for r in stock if r["rate"] == rate and r["target"] == target]
            col = lambda k: [r["latency"][k] for r in rs]
            med = lambda k: sorted(col(k))[len(rs) // 2] if len(rs) % 2 else sum(sorted(col(k))[len(rs) // 2 - 1:len(rs) // 2 + 1]) / 2
            w(f"| {rate} | {target} | {', '.join(fmt_ms(v) for v in col('p50Micros'))} | "
              f"{', '.join(fmt_ms(v) for v in col('p99Micros'))} | {', '.join(fmt_ms(v) for v in col('maxMicros'))} | "
              f"{fmt_ms(med('p50Micros'))} / {fmt_ms(med('p99Micros'))} / {fmt_ms(med('maxMicros'))} |")
        w("")

    option_runs = [r for r in runs if "option lines" in r["target"]]
    if option_runs:
        w("## Option lines (SPX/SPXW and two stock underlyings)")
        w("")
        w("quote-relay alone follows SPX's two trading classes (SPX monthly, SPXW) and two stocks' option "
          "windows; the simulator's updates go round-robin over every live line (options and underlyings), each "
          "option update stamped in its own `volume` (tick 8). Latency: simulator socket write → subscriber read of "
          "`P:quote:*` and `P:option:*` messages. Goal: p99 < 2 ms at 10k updates/s, RSS < 64 MiB.")
        w("")
        w("| rate | lines live | offered upd/s | absorbed upd/s | delivered msg/s | p50 ms | p99 ms | p99.9 ms | "
          "quote-relay CPU % | VmRSS MiB (peak) | status |")
        w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
        for r in option_runs:
            lat = r.get("latency") or {}
            w(f"| {r['rate']} | {fmt_int(r.get('linesLive'))} | {fmt_int(r.get('offeredUpdatesPerSecond'))} | "
              f"{fmt_int(r.get('absorbedUpdatesPerSecond'))} | {fmt_int(r.get('deliveredMessagesPerSecond'))} | "
              f"{fmt_ms(lat.get('p50Micros'))} | {fmt_ms(lat.get('p99Micros'))} | {fmt_ms(lat.get('p999Micros'))} | "
              f"{fmt_pct(r.get('targetCPU'))} | {fmt_mib(r.get('targetRSSKiB'))} ({fmt_mib(r.get('targetPeakRSSKiB'))}) | "
              f"{r['status'].splitlines()[0][:80]} |")
        w("")

    w("## Ratios")
    w("")
    w("| measure | quote-relay | peer | ratio / limit |")
    w("|---|--:|--:|--:|")
    rates = []
    for r in runs:
        if r["rate"] not in rates:
            rates.append(r["rate"])
    for rate in rates:
        q, p = run_of(runs, "quote-relay", rate), run_of(runs, "peer", rate)
        qa = q.get("absorbedUpdatesPerSecond") if q and not q["status"].startswith("failed") else None
        pa = p.get("absorbedUpdatesPerSecond") if p and not p["status"].startswith("failed") else None
        label = "sustained (closed-loop flood)" if rate == "max" else f"at {rate} updates/s offered"
        w(f"| absorbed updates/s, {label} | {fmt_int(qa)} | {fmt_int(pa)} | {ratio(qa, pa)} (target ≥ 10x at max) |"
          if rate == "max" else
          f"| absorbed updates/s, {label} | {fmt_int(qa)} | {fmt_int(pa)} | {ratio(qa, pa)} |")
    qmax_run, pmax_run = run_of(runs, "quote-relay", "max"), run_of(runs, "peer", "max")
    ceiling = next((r for r in runs if r["target"].startswith("simulator")), None)
    per_cpu = []
    for r in (qmax_run, pmax_run):
        if r and r.get("targetCPU") and not r["status"].startswith("failed"):
            per_cpu.append(r["absorbedUpdatesPerSecond"] / (r["targetCPU"] / 100))
        else:
            per_cpu.append(None)
    w(f"| updates absorbed per CPU-second of the target, at max | {fmt_int(per_cpu[0])} | {fmt_int(per_cpu[1])} | "
      f"{ratio(per_cpu[0], per_cpu[1])} |")
    if ceiling and not ceiling["status"].startswith("failed"):
        c = ceiling["offeredUpdatesPerSecond"]
        qa = (qmax_run or {}).get("absorbedUpdatesPerSecond")
        pa = (pmax_run or {}).get("absorbedUpdatesPerSecond")
        w(f"| share of the simulator's own ceiling ({fmt_int(c)} upd/s to a null client), at max | "
          f"{'–' if not qa else f'{qa / c:.0%}'} | {'–' if not pa else f'{pa / c:.0%}'} | |")
    q10 = run_of(runs, "quote-relay", "10k")
    p10 = run_of(runs, "peer", "10k")
    q10p99 = (q10 or {}).get("latency", {}) or {}
    p10p99 = (p10 or {}).get("latency", {}) or {}
    w(f"| p99 latency at 10k updates/s, ms | {fmt_ms(q10p99.get('p99Micros'))} | {fmt_ms(p10p99.get('p99Micros'))} | "
      f"target < 1 ms (issue 15) |")
    evalsha = limits.get("quote_relay_mix_updates_per_second")
    peer_mix = limits.get("peer_mix_updates_per_second")
    qmax, pmax = run_of(runs, "quote-relay", "max"), run_of(runs, "peer", "max")
    qd = (qmax or {}).get("deliveredMessagesPerSecond")
    pd = (pmax or {}).get("deliveredMessagesPerSecond")
    w(f"| Redis writes/s at max ÷ Redis' ceiling for its mix | {fmt_int(qd)} ÷ {fmt_int(evalsha)} = "
      f"{'–' if not qd or not evalsha else f'{qd / evalsha:.0%}'} | {fmt_int(pd)} ÷ {fmt_int(peer_mix)} = "
      f"{'–' if not pd or not peer_mix else f'{pd / peer_mix:.0%}'} | |")
    for m in e2e.get("memory", []):
        w(f"| RSS with {m['quotes']} quotes + {m['optionsRequested']} options requested "
          f"({m['subscriptionsLive']} lines live), MiB | {fmt_mib(m.get('rssKiB'))} (peak {fmt_mib(m.get('peakRSSKiB'))}) | – | "
          f"target < 64 MiB |")
    w("")

    if ceiling and qmax_run and not ceiling["status"].startswith("failed") and \
            qmax_run.get("absorbedUpdatesPerSecond", 0) >= 0.8 * ceiling["offeredUpdatesPerSecond"]:
        w(f"quote-relay at max ran at {qmax_run['absorbedUpdatesPerSecond'] / ceiling['offeredUpdatesPerSecond']:.0%} "
          f"of what the simulator can produce at all, using {fmt_pct(qmax_run.get('targetCPU'))}% of a core: its "
          f"sustained figure, and the ratio to the peer, are lower bounds set by the benchmark's driver, not by "
          f"quote-relay. The CPU-normalised line is the better estimate of the real ratio.")
        w("")
    w("## Redis' own ceiling (redis-benchmark, 1 connection, -P 64, 100 keys)")
    w("")
    if limits:
        w("| mix | command | requests/s | subscriber msgs/s (attached) |")
        w("|---|---|--:|--:|")
        for name, label in (("evalsha_publish_lua", "quote-relay: EVALSHA publish.lua"),
                            ("hset", "peer: HSET"), ("expire", "peer: EXPIRE"), ("publish", "peer: PUBLISH")):
            b = limits.get(name, {})
            sub = b.get("subscriber") or {}
            w(f"| {label.split(':')[0]} | {label.split(': ')[1]} | {fmt_int(b.get('requests_per_second'))} | "
              f"{fmt_int(sub.get('messages_per_second')) if sub else '–'} |")
        w(f"| peer | HSET + EXPIRE + PUBLISH per update (combined) | {fmt_int(peer_mix)} | |")
        w("")
        w(f"Arguments: quote-relay's EVALSHA carries {limits.get('quote_relay_fields')} fields "
          f"({'taken from the hash the worker wrote' if limits.get('quote_relay_args_from_worker') else 'a representative record: the worker did not run'}); "
          f"the peer's HSET {limits.get('peer_fields')} fields "
          f"({'from the peer' if limits.get('peer_args_from_peer') else 'representative'}).")
    else:
        w("redis-benchmark did not run (see the run's log).")
    w("")

    if e2e.get("memory"):
        w("## Memory")
        w("")
        w("| target | quotes | options requested | lines live | warm-up | VmRSS MiB | VmHWM MiB | status |")
        w("|---|--:|--:|--:|---|--:|--:|---|")
        for m in e2e["memory"]:
            w(f"| {m['target']} | {m['quotes']} | {m['optionsRequested']} | {m['subscriptionsLive']} | "
              f"{m['warmupSeconds']:g} s at {m['updatesPerSecondDuringWarmup']} upd/s | {fmt_mib(m.get('rssKiB'))} | "
              f"{fmt_mib(m.get('peakRSSKiB'))} | {m['status'].splitlines()[0][:80]} |")
        w("")

    failed = [r for r in runs if r["status"].startswith("failed")]
    if failed:
        w("## Failures")
        w("")
        for r in failed:
            w(f"- {r['target']} at {r['rate']}: {r['status'].splitlines()[0]}")
        w("")

    w("## Machine")
    w("")
    for k in ("cpu", "nproc", "kernel", "memory", "swift", "redis", "python", "peer_packages", "load_before",
              "load_after"):
        if machine.get(k):
            w(f"- {k}: {machine[k]}")
    w("")
    w("## Command")
    w("")
    w("```")
    w(args.command)
    w("```")
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
