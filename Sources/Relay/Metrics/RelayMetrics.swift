import IBSession
import Metrics

/// The metrics the worker reports, named once here so that dashboards and alerts have one
/// place to look. Names follow Prometheus conventions: a `quote_relay_` namespace, the unit in
/// the name, `_total` on counters.
///
/// Handles are made through swift-metrics against an injected factory, so the worker depends
/// on the swift-metrics API only, and tests get a private registry instead of the process-wide
/// one (which can be bootstrapped once).
public struct RelayMetrics: Sendable {
    /// Metric names, for dashboards, alerts and tests.
    public enum Name {
        public static let ibConnected = "quote_relay_ib_connected"
        public static let ibReconnects = "quote_relay_ib_reconnects_total"
        public static let ibTicksReceived = "quote_relay_ib_ticks_received_total"
        public static let ibErrors = "quote_relay_ib_errors_total"
        public static let ibNotices = "quote_relay_ib_notices_total"
        public static let ibMessagesSkipped = "quote_relay_ib_messages_skipped_total"
        public static let ibPacingDelays = "quote_relay_ib_pacing_delays_total"
        public static let marketDataLines = "quote_relay_ib_market_data_lines"
        public static let marketDataLinesLimit = "quote_relay_ib_market_data_lines_limit"
        public static let workerState = "quote_relay_worker_state"
        public static let dataSource = "quote_relay_data_source"
        public static let redisConnected = "quote_relay_redis_connected"
        public static let redisWrites = "quote_relay_redis_writes_total"
        public static let redisWriteErrors = "quote_relay_redis_write_errors_total"
        public static let redisWriteLatency = "quote_relay_redis_write_latency_seconds"
        public static let redisReconnects = "quote_relay_redis_reconnects_total"
        public static let failovers = "quote_relay_failovers_total"
        public static let failbacks = "quote_relay_failbacks_total"
        public static let avRequests = "quote_relay_alphavantage_requests_total"
        public static let avErrors = "quote_relay_alphavantage_errors_total"
        public static let avDailyLimit = "quote_relay_alphavantage_daily_limit"
        public static let symbolStaleness = "quote_relay_symbol_staleness_seconds"
        public static let staleKeys = "quote_relay_stale_keys"
        public static let eventsDropped = "quote_relay_events_dropped_total"
    }

    /// `state` values of the worker hash (CONTRACT §3), one gauge series each.
    public static let workerStates = ["starting", "connecting", "connected", "degraded", "failover", "stopping", "stopped"]

    let factory: any MetricsFactory

    /// 1 while the TWS session is up (handshake done), else 0.
    public let ibConnected: Gauge
    /// Failed connection attempts (each one is followed by a reconnect after backoff).
    public let ibReconnects: Counter
    /// Tick messages (price, size, option computation ...) received from IB.
    public let ibTicksReceived: Counter
    /// Requests the pacer held back to stay under `ib.max_requests_per_second`.
    public let ibPacingDelays: Counter
    /// Market data lines in use.
    public let marketDataLines: Gauge
    /// `ib.max_market_data_lines`: the most lines the worker will use.
    public let marketDataLinesLimit: Gauge
    /// 1 while Redis answers, else 0.
    public let redisConnected: Gauge
    /// Data key writes (one `publish.lua` call each).
    public let redisWrites: Counter
    /// Data key writes Redis did not confirm (each is retried or given up).
    public let redisWriteErrors: Counter
    /// Hand-over (`publish()`) to confirmed write of each data key; a histogram in seconds.
    public let redisWriteLatency: Metrics.Timer
    /// Reconnections to Redis after a lost connection.
    public let redisReconnects: Counter
    /// Symbols moved from IB to Alpha Vantage: one per symbol per failover (a failover of
    /// three symbols adds 3).
    public let failovers: Counter
    /// Symbols moved back from Alpha Vantage to IB: one per symbol per failback.
    public let failbacks: Counter
    /// `alphavantage.requests_per_day` (0: no daily cap), for the budget alert.
    public let avDailyLimit: Gauge
    /// Keys currently flagged `stale`.
    public let staleKeys: Gauge
    /// Updates or events discarded because a queue was full (the publisher coalesces per key;
    /// anything counted here was lost, not merely merged).
    public let eventsDropped: Counter

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        ibConnected = Gauge(label: Name.ibConnected, factory: factory)
        ibReconnects = Counter(label: Name.ibReconnects, factory: factory)
        ibTicksReceived = Counter(label: Name.ibTicksReceived, factory: factory)
        ibPacingDelays = Counter(label: Name.ibPacingDelays, factory: factory)
        marketDataLines = Gauge(label: Name.marketDataLines, factory: factory)
        marketDataLinesLimit = Gauge(label: Name.marketDataLinesLimit, factory: factory)
        redisConnected = Gauge(label: Name.redisConnected, factory: factory)
        redisWrites = Counter(label: Name.redisWrites, factory: factory)
        redisWriteErrors = Counter(label: Name.redisWriteErrors, factory: factory)
        redisWriteLatency = Metrics.Timer(label: Name.redisWriteLatency, factory: factory)
        redisReconnects = Counter(label: Name.redisReconnects, factory: factory)
        failovers = Counter(label: Name.failovers, factory: factory)
        failbacks = Counter(label: Name.failbacks, factory: factory)
        avDailyLimit = Gauge(label: Name.avDailyLimit, factory: factory)
        staleKeys = Gauge(label: Name.staleKeys, factory: factory)
        eventsDropped = Counter(label: Name.eventsDropped, factory: factory)
    }

    /// Counts gateway messages the worker did not use, by reason: `unknown` (a message id the
    /// codec does not model), `undecodable` (a malformed frame), `late` (ticks of a cancelled line).
    public func ibMessagesSkipped(reason: String, count: Int) {
        Counter(label: Name.ibMessagesSkipped, dimensions: [("reason", reason)], factory: factory).increment(by: Int64(count))
    }

    /// Counts an IB message by its code: errors (`502`, `1100`, `326` ...) in
    /// `quote_relay_ib_errors_total`, informational codes (2104/2106/2158 "farm OK", 2107/2108
    /// "farm idle", 1102, other 21xx) and warnings (10090, 10167: the line goes on;
    /// ``IBErrorClass/severity``) in
    /// `quote_relay_ib_notices_total`, so that an alert on errors is not woken by a farm that
    /// says it is fine.
    public func ibError(code: Int) {
        Counter(label: Self.isNotice(code: code) ? Name.ibNotices : Name.ibErrors, dimensions: [("code", String(code))], factory: factory).increment()
    }

    /// Counts one Alpha Vantage request by API function (`GLOBAL_QUOTE` ...).
    public func alphaVantageRequest(function: String) {
        Counter(label: Name.avRequests, dimensions: [("function", function)], factory: factory).increment()
    }

    /// Counts a failed Alpha Vantage request by kind (`http`, `timeout`, `malformed`, `error_message`).
    public func alphaVantageError(kind: String) {
        Counter(label: Name.avErrors, dimensions: [("kind", kind)], factory: factory).increment()
    }

    /// Seconds since the symbol's quote was last confirmed by its source.
    public func symbolStaleness(symbol: String, seconds: Double) {
        Gauge(label: Name.symbolStaleness, dimensions: [("symbol", symbol)], factory: factory).record(seconds)
    }

    /// Sets `quote_relay_worker_state{state=...}` to 1 for the current state and 0 for the others,
    /// the usual Prometheus encoding of an enum (alert on `quote_relay_worker_state{state="failover"} == 1`).
    public func workerState(_ state: String) {
        for candidate in Self.workerStates {
            Gauge(label: Name.workerState, dimensions: [("state", candidate)], factory: factory).record(candidate == state ? 1 : 0)
        }
    }

    /// Sets `quote_relay_data_source{source=...}`: 1 for the source now publishing (`ib` or `alphavantage`).
    public func dataSource(_ source: String) {
        for candidate in ["ib", "alphavantage"] {
            Gauge(label: Name.dataSource, dimensions: [("source", candidate)], factory: factory).record(candidate == source ? 1 : 0)
        }
    }
}
