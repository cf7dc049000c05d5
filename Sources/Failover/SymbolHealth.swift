import Essentials

/// Where a symbol's data comes from and why, as the status hash shows it.
public enum SymbolFeedState: String, Sendable, Hashable, CaseIterable {
    /// Served by IB and believed healthy.
    case ib
    /// Served by IB, silent too long: a probe is out to tell quiet from broken.
    case probing
    /// Served by Alpha Vantage.
    case failover
    /// Served by Alpha Vantage while IB has been delivering again; failback when stable.
    case recovering
}

/// One symbol's view for the status hash and `quote-relay status`.
public struct SymbolStatus: Sendable, Hashable {
    public var symbol: String
    public var state: SymbolFeedState
    /// Why the symbol is where it is (nil on a healthy IB feed).
    public var reason: String?
    /// When the symbol failed over (nil while on IB).
    public var failoverSinceMs: Int64?
    /// When IB last confirmed the symbol's data (tick or answered probe).
    public var lastConfirmedMs: Int64?
    public var marketOpen: Bool
}

/// The engine's per-symbol memory.
struct SymbolHealth: Sendable, Hashable {
    enum Phase: Sendable, Hashable {
        case ib
        case failover
        case recovering(sinceMs: Int64)
    }

    struct Probe: Sendable, Hashable {
        var sentMs: Int64
        var deadlineMs: Int64
    }

    var phase: Phase = .ib
    var lastConfirmedMs: Int64
    /// Unknown hours count as open (fail safe: silence is then still examined).
    var marketOpen = true
    /// The last time the market opened: silence over a closed period is not staleness.
    var openedAtMs: Int64?
    /// The staleness script's verdict on the symbol's key.
    var staleInRedis = false
    /// IB refused data with 10197; cleared by the next confirmation.
    var refused = false
    var probe: Probe?
    /// Why the last probe failed, while the silence has not yet reached the staleness limit.
    var failedProbe: String?
    var lastProbeMs: Int64?
    var failoverSinceMs: Int64?
    var reason: String?
    var lastFailbackMs: Int64?
    /// Recent flaps; the required stable period doubles with each.
    var flaps: Int64 = 0

    init(nowMs: Int64) {
        lastConfirmedMs = nowMs
    }

    var inFailover: Bool {
        if case .ib = phase { false } else { true }
    }

    var feedState: SymbolFeedState {
        switch phase {
        case .ib: probe == nil && failedProbe == nil ? .ib : .probing
        case .failover: .failover
        case .recovering: .recovering
        }
    }

    /// Milliseconds without IB data that count against the symbol: silence before the
    /// market opened does not.
    func silenceMs(nowMs: Int64) -> Int64 {
        nowMs - max(lastConfirmedMs, openedAtMs ?? lastConfirmedMs)
    }

    /// The stable period a failback needs: `failbackStableMs`, doubled per recent flap, at most
    /// `maxStableMultiplier` times it (`BackoffPolicy.cap`, no jitter: attempt 1 = no flap).
    func requiredStableMs(_ policy: FailoverPolicy) -> Int64 {
        let (longest, overflow) = policy.failbackStableMs.multipliedReportingOverflow(by: policy.maxStableMultiplier)
        let backoff = BackoffPolicy(initial: .milliseconds(policy.failbackStableMs), max: .milliseconds(overflow ? Int64.max / 1_000_000 : longest), multiplier: 2)
        return backoff.cap(forAttempt: Int(min(flaps, 62)) + 1).milliseconds
    }
}

/// The session as far as failover cares.
public struct SessionHealth: Sendable, Hashable {
    public var connected = false
    public var consecutiveFailures = 0
    public var lastError: String?
    public var lastHeartbeatMs: Int64?
    /// 1100 / 2110 text while the gateway has lost IB's servers.
    public var connectivityLost: String?
    public var farmsDown: Set<String> = []

    /// Degraded: connected, but the gateway reports a problem that can stop data.
    public var degradedReason: String? {
        if let connectivityLost { return connectivityLost }
        if !farmsDown.isEmpty { return "market data farm down: " + farmsDown.sorted().joined(separator: ",") }
        return nil
    }
}
