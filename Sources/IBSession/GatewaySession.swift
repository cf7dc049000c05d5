import Essentials
import Logging
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import TWSProtocol

/// One persistent TWS API session with IB Gateway: connects, keeps the session alive
/// (heartbeat, reconnects with backoff, client id rotation), restores every subscription after
/// a reconnect or a 1101, paces requests, and reports everything as `SessionEvent`s.
///
/// Typical use from the worker:
/// ```swift
/// let session = GatewaySession(configuration: config, logger: logger)
/// let spy = session.subscribe(Contract(symbol: "SPY"), genericTicks: "100,101,106")
/// async let _ = session.run()                 // until the task is cancelled
/// for await event in session.events { ... }   // single consumer
/// ```
/// Every method may be called from any task, before or during `run()`.
public final class GatewaySession: Sendable {
    public let configuration: GatewayConfiguration
    /// The session's events in order. Single consumer; unbounded, so the consumer must keep
    /// up (ticks arrive batched, one element per socket read). Finishes when `run()` ends.
    public let events: AsyncStream<SessionEvent>
    private let core: SessionCore
    private let statusBox: StatusBox
    private let ids = NIOLockedValueBox<UInt64>(0)

    /// - Parameters:
    ///   - eventLoopGroup: the session uses one loop of it for everything (socket, timers,
    ///     state); default the shared NIO singleton.
    ///   - randomSeed: seeds the backoff jitter (tests); nil = from the system generator.
    public init(
        configuration: GatewayConfiguration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, randomSeed: UInt64? = nil
    ) {
        self.configuration = configuration
        let (stream, continuation) = AsyncStream<SessionEvent>.makeStream(bufferingPolicy: .unbounded)
        events = stream
        let initial = SessionStatus(host: configuration.host, port: configuration.port, clientId: configuration.clientId)
        statusBox = StatusBox(initial)
        core = SessionCore(
            configuration: configuration, eventLoop: eventLoopGroup.next(), logger: logger,
            events: continuation, statusBox: statusBox, random: randomSeed.map(SplitMix64.init(seed:)) ?? SplitMix64()
        )
    }

    /// Connects and reconnects until the calling task is cancelled; then cancels market data,
    /// closes the socket cleanly and returns. A gateway that is down is not an error: the
    /// session keeps retrying with backoff. Throws only `IBSessionError.alreadyRunning`.
    public func run() async throws {
        let core = self.core
        let stopped = try await core.eventLoop.submit { core.start() }.get()
        try await withTaskCancellationHandler {
            try await stopped.get()
        } onCancel: {
            core.eventLoop.execute { core.shutdown() }
        }
    }

    /// The current state, for status hashes and metrics.
    public var status: SessionStatus { statusBox.mutex.withLockedValue { $0 } }

    private func nextId() -> UInt64 {
        ids.withLockedValue { value in
            value += 1
            return value
        }
    }

    // MARK: Market data

    /// Subscribes to streaming market data until `unsubscribe`. The subscription survives
    /// reconnects (requested again under a new request id); its ticks arrive as
    /// `.marketData` events carrying the returned id.
    @discardableResult
    public func subscribe(_ contract: Contract, genericTicks: String = "") -> SubscriptionID {
        let id = SubscriptionID(rawValue: nextId())
        let core = self.core
        core.eventLoop.execute { core.subscribe(id, contract: contract, genericTicks: genericTicks) }
        return id
    }

    public func unsubscribe(_ id: SubscriptionID) {
        let core = self.core
        core.eventLoop.execute { core.unsubscribe(id) }
    }

    // MARK: One-shot requests

    /// CONTRACT_DATA for `contract` (several when it is ambiguous). Waits for the session to
    /// be up; re-sent after a reconnect. Throws `IBSessionError.requestFailed` (e.g. 200),
    /// `.timedOut`, `.connectionLost`, `.notRunning`, or `CancellationError`.
    public func contractDetails(_ contract: Contract, timeout: Duration = .seconds(30)) async throws -> [ContractDetails] {
        try await perform(.contractDetails(contract), timeout: timeout).compactMap {
            if case .contractData(_, let details) = $0 { details } else { nil }
        }
    }

    /// The option chain parameters (one element per exchange) for an underlying.
    /// `futFopExchange` is empty for stocks.
    public func optionParameters(
        symbol: String, secType: String = "STK", conId: Int64, futFopExchange: String = "", timeout: Duration = .seconds(30)
    ) async throws -> [OptionParameters] {
        try await perform(.optionParameters(symbol: symbol, futFopExchange: futFopExchange, secType: secType, conId: conId), timeout: timeout).compactMap {
            if case .optionParameters(let parameters) = $0 { parameters } else { nil }
        }
    }

    /// A one-time snapshot (reqMktData with snapshot=1): every tick message up to
    /// TICK_SNAPSHOT_END. A probe: when the timeout ends a snapshot that has some ticks,
    /// those are returned; with none it throws `.timedOut`.
    public func snapshot(_ contract: Contract, timeout: Duration = .seconds(12)) async throws -> [ServerMessage] {
        try await perform(.snapshot(contract), timeout: timeout)
    }

    private func perform(_ request: OneShotRequest, timeout: Duration) async throws -> [ServerMessage] {
        let id = RequestID(rawValue: nextId())
        let core = self.core
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                core.eventLoop.execute { core.startRequest(id, request, timeout: timeout, continuation: continuation) }
            }
        } onCancel: {
            core.eventLoop.execute { core.cancelRequest(id) }
        }
    }
}
