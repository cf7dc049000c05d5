import Testing
@testable import TWSProtocol

@Suite("FrameDecoder")
struct FrameDecoderTests {
    /// Every way of cutting a stream must produce the same payloads.
    static let streams: [(name: String, payloads: [[UInt8]])] = [
        ("one message", [payload("1,6,5,1,185.25,100,0")]),
        ("two messages", [payload("9,1,1"), payload("15,1,DU1234567")]),
        ("zero-length frame between messages", [payload("49,1,1700000000"), [], payload("52,1,7")]),
        ("large message", [Array(repeating: UInt8(ascii: "x"), count: 70_000) + [0]]),
        ("many small messages", (0..<500).map { payload("2,6,\($0),0,100") }),
    ]

    static func drain(_ decoder: inout FrameDecoder) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let next = try decoder.next() { out.append(next) }
        return out
    }

    @Test("all at once, byte by byte and in odd chunks decode alike", arguments: 0..<streams.count)
    func cuttingDoesNotMatter(index: Int) throws {
        let expected = Self.streams[index].payloads
        let wire = expected.flatMap { Framing.frame($0) }

        var whole = FrameDecoder()
        whole.feed(wire)
        #expect(try Self.drain(&whole) == expected)
        #expect(whole.bufferedByteCount == 0)

        var single = FrameDecoder()
        var got: [[UInt8]] = []
        for byte in wire {
            single.feed([byte])
            got += try Self.drain(&single)
        }
        #expect(got == expected)

        for chunk in [2, 3, 5, 7, 4096] {
            var chunked = FrameDecoder()
            var got: [[UInt8]] = []
            var start = 0
            while start < wire.count {
                let end = min(start + chunk, wire.count)
                chunked.feed(wire[start..<end])
                got += try Self.drain(&chunked)
                start = end
            }
            #expect(got == expected, "chunk size \(chunk)")
        }
    }

    @Test func partialHeaderAndBodyWait() throws {
        var decoder = FrameDecoder()
        decoder.feed([0, 0])
        #expect(try decoder.next() == nil)
        decoder.feed([0, 5, 0x34])
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 5)
        decoder.feed([0x39, 0, 0x31])
        #expect(try decoder.next() == nil)
        decoder.feed([0])
        #expect(try decoder.next() == Array("49\u{0}1\u{0}".utf8))
        #expect(try decoder.next() == nil)
    }

    @Test func zeroLengthFrameIsAnEmptyPayload() throws {
        var decoder = FrameDecoder()
        decoder.feed([0, 0, 0, 0])
        #expect(try decoder.next() == [])
        #expect(try decoder.next() == nil)
        #expect(thrownError { try MessageDecoder.decodeServer([UInt8](), serverVersion: 176) } == .emptyMessage)
    }

    @Test("a length above 0xFFFFFF fails without buffering, and stays failed",
          arguments: [[0x01, 0x00, 0x00, 0x00], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0x00, 0x00, 0x01]] as [[UInt8]])
    func oversizedLength(header: [UInt8]) {
        var decoder = FrameDecoder()
        decoder.feed(header)
        let length = UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3])
        #expect(thrownError { try decoder.next() } == .frameTooLarge(length: length))
        decoder.feed(Framing.frame(payload("9,1,1")))
        #expect(thrownError { try decoder.next() } == .frameTooLarge(length: length))
    }

    @Test func maximumLengthIsAcceptedAndAwaited() throws {
        var decoder = FrameDecoder()
        decoder.feed([0x00, 0xFF, 0xFF, 0xFF, 0x31, 0x00])
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 6)
    }

    @Test func customLimit() {
        var decoder = FrameDecoder(maxPayloadLength: 8)
        decoder.feed(Framing.frame(Array(repeating: 0x31, count: 9)))
        #expect(thrownError { try decoder.next() } == .frameTooLarge(length: 9))
    }

    @Test func lendingMatchesCopying() throws {
        let payloads = (0..<50).map { payload("1,6,\($0),1,\(100 + $0).5,10,0") }
        var decoder = FrameDecoder()
        decoder.feed(payloads.flatMap { Framing.frame($0) })
        var lent: [[UInt8]] = []
        while let bytes = try decoder.withNextPayload({ Array($0) }) { lent.append(bytes) }
        #expect(lent == payloads)
    }

    @Test func compactionKeepsUnreadBytes() throws {
        // Enough traffic to cross the compaction threshold many times, with a frame always
        // left half-delivered across feeds.
        let frame = Framing.frame(payload("46,6,1,45,1700000000"))
        var decoder = FrameDecoder()
        var count = 0
        var pending: [UInt8] = []
        for _ in 0..<2_000 {
            pending += frame
            let cut = pending.count - 3
            decoder.feed(pending[..<cut])
            pending = Array(pending[cut...])
            while let p = try decoder.next() {
                #expect(p == payload("46,6,1,45,1700000000"))
                count += 1
            }
        }
        decoder.feed(pending)
        while try decoder.next() != nil { count += 1 }
        #expect(count == 2_000)
        #expect(decoder.bufferedByteCount == 0)
    }
}
