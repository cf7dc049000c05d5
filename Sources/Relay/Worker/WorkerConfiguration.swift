import AlphaVantage
import Failover
import IBSession
import RedisPublisher

/// Everything the worker needs, already validated and split per component. The YAML/env
/// layer (`RelayConfiguration`) builds it; tests build it directly.
public struct WorkerConfiguration: Sendable {
    /// `worker.id`: names the status hash `P:worker:ID`.
    public var workerID: String
    public var gateway: GatewayConfiguration
    public var publisher: PublisherConfiguration
    /// nil: no Alpha Vantage failover (no key configured); failover then only marks data stale.
    public var alphaVantage: AlphaVantageConfiguration?
    public var alphaVantageBulkQuotes: Bool
    public var alphaVantageOptions: Bool
    /// `alphavantage.fx` [false]: `CASH` pairs fail over to CURRENCY_EXCHANGE_RATE (same
    /// budget as the quotes); off, their keys are flagged stale with the reason.
    public var alphaVantageFX: Bool
    public var failover: FailoverPolicy
    public var symbols: [SymbolSpec]
    /// `ib.max_market_data_lines` [100].
    public var maxMarketDataLines: Int
    /// How long a failover probe (snapshot request) may take [one check interval].
    public var probeTimeout: Duration
    /// How often option windows are re-centred on the underlying's price [5 s].
    public var recentreInterval: Duration
    /// How often the status hash is rewritten (`worker.status_interval_seconds`), at most one
    /// heartbeat interval [heartbeat interval]: its TTL is three heartbeat intervals.
    public var statusInterval: Duration
    /// Reported in the status hash.
    public var version: String
    /// `worker.group`: the group whose lease this worker competes for; nil = always active.
    /// Set `publisher.leaseKey` to match (the `init(_ RelayConfiguration)` does).
    public var group: String?
    /// The group lease's TTL and renew interval (`worker.lease_*`).
    public var leaseTiming: LeaseStateMachine.Timing
    /// Subscriptions at runtime through Redis leases (README "Subscriptions at runtime");
    /// nil: the worker serves only the YAML instruments and reads no leases.
    public var leases: LeaseSettings?

    public init(
        workerID: String = "quote-relay-1", gateway: GatewayConfiguration, publisher: PublisherConfiguration,
        alphaVantage: AlphaVantageConfiguration? = nil, alphaVantageBulkQuotes: Bool = false,
        alphaVantageOptions: Bool = false, alphaVantageFX: Bool = false, failover: FailoverPolicy = FailoverPolicy(), symbols: [SymbolSpec],
        maxMarketDataLines: Int = 100, probeTimeout: Duration? = nil, recentreInterval: Duration = .seconds(5),
        statusInterval: Duration? = nil, version: String = QuoteRelayVersion.current,
        group: String? = nil, leaseTiming: LeaseStateMachine.Timing = LeaseStateMachine.Timing(ttlMs: 5_000, renewIntervalMs: 1_666)
    ) {
        self.workerID = workerID
        self.gateway = gateway
        self.publisher = publisher
        self.alphaVantage = alphaVantage
        self.alphaVantageBulkQuotes = alphaVantageBulkQuotes
        self.alphaVantageOptions = alphaVantageOptions
        self.alphaVantageFX = alphaVantageFX
        self.failover = failover
        self.symbols = symbols
        self.maxMarketDataLines = maxMarketDataLines
        self.probeTimeout = probeTimeout ?? .milliseconds(failover.probeTimeoutMs)
        self.recentreInterval = recentreInterval
        // The hash lives 3 heartbeat intervals: it must be rewritten well within that.
        self.statusInterval = min(statusInterval ?? gateway.heartbeatInterval, gateway.heartbeatInterval)
        self.version = version
        self.group = group
        self.leaseTiming = leaseTiming
        if let group, self.publisher.leaseKey == nil {
            self.publisher.leaseKey = publisher.prefixed(PublisherKeys.lease(group: group))
        }
    }
}

/// `leases.*`: how the worker reads leases and shares the lines left after the pinned
/// instruments (see `LeaseArbiter.Settings`).
public struct LeaseSettings: Sendable, Hashable {
    /// `leases.poll_interval_ms` [1000]: how often `P:leases` is read.
    public var pollInterval: Duration = .seconds(1)
    /// `leases.grace_ms` [10000]: a line stays this long after its last lease expired.
    public var graceMs: Int64 = 10_000
    /// `leases.min_hold_ms` [30000]: a line is not pre-empted by a higher priority sooner.
    public var minHoldMs: Int64 = 30_000
    /// `leases.max_priority` [10]: request priorities are clamped to it.
    public var maxPriority = 10
    /// `leases.requester_max_priority`: a requester's own maximum in place of `maxPriority`.
    public var requesterMaxPriority: [String: Int] = [:]
    /// `leases.max_requests_per_requester` [50].
    public var maxRequestsPerRequester = 50
    /// `leases.new_requests_per_minute` [30]: per requester; more are refused (a flood).
    public var newRequestsPerMinute = 30

    public init() {}
}

public enum QuoteRelayVersion {
    public static let current = "0.1.0"
}
