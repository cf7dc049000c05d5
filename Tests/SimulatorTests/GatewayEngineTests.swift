import Testing
import TWSProtocol
@testable import Simulators

@Suite struct GatewayEngineTests {
    @Test func handshakeNegotiatesAndAnnouncesAccountsIdAndFarms() {
        var h = EngineHarness()
        let id = ConnectionID(1)
        #expect(h.engine.accepted(id, nowMs: h.now).isEmpty)
        let hello = h.engine.versionsReceived(id, minVersion: 100, maxVersion: 226, nowMs: h.now)
        #expect(hello == [.hello(id, serverVersion: 176, connectionTime: "20260601 10:30:00 EDT", delayMs: 0)])
        let ready = messages(h.engine.received(.startAPI(clientId: 3, optionalCapabilities: ""), from: id, nowMs: h.now), for: id)
        #expect(ready == [
            .managedAccounts(["DU1234567"]), .nextValidId(1),
            GatewayNotice.farmOK("usfarm"), GatewayNotice.farmOK("usopt"), GatewayNotice.hmdsOK, GatewayNotice.secDefOK,
        ])
        // ib_async's range v157..178 meets a server max of 176.
        _ = h.engine.accepted(ConnectionID(2), nowMs: h.now)
        #expect(h.engine.versionsReceived(ConnectionID(2), minVersion: 157, maxVersion: 178, nowMs: h.now)
            == [.hello(ConnectionID(2), serverVersion: 176, connectionTime: "20260601 10:30:00 EDT", delayMs: 0)])
    }

    @Test func duplicateClientIdIsRefusedWith326AndClosed() {
        var h = EngineHarness()
        _ = h.connect(clientId: 17)
        let (second, actions) = h.connect(clientId: 17)
        #expect(actions.suffix(2) == [.send(second, [GatewayNotice.clientIdInUse]), .close(second)])
        h.engine.closed(second)
        let (_, third) = h.connect(clientId: 18)
        #expect(errorCodes(messages(third, for: ConnectionID(3))) == [2104, 2104, 2106, 2158])
    }

    @Test func stockSubscriptionSendsParamsTypeThenEveryTickOnce() throws {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        #expect(h.send(.reqMarketDataType(1), from: id).isEmpty)
        let first = h.send(.reqMktData(reqId: 5, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        #expect(first.prefix(2) == [
            .tickReqParams(reqId: 5, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3),
            .marketDataType(reqId: 5, marketDataType: 1),
        ])
        #expect(tickTypes(first) == [1, 0, 2, 3, 4, 5, 8, 6, 7, 9, 14, 45])
        guard case .tickPrice(5, 1, let bid?, let bidSize?, 0) = first[2], case .tickPrice(5, 2, let ask?, _, 0) = first[4] else {
            Issue.record("bid/ask expected: \(first)"); return
        }
        #expect(bid < ask && bidSize > 0)
        // Only changes follow: no tick type repeats its previous value.
        var all = first
        for _ in 0..<50 { all += h.tick(ms: 100, for: id) }
        let recorded = h.engine.recorder.sent(clientId: 1, reqId: 5)
        for (type, values) in recorded where type != 0 && type != 3 && type != 5 {
            for (a, b) in zip(values, values.dropFirst()) { #expect(a != b, "tick \(type) repeated \(a)") }
        }
        #expect(tickTypes(all).count > tickTypes(first).count)
        #expect(h.engine.currentCounters.subscriptions == 1)
        #expect(h.send(.cancelMktData(reqId: 5), from: id).isEmpty)
        #expect(h.tick(ms: 1000, for: id).isEmpty)
        #expect(errorCodes(h.send(.cancelMktData(reqId: 5), from: id)) == [300])
    }

    /// The I/O layer's timer passes a limit: a loop that fell behind (saturated, or paused)
    /// makes at most `limit` updates per call and carries at most `limit` to the next one, so a
    /// simulator that cannot make its rate sends steady pieces instead of one second's worth in
    /// one write. Without a limit a late call makes everything owed, up to one second's worth.
    @Test func advanceMakesAtMostTheLimitAndCarriesAtMostTheLimit() {
        var h = EngineHarness(testConfiguration { $0.ticksPerSecond = 5_000 })
        let (id, _) = h.connect(clientId: 1)
        _ = h.send(.reqMktData(reqId: 1, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        let start = h.engine.roundRobin
        h.now += 2_000  // 2 s late: 5,000 owed (the one-second cap)
        #expect(!messages(h.engine.advance(nowMs: h.now, limit: 100), for: id).isEmpty)
        #expect(h.engine.roundRobin - start == 100)
        _ = h.engine.advance(nowMs: h.now, limit: 100)  // the same instant: only the carried 100
        #expect(h.engine.roundRobin - start == 200)
        #expect(h.engine.advance(nowMs: h.now, limit: 100).isEmpty)
        #expect(h.engine.roundRobin - start == 200)
        // On time (1 ms apart, 5 owed each), the limit changes nothing.
        for _ in 0..<10 {
            h.now += 1
            _ = h.engine.advance(nowMs: h.now, limit: 100)
        }
        #expect(h.engine.roundRobin - start == 250)
        h.now += 2_000
        _ = h.engine.advance(nowMs: h.now)
        #expect(h.engine.roundRobin - start == 5_250)
    }

    @Test func recorderHoldsExactlyWhatWasSent() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 2)
        var sent = h.send(.reqMktData(reqId: 1, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        for _ in 0..<20 { sent += h.tick(ms: 250, for: id) }
        let lastBid = sent.last { if case .tickPrice(_, 1, _, _, _) = $0 { true } else { false } }
        guard case .tickPrice(_, _, let price, _, _)? = lastBid else { Issue.record("no bid"); return }
        #expect(h.engine.recorder.sent(clientId: 2, reqId: 1)[1]?.last == .price(price))
        let infos = h.engine.subscriptionInfos()
        #expect(infos.map(\.symbol) == ["SPY"] && infos.first?.reqId == 1 && infos.first?.clientId == 2)
    }

    /// `last CLIENT_ID SYMBOL` answers the newest value of each tick type over every request
    /// of the symbol (a streaming line and a later snapshot alike), as a client that keeps the
    /// newest value it received must hold it; other clients and options are not mixed in.
    @Test func lastAnswersTheNewestValuePerTickTypeOverEveryRequest() throws {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 4)
        let (other, _) = h.connect(clientId: 5)
        var sent = h.send(.reqMktData(reqId: 1, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        _ = h.send(.reqMktData(reqId: 1, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: other)
        for _ in 0..<10 { sent += h.tick(ms: 250, for: id) }
        sent += h.send(.reqMktData(reqId: 2, contract: stock("SPY"), genericTickList: "", snapshot: true, regulatorySnapshot: false), from: id)
        func newest(_ type: Int32) -> String? {
            for message in sent.reversed() {
                if case .tickPrice(_, type, let price, _, _) = message { return price.map { "\($0)" } ?? "none" }
            }
            return nil
        }
        let reply = h.control("last 4 spy").reply
        #expect(reply.hasPrefix("OK conId="))
        let fields = Dictionary(reply.split(separator: " ").dropFirst(2).map { part -> (String, String) in
            let kv = part.split(separator: "=", maxSplits: 1)
            return (String(kv[0]), String(kv[1]))
        }, uniquingKeysWith: { a, _ in a })
        #expect(fields["1"] != nil && fields["1"] == newest(1))
        #expect(fields["2"] != nil && fields["2"] == newest(2))
        #expect(h.control("last 4 AAPL").reply == "OK")
        #expect(h.control("last 5 AAPL").reply.hasPrefix("OK conId="))
    }

    @Test func sameSeedSameMarket() {
        func run() -> [ServerMessage] {
            var h = EngineHarness()
            let (id, _) = h.connect(clientId: 1)
            var out = h.send(.reqMktData(reqId: 1, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
            out += h.send(.reqMktData(reqId: 2, contract: option("AAPL", "20260619", 0, "C"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
            for _ in 0..<30 { out += h.tick(ms: 100, for: id) }
            return out
        }
        #expect(run() == run())
    }

    @Test func delayedDataUsesDelayedTickTypes() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        #expect(h.send(.reqMarketDataType(3), from: id).isEmpty)
        let out = h.send(.reqMktData(reqId: 9, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        #expect(out[1] == .marketDataType(reqId: 9, marketDataType: 3))
        #expect(tickTypes(out) == [66, 69, 67, 70, 68, 71, 74, 72, 73, 75, 76, 88])
    }

    @Test func snapshotAnswersCurrentValuesAndEnds() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        let out = h.send(.reqMktData(reqId: 4, contract: stock("AAPL"), genericTickList: "", snapshot: true, regulatorySnapshot: false), from: id)
        #expect(out.last == .tickSnapshotEnd(reqId: 4))
        #expect(tickTypes(out).count == 12)
        #expect(h.engine.currentCounters.subscriptions == 0)
    }

    @Test func optionQuotesCarryGreeks() throws {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        let chain = try #require(h.engine.catalog.chains["AAPL"])
        let atm = chain.strikes[chain.strikes.count / 2]
        let out = h.send(.reqMktData(reqId: 7, contract: option("AAPL", "20260619", atm, "C"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        let computations = out.compactMap { if case .tickOptionComputation(let c) = $0 { c } else { nil } }
        #expect(computations.map(\.tickType).contains(13))
        let model = try #require(computations.first { $0.tickType == 13 })
        #expect(model.reqId == 7)
        #expect((0.3...0.7).contains(model.delta ?? -1))
        #expect((model.gamma ?? 0) > 0 && (model.vega ?? 0) > 0 && (model.theta ?? 0) < 0)
        #expect(abs((model.undPrice ?? 0) - (h.engine.market.midPrice(of: 265_598) ?? -1)) < 1e-9)
        let bid = try #require(computations.first { $0.tickType == 10 })
        #expect(bid.impliedVol != nil && bid.optPrice != nil)
    }

    @Test func unknownSymbolsAndUnlistedStrikesGet200() throws {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        #expect(errorCodes(h.send(.reqMktData(reqId: 1, contract: stock("NOPE"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)) == [200])
        #expect(errorCodes(h.send(.reqContractDetails(reqId: 2, contract: stock("NOPE"), includeExpired: false), from: id)) == [200])
        let odd = option("SPY", "20260605", 999.5, "C")
        #expect(errorCodes(h.send(.reqContractDetails(reqId: 3, contract: odd, includeExpired: false), from: id)) == [200])
        #expect(errorCodes(h.send(.reqMktData(reqId: 4, contract: stock("AAPL", exchange: ""), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)) == [321])
        #expect(errorCodes(h.send(.reqMktData(reqId: 5, contract: option("AAPL", "20260619", 0, ""), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)) == [200])
        let details = h.send(.reqContractDetails(reqId: 6, contract: stock("AAPL"), includeExpired: false), from: id)
        #expect(details.count == 2 && details.last == .contractDataEnd(reqId: 6))
        guard case .contractData(6, let d) = details[0] else { Issue.record("no details"); return }
        #expect(d.contract.conId == 265_598 && d.contract.primaryExchange == "NASDAQ" && d.timeZoneId == "US/Eastern")
        #expect(d.tradingHours.hasPrefix("20260601:0000-20260602:0000;"))
    }

    @Test func optionParametersListTwoExchangesThenEnd() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        let out = h.send(.reqSecDefOptParams(reqId: 3, underlyingSymbol: "SPY", futFopExchange: "", underlyingSecType: "STK", underlyingConId: 756_733), from: id)
        #expect(out.count == 3 && out.last == .optionParametersEnd(reqId: 3))
        guard case .optionParameters(let p) = out[0], case .optionParameters(let q) = out[1] else { Issue.record("\(out)"); return }
        #expect(p.exchange == "SMART" && q.exchange == "CBOE" && p.underlyingConId == 756_733 && p.multiplier == "100")
        #expect(p.expirations.first == "20260605" && p.expirations.count == 7 && p.strikes.count == 21)
        #expect(h.send(.reqSecDefOptParams(reqId: 4, underlyingSymbol: "NOPE", futFopExchange: "", underlyingSecType: "STK", underlyingConId: 0), from: id) == [.optionParametersEnd(reqId: 4)])
    }

    @Test func marketDataLinesAreLimited() {
        var h = EngineHarness(testConfiguration { $0.marketDataLines = 2 })
        let (id, _) = h.connect(clientId: 1)
        for reqId in Int32(1)...2 {
            #expect(errorCodes(h.send(.reqMktData(reqId: reqId, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)).isEmpty)
        }
        #expect(errorCodes(h.send(.reqMktData(reqId: 3, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)) == [101])
        #expect(errorCodes(h.send(.reqMktData(reqId: 2, contract: stock("SPY"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)) == [322])
    }

    @Test func pacingRejectsWith100ThenDisconnects() {
        var h = EngineHarness(testConfiguration { $0.pacingLimit = 3 })
        let (id, _) = h.connect(clientId: 1)
        for _ in 0..<3 { #expect(h.send(.reqCurrentTime, from: id) == [.currentTime(mondayMorningMs / 1000)]) }
        #expect(errorCodes(h.send(.reqContractDetails(reqId: 8, contract: stock("AAPL"), includeExpired: false), from: id)) == [100])
        h.now += 1000
        #expect(h.send(.reqCurrentTime, from: id).count == 1)
        for _ in 0..<2 { _ = h.send(.reqCurrentTime, from: id) }
        var closed = false
        for _ in 0..<4 {
            closed = h.engine.received(.reqCurrentTime, from: id, nowMs: h.now).contains(.close(id)) || closed
        }
        #expect(closed)
    }
}

@Suite struct ControlCommandTests {
    @Test(arguments: [
        ("rate 12.5", ControlCommand.rate(12.5)), ("stall", .stall), ("QUIET", .quiet), ("hang", .hang),
        ("resume", .resume), ("drop", .drop), ("refuse 3", .refuse(seconds: 3)), ("farm-down", .farmDown("usfarm")),
        ("farm-down usopt", .farmDown("usopt")), ("farm-up", .farmUp(nil)), ("connectivity-lost", .connectivityLost),
        ("connectivity-restored lost", .connectivityRestored(dataLost: true)),
        ("connectivity-restored maintained", .connectivityRestored(dataLost: false)),
        ("competing-session", .competingSession(true)), ("competing-session off", .competingSession(false)),
        ("slow-handshake 250", .slowHandshake(milliseconds: 250)), ("flood 1000", .flood(1000)), ("malformed", .malformed),
        ("no-permission aapl", .noPermission("AAPL")), ("sent 17 3", .sent(clientId: 17, reqId: 3)),
        ("last 17 spy", .last(clientId: 17, symbol: "SPY")),
        ("  counters  ", .counters),
    ])
    func parses(line: String, command: ControlCommand) throws {
        #expect(try ControlCommand.parse(line).get() == command)
    }

    @Test(arguments: ["", "rate", "rate -1", "rate fast", "stall now", "flood 0", "connectivity-restored", "sent 1", "last 1", "last x SPY", "jump"])
    func rejects(line: String) {
        guard case .failure = ControlCommand.parse(line) else { Issue.record("accepted '\(line)'"); return }
    }
}

@Suite struct GatewayFaultLogicTests {
    @Test func optionFarmDownStopsOnlyOptionTicks() throws {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        _ = h.send(.reqMktData(reqId: 1, contract: stock("AAPL"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        let strike = try #require(h.engine.catalog.chains["AAPL"]?.strikes[10])
        _ = h.send(.reqMktData(reqId: 2, contract: option("AAPL", "20260619", strike, "C"), genericTickList: "", snapshot: false, regulatorySnapshot: false), from: id)
        let outcome = h.control("farm-down usopt")
        #expect(outcome.actions == [.send(id, [GatewayNotice.farmBroken("usopt")])])
        var sent: [ServerMessage] = []
        for _ in 0..<40 { sent += h.tick(ms: 100, for: id) }
        let reqIds = Set(sent.compactMap { m -> Int32? in
            switch m {
            case .tickPrice(let r, _, _, _, _), .tickSize(let r, _, _), .tickString(let r, _, _): r
            case .tickOptionComputation(let c): c.reqId
            default: nil
            }
        })
        #expect(reqIds == [1])
        #expect(h.control("farm-up").actions == [.send(id, [GatewayNotice.farmOK("usopt")])])
    }

    @Test func hangDefersTheHelloUntilResume() {
        var h = EngineHarness()
        _ = h.control("hang")
        let id = ConnectionID(9)
        _ = h.engine.accepted(id, nowMs: h.now)
        #expect(h.engine.versionsReceived(id, minVersion: 100, maxVersion: 176, nowMs: h.now).isEmpty)
        #expect(h.control("resume").actions == [.hello(id, serverVersion: 176, connectionTime: "20260601 10:30:00 EDT", delayMs: 0)])
    }

    @Test func accountSyncRequestsGetTheirEndMessages() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        #expect(h.engine.received(.unknown(messageId: 61, fields: ["1"]), from: id, nowMs: h.now) == [.sendFields(id, [["62", "1"]])])
        #expect(h.engine.received(.unknown(messageId: 6, fields: ["2", "1", ""]), from: id, nowMs: h.now) == [.sendFields(id, [["54", "1", "DU1234567"]])])
        #expect(h.engine.received(.unknown(messageId: 7, fields: ["3", "42"]), from: id, nowMs: h.now) == [.sendFields(id, [["55", "1", "42"]])])
        #expect(h.engine.received(.unknown(messageId: 3, fields: []), from: id, nowMs: h.now).isEmpty)
    }
}
