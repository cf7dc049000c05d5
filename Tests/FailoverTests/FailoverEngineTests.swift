import Testing

@testable import Failover

/// Thresholds in the harness: reconnect limit 3, staleness 10 s, check interval 1 s, stable
/// 5 s, probe timeout 2 s, minimum failover 5 s, recovery gap 3 s, flap window 60 s.
@Suite("FailoverEngine")
struct FailoverEngineTests {
    static let staleProbeFailed = "no IB data confirmed for 10 s in trading hours and the probe failed (no answer within 2 s)"

    /// SPY ticks every second; AAPL is whatever the test makes it.
    static func spyFlows(_ h: inout Harness) { h.send(.dataConfirmed(symbol: "SPY")) }

    @Test func retryThresholdFailsOverEverySymbol() {
        var h = Harness(connected: false)
        let r1 = h.send(.connectAttemptFailed(consecutive: 1, reason: "connection refused"))
        #expect(r1.isEmpty)
        let r2 = h.send(.connectAttemptFailed(consecutive: 2, reason: "connection refused"))
        #expect(r2.isEmpty)
        h.now = 4000
        let why = "IB session failed 3 consecutive connection attempts (limit 3; last error: connection refused)"
        let r3 = h.send(.connectAttemptFailed(consecutive: 3, reason: "connection refused"))
        #expect(r3 == [.failover(symbols: ["SPY", "AAPL"], reason: why)])
        let r4 = h.send(.connectAttemptFailed(consecutive: 4, reason: "connection refused"))
        #expect(r4.isEmpty)
        let r5 = h.advance(seconds: 30)
        #expect(r5.isEmpty)  // no session: nothing to probe
        let status = h.engine.status
        #expect(status.source == "alphavantage")
        #expect(status.failoverReason == why)
        #expect(status.failoverSinceMs == 4000)
        #expect(status.symbolsInFailover == ["SPY", "AAPL"])
    }

    @Test func reconnectAfterRetryFailoverRecoversPerSymbol() {
        var h = Harness(connected: false)
        for n in 1...3 { h.send(.connectAttemptFailed(consecutive: n, reason: "refused")) }
        h.advance(seconds: 20)
        h.send(.sessionConnected)
        #expect(h.engine.globalFailover == nil)
        h.advance(seconds: 10, each: Self.spyFlows)
        #expect(h.times("recovering", "SPY") == [21])
        #expect(h.times("failback", "SPY") == [26])
        #expect(h.state("SPY") == .ib)
        #expect(h.state("AAPL") == .failover)
        #expect(!h.times("probe", "AAPL").isEmpty)
        #expect(h.engine.status.source == "alphavantage")
    }

    @Test func silenceAndFailedProbeFailOver() {
        var h = Harness()
        h.advance(seconds: 9, each: Self.spyFlows)
        // Probed one probe timeout ahead of the staleness limit...
        #expect(h.times("probe", "AAPL") == [8])
        #expect(h.log.last?.action == .probe(symbol: "AAPL", reason: "no IB data for 8 s in trading hours (staleness limit 10 s)"))
        #expect(h.state("AAPL") == .probing)
        // ...so the failover lands on the limit.
        let actions = h.advance(seconds: 1, each: Self.spyFlows)
        #expect(actions == [.failover(symbols: ["AAPL"], reason: Self.staleProbeFailed)])
        #expect(h.state("AAPL") == .failover)
        #expect(h.state("SPY") == .ib)
        #expect(h.times("probe", "SPY").isEmpty)
        let status = h.engine.status
        #expect(status.source == "alphavantage")
        #expect(status.failoverReason == "AAPL: " + Self.staleProbeFailed)
        #expect(status.failoverSinceMs == 10000)
    }

    @Test func earlyProbeFailureWaitsForTheStalenessLimit() {
        var h = Harness(symbols: ["AAPL"])
        h.advance(seconds: 8)
        h.now += 300
        let early = h.send(.probeFailed(symbol: "AAPL", reason: "error 354: no market data permissions"))
        #expect(early.isEmpty)
        #expect(h.state("AAPL") == .probing)
        #expect(h.advance(seconds: 1).isEmpty)
        let r6 = h.advance(seconds: 1)
        #expect(r6 == [
            .failover(symbols: ["AAPL"], reason: "no IB data confirmed for 10 s in trading hours and the probe failed (error 354: no market data permissions)")
        ])
    }

    @Test func quietSymbolWhoseProbeAnswersStaysOnIB() {
        var h = Harness()
        h.advance(seconds: 60) { h in
            h.send(.dataConfirmed(symbol: "SPY"))
            // Answer a probe one second after it was sent.
            if case .probe(let symbol, _)? = h.log.last?.action, symbol == "AAPL", h.log.last?.ms == h.now - 1000 {
                h.send(.probeAnswered(symbol: "AAPL"))
            }
        }
        #expect(h.times("probe", "AAPL") == [8, 17, 26, 35, 44, 53])
        #expect(h.times("failover", "AAPL").isEmpty)
        #expect(h.state("AAPL") == .ib)
    }

    @Test func closedMarketIsNotAFailure() {
        var h = Harness()
        h.send(.marketHours(symbol: "AAPL", open: false))
        h.advance(seconds: 60, each: Self.spyFlows)
        #expect(h.times("probe", "AAPL").isEmpty)
        #expect(h.state("AAPL") == .ib)
        // Silence is measured from the open, not across the closed period.
        h.send(.marketHours(symbol: "AAPL", open: true))
        h.advance(seconds: 7, each: Self.spyFlows)
        #expect(h.times("probe", "AAPL").isEmpty)
        h.advance(seconds: 1, each: Self.spyFlows)
        #expect(h.times("probe", "AAPL") == [68])
    }

    @Test func probeFailingAfterTheCloseIsNotAFailure() {
        var h = Harness(symbols: ["AAPL"])
        h.advance(seconds: 8)
        h.send(.marketHours(symbol: "AAPL", open: false))
        h.advance(seconds: 5)
        #expect(h.times("failover", "AAPL").isEmpty)
        #expect(h.state("AAPL") == .ib)
    }

    @Test func sessionDownAndSilentFailsOverWithoutProbe() {
        var h = Harness()
        h.send(.sessionDisconnected(reason: "connection reset by peer"))
        let actions = h.advance(seconds: 10)
        #expect(actions == [.failover(symbols: ["SPY", "AAPL"], reason: "no IB data confirmed for 10 s in trading hours and no probe possible (IB session down: connection reset by peer)")])
        #expect(h.log.count == 1)
    }

    @Test func disconnectWhileProbingFailsTheProbe() {
        var h = Harness()
        h.advance(seconds: 8, each: Self.spyFlows)
        h.now += 500
        #expect(h.send(.sessionDisconnected(reason: "EOF")).isEmpty)
        let actions = h.advance(seconds: 2)
        #expect(actions == [.failover(symbols: ["AAPL"], reason: "no IB data confirmed for 10 s in trading hours and the probe failed (IB session down (EOF))")])
    }

    @Test func luaStalenessTriggersAProbeAndConfirmationClearsIt() {
        var h = Harness(symbols: ["SPY"])
        h.advance(seconds: 3, each: Self.spyFlows)
        let r7 = h.send(.stale(symbols: ["SPY"]))
        #expect(r7 == [.probe(symbol: "SPY", reason: "the staleness check found the key older than 10 s")])
        h.send(.probeAnswered(symbol: "SPY"))
        let r8 = h.advance(seconds: 20, each: Self.spyFlows)
        #expect(r8.isEmpty)
    }

    @Test func failbackAfterTheStablePeriod() {
        var h = Harness()
        h.advance(seconds: 10) { $0.send(.dataConfirmed(symbol: "AAPL")) }
        #expect(h.times("failover", "SPY") == [10])
        h.advance(seconds: 10) { h in
            h.send(.dataConfirmed(symbol: "SPY"))
            h.send(.dataConfirmed(symbol: "AAPL"))
        }
        #expect(h.times("recovering", "SPY") == [11])
        #expect(h.times("failback", "SPY") == [16])
        let failback = h.log.first { if case .failback = $0.action { true } else { false } }
        #expect(failback?.action == .failback(symbols: ["SPY"], reason: "IB delivered fresh data continuously for 5 s"))
        #expect(h.engine.status.source == "ib")
        #expect(h.engine.status.failoverReason == nil)
        #expect(h.engine.status.failoverSinceMs == nil)
    }

    @Test func minimumTimeInFailover() {
        let policy = FailoverPolicy(
            maxReconnectAttempts: 3, staleness: .seconds(10), checkInterval: .seconds(1), failbackStable: .seconds(5),
            probeTimeout: .seconds(2), minFailover: .seconds(20), recoveryMaxGap: .seconds(3))
        var h = Harness(symbols: ["SPY"], policy: policy)
        h.advance(seconds: 12)
        h.advance(seconds: 30, each: Self.spyFlows)
        #expect(h.times("recovering", "SPY") == [13])
        #expect(h.times("failback", "SPY") == [30])
    }

    @Test func aGapRestartsTheStablePeriod() {
        var h = Harness(symbols: ["SPY"])
        h.advance(seconds: 12)  // failover at 10
        h.advance(seconds: 3, each: Self.spyFlows)  // 13, 14, 15
        h.advance(seconds: 9)  // silent 16...24: a recovery probe at 16 times out at 18
        #expect(h.times("interrupted", "SPY") == [18])
        #expect(h.state("SPY") == .failover)
        h.advance(seconds: 10, each: Self.spyFlows)
        #expect(h.times("recovering", "SPY") == [13, 25])
        #expect(h.times("failback", "SPY") == [30])
    }

    @Test func alternatingIBNeverFlapsBack() {
        var h = Harness(symbols: ["SPY"])
        h.advance(seconds: 12)
        var t = 0
        h.advance(seconds: 120) { h in
            t += 1
            if t % 6 < 3 { h.send(.dataConfirmed(symbol: "SPY")) }
        }
        #expect(h.times("failover", "SPY") == [10])
        #expect(h.times("failback", "SPY").isEmpty)
        #expect(h.times("recovering", "SPY").count == 21)
        #expect(h.state("SPY") != .ib)
    }

    @Test func flapsRaiseTheStablePeriod() {
        var h = Harness(symbols: ["SPY"])
        h.advance(seconds: 12)  // failover at 10
        h.advance(seconds: 6, each: Self.spyFlows)  // 13...18: failback at 18
        #expect(h.times("failback", "SPY") == [18])
        h.advance(seconds: 12)  // silent from 19: probe at 26, failover at 28 (a flap)
        #expect(h.times("failover", "SPY") == [10, 28])
        h.advance(seconds: 11, each: Self.spyFlows)  // recovering at 31, needs 10 s
        #expect(h.times("failback", "SPY") == [18, 41])
        let second = h.log.last { if case .failback = $0.action { true } else { false } }
        #expect(second?.action == .failback(symbols: ["SPY"], reason: "IB delivered fresh data continuously for 10 s (stable period raised after 1 recent flap)"))
        h.advance(seconds: 12)  // probe at 49, failover at 51
        h.advance(seconds: 21, each: Self.spyFlows)  // recovering at 54, needs 20 s
        #expect(h.times("failback", "SPY") == [18, 41, 74])
        h.advance(seconds: 12)  // failover at 84
        h.advance(seconds: 21, each: Self.spyFlows)  // capped at 4x: 20 s again
        #expect(h.times("failback", "SPY") == [18, 41, 74, 107])
    }

    @Test func flapCountResetsAfterAQuietWindow() {
        var h = Harness(symbols: ["SPY"])
        h.advance(seconds: 12)
        h.advance(seconds: 6, each: Self.spyFlows)  // failback at 18
        h.advance(seconds: 70, each: Self.spyFlows)  // stable until 88
        h.advance(seconds: 12)  // failover at 98, 80 s after the failback
        h.advance(seconds: 6, each: Self.spyFlows)
        #expect(h.times("failback", "SPY") == [18, 106])
    }

    @Test func competingSessionFailsOverAtOnceInTradingHours() {
        var h = Harness()
        h.now = 1000
        let r9 = h.send(.competingSession(symbols: ["SPY"]))
        #expect(r9 == [
            .failover(symbols: ["SPY"], reason: "IB refused market data: competing live session on the same user (10197)")
        ])
        #expect(h.state("AAPL") == .ib)
        h.advance(seconds: 6) { $0.send(.dataConfirmed(symbol: "SPY")); $0.send(.dataConfirmed(symbol: "AAPL")) }
        #expect(h.times("failback", "SPY") == [7])
    }

    @Test func competingSessionForAllWaitsForTheOpen() {
        var h = Harness()
        h.send(.marketHours(symbol: "AAPL", open: false))
        h.now = 1000
        let r10 = h.send(.competingSession(symbols: nil))
        #expect(r10 == [
            .failover(symbols: ["SPY"], reason: "IB refused market data: competing live session on the same user (10197)")
        ])
        h.now = 2000
        let r11 = h.send(.marketHours(symbol: "AAPL", open: true))
        #expect(r11 == [
            .probe(symbol: "SPY", reason: "checking whether IB delivers again"),
            .failover(symbols: ["AAPL"], reason: "IB refused market data: competing live session on the same user (10197)"),
        ])
    }

    @Test func freshKeysInFailoverAreNotIBRecovery() {
        var h = Harness(symbols: ["SPY"])
        h.advance(seconds: 12)
        #expect(h.state("SPY") == .failover)
        h.send(.fresh(symbols: ["SPY"]))
        #expect(h.state("SPY") == .failover)
        #expect(h.times("recovering", "SPY").isEmpty)
    }

    @Test func quietSymbolInFailoverRecoversThroughProbes() {
        var h = Harness(symbols: ["SPY"])
        h.advance(seconds: 12)
        // From now on every probe is answered at once.
        h.advance(seconds: 10) { h in
            if case .probe? = h.log.last?.action, h.log.last?.ms == h.now - 1000 { h.send(.probeAnswered(symbol: "SPY")) }
        }
        // The first recovery probe waits a check interval (11, unanswered), then one every
        // 2 s, each answered 1 s later.
        #expect(h.times("probe", "SPY") == [8, 11, 13, 15, 17])
        #expect(h.times("recovering", "SPY") == [14])
        #expect(h.times("failback", "SPY") == [19])
    }

    @Test func degradedSessionIsReported() {
        var h = Harness()
        h.send(.farmDown("usfarm"))
        #expect(h.engine.session.degradedReason == "market data farm down: usfarm")
        h.send(.connectivityLost(reason: "1100 Connectivity between IB and TWS has been lost"))
        #expect(h.engine.session.degradedReason == "1100 Connectivity between IB and TWS has been lost")
        h.send(.connectivityRestored)
        h.send(.farmUp("usfarm"))
        #expect(h.engine.session.degradedReason == nil)
        h.send(.heartbeatOK)
        #expect(h.engine.session.lastHeartbeatMs == 0)
    }

    @Test func symbolsCanBeAddedAndRemoved() {
        var h = Harness()
        h.advance(seconds: 12) { $0.send(.dataConfirmed(symbol: "SPY")) }
        #expect(h.state("AAPL") == .failover)
        h.engine.setSymbols(["SPY", "QQQ"], nowMs: h.now)
        #expect(h.engine.symbols == ["SPY", "QQQ"])
        #expect(h.state("AAPL") == nil)
        #expect(h.state("QQQ") == .ib)
        h.advance(seconds: 7, each: Self.spyFlows)
        #expect(h.times("probe", "QQQ").isEmpty)
        h.advance(seconds: 1, each: Self.spyFlows)
        #expect(h.times("probe", "QQQ") == [20])
        #expect(h.engine.status.source == "ib")
    }

    @Test func unknownSymbolsAreIgnored() {
        var h = Harness()
        let r12 = h.send(.dataConfirmed(symbol: "ZZZ"))
        #expect(r12.isEmpty)
        let r13 = h.send(.probeFailed(symbol: "ZZZ", reason: "x"))
        #expect(r13.isEmpty)
        #expect(h.engine.status(of: "ZZZ") == nil)
    }
}

@Suite("FailoverPolicy")
struct FailoverPolicyTests {
    @Test func defaultsFollowTheContract() {
        let p = FailoverPolicy()
        #expect(p.maxReconnectAttempts == 5)
        #expect(p.stalenessMs == 60_000)
        #expect(p.checkIntervalMs == 5_000)
        #expect(p.failbackStableMs == 30_000)
        #expect(p.probeTimeoutMs == 5_000)
        #expect(p.probeLeadMs == 5_000)
        #expect(p.minFailoverMs == 30_000)
        #expect(p.recoveryMaxGapMs == 15_000)
    }

    @Test func derivedValuesFollowTheirInputs() {
        let p = FailoverPolicy(staleness: .seconds(3), checkInterval: .milliseconds(1500), failbackStable: .seconds(4), probeTimeout: .seconds(10))
        #expect(p.probeLeadMs == 3_000)  // never ahead of the silence itself
        #expect(p.minFailoverMs == 4_000)
        #expect(p.recoveryMaxGapMs == 4_500)
    }

    /// With the contract's defaults and a tick every check interval, a stalled symbol fails
    /// over within staleness + one check interval of its last data.
    @Test func stallToFailoverWithDefaults() {
        var engine = FailoverEngine(symbols: ["SPY"], nowMs: 0)
        _ = engine.handle(.sessionConnected, nowMs: 0)
        var failoverAt: Int64?
        var t: Int64 = 0
        while failoverAt == nil && t < 600_000 {
            t += 5_000
            for action in engine.handle(.tick, nowMs: t) {
                if case .failover = action { failoverAt = t }
            }
        }
        #expect(failoverAt == 60_000)
    }
}
