import CHiredis

/// hiredis' RESP parser (`redisReader`) on its own, for bytes that did not come through a
/// hiredis socket (the TLS transport). The plaintext path parses with the same reader inside
/// its `redisContext`, and both copy replies with `RedisReply.copying(_:)`, so the two
/// transports cannot disagree about a reply.
///
/// Not `Sendable`: owned by one `RedisConnection`, used on its thread.
final class RedisReplyReader {
    private let reader: UnsafeMutablePointer<redisReader>

    init() {
        // redisReaderCreate() only fails when malloc does.
        guard let reader = redisReaderCreate() else { fatalError("redisReaderCreate: out of memory") }
        ReplyLimits.install(into: reader)
        self.reader = reader
    }

    deinit { redisReaderFree(reader) }

    /// Hands received bytes to the parser (it copies them).
    func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let status = redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        guard status == REDIS_OK else { throw protocolError() }
    }

    /// The next complete reply, or nil when more bytes are needed. Malformed input is a
    /// `.protocolError` (the connection must then be dropped).
    func next() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw protocolError() }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisReply.copying(raw.assumingMemoryBound(to: redisReply.self))
    }

    private func protocolError() -> RedisError {
        let why = withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return RedisError(.protocolError, "the server's reply is not RESP: \(why)")
    }
}

extension RedisReply {
    /// Copies a hiredis reply tree into Swift values (the caller frees the tree).
    static func copying(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STATUS: return .status(text(r))
        case REDIS_REPLY_ERROR: return .error(text(r))
        case REDIS_REPLY_INTEGER: return .integer(Int64(r.integer))
        case REDIS_REPLY_STRING: return .string(text(r))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] { elements.append(copying(element)) } else { elements.append(.null) }
            }
            return .array(elements)
        default: return .null
        }
    }

    private static func text(_ r: redisReply) -> String {
        guard let str = r.str, r.len > 0 else { return "" }
        return str.withMemoryRebound(to: UInt8.self, capacity: r.len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: r.len), as: UTF8.self)
        }
    }
}
