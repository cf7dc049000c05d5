import ArgumentParser
import Foundation
import RedisPublisher
import Relay

/// `quote-relay status`: what the worker says about itself in Redis, for the operator at 3 a.m.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the workers' state and the freshness of every key, as read from Redis.",
        discussion: """
            Reads P:worker:* (state, source, IB connection, reconnects, last error, failover), \
            P:updated (when each key was last confirmed) and each key's source and stale flag. \
            Ages are measured with Redis' clock. Redis URL and prefix come from the flags, else \
            from --config / the environment (REDIS_URL, REDIS_KEY_PREFIX, REDIS_TLS_CA_FILE ...), \
            else the defaults.

            Exit status: 0 when a worker status was found, 1 when none was (or Redis is \
            unreachable), 2 when the configuration is invalid.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Redis to read, redis[s]://[user:password@]host:port/db (TLS settings from redis.tls.*).", valueName: "url"))
    var redisURL: String?

    @Option(name: .long, help: ArgumentHelp("Key prefix (redis.key_prefix).", valueName: "prefix"))
    var prefix: String?

    @Option(name: .long, help: ArgumentHelp("Take redis.url and redis.key_prefix from this configuration file.", valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        var overrides: [String: String] = [:]
        if let redisURL { overrides["redis.url"] = redisURL }
        if let prefix { overrides["redis.key_prefix"] = prefix }
        let report = ConfigurationLoader.load(filePath: config, environment: ProcessInfo.processInfo.environment, overrides: overrides)
        // Only the keys status uses matter here: a file without symbols is fine for reading.
        let relevant = report.problems.filter {
            ["(file)", "redis.url", "redis.key_prefix"].contains($0.keyPath) || $0.keyPath.hasPrefix("redis.tls.")
        }
        guard relevant.isEmpty else {
            for problem in relevant { printError(problem.description) }
            throw ExitCode(2)
        }
        let target = report.decoded.redis.url
        let keyPrefix = report.decoded.redis.keyPrefix

        let snapshot: StatusSnapshot
        do {
            snapshot = try await Self.offThread { () throws(RedisError) in try StatusReader.read(url: target, prefix: keyPrefix) }
        } catch {
            printError("cannot read status from \(target): \(error)")
            throw ExitCode(1)
        }
        print(json ? StatusRenderer.json(snapshot) : StatusRenderer.table(snapshot))
        if snapshot.workers.isEmpty { throw ExitCode(1) }
    }

    /// hiredis blocks; run it on a thread of its own rather than the cooperative pool.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws(RedisError) -> T) async throws(RedisError) -> T {
        let result: Result<T, RedisError> = await withCheckedContinuation { continuation in
            Thread {
                do throws(RedisError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }.start()
        }
        return try result.get()
    }
}
