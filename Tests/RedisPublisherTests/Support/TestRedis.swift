import Foundation
import Logging
import MarketModel
@testable import RedisPublisher
import QRTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The shared test server: `QR_TEST_REDIS_URL` (scripts/test starts one), else a child
/// redis-server started once per test process. Tests isolate themselves by key prefix, so
/// they run in parallel.
enum TestRedis {
    static let shared: Result<RedisURL, any Error> = {
        if let text = ProcessInfo.processInfo.environment["QR_TEST_REDIS_URL"], !text.isEmpty {
            return Result { try RedisURL(parsing: text) }
        }
        return Result {
            let server = try RedisServerProcess()
            ownServer = server
            atexit { TestRedis.ownServer?.kill() }
            return server.url
        }
    }()

    nonisolated(unsafe) static var ownServer: RedisServerProcess?

    static func url() throws -> RedisURL { try shared.get() }

    /// The repository's lua/ folder.
    static var scriptsDirectory: String {
        if let root = ProcessInfo.processInfo.environment["QR_REPO_ROOT"], !root.isEmpty {
            return root + "/lua"
        }
        // Tests/RedisPublisherTests/Support/TestRedis.swift -> repository root.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("lua").path
    }

    /// A key prefix no other test uses.
    static func uniquePrefix(_ name: String) -> String {
        "t\(getpid()).\(UInt32.random(in: 0...UInt32.max)).\(name)"
    }

    static func connection(_ url: RedisURL? = nil) throws -> RedisConnection {
        try RedisConnection(url: url ?? self.url(), connectTimeout: .seconds(2), ioTimeout: .seconds(5))
    }

    /// Redis' own clock (TIME), epoch ms.
    static func redisTimeMs(_ connection: RedisConnection) throws -> Int64 {
        let parts = try connection.command(["TIME"]).array ?? []
        guard parts.count == 2, let s = parts[0].string.flatMap(Int64.init), let us = parts[1].string.flatMap(Int64.init) else {
            throw RedisError(.unexpectedReply, "TIME")
        }
        return s * 1000 + us / 1000
    }

    static func configuration(prefix: String, url: RedisURL? = nil) throws -> PublisherConfiguration {
        PublisherConfiguration(
            url: try url ?? self.url(),
            workerID: "w1",
            keyPrefix: prefix,
            scriptsDirectory: scriptsDirectory,
            reconnectInitialDelay: .milliseconds(20),
            reconnectMaxDelay: .milliseconds(200)
        )
    }

    static func publisher(_ configuration: PublisherConfiguration) throws -> Publisher {
        var logger = Logger(label: "test.redis-publisher")
        logger.logLevel = .error
        return try Publisher(configuration: configuration, logger: logger)
    }

    /// The usual setup of a test: a publisher writing under a fresh prefix named after `name`
    /// to `url` (default: the shared server), its configuration adjusted by `configure`, already
    /// started. The caller stops it: `defer { publisher.stop() }`.
    static func startedPublisher(
        _ name: String, url: RedisURL? = nil, configure: (inout PublisherConfiguration) -> Void = { _ in }
    ) throws -> (publisher: Publisher, prefix: String, configuration: PublisherConfiguration) {
        let prefix = uniquePrefix(name)
        var configuration = try self.configuration(prefix: prefix, url: url)
        configure(&configuration)
        let publisher = try self.publisher(configuration)
        publisher.start()
        return (publisher, prefix, configuration)
    }
}

/// Polls `condition` every 10 ms for at most `timeout`: every wait in these tests is bounded.
func eventually(timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

extension RedisConnection {
    func hgetall(_ key: String) throws -> [String: String] {
        try command(["HGETALL", key]).hash ?? [:]
    }

    func pttl(_ key: String) throws -> Int64 {
        try command(["PTTL", key]).int ?? -3
    }
}

/// Quote records with realistic fields, built the way the producers build them.
enum Fixtures {
    static func quote(_ symbol: String, bid: Double? = 189.25, ask: Double? = 189.3, last: Double? = 189.27,
                      volume: Double? = 12_345_678, source: DataSource = .ib, updatedMs: Int64 = 1_760_000_000_000) -> Record {
        var q = QuoteSnapshot(symbol: symbol)
        q.bid = bid
        q.bidSize = bid == nil ? nil : 300
        q.ask = ask
        q.askSize = ask == nil ? nil : 200
        q.last = last
        q.volume = volume
        q.close = 188
        q.dataType = source == .ib ? .live : .alphavantageRealtime
        return q.record(source: source, updatedMs: updatedMs)
    }

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
