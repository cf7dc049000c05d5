import Logging

/// Follows `+switch-master` on the sentinels, on a thread of its own, and tells the writer
/// when the primary moved, so it reconnects at once instead of waiting for a write to fail.
///
/// The writer also re-asks the sentinels on every reconnect and on `READONLY`, so a message
/// missed while no sentinel was reachable costs time, not data.
final class SentinelWatcher {
    let configuration: SentinelConfiguration
    let dataURL: RedisURL
    let shared: PublisherShared
    let logger: Logger
    /// How long one wait for a message lasts before checking for shutdown.
    static let pollInterval: Duration = .milliseconds(250)

    init(configuration: SentinelConfiguration, dataURL: RedisURL, shared: PublisherShared, logger: Logger) {
        self.configuration = configuration
        self.dataURL = dataURL
        self.shared = shared
        self.logger = logger
    }

    /// How often the watcher asks the sentinel which primary it names, beside following
    /// `+switch-master`.
    static let recheckInterval: Duration = .seconds(2)

    /// Asks `address` for the primary (on a short connection of its own: a subscribed
    /// connection cannot send other commands) and tells the writer to reconnect when it is
    /// connected to another server. A sentinel that cannot answer changes nothing.
    private func recheck(_ address: SentinelConfiguration.Address) {
        guard let connected = shared.locked({ $0.connectedPrimary }) else { return }
        let named: (host: String, port: Int)?
        do throws(RedisError) {
            let sentinel = try RedisConnection(url: Sentinel.url(of: address, configuration, dataURL: dataURL),
                                               connectTimeout: .seconds(2), ioTimeout: .seconds(2))
            defer { sentinel.close() }
            named = try Sentinel.primaryAddress(from: sentinel.command(["SENTINEL", "get-master-addr-by-name", configuration.masterName]))
        } catch {
            return
        }
        guard let named, named.host != connected.host || named.port != connected.port else { return }
        logger.notice("Sentinel names another Redis primary than the one written to; reconnecting", metadata: [
            "master_name": "\(configuration.masterName)", "primary": "\(named.host):\(named.port)",
            "connected": "\(connected)",
        ])
        shared.locked { s in
            // Only if the writer is still on the server this check compared with.
            guard s.connectedPrimary == connected else { return }
            s.primaryMoved = true
            s.signalWriterIfWaiting()
        }
    }

    /// Subscribes to one sentinel after another until the publisher stops.
    func run() {
        var index = 0
        var failures = 0
        while !shared.locked({ $0.stopping }) {
            let address = configuration.sentinels[index % configuration.sentinels.count]
            index += 1
            do throws(RedisError) {
                try listen(to: address)
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures % 40 == 0 {
                    logger.warning("cannot follow +switch-master on a sentinel; trying the next", metadata: [
                        "sentinel": "\(address)", "error": "\(error)",
                    ])
                }
                guard shared.locked({ $0.sleep(nanos: 250_000_000) }) else { return }
            }
        }
    }

    /// Returns when the publisher stops; throws when the sentinel fails.
    private func listen(to address: SentinelConfiguration.Address) throws(RedisError) {
        let connection = try RedisConnection(url: Sentinel.url(of: address, configuration, dataURL: dataURL),
                                             connectTimeout: .seconds(2), ioTimeout: .seconds(5))
        defer { connection.close() }
        try connection.append({
            var buffer = RESPBuffer()
            buffer.append(["SUBSCRIBE", "+switch-master"])
            return buffer
        }())
        try connection.flush()
        logger.debug("following +switch-master", metadata: ["sentinel": "\(address)"])
        // A switch announced before this subscription (at start-up, or while no sentinel was
        // reachable) is not sent again: ask which primary the sentinel names now, and again
        // every `recheckInterval`.
        var nextCheck = MonotonicClock.nanos()
        while !shared.locked({ $0.stopping }) {
            if MonotonicClock.nanos() >= nextCheck {
                nextCheck = MonotonicClock.nanos() + UInt64(Self.recheckInterval.components.seconds) * 1_000_000_000
                recheck(address)
            }
            guard let reply = try connection.readReply(waitingAtMost: Self.pollInterval) else { continue }
            guard let items = reply.array, items.count == 3, items[0].string == "message",
                  let payload = items[2].string,
                  let primary = Sentinel.switchedPrimary(payload: payload, masterName: configuration.masterName)
            else { continue }
            logger.notice("Sentinel moved the Redis primary; reconnecting", metadata: [
                "master_name": "\(configuration.masterName)", "primary": "\(primary.host):\(primary.port)",
            ])
            shared.locked { s in
                s.primaryMoved = true
                s.signalWriterIfWaiting()
            }
        }
    }
}
