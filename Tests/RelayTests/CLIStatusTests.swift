import Foundation
import RedisPublisher
import Testing
@testable import Relay

/// `status` against a real redis-server: the reader, and the binary's table, JSON and exit codes.
@Suite("quote-relay status against Redis")
struct CLIStatusTests {
    let url: String
    let prefix = "st\(getpid()).\(UInt32.random(in: 0...UInt32.max))"

    init() throws {
        url = try CLITestRedis.url()
    }

    /// Writes what a running worker would: a status hash, two data keys and the index.
    func seed(nowMs: Int64) throws {
        let connection = try RedisConnection(url: try RedisURL(parsing: url), connectTimeout: .seconds(2), ioTimeout: .seconds(5))
        defer { connection.close() }
        _ = try connection.pipeline([
            ["HSET", "\(prefix):worker:w1", "state", "connected", "source", "ib", "ib_host", "127.0.0.1", "ib_port", "4002",
             "client_id", "17", "server_version", "176", "reconnect_attempts", "0", "updated_ms", String(nowMs - 1000)],
            ["HSET", "\(prefix):quote:AAPL", "symbol", "AAPL", "source", "ib", "stale", "0"],
            ["HSET", "\(prefix):quote:MSFT", "symbol", "MSFT", "source", "alphavantage", "stale", "1"],
            ["ZADD", "\(prefix):updated", String(nowMs - 500), "quote:AAPL", String(nowMs - 120_000), "quote:MSFT", String(nowMs - 5), "quote:GONE"],
        ])
    }

    func redisNowMs() throws -> Int64 {
        let connection = try RedisConnection(url: try RedisURL(parsing: url), connectTimeout: .seconds(2), ioTimeout: .seconds(5))
        defer { connection.close() }
        let time = try connection.command(["TIME"]).array ?? []
        return (time[0].int ?? 0) * 1000 + (time[1].int ?? 0) / 1000
    }

    @Test func readerCollectsWorkersAndKeys() throws {
        let now = try redisNowMs()
        try seed(nowMs: now)
        let snapshot = try StatusReader.read(url: try RedisURL(parsing: url), prefix: prefix)
        #expect(snapshot.workers.keys.sorted() == ["w1"])
        #expect(snapshot.workers["w1"]?["state"] == "connected")
        #expect(snapshot.workers["w1"]?["client_id"] == "17")
        #expect(snapshot.keys.sorted { $0.key < $1.key } == [
            .init(key: "quote:AAPL", updatedMs: now - 500, source: "ib", stale: "0"),
            .init(key: "quote:GONE", updatedMs: now - 5, source: nil, stale: nil),
            .init(key: "quote:MSFT", updatedMs: now - 120_000, source: "alphavantage", stale: "1"),
        ])
        #expect(snapshot.nowMs >= now)
        #expect(snapshot.nowMs < now + 60_000)
    }

    @Test func binaryPrintsTableAndJSON() async throws {
        let binary = try #require(RepositoryRoot.binary)
        try seed(nowMs: try redisNowMs())
        let env = ["PATH": "/usr/bin:/bin"]
        let table = try await ChildProcess.run(binary, ["status", "--redis-url", url, "--prefix", prefix], environment: env)
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.first == "worker w1")
        #expect(lines.contains("state connected"))
        #expect(lines.contains("ib 127.0.0.1:4002 client id 17 server version 176"))
        #expect(lines.contains("KEY AGE SOURCE STALE"))
        #expect(lines.contains { $0.hasPrefix("quote:MSFT 2m0") && $0.hasSuffix(" alphavantage 1") })
        #expect(lines.contains { $0.hasPrefix("quote:GONE ") && $0.hasSuffix(" (expired) -") })

        let json = try await ChildProcess.run(binary, ["status", "--json", "--redis-url", url, "--prefix", prefix], environment: env)
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["prefix"] as? String == prefix)
        let workers = try #require(object["workers"] as? [[String: Any]])
        #expect(workers.count == 1)
        #expect(workers.first?["state"] as? String == "connected")
        #expect(workers.first?["ib_port"] as? Int == 4002)
        let keys = try #require(object["keys"] as? [[String: Any]])
        #expect(keys.map { $0["key"] as? String } == ["quote:AAPL", "quote:GONE", "quote:MSFT"])
        #expect(keys.map { $0["stale"] as? Bool } == [false, nil, true])
    }

    @Test func prefixAndURLComeFromConfigAndEnvironment() async throws {
        let binary = try #require(RepositoryRoot.binary)
        try seed(nowMs: try redisNowMs())
        let path = NSTemporaryDirectory() + "qr-status-\(UUID().uuidString).yaml"
        try "redis:\n  key_prefix: \(prefix)\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await ChildProcess.run(binary, ["status", "--config", path, "--json"], environment: ["PATH": "/usr/bin:/bin", "REDIS_URL": url])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"prefix\":\"\(prefix)\""))
    }

    @Test func noWorkerExitsOneAndUnreachableRedisExitsOne() async throws {
        let binary = try #require(RepositoryRoot.binary)
        let empty = try await ChildProcess.run(binary, ["status", "--redis-url", url, "--prefix", prefix + "-none"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(empty.status == 1)
        #expect(empty.stdout.hasPrefix("no worker status under \(prefix)-none:worker:*"))

        let port = try CLITestRedis.freePort()
        let down = try await ChildProcess.run(binary, ["status", "--redis-url", "redis://:SECRETPW@127.0.0.1:\(port)/0"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(down.status == 1)
        #expect(down.stderr.hasPrefix("cannot read status from redis://:***@127.0.0.1:\(port)/0: "))
        #expect(!(down.stdout + down.stderr).contains("SECRETPW"))

        let bad = try await ChildProcess.run(binary, ["status", "--redis-url", "http://x"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("redis.url = \"http://x\" (from flag): "))
    }
}
