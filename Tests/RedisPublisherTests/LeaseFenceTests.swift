import Foundation
import MarketModel
import Testing
@testable import RedisPublisher

/// worker.group against a real redis-server: lua/lease.lua (SET NX PX, token-checked renew and
/// release) and the fence in publish.lua / staleness.lua (a write with a token the lease key
/// does not hold changes nothing).
@Suite("lease.lua and the write fence (real redis-server)")
struct LeaseFenceTests {
    let prefix: String
    let redis: RedisConnection
    let leaseKey: String

    init() throws {
        prefix = TestRedis.uniquePrefix("lease")
        redis = try TestRedis.connection()
        leaseKey = "\(prefix):\(PublisherKeys.lease(group: "g1"))"
    }

    func publisher() throws -> Publisher {
        var configuration = try TestRedis.configuration(prefix: prefix)
        configuration.leaseKey = leaseKey
        let publisher = try TestRedis.publisher(configuration)
        publisher.start()
        return publisher
    }

    func connected(_ publisher: Publisher) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !publisher.stats.connected { try? await Task.sleep(for: .milliseconds(10)) }
        return publisher.stats.connected
    }

    @Test func acquireRenewAndReleaseCheckTheOwnerToken() async throws {
        let a = try publisher(), b = try publisher()
        defer { a.stop(); b.stop() }
        let aConnected = await connected(a)
        let bConnected = await connected(b)
        let bothConnected = aConnected && bConnected
        #expect(bothConnected)
        let first = try await a.lease(.acquire, token: "a#1", ttlMs: 10_000)
        #expect(first.held && first.holder == "a#1")
        // SET NX: the second worker is refused and told who holds it and for how long.
        let refused = try await b.lease(.acquire, token: "b#1", ttlMs: 10_000)
        #expect(!refused.held && refused.holder == "a#1")
        #expect(refused.remainingMs > 0 && refused.remainingMs <= 10_000)
        // Neither renew nor release works with the wrong token.
        let wrongRenew = try await b.lease(.renew, token: "b#1", ttlMs: 10_000)
        #expect(!wrongRenew.held)
        _ = try await b.lease(.release, token: "b#1", ttlMs: 10_000)
        #expect(try redis.command(["GET", leaseKey]).string == "a#1")
        // The holder renews (the TTL is set again: here down from a minute) and releases.
        _ = try redis.command(["PEXPIRE", leaseKey, "60000"])
        let renewed = try await a.lease(.renew, token: "a#1", ttlMs: 10_000)
        #expect(renewed.held)
        let ttl = try redis.pttl(leaseKey)
        #expect(ttl > 0 && ttl <= 10_000)
        let released = try await a.lease(.release, token: "a#1", ttlMs: 10_000)
        #expect(!released.held && released.holder == nil)
        #expect(try redis.command(["EXISTS", leaseKey]).int == 0)
        let second = try await b.lease(.acquire, token: "b#2", ttlMs: 10_000)
        #expect(second.held)
    }

    @Test func theLeaseExpiresInRedisWithoutRenewal() async throws {
        let a = try publisher()
        defer { a.stop() }
        #expect(await connected(a))
        let short = try await a.lease(.acquire, token: "a#1", ttlMs: 150)
        #expect(short.held)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, try redis.command(["EXISTS", leaseKey]).int == 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let late = try await a.lease(.renew, token: "a#1", ttlMs: 150)
        #expect(!late.held)
    }

    @Test func aWriteWithAnotherTokenIsRefusedAndChangesNothing() async throws {
        let p = try publisher()
        defer { p.stop() }
        #expect(await connected(p))
        let acquired = try await p.lease(.acquire, token: "a#1", ttlMs: 60_000)
        #expect(acquired.held)
        p.setFenceToken("a#1")
        p.publish(Fixtures.quote("AAPL", bid: 1))
        #expect(await p.flush(timeout: .seconds(10)))
        #expect(!p.refusedByFence)
        let key = "\(prefix):quote:AAPL"
        #expect(try redis.hgetall(key)["bid"] == "1")
        #expect(try redis.hgetall(key)["seq"] == "1")

        // Another worker took the lease (this one was paused past its TTL): the write that
        // this worker still sends with its old token is refused in Redis.
        _ = try redis.command(["SET", leaseKey, "b#9", "PX", "60000"])
        p.publish(Fixtures.quote("AAPL", bid: 2))
        p.publish(Fixtures.quote("MSFT", bid: 3))
        #expect(await p.flush(timeout: .seconds(10)))
        #expect(try redis.hgetall(key)["bid"] == "1")
        #expect(try redis.hgetall(key)["seq"] == "1")
        #expect(try redis.command(["EXISTS", "\(prefix):quote:MSFT"]).int == 0)
        #expect(p.refusedByFence)
        #expect(p.stats.fencedWrites == 2)
        #expect(p.stats.writeErrors == 0)
        // Never retried: nothing waits.
        #expect(p.stats.pendingKeys == 0)

        // The staleness check is fenced too.
        await #expect(throws: RedisError.self) { _ = try await p.checkStaleness(thresholdMs: 1) }
        #expect(try redis.hgetall(key)["stale"] == "0")

        // An expired lease (no key at all) refuses as well.
        _ = try redis.command(["DEL", leaseKey])
        p.publish(Fixtures.quote("AAPL", bid: 4))
        #expect(await p.flush(timeout: .seconds(10)))
        #expect(try redis.hgetall(key)["bid"] == "1")
        #expect(p.stats.fencedWrites == 3)
        // A new token starts a new term: the old refusals are not held against it.
        p.setFenceToken("a#2")
        #expect(!p.refusedByFence)
    }

    @Test func aStandbyDropsDataWritesBeforeSendingButWritesItsStatus() async throws {
        let p = try publisher()
        defer { p.stop() }
        #expect(await connected(p))
        p.publish(Fixtures.quote("AAPL", bid: 1))
        p.setStatus([("state", "connected"), ("role", "standby")], ttl: .seconds(30))
        #expect(await p.flush(timeout: .seconds(10)))
        #expect(try redis.command(["EXISTS", "\(prefix):quote:AAPL"]).int == 0)
        #expect(p.stats.fencedWrites == 1)
        #expect(try redis.hgetall("\(prefix):worker:\(p.configuration.workerID)")["role"] == "standby")

        // Taking the lease: the writes of the new term carry the token and land.
        let acquired = try await p.lease(.acquire, token: "s#1", ttlMs: 60_000)
        #expect(acquired.held)
        p.setFenceToken("s#1")
        p.publish(Fixtures.quote("AAPL", bid: 5))
        #expect(await p.flush(timeout: .seconds(10)))
        #expect(try redis.hgetall("\(prefix):quote:AAPL")["bid"] == "5")
        // Losing it: what was pending is dropped, not written later.
        p.setFenceToken(nil)
        p.publish(Fixtures.quote("AAPL", bid: 6))
        #expect(await p.flush(timeout: .seconds(10)))
        #expect(try redis.hgetall("\(prefix):quote:AAPL")["bid"] == "5")
    }
}
