/// TWS framing: every message after the handshake is a 4-byte big-endian payload length
/// followed by the payload.
public enum Framing {
    /// The largest payload IB's own clients accept (ibapi's `MAX_MSG_LEN`, 16 MB - 1).
    /// Anything longer is garbage or hostile, never a real message.
    public static let maxPayloadLength: UInt32 = 0xFF_FFFF

    /// Prefixes `payload` with its length.
    public static func frame(_ payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 4)
        let length = UInt32(truncatingIfNeeded: payload.count)
        out.append(UInt8(truncatingIfNeeded: length >> 24))
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(contentsOf: payload)
        return out
    }

    /// A payload from text fields, each NUL-terminated (tests and the simulator's raw frames).
    public static func payload(fields: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for field in fields {
            out.append(contentsOf: field.utf8)
            out.append(0)
        }
        return out
    }
}

/// Splits a byte stream into payloads.
///
/// Feed whatever the socket delivered (part of a frame, several frames, one byte) and pull
/// complete payloads; the result does not depend on how the stream was cut. The length
/// prefix is checked before anything is buffered for it, so a hostile length costs nothing:
/// it is reported as `.frameTooLarge`, and the decoder stays failed (the stream cannot be
/// resynchronised after a bad length; the connection must be closed).
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failure: TWSProtocolError?
    public let maxPayloadLength: UInt32

    public init(maxPayloadLength: UInt32 = Framing.maxPayloadLength) {
        self.maxPayloadLength = maxPayloadLength
    }

    /// Bytes received but not yet returned as payloads.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload (possibly empty), nil when more bytes are needed.
    public mutating func next() throws(TWSProtocolError) -> [UInt8]? {
        guard let range = try nextRange() else { return nil }
        return Array(buffer[range])
    }

    /// The next complete payload lent to `body` without copying it; nil when more bytes are
    /// needed. The bytes are only valid inside `body`.
    public mutating func withNextPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        guard let range = try nextRange() else { return nil }
        return try buffer.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[range]))
        }
    }

    /// Moves past the next payload and returns its position in `buffer`.
    private mutating func nextRange() throws(TWSProtocolError) -> Range<Int>? {
        if let failure { throw failure }
        let available = buffer.count - readIndex
        guard available >= 4 else { return nil }
        let length = UInt32(buffer[readIndex]) << 24 | UInt32(buffer[readIndex + 1]) << 16
            | UInt32(buffer[readIndex + 2]) << 8 | UInt32(buffer[readIndex + 3])
        guard length <= maxPayloadLength else {
            let error = TWSProtocolError.frameTooLarge(length: length)
            failure = error
            throw error
        }
        guard available - 4 >= Int(length) else { return nil }
        let start = readIndex + 4
        let end = start + Int(length)
        readIndex = end
        return start..<end
    }

    /// Reclaims consumed bytes. Done before appending (never while a payload range is out),
    /// and only when it saves real work: everything consumed, or more than half the buffer.
    private mutating func compactIfWorthIt() {
        if readIndex == 0 { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex * 2 >= buffer.count {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
