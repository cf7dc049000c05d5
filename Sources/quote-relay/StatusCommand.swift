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

    @OptionGroup var target: RedisTarget

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let (target, keyPrefix) = try self.target.resolve()
        let snapshot: StatusSnapshot
        do {
            snapshot = try await offThread { () throws(RedisError) in try StatusReader.read(url: target, prefix: keyPrefix) }
        } catch {
            printError("cannot read status from \(target): \(error)")
            throw ExitCode(1)
        }
        print(json ? StatusRenderer.json(snapshot) : StatusRenderer.table(snapshot))
        if snapshot.workers.isEmpty { throw ExitCode(1) }
    }
}
