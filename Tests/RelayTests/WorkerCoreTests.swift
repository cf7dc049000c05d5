import AlphaVantage
@testable import Failover
import IBSession
import MarketData
import MarketModel
import RedisPublisher
import Testing

@testable import Relay

/// Drives `WorkerCore` on a fake timeline: no servers, no sleeps; every instant is explicit.
struct CoreHarness {
    static let policy = FailoverPolicy(
        maxReconnectAttempts: 2, staleness: .seconds(10), checkInterval: .seconds(1), failbackStable: .seconds(5),
        probeTimeout: .seconds(2))

    var core: WorkerCore
    /// Wall clock, epoch ms (2026-11-30 12:00 UTC).
    var wallMs: Int64 = 1_796_040_000_000
    /// Monotonic ms.
    var monoMs: Int64 = 1_000
    var session: SessionState = .connected
    /// Every action so far, in order.
    var log: [WorkerCore.Action] = []

    init(
        symbols: [String] = ["AAPL", "SPY"], alphaVantage: Bool = true, fallbackProblems: [String: String] = [:],
        active: Bool = true, policy: FailoverPolicy = CoreHarness.policy
    ) {
        let settings = WorkerCore.Settings(
            workerID: "w1", policy: policy, stalenessMs: policy.stalenessMs, hasAlphaVantage: alphaVantage)
        core = WorkerCore(settings: settings, served: symbols, fallbackProblems: fallbackProblems, active: active, monoMs: monoMs)
    }

    var now: WorkerCore.Now { WorkerCore.Now(wallMs: wallMs, monoMs: monoMs, session: session) }

    @discardableResult
    mutating func send(_ event: WorkerCore.Event) -> [WorkerCore.Action] {
        let actions = core.handle(event, now: now)
        log += actions
        return actions
    }

    /// The session comes up (state event, then NEXT_VALID_ID).
    mutating func connect() {
        session = .connected
        send(.sessionStateChanged(from: .handshaking, to: .connected, reason: "handshake done", reconnectAttempts: 0))
        send(.sessionConnected(serverVersion: 187, clientId: 7))
    }

    /// Time passes on both clocks.
    mutating func advance(ms: Int64) {
        wallMs += ms
        monoMs += ms
    }

    /// One periodic check a second later: `each` runs first (e.g. to deliver data).
    @discardableResult
    mutating func secondLater(lines: [WorkerCore.QuietLine] = [], each: (inout CoreHarness) -> Void = { _ in }) -> [WorkerCore.Action] {
        advance(ms: 1000)
        each(&self)
        return send(.tick(lines: lines))
    }

    /// Connection attempts fail until the engine fails everything over.
    mutating func failEverythingOver() {
        session = .backoff
        send(.sessionStateChanged(from: .connected, to: .backoff, reason: "connection refused", reconnectAttempts: 1))
        send(.sessionStateChanged(from: .connecting, to: .backoff, reason: "connection refused", reconnectAttempts: 2))
    }
}

extension WorkerCore.Action {
    var transition: (from: String, to: String)? {
        guard case .publishEvent(let json) = self, json.contains("\"type\":\"state\"") else { return nil }
        func field(_ name: String) -> String {
            guard let r = json.range(of: "\"\(name)\":\"") else { return "" }
            return String(json[r.upperBound...].prefix { $0 != "\"" })
        }
        return (field("from"), field("to"))
    }

    var event: String? {
        if case .publishEvent(let json) = self { return json }
        return nil
    }

    var logMessage: String? {
        if case .log(let line) = self { return line.message }
        return nil
    }
}

extension Array where Element == WorkerCore.Action {
    var events: [String] { compactMap(\.event) }
    var states: [String] { compactMap { $0.transition?.to } }
    var probes: [String] { compactMap { if case .probe(let s) = $0 { s } else { nil } } }
    var keepAlives: [SubscriptionID] { compactMap { if case .keepAlive(let id) = $0 { id } else { nil } } }
    func events(ofType type: String) -> [String] { events.filter { $0.contains("\"type\":\"\(type)\"") } }
}

@Suite("Worker core: state")
struct WorkerCoreStateTests {
    @Test func theStateNamesAreTheContractsAndTheMetricsOnes() {
        #expect(WorkerState.allCases.map(\.rawValue) == ["starting", "connecting", "connected", "degraded", "failover", "stopping", "stopped"])
        #expect(WorkerState.allCases.map(\.rawValue) == RelayMetrics.workerStates)
    }

    @Test func startingThenConnectingThenConnected() {
        var h = CoreHarness()
        #expect(h.core.state == .starting)
        h.session = .connecting
        let started = h.send(.started(gateway: "127.0.0.1:4002"))
        // One change: the gauge, the log line, the `state` event and a status write, in that order.
        #expect(started.count == 4)
        #expect(started.first == .metric(.workerState(.connecting)))
        #expect(started[1] == .log(WorkerCore.LogLine(level: .notice, message: "worker starting -> connecting", metadata: [
            "reason": "connecting to IB Gateway at 127.0.0.1:4002",
        ])))
        #expect(started.states == ["connecting"])
        #expect(started[2].event?.contains("\"worker\":\"w1\"") == true)
        #expect(started[2].event?.contains("\"ts_ms\":\(h.wallMs)") == true)
        #expect(started.last == .writeStatus)
        h.connect()
        #expect(h.core.state == .connected)
        #expect(h.log.states == ["connecting", "connected"])
        // Refreshing without a change says nothing.
        #expect(h.send(.refresh(reason: "nothing new")).isEmpty)
    }

    @Test func aSessionThatDropsIsConnectingAgainAndADegradedOneIsDegraded() {
        var h = CoreHarness()
        h.connect()
        h.session = .backoff
        let down = h.send(.sessionStateChanged(from: .connected, to: .backoff, reason: "socket closed", reconnectAttempts: 1))
        #expect(down.states == ["connecting"])
        h.connect()
        h.session = .degraded(.connectivityLost)
        #expect(h.send(.refresh(reason: "1100")).states == ["degraded"])
    }

    @Test func beforeTheFirstConnectionTheStateStaysStartingUntilRunBegins() {
        var h = CoreHarness()
        h.session = .connecting
        #expect(h.send(.refresh(reason: "periodic check")).isEmpty)
        #expect(h.core.state == .starting)
    }

    @Test func redisRefusingWritesDegradesAndRecovers() {
        var h = CoreHarness()
        h.connect()
        let refusal = WriteRefusal(errorClass: "READONLY", message: "You can't write against a read only replica.")
        let refused = h.send(.publisherRefusal(refusal))
        #expect(refused.states == ["degraded"])
        #expect(refused.events(ofType: "state").first?.contains("Redis refuses writes (READONLY)") == true)
        #expect(h.send(.publisherRefusal(refusal)).isEmpty, "the same refusal again changes nothing")
        #expect(h.send(.publisherRefusal(nil)).states == ["connected"])
    }

    @Test func stoppingIsFinalWhateverElseHappens() {
        var h = CoreHarness()
        h.connect()
        #expect(h.send(.stopRequested).states == ["stopping"])
        h.failEverythingOver()
        #expect(h.core.state == .stopping)
        #expect(h.send(.stopped).states == ["stopped"])
        #expect(h.send(.refresh(reason: "late")).isEmpty)
    }
}

@Suite("Worker core: failover and failback")
struct WorkerCoreFailoverTests {
    @Test func failedConnectionsFailEverySymbolOverToAlphaVantage() {
        var h = CoreHarness()
        h.connect()
        let failAt = h.monoMs
        h.failEverythingOver()
        #expect(h.core.failedOver == ["AAPL", "SPY"])
        #expect(h.core.failoverSinceMs == ["AAPL": failAt, "SPY": failAt])
        #expect(h.core.state == .failover)
        #expect(h.core.source == "alphavantage")
        let failover = h.log.events(ofType: "failover")
        #expect(failover.count == 1)
        #expect(failover.first?.contains("\"symbols\":[\"AAPL\",\"SPY\"]") == true)
        #expect(h.log.contains(.metric(.failovers(2))))
        #expect(h.log.contains(.updatePoller))
        // The order a reader sees: the failover event before the state change it causes.
        let eventAt = h.log.firstIndex { $0.event?.contains("\"type\":\"failover\"") == true } ?? -1
        let stateAt = h.log.firstIndex { $0.transition?.to == "failover" } ?? -1
        #expect(eventAt >= 0 && eventAt < stateAt)
    }

    @Test func withoutAnAlphaVantageKeyNothingFailsOverAndTheStateIsDegraded() {
        var h = CoreHarness(alphaVantage: false)
        h.connect()
        h.failEverythingOver()
        #expect(h.core.failedOver.isEmpty)
        #expect(h.core.unservable == ["AAPL", "SPY"])
        #expect(h.core.noFallback["AAPL"] == "no Alpha Vantage key configured")
        #expect(h.core.state == .degraded)
        #expect(h.log.events(ofType: "failover").isEmpty)
        #expect(h.log.compactMap(\.logMessage).contains { $0.hasPrefix("IB cannot deliver and there is no fallback") })
    }

    @Test func onlyTheSameInstrumentAtAlphaVantageStandsIn() {
        var h = CoreHarness(symbols: ["AAPL", "ES.202612"], fallbackProblems: ["ES.202612": "a future has no GLOBAL_QUOTE"])
        h.connect()
        h.failEverythingOver()
        #expect(h.core.failedOver == ["AAPL"])
        #expect(h.core.unservable == ["ES.202612"])
        #expect(h.core.noFallback == ["ES.202612": "a future has no GLOBAL_QUOTE"])
        #expect(h.core.state == .failover, "failover outranks degraded")
    }

    @Test func ibDeliveringStablyFailsBackAndWritesWhatIBDeliveredSince() {
        var h = CoreHarness()
        h.connect()
        let failAt = h.monoMs
        h.failEverythingOver()
        h.connect()
        var failback: [WorkerCore.Action] = []
        for _ in 0..<30 where failback.isEmpty {
            let actions = h.secondLater { $0.send(.dataConfirmed(symbols: ["AAPL", "SPY"])) }
            if !actions.events(ofType: "failback").isEmpty { failback = actions }
        }
        #expect(!failback.isEmpty, "IB delivering for the stable period fails back")
        #expect(h.core.failedOver.isEmpty)
        #expect(h.core.failoverSinceMs.isEmpty)
        #expect(h.core.state == .connected)
        #expect(h.log.contains(.metric(.failbacks(2))))
        // The lines are written (or scheduled for a keep-alive) before the event says so.
        let writes = h.log.indices.filter { if case .writeIBLines = h.log[$0] { true } else { false } }
        #expect(h.log.filter { if case .writeIBLines(_, let since) = $0 { since == failAt } else { false } }.count == 2)
        let eventAt = h.log.firstIndex { $0.event?.contains("\"type\":\"failback\"") == true } ?? -1
        #expect(writes.allSatisfy { $0 < eventAt })
    }

    @Test func aQuietSymbolWhoseProbeAnswersDoesNotFailOver() {
        // Was an integration test sleeping 4 s: a stale quote is probed, and an answered probe
        // keeps the symbol on IB.
        var h = CoreHarness()
        h.connect()
        let stale = StalenessChange(newlyStale: ["quote:AAPL"], newlyFresh: [], expired: [], staleCount: 1, redisTimeMs: h.wallMs)
        var probed: [String] = []
        for second in 0..<40 {
            let actions = h.secondLater { h in
                if second == 12 { h.send(.stalenessAnswered(stale)) }
                h.send(.dataConfirmed(symbols: ["SPY"]))
            }
            probed += actions.probes
            for symbol in actions.probes { h.send(.probeAnswered(symbol: symbol)) }
        }
        #expect(probed.contains("AAPL"), "a quiet symbol is probed")
        #expect(!probed.contains("SPY"), "a symbol with ticks is not")
        #expect(h.core.failedOver.isEmpty)
        #expect(h.core.state == .connected)
    }

    @Test func aQuietSymbolWhoseProbeFailsFailsOver() {
        var h = CoreHarness()
        h.connect()
        for _ in 0..<40 where h.core.failedOver.isEmpty {
            let actions = h.secondLater { $0.send(.dataConfirmed(symbols: ["SPY"])) }
            for symbol in actions.probes { h.send(.probeFailed(symbol: symbol, reason: "the snapshot came back without values")) }
        }
        #expect(h.core.failedOver == ["AAPL"])
        #expect(h.core.state == .failover)
    }

    @Test func aStandbyDecidesNothingAndAFreshTermStartsClean() {
        var h = CoreHarness(active: false)
        h.connect()
        h.failEverythingOver()
        #expect(h.core.failedOver.isEmpty, "a standby serves nothing, so it fails nothing over")
        #expect(h.log.events(ofType: "failover").isEmpty)
        h.connect()
        h.send(.roleChanged(active: true, served: ["AAPL", "SPY"]))
        h.failEverythingOver()
        #expect(h.core.failedOver == ["AAPL", "SPY"])
        let standby = h.send(.roleChanged(active: false, served: ["AAPL", "SPY"]))
        #expect(standby == [.updatePoller], "the poller is emptied")
        #expect(h.core.failedOver.isEmpty && h.core.failoverSinceMs.isEmpty && h.core.unservable.isEmpty)
        #expect(h.core.lastPublishMs == nil)
    }

    @Test func aReleasedInstrumentLeavesTheFailoverSet() {
        var h = CoreHarness(symbols: ["AAPL", "MSFT"])
        h.connect()
        h.failEverythingOver()
        #expect(h.send(.released(symbol: "MSFT", served: ["AAPL"])) == [.updatePoller])
        #expect(h.core.failedOver == ["AAPL"])
        #expect(h.core.engine.symbols == ["AAPL"])
        #expect(h.send(.released(symbol: "NVDA", served: ["AAPL"])).isEmpty)
    }
}

@Suite("Worker core: IB errors, staleness, market hours")
struct WorkerCoreSignalsTests {
    @Test func everyIBErrorIsAnEventWithItsClass() {
        var h = CoreHarness()
        h.connect()
        let actions = h.send(.ibError(code: 354, message: "Requested market data is not subscribed.", reqId: 5, symbol: "AAPL"))
        #expect(actions.count == 1)
        let json = actions.first?.event ?? ""
        #expect(json.contains("\"type\":\"ib_error\""))
        #expect(json.contains("\"code\":354"))
        #expect(json.contains("\"symbol\":\"AAPL\""))
        #expect(json.contains("\"severity\":\"request_fatal\""))
    }

    @Test func connectivityLostReachesTheEngineAndTheState() {
        var h = CoreHarness()
        h.connect()
        h.session = .degraded(.connectivityLost)
        let actions = h.send(.ibError(code: 1100, message: "Connectivity between IB and TWS has been lost.", reqId: -1, symbol: nil))
        #expect(actions.first?.event?.contains("\"severity\":\"connection\"") == true)
        #expect(actions.states == ["degraded"])
        #expect(h.core.engine.session.connectivityLost != nil)
        h.session = .connected
        #expect(h.send(.ibError(code: 1102, message: "Connectivity restored, data maintained.", reqId: -1, symbol: nil)).states == ["connected"])
        #expect(h.core.engine.session.connectivityLost == nil)
    }

    @Test func onlyMarketDataFarmsCount() {
        var h = CoreHarness()
        h.connect()
        h.send(.ibError(code: 2105, message: "HMDS data farm connection is broken:ushmds", reqId: -1, symbol: nil))
        #expect(h.core.engine.session.farmsDown.isEmpty)
        h.send(.ibError(code: 2103, message: "Market data farm connection is broken:usfarm", reqId: -1, symbol: nil))
        #expect(h.core.engine.session.farmsDown == ["usfarm"])
        h.send(.ibError(code: 2104, message: "Market data farm connection is OK:usfarm", reqId: -1, symbol: nil))
        #expect(h.core.engine.session.farmsDown.isEmpty)
    }

    @Test func aCompetingSessionOnOneLineFailsOverThatSymbolOnly() {
        // Was a 3 s sleep in DataTruthTests: 10197 on MSFT's line refuses MSFT only.
        var h = CoreHarness(symbols: ["AAPL", "MSFT"])
        h.connect()
        let refused = h.send(.ibError(code: 10197, message: "No market data during competing live session", reqId: 3, symbol: "MSFT"))
        #expect(refused.events(ofType: "failover").first?.contains("\"symbols\":[\"MSFT\"]") == true)
        for _ in 0..<30 { h.secondLater { $0.send(.dataConfirmed(symbols: ["AAPL"])) } }
        #expect(h.core.failedOver == ["MSFT"])
        #expect(h.log.events(ofType: "failover").count == 1)
    }

    @Test func aCompetingSessionWithoutARequestRefusesEverySymbol() {
        var h = CoreHarness(symbols: ["AAPL", "MSFT"])
        h.connect()
        h.send(.ibError(code: 10197, message: "No market data during competing live session", reqId: -1, symbol: nil))
        #expect(h.core.failedOver == ["AAPL", "MSFT"])
    }

    @Test func aCompetingSessionOnALineOfNoServedSymbolRefusesNothing() {
        // A 10197 on a probe's snapshot (no line of ours) is the probe's failure, not a refusal.
        var h = CoreHarness(symbols: ["AAPL", "MSFT"])
        h.connect()
        h.send(.ibError(code: 10197, message: "No market data during competing live session", reqId: 99, symbol: nil))
        #expect(h.core.failedOver.isEmpty)
    }

    @Test func anInstrumentIBDoesNotKnowTakesNoPartInFailover() {
        // Was a 5 s sleep in DataTruthTests: once ZZZZ is left out of the served set, nothing
        // about it is decided, however long it stays silent.
        var h = CoreHarness(symbols: ["AAPL", "ZZZZ"])
        h.connect()
        h.send(.servedChanged(served: ["AAPL"], fallbackProblems: [:], fallbacks: [.init(symbol: "AAPL", name: "AAPL")]))
        for _ in 0..<30 {
            let actions = h.secondLater { $0.send(.dataConfirmed(symbols: ["AAPL"])) }
            #expect(actions.probes.isEmpty)
        }
        #expect(h.core.failedOver.isEmpty)
        #expect(h.core.state == .connected)
        #expect(h.core.engine.symbols == ["AAPL"])
    }

    @Test func stalenessAnswersBecomeEventsAndOnlyQuotesMakeASymbolSuspect() {
        var h = CoreHarness()
        h.connect()
        let optionsOnly = StalenessChange(
            newlyStale: ["option:SPY:20261218:450:C"], newlyFresh: [], expired: ["option:SPY:20261218:445:C"], staleCount: 1,
            redisTimeMs: h.wallMs)
        let a = h.send(.stalenessAnswered(optionsOnly))
        #expect(a.first == .metric(.staleKeys(1)))
        #expect(a.events(ofType: "stale").count == 1)
        #expect(a.events(ofType: "expired").first?.contains("\"keys\":[\"option:SPY:20261218:445:C\"]") == true)
        #expect(h.core.engine.health["SPY"]?.staleInRedis == false, "a quiet option does not make its symbol suspect")
        let quote = StalenessChange(newlyStale: ["quote:SPY"], newlyFresh: [], expired: [], staleCount: 2, redisTimeMs: h.wallMs)
        let b = h.send(.stalenessAnswered(quote))
        #expect(b.probes == ["SPY"], "a stale quote is probed at once")
        let fresh = StalenessChange(newlyStale: [], newlyFresh: ["quote:SPY"], expired: [], staleCount: 0, redisTimeMs: h.wallMs)
        let c = h.send(.stalenessAnswered(fresh))
        #expect(c.events(ofType: "fresh").first?.contains("\"keys\":[\"quote:SPY\"]") == true)
        #expect(c.events(ofType: "stale").isEmpty)
    }

    @Test func aFailingStalenessCheckIsLoggedOnceThenEveryThirtieth() {
        var h = CoreHarness()
        var logged: [Int] = []
        for n in 1...61 where !h.send(.stalenessFailed(error: "Redis is not connected")).isEmpty {
            logged.append(n)
        }
        #expect(logged == [1, 30, 60])
        #expect(h.core.stalenessFailures == 61)
        h.send(.stalenessAnswered(StalenessChange(newlyStale: [], newlyFresh: [], expired: [], staleCount: 0, redisTimeMs: 0)))
        #expect(h.core.stalenessFailures == 0)
        #expect(h.send(.stalenessFailed(error: "Redis is not connected")).count == 1, "counted afresh")
    }

    @Test func marketHoursChangesAreLoggedOnceAndToldToTheEngine() {
        var h = CoreHarness()
        h.connect()
        // 2026-11-30 (a Monday) 09:30-16:00 UTC; the harness starts at 12:00 UTC.
        let hours = TradingHours("20261130:0930-20261130:1600;20261201:0930-20261201:1600", timeZoneId: "UTC")
        let first = h.send(.marketHours([(symbol: "AAPL", hours: hours), (symbol: "SPY", hours: .unknown)]))
        #expect(first.compactMap(\.logMessage) == ["market open", "market open"])
        #expect(h.send(.marketHours([(symbol: "AAPL", hours: hours)])).isEmpty, "no change, nothing said")
        h.advance(ms: 5 * 3_600_000)  // 17:00 UTC
        let closed = h.send(.marketHours([(symbol: "AAPL", hours: hours), (symbol: "SPY", hours: .unknown)]))
        #expect(closed.first == .log(WorkerCore.LogLine(level: .info, message: "market closed", metadata: ["symbol": "AAPL"])))
        #expect(closed.compactMap(\.logMessage).filter { $0.hasPrefix("market") } == ["market closed"])
        #expect(closed.probes == ["SPY"], "SPY (hours unknown: open) has been silent for 5 hours; AAPL's market is closed")
        #expect(h.core.marketOpen == ["AAPL": false, "SPY": true])
        #expect(h.core.engine.health["AAPL"]?.marketOpen == false)
    }

    @Test func aClosedMarketIsQuietNotDead() {
        var h = CoreHarness()
        h.connect()
        let hours = TradingHours("20261130:0930-20261130:1000", timeZoneId: "UTC")
        h.send(.marketHours([(symbol: "AAPL", hours: hours), (symbol: "SPY", hours: hours)]))
        for _ in 0..<60 {
            let actions = h.secondLater()
            for symbol in actions.probes { h.send(.probeFailed(symbol: symbol, reason: "no answer")) }
        }
        #expect(h.core.failedOver.isEmpty)
        #expect(h.core.state == .connected)
    }
}

@Suite("Worker core: keep-alive and readiness")
struct WorkerCoreKeepAliveTests {
    static func line(_ n: UInt64, _ symbol: String = "AAPL", confirmedAt: Int64, limit: Int64 = 3000) -> WorkerCore.QuietLine {
        WorkerCore.QuietLine(id: SubscriptionID(rawValue: n), symbol: symbol, lastConfirmedMs: confirmedAt, quietLimitMs: limit)
    }

    @Test func aLineQuietForAThirdOfItsTTLIsConfirmedOnceAtATime() {
        var h = CoreHarness()
        h.connect()
        let t = h.monoMs
        let lines = [Self.line(1, confirmedAt: t), Self.line(2, "SPY", confirmedAt: t - 5000)]
        #expect(h.send(.tick(lines: lines)).keepAlives == [SubscriptionID(rawValue: 2)])
        h.advance(ms: 3000)
        let later = [Self.line(1, confirmedAt: t), Self.line(2, "SPY", confirmedAt: t)]
        #expect(h.send(.tick(lines: later)).keepAlives == [SubscriptionID(rawValue: 1)], "line 2's snapshot is still in flight")
        h.send(.keepAliveEnded(SubscriptionID(rawValue: 2)))
        #expect(h.core.refreshing == [SubscriptionID(rawValue: 1)])
        #expect(h.send(.tick(lines: later)).keepAlives == [SubscriptionID(rawValue: 2)])
    }

    @Test func atMostEightSnapshotsAreInFlight() {
        var h = CoreHarness()
        h.connect()
        let lines = (1...20).map { Self.line(UInt64($0), confirmedAt: -10_000) }
        #expect(h.send(.tick(lines: lines)).keepAlives.count == 8)
        #expect(h.send(.tick(lines: lines)).keepAlives.isEmpty)
        h.send(.keepAliveEnded(SubscriptionID(rawValue: 3)))
        #expect(h.send(.tick(lines: lines)).keepAlives.count == 1)
    }

    @Test func noKeepAliveWhileTheSessionIsDownOrForASymbolOnAlphaVantage() {
        var h = CoreHarness(symbols: ["AAPL"])
        h.connect()
        h.failEverythingOver()
        #expect(h.core.failedOver == ["AAPL"])
        let lines = [Self.line(1, confirmedAt: 0)]
        #expect(h.send(.tick(lines: lines)).keepAlives.isEmpty, "session down")
        h.connect()
        #expect(h.send(.tick(lines: lines)).keepAlives.isEmpty, "AAPL is Alpha Vantage's")
    }

    @Test func dataFlowsWhileSomethingWasWrittenWithinTheStalenessLimit() {
        var h = CoreHarness()
        h.connect()
        #expect(h.send(.tick(lines: [])).contains(.setDataFlowing(false)), "nothing written yet")
        h.core.noteDataWritten(monoMs: h.monoMs)
        h.advance(ms: 9_999)
        #expect(h.send(.tick(lines: [])).contains(.setDataFlowing(true)))
        h.advance(ms: 1)
        #expect(h.send(.tick(lines: [])).contains(.setDataFlowing(false)))
    }

    @Test func theTickReportsEachSymbolsStaleness() {
        var h = CoreHarness()
        h.connect()
        h.send(.dataConfirmed(symbols: ["AAPL"]))
        h.advance(ms: 2500)
        let actions = h.send(.tick(lines: []))
        #expect(actions.contains(.metric(.symbolStaleness(symbol: "AAPL", seconds: 2.5))))
    }
}

@Suite("Worker core: what a line's status means")
struct WorkerCoreLineStatusTests {
    typealias Effect = WorkerCore.LineStatusDecision.Effect

    @Test func aQuoteLineDescribesItsInstrument() {
        #expect(WorkerCore.lineStatus(isQuote: true, .requested) == .init(effect: .clearInstrument))
        let denied = WorkerCore.lineStatus(isQuote: true, .noPermission(code: 354, message: "Requested market data is not subscribed."))
        #expect(denied.effect == .setProblem)
        #expect(denied.problem == "no market data permission (354): Requested market data is not subscribed.")
        let delayed = WorkerCore.lineStatus(isQuote: true, .delayed(message: "Displaying delayed market data."))
        #expect(delayed.effect == .setWarning, "a warning leaves the line (and any earlier problem) as it is")
        #expect(delayed.warning == "delayed data instead of live (10167): Displaying delayed market data.")
        #expect(WorkerCore.lineStatus(isQuote: true, .tooManyLines(message: "Max number of tickers has been reached")).problem
            == "market data lines exhausted (101): Max number of tickers has been reached")
        #expect(WorkerCore.lineStatus(isQuote: true, .competingSession(message: "x")).effect == .setProblem)
    }

    @Test func anOptionLineIBWillNeverServeIsDroppedForGood() {
        #expect(WorkerCore.lineStatus(isQuote: false, .invalidContract(code: 200, message: "No security definition")).effect
            == .dropOption(remember: true))
        #expect(WorkerCore.lineStatus(isQuote: false, .noPermission(code: 354, message: "no")).effect == .dropOption(remember: true))
        // Lines exhausted or a failed request: freed, asked for again at the next re-centring.
        #expect(WorkerCore.lineStatus(isQuote: false, .tooManyLines(message: "x")).effect == .dropOption(remember: false))
        #expect(WorkerCore.lineStatus(isQuote: false, .failed(code: 322, message: "x")).effect == .dropOption(remember: false))
        #expect(WorkerCore.lineStatus(isQuote: false, .warning(code: 10090, message: "part")).effect == .keep)
        #expect(WorkerCore.lineStatus(isQuote: false, .requested).effect == .keep)
    }
}

@Suite("Worker core: Alpha Vantage answers")
struct WorkerCoreAlphaVantageTests {
    static let fallbacks: [WorkerCore.Fallback] = [
        .init(symbol: "BRK.B", name: "BRK B", optionsSymbol: "BRK B"),
        .init(symbol: "AAPL", name: "AAPL", optionsSymbol: "AAPL"),
        .init(symbol: "EUR.USD", name: "EUR/USD", pair: CurrencyPair(from: "EUR", to: "USD")),
    ]

    static func harness(active: Bool = true) -> CoreHarness {
        var h = CoreHarness(symbols: ["BRK.B", "AAPL", "EUR.USD", "ES.202612"], active: active)
        h.send(.servedChanged(
            served: ["BRK.B", "AAPL", "EUR.USD", "ES.202612"], fallbackProblems: ["ES.202612": "a future has no GLOBAL_QUOTE"],
            fallbacks: fallbacks))
        return h
    }

    @Test func thePollerPollsOnlyWhatIsInFailoverUnderAlphaVantagesNames() {
        var h = Self.harness()
        h.connect()
        #expect(h.core.pollerSymbols(optionWindows: ["AAPL"]) == ([], [], []))
        h.failEverythingOver()
        #expect(h.core.failedOver == ["BRK.B", "AAPL", "EUR.USD"])
        let polled = h.core.pollerSymbols(optionWindows: ["AAPL"])
        #expect(polled.quotes == ["BRK B", "AAPL"])
        #expect(polled.options == ["AAPL"], "options only where a window is known")
        #expect(polled.pairs == [CurrencyPair(from: "EUR", to: "USD")])
    }

    @Test func answersAreWrittenUnderTheKeysTheyStandInFor() {
        var h = Self.harness()
        h.connect()
        let quotes = [QuoteSnapshot(symbol: "BRK B"), QuoteSnapshot(symbol: "AAPL")]
        let before = h.send(.alphaVantageAnswered(.quotes(quotes)))
        #expect(before == [.metric(.alphaVantageRequest(function: "REALTIME_BULK_QUOTES"))], "nothing is in failover: nothing written")
        h.failEverythingOver()
        let after = h.send(.alphaVantageAnswered(.quotes(quotes)))
        #expect(after.dropFirst() == [
            .writeAlphaVantageQuote(QuoteSnapshot(symbol: "BRK B"), key: "BRK.B"),
            .writeAlphaVantageQuote(QuoteSnapshot(symbol: "AAPL"), key: "AAPL"),
        ])
        let rate = h.send(.alphaVantageAnswered(.exchangeRate(QuoteSnapshot(symbol: "EUR/USD"))))
        #expect(rate == [
            .metric(.alphaVantageRequest(function: "CURRENCY_EXCHANGE_RATE")),
            .writeAlphaVantageRate(QuoteSnapshot(symbol: "EUR/USD"), key: "EUR.USD"),
        ])
        let options = h.send(.alphaVantageAnswered(.options(symbol: "AAPL", [])))
        #expect(options.last == .writeAlphaVantageOptions([], key: "AAPL"))
        // An answer for a name nothing stands in for is written nowhere.
        #expect(h.send(.alphaVantageAnswered(.quotes([QuoteSnapshot(symbol: "ES")]))) == [.metric(.alphaVantageRequest(function: "GLOBAL_QUOTE"))])
    }

    @Test func aStandbyWritesNoAnswerAndAReleasedSymbolIsNoLongerPolled() {
        var standby = Self.harness(active: false)
        standby.connect()
        #expect(standby.send(.alphaVantageAnswered(.quotes([QuoteSnapshot(symbol: "AAPL")]))).isEmpty)
        var h = Self.harness()
        h.connect()
        h.failEverythingOver()
        h.send(.released(symbol: "AAPL", served: ["BRK.B", "EUR.USD", "ES.202612"]))
        #expect(h.core.pollerSymbols(optionWindows: ["AAPL"]).quotes == ["BRK B"])
        #expect(h.core.keySymbols(forAlphaVantage: "AAPL").isEmpty)
    }
}
