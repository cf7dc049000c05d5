import Testing
@testable import AlphaVantage

@Suite struct PollSchedulerTests {
    typealias Scheduler = PollScheduler<TestInstant>

    static func scheduler(rpm: Int = 600, rpd: Int = 0, bulk: Bool = false, options: Bool = false, batch: Int = 100) -> Scheduler {
        Scheduler(
            configuration: .init(bulkQuotes: bulk, options: options, bulkBatchSize: batch, symbolRetryInterval: .seconds(600)),
            limiter: RateLimiter(configuration: .init(requestsPerMinute: rpm, requestsPerDay: rpd, minimumSpacing: .zero))
        )
    }

    /// Runs `count` steps at `now` (advancing to each wait), answering every request with
    /// `outcome`; returns the requests.
    static func run(_ s: inout Scheduler, count: Int, from start: TestInstant = .zero,
                    outcome: (AlphaVantageRequest) -> Scheduler.Outcome = { _ in .success }) -> [AlphaVantageRequest] {
        var now = start
        var out: [AlphaVantageRequest] = []
        while out.count < count {
            switch s.next(at: now) {
            case .run(let r):
                out.append(r)
                s.record(r, outcome(r), at: now)
            case .wait(let until): now = until
            case .idle: return out
            }
        }
        return out
    }

    @Test func idleWithoutSymbols() {
        var s = Self.scheduler()
        #expect(s.next(at: .zero) == .idle)
    }

    @Test func roundRobinGlobalQuotes() {
        var s = Self.scheduler()
        s.setSymbols(quotes: ["AAPL", "MSFT", "IBM", "AAPL"])
        #expect(Self.run(&s, count: 7) == ["AAPL", "MSFT", "IBM", "AAPL", "MSFT", "IBM", "AAPL"].map(AlphaVantageRequest.globalQuote))
    }

    @Test func budgetSpreadsRefreshesEvenly() {
        // 5 a minute over 3 symbols: in 10 minutes, 50 calls, each symbol 16 or 17 times.
        var s = Self.scheduler(rpm: 5)
        s.setSymbols(quotes: ["A", "B", "C"])
        var now = TestInstant.zero
        var counts: [String: Int] = [:]
        while now < .seconds(600) {
            switch s.next(at: now) {
            case .run(let r):
                counts[r.symbols[0], default: 0] += 1
                s.record(r, .success, at: now)
            case .wait(let until): now = until
            case .idle: Issue.record("idle"); return
            }
        }
        #expect(counts.values.reduce(0, +) == 50)
        #expect(counts.values.allSatisfy { (16...17).contains($0) })
    }

    @Test func bulkBatchesOfAtMostTheBatchSize() {
        var s = Self.scheduler(bulk: true, batch: 2)
        s.setSymbols(quotes: ["A", "B", "C", "D", "E"])
        #expect(Self.run(&s, count: 4) == [.bulkQuotes(["A", "B"]), .bulkQuotes(["C", "D"]), .bulkQuotes(["E", "A"]), .bulkQuotes(["B", "C"])])
    }

    @Test func bulkDefaultBatchIs100() {
        var s = Self.scheduler(bulk: true)
        s.setSymbols(quotes: (0..<250).map { "S\($0)" })
        let requests = Self.run(&s, count: 3)
        #expect(requests.map(\.symbols.count) == [100, 100, 100])
        #expect(requests[2].symbols.first == "S200")
        #expect(requests[2].symbols.last == "S49")
    }

    @Test func optionsAfterEachQuoteRound() {
        var s = Self.scheduler(options: true)
        s.setSymbols(quotes: ["A", "B"], options: ["SPY", "QQQ"])
        #expect(Self.run(&s, count: 8) == [
            .globalQuote("A"), .globalQuote("B"), .options("SPY"),
            .globalQuote("A"), .globalQuote("B"), .options("QQQ"),
            .globalQuote("A"), .globalQuote("B"),
        ])
    }

    @Test func throttledRequestIsRetriedFirstAfterBackoff() {
        var s = Self.scheduler(rpm: 600)
        s.setSymbols(quotes: ["A", "B", "C"])
        guard case .run(let first) = s.next(at: .zero) else { Issue.record("no run"); return }
        #expect(first == .globalQuote("A"))
        s.record(first, .failure(.throttled("slow down")), at: .seconds(1))
        #expect(s.next(at: .seconds(2)) == .wait(until: .seconds(61)))
        #expect(s.next(at: .seconds(61)) == .run(.globalQuote("A")))
        s.record(.globalQuote("A"), .success, at: .seconds(61))
        #expect(s.next(at: .seconds(61)) == .run(.globalQuote("B")))
    }

    @Test func dailyLimitWaitsAnHourAndRetries() {
        var s = Self.scheduler()
        s.setSymbols(quotes: ["A"])
        #expect(s.next(at: .zero) == .run(.globalQuote("A")))
        s.record(.globalQuote("A"), .failure(.dailyLimit("cap")), at: .zero)
        #expect(s.next(at: .seconds(5)) == .wait(until: .seconds(3600)))
        #expect(s.next(at: .seconds(3600)) == .run(.globalQuote("A")))
    }

    @Test func premiumBulkFallsBackToGlobalQuotes() {
        var s = Self.scheduler(bulk: true)
        s.setSymbols(quotes: ["A", "B"])
        let requests = Self.run(&s, count: 5) { r in
            if case .bulkQuotes = r { return .failure(.premiumOnly("premium")) }
            return .success
        }
        #expect(requests == [.bulkQuotes(["A", "B"]), .globalQuote("A"), .globalQuote("B"), .globalQuote("A"), .globalQuote("B")])
        #expect(!s.bulkEnabled)
    }

    @Test func premiumOptionsStopOptions() {
        var s = Self.scheduler(options: true)
        s.setSymbols(quotes: ["A"], options: ["SPY"])
        let requests = Self.run(&s, count: 5) { r in
            if case .options = r { return .failure(.premiumOnly("premium")) }
            return .success
        }
        #expect(requests == [.globalQuote("A"), .options("SPY"), .globalQuote("A"), .globalQuote("A"), .globalQuote("A")])
        #expect(!s.optionsEnabled)
    }

    @Test func invalidSymbolIsSuspendedOthersContinue() {
        var s = Self.scheduler()
        s.setSymbols(quotes: ["A", "BAD", "C"])
        let requests = Self.run(&s, count: 6) { r in r.symbols == ["BAD"] ? .failure(.invalidCall("Invalid API call")) : .success }
        #expect(requests == ["A", "BAD", "C", "A", "C", "A"].map(AlphaVantageRequest.globalQuote))
        #expect(s.isSuspended("BAD", at: .zero))
        #expect(!s.isSuspended("BAD", at: .seconds(600)))
        // After the retry interval it is tried again.
        #expect(Self.run(&s, count: 3, from: .seconds(600)) == ["BAD", "C", "A"].map(AlphaVantageRequest.globalQuote))
    }

    @Test func allSuspendedWaitsForTheFirstToReturn() {
        var s = Self.scheduler()
        s.setSymbols(quotes: ["BAD"])
        #expect(s.next(at: .zero) == .run(.globalQuote("BAD")))
        s.record(.globalQuote("BAD"), .failure(.emptyResult), at: .seconds(1))
        #expect(s.next(at: .seconds(2)) == .wait(until: .seconds(601)))
    }

    @Test func invalidBulkCallFallsBackToSingleQuotes() {
        var s = Self.scheduler(bulk: true)
        s.setSymbols(quotes: ["A", "BAD"])
        #expect(s.next(at: .zero) == .run(.bulkQuotes(["A", "BAD"])))
        s.record(.bulkQuotes(["A", "BAD"]), .failure(.invalidCall("Invalid API call")), at: .zero)
        #expect(Self.run(&s, count: 2) == [.globalQuote("A"), .globalQuote("BAD")])
    }

    @Test func symbolsMissingFromBulkAreSuspended() {
        var s = Self.scheduler(bulk: true)
        s.setSymbols(quotes: ["A", "GONE"])
        #expect(s.next(at: .zero) == .run(.bulkQuotes(["A", "GONE"])))
        s.record(.bulkQuotes(["A", "GONE"]), .success(missing: ["GONE"]), at: .zero)
        #expect(s.isSuspended("GONE", at: .seconds(1)))
        #expect(s.next(at: .seconds(1)) == .run(.bulkQuotes(["A"])))
    }

    @Test func transientFailureBacksOffWithoutRetryingTheSameCall() {
        var s = Self.scheduler()
        s.setSymbols(quotes: ["A", "B"])
        #expect(s.next(at: .zero) == .run(.globalQuote("A")))
        s.record(.globalQuote("A"), .failure(.http(status: 500)), at: .zero)
        #expect(s.next(at: .seconds(1)) == .wait(until: .seconds(2)))
        #expect(s.next(at: .seconds(2)) == .run(.globalQuote("B")))
    }

    @Test func changingSymbolsDropsStaleRetries() {
        var s = Self.scheduler()
        s.setSymbols(quotes: ["A", "B"])
        #expect(s.next(at: .zero) == .run(.globalQuote("A")))
        s.record(.globalQuote("A"), .failure(.throttled("x")), at: .zero)
        s.setSymbols(quotes: ["B"])
        #expect(s.next(at: .seconds(60)) == .run(.globalQuote("B")))
    }

    @Test func neverExceedsTheBudgetUnderThrottling() {
        var s = Self.scheduler(rpm: 5, rpd: 25)
        s.setSymbols(quotes: ["A", "B", "C", "D", "E", "F"])
        var now = TestInstant.zero
        var starts: [TestInstant] = []
        var i = 0
        while now < .seconds(86_400) {
            switch s.next(at: now) {
            case .run(let r):
                starts.append(now)
                i += 1
                s.record(r, i % 4 == 0 ? .failure(.throttled("t")) : .success, at: now)
            case .wait(let until): now = until
            case .idle: return
            }
        }
        #expect(starts.count == 25)
        #expect(RateLimiterTests.maxInWindow(starts, .seconds(60)) <= 5)
    }
}
