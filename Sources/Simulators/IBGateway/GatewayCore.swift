import Logging
import NIOCore
import TWSProtocol

/// The simulator's live state on its one event loop: the engine plus the channels its
/// actions go to. Everything here runs on `loop`, so no locks: the I/O handlers, the tick
/// timer and the control port all reach it through `NIOLoopBound`.
final class GatewayCore {
    let loop: any EventLoop
    let logger: Logger
    let clock: @Sendable () -> Int64
    var engine: GatewayEngine
    private var channels: [ConnectionID: any Channel] = [:]
    private var nextConnection = 1
    private var timer: RepeatedTask?
    /// How often the tick timer runs; the rate decides how many updates each run makes. A
    /// market feed is continuous, so updates are spread at 1 ms granularity: at 10k updates/s
    /// that is bursts of 10, not the 100-update bursts a 10 ms timer made (which cost a
    /// downstream Redis ~2 ms per burst and measured the timer, not the relay).
    static let timerInterval = TimeAmount.milliseconds(1)
    /// The most market updates one write carries, for the rate and for `flood`: a loop that
    /// cannot keep up sends steady pieces of this size (about 2,000 TWS messages, ~45 KB of
    /// stock ticks) rather than one burst of everything it owes.
    static let maxUpdatesPerWrite = 500

    init(configuration: IBGatewaySimulator.Configuration, loop: any EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        clock = configuration.clock
        engine = GatewayEngine(configuration: configuration, nowMs: configuration.clock())
    }

    func startTimer(_ bound: NIOLoopBound<GatewayCore>) {
        _ = engine.advance(nowMs: clock())
        timer = loop.scheduleRepeatedTask(initialDelay: Self.timerInterval, delay: Self.timerInterval) { _ in
            let core = bound.value
            core.perform(core.engine.advance(nowMs: core.clock(), limit: Self.maxUpdatesPerWrite))
        }
    }

    func shutdown() -> [any Channel] {
        timer?.cancel()
        timer = nil
        let open = Array(channels.values)
        channels = [:]
        return open
    }

    // MARK: Events from connections

    func accepted(_ channel: any Channel) -> ConnectionID {
        let id = ConnectionID(nextConnection)
        nextConnection += 1
        channels[id] = channel
        logger.debug("connection accepted", metadata: ["conn": "\(id)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
        perform(engine.accepted(id, nowMs: clock()))
        return id
    }

    func versions(_ id: ConnectionID, _ greeting: Handshake.ClientGreeting) {
        logger.debug(
            "client versions", metadata: ["conn": "\(id)", "range": "v\(greeting.minVersion)..\(greeting.maxVersion)"])
        perform(engine.versionsReceived(id, minVersion: greeting.minVersion, maxVersion: greeting.maxVersion, nowMs: clock()))
    }

    func received(_ message: ClientMessage, from id: ConnectionID) {
        if case .startAPI(let clientId, _) = message {
            logger.info("client connected", metadata: ["conn": "\(id)", "client_id": "\(clientId)", "version": "\(engine.serverVersion(of: id))"])
        }
        perform(engine.received(message, from: id, nowMs: clock()))
    }

    func closed(_ id: ConnectionID) {
        guard channels.removeValue(forKey: id) != nil else { return }
        engine.closed(id)
        logger.debug("connection closed", metadata: ["conn": "\(id)"])
    }

    func serverVersion(of id: ConnectionID) -> Int { engine.serverVersion(of: id) }

    // MARK: Control

    func control(_ line: String) -> String {
        switch ControlCommand.parse(line) {
        case .failure(let error):
            return "ERR \(error)"
        case .success(let command):
            let outcome = engine.execute(command, nowMs: clock())
            switch command {
            case .counters, .help, .sent:
                logger.debug("control query", metadata: ["command": "\(line.trimmingCharacters(in: .whitespaces))"])
            default:
                logger.info("fault command", metadata: ["command": "\(line.trimmingCharacters(in: .whitespaces))"])
            }
            perform(outcome.actions)
            if outcome.flood > 0 { flood(outcome.flood) }
            return outcome.reply
        }
    }

    /// Runs a flood in chunks so that sockets drain and the control port stays responsive.
    private func flood(_ remaining: Int) {
        let chunk = min(remaining, Self.maxUpdatesPerWrite)
        perform(engine.flood(chunk, nowMs: clock()))
        guard remaining > chunk else { return }
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.execute { bound.value.flood(remaining - chunk) }
    }

    // MARK: Actions

    func perform(_ actions: [GatewayAction]) {
        for action in actions {
            switch action {
            case .hello(let id, let version, let time, let delayMs):
                let bytes = Handshake.serverHello(version: version, time: time)
                if delayMs > 0 {
                    let bound = NIOLoopBound(self, eventLoop: loop)
                    loop.scheduleTask(in: .milliseconds(Int64(delayMs))) { bound.value.write(bytes, to: id) }
                } else {
                    write(bytes, to: id)
                }
            case .send(let id, let messages):
                guard let channel = channels[id] else { continue }
                let version = engine.serverVersion(of: id)
                var buffer = channel.allocator.buffer(capacity: messages.count * 48)
                for message in messages {
                    buffer.writeBytes(MessageEncoder.encode(message, serverVersion: version))
                }
                engine.configuration.benchmarkStamps?.stampSent(messages)
                channel.writeAndFlush(buffer, promise: nil)
            case .sendFields(let id, let messages):
                guard let channel = channels[id] else { continue }
                var buffer = channel.allocator.buffer(capacity: messages.count * 16)
                for fields in messages { buffer.writeBytes(Framing.frame(Framing.payload(fields: fields))) }
                channel.writeAndFlush(buffer, promise: nil)
            case .close(let id):
                guard let channel = channels[id] else { continue }
                // An empty write completes after every earlier one: the client reads the
                // last message (e.g. error 326) before the FIN.
                channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in
                    channel.close(promise: nil)
                }
            }
        }
    }

    /// The ready connection of `clientId` and its negotiated server version.
    func connection(clientId: Int32) -> (id: ConnectionID, serverVersion: Int)? {
        guard let session = engine.sessions.values.first(where: { $0.clientId == clientId && $0.phase == .ready }),
            channels[session.id] != nil
        else { return nil }
        return (session.id, session.serverVersion)
    }

    /// Writes already framed messages to a connection as one write; the socket takes them as
    /// fast as the client reads (benchmarks/replay). False when the connection is gone.
    func writeFramed(_ bytes: ByteBuffer, to id: ConnectionID) -> Bool {
        guard let channel = channels[id] else { return false }
        channel.writeAndFlush(bytes, promise: nil)
        return true
    }

    private func write(_ bytes: [UInt8], to id: ConnectionID) {
        guard let channel = channels[id] else { return }
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }
}

import Foundation
