import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking byte stream to Redis over TLS: a SwiftNIO channel with swift-nio-ssl's client
/// handler, driven from the connection's own thread.
///
/// `RedisConnection` is blocking by design (the publisher's writer thread, CLI commands), so
/// this type gives the TLS channel the same shape as hiredis' socket: `write` hands bytes to
/// the event loop, `read` waits (bounded by the I/O timeout) for whatever arrived. The
/// channel's state lives in `TLSInbox`, confined to the event loop by `NIOLoopBound`; this
/// type only submits work to the loop and waits on futures, which is allowed because it is
/// never used on an event loop thread.
final class TLSStream {
    private let channel: any Channel
    private let inbox: NIOLoopBound<TLSInbox>
    private let ioTimeout: Duration?
    /// `host:port`, for messages.
    let endpoint: String

    /// Connects, performs the TLS handshake and verifies the server's certificate (chain and
    /// name) unless `options.verify` is false.
    ///
    /// - Throws: `.connectFailed` (TCP), `.tlsFailed` (unreadable certificate or key file,
    ///   handshake refused, certificate not trusted, name mismatch), each naming the cause.
    init(host: String, port: Int, options: RedisTLSOptions, connectTimeout: Duration, ioTimeout: Duration?) throws(RedisError) {
        endpoint = "\(host):\(port)"
        self.ioTimeout = ioTimeout
        let context = try Self.makeContext(options)
        let serverName = options.serverName ?? (Self.isIPAddress(host) ? nil : host)
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let handshake = eventLoop.makePromise(of: Void.self)
        let endpoint = endpoint
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(connectTimeout.nanoseconds))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    let inbox = TLSInbox(eventLoop: channel.eventLoop, handshake: handshake) { error in
                        TLSStream.describeTLS(error, endpoint: endpoint, serverName: serverName, options: options)
                    }
                    try channel.pipeline.syncOperations.addHandler(inbox)
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.connect(host: host, port: port).wait()
        } catch {
            handshake.fail(error)
            if Self.isTLSError(error) {
                throw RedisError(.tlsFailed, Self.describeTLS(error, endpoint: endpoint, serverName: serverName, options: options))
            }
            throw RedisError(.connectFailed, "connect to \(endpoint) failed: \(error)")
        }
        self.channel = channel
        // Bounds every wait on the handshake below, whatever happens to the channel.
        let timeout = channel.eventLoop.scheduleTask(in: .nanoseconds(connectTimeout.nanoseconds)) {
            handshake.fail(RedisError(.tlsFailed, "TLS handshake with \(endpoint) did not finish within \(connectTimeout)"))
        }
        do {
            // The handler lives on the loop; NIOLoopBound lets this thread hold it without
            // ever touching it.
            inbox = try channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: TLSInbox.self), eventLoop: channel.eventLoop)
            }.wait()
        } catch {
            channel.close(promise: nil)
            // A handshake refused at once (an untrusted certificate) can tear the pipeline
            // down before the inbox is looked up: the handshake's own error says why.
            do {
                try handshake.futureResult.wait()
            } catch let handshakeError {
                timeout.cancel()
                if let handshakeError = handshakeError as? RedisError { throw handshakeError }
                throw RedisError(.tlsFailed, Self.describeTLS(handshakeError, endpoint: endpoint, serverName: serverName, options: options))
            }
            timeout.cancel()
            throw RedisError(.connectFailed, "connect to \(endpoint) failed: the channel closed at once (\(error))")
        }
        do {
            try handshake.futureResult.wait()
            timeout.cancel()
            if options.verify, let expected = options.serverName {
                // NIOSSL accepts a certificate whose IP address matches the socket even when a
                // different name was asked for; an explicit server_name must be on the
                // certificate itself.
                let names = (try channel.nioSSL_peerCertificate().wait()).map(Self.dnsNames) ?? []
                guard names.contains(where: { Self.name(expected, matches: $0) }) else {
                    throw RedisError(.tlsFailed, "TLS to \(endpoint): the server's certificate is not valid for the name \(expected) "
                        + "(redis.tls.server_name); it carries \(names.isEmpty ? "no DNS names" : names.joined(separator: ", "))")
                }
            }
        } catch {
            timeout.cancel()
            channel.close(promise: nil)
            if let error = error as? RedisError { throw error }
            throw RedisError(.tlsFailed, Self.describeTLS(error, endpoint: endpoint, serverName: serverName, options: options))
        }
    }

    deinit { channel.close(promise: nil) }

    /// Queues bytes and flushes them to the socket without waiting; a write failure closes
    /// the channel and surfaces on the next `read`.
    func write(_ bytes: UnsafeRawBufferPointer) {
        let buffer = channel.allocator.buffer(bytes: bytes)
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Waits for received (decrypted) bytes, at most the I/O timeout.
    ///
    /// - Throws: `.io` on timeout (the caller drops the connection), `.closed` when the
    ///   server closed it, `.tlsFailed` for a TLS alert (e.g. a client certificate refused).
    func read() throws(RedisError) -> ByteBuffer {
        try read(timeout: ioTimeout.map { TimeAmount.nanoseconds($0.nanoseconds) }, soft: false)
    }

    /// Waits at most `limit` for bytes; an empty buffer when none came (not an error: for
    /// pub/sub listeners that check for shutdown between waits).
    func read(waitingAtMost limit: Duration) throws(RedisError) -> ByteBuffer {
        try read(timeout: .nanoseconds(limit.nanoseconds), soft: true)
    }

    private func read(timeout: TimeAmount?, soft: Bool) throws(RedisError) -> ByteBuffer {
        let inbox = inbox
        let endpoint = endpoint
        do {
            return try channel.eventLoop.flatSubmit { inbox.value.take(timeout: timeout, soft: soft, endpoint: endpoint) }.wait()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.io, "TLS connection to \(endpoint) failed: \(error)")
        }
    }

    func close() {
        channel.close(promise: nil)
    }

    // MARK: Set-up

    private static func makeContext(_ options: RedisTLSOptions) throws(RedisError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = options.verify ? .fullVerification : .none
        do {
            if let caFile = options.caFile {
                try requireReadable(caFile, key: "redis.tls.ca_file")
                // Loaded here (not as `.file`) so a file that is not PEM is named now.
                configuration.trustRoots = .certificates(try load("redis.tls.ca_file", caFile) { try NIOSSLCertificate.fromPEMFile($0) })
            }
            if let certificateFile = options.certificateFile, let keyFile = options.keyFile {
                try requireReadable(certificateFile, key: "redis.tls.cert_file")
                try requireReadable(keyFile, key: "redis.tls.key_file")
                let chain = try load("redis.tls.cert_file", certificateFile) { try NIOSSLCertificate.fromPEMFile($0) }
                configuration.certificateChain = chain.map { .certificate($0) }
                configuration.privateKey = .privateKey(try load("redis.tls.key_file", keyFile) { try NIOSSLPrivateKey(file: $0, format: .pem) })
            }
            return try NIOSSLContext(configuration: configuration)
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.tlsFailed, "cannot set up TLS: \(error)")
        }
    }

    private static func requireReadable(_ path: String, key: String) throws(RedisError) {
        guard access(path, R_OK) == 0 else {
            throw RedisError(.tlsFailed, "\(key) \(path) is missing or unreadable")
        }
    }

    private static func load<T>(_ key: String, _ path: String, _ body: (String) throws -> T) throws(RedisError) -> T {
        do {
            return try body(path)
        } catch {
            throw RedisError(.tlsFailed, "\(key) \(path) is not a usable PEM file: \(error)")
        }
    }

    /// The certificate's DNS subject alternative names.
    static func dnsNames(_ certificate: NIOSSLCertificate) -> [String] {
        certificate._subjectAlternativeNames().compactMap { name in
            name.nameType == .dnsName ? name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) } : nil
        }
    }

    /// RFC 6125 matching, case-insensitive, with a wildcard only as the whole left-most label.
    static func name(_ expected: String, matches pattern: String) -> Bool {
        let expected = expected.lowercased().trimmingSuffix(".")
        let pattern = pattern.lowercased().trimmingSuffix(".")
        if pattern.hasPrefix("*."), let dot = expected.firstIndex(of: ".") {
            return expected[dot...] == pattern.dropFirst() && expected.startIndex != dot
        }
        return expected == pattern
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func isTLSError(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }

    /// A sentence a person can act on, with NIOSSL's own text for the details.
    static func describeTLS(_ error: any Error, endpoint: String, serverName: String?, options: RedisTLSOptions) -> String {
        let text = "\(error)"
        let name = serverName ?? endpoint.split(separator: ":").dropLast().joined(separator: ":")
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "TLS to \(endpoint): the server's certificate is not valid for the name \(name) "
                + "(set redis.tls.server_name to the name it carries): \(text)"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            let trust = options.caFile.map { "the CA in redis.tls.ca_file \($0)" } ?? "the system's trust store"
            return "TLS to \(endpoint): the server's certificate is not signed by \(trust): \(text)"
        }
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("HANDSHAKE_FAILURE") || text.contains("BAD_CERTIFICATE")
            || text.contains("UNKNOWN_CA") {
            return "TLS to \(endpoint) refused by the server (does it require a client certificate, redis.tls.cert_file "
                + "and redis.tls.key_file, signed by a CA it trusts?): \(text)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "TLS to \(endpoint) failed: the port does not speak TLS (a plaintext port with rediss://?): \(text)"
        }
        return "TLS to \(endpoint) failed: \(text)"
    }
}

/// The channel's receiving end, on the event loop only: buffers decrypted bytes and hands
/// them to the one waiting reader; records the first failure and reports it to every later
/// read.
final class TLSInbox: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var received: ByteBuffer?
    private var waiting: EventLoopPromise<ByteBuffer>?
    private var timeout: Scheduled<Void>?
    private var failure: (any Error)?
    private var handshake: EventLoopPromise<Void>?
    private let loop: any EventLoop
    /// Turns a TLS error (an alert after the handshake, say) into a sentence for people.
    private let describe: @Sendable (any Error) -> String

    init(eventLoop: any EventLoop, handshake: EventLoopPromise<Void>, describe: @escaping @Sendable (any Error) -> String) {
        loop = eventLoop
        self.handshake = handshake
        self.describe = describe
    }

    /// Bytes received so far, or a future for the next ones; after `timeout` without bytes
    /// it fails (`.io`), or with `soft` succeeds with an empty buffer. Fails when the channel
    /// failed.
    func take(timeout: TimeAmount?, soft: Bool, endpoint: String) -> EventLoopFuture<ByteBuffer> {
        precondition(waiting == nil, "one reader at a time")
        if let bytes = received, bytes.readableBytes > 0 {
            received = nil
            return loop.makeSucceededFuture(bytes)
        }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: ByteBuffer.self)
        waiting = promise
        if let timeout {
            let bound = NIOLoopBound(self, eventLoop: loop)
            self.timeout = loop.scheduleTask(in: timeout) {
                let inbox = bound.value
                guard let waiting = inbox.waiting else { return }
                inbox.waiting = nil
                inbox.timeout = nil
                if soft { return waiting.succeed(ByteBuffer()) }
                waiting.fail(RedisError(.io, "no reply from \(endpoint) within \(timeout.nanoseconds / 1_000_000) ms"))
            }
        }
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received!.writeBuffer(&bytes)
        }
        if let waiting, let buffer = received {
            self.waiting = nil
            received = nil
            timeout?.cancel()
            timeout = nil
            waiting.succeed(buffer)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            handshake?.succeed()
            handshake = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RedisError(.closed, "the server closed the TLS connection"))
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error) {
        if failure == nil {
            failure = TLSStream.isTLSError(error) ? RedisError(.tlsFailed, describe(error)) : error
        }
        handshake?.fail(error)
        handshake = nil
        if let waiting {
            self.waiting = nil
            timeout?.cancel()
            timeout = nil
            waiting.fail(failure!)
        }
    }
}

extension Duration {
    /// Whole nanoseconds, saturating (for NIO's `TimeAmount`).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : product + attoseconds / 1_000_000_000
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : self[...]
    }
}
