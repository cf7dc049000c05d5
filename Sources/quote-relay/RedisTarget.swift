import ArgumentParser
import Foundation
import RedisPublisher
import Relay

/// Where the commands that only read or write Redis (`status`, `subscribe`, `unsubscribe`,
/// `subscriptions`) find it: the flags, else `--config` / the environment (`REDIS_URL`,
/// `REDIS_KEY_PREFIX`, `REDIS_TLS_CA_FILE` ...), else the defaults.
struct RedisTarget: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Redis, redis[s]://[user:password@]host:port/db (TLS settings from redis.tls.*).", valueName: "url"))
    var redisURL: String?

    @Option(name: .long, help: ArgumentHelp("Key prefix (redis.key_prefix).", valueName: "prefix"))
    var prefix: String?

    @Option(name: .long, help: ArgumentHelp("Take redis.url and redis.key_prefix from this configuration file.", valueName: "file"))
    var config: String?

    /// The URL and prefix. Only the keys these commands use are checked (a file without
    /// symbols is fine for reading); a problem with them is printed and exits 2.
    func resolve() throws -> (url: RedisURL, prefix: String) {
        var overrides: [String: String] = [:]
        if let redisURL { overrides["redis.url"] = redisURL }
        if let prefix { overrides["redis.key_prefix"] = prefix }
        let report = ConfigurationLoader.load(filePath: config, environment: ProcessInfo.processInfo.environment, overrides: overrides)
        let relevant = report.problems.filter {
            ["(file)", "redis.url", "redis.key_prefix"].contains($0.keyPath) || $0.keyPath.hasPrefix("redis.tls.")
        }
        guard relevant.isEmpty else {
            for problem in relevant { printError(problem.description) }
            throw ExitCode(2)
        }
        return (report.decoded.redis.url, report.decoded.redis.keyPrefix)
    }
}

/// Runs blocking hiredis work on a thread of its own rather than the cooperative pool.
func offThread<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        Thread {
            do throws(E) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }.start()
    }
    return try result.get()
}
