import MarketModel
import Simulators
import Testing
@testable import AlphaVantage

/// Collects poller events across tasks.
actor EventLog {
    private(set) var events: [AlphaVantagePollEvent] = []
    func append(_ e: AlphaVantagePollEvent) { events.append(e) }

    var quotedSymbols: Set<String> {
        Set(events.flatMap { e -> [String] in if case .quotes(let q) = e { return q.map(\.symbol) } else { return [] } })
    }

    var failures: [(AlphaVantageRequest, AlphaVantageError)] {
        events.compactMap { e in if case .failure(let r, let err) = e { return (r, err) } else { return nil } }
    }
}

/// The poll loop against the simulator: budgets, back-off and per-symbol errors end to end.
@Suite(.serialized) struct PollerIntegrationTests {
    static func poller(
        _ sim: AlphaVantageSimulator, rpm: Int, bulk: Bool = false, options: Bool = false, throttleBackoff: Duration = .seconds(60),
        totalTimeout: Duration = .seconds(2)
    ) -> AlphaVantagePoller<ContinuousClock> {
        let client = AlphaVantageClient(configuration: .init(baseURL: sim.baseURL, apiKey: APIKey("POLLERTESTKEY42"), http: .init(totalTimeout: totalTimeout)))
        let limiter = RateLimiter<ContinuousClock.Instant>(configuration: .init(
            requestsPerMinute: rpm, requestsPerDay: 0, minimumSpacing: .zero,
            throttleBackoff: throttleBackoff, maxThrottleBackoff: throttleBackoff * 8, transientBackoff: .milliseconds(50)
        ))
        let scheduler = PollScheduler(configuration: .init(bulkQuotes: bulk, options: options), limiter: limiter)
        return AlphaVantagePoller(client: client, scheduler: scheduler, clock: ContinuousClock(), idleCheck: .milliseconds(20))
    }

    /// Polls until `done` holds or `limit` passes; returns whether `done` held.
    static func poll(until limit: Duration, _ poller: AlphaVantagePoller<ContinuousClock>, log: EventLog, done: @escaping @Sendable () async -> Bool) async -> Bool {
        let task = Task { await poller.run { await log.append($0) } }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await done() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await done()
    }

    @Test func oneBadSymbolIsReportedOthersArePublished() async throws {
        let sim = try await AlphaVantageSimulator.start()
        let poller = Self.poller(sim, rpm: 600)
        await poller.setSymbols(quotes: ["IBM", "INVALID", "MSFT"])
        let log = EventLog()
        let ok = await Self.poll(until: .seconds(30), poller, log: log) {
            let quoted = await log.quotedSymbols
            let failures = await log.failures
            return quoted.isSuperset(of: ["IBM", "MSFT"]) && !failures.isEmpty
        }
        try await sim.shutdown()
        #expect(ok)
        let failures = await log.failures
        #expect(failures.allSatisfy { $0.0 == .globalQuote("INVALID") && $0.1.code == "invalid_call" })
        #expect(await !log.quotedSymbols.contains("INVALID"))
        #expect(await poller.state.isSuspended("INVALID", at: .now))
    }

    @Test func bulkAndOptionsFlowAsEvents() async throws {
        let sim = try await AlphaVantageSimulator.start()
        let poller = Self.poller(sim, rpm: 600, bulk: true, options: true)
        await poller.setSymbols(quotes: ["IBM", "AAPL"], options: ["SPY"])
        let log = EventLog()
        let ok = await Self.poll(until: .seconds(30), poller, log: log) {
            let events = await log.events
            let quoted = await log.quotedSymbols
            return quoted == ["IBM", "AAPL"]
                && events.contains { if case .options(let s, let chain) = $0 { s == "SPY" && !chain.isEmpty } else { false } }
        }
        let functions = sim.stats.byFunction
        try await sim.shutdown()
        #expect(ok)
        #expect(functions["GLOBAL_QUOTE"] == nil)
        #expect((functions["REALTIME_BULK_QUOTES"] ?? 0) >= 1)
    }

    @Test func throttleBacksOffWithinBudgetThenRecovers() async throws {
        let sim = try await AlphaVantageSimulator.start(configuration: .init(mode: .throttle))
        let poller = Self.poller(sim, rpm: 600, throttleBackoff: .milliseconds(300))
        await poller.setSymbols(quotes: ["IBM"])
        let log = EventLog()
        let task = Task { await poller.run { await log.append($0) } }
        try await Task.sleep(for: .milliseconds(1000))
        // Back-offs of 300, 600 ms: requests near 0, 0.3, 0.9 s; without back-off there would be hundreds.
        let throttledRequests = sim.stats.total
        #expect((1...4).contains(throttledRequests))
        #expect(await log.failures.allSatisfy { $0.1.code == "throttled" })
        sim.setMode(.ok)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, await log.quotedSymbols.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        _ = await task.value
        try await sim.shutdown()
        #expect(await log.quotedSymbols == ["IBM"])
    }

    @Test func simulatedPerMinuteLimitIsNeverHit() async throws {
        // The simulator throttles beyond 3 a minute, the poller's budget is 3 a minute.
        let sim = try await AlphaVantageSimulator.start(configuration: .init(requestsPerMinute: 3))
        let poller = Self.poller(sim, rpm: 3)
        await poller.setSymbols(quotes: ["A", "B", "C", "D"])
        let log = EventLog()
        _ = await Self.poll(until: .seconds(2), poller, log: log) { false }
        let stats = sim.stats
        try await sim.shutdown()
        #expect(stats.total == 3)
        #expect(stats.throttled == 0)
        #expect(stats.maxRequests(inAnyWindowOf: 60) == 3)
        #expect(await log.quotedSymbols == ["A", "B", "C"])
    }

    @Test func cancellationEndsRun() async throws {
        let sim = try await AlphaVantageSimulator.start(configuration: .init(mode: .slow, delayMilliseconds: 10_000))
        let poller = Self.poller(sim, rpm: 600, totalTimeout: .seconds(30))
        await poller.setSymbols(quotes: ["IBM"])
        let task = Task { await poller.run { _ in } }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        task.cancel()
        _ = await task.value
        // libcurl polls the abort flag about once a second while waiting for data.
        #expect(ContinuousClock.now - start < .seconds(5))
        try await sim.shutdown()
    }
}
