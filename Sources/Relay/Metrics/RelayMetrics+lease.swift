import Metrics

extension RelayMetrics.Name {
    /// `worker.group`: 1 while this worker holds its group's lease and publishes (always 1
    /// without a group), 0 while it stands by.
    public static let leaseActive = "quote_relay_lease_active"
    /// `worker.group`: terms as the group's active worker begun (lease acquired).
    public static let leaseTakeovers = "quote_relay_lease_takeovers_total"
    /// `worker.group`: data writes not applied because this worker did not hold the lease
    /// (refused by the fence in Redis, or dropped as standby).
    public static let redisWritesFenced = "quote_relay_redis_writes_fenced_total"
}

extension RelayMetrics {
    /// Sets `quote_relay_lease_active`.
    public func leaseRole(active: Bool) {
        Gauge(label: Name.leaseActive, factory: factory).record(active ? 1 : 0)
    }

    /// `quote_relay_lease_takeovers_total`.
    public var leaseTakeovers: Counter { Counter(label: Name.leaseTakeovers, factory: factory) }

    /// `quote_relay_redis_writes_fenced_total`.
    public var redisWritesFenced: Counter { Counter(label: Name.redisWritesFenced, factory: factory) }
}
