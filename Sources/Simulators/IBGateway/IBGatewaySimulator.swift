import Logging
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import TWSProtocol

/// A protocol-accurate IB Gateway on loopback: IB's own clients (ibapi, ib_async) and the
/// worker connect to it as to a real gateway, get deterministic seeded quotes, option
/// chains and greeks, and can be put through every failure the worker must survive.
///
/// Tests of other modules run it in-process:
/// ```swift
/// let sim = IBGatewaySimulator(configuration: .init())
/// let ports = try await sim.start()
/// _ = await sim.control("farm-down")
/// let last = await sim.sentTicks(clientId: 17, reqId: 1)[1]?.last   // last bid sent
/// await sim.stop()
/// ```
/// Everything runs on one event loop owned by the simulator; the methods are safe to call
/// from any task.
public final class IBGatewaySimulator: Sendable {
    /// The ports actually bound (port 0 asks the kernel for a free one).
    public struct BoundPorts: Sendable, Hashable {
        public var port: Int
        public var controlPort: Int?
    }

    public enum SimulatorError: Error, Sendable, CustomStringConvertible {
        case alreadyStarted
        case invalidInitialCommand(String, String)

        public var description: String {
            switch self {
            case .alreadyStarted: "the simulator is already started"
            case .invalidInitialCommand(let line, let why): "invalid fault '\(line)': \(why)"
            }
        }
    }

    private struct Running: Sendable {
        var core: NIOLoopBound<GatewayCore>
        var server: any Channel
        var control: (any Channel)?
        var ports: BoundPorts
    }

    private enum State: Sendable {
        case idle
        case starting
        case running(Running)
        case stopped
    }

    public let configuration: Configuration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let state = NIOLockedValueBox(State.idle)

    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "quote-relay-sim.ib-gateway")) {
        self.configuration = configuration
        self.logger = logger
        // One thread: every connection, the timer and the control port share the engine
        // without locks, and message order across clients is reproducible.
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Binds the API port (and the control port when `controlPort` is not nil) and starts
    /// the tick timer. Initial commands from the configuration are applied first, so a
    /// client never sees the gateway without them.
    public func start(host: String = "127.0.0.1", port: Int = 0, controlPort: Int? = nil) async throws -> BoundPorts {
        try state.withLockedValue { state in
            guard case .idle = state else { throw SimulatorError.alreadyStarted }
            state = .starting
        }
        for line in configuration.initialCommands {
            if case .failure(let error) = ControlCommand.parse(line) {
                state.withLockedValue { $0 = .idle }
                throw SimulatorError.invalidInitialCommand(line, error.description)
            }
        }
        let loop = group.next()
        let configuration = configuration
        let logger = logger
        let core = try await loop.submit {
            let bound = NIOLoopBound(GatewayCore(configuration: configuration, loop: loop, logger: logger), eventLoop: loop)
            for line in configuration.initialCommands { _ = bound.value.control(line) }
            bound.value.startTimer(bound)
            return bound
        }.get()
        do {
            let server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GatewayConnectionHandler(core: core))
                    }
                }
                .bind(host: host, port: port).get()
            var control: (any Channel)?
            if let controlPort {
                control = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ControlPortHandler(core: core))
                        }
                    }
                    .bind(host: host, port: controlPort).get()
            }
            let ports = BoundPorts(port: server.localAddress?.port ?? port, controlPort: control?.localAddress?.port)
            state.withLockedValue { $0 = .running(Running(core: core, server: server, control: control, ports: ports)) }
            logger.info("IB Gateway simulator listening", metadata: [
                "host": "\(host)", "port": "\(ports.port)", "control_port": "\(ports.controlPort.map(String.init) ?? "-")",
                "server_version": "\(configuration.maxServerVersion)", "seed": "\(configuration.seed)",
            ])
            return ports
        } catch {
            _ = try? await loop.submit { _ = core.value.shutdown() }.get()
            state.withLockedValue { $0 = .idle }
            throw error
        }
    }

    /// Closes the listeners and every client connection and stops the simulator's thread;
    /// idempotent. A stopped simulator cannot be started again (make a new one).
    public func stop() async {
        let previous: State = state.withLockedValue { state in
            let previous = state
            if case .starting = state { return previous }
            state = .stopped
            return previous
        }
        switch previous {
        case .stopped, .starting:
            return
        case .idle:
            break
        case .running(let running):
            try? await running.server.close()
            try? await running.control?.close()
            let loop = running.server.eventLoop
            let open = (try? await loop.submit { running.core.value.shutdown() }.get()) ?? []
            for channel in open { try? await channel.close() }
        }
        try? await group.shutdownGracefully()
    }

    /// The ports bound by `start`, nil before.
    public var ports: BoundPorts? {
        state.withLockedValue { if case .running(let r) = $0 { r.ports } else { nil } }
    }

    /// Runs one control command exactly as the control port would and returns its answer.
    public func control(_ line: String) async -> String {
        await onLoop { $0.control(line) } ?? "ERR simulator not running"
    }

    /// Every value sent to (clientId, reqId), per tick type as sent on the wire (delayed
    /// subscriptions use the delayed tick types), oldest first.
    public func sentTicks(clientId: Int32, reqId: Int32) async -> [Int32: [TickValue]] {
        await onLoop { $0.engine.recorder.sent(clientId: clientId, reqId: reqId) } ?? [:]
    }

    /// The live streaming subscriptions of every client.
    public func subscriptions() async -> [SubscriptionInfo] {
        await onLoop { $0.engine.subscriptionInfos() } ?? []
    }

    public func counters() async -> GatewayCounters {
        await onLoop { $0.engine.currentCounters } ?? GatewayCounters()
    }

    /// The negotiated server version of `clientId`'s ready connection, nil when it has none.
    /// A replay encodes its messages at this version, as a real gateway would.
    public func serverVersion(clientId: Int32) async -> Int? {
        await onLoop { $0.connection(clientId: clientId)?.serverVersion } ?? nil
    }

    /// Writes pre-encoded, framed server messages (each a 4-byte length and its payload, e.g.
    /// `MessageEncoder.encode(_:serverVersion:)` output) to `clientId`'s ready connection in one
    /// write, which the socket drains as fast as the client reads. This is how
    /// `benchmarks/replay` floods a client without the simulator's market model in the way;
    /// the bytes must be whole frames at the connection's server version.
    /// - Returns: false when the client has no ready connection.
    public func writeFramed(_ bytes: ByteBuffer, toClientId clientId: Int32) async -> Bool {
        await onLoop { core in
            guard let connection = core.connection(clientId: clientId) else { return false }
            return core.writeFramed(bytes, to: connection.id)
        } ?? false
    }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (GatewayCore) -> T) async -> T? {
        let running: Running? = state.withLockedValue { if case .running(let r) = $0 { r } else { nil } }
        guard let running else { return nil }
        return try? await running.server.eventLoop.submit { body(running.core.value) }.get()
    }
}
