import Foundation
import MarketModel
import Testing
@testable import RedisPublisher
import QRTestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Sentinel replies and configuration (pure)")
struct SentinelParsingTests {
    @Test func addressesParseWithSentinelsDefaultPort() {
        #expect(SentinelConfiguration.Address(parsing: "10.0.0.7:26380") == .init(host: "10.0.0.7", port: 26380))
        #expect(SentinelConfiguration.Address(parsing: "sentinel-a") == .init(host: "sentinel-a", port: 26379))
        #expect(SentinelConfiguration.Address(parsing: "[::1]:5000") == .init(host: "::1", port: 5000))
        #expect(SentinelConfiguration.Address(parsing: "[::1]:5000")?.description == "[::1]:5000")
        for bad in ["", ":1", "h:0", "h:x", "h:70000", "[::1", "redis://h:1", "a b:1"] {
            #expect(SentinelConfiguration.Address(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func primaryAddressReplies() throws {
        let reply = RedisReply.array([.string("10.0.0.5"), .string("6380")])
        let primary = try Sentinel.primaryAddress(from: reply)
        #expect(primary?.host == "10.0.0.5")
        #expect(primary?.port == 6380)
        #expect(try Sentinel.primaryAddress(from: .null) == nil)
        #expect(throws: RedisError.self) { try Sentinel.primaryAddress(from: .array([.string("h")])) }
        #expect(throws: RedisError.self) { try Sentinel.primaryAddress(from: .array([.string("h"), .string("0")])) }
    }

    @Test func switchMasterMessagesAreReadForOurNameOnly() {
        let moved = Sentinel.switchedPrimary(payload: "quotes 10.0.0.5 6379 10.0.0.6 6380", masterName: "quotes")
        #expect(moved?.host == "10.0.0.6")
        #expect(moved?.port == 6380)
        #expect(Sentinel.switchedPrimary(payload: "other 10.0.0.5 6379 10.0.0.6 6380", masterName: "quotes") == nil)
        #expect(Sentinel.switchedPrimary(payload: "quotes 10.0.0.5 6379", masterName: "quotes") == nil)
    }

    @Test func roleReplies() {
        #expect(Sentinel.isPrimary(roleReply: .array([.string("master"), .integer(0), .array([])])))
        #expect(!Sentinel.isPrimary(roleReply: .array([.string("slave"), .string("h"), .integer(1), .string("connected"), .integer(5)])))
        #expect(!Sentinel.isPrimary(roleReply: .error("ERR")))
    }
}

/// A primary, a replica and a real redis-sentinel on loopback; the primary is killed while
/// the publisher streams updates. Afterwards every key on the promoted replica equals the
/// last value published for it.
@Suite("Sentinel failover (real redis-server + redis-sentinel)", .serialized)
final class SentinelFailoverTests {
    let primary: RedisServerProcess
    let replica: RedisServerProcess
    let sentinel: RedisServerProcess
    let masterName = "qr-test"

    init() throws {
        primary = try RedisServerProcess()
        replica = try RedisServerProcess(extraArguments: ["--replicaof", "127.0.0.1", String(primary.port)])
        let port = try RedisServerProcess.freePort()
        let configFile = NSTemporaryDirectory() + "qr-sentinel-\(getpid())-\(port).conf"
        // Quorum 1: one sentinel may declare the primary down and lead the failover.
        try """
        sentinel monitor \(masterName) 127.0.0.1 \(primary.port) 1
        sentinel down-after-milliseconds \(masterName) 1000
        sentinel failover-timeout \(masterName) 10000
        sentinel parallel-syncs \(masterName) 1

        """.write(toFile: configFile, atomically: true, encoding: .utf8)
        sentinel = try RedisServerProcess(port: port, extraArguments: ["--sentinel"], configFile: configFile)
    }

    deinit {
        sentinel.kill()
        replica.kill()
        primary.kill()
    }

    func sentinelConfiguration() -> SentinelConfiguration {
        // An unreachable sentinel first: the publisher must go on to the next.
        SentinelConfiguration(sentinels: [.init(host: "127.0.0.1", port: 1), .init(host: "127.0.0.1", port: sentinel.port)],
                              masterName: masterName)
    }

    @Test func aPrimaryKilledMidStreamLosesNothing() async throws {
        // Wait (bounded) until replication is up and the sentinel knows the replica: only a
        // known replica can be promoted.
        let sentinelConnection = try TestRedis.connection(sentinel.url)
        let replicaConnection = try TestRedis.connection(replica.url)
        let ready = await eventually(timeout: .seconds(30)) {
            let info = (try? replicaConnection.command(["INFO", "replication"]).string) ?? ""
            let replicas = (try? sentinelConnection.command(["SENTINEL", "replicas", masterName]).array) ?? []
            return info.contains("master_link_status:up") && !replicas.isEmpty
        }
        try #require(ready, "replication or sentinel discovery did not come up")

        let prefix = TestRedis.uniquePrefix("sentinel")
        // host:port of the URL are not used with sentinels.
        var configuration = try TestRedis.configuration(prefix: prefix, url: RedisURL(host: "127.0.0.1", port: 1))
        configuration.sentinel = sentinelConfiguration()
        configuration.connectTimeout = .milliseconds(500)
        configuration.ioTimeout = .seconds(2)
        let publisher = try TestRedis.publisher(configuration)
        publisher.start()
        defer { publisher.stop() }

        // S0-S29 tick all along; S30-S39 only before the kill (quiet keys: nothing but the
        // rewrite after the failover can restore what the replica missed).
        let symbols = (0..<40).map { "S\($0)" }
        var last: [String: Double] = [:]
        var tick = 0
        func publishRound() {
            for (i, symbol) in symbols.enumerated() where (i < 30 && i % 4 == tick % 4) || tick < 2 {
                let bid = Double(tick * 100 + i)
                last[symbol] = bid
                publisher.publish(Fixtures.quote(symbol, bid: bid))
            }
            tick += 1
        }
        // Stream until the primary has taken a good part of the writes.
        while publisher.stats.writes < 400 {
            publishRound()
            try await Task.sleep(for: .milliseconds(5))
        }
        primary.kill()  // SIGKILL mid-stream
        // Keep streaming through the failover, until the publisher is connected to a new
        // server and has written there.
        let writesAtKill = publisher.stats.writes
        let followed = await eventually(timeout: .seconds(60)) {
            publishRound()
            let stats = publisher.stats
            return stats.connected && stats.reconnects >= 1 && stats.writes > writesAtKill + 200
        }
        #expect(followed, "the publisher did not follow the failover: \(publisher.stats)")
        for _ in 0..<3 { publishRound() }
        #expect(await publisher.flush(timeout: .seconds(30)))

        // The sentinel now names the former replica; every key there holds its last value.
        let address = try Sentinel.primaryAddress(from: sentinelConnection.command(["SENTINEL", "get-master-addr-by-name", masterName]))
        #expect(address?.port == replica.port)
        let promoted = try TestRedis.connection(replica.url)
        #expect(Sentinel.isPrimary(roleReply: try promoted.command(["ROLE"])))
        for symbol in symbols {
            let hash = try promoted.hgetall("\(prefix):quote:\(symbol)")
            #expect(hash["bid"].flatMap(Double.init) == last[symbol], "\(symbol): \(hash["bid"] ?? "missing") != \(last[symbol]!)")
            #expect(hash["source"] == "ib")
        }
        #expect(try promoted.command(["ZCARD", "\(prefix):updated"]) == .integer(Int64(symbols.count)))
        // The new primary has a different run_id: every live key was written again there.
        #expect(publisher.stats.keysRestored >= 10)
    }

    @Test func aWriteToADemotedPrimaryIsRetriedOnTheNewOne() async throws {
        let sentinelConnection = try TestRedis.connection(sentinel.url)
        let replicaConnection = try TestRedis.connection(replica.url)
        let ready = await eventually(timeout: .seconds(30)) {
            let info = (try? replicaConnection.command(["INFO", "replication"]).string) ?? ""
            let replicas = (try? sentinelConnection.command(["SENTINEL", "replicas", masterName]).array) ?? []
            return info.contains("master_link_status:up") && !replicas.isEmpty
        }
        try #require(ready, "replication or sentinel discovery did not come up")
        let prefix = TestRedis.uniquePrefix("readonly")
        var configuration = try TestRedis.configuration(prefix: prefix, url: RedisURL(host: "127.0.0.1", port: 1))
        configuration.sentinel = sentinelConfiguration()
        let publisher = try TestRedis.publisher(configuration)
        publisher.start()
        defer { publisher.stop() }
        publisher.publish(Fixtures.quote("A", bid: 1))
        #expect(await publisher.flush(timeout: .seconds(10)))

        // A planned failover: the old primary stays up, demoted to a replica (READONLY).
        // Sentinel aborts it when its last INFO from the replica is older than 5 s
        // (-failover-abort-no-good-slave) and answers INPROG while one runs, so it is asked
        // until the replica is the primary.
        let switched = await eventually(timeout: .seconds(60)) {
            _ = try? sentinelConnection.command(["SENTINEL", "FAILOVER", masterName])
            guard let probe = try? TestRedis.connection(replica.url) else { return false }
            return Sentinel.isPrimary(roleReply: (try? probe.command(["ROLE"])) ?? .null)
        }
        let promoted = try TestRedis.connection(replica.url)
        try #require(switched, "SENTINEL FAILOVER did not promote the replica")
        for bid in 2...50 {
            publisher.publish(Fixtures.quote("A", bid: Double(bid)))
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await publisher.flush(timeout: .seconds(30)))
        // The replica reports itself primary before Sentinel announces +switch-master and
        // before it demotes the old primary, so the last writes may be acknowledged by the old
        // primary (and lost there when it resyncs as a replica). The publisher learns of the
        // switch from Sentinel (or from READONLY) and writes every live key's latest value
        // again on the new primary: the value arrives there, within the announcement's delay.
        var seen: String?
        let arrived = await eventually(timeout: .seconds(30)) {
            seen = try? promoted.hgetall("\(prefix):quote:A")["bid"]
            return seen == "50"
        }
        #expect(arrived, "bid on the new primary: \(seen ?? "missing"); \(publisher.stats)")
        #expect(publisher.stats.writeErrors == 0)
    }
}
