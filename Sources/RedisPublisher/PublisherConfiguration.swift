import MarketModel

/// How the publisher reaches Redis and shapes the layout. Built by the configuration layer
/// from the `redis.*` keys (CONTRACT §2); the defaults here are the contract's.
public struct PublisherConfiguration: Sendable {
    /// `redis.url`. Default `redis://127.0.0.1:6379/0`.
    public var url: RedisURL
    /// `worker.id`: names the status hash `P:worker:ID`. Default `quote-relay-1`.
    public var workerID: String
    /// `redis.key_prefix` (`P`). Default `mkt`. Empty means no prefix at all.
    public var keyPrefix: String
    /// `redis.quote_ttl_seconds`. Default 300 s.
    public var quoteTTL: Duration
    /// `redis.option_ttl_seconds`. Default 300 s.
    public var optionTTL: Duration
    /// `redis.chain_ttl_seconds`. Default 86400 s.
    public var chainTTL: Duration
    /// `redis.stream.enabled`. Default false.
    public var streamEnabled: Bool
    /// `redis.stream.maxlen` (approximate trimming). Default 100000.
    public var streamMaxLen: Int
    /// `redis.scripts_dir`. Default `lua`.
    public var scriptsDirectory: String
    /// Bound of the `P:events` queue; events beyond it are dropped and counted, so a long
    /// Redis outage cannot grow memory or block the producer. Default 10000.
    public var maxPendingEvents: Int
    /// Most commands per round trip: bounds the size of one write and the latency of the
    /// keys queued behind it. Default 512.
    public var maxBatch: Int
    /// Bounds the TCP connect. Default 2 s.
    public var connectTimeout: Duration
    /// Bounds every socket read/write, so a hung server is detected. Default 5 s.
    public var ioTimeout: Duration
    /// Reconnect backoff: first delay, doubled per failed attempt up to `reconnectMaxDelay`,
    /// with full jitter. Defaults 200 ms and 5 s.
    public var reconnectInitialDelay: Duration
    public var reconnectMaxDelay: Duration
    /// The wall clock the records' `updated_ms` come from (epoch ms). The writer sends each
    /// record's age on this clock, so the freshness index is scored on Redis' clock and a
    /// worker whose clock is off Redis' is judged correctly. Default: the system clock.
    public var wallClockMs: @Sendable () -> Int64 = WallClockMs.now
    /// `redis.sentinels` + `redis.master_name`: find and follow the primary through Redis
    /// Sentinel (then `url` supplies only credentials, database and TLS). Default nil.
    public var sentinel: SentinelConfiguration?
    /// `worker.group`: the group's lease key with prefix (`P:group:GROUP:lease`). When set,
    /// every data write (publish.lua, staleness.lua) is fenced: it carries the token given to
    /// `Publisher.setFenceToken` and Redis applies it only while the key holds that token;
    /// without a token, data writes are dropped before they are sent. nil: no fence.
    public var leaseKey: String?

    public init(
        url: RedisURL = RedisURL(),
        workerID: String = "quote-relay-1",
        keyPrefix: String = "mkt",
        quoteTTL: Duration = .seconds(300),
        optionTTL: Duration = .seconds(300),
        chainTTL: Duration = .seconds(86_400),
        streamEnabled: Bool = false,
        streamMaxLen: Int = 100_000,
        scriptsDirectory: String = "lua",
        maxPendingEvents: Int = 10_000,
        maxBatch: Int = 512,
        connectTimeout: Duration = .seconds(2),
        ioTimeout: Duration = .seconds(5),
        reconnectInitialDelay: Duration = .milliseconds(200),
        reconnectMaxDelay: Duration = .seconds(5),
        sentinel: SentinelConfiguration? = nil
    ) {
        self.url = url
        self.workerID = workerID
        self.keyPrefix = keyPrefix
        self.quoteTTL = quoteTTL
        self.optionTTL = optionTTL
        self.chainTTL = chainTTL
        self.streamEnabled = streamEnabled
        self.streamMaxLen = streamMaxLen
        self.scriptsDirectory = scriptsDirectory
        self.maxPendingEvents = maxPendingEvents
        self.maxBatch = maxBatch
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
        self.reconnectInitialDelay = reconnectInitialDelay
        self.reconnectMaxDelay = reconnectMaxDelay
        self.sentinel = sentinel
    }

    public func ttl(for kind: Record.Kind) -> Duration {
        switch kind {
        case .quote: quoteTTL
        case .option: optionTTL
        case .chain: chainTTL
        }
    }

    /// A key of the layout with the configured prefix.
    public func prefixed(_ key: String) -> String { Keys.prefixed(keyPrefix, key) }
}

extension Duration {
    /// Whole milliseconds (rounded down), as PEXPIRE and the layout's times want them.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// The system's wall clock (CLOCK_REALTIME) in epoch milliseconds.
public enum WallClockMs {
    @Sendable public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
