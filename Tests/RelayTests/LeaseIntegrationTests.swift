import Foundation
import MarketModel
import QRTestSupport
import RedisPublisher
import Relay
import Simulators
import Testing

/// Subscriptions at runtime end to end: applications write leases into a real redis-server
/// (through `LeaseClient`, the code of `quote-relay subscribe`), the worker serves them from
/// the IB Gateway simulator over TCP, and the simulator says which lines are open.
@Suite(.serialized)
struct LeaseIntegrationTests {
    static func options(maxLines: Int = 100, symbols: [SymbolSpec] = [SymbolSpec(symbol: "AAPL")]) -> WorkerHarness.Options {
        var o = WorkerHarness.Options()
        o.symbols = symbols
        o.simSymbols = ["AAPL", "MSFT", "SPY", "QQQ", "IWM", "NVDA"]
        o.maxLines = maxLines
        var leases = LeaseSettings()
        leases.pollInterval = .milliseconds(100)
        leases.graceMs = 1_000
        leases.minHoldMs = 600_000
        o.leases = leases
        return o
    }

    static func lease(_ h: WorkerHarness, _ requester: String, _ spec: String, ttlMs: Int64, priority: Int? = nil) throws {
        let url = try #require(WorkerHarness.redisURL)
        _ = try LeaseClient.subscribe(url: url, prefix: h.prefix, requester: requester, spec: spec, ttlMs: ttlMs, priority: priority)
    }

    static func status(_ h: WorkerHarness, _ requester: String, _ spec: String) -> [String: String] {
        h.hash("request:\(requester):\(spec)")
    }

    /// Streaming stock lines of the worker open at the gateway, by symbol.
    static func gatewayLines(_ h: WorkerHarness) async -> [String] {
        await h.ib.subscriptions().filter { $0.clientId == 5 }.map(\.symbol).sorted()
    }

    /// IB is asked for a requested contract once: the look-up that lets it take a line is the
    /// one its line is set up from (every request counts against IB's 50 messages/s).
    @Test func aRequestedContractIsLookedUpOnce() async throws {
        let h = try await WorkerHarness.start(Self.options())
        #expect(await h.wait(.seconds(15)) { h.hash("quote:AAPL")["last"] != nil })
        let before = await h.ib.counters().contractDetailsRequests
        try Self.lease(h, "app1", "MSFT", ttlMs: 120_000)
        #expect(await h.wait(.seconds(15)) { h.hash("quote:MSFT")["last"] != nil && Self.status(h, "app1", "MSFT")["state"] == "active" })
        #expect(await h.ib.counters().contractDetailsRequests - before == 1)
        try await h.stop()
    }

    @Test func overlappingLeasesShareLinesAndALapsedLeaseReleasesOnlyItsUniqueLines() async throws {
        let h = try await WorkerHarness.start(Self.options())
        // Long enough to be served however slowly the worker starts; app1 lets them lapse below.
        try Self.lease(h, "app1", "MSFT", ttlMs: 120_000)
        try Self.lease(h, "app1", "SPY", ttlMs: 120_000)
        try Self.lease(h, "app2", "SPY", ttlMs: 120_000)
        try Self.lease(h, "app2", "QQQ", ttlMs: 120_000)
        #expect(await h.wait(.seconds(15)) {
            ["MSFT", "SPY", "QQQ"].allSatisfy { h.hash("quote:\($0)")["last"] != nil }
                && Self.status(h, "app1", "MSFT")["state"] == "active" && Self.status(h, "app2", "SPY")["state"] == "active"
        })
        #expect(Self.status(h, "app2", "QQQ")["key"] == "quote:QQQ")
        #expect(await Self.gatewayLines(h) == ["AAPL", "MSFT", "QQQ", "SPY"])
        // app1's last refresh asks for 500 ms more, then it stops refreshing: after that expiry
        // plus the grace, only MSFT (its unique line) goes.
        try Self.lease(h, "app1", "MSFT", ttlMs: 500)
        try Self.lease(h, "app1", "SPY", ttlMs: 500)
        #expect(await h.waitAsync(.seconds(15)) { await Self.gatewayLines(h) == ["AAPL", "QQQ", "SPY"] })
        #expect(Self.status(h, "app1", "MSFT").isEmpty)
        #expect(Self.status(h, "app2", "SPY")["state"] == "active")
        let url = try #require(WorkerHarness.redisURL)
        // app1's lapsed leases are pruned from P:leases (in the same step, written just after).
        #expect(await h.wait(.seconds(5)) { (try? LeaseClient.list(url: url, prefix: h.prefix).map(\.requester)) == ["app2", "app2"] })
        // SPY's data still flows for app2.
        let seq = Int(h.hash("quote:SPY")["seq"] ?? "0") ?? 0
        #expect(await h.wait(.seconds(5)) { (Int(h.hash("quote:SPY")["seq"] ?? "0") ?? 0) > seq })
        try await h.stop()
        // A clean stop cancels every line, requested ones included.
        #expect(await Self.gatewayLines(h).isEmpty)
    }

    @Test func moreRequestsThanLinesQueueInArbiterOrderAndStartWhenLinesFree() async throws {
        // 3 lines: AAPL is pinned, two are left for requests.
        let h = try await WorkerHarness.start(Self.options(maxLines: 3))
        try Self.lease(h, "app1", "MSFT", ttlMs: 3_000)
        try Self.lease(h, "app1", "SPY", ttlMs: 120_000)
        #expect(await h.wait(.seconds(15)) {
            Self.status(h, "app1", "MSFT")["state"] == "active" && Self.status(h, "app1", "SPY")["state"] == "active"
        })
        try Self.lease(h, "app2", "QQQ", ttlMs: 120_000)
        try Self.lease(h, "app3", "IWM", ttlMs: 120_000, priority: 5)
        #expect(await h.wait(.seconds(10)) {
            Self.status(h, "app3", "IWM")["place"] == "1" && Self.status(h, "app2", "QQQ")["place"] == "2"
        })
        #expect(Self.status(h, "app2", "QQQ")["state"] == "queued")
        #expect(await h.waitAsync(.seconds(10)) { await Self.gatewayLines(h) == ["AAPL", "MSFT", "SPY"] })
        // MSFT's lease lapses: the higher priority (IWM) gets its line, QQQ moves up.
        #expect(await h.wait(.seconds(15)) { Self.status(h, "app3", "IWM")["state"] == "active" })
        // A place that shifts is rewritten at most every 5 s (README), not at every read.
        #expect(await h.wait(.seconds(10)) { Self.status(h, "app2", "QQQ")["place"] == "1" })
        #expect(await h.waitAsync(.seconds(10)) { await Self.gatewayLines(h) == ["AAPL", "IWM", "SPY"] })
        #expect(await h.wait(.seconds(10)) { h.hash("quote:IWM")["last"] != nil })
        // Never more lines than the budget at the gateway.
        #expect(await h.ib.subscriptions().filter { $0.clientId == 5 }.count <= 3)
        // SPY is given up: QQQ starts.
        let url = try #require(WorkerHarness.redisURL)
        #expect(try LeaseClient.unsubscribe(url: url, prefix: h.prefix, requester: "app1", spec: "SPY"))
        #expect(await h.wait(.seconds(10)) { Self.status(h, "app2", "QQQ")["state"] == "active" })
        #expect(await h.waitAsync(.seconds(10)) { await Self.gatewayLines(h) == ["AAPL", "IWM", "QQQ"] })
        try await h.stop()
    }

    @Test func aFloodOfBadRequestsIsRefusedAndLeavesPinnedDataUntouched() async throws {
        var o = Self.options()
        o.leases?.newRequestsPerMinute = 5
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["last"] != nil })
        // Bad specs straight into the sorted set, as a broken application would write them.
        let leases = "\(h.prefix):leases"
        var members = ["no-bar-at-all", "bad requester|AAPL", "app|IND:SPX", "app|SPY#options=99x5", "app|OPT:SPY", "app|A*B"]
        members += (0..<40).map { "flooder|S\($0)" }
        members.append("app|ZZZZ")
        let far = String(Int64(Date().timeIntervalSince1970 * 1000) + 120_000)
        _ = try h.redis.pipeline(members.map { ["ZADD", leases, far, $0] })
        // Expiries that are no time in ms: refused visibly, never silently dropped.
        _ = try h.redis.pipeline([["ZADD", leases, "+inf", "inf1|MSFT"], ["ZADD", leases, "1e300", "huge1|QQQ"]])
        #expect(await h.wait(.seconds(15)) {
            Self.status(h, "inf1", "MSFT")["reason"]?.contains("must be a finite time in ms") == true
                && Self.status(h, "huge1", "QQQ")["state"] == "refused"
        })
        #expect(await h.wait(.seconds(15)) {
            Self.status(h, "app", "ZZZZ")["state"] == "refused" && Self.status(h, "flooder", "S39")["state"] == "refused"
        })
        #expect(Self.status(h, "app", "ZZZZ")["reason"]?.hasPrefix("unknown contract") == true)
        #expect(Self.status(h, "app", "IND:SPX")["reason"]?.contains("needs its exchange") == true)
        #expect(Self.status(h, "app", "SPY#options=99x5")["reason"]?.contains("absurd option window") == true)
        #expect(Self.status(h, "app", "A*B")["reason"]?.hasPrefix("invalid request") == true)
        #expect(Self.status(h, "flooder", "S39")["reason"]?.contains("rate limited") == true)
        // Members that name no requester are dropped from the set.
        let left = try h.redis.command(["ZRANGEBYSCORE", leases, "-inf", "+inf"]).array?.compactMap(\.string) ?? []
        #expect(!left.contains("no-bar-at-all") && !left.contains("bad requester|AAPL"))
        #expect(!left.contains("inf1|MSFT") && !left.contains("huge1|QQQ"))
        // The pinned line and its data are untouched: same gateway line, data still flowing.
        let line = await h.stockSubscription("AAPL")
        let seq = Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0
        #expect(await h.wait(.seconds(5)) { (Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0) > seq })
        #expect(await h.stockSubscription("AAPL") == line)
        #expect(h.hash("quote:AAPL")["stale"] == "0")
        // Only the 5 flooder requests within the rate got lines (S0-S4 are unknown to IB: refused
        // as unknown contracts), never more than exist.
        #expect(await h.waitAsync(.seconds(10)) { await Self.gatewayLines(h) == ["AAPL"] })
        try await h.stop()
    }

    @Test func aRequestedInstrumentFailsOverAndBackLikeAPinnedOne() async throws {
        var o = Self.options()
        o.quickFailover()
        let h = try await WorkerHarness.start(o)
        try Self.lease(h, "app1", "MSFT", ttlMs: 120_000)
        #expect(await h.wait(.seconds(15)) { h.hash("quote:MSFT")["source"] == "ib" && Self.status(h, "app1", "MSFT")["state"] == "active" })
        #expect(await h.ib.control("stall").hasPrefix("OK"))
        #expect(await h.wait(.seconds(15)) {
            h.hash("quote:MSFT")["source"] == "alphavantage" && Self.status(h, "app1", "MSFT")["state"] == "fallback"
        })
        #expect(await h.ib.control("resume").hasPrefix("OK"))
        #expect(await h.wait(.seconds(20)) { h.hash("quote:MSFT")["source"] == "ib" && Self.status(h, "app1", "MSFT")["state"] == "active" })
        try await h.stop()
    }

    @Test func afterAGatewayReconnectEveryLeasedInstrumentIsRestored() async throws {
        let h = try await WorkerHarness.start(Self.options())
        try Self.lease(h, "app1", "MSFT", ttlMs: 120_000)
        try Self.lease(h, "app2", "SPY", ttlMs: 120_000)
        #expect(await h.waitAsync(.seconds(15)) { await Self.gatewayLines(h) == ["AAPL", "MSFT", "SPY"] })
        let before = await h.ib.subscriptions().filter { $0.clientId == 5 }
        #expect(await h.ib.control("drop").hasPrefix("OK"))
        // Requested again on the new connection (new request ids), and data flows again.
        #expect(await h.waitAsync(.seconds(20)) {
            let now = await h.ib.subscriptions().filter { $0.clientId == 5 }
            return now.map(\.symbol).sorted() == ["AAPL", "MSFT", "SPY"] && Set(now.map(\.reqId)).isDisjoint(with: before.map(\.reqId))
        })
        let seq = Int(h.hash("quote:MSFT")["seq"] ?? "0") ?? 0
        #expect(await h.wait(.seconds(10)) { (Int(h.hash("quote:MSFT")["seq"] ?? "0") ?? 0) > seq })
        #expect(Self.status(h, "app1", "MSFT")["state"] == "active")
        try await h.stop()
    }

    @Test func aRedisRestartKeepsTheLinesWhileApplicationsWriteTheirLeasesAgain() async throws {
        let server = try RedisServerProcess()
        var o = Self.options()
        o.redisURL = server.url
        o.leases?.graceMs = 5_000
        let h = try await WorkerHarness.start(o)
        func lease() throws { _ = try LeaseClient.subscribe(url: server.url, prefix: h.prefix, requester: "app1", spec: "MSFT", ttlMs: 60_000, priority: nil) }
        try lease()
        #expect(await h.wait(.seconds(15)) { Self.status(h, "app1", "MSFT")["state"] == "active" })
        // `active` means a line is granted; the gateway has it a moment later.
        #expect(await h.waitAsync(.seconds(10)) { await h.stockSubscription("MSFT") != nil })
        let line = await h.stockSubscription("MSFT")
        // Redis restarts empty (no persistence): the leases are gone until the application's
        // next refresh; the line is kept through the grace, so there is no churn at IB.
        server.kill()
        try server.restart()
        let reconnected = await h.wait(.seconds(10)) { (try? RedisConnection(url: server.url)) != nil }
        #expect(reconnected)
        try lease()
        let fresh = try RedisConnection(url: server.url)
        #expect(await h.wait(.seconds(15)) {
            (try? fresh.command(["HGET", "\(h.prefix):request:app1:MSFT", "state"]).string) == "active"
        })
        #expect(await h.stockSubscription("MSFT") == line)
        try await h.stop()
    }

    @Test func aRequestedOptionWindowIsServedAndReleasedWithItsUnderlying() async throws {
        let h = try await WorkerHarness.start(Self.options())
        try Self.lease(h, "app1", "SPY#options=1x2", ttlMs: 3_000)
        // The quote and 1 expiry x 5 strikes x call/put, with greeks.
        #expect(await h.waitAsync(.seconds(20)) {
            await h.ib.subscriptions().filter { $0.clientId == 5 && $0.secType == "OPT" && $0.symbol == "SPY" }.count == 10
        })
        #expect(Self.status(h, "app1", "SPY#options=1x2")["state"] == "active")
        #expect(await h.wait(.seconds(10)) { h.keys("option:SPY:*").contains { h.hash(String($0.dropFirst(h.prefix.count + 1)))["delta"] != nil } })
        #expect(h.hash("chain:SPY")["strikes"] != nil)
        #expect(await h.ib.subscriptions().filter { $0.clientId == 5 }.count == 12)
        // The lease lapses: the underlying and every option line are cancelled at the gateway.
        #expect(await h.waitAsync(.seconds(15)) { await Self.gatewayLines(h) == ["AAPL"] })
        try await h.stop()
    }

    @Test func pinnedWindowsComeFirstAndRequestsGetOnlyWhatIsLeft() async throws {
        // Pinned: AAPL, SPY and a 1 x 1 SPY window (6 options) = 8 of 10 lines; 2 are left.
        let pinned = [SymbolSpec(symbol: "AAPL"), SymbolSpec(symbol: "SPY", options: .init(expirations: 1, strikesAroundATM: 1))]
        let h = try await WorkerHarness.start(Self.options(maxLines: 10, symbols: pinned))
        #expect(await h.waitAsync(.seconds(20)) { await h.ib.subscriptions().filter { $0.clientId == 5 && $0.secType == "OPT" }.count == 6 })
        try Self.lease(h, "app1", "QQQ#options=1x1", ttlMs: 120_000)
        try Self.lease(h, "app1", "MSFT", ttlMs: 120_000)
        try Self.lease(h, "app2", "NVDA", ttlMs: 120_000)
        #expect(await h.wait(.seconds(15)) {
            Self.status(h, "app1", "MSFT")["state"] == "active" && Self.status(h, "app2", "NVDA")["state"] == "active"
        })
        try Self.lease(h, "app2", "IWM", ttlMs: 120_000)
        #expect(await h.wait(.seconds(15)) { Self.status(h, "app2", "IWM")["state"] == "queued" })
        #expect(Self.status(h, "app1", "QQQ#options=1x1")["reason"] == "not allowed: needs 7 market data lines, only 2 exist for requests (ib.max_market_data_lines minus the pinned instruments)")
        #expect(await h.waitAsync(.seconds(10)) { await Self.gatewayLines(h).filter { $0 != "SPY" } == ["AAPL", "MSFT", "NVDA"] })
        let lines = await h.ib.subscriptions().filter { $0.clientId == 5 }
        #expect(lines.count == 10)
        #expect(lines.filter { $0.secType == "OPT" && $0.symbol == "SPY" }.count == 6)
        try await h.stop()
    }

    /// Skeptic F5, F6: a window lease on an underlying already leased plain gets its window
    /// (active only once served); given up, its option lines go after the grace and the
    /// quote line stays.
    @Test func aWindowLeaseOnAnUnderlyingLeasedPlainIsServedAndItsLinesGoAfterTheGrace() async throws {
        let h = try await WorkerHarness.start(Self.options())
        func options() async -> Int {
            await h.ib.subscriptions().filter { $0.clientId == 5 && $0.secType == "OPT" && $0.symbol == "NVDA" }.count
        }
        try Self.lease(h, "p1", "NVDA", ttlMs: 120_000)
        #expect(await h.wait(.seconds(15)) { Self.status(h, "p1", "NVDA")["state"] == "active" })
        try Self.lease(h, "p2", "NVDA#options=1x2", ttlMs: 120_000)
        #expect(await h.waitAsync(.seconds(20)) { await options() == 10 })
        #expect(Self.status(h, "p2", "NVDA#options=1x2")["state"] == "active")
        #expect(await h.wait(.seconds(10)) { !h.keys("option:NVDA:*").isEmpty && h.hash("chain:NVDA")["strikes"] != nil })
        // A wider window of the same underlying: the line serves the union (2 x 3 = 28 options).
        try Self.lease(h, "p3", "NVDA#options=2x3", ttlMs: 120_000)
        #expect(await h.waitAsync(.seconds(20)) { await options() == 28 })
        #expect(Self.status(h, "p3", "NVDA#options=2x3")["state"] == "active")
        // Both windows given up: after the grace (1 s) only the quote line is left.
        let url = try #require(WorkerHarness.redisURL)
        #expect(try LeaseClient.unsubscribe(url: url, prefix: h.prefix, requester: "p3", spec: "NVDA#options=2x3"))
        #expect(await h.waitAsync(.seconds(15)) { await options() == 10 })
        #expect(try LeaseClient.unsubscribe(url: url, prefix: h.prefix, requester: "p2", spec: "NVDA#options=1x2"))
        #expect(await h.waitAsync(.seconds(15)) { await options() == 0 })
        #expect(await Self.gatewayLines(h) == ["AAPL", "NVDA"])
        #expect(Self.status(h, "p1", "NVDA")["state"] == "active")
        try await h.stop()
    }
}
