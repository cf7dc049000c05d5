import Foundation
import MarketData
import MarketModel
import RedisPublisher
import Testing

@testable import Relay

/// How the worker reads `P:leases:priority` scores: as the CLI's listing does, so an
/// application that writes `+inf` is served at the highest allowed priority, not the lowest.
@Suite struct LeaseStorePriorityTests {
    @Test func scoresBecomePriorities() {
        #expect(LeaseStore.priority(score: 7) == 7)
        #expect(LeaseStore.priority(score: 6.6) == 7)
        #expect(LeaseStore.priority(score: -3) == -3)
        #expect(LeaseStore.priority(score: .infinity) == .max)
        #expect(LeaseStore.priority(score: 1e300) == .max)
        #expect(LeaseStore.priority(score: -.infinity) == .min)
        #expect(LeaseStore.priority(score: .nan) == 0)
    }
}

/// Status writes against a real redis-server: a refreshed lease extends its status hash's TTL
/// without rewriting or publishing it; a status hash that is gone is written and published whole.
@Suite("LeaseStore status writes (real redis-server)")
struct LeaseStoreWriteTests {
    @Test func aRefreshExtendsTheTTLAndPublishesNothing() async throws {
        let url = try RedisURL(parsing: try CLITestRedis.url())
        let prefix = "lsw\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let store = LeaseStore(prefix: prefix) { () throws(RedisError) -> RedisConnection in try RedisConnection(url: url) }
        defer { store.close() }
        let redis = try RedisConnection(url: url)
        defer { redis.close() }
        let ref = LeaseArbiter.RequestRef(requester: "app1", spec: "MSFT")
        let key = "\(prefix):request:app1:MSFT"
        // The requester's channel, as an application follows it.
        let subscriber = try RedisConnection(url: url)
        defer { subscriber.close() }
        _ = try subscriber.command(["SUBSCRIBE", "\(prefix):request:app1"])

        try await store.write(statuses: [.init(ref: ref, state: .active, keySymbol: "MSFT", ttlMs: 60_000)], drop: [], nowMs: 1_000)
        #expect(try redis.command(["HGET", key, "updated_ms"]).string == "1000")
        #expect(try redis.command(["HGET", key, "state"]).string == "active")
        let first = try subscriber.readReply()
        #expect(first.array?.last?.string?.contains("\"state\":\"active\"") == true)

        // Refreshed: the TTL grows, the hash is untouched (updated_ms stays), nothing is published.
        try await store.write(statuses: [.init(ref: ref, state: .active, keySymbol: "MSFT", ttlMs: 120_000, refreshOnly: true)], drop: [], nowMs: 2_000)
        let ttl = try #require(try redis.command(["PTTL", key]).int)
        #expect(ttl > 60_000 && ttl <= 120_000)
        #expect(try redis.command(["HGET", key, "updated_ms"]).string == "1000")

        // Gone (a Redis restart or FLUSHDB): the refresh writes it whole and publishes it.
        _ = try redis.command(["DEL", key])
        try await store.write(statuses: [.init(ref: ref, state: .active, keySymbol: "MSFT", ttlMs: 90_000, refreshOnly: true)], drop: [], nowMs: 3_000)
        #expect(try redis.command(["HGET", key, "updated_ms"]).string == "3000")
        #expect(try redis.command(["HGET", key, "key"]).string == "quote:MSFT")
        let again = try subscriber.readReply()
        // The next message on the channel is the rewrite at 3000, not one for the refresh at 2000.
        #expect(again.array?.last?.string?.contains("\"ts_ms\":3000") == true)
    }
}

/// A leased window takes its lines nearest expiry first across the trading classes IB lists:
/// `IND:SPX@CBOE#options=1x1` is today's SPXW, not the SPX monthly three weeks out (skeptic F12).
@Suite struct RequestedWindowOrderTests {
    @Test func nearestExpiryFirstAcrossClassesThenTheWindowsOrder() {
        func key(_ cls: String, _ expiry: String, _ strike: Double, _ right: OptionRight) -> OptionKey {
            OptionKey(expiry: expiry, strike: strike, right: right, tradingClass: cls)
        }
        // As the window lists them: class by class (SPX first), strikes and rights within.
        let spx = [key("SPX", "20261218", 6000, .call), key("SPX", "20261218", 6000, .put), key("SPX", "20270115", 6000, .call)]
        let spxw = [key("SPXW", "20261130", 6000, .call), key("SPXW", "20261130", 6000, .put), key("SPXW", "20261218", 6000, .call)]
        let ordered = Worker.nearestFirst(spx + spxw)
        #expect(ordered == [spxw[0], spxw[1], spx[0], spx[1], spxw[2], spx[2]])
        #expect(Set(ordered.prefix(2)) == Set(spxw.prefix(2)))
    }
}
