import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisPublisher

/// The I/O half of the subscription endpoints (``SubscriptionRoutes``): reaches Redis like the
/// worker's lease store and runs every Redis call on two threads of its own, so a slow or
/// unreachable Redis never blocks an event loop (where `/healthz` and `/metrics` are answered)
/// nor the worker's own lease polling on NIO's shared blocking pool.
///
/// Each request opens a connection and closes it (operators ask rarely; nothing to go stale
/// across a Redis restart or a Sentinel failover). At most ``maxInFlight`` requests wait for
/// Redis at a time; more are answered 503 at once, so a hung Redis cannot pile up work.
public final class SubscriptionAPI: Sendable {
    /// Requests waiting for Redis at most (beyond: 503 with `Retry-After`).
    public static let maxInFlight = 8

    /// `redis.key_prefix`.
    public let prefix: String
    /// `leases.enabled`: when false every subscription endpoint answers 404 saying so, since
    /// no worker would read a lease written through it.
    public let enabled: Bool
    private let connect: @Sendable () throws(RedisError) -> RedisConnection
    private let pool: NIOThreadPool
    private let inFlight = NIOLockedValueBox(0)
    private let logger: Logger

    /// - Parameter connect: opens a connection to the worker's Redis (blocking; called on the
    ///   API's own threads).
    public init(prefix: String, enabled: Bool = true, logger: Logger, connect: @escaping @Sendable () throws(RedisError) -> RedisConnection) {
        self.prefix = prefix
        self.enabled = enabled
        self.connect = connect
        self.logger = logger
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
    }

    /// The worker's Redis as its configuration names it (URL, TLS, Sentinel, timeouts), its
    /// key prefix, and whether leases are enabled.
    public convenience init(configuration: WorkerConfiguration, logger: Logger) {
        self.init(
            prefix: configuration.publisher.keyPrefix, enabled: configuration.leases != nil, logger: logger,
            connect: LeaseStore.connector(configuration.publisher))
    }

    /// Answers `operation` on `eventLoop` once Redis has; `peer` is for the log.
    func answer(_ operation: SubscriptionOperation, peer: String, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPAnswer> {
        let admitted = inFlight.withLockedValue { count in
            guard count < Self.maxInFlight else { return false }
            count += 1
            return true
        }
        guard admitted else {
            var busy = SubscriptionRoutes.error(.serviceUnavailable, "too many subscription requests waiting for Redis; retry")
            busy.extraHeaders = [("Retry-After", "1")]
            return eventLoop.makeSucceededFuture(busy)
        }
        let (connect, prefix, logger, inFlight) = (self.connect, self.prefix, self.logger, self.inFlight)
        let work = pool.runIfActive(eventLoop: eventLoop) { () -> HTTPAnswer in
            defer { inFlight.withLockedValue { $0 -= 1 } }
            let connection: RedisConnection
            do throws(RedisError) {
                connection = try connect()
            } catch {
                return SubscriptionRoutes.redis(error)
            }
            defer { connection.close() }
            let answer = SubscriptionRoutes.perform(operation, on: connection, prefix: prefix)
            switch operation {
            case let .subscribe(requester, spec, ttlMs, priority):
                logger.info("http: lease written", metadata: [
                    "peer": "\(peer)", "requester": "\(requester)", "instrument": "\(spec)", "ttl_ms": "\(ttlMs)",
                    "priority": "\(priority.map(String.init) ?? "-")", "status": "\(answer.status.code)",
                ])
            case let .unsubscribe(requester, spec):
                logger.info("http: lease removed", metadata: [
                    "peer": "\(peer)", "requester": "\(requester)", "instrument": "\(spec)", "status": "\(answer.status.code)",
                ])
            case .list, .show:
                break
            }
            return answer
        }
        // The pool is shut down (the server is stopping): the request never ran.
        return work.flatMapErrorThrowing { _ in
            inFlight.withLockedValue { $0 -= 1 }
            return SubscriptionRoutes.error(.serviceUnavailable, "shutting down")
        }
    }

    /// Stops the API's threads (after the listener closed).
    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
