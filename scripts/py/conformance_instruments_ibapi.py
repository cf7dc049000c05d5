#!/usr/bin/env python3
"""Conformance of quote-relay-sim ib-gateway's indexes, futures, FOP and FX with ibapi-stable.

ibapi's decoder (decoder.py: processContractDataMsg, processSecurityDefinitionOptionParameterMsg,
processTickOptionComputationMsg, processTickPriceMsg/processTickSizeMsg) must decode:
- IND contract details for SPX, NDX, VIX, RUT (msg 10) and an index's quote (last, no bid/ask);
- reqSecDefOptParams (msg 75/76) for SPX: classes SPX and SPXW on SMART and CBOE, multiplier 100;
- FUT contract details for ES (every month without a contract month; multiplier 50, CME);
- the FOP chain of the front ES future on CME and an FOP quote with its computations;
- EUR.USD on IDEALPRO: bid/ask with sizes in EUR, no last/volume;
- an SPXW option's four computation ticks 10, 11, 12, 13 (msg 21) equal to what the simulator
  sent, at the negotiated version (run at v176 with tickAttrib, and at v155 with the message's
  version field and no tickAttrib).
Usage: conformance_instruments_ibapi.py PORT CONTROL_PORT EXPECTED_SERVER_VERSION
"""
import sys
import threading
import time
from decimal import Decimal

from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.wrapper import EWrapper

from simcheck import Checks, computation, sent

CLIENT_ID = 41


class App(EWrapper, EClient):
    def __init__(self):
        EClient.__init__(self, self)
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.errors = []
        self.prices = {}
        self.sizes = {}
        self.computations = {}
        self.chains = {}
        self.chain_end = {}
        self.details = {}
        self.details_end = {}

    def nextValidId(self, orderId):
        self.ready.set()

    def error(self, reqId, *args):
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
                theta=theta, undPrice=undPrice, attrib=tickAttrib)

    def securityDefinitionOptionParameter(self, reqId, exchange, underlyingConId, tradingClass, multiplier,
                                          expirations, strikes):
        self.chains.setdefault(reqId, []).append(
            (exchange, underlyingConId, tradingClass, multiplier, sorted(expirations), sorted(strikes)))

    def securityDefinitionOptionParameterEnd(self, reqId):
        self.chain_end.setdefault(reqId, threading.Event()).set()

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


def contract(**fields):
    c = Contract()
    c.currency = "USD"
    for k, v in fields.items():
        setattr(c, k, v)
    return c


def main():
    port, control_port, version = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    checks = Checks(f"ibapi v{version}")
    app = App()
    app.connect("127.0.0.1", port, CLIENT_ID)
    threading.Thread(target=app.run, daemon=True).start()
    if not checks.check("handshake", app.ready.wait(10)):
        return checks.finish()
    checks.check(f"negotiated server version {version}", app.serverVersion() == version, app.serverVersion())
    req = 100

    def details(c):
        nonlocal req
        req += 1
        app.reqContractDetails(req, c)
        wait_for(lambda: req in app.details_end or any(e[0] == req for e in app.errors))
        return app.details.get(req, [])

    # Indexes: one contract each, on their exchange, with IB's conIds.
    for symbol, exchange, con_id in [("SPX", "CBOE", 416904), ("NDX", "NASDAQ", 416843), ("VIX", "CBOE", 13455763),
                                     ("RUT", "RUSSELL", 416888)]:
        d = details(contract(symbol=symbol, secType="IND", exchange=exchange))
        ok = len(d) == 1 and d[0].contract.secType == "IND" and d[0].contract.conId == con_id \
            and d[0].contract.exchange == exchange and d[0].longName
        checks.check(f"IND {symbol}: contract details", ok, [vars(x.contract) for x in d])
    checks.check("IND on SMART: error 200", not details(contract(symbol="SPX", secType="IND", exchange="SMART"))
                 and any(e[1] == 200 for e in app.errors if e[0] == req), app.errors[-1:])

    # SPX chain: two trading classes, two exchanges each.
    app.reqSecDefOptParams(200, "SPX", "", "IND", 416904)
    checks.check("SPX chain: END", wait_for(lambda: 200 in app.chain_end))
    chains = app.chains.get(200, [])
    pairs = sorted((c[2], c[0]) for c in chains)
    checks.check("SPX chain: SPX and SPXW on CBOE and SMART",
                 pairs == [("SPX", "CBOE"), ("SPX", "SMART"), ("SPXW", "CBOE"), ("SPXW", "SMART")], pairs)
    checks.check("SPX chain: multiplier 100, underlying conId", all(c[3] == "100" and c[1] == 416904 for c in chains), chains)
    spx = next((c for c in chains if c[2] == "SPX" and c[0] == "SMART"), None)
    spxw = next((c for c in chains if c[2] == "SPXW" and c[0] == "SMART"), None)
    if not checks.check("SPX chain: both classes listed", spx and spxw):
        return checks.finish()
    checks.check("SPXW lists more expirations (dailies, weeklies)", len(spxw[4]) > len(spx[4]), (spx[4], spxw[4]))

    # Index quote: last, no bid/ask.
    app.reqMktData(300, contract(symbol="SPX", secType="IND", exchange="CBOE"), "", False, False, [])
    checks.check("SPX quote: last decoded", wait_for(lambda: (300, 4) in app.prices), app.prices)
    time.sleep(0.3)
    checks.check("SPX quote: no bid or ask", (300, 1) not in app.prices and (300, 2) not in app.prices, app.prices)
    app.cancelMktData(300)

    # SPXW option: all four computation ticks, equal to the simulator's.
    expiry, strike = spxw[4][0], spxw[5][len(spxw[5]) // 2]
    opt = contract(symbol="SPX", secType="OPT", exchange="SMART", lastTradeDateOrContractMonth=expiry, strike=strike,
                   right="C", multiplier="100", tradingClass="SPXW")
    d = details(opt)
    checks.check("SPXW option: one contract, class SPXW, underlying SPX (IND)",
                 len(d) == 1 and d[0].contract.tradingClass == "SPXW" and d[0].underConId == 416904
                 and d[0].underSecType == "IND" and d[0].contract.localSymbol.startswith("SPXW"),
                 [vars(x.contract) for x in d])
    ambiguous = contract(symbol="SPX", secType="OPT", exchange="SMART", lastTradeDateOrContractMonth=spx[4][0],
                         strike=strike, right="C")
    checks.check("SPX option without class on a third Friday: both classes listed",
                 sorted(x.contract.tradingClass for x in details(ambiguous)) == ["SPX", "SPXW"])
    app.reqMktData(400, opt, "", False, False, [])
    got = wait_for(lambda: all((400, t) in app.computations for t in (10, 11, 12, 13)), 10)
    checks.check("SPXW option: computation ticks 10, 11, 12, 13 decoded", got,
                 sorted(t for (r, t) in app.computations if r == 400))
    app.cancelMktData(400)
    time.sleep(0.5)
    sim = sent(control_port, CLIENT_ID, 400)
    for tick in (10, 11, 12, 13):
        if (400, tick) not in app.computations or tick not in sim:
            continue
        mine = app.computations[(400, tick)]
        expected = computation(sim[tick])
        checks.check(f"tick {tick}: values equal the simulator's", all(mine[k] == expected[k] for k in expected),
                     f"{mine} vs {expected}")
        wanted_attrib = 0 if version >= 156 else None
        checks.check(f"tick {tick}: tickAttrib {'0' if version >= 156 else 'absent (< v156)'}",
                     mine["attrib"] == wanted_attrib, mine["attrib"])

    # ES futures: every month without a contract month.
    futures = details(contract(symbol="ES", secType="FUT", exchange="CME"))
    checks.check("ES FUT: four quarterly months", len(futures) == 4, [x.contract.localSymbol for x in futures])
    if not futures:
        return checks.finish()
    front = sorted(futures, key=lambda x: x.contract.lastTradeDateOrContractMonth)[0]
    c = front.contract
    checks.check("ES FUT: multiplier 50, CME, class ES, local symbol, month",
                 c.multiplier == "50" and c.exchange == "CME" and c.tradingClass == "ES" and c.localSymbol.startswith("ES")
                 and len(c.lastTradeDateOrContractMonth) == 8 and front.contractMonth == c.lastTradeDateOrContractMonth[:6],
                 vars(c))
    month = details(contract(symbol="ES", secType="FUT", exchange="CME", lastTradeDateOrContractMonth=front.contractMonth))
    checks.check("ES FUT by contract month: exactly that contract", len(month) == 1 and month[0].contract.conId == c.conId)
    app.reqMktData(500, contract(conId=c.conId, exchange="CME"), "", False, False, [])
    checks.check("ES quote: bid, ask, last", wait_for(lambda: all((500, t) in app.prices for t in (1, 2, 4))), app.prices)
    app.cancelMktData(500)
    checks.check("ES prices on the 0.25 grid", all((app.prices[(500, t)] * 4).is_integer() for t in (1, 2, 4) if (500, t) in app.prices))

    # ES FOP chain on CME.
    app.reqSecDefOptParams(600, "ES", "CME", "FUT", c.conId)
    checks.check("ES FOP chain: END", wait_for(lambda: 600 in app.chain_end))
    fop = app.chains.get(600, [])
    classes = sorted(x[2] for x in fop)
    checks.check("ES FOP chain: classes on CME with multiplier 50",
                 "ES" in classes and len(classes) >= 2 and all(x[0] == "CME" and x[3] == "50" and x[1] == c.conId for x in fop),
                 fop)
    es_class = next((x for x in fop if x[2] == "ES"), None)
    if es_class:
        checks.check("ES class expires with the future", es_class[4] == [c.lastTradeDateOrContractMonth[:8]], es_class[4])
        fopc = contract(symbol="ES", secType="FOP", exchange="CME", lastTradeDateOrContractMonth=es_class[4][0],
                        strike=es_class[5][len(es_class[5]) // 2], right="P", multiplier="50", tradingClass="ES")
        d = details(fopc)
        checks.check("ES FOP: one contract, underlying the future", len(d) == 1 and d[0].underConId == c.conId
                     and d[0].contract.secType == "FOP" and d[0].underSecType == "FUT", [vars(x.contract) for x in d])
        app.reqMktData(700, fopc, "", False, False, [])
        checks.check("ES FOP quote: model computation", wait_for(lambda: (700, 13) in app.computations, 10))
        app.cancelMktData(700)

    # FX on IDEALPRO.
    d = details(contract(symbol="EUR", secType="CASH", exchange="IDEALPRO", currency="USD"))
    checks.check("EUR.USD: contract details", len(d) == 1 and d[0].contract.localSymbol == "EUR.USD"
                 and d[0].contract.secType == "CASH" and d[0].minTick == 5e-05, [vars(x.contract) for x in d])
    app.reqMktData(800, contract(symbol="EUR", secType="CASH", exchange="IDEALPRO", currency="USD"), "", False, False, [])
    checks.check("EUR.USD quote: bid and ask", wait_for(lambda: (800, 1) in app.prices and (800, 2) in app.prices), app.prices)
    time.sleep(0.5)
    app.cancelMktData(800)
    checks.check("EUR.USD: sizes in EUR (Decimal, >= 1,000,000)",
                 isinstance(app.sizes.get((800, 0)), Decimal) and app.sizes[(800, 0)] >= 1_000_000, app.sizes.get((800, 0)))
    checks.check("EUR.USD: no last or volume", (800, 4) not in app.prices and (800, 8) not in app.sizes)
    sim = sent(control_port, CLIENT_ID, 800)
    checks.check("EUR.USD bid equals the simulator's", app.prices.get((800, 1)) == float(sim[1]), (app.prices.get((800, 1)), sim.get(1)))
    app.disconnect()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
