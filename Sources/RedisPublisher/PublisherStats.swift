/// Counters since the publisher was created, for `/metrics`, `/readyz` and the benchmark.
public struct PublisherStats: Sendable, Hashable {
    /// Data keys written (publish.lua runs that succeeded).
    public var writes: UInt64 = 0
    /// Round trips (pipelined batches) to Redis.
    public var batches: UInt64 = 0
    /// Updates that replaced a pending value of the same key (latest wins) instead of
    /// causing a write of their own.
    public var coalesced: UInt64 = 0
    /// Data writes Redis refused with an error no retry can fix (e.g. WRONGTYPE when
    /// something else owns the key); those values are dropped. Transient refusals (READONLY,
    /// OOM, ...) are retried and counted in `refusedWrites` instead.
    public var writeErrors: UInt64 = 0
    /// The error reply of the last data write counted in `writeErrors` (`WRONGTYPE ...`).
    public var lastRejection: String?
    public var eventsPublished: UInt64 = 0
    /// Events dropped because the bounded queue was full (e.g. during a long outage).
    public var eventsDropped: UInt64 = 0
    public var statusWrites: UInt64 = 0
    /// Successful connects after the first one.
    public var reconnects: UInt64 = 0
    /// Failed connect attempts.
    public var connectFailures: UInt64 = 0
    /// Scripts reloaded after NOSCRIPT (a restarted or flushed server).
    public var scriptReloads: UInt64 = 0
    /// Keys written again because the server changed (restart: new `run_id`) and had lost them.
    public var keysRestored: UInt64 = 0
    public var connected = false
    /// Keys waiting to be written right now.
    public var pendingKeys = 0
    public var pendingEvents = 0
    /// From `publish()` to the reply of the write that carried that value.
    public var latency = LatencyHistogram()
    /// The last connection or write error, for `status` and logs (never holds a password).
    public var lastError: String?
    /// Set while Redis refuses writes with a transient error (READONLY, OOM, MISCONF, ...):
    /// the refused values wait, latest per key, and land when Redis accepts writes again.
    public var writeRefusal: WriteRefusal?
    /// Writes (data, status, staleness script) refused, by error class.
    public var refusedWrites: [String: UInt64] = [:]
    /// `worker.group`: data writes not applied because this worker did not hold the lease:
    /// refused by the fence in Redis (`-FENCED`) or dropped before sending (standby).
    public var fencedWrites: UInt64 = 0

    public init() {}
}

/// What one run of staleness.lua changed. Members are keys without the prefix
/// (`quote:AAPL`), as in `P:updated`.
public struct StalenessChange: Sendable, Hashable {
    /// Keys whose `stale` flag was just set.
    public var newlyStale: [String]
    /// Keys whose flag was just cleared because fresh data arrived.
    public var newlyFresh: [String]
    /// Keys that had expired (TTL) and were removed from the index.
    public var expired: [String]
    /// Keys flagged stale after this run.
    public var staleCount: Int
    /// Redis' clock (TIME) when the check ran, epoch milliseconds.
    public var redisTimeMs: Int64

    public init(newlyStale: [String], newlyFresh: [String], expired: [String], staleCount: Int, redisTimeMs: Int64) {
        self.newlyStale = newlyStale
        self.newlyFresh = newlyFresh
        self.expired = expired
        self.staleCount = staleCount
        self.redisTimeMs = redisTimeMs
    }

    /// Decodes staleness.lua's reply.
    init(reply: RedisReply) throws(RedisError) {
        func members(_ r: RedisReply) -> [String]? { r.array?.compactMap(\.string) }
        guard let parts = reply.array, parts.count == 5,
              let stale = members(parts[0]), let fresh = members(parts[1]), let expired = members(parts[2]),
              let count = parts[3].int, let now = parts[4].int
        else {
            throw RedisError(.unexpectedReply, "staleness.lua returned an unexpected shape")
        }
        self.init(newlyStale: stale, newlyFresh: fresh, expired: expired, staleCount: Int(count), redisTimeMs: now)
    }
}
