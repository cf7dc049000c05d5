import Essentials
import Foundation
import IBSession
import Simulators
import Testing
import TWSProtocol

/// The session against the in-process IB Gateway simulator over loopback. Serialized: the
/// timings (300 ms heartbeats) should not compete with each other for two shared cores.
@Suite("GatewaySession integration", .serialized)
struct GatewaySessionIntegrationTests {
    @Test func connectTimesStayUnderFiveSeconds() async throws {
        let sim = IBGatewaySimulator()
        let port = try await sim.start().port
        var times: [Duration] = []
        for i in 0..<20 {
            let session = GatewaySession(configuration: Harness.testConfiguration(port: port, clientId: Int32(100 + i)), logger: Harness.logger)
            let start = ContinuousClock.now
            let runner = Task { try? await session.run() }
            var connectedAt: ContinuousClock.Instant?
            for await event in session.events {
                if case .connected(let version, let clientId) = event {
                    connectedAt = .now
                    #expect(version == 176)
                    #expect(clientId == Int32(100 + i))
                    runner.cancel()
                }
            }
            await runner.value
            let elapsed = try #require(connectedAt) - start
            times.append(elapsed)
            // Times are reported, not asserted (a busy CI machine is no measure); the connect
            // timeout itself is the state machine's, unit-tested with an injected clock.
            #expect(session.status.state == .stopped)
        }
        await sim.stop()
        print("IBSession connect time over \(times.count) connects: p50 \(ms(percentile(times, 0.5))), max \(ms(times.max()!))")
    }

    @Test func reconnectsAfterDropWithEverySubscriptionRestored() async throws {
        try await withHarness(configure: { $0.reconnect = BackoffPolicy(initial: .milliseconds(500), max: .seconds(30), multiplier: 2) }) { h in
            let ids = stockSymbols.map { h.session.subscribe(Contract(symbol: $0), genericTicks: "") }
            #expect(await h.ticksFlow(for: ids, from: 0))
            var reconnects: [Duration] = []
            for round in 1...5 {
                let mark = await h.log.count
                let dropped = ContinuousClock.now
                #expect(await h.sim.control("drop").hasPrefix("OK"))
                #expect(await h.wait { await $0.connectedCount() == round + 1 })
                reconnects.append(ContinuousClock.now - dropped)
                // Every symbol ticks again, under the same SubscriptionID.
                #expect(await h.ticksFlow(for: ids, from: mark))
                // Requests go out paced (reqMarketDataType first): wait for the last to land.
                #expect(await h.wait { await $0.sim.subscriptions().count == stockSymbols.count })
                let live = await h.sim.subscriptions()
                #expect(Set(live.map(\.symbol)) == Set(stockSymbols))
                #expect(live.count == stockSymbols.count)
                let resubscribed = await h.log.events[mark...].contains(.resubscribed(count: stockSymbols.count))
                #expect(resubscribed)
                // Let the connection count as healthy so the next drop is attempt 1 again.
                try await Task.sleep(for: .milliseconds(1100))
            }
            print("IBSession reconnect after drop (backoff 500 ms initial, full jitter): p50 \(ms(percentile(reconnects, 0.5))), max \(ms(reconnects.max()!)), all \(reconnects.map(ms))")
            #expect(h.session.status.totalReconnects == 5)
            // The gateway's close arrives as a FIN or, with data in flight, as a reset.
            let lastError = h.session.status.lastError ?? ""
            #expect(lastError == "connection closed by the gateway" || lastError.contains("Connection reset by peer"), "\(lastError)")
        }
    }

    @Test func cancellingRunCancelsMarketDataAndClosesAtOnce() async throws {
        try await withHarness { h in
            let ids = stockSymbols.prefix(3).map { h.session.subscribe(Contract(symbol: $0)) }
            #expect(await h.ticksFlow(for: ids, from: 0))
            #expect(await h.sim.subscriptions().count == 3)
            let started = ContinuousClock.now
            await h.stopSession()
            // Bounded by design: cancels get at most 1 s to leave before the close.
            #expect(ContinuousClock.now - started < .seconds(3))
            // The gateway saw the cancels and the EOF: no line and no connection left.
            #expect(await h.wait(.seconds(2)) { h in
                let counters = await h.sim.counters()
                return counters.connections == 0 && counters.subscriptions == 0
            })
            #expect(h.session.status.state == .stopped)
            let last = await h.log.events.last
            #expect(last == .state(from: .connected, to: .stopped, reason: "shutdown"))
            await #expect(throws: IBSessionError.notRunning) { try await h.session.contractDetails(Contract(symbol: "AAPL")) }
        }
    }

    @Test func slowHandshakeBeyondTheTimeoutIsAFailedAttempt() async throws {
        try await withHarness(initialCommands: ["slow-handshake 1500"]) { h in
            #expect(await h.wait(.seconds(5)) { h in h.session.status.reconnectAttempts >= 1 })
            let status = h.session.status
            #expect(status.lastError == "connect timeout after 1.0 seconds waiting for server hello")
            #expect(await h.connectedCount() == 0)
            #expect(await h.sim.control("slow-handshake 0").hasPrefix("OK"))
            #expect(await h.wait(.seconds(5)) { await $0.connectedCount() == 1 })
        }
    }

    @Test func refusedConnectionsAreRetriedWithGrowingDelays() async throws {
        let seed: UInt64 = 99
        try await withHarness(initialCommands: ["refuse 2.5"], configure: {
            $0.reconnect = BackoffPolicy(initial: .milliseconds(100), max: .seconds(2), multiplier: 2)
        }, randomSeed: seed) { h in
            #expect(await h.wait(.seconds(15)) { await $0.connectedCount() == 1 })
            let entries = await h.log.entries
            let attempts = entries.compactMap { entry -> ContinuousClock.Instant? in
                if case .state(_, .connecting, _) = entry.event { entry.at } else { nil }
            }
            let failures = entries.compactMap { entry -> ContinuousClock.Instant? in
                if case .state(_, .backoff, _) = entry.event { entry.at } else { nil }
            }
            #expect(failures.count >= 3)
            #expect(attempts.count == failures.count + 1)
            // The same seeded draws the session used: the caps doubled from one failure to the
            // next, and the whole retry sequence took at least the sum of the drawn delays.
            // (Event times are taken by the consumer, so single gaps are not exact; the first
            // event meets an idle consumer, hence the small allowance.)
            var random = SplitMix64(seed: seed)
            let policy = h.session.configuration.reconnect
            var total = Duration.zero
            for n in failures.indices {
                total += policy.delay(forAttempt: n + 1, using: &random)
                #expect(policy.cap(forAttempt: n + 1) == .milliseconds(min(100 << n, 2000)))
            }
            #expect(attempts.last! - attempts.first! >= total - .milliseconds(50))
            let reasons = await h.log.events.compactMap { if case .state(_, .connecting, let reason) = $0 { reason } else { nil } }
            #expect(reasons == ["connect"] + (1...failures.count).map { "reconnect attempt \($0)" })
            let refused = await h.sim.counters().connectionsRefused
            #expect(refused == failures.count)
            #expect(h.session.status.state == .connected)
        }
    }

    @Test func hangIsDetectedByTheHeartbeat() async throws {
        try await withHarness { h in
            #expect(await h.wait { await $0.connectedCount() == 1 })
            let hungAt = ContinuousClock.now
            #expect(await h.sim.control("hang").hasPrefix("OK"))
            #expect(await h.wait(.seconds(5)) { h in
                await h.log.events.contains { if case .state(_, .backoff, let reason) = $0 { reason.hasPrefix("heartbeat") } else { false } }
            })
            let detected = ContinuousClock.now - hungAt
            #expect(h.session.status.lastError == "heartbeat: no CURRENT_TIME reply for 0.6 seconds")
            #expect(await h.sim.control("resume").hasPrefix("OK"))
            #expect(await h.wait(.seconds(10)) { await $0.connectedCount() == 2 })
            print("IBSession hang detected after \(ms(detected))")
        }
    }

    @Test func clientIdInUseMovesToTheNextIdInThePool() async throws {
        try await withHarness { h in
            #expect(await h.wait { await $0.connectedCount() == 1 })
            var config = Harness.testConfiguration(port: h.port, clientId: 17, pool: [18, 19])
            config.reconnect = BackoffPolicy(initial: .milliseconds(20), max: .milliseconds(100), multiplier: 2)
            let second = GatewaySession(configuration: config, logger: Harness.logger)
            let runner = Task { try? await second.run() }
            var codes: [Int32] = []
            for await event in second.events {
                if case .ibError(let code, _, _, _) = event, code < 2000 { codes.append(code) }
                if case .connected(_, let clientId) = event {
                    #expect(clientId == 18)
                    runner.cancel()
                }
            }
            await runner.value
            #expect(codes == [326])
            #expect(second.status.totalReconnects == 1)
            #expect(second.status.lastError == "client id 17 already in use (326); next id 18")
        }
    }

    @Test func connectivityLostThenRestoredWithDataLostResubscribes() async throws {
        try await withHarness { h in
            let ids = stockSymbols.prefix(3).map { h.session.subscribe(Contract(symbol: $0)) }
            #expect(await h.ticksFlow(for: ids, from: 0))
            #expect(await h.sim.control("connectivity-lost").hasPrefix("OK"))
            #expect(await h.wait { _ in h.session.status.state == .degraded(.connectivityLost) })
            let mark = await h.log.count
            #expect(await h.sim.control("connectivity-restored lost").hasPrefix("OK"))
            #expect(await h.wait { _ in h.session.status.state == .connected })
            #expect(await h.ticksFlow(for: ids, from: mark))
            let after = await h.log.events[mark...]
            #expect(after.contains(.resubscribed(count: 3)))
            #expect(await h.sim.subscriptions().count == 3)
            #expect(await h.connectedCount() == 1, "no reconnect")
            #expect(!(await h.errorCodes()).contains(300), "no cancels for lines the gateway dropped")
        }
    }

    @Test func connectivityRestoredWithDataMaintainedResubscribesNothing() async throws {
        try await withHarness { h in
            let ids = stockSymbols.prefix(3).map { h.session.subscribe(Contract(symbol: $0)) }
            #expect(await h.ticksFlow(for: ids, from: 0))
            let reqIds = Set(await h.sim.subscriptions().map(\.reqId))
            #expect(await h.sim.control("connectivity-lost").hasPrefix("OK"))
            #expect(await h.wait { _ in h.session.status.state == .degraded(.connectivityLost) })
            let mark = await h.log.count
            #expect(await h.sim.control("connectivity-restored maintained").hasPrefix("OK"))
            #expect(await h.wait { _ in h.session.status.state == .connected })
            #expect(await h.ticksFlow(for: ids, from: mark))
            let resubscribed = await h.log.events[mark...].contains { if case .resubscribed = $0 { true } else { false } }
            #expect(!resubscribed)
            #expect(Set(await h.sim.subscriptions().map(\.reqId)) == reqIds)
            #expect(await h.sim.counters().messagesReceived > 0)
        }
    }

    @Test func connectivityLostBeyondTheGraceReconnects() async throws {
        try await withHarness(configure: { $0.connectivityLostGrace = .milliseconds(500) }) { h in
            #expect(await h.wait { await $0.connectedCount() == 1 })
            #expect(await h.sim.control("connectivity-lost").hasPrefix("OK"))
            #expect(await h.wait(.seconds(5)) { await $0.connectedCount() == 2 })
            #expect(h.session.status.lastError?.hasPrefix("connectivity lost (1100) for more than") == true
                || h.session.status.lastError?.hasPrefix("1100") == true)
            let reasons = await h.log.events.compactMap { if case .state(_, .backoff, let reason) = $0 { reason } else { nil } }
            #expect(reasons.first == "connectivity lost (1100) for more than 0.5 seconds")
        }
    }

    @Test func farmDownAndUpWithoutReconnecting() async throws {
        try await withHarness { h in
            let ids = stockSymbols.prefix(2).map { h.session.subscribe(Contract(symbol: $0)) }
            #expect(await h.ticksFlow(for: ids, from: 0))
            #expect(await h.sim.control("farm-down usfarm").hasPrefix("OK"))
            #expect(await h.wait { _ in h.session.status.state == .degraded(.farmsDown(["usfarm"])) })
            let mark = await h.log.count
            #expect(await h.sim.control("farm-up").hasPrefix("OK"))
            #expect(await h.wait { _ in h.session.status.state == .connected })
            #expect(await h.ticksFlow(for: ids, from: mark))
            #expect(await h.connectedCount() == 1)
            #expect(h.session.status.totalReconnects == 0)
            #expect(await h.errorCodes().contains(2103))
        }
    }

    @Test func competingSessionIsSurfacedAndRetried() async throws {
        try await withHarness { h in
            let ids = stockSymbols.prefix(2).map { h.session.subscribe(Contract(symbol: $0)) }
            #expect(await h.ticksFlow(for: ids, from: 0))
            #expect(await h.sim.control("competing-session on").hasPrefix("OK"))
            #expect(await h.wait { h in
                let statuses = await h.log.events.compactMap { if case .subscriptionStatus(let id, .competingSession) = $0 { id } else { nil } }
                return Set(statuses) == Set(ids)
            })
            #expect(await h.errorCodes().contains(10197))
            #expect(h.session.status.lastError?.hasPrefix("10197:") == true)
            #expect(h.session.status.state == .connected, "the socket stays")
            let mark = await h.log.count
            #expect(await h.sim.control("competing-session off").hasPrefix("OK"))
            #expect(await h.ticksFlow(for: ids, from: mark))
            #expect(await h.connectedCount() == 1)
        }
    }

    @Test func badSymbolFailsAloneAndOneShotRequestsWork() async throws {
        try await withHarness { h in
            let good = h.session.subscribe(Contract(symbol: "AAPL"))
            let bad = h.session.subscribe(Contract(symbol: "ZZZZQ"))
            #expect(await h.ticksFlow(for: [good], from: 0))
            #expect(await h.wait { h in
                await h.log.events.contains { if case .subscriptionStatus(bad, .invalidContract(200, _)) = $0 { true } else { false } }
            })
            let details = try await h.session.contractDetails(Contract(symbol: "AAPL"))
            #expect(details.count == 1)
            #expect(details.first?.contract.conId == 265598)
            await #expect(throws: IBSessionError.self) { try await h.session.contractDetails(Contract(symbol: "ZZZZQ")) }
            let chain = try await h.session.optionParameters(symbol: "AAPL", conId: 265598)
            #expect(chain.isEmpty == false)
            #expect(chain.allSatisfy { !$0.expirations.isEmpty && !$0.strikes.isEmpty })
            let snapshot = try await h.session.snapshot(Contract(symbol: "MSFT"), timeout: .seconds(5))
            #expect(snapshot.contains { if case .tickPrice = $0 { true } else { false } })
            #expect(h.session.status.subscriptions == 1)
        }
    }

    @Test func burstOfFiveHundredSubscriptionsIsPaced() async throws {
        var sim = IBGatewaySimulator.Configuration()
        sim.marketDataLines = 600
        // The feed is quiet: the test is about the requests, and a debug-build simulator generating
        // ticks for 500 option lines on its one event loop would take in the requests in clumps,
        // judging the pace by when it got round to them, not by when they arrived.
        try await withHarness(simulator: sim, initialCommands: ["quiet"]) { h in
            let chain = try await h.session.optionParameters(symbol: "SPY", conId: 756733)
            let params = try #require(chain.first)
            var contracts: [Contract] = []
            outer: for expiry in params.expirations {
                for strike in params.strikes {
                    for right in ["C", "P"] {
                        contracts.append(Contract(symbol: "SPY", secType: "OPT", lastTradeDateOrContractMonth: expiry, strike: strike, right: right, multiplier: "100"))
                        if contracts.count == 500 { break outer }
                    }
                }
            }
            #expect(contracts.count == 500)
            let started = ContinuousClock.now
            let ids = contracts.map { h.session.subscribe($0) }
            // Every request is answered: a line at the gateway, or 200 for a strike the chain's
            // union lists but this expiry does not have.
            #expect(await h.wait(.seconds(40)) { h in
                let invalid = await h.errorCodes().count { $0 == 200 }
                return await h.sim.subscriptions().count + invalid == 500
            })
            let elapsed = ContinuousClock.now - started
            let codes = await h.errorCodes()
            #expect(!codes.contains(100))
            #expect(!codes.contains(101))
            #expect(await h.sim.subscriptions().count > 400)
            #expect(h.session.status.subscriptions == 500 - codes.count { $0 == 200 })
            #expect(ids.count == 500)
            #expect(h.session.status.state == .connected)
            // 40/s with a burst of 5: 500 requests need at least (500 - 5) / 40 s.
            #expect(elapsed >= .milliseconds(12_300))
            // The waits are counted (quote_relay_ib_pacing_delays_total mirrors this).
            #expect(h.session.status.pacingDelays > 0)
            print("IBSession 500 subscriptions paced in \(ms(elapsed))")
        }
    }

    @Test func floodOfTicksArrivesCompleteAndBatched() async throws {
        // A 2 s heartbeat: two saturated threads on a shared machine may pause for longer
        // than the 300 ms used elsewhere, and this test is about completeness.
        try await withHarness(configure: { $0.heartbeatInterval = .seconds(2) }) { h in
            let ids = stockSymbols.map { h.session.subscribe(Contract(symbol: $0)) }
            #expect(await h.ticksFlow(for: ids, from: 0))
            #expect(await h.sim.control("rate 0").hasPrefix("OK"))
            try await Task.sleep(for: .milliseconds(100))
            let before = await h.sim.counters().ticksSent
            let mark = await h.log.count
            let started = ContinuousClock.now
            #expect(await h.sim.control("flood 30000").hasPrefix("OK"))
            // The flood is over when the simulator's count stands still; every tick sent arrives.
            var last = -1
            while true {
                try await Task.sleep(for: .milliseconds(300))
                let sent = await h.sim.counters().ticksSent - before
                if sent == last { break }
                last = sent
                if ContinuousClock.now - started > .seconds(60) { break }
            }
            #expect(await h.wait(.seconds(10)) { h in
                let sent = await h.sim.counters().ticksSent - before
                let received = await h.log.tickCounts(from: mark).values.reduce(0, +)
                return sent > 10_000 && received == sent
            })
            let elapsed = ContinuousClock.now - started
            let sent = await h.sim.counters().ticksSent - before
            let batches = await h.log.events[mark...].count { if case .marketData = $0 { true } else { false } }
            print("IBSession flood: \(sent) tick messages in \(ms(elapsed)) (\(Int(Double(sent) / max(elapsed.seconds, 0.001))) msg/s end to end, \(batches) batches)")
            #expect(batches < sent / 10, "ticks arrive batched per socket read")
            #expect(await h.connectedCount() == 1)
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
