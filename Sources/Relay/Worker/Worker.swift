import AlphaVantage
import Failover
import IBSession
import Logging
import MarketData
import MarketModel
import RedisPublisher
import ServiceLifecycle
import TWSProtocol

/// The worker: one IB session in, Redis out, Alpha Vantage when IB cannot deliver.
///
/// An actor so that the session's event stream, the failover checks, the option-window
/// re-centring and the Alpha Vantage poller can all touch the same per-symbol state without
/// locks. The hot path (a batch of ticks per socket read) is one actor turn per batch: ticks
/// are merged per instrument and each changed instrument becomes one record for the
/// publisher, which coalesces further and never blocks.
///
/// The decisions (the worker's state, failover and failback, staleness answers, market hours,
/// keep-alive, readiness, Alpha Vantage answers) are a value, `WorkerCore`: the actor feeds it
/// events and performs the actions it returns (`Worker+core.swift`).
public actor Worker: Service {
    /// What the worker knows about one configured symbol.
    struct SymbolState {
        var spec: SymbolSpec
        /// The qualified contract (conId, primary exchange) once IB resolved it.
        var contract: Contract?
        var hours: TradingHours = .unknown
        /// One option window per trading class (SPX and SPXW each centre on the index).
        var windows: [String: MarketData.OptionWindow] = [:]
        /// Every trading class of the chain IB listed, by class (exchange, multiplier, key root).
        var chainClasses: [String: ChainSnapshot.ClassChain] = [:]
        /// When a `front_month` future's contract rolls (`YYYYMMDD`, exchange date): from that
        /// day on, the next month is resolved and subscribed instead.
        var rollDate: String?
        /// Options a chain lists but IB does not know (error 200 on qualification).
        var missingOptions: Set<OptionKey> = []
        var recentring = false
        /// When IB last listed the chain (`P:chain:SYM` written), for the periodic refresh.
        var chainFetchedAt: ContinuousClock.Instant?
        /// Why IB cannot serve it (bad symbol, no permission), for the status hash and log.
        var problem: String?
        /// A warning about a line that stays open (10090 partial data, 10167 delayed instead).
        var warning: String?
        /// IB does not know the instrument (200 on contract details): a configuration problem.
        /// Nothing is served under its key, and it takes no part in failover.
        var unresolvable = false

        /// Some window, when options are followed (the failover asks only whether they are).
        var window: MarketData.OptionWindow? { windows.values.first }
        /// The options every window selects, in priority order per class.
        var selectedOptions: [RankedOption] { windows.keys.sorted().flatMap { windows[$0]?.selected ?? [] } }
    }

    let configuration: WorkerConfiguration
    let logger: Logger
    let session: GatewaySession
    let publisher: Publisher
    let metrics: RelayMetrics
    let readiness: ReadinessState
    let poller: AlphaVantagePoller<EventLoopClock>?
    /// Wall clock (epoch ms) for what readers see: `updated_ms`, `ts_ms`, market hours.
    let nowMs: @Sendable () -> Int64
    /// Monotonic milliseconds for every duration the worker measures (staleness, probes,
    /// failback, keep-alive): immune to wall-clock steps and to a clock that is off Redis'.
    let monoMs: @Sendable () -> Int64
    /// What every loop of the worker sleeps on (NIO timers: see `EventLoopClock`).
    let clock = EventLoopClock()

    var book = MarketBook()
    /// The worker's decisions (state, failover, staleness, keep-alive, readiness) as a value:
    /// this actor feeds it events (`feed`) and performs its actions (`perform`).
    var core: WorkerCore
    /// Work the core's actions start that outlives the actor turn (probes, keep-alive
    /// snapshots, poller updates), run by `jobLoop` inside `run()`'s task group, so shutdown
    /// cancels it.
    let jobs: AsyncStream<Job>
    let jobContinuation: AsyncStream<Job>.Continuation
    var symbols: [String: SymbolState] = [:]
    /// Configuration order: underlyings first in this order when lines are short.
    let pinnedOrder: [String]
    /// Instruments requested through leases (README "Subscriptions at runtime"), in the
    /// order their lines were given; they follow the pinned ones everywhere.
    var requestedOrder: [String] = []
    /// Every instrument served: the pinned ones, then the requested ones.
    var order: [String] { requestedOrder.isEmpty ? pinnedOrder : pinnedOrder + requestedOrder }
    /// Shares the lines left after the pinned instruments among leases (nil: leases off).
    var arbiter: LeaseArbiter?
    /// IB's answers to the arbiter's contract look-ups, handed to it at the next read.
    var requestLookUps: [String: LeaseLookUp] = [:]
    /// The contract details a look-up found, by key symbol, with when (monotonic ms): the
    /// line's set-up uses them instead of asking IB again (`resolve`), within a minute.
    var lookedUpContracts: [String: (details: [ContractDetails], monoMs: Int64)] = [:]
    /// The lease expiry each request's status hash was last written for (its TTL follows).
    var leaseStatusExpiry: [LeaseArbiter.RequestRef: Int64] = [:]
    /// Wall clock of the last IB tick that carried a value (`last_tick_ms`).
    var lastTickMs: Int64?
    var leftOut: String?
    var lastPublisherStats = PublisherStats()
    /// Every data write rejected (WRONGTYPE, ...) for several status intervals: not ready.
    var writeRejections = WriteRejectionWatch()
    var lastSessionStatus = SessionStatus()

    /// Symbols served by Alpha Vantage (the core decides).
    var failedOver: Set<String> { core.failedOver }
    /// Graceful shutdown began.
    var stopping: Bool { core.stopping }

    // worker.group (Worker+groupLease.swift)
    /// Active: subscribes and writes. Without a group always active; in a group, standby
    /// until this worker holds the lease.
    var role: LeaseStateMachine.Role
    /// The group lease as this worker sees it (unused without a group).
    var lease: LeaseStateMachine
    /// The owner token of the current (or next) term; a new one after every lost term.
    var leaseToken: String
    /// The worker id of the lease's holder as last seen (status hash `lease_holder`).
    var leaseHolder: String?
    /// Terms as active since start.
    var leaseTerms = 0
    /// Each role change, for `dutiesLoop`.
    let roleChanges: AsyncStream<LeaseStateMachine.Role>
    let roleContinuation: AsyncStream<LeaseStateMachine.Role>.Continuation

    /// The IB session's state and counters (connection, reconnects, skipped messages).
    public nonisolated var sessionStatus: SessionStatus { session.status }

    /// - Throws: when the Lua scripts cannot be read (an unrecoverable start-up error: exit 1).
    /// - Parameters:
    ///   - nowMs: the wall clock for records and events (tests inject a skewed one).
    ///   - monoMs: a monotonic clock in ms for durations; default NIO's monotonic clock.
    public init(
        configuration: WorkerConfiguration, logger: Logger, metrics: RelayMetrics = RelayMetrics(),
        readiness: ReadinessState = ReadinessState(), nowMs: @escaping @Sendable () -> Int64 = WallClock.nowMs,
        monoMs: (@Sendable () -> Int64)? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.readiness = readiness
        self.nowMs = nowMs
        self.monoMs = monoMs ?? { EventLoopClock().nowMs }
        var publisherConfiguration = configuration.publisher
        publisherConfiguration.wallClockMs = nowMs
        self.publisher = try Publisher(configuration: publisherConfiguration, logger: logger)
        self.session = GatewaySession(configuration: configuration.gateway, logger: logger)
        if let av = configuration.alphaVantage {
            let client = AlphaVantageClient(configuration: av, logger: logger)
            self.poller = AlphaVantagePoller(client: client, clock: EventLoopClock(), logger: logger)
        } else {
            self.poller = nil
        }
        var order: [String] = []
        // Every per-symbol structure is keyed by the KEY symbol (`ES.202612`, `EUR.USD`): it
        // names one instrument; `spec.symbol` is only what IB is asked for.
        for spec in configuration.symbols where !order.contains(spec.keySymbol) {
            order.append(spec.keySymbol)
            symbols[spec.keySymbol] = SymbolState(spec: spec)
        }
        self.pinnedOrder = order
        let settings = WorkerCore.Settings(
            workerID: configuration.workerID, policy: configuration.failover, stalenessMs: configuration.failover.stalenessMs,
            hasAlphaVantage: configuration.alphaVantage != nil)
        var problems: [String: String] = [:]
        var fallbacks: [WorkerCore.Fallback] = []
        for spec in configuration.symbols where problems[spec.keySymbol] == nil && !fallbacks.contains(where: { $0.symbol == spec.keySymbol }) {
            if let problem = Self.fallbackProblem(spec, fxEnabled: configuration.alphaVantageFX) { problems[spec.keySymbol] = problem }
            if let fallback = Self.fallback(spec, configuration: configuration) { fallbacks.append(fallback) }
        }
        self.core = WorkerCore(
            settings: settings, served: order, fallbackProblems: problems, fallbacks: fallbacks, active: configuration.group == nil,
            monoMs: self.monoMs())
        (self.jobs, self.jobContinuation) = AsyncStream.makeStream(of: Job.self)
        self.role = configuration.group == nil ? .active : .standby
        self.lease = LeaseStateMachine(timing: configuration.leaseTiming)
        self.leaseToken = LeaseStateMachine.makeToken(workerID: configuration.workerID)
        (self.roleChanges, self.roleContinuation) = AsyncStream.makeStream(of: LeaseStateMachine.Role.self)
    }

    /// Runs until graceful shutdown (SIGTERM/SIGINT through the ServiceGroup) or cancellation,
    /// then cancels market data, writes `stopped` and flushes Redis.
    public func run() async throws {
        publisher.start()
        feed(.started(gateway: "\(configuration.gateway.host):\(configuration.gateway.port)"))
        if let group = configuration.group {
            metrics.leaseRole(active: false)
            readiness.setStandby(standbyReason)
            logger.notice("member of a worker group: standby until this worker holds the group's lease", metadata: [
                "group": "\(group)", "lease_key": "\(configuration.publisher.leaseKey ?? "")",
                "lease_ttl_ms": "\(configuration.leaseTiming.ttlMs)", "renew_ms": "\(configuration.leaseTiming.renewIntervalMs)",
            ])
        } else {
            roleContinuation.yield(.active)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.session.run() }
            group.addTask { await self.consumeSessionEvents() }
            group.addTask { await self.dutiesLoop() }
            group.addTask { await self.statusLoop() }
            group.addTask { await self.jobLoop() }
            if configuration.group != nil {
                group.addTask { await self.leaseLoop() }
                group.addTask { await self.leaseWatchdog() }
            }
            if configuration.leases != nil {
                group.addTask { await self.requestLeaseLoop() }
            }
            if let poller {
                group.addTask { await poller.run { event in await self.handleAlphaVantage(event) } }
            }
            // Wait for the signal (or for our own cancellation), then stop every loop.
            try? await gracefulShutdown()
            self.beginStopping()
            self.roleContinuation.finish()
            self.jobContinuation.finish()
            group.cancelAll()
        }
        await finishStopping()
    }

    func beginStopping() {
        readiness.setStopping()
        feed(.stopRequested)
    }

    func finishStopping() async {
        feed(.stopped)
        if !(await publisher.flush(timeout: .seconds(3))) {
            logger.warning("Redis did not take every pending write before shutdown")
        }
        // After our last writes: the standby takes over at once instead of after the TTL.
        await releaseLeaseOnStop()
        publisher.stop()
        logger.info("quote-relay stopped")
    }
}

/// Wall-clock time for records and events (`updated_ms`, `ts_ms`): the publisher's clock.
public enum WallClock {
    @Sendable public static func nowMs() -> Int64 { WallClockMs.now() }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
