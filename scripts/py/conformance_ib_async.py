#!/usr/bin/env python3
"""Conformance of quote-relay-sim ib-gateway with ib_async's IB().

Checks that ib_async connects (its start-up synchronisation included), qualifies contracts,
decodes a stock quote, an option chain, an option quote with greeks and error 326, with
values cross-checked against what the simulator reports it sent (control port `sent`).
Usage: conformance_ib_async.py PORT CONTROL_PORT
"""
import logging
import math
import sys

from ib_async import IB, Option, Stock

from simcheck import Checks, computation, sent

CLIENT_ID = 32


def wait_until(ib, predicate, timeout=5.0):
    waited = 0.0
    while waited < timeout:
        if predicate():
            return True
        ib.sleep(0.05)
        waited += 0.05
    return predicate()


def finite(x):
    return x is not None and not math.isnan(x)


def main():
    port, control_port = int(sys.argv[1]), int(sys.argv[2])
    logging.basicConfig(level=logging.CRITICAL)
    checks = Checks("ib_async")
    ib = IB()
    try:
        ib.connect("127.0.0.1", port, clientId=CLIENT_ID, timeout=10, raiseSyncErrors=True)
    except Exception as e:  # noqa: BLE001 - any failure to connect is the finding
        checks.check("connect with start-up synchronisation", False, repr(e))
        return checks.finish()
    checks.check("connect with start-up synchronisation", ib.isConnected())
    checks.check("managed accounts", ib.managedAccounts() == ["DU1234567"], ib.managedAccounts())

    # Stock quote
    stock = Stock("AAPL", "SMART", "USD")
    qualified = ib.qualifyContracts(stock)
    checks.check("qualify stock: conId 265598", bool(qualified) and stock.conId == 265598, stock)
    ticker = ib.reqMktData(stock)
    req_id = ib.wrapper.ticker2ReqId["mktData"].get(ticker)
    got = wait_until(ib, lambda: finite(ticker.bid) and finite(ticker.ask) and finite(ticker.last))
    checks.check("stock quote: bid, ask, last decoded", got, ticker)
    ib.cancelMktData(stock)
    ib.sleep(0.5)
    sim = sent(control_port, CLIENT_ID, req_id)
    for tick, name in [(1, "bid"), (2, "ask"), (4, "last")]:
        checks.check(f"stock {name} equals the simulator's", getattr(ticker, name) == float(sim[tick]),
                     f"{getattr(ticker, name)} vs {sim.get(tick)}")
    checks.check("stock bid size equals the simulator's", ticker.bidSize == float(sim[0]), f"{ticker.bidSize} vs {sim.get(0)}")
    checks.check("stock close equals the simulator's", ticker.close == float(sim[9]), f"{ticker.close} vs {sim.get(9)}")

    # Option chain
    chains = ib.reqSecDefOptParams("AAPL", "", "STK", 265598)
    exchanges = sorted(c.exchange for c in chains)
    checks.check("option chain: SMART and CBOE", exchanges == ["CBOE", "SMART"], chains)
    smart = next((c for c in chains if c.exchange == "SMART"), None)
    if not checks.check("option chain: class and multiplier", smart is not None and smart.tradingClass == "AAPL"
                        and smart.multiplier == "100", smart):
        return checks.finish()
    expirations, strikes = sorted(smart.expirations), sorted(smart.strikes)
    checks.check("option chain: 7 expirations", len(expirations) == 7, expirations)

    # Option quote with greeks
    option = Option("AAPL", expirations[-1], strikes[len(strikes) // 2], "P", "SMART", "100", "USD")
    qualified = ib.qualifyContracts(option)
    checks.check("qualify option: conId and local symbol", bool(qualified) and option.conId > 0
                 and option.localSymbol.startswith("AAPL  "), option)
    ticker = ib.reqMktData(option)
    req_id = ib.wrapper.ticker2ReqId["mktData"].get(ticker)
    got = wait_until(ib, lambda: ticker.modelGreeks is not None and ticker.bidGreeks is not None and finite(ticker.bid))
    checks.check("option quote: bid and model/bid greeks decoded", got, ticker)
    ib.cancelMktData(option)
    ib.sleep(0.5)
    if got:
        g = ticker.modelGreeks
        checks.check("option greeks are sane (put)", -1 < g.delta < 0 and g.gamma > 0 and g.vega > 0 and g.theta < 0
                     and g.impliedVol > 0 and g.undPrice > 0, g)
        expected = computation(sent(control_port, CLIENT_ID, req_id)[13])
        actual = dict(iv=g.impliedVol, delta=g.delta, optPrice=g.optPrice, pvDividend=g.pvDividend, gamma=g.gamma,
                      vega=g.vega, theta=g.theta, undPrice=g.undPrice)
        checks.check("option model greeks equal the simulator's", actual == expected, f"{actual} vs {expected}")

    # Duplicate client id: ib_async reports 326 on its error event and the connection fails.
    dup = IB()
    codes = []
    dup.errorEvent += lambda reqId, code, text, contract: codes.append((reqId, code, text))
    try:
        dup.connect("127.0.0.1", port, clientId=CLIENT_ID, timeout=5)
        refused = False
    except Exception:  # noqa: BLE001 - ib_async raises ConnectionError or TimeoutError here
        refused = True
    checks.check("duplicate client id: connect fails", refused and not dup.isConnected())
    checks.check("duplicate client id: error 326 on the error event", any(c[1] == 326 for c in codes), codes)
    dup.disconnect()
    ib.disconnect()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
