import MarketModel
import Simulators
import Testing
@testable import AlphaVantage

/// The libcurl client against the in-process simulator over loopback HTTP: every answer the
/// real service gives becomes data or one typed error, never a crash.
@Suite(.serialized) struct ClientIntegrationTests {
    static let key = "SECRET-KEY-123"

    static func withSimulator(
        _ configuration: AlphaVantageSimulator.Configuration = .init(),
        entitlement: AlphaVantageConfiguration.Entitlement = .none,
        totalTimeout: Duration = .seconds(5),
        _ body: (AlphaVantageSimulator, AlphaVantageClient) async throws -> Void
    ) async throws {
        let simulator = try await AlphaVantageSimulator.start(configuration: configuration)
        let client = AlphaVantageClient(configuration: .init(
            baseURL: simulator.baseURL,
            apiKey: APIKey(key),
            entitlement: entitlement,
            http: .init(connectTimeout: .seconds(2), totalTimeout: totalTimeout)
        ))
        do {
            try await body(simulator, client)
        } catch {
            try await simulator.shutdown()
            throw error
        }
        try await simulator.shutdown()
    }

    /// Runs `body` and returns the AlphaVantageError it threw (nil if none or another error).
    static func error<T>(_ body: () async throws -> T) async -> AlphaVantageError? {
        do {
            _ = try await body()
            return nil
        } catch let e as AlphaVantageError {
            return e
        } catch {
            return nil
        }
    }

    @Test func globalQuoteEndOfDayAndCompressionRequested() async throws {
        try await Self.withSimulator { sim, client in
            let q = try await client.globalQuote("IBM")
            #expect(q.symbol == "IBM")
            #expect(q.dataType == .alphavantageEOD)
            let last = try #require(q.last)
            let close = try #require(q.close)
            #expect(last > 0 && close > 0)
            #expect(q.open != nil && q.high != nil && q.low != nil && q.volume != nil)
            #expect(q.change == ((last - close) * 10_000).rounded() / 10_000)
            let stats = sim.stats
            #expect(stats.byFunction == ["GLOBAL_QUOTE": 1])
            #expect(stats.lastQuery["apikey"] == "***")
            #expect(stats.lastQuery["entitlement"] == nil)
            #expect(stats.lastAcceptEncoding?.contains("gzip") == true)
        }
    }

    @Test func deterministicPricesForTheSameSeed() async throws {
        var first: QuoteSnapshot?
        try await Self.withSimulator(.init(seed: 42)) { _, client in first = try await client.globalQuote("MSFT") }
        try await Self.withSimulator(.init(seed: 42)) { _, client in
            let again = try await client.globalQuote("MSFT")
            #expect(again == first)
        }
    }

    @Test func delayedEntitlement() async throws {
        try await Self.withSimulator(entitlement: .delayed) { sim, client in
            let q = try await client.globalQuote("AAPL")
            #expect(q.dataType == .alphavantageDelayed)
            #expect(q.last != nil)
            #expect(sim.stats.lastQuery["entitlement"] == "delayed")
        }
    }

    @Test func bulkQuotesSkipUnknownSymbols() async throws {
        try await Self.withSimulator { sim, client in
            let quotes = try await client.bulkQuotes(["IBM", "INVALID", "aapl"])
            #expect(quotes.map(\.symbol) == ["IBM", "AAPL"])
            #expect(quotes.allSatisfy { $0.lastTradeMs != nil && $0.last != nil && $0.dataType == .alphavantageRealtime })
            #expect(sim.stats.lastQuery["symbol"] == "IBM,INVALID,aapl")
        }
    }

    @Test func optionsChainWithGreeks() async throws {
        try await Self.withSimulator { sim, client in
            let chain = try await client.options("SPY")
            #expect(chain.count == 3 * 21 * 2)
            #expect(Set(chain.map(\.expiry)).count == 3)
            #expect(chain.allSatisfy { $0.symbol == "SPY" && $0.impliedVol != nil && $0.delta != nil && $0.gamma != nil && $0.theta != nil && $0.vega != nil })
            #expect(chain.filter { $0.right == .call }.allSatisfy { ($0.delta ?? -1) >= 0 })
            #expect(chain.filter { $0.right == .put }.allSatisfy { ($0.delta ?? 1) <= 0 })
            #expect(sim.stats.lastQuery["require_greeks"] == "true")
        }
    }

    @Test func throttleNotices() async throws {
        try await Self.withSimulator(.init(mode: .throttle)) { sim, client in
            let first = await Self.error { try await client.globalQuote("IBM") }
            let second = await Self.error { try await client.globalQuote("IBM") }
            #expect(first?.code == "throttled")
            #expect(first?.description.contains("call frequency") == true)  // the Note
            #expect(second?.code == "throttled")
            #expect(second?.description.contains("1 request per second") == true)  // the burst Information
            #expect(sim.stats.throttled == 2)
        }
    }

    @Test func dailyLimitNeverLeaksTheKey() async throws {
        try await Self.withSimulator(.init(mode: .dailyLimit)) { _, client in
            let error = try #require(await Self.error { try await client.globalQuote("IBM") })
            #expect(error.code == "daily_limit")
            #expect(!error.description.contains(Self.key))
            #expect(error.description.contains("API key as *** and"))
        }
    }

    @Test func premiumEndpoints() async throws {
        try await Self.withSimulator(.init(mode: .premium)) { _, client in
            #expect(await Self.error { try await client.bulkQuotes(["IBM"]) }?.code == "premium_only")
            #expect(await Self.error { try await client.options("IBM") }?.code == "premium_only")
            let quote = try await client.globalQuote("IBM")
            #expect(quote.last != nil)
        }
    }

    @Test func errorMessageForOneSymbolOthersFine() async throws {
        try await Self.withSimulator { _, client in
            let bad = await Self.error { try await client.globalQuote("INVALID") }
            #expect(bad == .invalidCall("Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for GLOBAL_QUOTE."))
            let quote = try await client.globalQuote("IBM")
            #expect(quote.symbol == "IBM")
            #expect(await Self.error { try await client.options("INVALID") }?.code == "invalid_call")
        }
    }

    @Test func errorModeForEverything() async throws {
        try await Self.withSimulator(.init(mode: .error)) { _, client in
            #expect(await Self.error { try await client.globalQuote("IBM") }?.code == "invalid_call")
            #expect(await Self.error { try await client.bulkQuotes(["IBM"]) }?.code == "invalid_call")
        }
    }

    @Test func missingKeyIsTheRealErrorMessage() async throws {
        let simulator = try await AlphaVantageSimulator.start()
        let client = AlphaVantageClient(configuration: .init(baseURL: simulator.baseURL, apiKey: APIKey("")))
        let error = await Self.error { try await client.globalQuote("IBM") }
        try await simulator.shutdown()
        guard case .invalidCall(let message) = error else { Issue.record("expected invalidCall, got \(String(describing: error))"); return }
        #expect(message.hasPrefix("the parameter apikey is invalid or missing"))
    }

    @Test func http500() async throws {
        try await Self.withSimulator(.init(mode: .http500)) { _, client in
            #expect(await Self.error { try await client.globalQuote("IBM") } == .http(status: 500))
        }
    }

    @Test func malformedJSON() async throws {
        try await Self.withSimulator(.init(mode: .malformed)) { _, client in
            guard case .malformed(let reason) = await Self.error({ try await client.options("SPY") }) else {
                Issue.record("expected malformed"); return
            }
            #expect(reason.hasPrefix("not valid JSON"))
        }
    }

    @Test func slowAnswerHitsTheTotalTimeoutThenRecovers() async throws {
        try await Self.withSimulator(.init(mode: .slow, delayMilliseconds: 3000), totalTimeout: .milliseconds(300)) { sim, client in
            let start = ContinuousClock.now
            #expect(await Self.error { try await client.globalQuote("IBM") } == .timeout)
            #expect(ContinuousClock.now - start < .seconds(2))
            sim.setMode(.ok)
            let quote = try await client.globalQuote("IBM")
            #expect(quote.symbol == "IBM")
        }
    }

    @Test func modeSwitchesAtRunTime() async throws {
        try await Self.withSimulator { sim, client in
            let before = try await client.globalQuote("IBM")
            #expect(before.last != nil)
            sim.setMode(.throttle)
            #expect(await Self.error { try await client.globalQuote("IBM") }?.code == "throttled")
            sim.setMode(.ok)
            let after = try await client.globalQuote("IBM")
            #expect(after.last != nil)
            #expect(sim.stats.total == 3)
        }
    }

    @Test func refusedConnectionIsTransport() async throws {
        let simulator = try await AlphaVantageSimulator.start()
        let url = simulator.baseURL
        try await simulator.shutdown()
        let client = AlphaVantageClient(configuration: .init(baseURL: url, apiKey: APIKey(Self.key), http: .init(connectTimeout: .seconds(1), totalTimeout: .seconds(2))))
        guard case .transport(let message) = await Self.error({ try await client.globalQuote("IBM") }) else {
            Issue.record("expected transport"); return
        }
        #expect(!message.contains(Self.key))
    }

    @Test func cancellationAbortsTheTransfer() async throws {
        try await Self.withSimulator(.init(mode: .slow, delayMilliseconds: 10_000), totalTimeout: .seconds(30)) { _, client in
            let start = ContinuousClock.now
            let task = Task { try await client.globalQuote("IBM") }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }
}
