import Foundation
import MarketModel
import Testing
@testable import RedisPublisher
import QRTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Redis going away and coming back, with our own redis-server child (SIGKILL, restart on the
/// same port).
@Suite("Publisher outages (own redis-server)")
struct OutageTests {
    @Test func aRestartInTheMiddleOfAStreamLosesNoFinalValue() async throws {
        let server = try RedisServerProcess()
        let (publisher, prefix, _) = try TestRedis.startedPublisher("restart", url: server.url)
        defer { publisher.stop() }
        let symbols = (0..<200).map { "SYM\($0)" }
        var round = 0
        func publishRound() {
            round += 1
            for s in symbols { publisher.publish(Fixtures.quote(s, bid: Double(round), updatedMs: Int64(round))) }
            publisher.publishEvent(#"{"type":"state","round":\#(round)}"#)
        }
        for _ in 0..<20 { publishRound() }
        #expect(await publisher.flush(timeout: .seconds(20)))

        server.kill()
        // The producer keeps going while Redis is down; it never blocks.
        for _ in 0..<20 { publishRound() }
        #expect(await eventually { !publisher.stats.connected })
        for _ in 0..<20 { publishRound() }
        #expect(await eventually { publisher.stats.pendingKeys == symbols.count })

        try server.restart()
        for _ in 0..<20 { publishRound() }
        #expect(await publisher.flush(timeout: .seconds(30)))

        let redis = try TestRedis.connection(server.url)
        let finals = try redis.pipeline(symbols.map { ["HMGET", "\(prefix):quote:\($0)", "bid", "updated_ms", "source"] })
        let expected = RedisReply.array([.string("\(round)"), .string("\(round)"), .string("ib")])
        #expect(finals.allSatisfy { $0 == expected })
        #expect(try redis.command(["ZCARD", "\(prefix):updated"]) == .integer(Int64(symbols.count)))
        let stats = publisher.stats
        #expect(stats.reconnects == 1)
        #expect(stats.connected)
        #expect(stats.pendingKeys == 0)
        #expect(stats.writeErrors == 0)
    }

    /// Redis out of memory (`maxmemory` with `noeviction`, here 1 byte so every write that may
    /// grow memory is refused): the status hash and the stale flag are still written
    /// (status.lua and staleness.lua carry `allow-oom`), a new key waits and lands when memory
    /// is freed, and the refusal is reported while it lasts.
    @Test func outOfMemoryStillWritesTheStatusAndTheStaleFlag() async throws {
        let server = try RedisServerProcess()
        let (publisher, prefix, configuration) = try TestRedis.startedPublisher("oom", url: server.url) { $0.wallClockMs = { 100_000 } }
        defer { publisher.stop() }
        // Confirmed by its source 10 s before the worker's "now": stale at a 5 s threshold.
        publisher.publish(Fixtures.quote("OLD", bid: 7, updatedMs: 90_000))
        publisher.setStatus([("state", "ok")], ttl: .seconds(30))
        #expect(await publisher.flush(timeout: .seconds(20)))

        let redis = try TestRedis.connection(server.url)
        #expect(try redis.command(["CONFIG", "SET", "maxmemory-policy", "noeviction"]) == .status("OK"))
        #expect(try redis.command(["CONFIG", "SET", "maxmemory", "1"]) == .status("OK"))
        // Redis itself refuses a plain write now.
        do {
            _ = try redis.command(["SET", "\(prefix):probe", "x"])
            Issue.record("Redis accepted a write over maxmemory")
        } catch {
            #expect("\(error)".contains("OOM"))
        }

        publisher.setStatus([("state", "degraded"), ("redis_write_error", "OOM")], ttl: .seconds(30))
        #expect(await publisher.flush(timeout: .seconds(20)))
        #expect(try redis.hgetall("\(prefix):worker:\(configuration.workerID)") == ["state": "degraded", "redis_write_error": "OOM"])

        let change = try await publisher.checkStaleness(thresholdMs: 5_000)
        #expect(change.newlyStale == ["quote:OLD"])
        #expect(try redis.hgetall("\(prefix):quote:OLD")["stale"] == "1")

        publisher.publish(Fixtures.quote("NEW", bid: 1, updatedMs: 99_000))
        #expect(await eventually(timeout: .seconds(20)) { publisher.stats.writeRefusal?.errorClass == "OOM" })
        #expect(try redis.command(["EXISTS", "\(prefix):quote:NEW"]) == .integer(0))

        #expect(try redis.command(["CONFIG", "SET", "maxmemory", "0"]) == .status("OK"))
        #expect(await publisher.flush(timeout: .seconds(20)))
        #expect(try redis.hgetall("\(prefix):quote:NEW")["bid"] == "1")
        #expect(await eventually(timeout: .seconds(20)) { publisher.stats.writeRefusal == nil })
        #expect(publisher.stats.writeErrors == 0)
    }

    /// A quiet key (closed market, a chain written once a day) gets no new value after a
    /// restart, yet must be back: the writer notices the new `run_id` and writes it again,
    /// with its original `updated_ms`; a newer pending value wins over the remembered one.
    @Test func aRestartedServerGetsEveryLiveKeyBackWithoutNewData() async throws {
        let server = try RedisServerProcess()
        let (publisher, prefix, _) = try TestRedis.startedPublisher("quietrestart", url: server.url) { $0.wallClockMs = { 5_000 } }
        defer { publisher.stop() }
        publisher.publish(Fixtures.quote("QUIET", bid: 10, updatedMs: 1_000))
        publisher.publish(Fixtures.quote("BUSY", bid: 1, updatedMs: 2_000))
        var chain = ChainSnapshot(symbol: "SPY", expirations: ["20261218"], strikes: [450, 452.5])
        chain.exchange = "SMART"
        publisher.publish(chain.record(source: .ib, updatedMs: 3_000))
        #expect(await publisher.flush(timeout: .seconds(20)))

        server.kill()
        // An idle writer notices the loss with its next write.
        publisher.publish(Fixtures.quote("BUSY", bid: 2, updatedMs: 4_000))
        #expect(await eventually { !publisher.stats.connected })
        try server.restart()
        #expect(await eventually { publisher.stats.connected })
        #expect(await publisher.flush(timeout: .seconds(20)))

        let redis = try TestRedis.connection(server.url)
        let quiet = try redis.hgetall("\(prefix):quote:QUIET")
        #expect(quiet["bid"] == "10")
        #expect(quiet["updated_ms"] == "1000")
        #expect(quiet["seq"] == "1", "a new server starts the key afresh")
        #expect(try redis.pttl("\(prefix):quote:QUIET") > 0)
        #expect(try redis.hgetall("\(prefix):quote:BUSY")["bid"] == "2", "the newer pending value wins")
        #expect(try redis.hgetall("\(prefix):chain:SPY")["strikes"] == "450,452.5")
        // Restored with its age (on the worker's clock, 4 s) against Redis' clock: still old.
        let score = try #require(redis.command(["ZSCORE", "\(prefix):updated", "quote:QUIET"]).string.flatMap(Int64.init))
        let redisNow = try TestRedis.redisTimeMs(redis)
        #expect(score <= redisNow - 4_000 && score > redisNow - 120_000)
        #expect(publisher.stats.keysRestored == 2)
    }

    @Test func redisDownAtStartIsRetriedUntilItAppears() async throws {
        let port = try RedisServerProcess.freePort()
        let prefix = TestRedis.uniquePrefix("late")
        let publisher = try TestRedis.publisher(try TestRedis.configuration(prefix: prefix, url: RedisURL(host: "127.0.0.1", port: port)))
        publisher.start()
        defer { publisher.stop() }
        publisher.publish(Fixtures.quote("AAPL", bid: 1))
        publisher.setStatus([("state", "starting")], ttl: .seconds(30))
        #expect(await eventually { publisher.stats.connectFailures >= 2 })
        #expect(await publisher.flush(timeout: .milliseconds(50)) == false)
        #expect(publisher.stats.lastError?.hasPrefix("connectFailed") == true)
        publisher.publish(Fixtures.quote("AAPL", bid: 2))

        let server = try RedisServerProcess(port: port)
        #expect(await publisher.flush(timeout: .seconds(20)))
        let redis = try TestRedis.connection(server.url)
        #expect(try redis.command(["HGET", "\(prefix):quote:AAPL", "bid"]) == .string("2"))
        #expect(try redis.command(["HGET", "\(prefix):quote:AAPL", "seq"]) == .string("1"))
        #expect(try redis.hgetall("\(prefix):worker:w1") == ["state": "starting"])
        #expect(publisher.stats.reconnects == 0)  // the first successful connect is not a reconnect
    }

    /// The flush's deadline is a child task: cancelling the caller (a forced shutdown) ends
    /// the wait at once with false, instead of after the timeout (an hour here: the time
    /// limit only guards against a hang).
    @Test(.timeLimit(.minutes(1))) func cancellingTheCallerEndsAFlushAtOnce() async throws {
        let port = try RedisServerProcess.freePort()
        let publisher = try TestRedis.publisher(try TestRedis.configuration(prefix: "x", url: RedisURL(host: "127.0.0.1", port: port)))
        publisher.start()
        defer { publisher.stop() }
        publisher.publish(Fixtures.quote("AAPL", bid: 1))
        let flushed = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await publisher.flush(timeout: .seconds(3600)) }
            group.cancelAll()
            return await group.next()
        }
        #expect(flushed == false)
        #expect(publisher.stats.pendingKeys == 1, "nothing was lost: the record still waits for Redis")
    }

    @Test func aHungServerIsDetectedByTheIOTimeoutAndWrittenToOnceItAnswers() async throws {
        let server = try RedisServerProcess()
        let (publisher, prefix, _) = try TestRedis.startedPublisher("hung", url: server.url) { $0.ioTimeout = .milliseconds(300) }
        defer { publisher.stop() }
        publisher.publish(Fixtures.quote("AAPL", bid: 1))
        #expect(await publisher.flush(timeout: .seconds(10)))
        // The server stops answering for 2 s; the producer keeps going.
        try TestRedis.connection(server.url).command(["CLIENT", "PAUSE", "2000", "ALL"])
        publisher.publish(Fixtures.quote("AAPL", bid: 2))
        #expect(await eventually { !publisher.stats.connected })
        #expect(publisher.stats.lastError?.hasPrefix("io:") == true)
        publisher.publish(Fixtures.quote("AAPL", bid: 3))
        #expect(await publisher.flush(timeout: .seconds(20)))
        let redis = try TestRedis.connection(server.url)
        #expect(try redis.command(["HGET", "\(prefix):quote:AAPL", "bid"]) == .string("3"))
        #expect(publisher.stats.reconnects >= 1)
        #expect(publisher.stats.connected)
    }

    @Test func stopEndsRunAndFailsPendingWork() async throws {
        let port = try RedisServerProcess.freePort()
        let publisher = try TestRedis.publisher(try TestRedis.configuration(prefix: "x", url: RedisURL(host: "127.0.0.1", port: port)))
        async let finished: Void = publisher.run()
        publisher.publish(Fixtures.quote("AAPL"))
        #expect(await eventually { publisher.stats.connectFailures >= 1 })
        publisher.stop()
        await finished
        #expect(await publisher.flush(timeout: .seconds(1)) == false)
        do {
            _ = try await publisher.checkStaleness(thresholdMs: 1)
            Issue.record("a stopped publisher ran a check")
        } catch let error as RedisError {
            #expect(error.code == .stopped)
        }
    }
}
