import Foundation
import MarketModel
import Testing
@testable import RedisPublisher
import QRTestSupport

@Suite("Publisher (real redis-server)")
struct PublisherBehaviourTests {
    @Test func updatesOfOneKeyWaitingForTheWriterCoalesceToTheLatest() async throws {
        let prefix = TestRedis.uniquePrefix("coalesce")
        let publisher = try TestRedis.publisher(try TestRedis.configuration(prefix: prefix))
        // Not started yet: every update waits, as behind a write in flight.
        for i in 1...100 { publisher.publish(Fixtures.quote("AAPL", bid: Double(i))) }
        publisher.publish(Fixtures.quote("MSFT", bid: 1))
        var stats = publisher.stats
        #expect(stats.coalesced == 99)
        #expect(stats.pendingKeys == 2)
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.flush(timeout: .seconds(10)))
        let redis = try TestRedis.connection()
        let hash = try redis.hgetall("\(prefix):quote:AAPL")
        #expect(hash["bid"] == "100")
        #expect(hash["seq"] == "1")
        stats = publisher.stats
        #expect(stats.writes == 2)
        #expect(stats.batches == 1)
        #expect(stats.pendingKeys == 0)
        #expect(stats.latency.count == 2)
        #expect(stats.connected)
    }

    @Test func manyKeysArePipelinedAndAllArrive() async throws {
        let (publisher, prefix, _) = try TestRedis.startedPublisher("many")
        defer { publisher.stop() }
        for round in 1...3 {
            for i in 0..<2000 { publisher.publish(Fixtures.quote("S\(i)", bid: Double(round))) }
        }
        #expect(await publisher.flush(timeout: .seconds(20)))
        let redis = try TestRedis.connection()
        let bids = try redis.pipeline((0..<2000).map { ["HGET", "\(prefix):quote:S\($0)", "bid"] })
        #expect(bids.allSatisfy { $0 == .string("3") })
        #expect(try redis.command(["ZCARD", "\(prefix):updated"]) == .integer(2000))
        let stats = publisher.stats
        #expect(stats.writes + stats.coalesced == 6000)
        #expect(stats.batches < stats.writes)  // pipelined: many writes per round trip
    }

    @Test func eventsArePublishedOnTheEventsChannel() async throws {
        let prefix = TestRedis.uniquePrefix("events")
        let subscriber = try TestRedis.connection()
        try subscriber.command(["SUBSCRIBE", "\(prefix):events"])
        let publisher = try TestRedis.publisher(try TestRedis.configuration(prefix: prefix))
        publisher.start()
        defer { publisher.stop() }
        let event = #"{"type":"state","worker":"w1","ts_ms":1,"from":"connecting","to":"connected"}"#
        publisher.publishEvent(event)
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(try subscriber.readReply() == .array([.string("message"), .string("\(prefix):events"), .string(event)]))
        #expect(publisher.stats.eventsPublished == 1)
    }

    @Test func eventsBeyondTheBoundAreDroppedAndCounted() async throws {
        let prefix = TestRedis.uniquePrefix("overflow")
        var configuration = try TestRedis.configuration(prefix: prefix)
        configuration.maxPendingEvents = 3
        let publisher = try TestRedis.publisher(configuration)
        for i in 0..<5 { publisher.publishEvent(#"{"type":"ib_error","n":\#(i)}"#) }
        #expect(publisher.stats.eventsDropped == 2)
        #expect(publisher.stats.pendingEvents == 3)
        publisher.start()
        defer { publisher.stop() }
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(publisher.stats.eventsPublished == 3)
        #expect(publisher.stats.eventsDropped == 2)
    }

    @Test func statusHashIsReplacedWholeWithItsTTL() async throws {
        let (publisher, prefix, _) = try TestRedis.startedPublisher("status")
        defer { publisher.stop() }
        let redis = try TestRedis.connection()
        let key = "\(prefix):worker:w1"
        // The TTL left is the TTL set minus the time the write took: bounded with the time this
        // test measured (monotonic), however slow a loaded machine is to flush.
        let clock = ContinuousClock()
        var start = clock.now
        publisher.setStatus([("state", "failover"), ("source", "alphavantage"), ("failover_reason", "stale"), ("last_error", "")], ttl: .seconds(30))
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(try redis.hgetall(key) == ["state": "failover", "source": "alphavantage", "failover_reason": "stale"])
        var ttl = try redis.pttl(key)
        var elapsedMs = Int64((clock.now - start) / .milliseconds(1)) + 1
        #expect(ttl >= 30_000 - elapsedMs && ttl <= 30_000, "PTTL \(ttl) after \(elapsedMs) ms")
        start = clock.now
        publisher.setStatus([("state", "connected"), ("source", "ib")], ttl: .seconds(20))
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(try redis.hgetall(key) == ["state": "connected", "source": "ib"])
        ttl = try redis.pttl(key)
        elapsedMs = Int64((clock.now - start) / .milliseconds(1)) + 1
        #expect(ttl >= 20_000 - elapsedMs && ttl <= 20_000, "PTTL \(ttl) after \(elapsedMs) ms")
        #expect(publisher.stats.statusWrites == 2)
    }

    @Test func noScriptAfterScriptFlushIsReloadedAndRetried() async throws {
        let server = try RedisServerProcess()
        let (publisher, prefix, _) = try TestRedis.startedPublisher("noscript", url: server.url)
        defer { publisher.stop() }
        publisher.publish(Fixtures.quote("AAPL", bid: 1))
        #expect(await publisher.flush(timeout: .seconds(10)))
        let redis = try TestRedis.connection(server.url)
        try redis.command(["SCRIPT", "FLUSH"])
        publisher.publish(Fixtures.quote("AAPL", bid: 2))
        publisher.publish(Fixtures.quote("MSFT", bid: 3))
        #expect(await publisher.flush(timeout: .seconds(10)))
        #expect(try redis.command(["HGET", "\(prefix):quote:AAPL", "bid"]) == .string("2"))
        #expect(try redis.command(["HGET", "\(prefix):quote:AAPL", "seq"]) == .string("2"))
        #expect(try redis.command(["HGET", "\(prefix):quote:MSFT", "bid"]) == .string("3"))
        try redis.command(["SCRIPT", "FLUSH"])
        let change = try await publisher.checkStaleness(thresholdMs: 60_000)
        // The fixtures carry updated_ms from 2025: both keys are older than a minute.
        #expect(Set(change.newlyStale) == ["quote:AAPL", "quote:MSFT"] && change.staleCount == 2)
        let stats = publisher.stats
        #expect(stats.scriptReloads == 2)
        #expect(stats.writes == 3)
        #expect(stats.writeErrors == 0)
        #expect(stats.reconnects == 0)
    }
}
