import Testing

@testable import BenchE2E

@Suite("RESPPushParser")
struct RESPPushParserTests {
    static let pmessage = Array("*4\r\n$8\r\npmessage\r\n$10\r\nqr:quote:*\r\n$12\r\nqr:quote:SPY\r\n$13\r\n{\"volume\":42}\r\n".utf8)

    func parseAll(_ bytes: [UInt8]) throws -> (pushes: [RESPPushParser.Push], consumed: Int) {
        try bytes.withUnsafeBufferPointer { buffer in
            var pushes: [RESPPushParser.Push] = []
            var index = 0
            while let (push, end) = try RESPPushParser.parse(buffer, from: index) {
                pushes.append(push)
                index = end
            }
            return (pushes, index)
        }
    }

    func text(_ bytes: [UInt8], _ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    @Test func pmessageGivesChannelAndPayloadRanges() throws {
        let bytes = Self.pmessage
        let (pushes, consumed) = try parseAll(bytes)
        #expect(consumed == bytes.count)
        guard case .message(let channel, let payload) = try #require(pushes.first) else {
            Issue.record("not a message: \(pushes)")
            return
        }
        #expect(text(bytes, channel) == "qr:quote:SPY")
        #expect(text(bytes, payload) == "{\"volume\":42}")
    }

    @Test func subscribeConfirmationCarriesTheCount() throws {
        let bytes = Array("*3\r\n$10\r\npsubscribe\r\n$10\r\nqr:quote:*\r\n:1\r\n".utf8)
        #expect(try parseAll(bytes).pushes == [.subscribed(count: 1)])
    }

    @Test func plainMessageFromSubscribe() throws {
        let bytes = Array("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n".utf8)
        let (pushes, _) = try parseAll(bytes)
        #expect(pushes == [.message(channel: 21..<23, payload: 29..<32)])
    }

    /// Every cut of a stream of two pushes is either incomplete or a whole push: nothing is
    /// lost or invented at a read boundary.
    @Test func everyTruncationIsIncompleteNotWrong() throws {
        let two = Self.pmessage + Array("*3\r\n$10\r\npsubscribe\r\n$1\r\np\r\n:2\r\n".utf8)
        for cut in 0..<two.count {
            let (pushes, consumed) = try parseAll(Array(two[0..<cut]))
            if cut < Self.pmessage.count {
                #expect(pushes.isEmpty && consumed == 0, "cut \(cut)")
            } else {
                #expect(pushes.count == 1 && consumed == Self.pmessage.count, "cut \(cut)")
            }
        }
        #expect(try parseAll(two).pushes.count == 2)
    }

    @Test func errorReplyThrows() {
        let bytes = Array("-ERR unknown command\r\n".utf8)
        #expect(throws: RESPPushParser.ParseError.self) { try parseAll(bytes) }
    }

    @Test func garbageThrows() {
        #expect(throws: RESPPushParser.ParseError.self) { try parseAll(Array("hello\r\n".utf8)) }
        #expect(throws: RESPPushParser.ParseError.self) { try parseAll(Array("*2\r\n$3\r\nabcd\r\n".utf8)) }
        #expect(throws: RESPPushParser.ParseError.self) { try parseAll(Array("*1\r\n$x\r\n".utf8)) }
    }
}

@Suite("QuoteMessageScanner")
struct QuoteMessageScannerTests {
    func volume(_ json: String) -> UInt64? {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBufferPointer { QuoteMessageScanner.volume(in: $0, 0..<bytes.count) }
    }

    @Test func integerAndFloatVolumes() {
        #expect(volume("{\"symbol\":\"AAPL\",\"volume\":123456,\"bid\":1.5}") == 123_456)
        #expect(volume("{\"volume\": 98765.0, \"key\": \"peer:quote:X\"}") == 98_765)
        #expect(volume("{\"bid\":1,\"volume\":7}") == 7)
    }

    @Test func absentOrNotANumber() {
        #expect(volume("{\"symbol\":\"AAPL\"}") == nil)
        #expect(volume("{\"volume\":null}") == nil)
        #expect(volume("{\"volume\":\"12\"}") == nil)
        #expect(volume("") == nil)
    }

    /// `last_size` or a symbol that merely contains "volume" must not be mistaken for it.
    @Test func onlyTheExactKeyMatches() {
        #expect(volume("{\"avg_volume\":5,\"volume\":6}") == 6)
        #expect(volume("{\"symbol\":\"volume\",\"volume\":9}") == 9)
    }

    @Test func symbolIsTheChannelWithoutItsPrefix() {
        for (channel, symbol) in [
            ("qr:quote:AAPL", "quote:AAPL"), ("peer:quote:XAB", "quote:XAB"), ("plain", "plain"),
            ("qr:option:SPXW:20261218:6000:C", "option:SPXW:20261218:6000:C"),
        ] {
            let bytes = Array(channel.utf8)
            #expect(bytes.withUnsafeBufferPointer { QuoteMessageScanner.symbol(in: $0, 0..<bytes.count) } == symbol)
        }
    }
}
