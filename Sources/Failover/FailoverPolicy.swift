/// The thresholds of the failover decision (CONTRACT §2 `failover.*`), in milliseconds so the
/// engine compares plain integers with the injected `nowMs`.
public struct FailoverPolicy: Sendable, Hashable {
    /// `failover.max_reconnect_attempts` [5]: this many consecutive failed connection attempts
    /// fail over every symbol.
    public var maxReconnectAttempts: Int
    /// `failover.staleness_seconds` [60]: no confirmed IB data this long, in trading hours,
    /// makes a symbol suspect (then a probe decides).
    public var stalenessMs: Int64
    /// `failover.check_interval_seconds` [5]: also the pace of recovery probes while a quiet
    /// symbol is on Alpha Vantage.
    public var checkIntervalMs: Int64
    /// `failover.failback_stable_seconds` [30]: IB must deliver fresh data continuously this
    /// long before a symbol goes back to it.
    public var failbackStableMs: Int64
    /// How long a probe (snapshot request plus heartbeat) may take before it counts as failed
    /// [one check interval]. Probes start this long before the staleness limit, so a failover
    /// lands at the limit and within one check interval of it even with coarse ticks.
    public var probeTimeoutMs: Int64
    /// Minimum time a symbol stays on Alpha Vantage, however quickly IB recovers [= failback
    /// stable period].
    public var minFailoverMs: Int64
    /// While recovering, the longest allowed silence between two IB confirmations before the
    /// stable period starts again [3 check intervals].
    public var recoveryMaxGapMs: Int64
    /// A failover within this time after a failback counts as a flap [10 minutes].
    public var flapWindowMs: Int64
    /// How long before the staleness limit a silent symbol is probed.
    public var probeLeadMs: Int64 { min(probeTimeoutMs, stalenessMs) }
    /// Each flap doubles the required stable period, up to this factor [8].
    public var maxStableMultiplier: Int64

    public init(
        maxReconnectAttempts: Int = 5,
        staleness: Duration = .seconds(60),
        checkInterval: Duration = .seconds(5),
        failbackStable: Duration = .seconds(30),
        probeTimeout: Duration? = nil,
        minFailover: Duration? = nil,
        recoveryMaxGap: Duration? = nil,
        flapWindow: Duration = .seconds(600),
        maxStableMultiplier: Int64 = 8
    ) {
        self.maxReconnectAttempts = max(1, maxReconnectAttempts)
        self.stalenessMs = max(1, staleness.milliseconds)
        self.checkIntervalMs = max(1, checkInterval.milliseconds)
        self.failbackStableMs = max(0, failbackStable.milliseconds)
        self.probeTimeoutMs = max(1, (probeTimeout ?? checkInterval).milliseconds)
        self.minFailoverMs = max(0, (minFailover ?? failbackStable).milliseconds)
        self.recoveryMaxGapMs = max(1, (recoveryMaxGap ?? checkInterval * 3).milliseconds)
        self.flapWindowMs = max(0, flapWindow.milliseconds)
        self.maxStableMultiplier = max(1, maxStableMultiplier)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Seconds for reasons: "60 s", "2.5 s".
func seconds(_ ms: Int64) -> String {
    ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
}
