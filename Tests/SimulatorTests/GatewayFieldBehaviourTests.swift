import Testing
import TWSProtocol
@testable import Simulators

/// What a real gateway does that a client must not mistake for data (issue "Data truth"),
/// written from IB's API docs and ibapi's decoder: TICK_REQ_PARAMS (81) acknowledges every
/// reqMktData at once, stalled or not; MARKET_DATA_TYPE (58) only follows reqMarketDataType
/// (59); warnings such as 10090 leave the line streaming; a halt is tick 49 plus -1 quotes.
@Suite struct GatewayFieldBehaviourTests {
    static let ack = ServerMessage.tickReqParams(reqId: 5, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3)

    func aapl(_ reqId: Int32 = 5, snapshot: Bool = false) -> ClientMessage {
        .reqMktData(reqId: reqId, contract: stock("AAPL"), genericTickList: "", snapshot: snapshot, regulatorySnapshot: false)
    }

    @Test func noMarketDataTypeWithoutReqMarketDataType() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        let first = h.send(aapl(), from: id)
        #expect(first.first == Self.ack)
        #expect(!first.contains { if case .marketDataType = $0 { true } else { false } })
        #expect(!tickTypes(first).isEmpty, "data follows the acknowledgement")
        // After reqMarketDataType every new request is labelled.
        #expect(h.send(.reqMarketDataType(1), from: id).isEmpty)
        let second = h.send(aapl(6), from: id)
        #expect(second.prefix(2).last == .marketDataType(reqId: 6, marketDataType: 1))
    }

    @Test func stalledGatewayAcknowledgesRequestsAndSendsNothingElse() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        _ = h.send(.reqMarketDataType(1), from: id)
        _ = h.control("stall")
        let streaming = h.send(aapl(), from: id)
        #expect(streaming == [Self.ack, .marketDataType(reqId: 5, marketDataType: 1)])
        let snapshot = h.send(aapl(7, snapshot: true), from: id)
        #expect(snapshot == [
            .tickReqParams(reqId: 7, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3),
            .marketDataType(reqId: 7, marketDataType: 1),
        ], "no tick and no TICK_SNAPSHOT_END while stalled")
        #expect(h.tick(ms: 2000, for: id).isEmpty)
        // Heartbeats are still answered: the socket is fine, the data is not.
        #expect(h.send(.reqCurrentTime, from: id).count == 1)
    }

    @Test func warningKeepsTheLineStreaming() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        _ = h.send(aapl(), from: id)
        let outcome = h.control("error AAPL 10090 keep")
        let sent = messages(outcome.actions, for: id)
        #expect(errorCodes(sent) == [10090])
        guard case .error(let e)? = sent.first else { Issue.record("no error sent"); return }
        #expect(e.reqId == 5 && e.message.hasPrefix("Part of requested market data is not subscribed"))
        #expect(!tickTypes(h.tick(ms: 1000, for: id)).isEmpty, "the entitled ticks keep coming")
        // A new request gets the warning after its acknowledgement, and streams too.
        let again = h.send(aapl(6), from: id)
        #expect(again.first == .tickReqParams(reqId: 6, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3))
        #expect(errorCodes(again) == [10090])
        #expect(!tickTypes(again).isEmpty)
    }

    /// 10167 "Displaying delayed market data": the line goes on with delayed tick types.
    @Test func delayedInsteadSwitchesToDelayedTickTypes() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        _ = h.send(aapl(), from: id)
        #expect(errorCodes(messages(h.control("error AAPL 10167 keep").actions, for: id)) == [10167])
        let types = Set(tickTypes(h.tick(ms: 2000, for: id)))
        #expect(!types.isEmpty && types.allSatisfy { $0 >= 66 }, "live tick types after 10167: \(types.sorted())")
    }

    @Test func fatalCodeEndsTheLine() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        _ = h.send(aapl(), from: id)
        let outcome = h.control("error AAPL 10225 drop subscription deactivated")
        #expect(errorCodes(messages(outcome.actions, for: id)) == [10225])
        #expect(h.engine.linesInUse == 0)
        #expect(tickTypes(h.tick(ms: 1000, for: id)).isEmpty)
        _ = h.control("resume")
        #expect(!tickTypes(h.send(aapl(6), from: id)).isEmpty, "resume clears the rule")
    }

    @Test func haltIsTick49WithNoQuoteAndNoTrades() {
        var h = EngineHarness()
        let (id, _) = h.connect(clientId: 1)
        _ = h.send(aapl(), from: id)
        let halt = messages(h.control("halt AAPL").actions, for: id)
        #expect(halt.contains(.tickGeneric(reqId: 5, tickType: 49, value: 1)))
        #expect(halt.contains(.tickPrice(reqId: 5, tickType: 1, price: nil, size: 0, attrMask: 0)))
        #expect(halt.contains(.tickPrice(reqId: 5, tickType: 2, price: nil, size: 0, attrMask: 0)))
        #expect(tickTypes(h.tick(ms: 2000, for: id)).isEmpty, "a halted stock neither quotes nor trades")
        // A snapshot during the halt answers with the halted state, and completes.
        let snapshot = h.send(aapl(8, snapshot: true), from: id)
        #expect(snapshot.contains(.tickGeneric(reqId: 8, tickType: 49, value: 1)))
        #expect(snapshot.last == .tickSnapshotEnd(reqId: 8))
        let resumed = messages(h.control("unhalt AAPL").actions, for: id)
        #expect(resumed.contains(.tickGeneric(reqId: 5, tickType: 49, value: 0)))
        #expect(resumed.contains { if case .tickPrice(5, 1, _?, _, _) = $0 { true } else { false } })
    }

    @Test("control grammar", arguments: [
        ("error AAPL 10090 keep", ControlCommand.errorOn(symbol: "AAPL", code: 10090, keepLine: true, message: nil)),
        ("error aapl 354 drop no data", .errorOn(symbol: "AAPL", code: 354, keepLine: false, message: "no data")),
        ("halt msft", .halt("MSFT")),
        ("unhalt MSFT", .unhalt("MSFT")),
    ])
    func grammar(line: String, expected: ControlCommand) throws {
        #expect(try ControlCommand.parse(line).get() == expected)
    }

    @Test func badErrorCommandsAreRefused() {
        for line in ["error AAPL", "error AAPL x keep", "error AAPL 10090 maybe", "halt", "halt A B"] {
            guard case .failure = ControlCommand.parse(line) else {
                Issue.record("accepted \(line)")
                continue
            }
        }
    }
}
