// libFuzzer entry point over Redis reply handling: bytes as a server (or anything pretending
// to be one) could send them, through hiredis' own reply reader (the parser the publisher's
// connection uses), `RedisReply.copying` into `RedisReply`, and every consumer of a reply
// in the publisher (with the publisher's `ReplyLimits`): `checked()` (error replies, NOSCRIPT), `int` / `string` / `hash`, and
// `StalenessChange(reply:)` (staleness.lua's answer). The first byte picks the mode; mode 0
// parses the rest as a `redis.url` instead (the configuration value that carries the password).
//
// What must hold (a failed check aborts, which libFuzzer reports as a crash):
// - no reply shape crashes a consumer; a protocol error is hiredis' error, not a trap;
// - an error reply always throws from `checked()`, NOSCRIPT as `.noScript`, others `.server`;
// - a URL's `description` does not depend on its password, and a parse error is one of the
//   fixed reasons (nothing of the input in it).

import CHiredis

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)
    if data[0] == 0 {
        checkURL(String(decoding: body, as: UTF8.self))
    } else {
        checkReplies(body)
    }
    return 0
}

private func checkReplies(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let reader = redisReaderCreate() else { return }
    defer { redisReaderFree(reader) }
    // As every connection of the publisher: aggregates beyond ReplyLimits.maxElements are a
    // reader error, not a 2.6 GB calloc (an earlier finding of this target).
    ReplyLimits.install(into: reader)
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    let fed = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { redisReaderFeed(reader, $0, bytes.count) }
    guard fed == REDIS_OK else { return }
    for _ in 0..<64 {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK, let raw else { return }
        let reply = RedisReply.copying(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        consume(reply)
    }
}

private func consume(_ reply: RedisReply) {
    _ = reply.int
    _ = reply.string
    _ = reply.isNull
    if let hash = reply.hash {
        let elements: Int = reply.array?.count ?? 0
        precondition(hash.count * 2 <= elements, "hash larger than its reply")
    }
    do {
        _ = try reply.checked()
        if case .error = reply { preconditionFailure("an error reply passed checked()") }
    } catch {
        guard case .error(let message) = reply else { preconditionFailure("checked() threw for \(reply)") }
        let expected: RedisError.Code = message.hasPrefix("NOSCRIPT") ? .noScript : .server
        precondition(error.code == expected, "error class \(error.code) for \(message)")
    }
    if let change = try? StalenessChange(reply: reply) {
        // Every member comes from the reply's own elements.
        let total: Int = change.newlyStale.count + change.newlyFresh.count + change.expired.count
        precondition(total <= countLeaves(reply), "staleness change holds more members than the reply")
    }
}

private func checkURL(_ text: String) {
    do {
        let url = try RedisURL(parsing: text)
        precondition((1...65535).contains(url.port), "port \(url.port)")
        precondition(url.database >= 0, "database \(url.database)")
        precondition(!url.host.isEmpty, "empty host")
        guard let password = url.password, !password.isEmpty else { return }
        let description: String = url.description
        precondition(description.contains(":***@"), "no redaction mark in \(description)")
        // The description does not depend on the password at all: another password gives
        // the same text.
        var other = url
        other.password = password == "x" ? "y" : "x"
        precondition(other.description == description, "the description depends on the password: \(description)")
    } catch {
        // Parse errors name the problem, never the value: the message is one of the fixed
        // reasons, with nothing of the input in it.
        let reasons = [
            "the scheme must be redis:// or rediss:// (TLS)", "bad percent-encoding in the credentials",
            "the database must be a non-negative integer", "the host is missing", "the port must be 1-65535",
            "unexpected text after the IPv6 address", "unterminated IPv6 address",
        ]
        let suffix = " (expected redis[s]://[user:password@]host:port/db)"
        let allowed = reasons.map { "invalid Redis URL: " + $0 + suffix }
        precondition(error.code == .invalidURL && allowed.contains(error.message), "unexpected URL error: \(error.message)")
    }
}

private func countLeaves(_ reply: RedisReply) -> Int {
    guard let elements = reply.array else { return 1 }
    var total = 0
    for element in elements { total += countLeaves(element) }
    return total
}
