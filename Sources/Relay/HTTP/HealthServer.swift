import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP listener for `/healthz`, `/readyz` and `/metrics` (CONTRACT §4) and the
/// loopback-only `/subscriptions` endpoints (README "Subscriptions at runtime"), as a `Service`.
///
/// Binding happens in ``start(host:port:routes:logger:group:)``, before the service group
/// runs, so that a port already in use is a start-up error with a clear message instead of a
/// failure somewhere inside the running group. ``run()`` then keeps the listener open until
/// graceful shutdown or cancellation and closes it.
public final class HealthServer: Service, Sendable {
    private let channel: any Channel
    private let logger: Logger
    private let subscriptions: SubscriptionAPI?

    /// The address actually bound; with port 0 the system chose the port.
    public let localAddress: SocketAddress
    /// The bound port (useful when configured as 0).
    public var port: Int { localAddress.port ?? 0 }

    private init(channel: any Channel, logger: Logger, subscriptions: SubscriptionAPI?) {
        self.channel = channel
        self.logger = logger
        self.subscriptions = subscriptions
        self.localAddress = channel.localAddress!
    }

    /// Binds `host:port` and starts answering.
    public static func start(
        host: String,
        port: Int,
        routes: HealthRoutes,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> HealthServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HealthHTTPHandler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .get()
        let server = HealthServer(channel: channel, logger: logger, subscriptions: routes.subscriptions)
        let endpoints = "/healthz /readyz /metrics" + (routes.subscriptions == nil ? "" : " /subscriptions (loopback only)")
        logger.info("http listening", metadata: ["address": "\(host):\(server.port)", "endpoints": "\(endpoints)"])
        return server
    }

    /// Convenience for the worker: the listener of `http.listen`.
    public static func start(
        settings: RelayConfiguration.HTTPSettings,
        routes: HealthRoutes,
        logger: Logger
    ) async throws -> HealthServer {
        try await start(host: settings.host, port: settings.port, routes: routes, logger: logger)
    }

    public func run() async throws {
        let channel = self.channel
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        await subscriptions?.shutdown()
        logger.info("http stopped")
    }

    /// Closes the listener (for use without a service group, e.g. in tests).
    public func stop() async {
        try? await channel.close()
        await subscriptions?.shutdown()
    }
}
