import NIOCore
import NIOHTTP1

/// Answers each request of one connection: `/healthz`, `/readyz` and `/metrics` from
/// ``HealthRoutes`` (bodies ignored), and, when the routes carry a ``SubscriptionAPI``,
/// `/subscriptions...` from it. Keep-alive is honoured because Prometheus scrapers reuse
/// connections; NIO's pipelining handler holds a connection's next request until the current
/// answer is written, so an answer that waits for Redis keeps the order.
///
/// The subscription endpoints are loopback only: a peer that is not 127.0.0.0/8 or ::1, or a
/// `Host` that does not name loopback, gets 403 whatever `http.listen` binds. Their bodies
/// are read up to ``SubscriptionRoutes/maxBodyBytes``; a larger one gets 413 and the
/// connection is closed.
final class HealthHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Request {
        case idle
        /// A health endpoint: the body is ignored.
        case health(HTTPRequestHead)
        /// A subscription endpoint: the body so far.
        case subscriptions(HTTPRequestHead, [UInt8])
        /// Answered already (refused early); the rest of the request is dropped.
        case answered
    }

    private let routes: HealthRoutes
    private var request = Request.idle

    init(routes: HealthRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard routes.subscriptions != nil, SubscriptionRoutes.matches(uri: head.uri) else {
                request = .health(head)
                return
            }
            if let refusal = refusal(head, peer: context.channel.remoteAddress) {
                request = .answered
                write(refusal, to: head, close: true, context: context)
                return
            }
            request = .subscriptions(head, [])
        case .body(var buffer):
            guard case .subscriptions(let head, var body) = request else { return }
            request = .idle  // body is uniquely referenced while it grows
            guard body.count + buffer.readableBytes <= SubscriptionRoutes.maxBodyBytes else {
                request = .answered
                write(Self.tooLarge, to: head, close: true, context: context)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
            request = .subscriptions(head, body)
        case .end:
            let finished = request
            request = .idle
            switch finished {
            case .health(let head):
                write(routes.answer(method: head.method, uri: head.uri), to: head, close: false, context: context)
            case .subscriptions(let head, let body):
                answerSubscriptions(head, body: body, context: context)
            case .idle, .answered:
                break
            }
        }
    }

    static let tooLarge = SubscriptionRoutes.error(.payloadTooLarge, "the body is larger than \(SubscriptionRoutes.maxBodyBytes) bytes")

    /// What a subscription request is refused with before its body is read: 403 when it does
    /// not come from loopback (peer address or `Host`), 413 when it announces a body too large.
    private func refusal(_ head: HTTPRequestHead, peer: SocketAddress?) -> HTTPAnswer? {
        guard SubscriptionRoutes.isLoopback(peer) else {
            return SubscriptionRoutes.error(.forbidden, "the subscription endpoints answer loopback clients only (127.0.0.1, ::1)")
        }
        guard SubscriptionRoutes.isLoopbackHost(head.headers.first(name: "Host")) else {
            return SubscriptionRoutes.error(.forbidden, "the subscription endpoints answer requests for localhost only (Host header)")
        }
        if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > SubscriptionRoutes.maxBodyBytes {
            return Self.tooLarge
        }
        return nil
    }

    private func answerSubscriptions(_ head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
        guard let api = routes.subscriptions else { return }
        guard api.enabled else {
            write(SubscriptionRoutes.error(.notFound, "subscriptions at runtime are off (leases.enabled: false)"), to: head, close: false, context: context)
            return
        }
        switch SubscriptionRoutes.parse(method: head.method, uri: head.uri, contentType: head.headers.first(name: "Content-Type"), body: body) {
        case .answer(let answer):
            write(answer, to: head, close: false, context: context)
        case .perform(let operation):
            let address = context.channel.remoteAddress
            let peer = "\(address?.ipAddress ?? "?"):\(address?.port.map(String.init) ?? "?")"
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            api.answer(operation, peer: peer, on: context.eventLoop).whenSuccess { answer in
                let (handler, context) = bound.value
                handler.write(answer, to: head, close: false, context: context)
            }
        }
    }

    /// Writes `answer` (no body for HEAD); closes the connection after it when the client
    /// asked to or `close` is set.
    private func write(_ answer: HTTPAnswer, to head: HTTPRequestHead, close: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        for (name, value) in answer.extraHeaders { headers.add(name: name, value: value) }
        let keepAlive = head.isKeepAlive && !close
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: answer.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed request or a reset connection concerns only this connection.
        context.close(promise: nil)
    }
}
