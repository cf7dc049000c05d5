import Essentials
import Testing
@testable import TWSProtocol

@Suite("Hostile input")
struct HostileInputTests {
    static let versions = [155, 163, 176, 194, 200]

    /// Every sample gateway message, encoded at each version.
    static func samples() -> [(version: Int, payload: [UInt8])] {
        versions.flatMap { v in ServerCodecTests.messages.map { (v, unframe(MessageEncoder.encode($0, serverVersion: v))) } }
    }

    @Test func everyTruncationIsATypedError() {
        for (v, full) in Self.samples() {
            guard case .some(let decoded) = try? MessageDecoder.decodeServer(full, serverVersion: v) else {
                Issue.record("sample does not decode at v\(v): \(commas(full))")
                continue
            }
            if case .unknown = decoded { continue }  // no required fields to lose
            for cut in 0..<full.count {
                let error = thrownError { try MessageDecoder.decodeServer(Array(full[..<cut]), serverVersion: v) }
                if cut == 0 {
                    #expect(error == .emptyMessage)
                } else if case .truncated = error {
                    // expected: a missing trailing field names the message and the field
                } else {
                    Issue.record("v\(v) cut \(cut) of \(commas(full)): \(String(describing: error))")
                }
            }
        }
    }

    @Test func missingTrailingFieldsNameTheField() {
        #expect(thrownError { try MessageDecoder.decodeServer(payload("1,6,5,1,185.25,100"), serverVersion: 176) }
            == .truncated(message: "TICK_PRICE", field: "attrMask"))
        #expect(thrownError { try MessageDecoder.decodeServer(payload("21,9,13,0,0.2,0.5,7.35,0.5,0.01,0.3,-0.04"), serverVersion: 176) }
            == .truncated(message: "TICK_OPTION_COMPUTATION", field: "undPrice"))
        #expect(thrownError { try MessageDecoder.decodeServer(payload("4,2,-1,2104,farm OK"), serverVersion: 176) }
            == .truncated(message: "ERR_MSG", field: "advancedOrderRejectJson"))
        #expect(thrownError { try MessageDecoder.decodeServer(payload("75,10,SMART,756733,SPY,100,2,20261218"), serverVersion: 176) }
            == .truncated(message: "SECURITY_DEFINITION_OPTION_PARAMETER", field: "expiration"))
        #expect(thrownError { try MessageDecoder.decodeClient(payload("1,11,1001,0,AAPL,STK"), serverVersion: 176) }
            == .truncated(message: "reqMktData", field: "lastTradeDateOrContractMonth"))
        // The last field without its NUL is not a field (as in ibapi's read_fields).
        #expect(thrownError { try MessageDecoder.decodeServer(Array("9\u{0}1\u{0}12".utf8), serverVersion: 176) }
            == .truncated(message: "NEXT_VALID_ID", field: "orderId"))
        #expect(thrownError { try MessageDecoder.decodeServer(Array("21".utf8), serverVersion: 176) }
            == .truncated(message: "message", field: "message id"))
    }

    static let badNumbers: [(String, TWSProtocolError)] = [
        ("1,6,5,1,1.2.3,100,0", .invalidNumber(field: "price", text: "1.2.3")),
        ("1,6,5,1,nan,100,0", .invalidNumber(field: "price", text: "nan")),
        ("1,6,5,1,185.25,lots,0", .invalidNumber(field: "size", text: "lots")),
        ("1,6,x5,1,185.25,100,0", .invalidNumber(field: "reqId", text: "x5")),
        ("1,6,99999999999,1,185.25,100,0", .invalidNumber(field: "reqId", text: "99999999999")),
        ("2,6,5,,100", .invalidNumber(field: "tickType", text: "")),
        ("21,9,13,0,0x1p3,0.5,7.35,0.5,0.01,0.3,-0.04,450", .invalidNumber(field: "impliedVol", text: "0x1p3")),
        ("9,1,1e3", .invalidNumber(field: "orderId", text: "1e3")),
        ("49,1,now", .invalidNumber(field: "time", text: "now")),
        ("abc,1,2", .invalidNumber(field: "message id", text: "abc")),
        ("-,1,2", .invalidNumber(field: "message id", text: "-")),
        ("75,10,SMART,756733,SPY,100,1000000000,20261218", .invalidValue(field: "expirationCount", text: "1000000000")),
        ("75,10,SMART,756733,SPY,100,-1", .invalidValue(field: "expirationCount", text: "-1")),
        ("75,10,SMART,756733,SPY,100,1,20261218,1,", .invalidValue(field: "strike", text: "")),
        ("75,10,SMART,756733,SPY,100,0,9223372036854775807", .invalidValue(field: "strikeCount", text: "9223372036854775807")),
    ]

    @Test("non-numeric numbers and absurd counts are typed errors", arguments: badNumbers)
    func badNumbersAreErrors(text: String, expected: TWSProtocolError) {
        #expect(thrownError { try MessageDecoder.decodeServer(payload(text), serverVersion: 176) } == expected)
    }

    @Test func hugeSecIdAndIneligibilityCountsCannotAllocate() {
        var fields = MessageDecoder.fields(unframe(MessageEncoder.encode(
            .contractData(reqId: 1, details: ServerCodecTests.spyDetails), serverVersion: 186)))
        // secIdListCount sits after evMultiplier; find it by the ISIN tag that follows it.
        let tagIndex = fields.firstIndex(of: "ISIN")!
        fields[tagIndex - 1] = "2147483646"
        #expect(thrownError { try MessageDecoder.decodeServer(Framing.payload(fields: fields), serverVersion: 186) }
            == .invalidValue(field: "secIdListCount", text: "2147483646"))
    }

    @Test func unknownIdsAtEveryVersion() throws {
        for v in Self.versions {
            for id in [3, 5, 6, 7, 8, 11, 12, 13, 14, 17, 18, 19, 20, 50, 51, 53, 54, 59, 61, 62, 63, 64, 74, 77, 82, 83, 84, 85, 86, 88, 99, 105, 120, 200, 201, 210, 2_000_000_000] {
                let message = try MessageDecoder.decodeServer(payload("\(id),1,a,,3"), serverVersion: v)
                #expect(message == .unknown(messageId: Int32(id), fieldCount: 4))
            }
        }
        #expect(try MessageDecoder.decodeClient(payload("61,1"), serverVersion: 176) == .unknown(messageId: 61, fields: ["1"]))
    }

    @Test func byteByByteStreamEqualsWholeStream() throws {
        // Table-driven over versions: the whole sample set as one stream, decoded from one feed
        // and from single-byte feeds, gives identical typed messages.
        for v in Self.versions {
            let wire = ServerCodecTests.messages.flatMap { MessageEncoder.encode($0, serverVersion: v) }
            func decodeAll(chunk: Int) throws -> [ServerMessage] {
                var frames = FrameDecoder()
                var out: [ServerMessage] = []
                var start = 0
                while start < wire.count {
                    let end = min(start + chunk, wire.count)
                    frames.feed(wire[start..<end])
                    while let m = try frames.withNextPayload({ try MessageDecoder.decodeServer($0, serverVersion: v) }) {
                        out.append(m)
                    }
                    start = end
                }
                return out
            }
            let whole = try decodeAll(chunk: wire.count)
            #expect(whole.count == ServerCodecTests.messages.count)
            #expect(try decodeAll(chunk: 1) == whole)
            #expect(try decodeAll(chunk: 13) == whole)
        }
    }

    @Test func randomGarbageNeverCrashes() {
        // A seeded, bounded in-suite fuzz; the libFuzzer target in fuzz/ does the long run.
        var rng = SplitMix64(seed: 7)
        let alphabet = Array("0123456789-.,eE\u{0}\u{0}\u{0}aZ\\u".utf8)
        var decoded = 0
        var rejected = 0
        for round in 0..<5_000 {
            let length = Int(rng.next() % 64)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                bytes.append(round % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            // Start half of them with a known id so the message decoders get exercised.
            if round % 4 == 1 { bytes = Array("\([1, 2, 4, 10, 21, 75][Int(rng.next() % 6)])\u{0}".utf8) + bytes }
            for v in [100, 155, 163, 176, 194, 200] {
                if (try? MessageDecoder.decodeServer(bytes, serverVersion: v)) != nil { decoded += 1 } else { rejected += 1 }
                _ = try? MessageDecoder.decodeClient(bytes, serverVersion: v)
            }
            var frames = FrameDecoder()
            frames.feed(bytes)
            while case .some(.some) = try? frames.next() {}
            _ = try? Handshake.parseClientGreeting(bytes)
            _ = try? Handshake.parseServerHello(bytes)
        }
        #expect(decoded + rejected == 30_000)
    }

    /// Inputs the fuzzer found, kept as regressions: each once broke encode(decode(x)) == decode(x).
    @Test func fuzzerFindings() throws {
        // Empty errorTime (v194+) stays nil through a round trip.
        let error = try MessageDecoder.decodeServer(payload("4,49,8,,54,"), serverVersion: 194)
        #expect(error == .error(ErrorMessage(reqId: 49, code: 8, message: "", advancedOrderRejectJson: "54", errorTimeMs: nil)))
        #expect(try MessageDecoder.decodeServer(unframe(MessageEncoder.encode(error, serverVersion: 194)), serverVersion: 194) == error)
        // "-0" is zero.
        let tick = try MessageDecoder.decodeServer(payload("1,6,1,0,-1,-0,90"), serverVersion: 176)
        #expect(tick == .tickPrice(reqId: 1, tickType: 0, price: nil, size: 0, attrMask: 90))
        #expect(String(describing: tick) == String(describing: ServerMessage.tickPrice(reqId: 1, tickType: 0, price: nil, size: 0, attrMask: 90)))
        // An empty tickAttrib reads as 0 (return-based), as in ibapi.
        let greeks = try MessageDecoder.decodeServer(payload("21,1,11,,19,1,0,,0,,,"), serverVersion: 176)
        #expect(greeks == .tickOptionComputation(OptionComputation(reqId: 1, tickType: 11, tickAttrib: 0, impliedVol: 19, delta: 1, optPrice: 0, gamma: 0)))
    }

    @Test func everyPayloadViewDecodesAlike() throws {
        let frame = MessageEncoder.encode(.tickSize(reqId: 3, tickType: 8, size: 42), serverVersion: 176)
        let fromArray = try MessageDecoder.decodeServer(unframe(frame), serverVersion: 176)
        let fromSlice = try MessageDecoder.decodeServer(frame[4...], serverVersion: 176)
        let fromPointer = try frame[4...].withUnsafeBytes { try MessageDecoder.decodeServer($0, serverVersion: 176) }
        #expect(fromArray == .tickSize(reqId: 3, tickType: 8, size: 42))
        #expect(fromSlice == fromArray && fromPointer == fromArray)
        let request = MessageEncoder.encode(.cancelMktData(reqId: 9), serverVersion: 176)
        #expect(try MessageDecoder.decodeClient(request[4...], serverVersion: 176) == .cancelMktData(reqId: 9))
    }
}
