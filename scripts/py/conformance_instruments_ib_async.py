#!/usr/bin/env python3
"""Conformance of quote-relay-sim ib-gateway's indexes, futures, FOP and FX with ib_async.

ib_async must qualify SPX (Index), list every ES month (Future without a month), qualify
EUR.USD (Forex), decode the SPX chain's two trading classes and the ES FOP chain, and fill a
Ticker's bidGreeks/askGreeks/lastGreeks/modelGreeks (computation ticks 10-13) for an SPXW
option, an FX quote without last/volume, and an FOP quote.
Usage: conformance_instruments_ib_async.py PORT CONTROL_PORT
"""
import logging
import math
import sys

from ib_async import IB, Contract, Forex, FuturesOption, Future, Index, Option

from simcheck import Checks, computation, sent

CLIENT_ID = 42


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
    checks = Checks("ib_async instruments")
    ib = IB()
    try:
        ib.connect("127.0.0.1", port, clientId=CLIENT_ID, timeout=10, raiseSyncErrors=True)
    except Exception as e:  # noqa: BLE001 - any failure to connect is the finding
        checks.check("connect", False, repr(e))
        return checks.finish()

    spx = Index("SPX", "CBOE", "USD")
    checks.check("qualify SPX index", bool(ib.qualifyContracts(spx)) and spx.conId == 416904, spx)
    for symbol, exchange in [("NDX", "NASDAQ"), ("VIX", "CBOE"), ("RUT", "RUSSELL")]:
        index = Index(symbol, exchange, "USD")
        checks.check(f"qualify {symbol} index", bool(ib.qualifyContracts(index)) and index.conId > 0, index)
    ticker = ib.reqMktData(spx)
    checks.check("SPX ticker: last, no bid/ask", wait_until(ib, lambda: finite(ticker.last)) and not finite(ticker.bid), ticker)
    ib.cancelMktData(spx)

    chains = ib.reqSecDefOptParams("SPX", "", "IND", 416904)
    classes = sorted({c.tradingClass for c in chains})
    checks.check("SPX chain: SPX and SPXW, multiplier 100", classes == ["SPX", "SPXW"]
                 and all(c.multiplier == "100" for c in chains), chains)
    spxw = next((c for c in chains if c.tradingClass == "SPXW" and c.exchange == "SMART"), None)
    if not checks.check("SPXW on SMART", spxw is not None):
        return checks.finish()
    strikes = sorted(spxw.strikes)
    option = Option("SPX", sorted(spxw.expirations)[0], strikes[len(strikes) // 2], "C", "SMART", "100", "USD",
                    tradingClass="SPXW")
    checks.check("qualify SPXW option", bool(ib.qualifyContracts(option)) and option.localSymbol.startswith("SPXW"), option)
    ticker = ib.reqMktData(option)
    req_id = ib.wrapper.ticker2ReqId["mktData"].get(ticker)
    got = wait_until(ib, lambda: ticker.modelGreeks is not None and ticker.bidGreeks is not None
                     and ticker.askGreeks is not None and ticker.lastGreeks is not None, 10)
    checks.check("SPXW ticker: bid, ask, last and model greeks (ticks 10-13)", got, ticker)
    ib.cancelMktData(option)
    ib.sleep(0.5)
    if got:
        sim = sent(control_port, CLIENT_ID, req_id)
        for tick, greeks in [(10, ticker.bidGreeks), (11, ticker.askGreeks), (12, ticker.lastGreeks), (13, ticker.modelGreeks)]:
            expected = computation(sim[tick])
            checks.check(f"tick {tick}: IV and delta equal the simulator's",
                         greeks.impliedVol == expected["iv"] and greeks.delta == expected["delta"], f"{greeks} vs {expected}")

    months = ib.reqContractDetails(Future("ES", exchange="CME"))
    checks.check("ES futures: four months, multiplier 50", len(months) == 4
                 and all(d.contract.multiplier == "50" for d in months), [d.contract for d in months])
    if months:
        front = sorted(months, key=lambda d: d.contract.lastTradeDateOrContractMonth)[0].contract
        fut = Future(conId=front.conId, exchange="CME")
        checks.check("qualify ES front month by conId", bool(ib.qualifyContracts(fut)) and fut.localSymbol == front.localSymbol, fut)
        ticker = ib.reqMktData(fut)
        checks.check("ES ticker: bid, ask, last", wait_until(ib, lambda: finite(ticker.bid) and finite(ticker.last)), ticker)
        ib.cancelMktData(fut)
        fop_chains = ib.reqSecDefOptParams("ES", "CME", "FUT", front.conId)
        checks.check("ES FOP chain on CME, multiplier 50", bool(fop_chains)
                     and all(c.exchange == "CME" and c.multiplier == "50" for c in fop_chains), fop_chains)
        es = next((c for c in fop_chains if c.tradingClass == "ES"), None)
        if es:
            strikes = sorted(es.strikes)
            fop = FuturesOption("ES", es.expirations[0], strikes[len(strikes) // 2], "C", "CME", "50", "USD", tradingClass="ES")
            checks.check("qualify ES FOP", bool(ib.qualifyContracts(fop)) and fop.conId > 0, fop)
            ticker = ib.reqMktData(fop)
            checks.check("ES FOP ticker: model greeks", wait_until(ib, lambda: ticker.modelGreeks is not None, 10), ticker)
            ib.cancelMktData(fop)

    fx = Forex("EURUSD")
    checks.check("qualify EUR.USD", bool(ib.qualifyContracts(fx)) and fx.localSymbol == "EUR.USD", fx)
    ticker = ib.reqMktData(fx)
    got = wait_until(ib, lambda: finite(ticker.bid) and finite(ticker.ask))
    ib.sleep(0.5)
    checks.check("EUR.USD ticker: bid/ask, sizes in EUR, no last or volume",
                 got and ticker.bidSize >= 1_000_000 and not finite(ticker.last) and not finite(ticker.volume), ticker)
    ib.cancelMktData(fx)
    ib.disconnect()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
