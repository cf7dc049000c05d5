import Essentials
import AlphaVantage
import Failover
import Foundation
import IBSession
import Logging
import RedisPublisher
import Relay
import ServiceLifecycle
import Simulators
import Testing

/// Needs `QR_TEST_REDIS_URL` (scripts/test starts a redis-server); without it the tests fail
/// rather than skip, so CI can never pass by not running them.
///
/// A worker running in-process against the in-process IB Gateway simulator, optionally the
/// Alpha Vantage simulator, and the real redis-server of `QR_TEST_REDIS_URL`, with its own key
/// prefix so suites run in parallel.
final class WorkerHarness: @unchecked Sendable {
    // @unchecked: the RedisConnection is used only from the test's own task, sequentially.
    let ib: IBGatewaySimulator
    let ibPort: Int
    let av: AlphaVantageSimulator?
    let prefix: String
    let workerID: String
    let redis: RedisConnection
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let configuration: WorkerConfiguration
    let worker: Worker

    static var redisURL: RedisPublisher.RedisURL? {
        guard let text = ProcessInfo.processInfo.environment["QR_TEST_REDIS_URL"] else { return nil }
        return try? RedisPublisher.RedisURL(parsing: text)
    }

    static var repoRoot: String {
        if let root = ProcessInfo.processInfo.environment["QR_REPO_ROOT"], !root.isEmpty { return root }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    struct Options {
        var symbols: [SymbolSpec] = [SymbolSpec(symbol: "AAPL"), SymbolSpec(symbol: "MSFT")]
        var simSymbols: [String] = ["AAPL", "MSFT", "SPY"]
        var ticksPerSecond: Double = 200
        var initialCommands: [String] = []
        var withAlphaVantage = false
        /// `alphavantage.options`: option keys are served by REALTIME_OPTIONS in failover.
        var alphaVantageOptions = false
        /// `alphavantage.fx`: FX pairs are served by CURRENCY_EXCHANGE_RATE in failover.
        var alphaVantageFX = false
        var maxLines = 100
        var staleness: Duration = .seconds(60)
        var checkInterval: Duration = .milliseconds(500)
        var failbackStable: Duration = .seconds(2)
        var maxReconnectAttempts = 5
        var heartbeat: Duration = .seconds(1)
        var reconnectInitial: Duration = .milliseconds(100)
        var reconnectMax: Duration = .milliseconds(400)
        var chainTTL: Duration = .seconds(86_400)
        var quoteTTL: Duration = .seconds(300)
        var metrics = RelayMetrics()
        /// The worker's wall clock minus the real one (a worker host whose clock is off Redis').
        var wallClockOffsetMs: Int64 = 0
        /// Replaces the worker's wall clock (a test that moves the date: a futures roll).
        var wallClock: (@Sendable () -> Int64)?
        /// The IB simulator's "today" (its listed expirations and contract months).
        var simToday: SimDate?
        var marketDataType: Int32 = 1
        /// A Redis other than `QR_TEST_REDIS_URL` (a server the test starts and stops).
        var redisURL: RedisPublisher.RedisURL?
        var readiness = ReadinessState()
        /// Subscriptions at runtime (nil: leases are not read).
        var leases: LeaseSettings?

        /// Alpha Vantage on, and a failover quick to see: stale after 2 s, checked every
        /// 0.5 s, back to IB after 2 s stable (the setup of every failover-and-back test).
        mutating func quickFailover() {
            withAlphaVantage = true
            staleness = .seconds(2)
            checkInterval = .milliseconds(500)
            failbackStable = .seconds(2)
        }
    }

    static func start(_ o: Options = Options(), name: String = #function) async throws -> WorkerHarness {
        guard let url = o.redisURL ?? redisURL else { throw HarnessError.noRedis }
        var simConfig = IBGatewaySimulator.Configuration()
        simConfig.seed = 7
        simConfig.symbols = o.simSymbols
        simConfig.ticksPerSecond = o.ticksPerSecond
        simConfig.initialCommands = o.initialCommands
        if let today = o.simToday { simConfig.today = today }
        let ib = IBGatewaySimulator(configuration: simConfig)
        let ports = try await ib.start()
        var av: AlphaVantageSimulator?
        if o.withAlphaVantage { av = try await AlphaVantageSimulator.start() }

        let id = "t\(UInt32.random(in: 0..<UInt32.max))"
        let prefix = "qrtest:\(id)"
        let gateway = GatewayConfiguration(
            port: ports.port, clientId: 5, connectTimeout: .seconds(2), heartbeatInterval: o.heartbeat,
            reconnect: BackoffPolicy(initial: o.reconnectInitial, max: o.reconnectMax, multiplier: 2),
            marketDataType: o.marketDataType)
        let publisher = PublisherConfiguration(
            url: url, workerID: id, keyPrefix: prefix, quoteTTL: o.quoteTTL, chainTTL: o.chainTTL, scriptsDirectory: "\(repoRoot)/lua")
        let alphaVantage = av.map {
            AlphaVantageConfiguration(baseURL: $0.baseURL, apiKey: APIKey("test-key-123456"), entitlement: .realtime, requestsPerMinute: 600, requestsPerDay: 100_000)
        }
        var configuration = WorkerConfiguration(
            workerID: id, gateway: gateway, publisher: publisher, alphaVantage: alphaVantage,
            alphaVantageOptions: o.alphaVantageOptions, alphaVantageFX: o.alphaVantageFX,
            failover: FailoverPolicy(
                maxReconnectAttempts: o.maxReconnectAttempts, staleness: o.staleness,
                checkInterval: o.checkInterval, failbackStable: o.failbackStable),
            symbols: o.symbols, maxMarketDataLines: o.maxLines, recentreInterval: .milliseconds(300))
        configuration.leases = o.leases
        var logger = Logger(label: "test.\(name)")
        logger.logLevel = .warning
        let offset = o.wallClockOffsetMs
        let worker = try Worker(
            configuration: configuration, logger: logger, metrics: o.metrics, readiness: o.readiness,
            nowMs: o.wallClock ?? { WallClock.nowMs() + offset })
        let group = ServiceGroup(services: [worker], logger: logger)
        let task = Task { try await group.run() }
        let redis = try RedisConnection(url: url)
        return WorkerHarness(ib: ib, ibPort: ports.port, av: av, prefix: prefix, workerID: id, redis: redis, group: group, task: task, configuration: configuration, worker: worker)
    }

    private init(
        ib: IBGatewaySimulator, ibPort: Int, av: AlphaVantageSimulator?, prefix: String, workerID: String,
        redis: RedisConnection, group: ServiceGroup, task: Task<Void, any Error>, configuration: WorkerConfiguration,
        worker: Worker
    ) {
        self.worker = worker
        self.ib = ib
        self.ibPort = ibPort
        self.av = av
        self.prefix = prefix
        self.workerID = workerID
        self.redis = redis
        self.group = group
        self.task = task
        self.configuration = configuration
    }

    /// Graceful shutdown, as on SIGTERM; bounded.
    /// Stops the worker, runs `afterWorker` the moment it has stopped (before the simulators
    /// stop: the last status hash lives only 3 x heartbeat), then stops the simulators.
    func stop(afterWorker: () -> Void = {}) async throws {
        await group.triggerGracefulShutdown()
        let done = try await withTimeout(.seconds(10)) { try await self.task.value }
        #expect(done, "the worker did not stop within 10 s")
        afterWorker()
        await ib.stop()
        if let av { try await av.shutdown() }
    }

    func hash(_ key: String) -> [String: String] {
        (try? redis.command(["HGETALL", "\(prefix):\(key)"]).hash) ?? [:]
    }

    func keys(_ pattern: String) -> [String] {
        let reply = try? redis.command(["KEYS", "\(prefix):\(pattern)"])
        return (reply?.array ?? []).compactMap(\.string).sorted()
    }

    func status() -> [String: String] { hash("worker:\(workerID)") }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
    @discardableResult
    func wait(_ timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// `wait` for conditions that need to await (the simulator's state).
    @discardableResult
    func waitAsync(_ timeout: Duration, _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }

    /// The simulator's subscription of the worker for `symbol`'s stock.
    func stockSubscription(_ symbol: String) async -> SubscriptionInfo? {
        await ib.subscriptions().first { $0.symbol == symbol && $0.secType == "STK" && $0.clientId == 5 }
    }
}

enum HarnessError: Error { case noRedis }

/// Runs `body` with a deadline; false when the deadline passed first.
func withTimeout(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws -> Bool {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: timeout); return false }
        let first = try await group.next() ?? false
        group.cancelAll()
        return first
    }
}
