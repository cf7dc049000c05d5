/// Parses what a Redis connection in subscribe mode sends (RESP2 arrays of bulk strings and
/// integers), in place, without copying payloads: a subscriber that has to keep up with
/// several hundred thousand messages per second must not allocate per message.
///
/// The parser is handed whatever bytes have arrived; a push cut in the middle is reported as
/// incomplete, and the caller keeps the tail for the next read.
public enum RESPPushParser {
    public enum Push: Equatable, Sendable {
        /// `pmessage` (PSUBSCRIBE) or `message` (SUBSCRIBE): byte ranges into the buffer.
        case message(channel: Range<Int>, payload: Range<Int>)
        /// `psubscribe`/`subscribe` confirmation with the connection's subscription count.
        case subscribed(count: Int)
        /// Anything else well-formed (e.g. `pong`, unsubscribe confirmations).
        case other
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses one top-level push at `start`.
    /// - Returns: the push and the index just after it, or nil when the bytes end before it
    ///   does.
    /// - Throws: `ParseError` on a Redis error reply or bytes that are not RESP.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) throws(ParseError) -> (push: Push, end: Int)? {
        guard start < bytes.count else { return nil }
        let marker = bytes[start]
        guard let (header, afterHeader) = line(bytes, from: start + 1) else { return nil }
        switch marker {
        case UInt8(ascii: "*"):
            break
        case UInt8(ascii: "-"):
            throw ParseError(description: "Redis error: " + String(decoding: UnsafeBufferPointer(rebasing: bytes[header]), as: UTF8.self))
        case UInt8(ascii: "+"), UInt8(ascii: ":"):
            return (.other, afterHeader)
        default:
            throw ParseError(description: "not RESP: unexpected byte \(marker) at a message start")
        }
        guard let count = integer(bytes, header), count >= 0, count <= 64 else {
            throw ParseError(description: "bad array length")
        }
        var index = afterHeader
        // The first four elements are all a push can need: kind, pattern, channel, payload.
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(4)
        var lastInteger = 0
        for _ in 0..<count {
            guard index < bytes.count else { return nil }
            let type = bytes[index]
            guard let (content, next) = line(bytes, from: index + 1) else { return nil }
            switch type {
            case UInt8(ascii: "$"):
                guard let length = integer(bytes, content) else { throw ParseError(description: "bad bulk length") }
                if length < 0 {
                    ranges.append(next..<next)
                    index = next
                    continue
                }
                let end = next + length
                guard end + 2 <= bytes.count else { return nil }
                guard bytes[end] == 13, bytes[end + 1] == 10 else { throw ParseError(description: "bulk string not ended by CRLF") }
                ranges.append(next..<end)
                index = end + 2
            case UInt8(ascii: ":"):
                guard let value = integer(bytes, content) else { throw ParseError(description: "bad integer") }
                lastInteger = value
                ranges.append(content)
                index = next
            case UInt8(ascii: "+"):
                ranges.append(content)
                index = next
            default:
                throw ParseError(description: "unexpected element type \(type) in a push")
            }
        }
        guard let kind = ranges.first else { return (.other, index) }
        if equals(bytes, kind, "pmessage"), ranges.count == 4 {
            return (.message(channel: ranges[2], payload: ranges[3]), index)
        }
        if equals(bytes, kind, "message"), ranges.count == 3 {
            return (.message(channel: ranges[1], payload: ranges[2]), index)
        }
        if equals(bytes, kind, "psubscribe") || equals(bytes, kind, "subscribe") {
            return (.subscribed(count: lastInteger), index)
        }
        return (.other, index)
    }

    /// The line starting at `from` (without CRLF) and the index after its CRLF.
    private static func line(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> (Range<Int>, Int)? {
        var i = from
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 { return (from..<i, i + 2) }
            i += 1
        }
        return nil
    }

    private static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        var i = range.lowerBound
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < range.upperBound, range.upperBound - i <= 18 else { return nil }
        var value = 0
        while i < range.upperBound {
            let d = Int(bytes[i]) - 48
            guard (0...9).contains(d) else { return nil }
            value = value * 10 + d
            i += 1
        }
        return negative ? -value : value
    }

    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for k in 0..<range.count where bytes[range.lowerBound + k] != expected[k] { return false }
        return true
    }
}
