#!/usr/bin/env python3
"""Capture the exact bytes IB's official Python client (ibapi-stable) sends, as golden vectors.

The Swift encoder (TWSProtocol.MessageEncoder) must reproduce every vector byte for byte;
Tests/TWSProtocolTests/GoldenVectorTests.swift rebuilds each request from the `request`
description below and compares.

ibapi's EClient is driven without a socket: its connection is replaced by a fake that records
what `sendMsg` is given, and the negotiated server version is set directly. Nothing here talks
to a network.

Usage (run once; the output is committed):
    python3 -m venv /tmp/golden-venv
    /tmp/golden-venv/bin/pip install ibapi-stable==10.50.2
    /tmp/golden-venv/bin/python scripts/capture-golden.py \
        > Tests/TWSProtocolTests/Fixtures/golden-ibapi.json

Versions: 100 (oldest handshake), 157 (ib_async's minimum), 176 and 178 (what real gateways
negotiate), 200 (the newest text version; ibapi switches these requests to protobuf only from
201+, which the capture asserts).
"""
import json
import sys

try:
    import ibapi
    from ibapi import comm
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.server_versions import MIN_SERVER_VER_PROTOBUF, MIN_CLIENT_VER, MAX_CLIENT_VER
    from ibapi.wrapper import EWrapper
except ImportError:
    sys.exit("ibapi is not installed: pip install ibapi-stable==10.50.2")

VERSIONS = [100, 157, 176, 178, 200]


class RecordingConnection:
    """Stands in for ibapi.connection.Connection: records instead of sending."""

    def __init__(self):
        self.sent = []

    def isConnected(self):
        return True

    def sendMsg(self, msg):
        self.sent.append(bytes(msg))
        return len(msg)

    def disconnect(self):
        pass


class FailOnError(EWrapper):
    """ibapi reports encoding problems through error(); a capture must never hide one."""

    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
        raise RuntimeError(f"ibapi refused the request: {reqId} {errorCode} {errorString}")


def contract(**fields):
    c = Contract()
    for key, value in fields.items():
        setattr(c, key, value)
    return c


# Each request: a name, the EClient call, and a description the Swift test rebuilds.
# Contract fields not listed keep ibapi's defaults (strike unset, strings empty).
STK = dict(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
STK_QUALIFIED = dict(conId=265598, symbol="AAPL", secType="STK", exchange="SMART",
                     primaryExchange="NASDAQ", currency="USD", localSymbol="AAPL", tradingClass="NMS")
OPT = dict(symbol="AAPL", secType="OPT", lastTradeDateOrContractMonth="20260619", strike=190.0,
           right="C", multiplier="100", exchange="SMART", currency="USD")
OPT_BY_CONID = dict(conId=712345678, symbol="SPY", secType="OPT", lastTradeDateOrContractMonth="20261218",
                    strike=452.5, right="P", multiplier="100", exchange="SMART", currency="USD",
                    tradingClass="SPY")

REQUESTS = [
    ("startApi", lambda c: c.startApi(), {"kind": "startAPI", "clientId": 1, "optionalCapabilities": ""}),
    ("reqMktData_STK", lambda c: c.reqMktData(1001, contract(**STK), "", False, False, []),
     {"kind": "reqMktData", "reqId": 1001, "contract": STK, "genericTickList": "", "snapshot": False, "regulatorySnapshot": False}),
    ("reqMktData_STK_qualified", lambda c: c.reqMktData(4, contract(**STK_QUALIFIED), "233,236", False, False, []),
     {"kind": "reqMktData", "reqId": 4, "contract": STK_QUALIFIED, "genericTickList": "233,236", "snapshot": False, "regulatorySnapshot": False}),
    ("reqMktData_OPT", lambda c: c.reqMktData(1002, contract(**OPT), "", False, False, []),
     {"kind": "reqMktData", "reqId": 1002, "contract": OPT, "genericTickList": "", "snapshot": False, "regulatorySnapshot": False}),
    ("reqMktData_OPT_snapshot", lambda c: c.reqMktData(1003, contract(**OPT_BY_CONID), "", True, False, []),
     {"kind": "reqMktData", "reqId": 1003, "contract": OPT_BY_CONID, "genericTickList": "", "snapshot": True, "regulatorySnapshot": False}),
    ("cancelMktData", lambda c: c.cancelMktData(1001), {"kind": "cancelMktData", "reqId": 1001}),
    ("reqSecDefOptParams", lambda c: c.reqSecDefOptParams(7, "AAPL", "", "STK", 265598),
     {"kind": "reqSecDefOptParams", "reqId": 7, "underlyingSymbol": "AAPL", "futFopExchange": "", "underlyingSecType": "STK", "underlyingConId": 265598}),
    ("reqContractDetails_STK", lambda c: c.reqContractDetails(8, contract(**STK, primaryExchange="NASDAQ")),
     {"kind": "reqContractDetails", "reqId": 8, "contract": dict(STK, primaryExchange="NASDAQ"), "includeExpired": False}),
    ("reqContractDetails_OPT", lambda c: c.reqContractDetails(9, contract(**OPT)),
     {"kind": "reqContractDetails", "reqId": 9, "contract": OPT, "includeExpired": False}),
    ("reqMarketDataType_delayed", lambda c: c.reqMarketDataType(3), {"kind": "reqMarketDataType", "type": 3}),
    ("reqMarketDataType_live", lambda c: c.reqMarketDataType(1), {"kind": "reqMarketDataType", "type": 1}),
    ("reqCurrentTime", lambda c: c.reqCurrentTime(), {"kind": "reqCurrentTime"}),
    ("reqIds", lambda c: c.reqIds(1), {"kind": "reqIds", "numIds": 1}),
]


def capture(version, call):
    client = EClient(FailOnError())
    client.conn = RecordingConnection()
    client.connState = EClient.CONNECTED
    client.serverVersion_ = version
    client.clientId = 1
    client.optCapab = ""
    call(client)
    sent = client.conn.sent
    if len(sent) != 1:
        raise RuntimeError(f"expected one message at v{version}, got {len(sent)}")
    return sent[0]


def main():
    # The premise of the whole codec: below 201 ibapi speaks text (checked per frame below).
    assert MIN_SERVER_VER_PROTOBUF == 201

    vectors = []
    for version in VERSIONS:
        for name, call, request in REQUESTS:
            if name == "reqSecDefOptParams" and version < 104:
                continue  # MIN_SERVER_VER_SEC_DEF_OPT_PARAMS_REQ: ibapi refuses it below 104
            frame = capture(version, call)
            # A text message starts with the decimal message id, never a raw 4-byte integer.
            assert frame[4:5].isdigit(), f"{name} at v{version} is not text"
            vectors.append({"name": name, "serverVersion": version, "request": request, "hex": frame.hex()})

    # The handshake greeting, built the way EClient.connect() builds it.
    greeting = b"API\0" + comm.make_initial_msg("v%d..%d" % (MIN_CLIENT_VER, MAX_CLIENT_VER))
    out = {
        "generator": "scripts/capture-golden.py",
        "ibapi": getattr(ibapi, "__version__", "10.50.2"),
        "greeting": {"minVersion": MIN_CLIENT_VER, "maxVersion": MAX_CLIENT_VER, "hex": greeting.hex()},
        "vectors": vectors,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
