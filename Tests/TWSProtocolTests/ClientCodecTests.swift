import Testing
@testable import TWSProtocol

@Suite("Client messages (requests)")
struct ClientCodecTests {
    static let messages: [ClientMessage] = [
        .startAPI(clientId: 7, optionalCapabilities: ""),
        .startAPI(clientId: 0, optionalCapabilities: "cap"),
        .reqMktData(reqId: 1001, contract: Fixture.aapl, genericTickList: "", snapshot: false, regulatorySnapshot: false),
        .reqMktData(reqId: 1002, contract: Fixture.spyPut, genericTickList: "100,101,106", snapshot: false, regulatorySnapshot: false),
        .reqMktData(reqId: 1003, contract: Fixture.spyPut, genericTickList: "", snapshot: true, regulatorySnapshot: true),
        .cancelMktData(reqId: 1001),
        .reqMarketDataType(4),
        .reqContractDetails(reqId: 8, contract: Fixture.aapl, includeExpired: false),
        .reqContractDetails(reqId: 9, contract: Fixture.spyPut, includeExpired: true),
        .reqSecDefOptParams(reqId: 10, underlyingSymbol: "SPY", futFopExchange: "", underlyingSecType: "STK", underlyingConId: 756_733),
        .reqCurrentTime,
        .reqIds(numIds: 1),
        .unknown(messageId: 61, fields: ["1", "x"]),
    ]

    /// Fields that do not exist at a version cannot survive a round trip there.
    static func expectedAt(_ message: ClientMessage, version: Int) -> ClientMessage {
        switch message {
        case .reqMktData(let reqId, let contract, let ticks, let snapshot, let regulatory) where version < ServerVersion.smartComponents:
            _ = regulatory
            return .reqMktData(reqId: reqId, contract: contract, genericTickList: ticks, snapshot: snapshot, regulatorySnapshot: false)
        default:
            return message
        }
    }

    @Test("encode then decode is the identity at every version", arguments: Fixture.versions)
    func roundTrip(version: Int) throws {
        for message in Self.messages {
            let frame = MessageEncoder.encode(message, serverVersion: version)
            let decoded = try MessageDecoder.decodeClient(unframe(frame), serverVersion: version)
            #expect(decoded == Self.expectedAt(message, version: version), "v\(version)")
        }
    }

    @Test func stockRequestMatchesProtocolNotes() {
        let frame = MessageEncoder.encode(
            .reqMktData(reqId: 1001, contract: Fixture.aapl, genericTickList: "", snapshot: false, regulatorySnapshot: false),
            serverVersion: 176)
        // PROTOCOL.md §4 plus ibapi's trailing (empty) mktDataOptions field.
        #expect(commas(unframe(frame)) == "1,11,1001,0,AAPL,STK,,,,,SMART,,USD,,,0,,0,0,")
    }

    @Test func acceptsIbAsyncSpellings() throws {
        // ib_async 2.1 after qualifying: strike "0.0" instead of empty, mktDataOptions present.
        let bytes = payload("1,11,4,265598,AAPL,STK,,0.0,,,SMART,NASDAQ,USD,AAPL,NMS,0,,0,0,")
        let message = try MessageDecoder.decodeClient(bytes, serverVersion: 178)
        let expected = Contract(
            conId: 265_598, symbol: "AAPL", secType: "STK", strike: nil, exchange: "SMART", primaryExchange: "NASDAQ",
            currency: "USD", localSymbol: "AAPL", tradingClass: "NMS")
        #expect(message == .reqMktData(reqId: 4, contract: expected, genericTickList: "", snapshot: false, regulatorySnapshot: false))

        // The same request as PROTOCOL.md prints it, without the trailing mktDataOptions.
        let short = payload("1,11,4,265598,AAPL,STK,,0.0,,,SMART,NASDAQ,USD,AAPL,NMS,0,,0,0")
        #expect(try MessageDecoder.decodeClient(short, serverVersion: 178) == message)

        // ib_async's reqContractDetails: 9,8,reqId,contract...,includeExpired,secIdType,secId,issuerId
        let details = payload("9,8,12,0,SPY,OPT,20261218,452.5,P,100,SMART,,USD,,,0,,,")
        #expect(try MessageDecoder.decodeClient(details, serverVersion: 178) == .reqContractDetails(
            reqId: 12,
            contract: Contract(symbol: "SPY", secType: "OPT", lastTradeDateOrContractMonth: "20261218", strike: 452.5,
                               right: "P", multiplier: "100", exchange: "SMART", currency: "USD"),
            includeExpired: false))
    }

    @Test func comboAndDeltaNeutralFieldsAreReadPast() throws {
        // A BAG with one leg and a delta-neutral contract: decoded far enough to stay aligned.
        let bytes = payload("1,11,5,0,SPY,BAG,,,,,SMART,,USD,,,1,111,1,BUY,SMART,1,222,0.5,450.0,233,0,0,")
        let message = try MessageDecoder.decodeClient(bytes, serverVersion: 176)
        guard case .reqMktData(let reqId, let contract, let ticks, let snapshot, _) = message else {
            Issue.record("decoded \(message)")
            return
        }
        #expect(reqId == 5 && contract.secType == "BAG" && ticks == "233" && snapshot == false)
    }

    @Test func oldContractDetailsCombinesExchanges() throws {
        // v70-74 send SMART:PRIMARY in one field.
        let frame = MessageEncoder.encode(
            .reqContractDetails(reqId: 3, contract: Contract(symbol: "AAPL", exchange: "SMART", primaryExchange: "NASDAQ"), includeExpired: false),
            serverVersion: 72)
        #expect(commas(unframe(frame)) == "9,8,3,0,AAPL,STK,,,,,SMART:NASDAQ,USD,,,0,,")
        let decoded = try MessageDecoder.decodeClient(unframe(frame), serverVersion: 72)
        #expect(decoded == .reqContractDetails(reqId: 3, contract: Contract(symbol: "AAPL", exchange: "SMART", primaryExchange: "NASDAQ"), includeExpired: false))
    }

    @Test func nulInsideATextFieldCannotSplitTheFrame() throws {
        let frame = MessageEncoder.encode(.reqSecDefOptParams(reqId: 1, underlyingSymbol: "SP\u{0}Y", futFopExchange: "", underlyingSecType: "STK", underlyingConId: 1), serverVersion: 176)
        #expect(try MessageDecoder.decodeClient(unframe(frame), serverVersion: 176)
            == .reqSecDefOptParams(reqId: 1, underlyingSymbol: "SPY", futFopExchange: "", underlyingSecType: "STK", underlyingConId: 1))
    }
}
