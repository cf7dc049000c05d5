import Logging
import NIOCore
import TWSProtocol

/// One client socket: the `API\0` greeting, then length-prefixed messages decoded at the
/// negotiated version and handed to the core. Protocol garbage closes the connection, as a
/// real gateway does; it never reaches the engine.
final class GatewayConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private enum State {
        case greeting([UInt8])
        case messages(FrameDecoder)
        case closed
    }

    private let core: NIOLoopBound<GatewayCore>
    private var id: ConnectionID?
    private var state = State.greeting([])

    init(core: NIOLoopBound<GatewayCore>) {
        self.core = core
    }

    func channelActive(context: ChannelHandlerContext) {
        id = core.value.accepted(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        if let id { core.value.closed(id) }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let id, let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        let core = core.value
        switch state {
        case .closed:
            return
        case .greeting(var pending):
            pending += bytes
            do {
                switch try Handshake.parseClientGreeting(pending) {
                case .needMoreBytes:
                    state = .greeting(pending)
                case .complete(let greeting, let consumed):
                    var decoder = FrameDecoder()
                    decoder.feed(pending[consumed...])
                    state = .messages(decoder)
                    core.versions(id, greeting)
                    drain(context: context, id: id)
                }
            } catch {
                fail(context: context, "bad greeting: \(error)")
            }
        case .messages(var decoder):
            decoder.feed(bytes)
            state = .messages(decoder)
            drain(context: context, id: id)
        }
    }

    private func drain(context: ChannelHandlerContext, id: ConnectionID) {
        let core = core.value
        while case .messages(var decoder) = state {
            let payload: [UInt8]?
            do {
                payload = try decoder.next()
            } catch {
                fail(context: context, "bad frame: \(error)")
                return
            }
            state = .messages(decoder)
            guard let payload else { return }
            do {
                let message = try MessageDecoder.decodeClient(payload, serverVersion: core.serverVersion(of: id))
                core.received(message, from: id)
            } catch {
                // One malformed request is skipped (and logged), like the gateway's own
                // "unknown message" handling; framing stays intact so the session goes on.
                core.logger.warning("undecodable request skipped", metadata: ["conn": "\(id)", "error": "\(error)"])
            }
        }
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        core.value.logger.warning("closing connection", metadata: ["reason": "\(reason)"])
        state = .closed
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
