import Essentials
import Logging
import NIOCore
import NIOEmbedded
import Testing
import TWSProtocol

@testable import IBSession

/// The read path alone (framing, decoding, routing, batching) on one thread, without a
/// network or a simulator in the way: the number printed is what one core sustains.
@Suite("Read path throughput")
struct ReadPathThroughputTests {
    @Test func decodesAndRoutesEveryTickInBatches() async throws {
        let loop = EmbeddedEventLoop()
        let (stream, continuation) = AsyncStream<SessionEvent>.makeStream(bufferingPolicy: .unbounded)
        let core = SessionCore(
            configuration: GatewayConfiguration(), eventLoop: loop, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            events: continuation, statusBox: StatusBox(SessionStatus()), random: SplitMix64(seed: 1)
        )
        let subs = (1...8).map { SubscriptionID(rawValue: UInt64($0)) }
        for id in subs { _ = core.registry.subscribe(id, contract: Contract(symbol: "S\(id.rawValue)"), genericTicks: "", sessionUp: true) }
        let channel = EmbeddedChannel(handler: GatewayChannelHandler(core: core, generation: core.generation), loop: loop)

        let version = 176
        var chunk: [UInt8] = []
        let perChunk = 1000
        for i in 0..<perChunk {
            let reqId = Int32(i % 8 + 1)
            let message: ServerMessage = switch i % 4 {
            case 0: .tickPrice(reqId: reqId, tickType: 1, price: 100 + Double(i) / 100, size: 300, attrMask: 0)
            case 1: .tickSize(reqId: reqId, tickType: 0, size: 300)
            case 2: .tickPrice(reqId: reqId, tickType: 2, price: 100.05 + Double(i) / 100, size: 200, attrMask: 0)
            default: .tickString(reqId: reqId, tickType: 45, value: "1795668030")
            }
            chunk += MessageEncoder.encode(message, serverVersion: version)
        }
        try channel.writeInbound(ByteBuffer(bytes: Handshake.serverHello(version: version, time: "20261126 04:42:30 EST")))

        let rounds = 300
        let start = ContinuousClock.now
        for _ in 0..<rounds {
            // Like a socket read of ~30 KB; readComplete flushes the batch.
            try channel.writeInbound(ByteBuffer(bytes: chunk))
            channel.pipeline.fireChannelReadComplete()
        }
        let elapsed = ContinuousClock.now - start
        continuation.finish()

        var ticks = 0
        var batches = 0
        for await event in stream {
            if case .marketData(let batch) = event {
                ticks += batch.count
                batches += 1
            }
        }
        let total = rounds * perChunk
        #expect(ticks == total)
        #expect(batches == rounds)
        #expect(core.droppedTicks == 0)
        #expect(core.undecodableCount == 0)
        let rate = Double(total) / max(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, 1e-9)
        print("IBSession read path (debug build): \(total) tick messages in \(elapsed), \(Int(rate)) msg/s on one thread")
        _ = try channel.finish()
    }
}

