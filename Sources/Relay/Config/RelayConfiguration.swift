import RedisPublisher

/// The whole configuration of one worker, after the file, the environment and flags were merged
/// and validated (CONTRACT §2). Every default below is the contract's; a value of this type is
/// always valid, because ``ConfigurationLoader`` only builds one when no problem was found.
///
/// Units live in the types: intervals and timeouts are `Duration`, so a caller never has to
/// guess whether a number means seconds or milliseconds.
public struct RelayConfiguration: Sendable, Equatable {
    public var worker = WorkerSettings()
    public var ib = IBSettings()
    public var redis = RedisSettings()
    /// What to relay, in the order given. Never empty once validated.
    public var symbols: [SymbolSpec] = []
    public var failover = FailoverSettings()
    public var leases = LeaseConfig()
    public var alphaVantage = AlphaVantageSettings()
    public var http = HTTPSettings()
    public var log = LogSettings()

    public init() {}
}

extension RelayConfiguration {
    /// `worker.*`: the identity the worker reports under.
    public struct WorkerSettings: Sendable, Equatable {
        /// `worker.id` ["quote-relay-1"]: names the status hash `P:worker:ID`.
        public var id = "quote-relay-1"
        /// `worker.status_interval_seconds` [5] (extension): how often the status hash is
        /// rewritten; its TTL is three intervals, so a dead worker's hash disappears.
        public var statusInterval: Duration = .seconds(5)
        /// `worker.shutdown_timeout_seconds` [5] (extension): how long a graceful stop may take
        /// before the process exits anyway.
        public var shutdownTimeout: Duration = .seconds(5)
        /// `worker.group` [none] (extension, README "A standby pair"): workers with the same
        /// group (and the same Redis and `redis.key_prefix`) stand in for each other: one
        /// holds the lease `P:group:GROUP:lease` and publishes, the others stand by. Letters,
        /// digits, `.`, `_`, `-`. nil: no group, the worker always publishes.
        public var group: String?
        /// `worker.lease_ttl_seconds` [5] (extension): how long the group's lease lasts
        /// without renewal; a dead worker's standby takes over within TTL + renew interval.
        public var leaseTTL: Duration = .seconds(5)
        /// `worker.lease_renew_seconds` [TTL / 3] (extension): how often the holder renews
        /// the lease and a standby bids for it; less than the TTL.
        public var leaseRenew: Duration?

        /// The renew interval in effect.
        public var leaseRenewInterval: Duration { leaseRenew ?? leaseTTL / 3 }

        public init() {}
    }

    /// `ib.*`: the one TWS API session to IB Gateway.
    public struct IBSettings: Sendable, Equatable {
        /// `ib.host` ["127.0.0.1"].
        public var host = "127.0.0.1"
        /// `ib.port` [4002]: IB Gateway's paper-trading port; live is usually 4001.
        public var port = 4002
        /// `ib.client_id` [17].
        public var clientID = 17
        /// `ib.client_id_pool` [[]]: further ids to try when the gateway answers 326
        /// ("client id already in use"), in order.
        public var clientIDPool: [Int] = []
        /// `ib.connect_timeout_seconds` [5]: TCP + handshake + first nextValidId, all together.
        public var connectTimeout: Duration = .seconds(5)
        /// `ib.heartbeat_interval_seconds` [10]: reqCurrentTime probe; no answer within two
        /// intervals means the session is dead.
        public var heartbeatInterval: Duration = .seconds(10)
        /// `ib.market_data_type` [live].
        public var marketDataType: MarketDataTypeSetting = .live
        /// `ib.max_market_data_lines` [100]: the account's simultaneous market data lines.
        public var maxMarketDataLines = 100
        /// `ib.max_requests_per_second` [40] (extension): outgoing message pacing; IB
        /// disconnects clients that exceed 50 messages a second.
        public var maxRequestsPerSecond = 40
        /// `ib.connectivity_lost_grace_seconds` [30] (extension): how long error 1100
        /// (gateway lost its connection to IB) may last before it counts as a failure.
        public var connectivityLostGrace: Duration = .seconds(30)
        /// `ib.reconnect.*`: backoff between connection attempts.
        public var reconnect = ReconnectSettings()

        public init() {}
    }

    /// `ib.reconnect.*`: exponential backoff with full jitter on every delay.
    public struct ReconnectSettings: Sendable, Equatable {
        /// `ib.reconnect.initial_delay_ms` [500].
        public var initialDelay: Duration = .milliseconds(500)
        /// `ib.reconnect.max_delay_ms` [30000]; never less than the initial delay.
        public var maxDelay: Duration = .milliseconds(30_000)
        /// `ib.reconnect.multiplier` [2.0]; at least 1.
        public var multiplier = 2.0

        public init() {}
    }

    /// `redis.*`: where and how records are published.
    public struct RedisSettings: Sendable, Equatable {
        /// `redis.url` ["redis://127.0.0.1:6379/0"]. Its password is a secret; the type's
        /// `description` masks it. Parsed by RedisPublisher, so the worker and the config
        /// agree on one spelling of URLs (percent-encoded credentials, IPv6 hosts).
        public var url = RedisURL()
        /// `redis.key_prefix` ["mkt"]: `P` in every key name.
        public var keyPrefix = "mkt"
        /// `redis.quote_ttl_seconds` [300]: TTL of `P:quote:SYM`, refreshed on each write.
        public var quoteTTL: Duration = .seconds(300)
        /// `redis.option_ttl_seconds` [300]: TTL of `P:option:...`.
        public var optionTTL: Duration = .seconds(300)
        /// `redis.chain_ttl_seconds` [86400]: TTL of `P:chain:SYM`.
        public var chainTTL: Duration = .seconds(86_400)
        /// `redis.stream.enabled` [false]: also XADD every update to `P:stream`.
        public var streamEnabled = false
        /// `redis.stream.maxlen` [100000]: approximate cap of `P:stream`.
        public var streamMaxLength = 100_000
        /// `redis.scripts_dir` ["lua"]: folder of `publish.lua`, `staleness.lua` and `status.lua`; relative
        /// paths are resolved against the working directory.
        public var scriptsDirectory = "lua"
        /// `redis.sentinels` [] + `redis.master_name` + `redis.sentinel_username` /
        /// `redis.sentinel_password` (extension): find and follow the primary through Redis
        /// Sentinel; nil when `redis.sentinels` is empty. The host and port of `url` are then
        /// unused.
        public var sentinel: SentinelConfiguration?

        public init() {}
    }

    /// `failover.*`: when to leave IB for Alpha Vantage and when to come back.
    public struct FailoverSettings: Sendable, Equatable {
        /// `failover.max_reconnect_attempts` [5]: consecutive failed attempts -> fail over.
        public var maxReconnectAttempts = 5
        /// `failover.staleness_seconds` [60]: no confirmed data this long (in trading hours)
        /// -> the key is stale and the worker fails over.
        public var staleness: Duration = .seconds(60)
        /// `failover.check_interval_seconds` [5]: how often the staleness script runs.
        public var checkInterval: Duration = .seconds(5)
        /// `failover.failback_stable_seconds` [30]: IB healthy and fresh this long -> back to IB.
        public var failbackStable: Duration = .seconds(30)

        public init() {}
    }

    /// `leases.*` (extension, issue 12): subscriptions at runtime through Redis leases.
    public struct LeaseConfig: Sendable, Equatable {
        /// `leases.enabled` [true]: read `P:leases` and serve requested instruments.
        public var enabled = true
        /// `leases.poll_interval_ms` [1000]: how often `P:leases` is read.
        public var pollInterval: Duration = .seconds(1)
        /// `leases.grace_seconds` [10]: a line stays this long after its last lease expired.
        public var grace: Duration = .seconds(10)
        /// `leases.min_hold_seconds` [30]: a line is not pre-empted by a higher priority sooner.
        public var minHold: Duration = .seconds(30)
        /// `leases.max_priority` [10]: request priorities are clamped to it.
        public var maxPriority = 10
        /// `leases.requester_max_priority` [[]]: `REQUESTER=N` items, a requester's own
        /// maximum in place of `max_priority` (0...1000).
        public var requesterMaxPriority: [String: Int] = [:]
        /// `leases.max_requests_per_requester` [50].
        public var maxRequestsPerRequester = 50
        /// `leases.new_requests_per_minute` [30]: per requester; more are refused.
        public var newRequestsPerMinute = 30

        public init() {}
    }

    /// `alphavantage.*`: the REST fallback.
    public struct AlphaVantageSettings: Sendable, Equatable {
        /// `alphavantage.base_url` ["https://www.alphavantage.co/query"].
        public var baseURL = "https://www.alphavantage.co/query"
        /// `alphavantage.api_key` [none; usually from ALPHAVANTAGE_API_KEY]. A secret: never
        /// printed or logged.
        public var apiKey: String?
        /// `alphavantage.requests_per_minute` [5]: the plan's per-minute allowance.
        public var requestsPerMinute = 5
        /// `alphavantage.requests_per_day` [25]: the plan's daily allowance.
        public var requestsPerDay = 25
        /// `alphavantage.entitlement` [none]: which data the key is entitled to.
        public var entitlement: AlphaVantageEntitlement = .none
        /// `alphavantage.bulk_quotes` [false]: use REALTIME_BULK_QUOTES (up to 100 symbols a call).
        public var bulkQuotes = false
        /// `alphavantage.options` [false]: poll REALTIME_OPTIONS while failed over.
        public var options = false
        /// `alphavantage.fx` [false] (extension): fail `CASH` pairs over to Alpha Vantage's FX
        /// endpoint (CURRENCY_EXCHANGE_RATE); off, an FX key is flagged stale instead.
        public var fx = false
        /// `alphavantage.timeout_seconds` [10] (extension): whole-request timeout.
        public var timeout: Duration = .seconds(10)

        public init() {}
    }

    /// `http.*`: the health and metrics endpoint.
    public struct HTTPSettings: Sendable, Equatable {
        /// `http.listen` ["127.0.0.1:9464"]: `host:port` of /healthz /readyz /metrics; port 0
        /// lets the system choose.
        public var host = "127.0.0.1"
        public var port = 9464

        public init() {}
    }

    /// `log.*`.
    public struct LogSettings: Sendable, Equatable {
        /// `log.level` [info].
        public var level: LogLevelSetting = .info
        /// `log.format` [text]: `text` for people, `json` (one object per line) for machines.
        public var format: LogFormat = .text

        public init() {}
    }
}

/// `ib.market_data_type`: IB's four market data types.
public enum MarketDataTypeSetting: String, Sendable, Equatable, CaseIterable {
    case live
    case frozen
    case delayed
    case delayedFrozen = "delayed_frozen"

    /// The number `reqMarketDataType` sends.
    public var ibCode: Int32 {
        switch self {
        case .live: 1
        case .frozen: 2
        case .delayed: 3
        case .delayedFrozen: 4
        }
    }
}

/// `alphavantage.entitlement`: `none` means end-of-day-ish data (the free tier).
public enum AlphaVantageEntitlement: String, Sendable, Equatable, CaseIterable {
    case none
    case delayed
    case realtime
}

/// `log.level`: swift-log's levels, spelled as in the YAML.
public enum LogLevelSetting: String, Sendable, Equatable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// `log.format`.
public enum LogFormat: String, Sendable, Equatable, CaseIterable {
    case text
    case json
}
