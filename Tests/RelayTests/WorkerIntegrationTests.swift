import Foundation
import MarketModel
import Prometheus
import Relay
import Simulators
import Testing

/// The worker end to end: IB Gateway simulator -> worker -> real Redis (and the Alpha Vantage
/// simulator for failover). Thresholds are seconds, not minutes: they are configuration.
@Suite(.serialized)
struct WorkerIntegrationTests {
    static let priceFields: [Int32: String] = [1: "bid", 2: "ask", 4: "last", 6: "high", 7: "low", 9: "close", 14: "open"]
    static let sizeFields: [Int32: String] = [0: "bid_size", 3: "ask_size", 5: "last_size", 8: "volume"]

    @Test func redisEqualsWhatTheGatewaySentAndStopsCleanly() async throws {
        let h = try await WorkerHarness.start()
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil && h.hash("quote:MSFT")["last"] != nil })
        try await Task.sleep(for: .seconds(1))
        #expect(await h.ib.control("stall").hasPrefix("OK"))
        try await Task.sleep(for: .milliseconds(500))  // in-flight ticks land, the publisher drains
        for symbol in ["AAPL", "MSFT"] {
            let sub = try #require(await h.stockSubscription(symbol))
            let sent = await h.ib.sentTicks(clientId: sub.clientId, reqId: sub.reqId)
            let hash = h.hash("quote:\(symbol)")
            #expect(hash["source"] == "ib")
            #expect(hash["data_type"] == "live")
            #expect(hash["stale"] == "0")
            for (tickType, values) in sent {
                guard let last = values.last else { continue }
                switch last {
                case .price(let p):
                    guard let field = Self.priceFields[tickType] else { continue }
                    #expect(hash[field] == p.flatMap(DecimalFormat.string), "\(symbol) \(field)")
                case .size(let s):
                    guard let field = Self.sizeFields[tickType] else { continue }
                    if field == "bid_size" && hash["bid"] == nil || field == "ask_size" && hash["ask"] == nil { continue }
                    #expect(hash[field] == DecimalFormat.string(s), "\(symbol) \(field)")
                case .string(let text) where tickType == 45:
                    #expect(hash["last_trade_ms"] == Int64(text).map { String($0 * 1000) })
                default: continue
                }
            }
        }
        // Nothing that IB uses as "unset" reaches Redis, and every number is plain decimal.
        // (`change` and `change_percent` are differences: -1 is a value there.)
        for key in h.keys("quote:*") {
            for (field, value) in h.hash(String(key.dropFirst(h.prefix.count + 1))) {
                let unset = !field.hasPrefix("change") && value == "-1"
                #expect(!value.isEmpty && !unset && !value.contains("E") && !value.contains("e+") && value != "2147483647", "\(key) \(field)=\(value)")
            }
        }
        let seqBefore = Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0
        #expect(seqBefore > 1)
        var status: [String: String] = [:]
        try await h.stop { status = h.status() }
        #expect(status["state"] == "stopped")
        #expect(status["source"] == "ib")
    }

    @Test func optionChainWindowAndGreeks() async throws {
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(symbol: "SPY", options: .init(expirations: 1, strikesAroundATM: 2))]
        let h = try await WorkerHarness.start(o)
        defer { Task { try? await h.stop() } }
        #expect(await h.wait(.seconds(15)) { h.keys("option:SPY:*").count == 10 })
        let chain = h.hash("chain:SPY")
        #expect(chain["source"] == "ib")
        #expect(chain["trading_class"] == "SPY")
        let expirations = (chain["expirations"] ?? "").split(separator: ",").map(String.init)
        #expect(expirations == expirations.sorted() && !expirations.isEmpty)
        #expect(await h.wait(.seconds(10)) {
            h.keys("option:SPY:*").allSatisfy { key in
                let fields = h.hash(String(key.dropFirst(h.prefix.count + 1)))
                return fields["delta"] != nil && fields["gamma"] != nil && fields["iv"] != nil && fields["und_price"] != nil
            }
        })
        let keys = h.keys("option:SPY:*")
        let first = try #require(keys.first)
        let fields = h.hash(String(first.dropFirst(h.prefix.count + 1)))
        #expect(fields["right"] == "C" || fields["right"] == "P")
        #expect(fields["con_id"] != nil)
        #expect(fields["open_interest"].flatMap(Double.init) != nil, "generic tick 101: open interest")
        #expect(fields["expiry"] == expirations.first)
        #expect(keys.allSatisfy { $0.contains(":\(expirations[0]):") })
        // Calls and puts on the same 5 strikes.
        #expect(Set(keys.map { $0.split(separator: ":").last! }) == ["C", "P"])
        try await h.stop()
    }

    /// The chain is written once at start-up; without a refresh `P:chain:SYM` expired after
    /// `redis.chain_ttl_seconds` and never came back.
    @Test func optionChainIsRefreshedBeforeItsTTLRunsOut() async throws {
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(symbol: "SPY", options: .init(expirations: 1, strikesAroundATM: 1))]
        o.chainTTL = .seconds(2)
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("chain:SPY")["source"] == "ib" })
        let first = h.hash("chain:SPY")
        // Re-listed about every second (half the TTL): the third write comes after the first
        // TTL would have run out. Waited for, not slept: a loaded machine may be late.
        #expect(await h.wait(.seconds(20)) { (Int(h.hash("chain:SPY")["seq"] ?? "0") ?? 0) >= 3 }, "re-listed before its TTL ran out")
        let later = h.hash("chain:SPY")
        #expect(later["strikes"] == first["strikes"] && later["expirations"] == first["expirations"])
        #expect((Int64(later["updated_ms"] ?? "0") ?? 0) > (Int64(first["updated_ms"] ?? "0") ?? 0))
        let ttl = try h.redis.command(["PTTL", "\(h.prefix):chain:SPY"]).int ?? -2
        #expect(ttl > 0 && ttl <= 2000)
        try await h.stop()
    }

    /// `quote_relay_redis_write_latency_seconds` stayed at count 0: the publisher measured
    /// every write but nothing carried the figures into the metrics.
    @Test func redisWriteLatencyReachesMetrics() async throws {
        let registry = PrometheusCollectorRegistry()
        var o = WorkerHarness.Options()
        o.metrics = RelayMetrics(factory: RelayMetrics.makeFactory(registry: registry))
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil })
        func samples() -> [String: Double] {
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            var out: [String: Double] = [:]
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                if parts.count == 2 { out[String(parts[0])] = Double(parts[1]) }
            }
            return out
        }
        // The status loop (every heartbeat, 1 s here) mirrors the publisher's figures.
        #expect(await h.wait(.seconds(5)) { (samples()["quote_relay_redis_write_latency_seconds_count"] ?? 0) > 0 })
        let now = samples()
        let count = now["quote_relay_redis_write_latency_seconds_count"] ?? 0
        #expect(count == now["quote_relay_redis_writes_total"], "one latency sample per write")
        #expect((now["quote_relay_redis_write_latency_seconds_sum"] ?? 0) > 0)
        try await h.stop()
    }

    @Test func lineBudgetLeavesOutFartherOptionsAndSaysSo() async throws {
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(symbol: "AAPL"), SymbolSpec(symbol: "SPY", options: .init(expirations: 1, strikesAroundATM: 2))]
        o.maxLines = 6
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(15)) { h.keys("option:SPY:*").count == 4 })
        try await Task.sleep(for: .seconds(1))
        let subs = await h.ib.subscriptions().filter { $0.clientId == 5 }
        #expect(subs.count == 6)
        #expect(h.keys("option:SPY:*").count == 4)
        #expect(await h.wait(.seconds(3)) { h.status()["lines_left_out"] != nil })
        try await h.stop()
    }

    @Test func unknownSymbolIsReportedWhileOthersFlow() async throws {
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(symbol: "NOPE"), SymbolSpec(symbol: "AAPL")]
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["last"] != nil })
        #expect(await h.wait(.seconds(5)) { (h.status()["problems"] ?? "").contains("NOPE") })
        #expect(h.hash("quote:NOPE").isEmpty)
        #expect(h.status()["state"] == "connected")
        try await h.stop()
    }

    @Test func stalledGatewayFailsOverToAlphaVantageAndBack() async throws {
        var o = WorkerHarness.Options()
        o.quickFailover()
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil })
        let stalledAt = ContinuousClock.now
        #expect(await h.ib.control("stall").hasPrefix("OK"))
        let failedOver = await h.wait(.seconds(10)) { h.hash("quote:AAPL")["source"] == "alphavantage" }
        #expect(failedOver)
        let failoverTime = ContinuousClock.now - stalledAt
        // staleness + one check interval + a probe timeout, with slack for a loaded machine.
        #expect(failoverTime < .seconds(6), "failover took \(failoverTime)")
        let av = h.hash("quote:AAPL")
        #expect(av["data_type"] == "alphavantage_realtime")
        #expect(av["bid_size"] == nil, "IB-only fields are removed on the source switch")
        #expect(av["last"] != nil)
        let status = h.status()
        #expect(status["state"] == "failover")
        #expect((status["failover_reason"] ?? "").contains("probe"))
        #expect(status["failover_since_ms"] != nil)

        let resumedAt = ContinuousClock.now
        #expect(await h.ib.control("resume").hasPrefix("OK"))
        #expect(await h.wait(.seconds(15)) { h.hash("quote:AAPL")["source"] == "ib" })
        let failbackTime = ContinuousClock.now - resumedAt
        #expect(failbackTime >= .seconds(2), "failback must wait for the stable period")
        #expect(await h.wait(.seconds(3)) { h.status()["state"] == "connected" })
        #expect(h.hash("quote:AAPL")["data_type"] == "live")
        print("measured: stall -> failover \(failoverTime), resume -> failback \(failbackTime)")
        try await h.stop()
    }

    @Test func quietGatewayDoesNotFailOver() async throws {
        var o = WorkerHarness.Options()
        o.withAlphaVantage = true
        o.staleness = .seconds(1)
        o.checkInterval = .milliseconds(300)
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil })
        #expect(await h.ib.control("quiet").hasPrefix("OK"))
        let before = Int64(h.hash("quote:AAPL")["updated_ms"] ?? "0") ?? 0
        // The decision (an answered probe keeps a quiet symbol on IB) is unit-tested in
        // WorkerCoreTests; here the wiring: the probe's snapshot reaches Redis as IB's.
        #expect(await h.wait(.seconds(8)) { (Int64(h.hash("quote:AAPL")["updated_ms"] ?? "0") ?? 0) > before },
                "the answered probe refreshes updated_ms")
        let after = h.hash("quote:AAPL")
        #expect(after["source"] == "ib", "a quiet symbol whose probe answers is not a failure")
        #expect(h.status()["state"] == "connected")
        try await h.stop()
    }

    @Test func refusedConnectionsBeyondTheRetryLimitFailOver() async throws {
        var o = WorkerHarness.Options()
        o.withAlphaVantage = true
        o.initialCommands = ["refuse 60"]
        o.maxReconnectAttempts = 2
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["source"] == "alphavantage" })
        let status = h.status()
        #expect(status["state"] == "failover")
        #expect((status["failover_reason"] ?? "").contains("consecutive"))
        #expect(Int(status["reconnect_attempts"] ?? "0") ?? 0 >= 2)
        try await h.stop()
    }

    /// The gateway drops a working connection now and then and takes the next attempt at once:
    /// no attempt failed, data flowed between, so however many drops, nothing fails over
    /// (the skeptic's scenario 35, here with a 2-attempt limit and a 1 s heartbeat).
    @Test func dropsOfWorkingConnectionsDoNotFailOver() async throws {
        var o = WorkerHarness.Options()
        o.withAlphaVantage = true
        o.maxReconnectAttempts = 2
        o.reconnectInitial = .milliseconds(50)
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["source"] == "ib" })
        for drop in 1...4 {
            // Up for three heartbeat intervals, streaming, then dropped by the gateway.
            let seq = Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0
            #expect(await h.wait(.seconds(10)) { (Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0) > seq + 2 }, "drop \(drop): streaming")
            try await Task.sleep(for: .seconds(3))
            #expect(await h.ib.control("drop").hasPrefix("OK"))
            #expect(await h.wait(.seconds(10)) { h.worker.sessionStatus.state.isSessionUp }, "drop \(drop): reconnected")
            #expect(h.status()["state"] != "failover" && h.hash("quote:AAPL")["source"] == "ib", "drop \(drop) failed over")
        }
        let seq = Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0
        #expect(await h.wait(.seconds(10)) { (Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0) > seq })
        #expect(h.hash("quote:AAPL")["source"] == "ib")
        #expect(h.status()["failover_reason"] == nil)
        try await h.stop()
    }

    @Test func farmOutageWithoutAlphaVantageFlagsStale() async throws {
        var o = WorkerHarness.Options()
        o.staleness = .seconds(1)
        o.checkInterval = .milliseconds(300)
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil })
        #expect(await h.ib.control("farm-down usfarm").hasPrefix("OK"))
        #expect(await h.wait(.seconds(8)) { h.hash("quote:AAPL")["stale"] == "1" })
        #expect(h.hash("quote:AAPL")["source"] == "ib", "without an Alpha Vantage key the data stays IB's, flagged stale")
        #expect(await h.wait(.seconds(3)) { h.status()["state"] == "degraded" })
        #expect(await h.ib.control("farm-up usfarm").hasPrefix("OK"))
        #expect(await h.wait(.seconds(8)) { h.hash("quote:AAPL")["stale"] == "0" })
        try await h.stop()
    }

    @Test func malformedFramesFromTheGatewayAreSkippedAndCounted() async throws {
        let h = try await WorkerHarness.start()
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil })
        #expect(await h.ib.control("malformed") == "OK malformed")
        #expect(await h.wait(.seconds(5)) {
            let s = h.worker.sessionStatus
            return s.skippedMessages >= 1 && s.undecodableMessages >= 4
        })
        // Nothing of the garbage reached Redis, and data keeps flowing on the same connection.
        let seq = Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0
        #expect(await h.wait(.seconds(5)) { (Int(h.hash("quote:AAPL")["seq"] ?? "0") ?? 0) > seq })
        for key in h.keys("quote:*") {
            let fields = h.hash(String(key.dropFirst(h.prefix.count + 1)))
            #expect(fields.values.allSatisfy { !$0.contains("not-a-number") })
            #expect(fields["bid"].flatMap(Double.init) != nil)
        }
        #expect(h.status()["state"] == "connected")
        #expect(h.worker.sessionStatus.totalReconnects == 0, "a bad frame is skipped, not a reason to reconnect")
        try await h.stop()
    }

    @Test func quietLinesAreKeptAliveBySnapshotsAndExpireWhenIBCannotConfirm() async throws {
        var o = WorkerHarness.Options()
        o.quoteTTL = .seconds(3)
        let h = try await WorkerHarness.start(o)
        #expect(await h.wait(.seconds(10)) { h.hash("quote:AAPL")["bid"] != nil })
        // Quiet: no ticks, but snapshots answered (a closed market behaves like this).
        #expect(await h.ib.control("quiet").hasPrefix("OK"))
        try await Task.sleep(for: .milliseconds(300))
        let before = Int64(h.hash("quote:AAPL")["updated_ms"] ?? "0") ?? 0
        try await Task.sleep(for: .seconds(5))
        let kept = h.hash("quote:AAPL")
        #expect(kept["bid"] != nil, "a quiet line's key outlives its TTL: the keep-alive snapshot confirmed it")
        #expect((Int64(kept["updated_ms"] ?? "0") ?? 0) > before)
        // Stalled: snapshots unanswered, so nothing confirms the value and the key expires.
        #expect(await h.ib.control("stall").hasPrefix("OK"))
        #expect(await h.wait(.seconds(8)) { h.hash("quote:AAPL").isEmpty })
        try await h.stop()
    }
}
