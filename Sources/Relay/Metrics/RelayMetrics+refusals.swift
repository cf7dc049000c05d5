import Metrics

extension RelayMetrics.Name {
    /// Writes Redis refused with a transient error reply, by `class` (READONLY, OOM, MISCONF,
    /// LOADING, BUSY, NOPERM, ...); the values are retried, latest per key.
    public static let redisWritesRefused = "quote_relay_redis_writes_refused_total"
}

extension RelayMetrics {
    /// Counts writes (data, status, staleness script) that Redis refused, by error class.
    public func redisWritesRefused(errorClass: String, count: Int64) {
        Counter(label: Name.redisWritesRefused, dimensions: [("class", errorClass)], factory: factory).increment(by: count)
    }
}
