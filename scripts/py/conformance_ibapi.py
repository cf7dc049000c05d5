#!/usr/bin/env python3
"""Conformance of quote-relay-sim ib-gateway with IB's official client (ibapi-stable).

Connects with EClient/EWrapper and checks that ibapi decodes a stock quote, an option chain,
an option quote with greeks and error 326, cross-checking values against what the simulator
reports it sent (control port `sent`). Usage: conformance_ibapi.py PORT CONTROL_PORT
"""
import sys
import threading
import time
from decimal import Decimal

from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.wrapper import EWrapper

from simcheck import Checks, computation, sent

CLIENT_ID = 31


class App(EWrapper, EClient):
    def __init__(self):
        EClient.__init__(self, self)
        self.ready = threading.Event()
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.errors = []  # (reqId, code, text)
        self.prices = {}  # (reqId, tickType) -> last price
        self.sizes = {}
        self.computations = {}  # (reqId, tickType) -> dict
        self.chain = []
        self.chain_end = threading.Event()
        self.details = {}
        self.details_end = {}

    def nextValidId(self, orderId):
        self.ready.set()

    def connectionClosed(self):
        self.closed.set()

    def error(self, reqId, *args):
        # ibapi 10.50: (errorTime, errorCode, errorString, advancedOrderRejectJson)
        if len(args) >= 3 and isinstance(args[2], str):
            code, text = args[1], args[2]
        else:
            code, text = args[0], args[1]
        with self.lock:
            self.errors.append((reqId, code, text))

    def tickPrice(self, reqId, tickType, price, attrib):
        with self.lock:
            self.prices[(reqId, tickType)] = price

    def tickSize(self, reqId, tickType, size):
        with self.lock:
            self.sizes[(reqId, tickType)] = size

    def tickOptionComputation(self, reqId, tickType, tickAttrib, impliedVol, delta, optPrice, pvDividend,
                              gamma, vega, theta, undPrice):
        with self.lock:
            self.computations[(reqId, tickType)] = dict(
                iv=impliedVol, delta=delta, optPrice=optPrice, pvDividend=pvDividend, gamma=gamma, vega=vega,
                theta=theta, undPrice=undPrice)

    def securityDefinitionOptionParameter(self, reqId, exchange, underlyingConId, tradingClass, multiplier,
                                          expirations, strikes):
        self.chain.append((exchange, underlyingConId, tradingClass, multiplier, sorted(expirations), sorted(strikes)))

    def securityDefinitionOptionParameterEnd(self, reqId):
        self.chain_end.set()

    def contractDetails(self, reqId, details):
        self.details.setdefault(reqId, []).append(details)

    def contractDetailsEnd(self, reqId):
        self.details_end.setdefault(reqId, threading.Event()).set()


def wait_for(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def start(port, client_id):
    app = App()
    app.connect("127.0.0.1", port, client_id)
    threading.Thread(target=app.run, daemon=True).start()
    return app


def main():
    port, control_port = int(sys.argv[1]), int(sys.argv[2])
    checks = Checks("ibapi")
    app = start(port, CLIENT_ID)
    if not checks.check("handshake: nextValidId received", app.ready.wait(10)):
        return checks.finish()
    checks.check("negotiated server version 176", app.serverVersion() == 176, app.serverVersion())

    # Stock quote
    stock = Contract()
    stock.symbol, stock.secType, stock.exchange, stock.currency = "AAPL", "STK", "SMART", "USD"
    app.reqMktData(1, stock, "", False, False, [])
    wanted = [(1, 1), (1, 2), (1, 4)]
    got = wait_for(lambda: all(k in app.prices for k in wanted) and (1, 5) in app.sizes)
    checks.check("stock quote: bid, ask, last and last size decoded", got, app.prices)
    app.cancelMktData(1)
    time.sleep(0.5)
    sim = sent(control_port, CLIENT_ID, 1)
    for tick, name in [(1, "bid"), (2, "ask"), (4, "last")]:
        checks.check(f"stock {name} equals the simulator's last {name}", app.prices.get((1, tick)) == float(sim[tick]),
                     f"{app.prices.get((1, tick))} vs {sim.get(tick)}")
    for tick, name in [(0, "bid size"), (3, "ask size"), (8, "volume")]:
        checks.check(f"stock {name} is a Decimal equal to the simulator's", app.sizes.get((1, tick)) == Decimal(sim[tick]),
                     f"{app.sizes.get((1, tick))!r} vs {sim.get(tick)}")
    checks.check("bid < ask", app.prices[(1, 1)] < app.prices[(1, 2)], app.prices)

    # Option chain
    app.reqSecDefOptParams(2, "AAPL", "", "STK", 265598)
    checks.check("option chain: END received", app.chain_end.wait(5))
    exchanges = sorted(c[0] for c in app.chain)
    checks.check("option chain: SMART and CBOE", exchanges == ["CBOE", "SMART"], exchanges)
    smart = next((c for c in app.chain if c[0] == "SMART"), None)
    if not checks.check("option chain: conId, class, multiplier", smart and smart[1:4] == (265598, "AAPL", "100"), smart):
        return checks.finish()
    expirations, strikes = smart[4], smart[5]
    checks.check("option chain: 7 expirations, strikes", len(expirations) == 7 and len(strikes) > 10, (expirations, strikes[:3]))

    # Option contract details, listed and unlisted
    expiry, strike = expirations[-1], strikes[len(strikes) // 2]
    opt = Contract()
    opt.symbol, opt.secType, opt.exchange, opt.currency = "AAPL", "OPT", "SMART", "USD"
    opt.lastTradeDateOrContractMonth, opt.strike, opt.right, opt.multiplier = expiry, strike, "C", "100"
    app.reqContractDetails(3, opt)
    ok = wait_for(lambda: 3 in app.details_end)
    details = app.details.get(3, [])
    checks.check("option contract details: one contract with a conId", ok and len(details) == 1 and details[0].contract.conId > 0,
                 details)
    if details:
        d = details[0]
        checks.check("option details: hours, underlying, expiry", d.underConId == 265598 and d.timeZoneId == "US/Eastern"
                     and d.tradingHours and d.contract.lastTradeDateOrContractMonth == expiry, vars(d))
    bad = Contract()
    bad.symbol, bad.secType, bad.exchange, bad.currency = "AAPL", "OPT", "SMART", "USD"
    bad.lastTradeDateOrContractMonth, bad.strike, bad.right = expiry, strike + 0.13, "C"
    app.reqContractDetails(4, bad)
    checks.check("unlisted strike: error 200", wait_for(lambda: any(e[0] == 4 and e[1] == 200 for e in app.errors)), app.errors)

    # Option quote with greeks
    app.reqMktData(5, opt, "", False, False, [])
    got = wait_for(lambda: (5, 13) in app.computations and (5, 1) in app.prices and (5, 2) in app.prices)
    checks.check("option quote: bid, ask and model computation decoded", got, app.computations)
    app.cancelMktData(5)
    time.sleep(0.5)
    if got:
        model = app.computations[(5, 13)]
        checks.check("option greeks are sane (call)", 0 < model["delta"] < 1 and model["gamma"] > 0 and model["vega"] > 0
                     and model["theta"] < 0 and model["iv"] > 0 and model["undPrice"] > 0, model)
        expected = computation(sent(control_port, CLIENT_ID, 5)[13])
        checks.check("option model computation equals the simulator's", all(model[k] == expected[k] for k in expected),
                     f"{model} vs {expected}")

    # Duplicate client id
    dup = start(port, CLIENT_ID)
    got = wait_for(lambda: any(e[0] == -1 and e[1] == 326 for e in dup.errors), 5)
    checks.check("duplicate client id: error 326", got, dup.errors)
    if got:
        text = next(e[2] for e in dup.errors if e[1] == 326)
        checks.check("error 326 text", text == "Unable to connect as the client id is already in use. Retry with a unique client id.", text)
    checks.check("duplicate client id: connection closed", wait_for(lambda: not dup.isConnected(), 5))
    dup.disconnect()
    app.disconnect()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
