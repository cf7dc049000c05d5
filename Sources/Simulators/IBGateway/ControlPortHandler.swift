import NIOCore

/// The line-based control port: one command per line, one `OK ...` / `ERR ...` line back.
/// Meant for people (`nc 127.0.0.1 4099`) and scripts alike, hence plain text.
final class ControlPortHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: NIOLoopBound<GatewayCore>
    private var pending: [UInt8] = []
    /// A control client has no business sending a line longer than this.
    private static let maxLineLength = 4096

    init(core: NIOLoopBound<GatewayCore>) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let reply = core.value.control(line)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply + "\n")), promise: nil)
        }
        if pending.count > Self.maxLineLength {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "ERR line too long\n")), promise: nil)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

import Foundation
