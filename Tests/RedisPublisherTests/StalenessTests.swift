import Foundation
import MarketModel
import Testing
@testable import RedisPublisher
import QRTestSupport

/// staleness.lua through `Publisher.checkStaleness`, with Redis' own clock. The old records
/// are a minute older than the threshold, so the outcome does not depend on timing.
@Suite("staleness.lua (real redis-server)")
struct StalenessTests {
    @Test func flagsOldKeysOnceAndUnflagsThemWhenFreshDataArrives() async throws {
        let (publisher, prefix, _) = try TestRedis.startedPublisher("stale")
        defer { publisher.stop() }
        let redis = try TestRedis.connection()
        let now = Fixtures.nowMs
        publisher.publish(Fixtures.quote("OLD", updatedMs: now - 70_000))
        publisher.publish(Fixtures.quote("NEW", updatedMs: now))
        var option = OptionSnapshot(symbol: "OLD", expiry: "20261218", strike: 100, right: .put)
        option.bid = 1.5
        publisher.publish(option.record(source: .ib, updatedMs: now - 80_000))
        #expect(await publisher.flush(timeout: .seconds(10)))

        var change = try await publisher.checkStaleness(thresholdMs: 30_000)
        #expect(Set(change.newlyStale) == ["quote:OLD", "option:OLD:20261218:100:P"])
        #expect(change.newlyFresh == [])
        #expect(change.expired == [])
        #expect(change.staleCount == 2)
        #expect(abs(change.redisTimeMs - Fixtures.nowMs) < 60_000)
        #expect(try redis.command(["HGET", "\(prefix):quote:OLD", "stale"]) == .string("1"))
        #expect(try redis.command(["HGET", "\(prefix):option:OLD:20261218:100:P", "stale"]) == .string("1"))
        #expect(try redis.command(["HGET", "\(prefix):quote:NEW", "stale"]) == .string("0"))
        #expect(try redis.command(["SMEMBERS", "\(prefix):stale"]).array?.count == 2)

        // Still stale: nothing new to report.
        change = try await publisher.checkStaleness(thresholdMs: 30_000)
        #expect(change.newlyStale == [] && change.newlyFresh == [] && change.staleCount == 2)

        // A write confirms the data (stale=0 at once); the next check reports it fresh.
        publisher.publish(Fixtures.quote("OLD", updatedMs: Fixtures.nowMs))
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(try redis.command(["HGET", "\(prefix):quote:OLD", "stale"]) == .string("0"))
        change = try await publisher.checkStaleness(thresholdMs: 30_000)
        #expect(change.newlyFresh == ["quote:OLD"])
        #expect(change.newlyStale == [])
        #expect(change.staleCount == 1)
        #expect(try redis.command(["HGET", "\(prefix):quote:OLD", "stale"]) == .string("0"))

        // A rewrite with data older than the last check's threshold (a key written again after
        // a Redis restart or refusal) is stale from the start, never flagged fresh for the
        // moment until the next check; that check does not report it stale twice.
        publisher.publish(option.record(source: .ib, updatedMs: now - 80_000))
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(try redis.command(["HGET", "\(prefix):option:OLD:20261218:100:P", "stale"]) == .string("1"))
        change = try await publisher.checkStaleness(thresholdMs: 30_000)
        #expect(change.newlyStale == [] && change.staleCount == 1)
        #expect(try redis.command(["HGET", "\(prefix):option:OLD:20261218:100:P", "stale"]) == .string("1"))
    }

    @Test func aFlagChangeIsAWriteThatSubscribersSee() async throws {
        let (publisher, prefix, _) = try TestRedis.startedPublisher("staleps")
        defer { publisher.stop() }
        let redis = try TestRedis.connection()
        let channel = "\(prefix):quote:OLD"
        publisher.publish(Fixtures.quote("OLD", updatedMs: Fixtures.nowMs - 70_000))
        #expect(await publisher.flush(timeout: .seconds(10)))
        let subscriber = try TestRedis.connection()
        #expect(try subscriber.command(["SUBSCRIBE", channel]).array?.count == 3)

        let change = try await publisher.checkStaleness(thresholdMs: 30_000)
        #expect(change.newlyStale == ["quote:OLD"])
        let message = try subscriber.readReply().array ?? []
        #expect(message.first == .string("message"))
        let payload = message.last?.string ?? ""
        let object = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] ?? [:]
        let hash = try redis.hgetall(channel)
        // The message is the hash plus key and type, numbers as JSON numbers, seq bumped.
        #expect(hash["stale"] == "1" && hash["seq"] == "2")
        #expect(Set(object.keys) == Set(hash.keys).union(["key", "type"]))
        #expect((object["stale"] as? Int) == 1 && (object["seq"] as? Int) == 2)
        #expect((object["symbol"] as? String) == "OLD" && (object["source"] as? String) == "ib")
        #expect((object["key"] as? String) == channel && (object["type"] as? String) == "quote")
        #expect((object["bid"] as? Double) == Double(hash["bid"] ?? ""))
    }

    /// Skeptic F9: an FX, index or future quote and an SPXW option carry text fields
    /// (`sec_type`, `local_symbol`, `currency`, `trading_class`) the stale flip must quote.
    @Test func aFlagChangeOfAnFXQuoteAndAnIndexOptionIsValidJSON() async throws {
        let prefix = TestRedis.uniquePrefix("stalefx")
        let publisher = try TestRedis.publisher(try TestRedis.configuration(prefix: prefix))
        publisher.start()
        defer { publisher.stop() }
        var fx = QuoteSnapshot(symbol: "EUR.USD")
        fx.bid = 1.0841
        fx.ask = 1.0843
        fx.secType = "CASH"
        fx.localSymbol = "EUR.USD"
        fx.currency = "USD"
        fx.dataType = .live
        let channel = "\(prefix):quote:EUR.USD"
        publisher.publish(fx.record(source: .ib, updatedMs: Fixtures.nowMs - 70_000))
        #expect(await publisher.flush(timeout: .seconds(10)))
        let subscriber = try TestRedis.connection()
        #expect(try subscriber.command(["SUBSCRIBE", channel]).array?.count == 3)
        let change = try await publisher.checkStaleness(thresholdMs: 30_000)
        #expect(change.newlyStale == ["quote:EUR.USD"])
        let payload = (try subscriber.readReply().array ?? []).last?.string ?? ""
        let object = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] ?? [:]
        #expect((object["sec_type"] as? String) == "CASH")
        #expect((object["local_symbol"] as? String) == "EUR.USD")
        #expect((object["currency"] as? String) == "USD")
        #expect((object["symbol"] as? String) == "EUR.USD")
        #expect((object["bid"] as? Double) == 1.0841 && (object["stale"] as? Int) == 1)
    }

    @Test func expiredKeysLeaveTheIndex() async throws {
        let (publisher, prefix, _) = try TestRedis.startedPublisher("expired")
        defer { publisher.stop() }
        let redis = try TestRedis.connection()
        let now = Fixtures.nowMs
        publisher.publish(Fixtures.quote("GONE", updatedMs: now - 70_000))
        publisher.publish(Fixtures.quote("FLAGGED", updatedMs: now - 70_000))
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(try await publisher.checkStaleness(thresholdMs: 30_000).staleCount == 2)
        // Both hashes expire (TTL); one of them was flagged, so it sits in P:stale too.
        try redis.command(["DEL", "\(prefix):quote:GONE", "\(prefix):quote:FLAGGED"])
        publisher.publish(Fixtures.quote("LATE", updatedMs: now - 70_000))
        #expect(await publisher.flush(timeout: .seconds(10)))
        try redis.command(["DEL", "\(prefix):quote:LATE"])
        let change = try await publisher.checkStaleness(thresholdMs: 30_000)
        #expect(Set(change.expired) == ["quote:GONE", "quote:FLAGGED", "quote:LATE"])
        #expect(change.newlyStale == [] && change.newlyFresh == [] && change.staleCount == 0)
        #expect(try redis.command(["ZCARD", "\(prefix):updated"]) == .integer(0))
        #expect(try redis.command(["EXISTS", "\(prefix):stale"]) == .integer(0))
    }

    @Test func anUnreachableRedisFailsTheCheckAtOnce() async throws {
        let port = try RedisServerProcess.freePort()
        let publisher = try TestRedis.publisher(try TestRedis.configuration(prefix: "x", url: RedisURL(host: "127.0.0.1", port: port)))
        publisher.start()
        defer { publisher.stop() }
        do {
            _ = try await publisher.checkStaleness(thresholdMs: 1000)
            Issue.record("the check succeeded without Redis")
        } catch let error as RedisError {
            #expect(error.code == .notConnected)
        }
    }
}
