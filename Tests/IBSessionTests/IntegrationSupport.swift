import Essentials
import Foundation
import IBSession
import Logging
import Simulators
import Synchronization
import Testing
import TWSProtocol

/// Collects a session's events with the time each arrived, and waits (bounded, polling) for
/// conditions over them.
actor EventLog {
    private(set) var entries: [(at: ContinuousClock.Instant, event: SessionEvent)] = []

    func append(_ event: SessionEvent) {
        entries.append((.now, event))
    }

    var events: [SessionEvent] { entries.map(\.event) }
    var count: Int { entries.count }

    /// Ticks per subscription among the events from index `from` on.
    func tickCounts(from: Int = 0) -> [SubscriptionID: Int] {
        var counts: [SubscriptionID: Int] = [:]
        for entry in entries[min(from, entries.count)...] {
            if case .marketData(let batch) = entry.event {
                for tick in batch { counts[tick.subscription, default: 0] += 1 }
            }
        }
        return counts
    }
}

/// A simulator plus a running session against it, torn down in order.
final class Harness: Sendable {
    let sim: IBGatewaySimulator
    let session: GatewaySession
    let log = EventLog()
    let port: Int
    private let tasks: Mutex<[Task<Void, Never>]> = Mutex([])

    static let logger: Logger = {
        var logger = Logger(label: "ib-session-test") { label in
            ProcessInfo.processInfo.environment["QR_TEST_LOG"] != nil ? StreamLogHandler.standardError(label: label) as any LogHandler : SwiftLogNoOpLogHandler()
        }
        logger.logLevel = .debug
        return logger
    }()

    /// Short timings: heartbeat 300 ms, connect timeout 1 s, backoff 50..400 ms.
    static func testConfiguration(port: Int, clientId: Int32 = 17, pool: [Int32] = []) -> GatewayConfiguration {
        GatewayConfiguration(
            port: port, clientId: clientId, clientIdPool: pool,
            connectTimeout: .seconds(1), heartbeatInterval: .milliseconds(300),
            reconnect: BackoffPolicy(initial: .milliseconds(50), max: .milliseconds(400), multiplier: 2),
            healthyResetAfter: .seconds(1), connectivityLostGrace: .seconds(3),
            competingSessionRetry: .milliseconds(300)
        )
    }

    init(
        simulator: IBGatewaySimulator.Configuration = .init(), initialCommands: [String] = [],
        configure: (inout GatewayConfiguration) -> Void = { _ in }, randomSeed: UInt64? = nil
    ) async throws {
        var simConfig = simulator
        simConfig.ticksPerSecond = max(simConfig.ticksPerSecond, 200)
        simConfig.initialCommands += initialCommands
        sim = IBGatewaySimulator(configuration: simConfig)
        port = try await sim.start().port
        var config = Self.testConfiguration(port: port)
        configure(&config)
        session = GatewaySession(configuration: config, logger: Self.logger, randomSeed: randomSeed)
        let session = self.session
        let log = self.log
        let consumer = Task {
            for await event in session.events { await log.append(event) }
        }
        let runner = Task {
            _ = try? await session.run()
        }
        tasks.withLock { $0 = [consumer, runner] }
    }

    /// Cancels `run()` and waits for it and the event consumer to end.
    func stopSession() async {
        let tasks = self.tasks.withLock { $0 }
        tasks[1].cancel()
        _ = await tasks[1].value
        _ = await tasks[0].value
    }

    /// Stops the session (cancel -> clean close), then the simulator.
    func stop() async {
        await stopSession()
        await sim.stop()
    }

    /// Polls `condition` every 10 ms for at most `timeout`; true when it held.
    @discardableResult
    func wait(_ timeout: Duration = .seconds(10), _ condition: @Sendable (Harness) async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await condition(self)
    }

    func connectedCount() async -> Int {
        await log.events.count { if case .connected = $0 { true } else { false } }
    }

    func errorCodes() async -> [Int32] {
        await log.events.compactMap { if case .ibError(let code, _, _, _) = $0 { code } else { nil } }
    }

    func states() async -> [SessionState] {
        await log.events.compactMap { if case .state(_, let to, _) = $0 { to } else { nil } }
    }

    /// Waits until every id has at least one tick among the events from `from` on.
    func ticksFlow(for ids: [SubscriptionID], from: Int, timeout: Duration = .seconds(10)) async -> Bool {
        await wait(timeout) { h in
            let counts = await h.log.tickCounts(from: from)
            return ids.allSatisfy { (counts[$0] ?? 0) > 0 }
        }
    }
}

/// Runs `body` with a fresh harness and always stops it.
func withHarness(
    simulator: IBGatewaySimulator.Configuration = .init(), initialCommands: [String] = [],
    configure: (inout GatewayConfiguration) -> Void = { _ in }, randomSeed: UInt64? = nil,
    _ body: (Harness) async throws -> Void
) async throws {
    let harness = try await Harness(simulator: simulator, initialCommands: initialCommands, configure: configure, randomSeed: randomSeed)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}

let stockSymbols = ["AAPL", "MSFT", "SPY", "QQQ", "NVDA", "AMZN", "TSLA", "IWM"]

func percentile(_ values: [Duration], _ p: Double) -> Duration {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
}

func ms(_ d: Duration) -> String {
    String(format: "%.1f ms", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
}
