import NIOCore
import TWSProtocol

/// The socket end of the session: splits the byte stream into frames, reads the server hello,
/// decodes every message and hands it to the core on the same event loop. Decoding here (not
/// in the consumer) and flushing ticks once per `channelReadComplete` is what lets one core
/// keep up with 100k+ ticks per second.
final class GatewayChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let core: SessionCore
    /// The connection this handler serves; the core ignores calls from stale generations.
    private let generation: UInt64
    private var frames = FrameDecoder()
    private var serverVersion: Int?
    private var lastError: String?

    init(core: SessionCore, generation: UInt64) {
        self.core = core
        self.generation = generation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { frames.feed($0) }
        do {
            while true {
                if let version = serverVersion {
                    let more = try frames.withNextPayload { payload -> Bool in
                        do {
                            let message = try MessageDecoder.decodeServer(payload, serverVersion: version)
                            core.received(message, generation: generation)
                        } catch {
                            core.undecodable(MessageDecoder.fields(payload), error: error, generation: generation)
                        }
                        return true
                    }
                    if more == nil { break }
                } else {
                    guard let payload = try frames.next() else { break }
                    // Any version is accepted here; the state machine judges it.
                    let hello = try Handshake.parseServerHello(payload, advertised: 1...Int(Int32.max))
                    serverVersion = hello.version
                    core.helloReceived(hello.version, generation: generation)
                }
            }
        } catch {
            // A bad length prefix or hello: the stream cannot be resynchronised.
            lastError = "protocol error: \(error)"
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        core.readComplete(generation: generation)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        lastError = "\(error)"
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.channelClosed(generation: generation, error: lastError)
    }
}
