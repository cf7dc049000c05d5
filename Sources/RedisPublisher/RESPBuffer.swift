/// Commands encoded as RESP into one byte buffer, for pipelining.
///
/// The hot path writes hundreds of EVALSHA commands of ~30 arguments per round trip; encoding
/// them in Swift straight into one buffer (handed to hiredis once, with
/// `redisAppendFormattedCommand`) avoids a C string and an sds copy per argument.
public struct RESPBuffer: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// How many commands the buffer holds, so the caller knows how many replies to read.
    public private(set) var commandCount = 0

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public var isEmpty: Bool { commandCount == 0 }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        commandCount = 0
    }

    /// Starts a command of `argumentCount` arguments (the command name counts); exactly that
    /// many `argument` calls must follow.
    public mutating func beginCommand(argumentCount: Int) {
        appendHeader(UInt8(ascii: "*"), Int64(argumentCount))
        commandCount += 1
    }

    public mutating func argument(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            appendHeader(UInt8(ascii: "$"), Int64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        appendCRLF()
    }

    /// A binary-safe argument from bytes (e.g. a payload encoded in place).
    public mutating func argument(bytes content: [UInt8]) {
        appendHeader(UInt8(ascii: "$"), Int64(content.count))
        bytes.append(contentsOf: content)
        appendCRLF()
    }

    public mutating func argument(_ value: Int64) {
        // Digits first into a small stack buffer, so the length prefix is known.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for Int64.min
        let count = withUnsafeMutableBytes(of: &digits) { raw in Self.writeDecimal(value, into: raw) }
        appendHeader(UInt8(ascii: "$"), Int64(count))
        withUnsafeBytes(of: &digits) { raw in bytes.append(contentsOf: raw[0..<count]) }
        appendCRLF()
    }

    public mutating func argument(_ value: Int) { argument(Int64(value)) }

    /// `*N\r\n` or `$N\r\n` in one append.
    private mutating func appendHeader(_ marker: UInt8, _ value: Int64) {
        var scratch: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            raw[0] = marker
            let digits = Self.writeDecimal(value, into: UnsafeMutableRawBufferPointer(rebasing: raw[1...]))
            raw[1 + digits] = 13
            raw[2 + digits] = 10
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<(3 + digits)]))
        }
    }

    private mutating func appendCRLF() {
        bytes.append(13)
        bytes.append(10)
    }

    /// A whole command from strings.
    public mutating func append(_ arguments: [String]) {
        beginCommand(argumentCount: arguments.count)
        for a in arguments { argument(a) }
    }

    /// Writes `value` in decimal at the start of `raw` (at least 20 bytes) and returns the
    /// number of bytes written.
    private static func writeDecimal(_ value: Int64, into raw: UnsafeMutableRawBufferPointer) -> Int {
        let magnitude = value.magnitude
        var start = 0
        if value < 0 {
            raw[0] = UInt8(ascii: "-")
            start = 1
        }
        var length = 0
        var n = magnitude
        repeat {
            length += 1
            n /= 10
        } while n > 0
        var position = start + length
        n = magnitude
        repeat {
            position -= 1
            raw[position] = UInt8(ascii: "0") + UInt8(n % 10)
            n /= 10
        } while n > 0
        return start + length
    }
}
