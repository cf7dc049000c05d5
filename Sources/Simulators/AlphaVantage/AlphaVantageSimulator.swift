import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOConcurrencyHelpers

/// An in-process Alpha Vantage: serves `/query` for GLOBAL_QUOTE, REALTIME_BULK_QUOTES,
/// REALTIME_OPTIONS and CURRENCY_EXCHANGE_RATE in the real JSON shapes, with deterministic seeded prices, and every
/// failure the real service produces (throttle and daily-cap notices, premium-only answers,
/// error messages, HTTP 500, truncated JSON, slowness), switchable while running through
/// `setMode` or `GET|POST /_control?mode=throttle&delay_ms=...`. `/_stats` counts requests.
///
/// Tests start it on port 0 and read `port`; `quote-relay-sim alpha-vantage` runs it as a
/// process for the demo.
public final class AlphaVantageSimulator: Sendable {
    public struct Configuration: Sendable {
        /// [127.0.0.1] Only loopback by default: the simulator accepts any key.
        public var host: String
        /// [0] = any free port; read it back from `port`.
        public var port: Int
        public var mode: AlphaVantageSimulatorMode
        /// Seed of the deterministic prices [1].
        public var seed: UInt64
        /// Delay of every answer in `.slow` mode [2000 ms].
        public var delayMilliseconds: Int
        /// Symbols answered with an `Error Message` (GLOBAL_QUOTE, REALTIME_OPTIONS) or left
        /// out (REALTIME_BULK_QUOTES), besides anything that is not a plausible ticker; for
        /// CURRENCY_EXCHANGE_RATE a currency code (`EUR`) or a pair (`EUR/USD`).
        public var unknownSymbols: Set<String>
        /// When set, only this key is accepted; otherwise any non-empty key.
        public var requiredAPIKey: String?
        /// When set, requests beyond this many in 60 s get a throttle notice, like a free key.
        public var requestsPerMinute: Int?

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            mode: AlphaVantageSimulatorMode = .ok,
            seed: UInt64 = 1,
            delayMilliseconds: Int = 2000,
            unknownSymbols: Set<String> = ["INVALID"],
            requiredAPIKey: String? = nil,
            requestsPerMinute: Int? = nil
        ) {
            self.host = host
            self.port = port
            self.mode = mode
            self.seed = seed
            self.delayMilliseconds = delayMilliseconds
            self.unknownSymbols = unknownSymbols
            self.requiredAPIKey = requiredAPIKey
            self.requestsPerMinute = requestsPerMinute
        }
    }

    /// The bound port.
    public let port: Int
    public let host: String
    private let state: AlphaVantageSimulatorState
    private let serverChannel: Channel
    private let connections: ConnectionSet

    /// `http://host:port/query`, the value for `alphavantage.base_url`.
    public var baseURL: String { "http://\(host):\(port)/query" }

    private init(port: Int, host: String, state: AlphaVantageSimulatorState, serverChannel: Channel, connections: ConnectionSet) {
        self.port = port
        self.host = host
        self.state = state
        self.serverChannel = serverChannel
        self.connections = connections
    }

    /// Binds and starts serving.
    public static func start(
        configuration: Configuration = .init(),
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "quote-relay-sim.alpha-vantage")
    ) async throws -> AlphaVantageSimulator {
        let state = AlphaVantageSimulatorState(settings: .init(
            mode: configuration.mode,
            delayMilliseconds: configuration.delayMilliseconds,
            unknownSymbols: Set(configuration.unknownSymbols.map { $0.uppercased() }),
            requestsPerMinute: configuration.requestsPerMinute
        ))
        let responder = AlphaVantageResponder(state: state, seed: configuration.seed, requiredAPIKey: configuration.requiredAPIKey)
        let connections = ConnectionSet()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.insert(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AlphaVantageHTTPHandler(responder: responder))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let port = channel.localAddress?.port ?? configuration.port
        logger.info("alpha vantage simulator listening", metadata: [
            "host": "\(configuration.host)", "port": "\(port)", "mode": "\(configuration.mode.rawValue)",
        ])
        return AlphaVantageSimulator(port: port, host: configuration.host, state: state, serverChannel: channel, connections: connections)
    }

    /// Switches the failure mode at run time; nil leaves a setting as it is.
    public func setMode(_ mode: AlphaVantageSimulatorMode, delayMilliseconds: Int? = nil) {
        state.update { s in
            s.mode = mode
            if let delayMilliseconds { s.delayMilliseconds = delayMilliseconds }
        }
    }

    public func setUnknownSymbols(_ symbols: Set<String>) {
        state.update { $0.unknownSymbols = Set(symbols.map { $0.uppercased() }) }
    }

    public func setRequestsPerMinute(_ limit: Int?) {
        state.update { $0.requestsPerMinute = limit }
    }

    public var mode: AlphaVantageSimulatorMode { state.settings.mode }
    public var stats: AlphaVantageSimulatorStats { state.stats }
    public func resetStats() { state.resetStats() }

    /// Closes the listener and every open connection.
    public func shutdown() async throws {
        try? await serverChannel.close()
        for channel in connections.drain() { try? await channel.close() }
    }

    /// Completes when the listener closes (for the command-line process).
    public func waitUntilClosed() async throws {
        try await serverChannel.closeFuture.get()
    }
}

/// Open connections, so shutdown can close idle keep-alive ones too.
private final class ConnectionSet: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    func insert(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.channels.withLockedValue { $0.removeValue(forKey: id) }
        }
    }

    func drain() -> [Channel] {
        channels.withLockedValue { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
    }
}
