import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking connection to Redis, over one of two transports:
/// - `redis://`: hiredis 0.14.1's own socket (the fast path, unchanged);
/// - `rediss://`: TLS over SwiftNIO + swift-nio-ssl (`TLSStream`), because Debian 12's
///   hiredis has no TLS. Commands are encoded with `RESPBuffer` and replies parsed by
///   hiredis' `redisReader`, the same parser the plaintext socket uses.
///
/// The API and its errors are the same for both. hiredis' pointers never leave this type:
/// replies are copied into `RedisReply` and freed before a call returns.
///
/// Every call blocks the calling thread (bounded by the I/O timeout), so a connection lives
/// on a dedicated thread (the publisher's writer, a CLI command, a test) and never on a NIO
/// event loop or the cooperative pool. It is deliberately not `Sendable`.
public final class RedisConnection {
    public let url: RedisURL
    private var context: UnsafeMutablePointer<redisContext>?
    /// Set instead of `context` for `rediss://` URLs.
    private var tls: TLSTransport?

    /// Connects, then authenticates (password, or ACL user and password) and selects the
    /// database from `url`.
    ///
    /// - Parameters:
    ///   - connectTimeout: bounds the TCP connect.
    ///   - ioTimeout: bounds every later socket read or write, so a hung server surfaces as
    ///     an `.io` error instead of blocking forever. nil means no bound (only for pub/sub
    ///     listeners that wait for messages indefinitely).
    /// - Throws: `.connectFailed`, `.authFailed`, `.tlsFailed` (rediss:// only: certificate
    ///   not trusted, wrong name, refused client certificate), `.io`.
    public init(url: RedisURL, connectTimeout: Duration = .seconds(2), ioTimeout: Duration? = .seconds(5)) throws(RedisError) {
        self.url = url
        Self.ignoreSIGPIPE()
        if let options = url.tls {
            let stream = try TLSStream(host: url.host, port: url.port, options: options, connectTimeout: connectTimeout, ioTimeout: ioTimeout)
            tls = TLSTransport(stream: stream)
            try handshake()
            // With TLS 1.3 the server judges a client certificate after the client's handshake
            // has completed: one round trip makes a refusal a connect error, not the first
            // write's.
            do throws(RedisError) {
                _ = try command(["PING"])
            } catch {
                close()
                throw error
            }
            return
        }
        guard let ctx = redisConnectWithTimeout(url.host, Int32(url.port), Self.makeTimeval(connectTimeout)) else {
            throw RedisError(.connectFailed, "cannot allocate a hiredis context")
        }
        context = ctx
        if ctx.pointee.err != 0 {
            let why = Self.errorText(ctx)
            close()
            throw RedisError(.connectFailed, "connect to \(url.host):\(url.port) failed: \(why)")
        }
        if let reader = ctx.pointee.reader {
            ReplyLimits.install(into: reader)
        }
        if let ioTimeout {
            _ = redisSetTimeout(ctx, Self.makeTimeval(ioTimeout))
        }
        // Finds a peer that vanished without a FIN while we only write (the publisher mostly
        // writes and reads small replies).
        _ = redisEnableKeepAlive(ctx)
        try handshake()
    }

    /// AUTH and SELECT from the URL; closes and throws on failure.
    private func handshake() throws(RedisError) {
        do throws(RedisError) {
            if let password = url.password {
                let auth = url.user.map { ["AUTH", $0, password] } ?? ["AUTH", password]
                do throws(RedisError) {
                    _ = try command(auth)
                } catch where error.code == .server {
                    throw RedisError(.authFailed, "AUTH refused for user \(url.user ?? "default"): \(error.message)")
                }
            }
            if url.database != 0 {
                _ = try command(["SELECT", String(url.database)])
            }
        } catch {
            close()
            throw error
        }
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// hiredis writes with write(2), so a server that vanished mid-write raises SIGPIPE, whose
    /// default action kills the whole worker. Ignoring it turns that into EPIPE, an `.io`
    /// error the publisher recovers from. Process-wide, and harmless: SwiftNIO already
    /// suppresses SIGPIPE for its own sockets.
    private static let sigpipeIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    static func ignoreSIGPIPE() {
        _ = sigpipeIgnored
    }

    /// Frees the connection; later calls fail with `.closed`.
    public func close() {
        if let context { redisFree(context) }
        context = nil
        tls?.stream.close()
        tls = nil
    }

    public var isOpen: Bool { context != nil || tls != nil }

    /// Sends one command and waits for its reply. A server error reply is thrown (`.server`,
    /// or `.noScript`); socket failures throw and leave the connection closed.
    @discardableResult
    public func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        if let tls {
            var buffer = RESPBuffer()
            buffer.append(arguments)
            tls.outbound.append(contentsOf: buffer.bytes)
            return try tlsCall { () throws(RedisError) in try tls.readReply() }.checked()
        }
        let ctx = try liveContext()
        let raw = Self.withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(ctx, argc, argv, lengths)
        }
        guard let raw else { throw failure(ctx) }
        let reply = RedisReply.copying(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        return try reply.checked()
    }

    /// Sends several commands in one write and returns their replies in order, error replies
    /// included as `.error` values (one failing command does not hide the others' results).
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        if let tls {
            var buffer = RESPBuffer()
            for arguments in commands { buffer.append(arguments) }
            tls.outbound.append(contentsOf: buffer.bytes)
            return try tlsCall { () throws(RedisError) in
                var replies: [RedisReply] = []
                for _ in commands { replies.append(try tls.readReply()) }
                return replies
            }
        }
        let ctx = try liveContext()
        for arguments in commands {
            let status = Self.withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(ctx, argc, argv, lengths)
            }
            guard status == REDIS_OK else { throw failure(ctx) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Queues already-encoded commands; nothing is sent until `readReply` needs a reply.
    public func append(_ buffer: RESPBuffer) throws(RedisError) {
        if let tls {
            tls.outbound.append(contentsOf: buffer.bytes)
            return
        }
        let ctx = try liveContext()
        let status = buffer.bytes.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                redisAppendFormattedCommand(ctx, $0, bytes.count)
            }
        }
        guard status == REDIS_OK else { throw failure(ctx) }
    }

    /// Sends every queued command without waiting for replies, so the next batch can be
    /// prepared while the server works on this one.
    public func flush() throws(RedisError) {
        if let tls {
            tls.flush()
            return
        }
        let ctx = try liveContext()
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(ctx, &done) == REDIS_OK else { throw failure(ctx) }
        }
    }

    /// Flushes queued commands if needed and reads the next reply (server errors come back as
    /// `.error`). With pub/sub this reads the next message.
    public func readReply() throws(RedisError) -> RedisReply {
        if let tls { return try tlsCall { () throws(RedisError) in try tls.readReply() } }
        let ctx = try liveContext()
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(ctx, &raw) == REDIS_OK, let raw else { throw failure(ctx) }
        let reply = RedisReply.copying(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        return reply
    }

    /// The next reply if one arrives within `limit`, else nil (the connection stays usable):
    /// for pub/sub listeners that must notice a shutdown while no message comes.
    public func readReply(waitingAtMost limit: Duration) throws(RedisError) -> RedisReply? {
        if let tls { return try tlsCall { () throws(RedisError) in try tls.readReply(waitingAtMost: limit) } }
        let ctx = try liveContext()
        var raw: UnsafeMutableRawPointer?
        // A reply may already sit in hiredis' buffer (several messages in one read).
        if let reader = ctx.pointee.reader {
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw failure(ctx) }
        }
        if raw == nil {
            var descriptor = pollfd(fd: ctx.pointee.fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: max(0, limit.milliseconds))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready == 0 || (ready < 0 && errno == EINTR) { return nil }
            guard redisGetReply(ctx, &raw) == REDIS_OK else { throw failure(ctx) }
        }
        guard let raw else { return nil }
        let reply = RedisReply.copying(raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        return reply
    }

    /// Runs a TLS read; after any failure the connection is closed, as with hiredis.
    private func tlsCall<R>(_ body: () throws(RedisError) -> R) throws(RedisError) -> R {
        do throws(RedisError) {
            return try body()
        } catch {
            close()
            throw error
        }
    }

    private func liveContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        guard let context else { throw RedisError(.closed, "the connection is closed") }
        return context
    }

    /// Maps hiredis' context error and closes: after any I/O error hiredis' context is unusable.
    private func failure(_ ctx: UnsafeMutablePointer<redisContext>) -> RedisError {
        let why = Self.errorText(ctx)
        let code: RedisError.Code = switch ctx.pointee.err {
        case REDIS_ERR_EOF: .closed
        case REDIS_ERR_PROTOCOL: .protocolError
        default: .io
        }
        close()
        return RedisError(code, why.isEmpty ? "connection to \(url.host):\(url.port) lost" : why)
    }

    private static func errorText(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func makeTimeval(_ d: Duration) -> timeval {
        let (seconds, attoseconds) = d.components
        return timeval(tv_sec: Int(max(0, seconds)), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    /// Calls `body` with C argv/argvlen arrays pointing into one contiguous copy of the
    /// arguments (binary-safe: lengths are passed, no NUL terminators are needed).
    private static func withArgv<R>(
        _ arguments: [String],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var storage: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            offsets.append(storage.count)
            storage.append(contentsOf: argument.utf8)
            lengths.append(argument.utf8.count)
        }
        storage.append(0)  // a non-empty buffer always has a base address
        return storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { (base + $0).assumingMemoryBound(to: CChar.self) }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { lens in
                    body(Int32(arguments.count), argv.baseAddress!, lens.baseAddress!)
                }
            }
        }
    }
}

/// The TLS side of a connection: the stream, the reply parser and the bytes appended but not
/// yet sent (like hiredis' output buffer).
final class TLSTransport {
    let stream: TLSStream
    let reader = RedisReplyReader()
    var outbound: [UInt8] = []

    init(stream: TLSStream) {
        self.stream = stream
    }

    func flush() {
        guard !outbound.isEmpty else { return }
        outbound.withUnsafeBytes { stream.write($0) }
        outbound.removeAll(keepingCapacity: true)
    }

    /// Like `readReply`, but nil when no bytes arrive within `limit`.
    func readReply(waitingAtMost limit: Duration) throws(RedisError) -> RedisReply? {
        flush()
        while true {
            if let reply = try reader.next() { return reply }
            let bytes = try stream.read(waitingAtMost: limit)
            if bytes.readableBytes == 0 { return nil }
            try bytes.withUnsafeReadableBytes { raw throws(RedisError) in try reader.feed(raw) }
        }
    }

    /// Sends what is queued, then parses replies from received bytes until one is complete.
    func readReply() throws(RedisError) -> RedisReply {
        flush()
        while true {
            if let reply = try reader.next() { return reply }
            let bytes = try stream.read()
            try bytes.withUnsafeReadableBytes { raw throws(RedisError) in try reader.feed(raw) }
        }
    }
}

extension RedisConnection {
    /// hiredis' reply tree as Swift values; internal (not private) so the reply fuzz target
    /// (fuzz/redis) drives the same conversion the connections use.
    static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        RedisReply.copying(reply)
    }
}
