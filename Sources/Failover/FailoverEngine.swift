/// The failover decision for every symbol, as a value-type state machine: events in,
/// actions out, time injected.
///
/// A symbol fails over when (a) the session has failed `maxReconnectAttempts` consecutive
/// times (all symbols at once), (b) IB refuses its data because of a competing session
/// (10197) during trading hours, or (c) its data has not been confirmed for the staleness
/// period during trading hours AND a probe (snapshot plus heartbeat) confirms that IB cannot
/// deliver it. Silence alone is never enough: a quiet symbol whose probe answers is healthy,
/// and a closed market is not a failure.
///
/// A symbol fails back once IB has confirmed its data continuously for the stable period
/// (doubled for each recent flap), not earlier than `minFailoverMs` after it failed over, and
/// only while the session is up. Quiet symbols are probed every check interval while in
/// failover, so they can recover too.
public struct FailoverEngine: Sendable {
    public let policy: FailoverPolicy
    public private(set) var session = SessionHealth()
    /// Set while every symbol is failed over because the session cannot connect.
    public private(set) var globalFailover: (reason: String, sinceMs: Int64)?
    /// Configuration order, used to order symbols in actions.
    public private(set) var symbols: [String]
    var health: [String: SymbolHealth]

    /// - Parameter nowMs: start-up time; every symbol's silence is measured from here.
    public init(symbols: [String], policy: FailoverPolicy = FailoverPolicy(), nowMs: Int64) {
        self.policy = policy
        self.symbols = []
        self.health = [:]
        for s in symbols where health[s] == nil {
            self.symbols.append(s)
            health[s] = SymbolHealth(nowMs: nowMs)
        }
    }

    /// Adds and removes symbols (configuration reload); kept symbols keep their state.
    public mutating func setSymbols(_ list: [String], nowMs: Int64) {
        var next: [String: SymbolHealth] = [:]
        var order: [String] = []
        for s in list where next[s] == nil {
            order.append(s)
            next[s] = health[s] ?? SymbolHealth(nowMs: nowMs)
        }
        symbols = order
        health = next
    }

    public mutating func handle(_ event: FailoverEvent, nowMs now: Int64) -> [FailoverAction] {
        var out = ActionCollector()
        switch event {
        case let .dataConfirmed(symbol), let .probeAnswered(symbol):
            // The hot path: one lookup, no scan of the other symbols.
            confirm(symbol, now: now, out: &out)
            return out.actions(order: symbols)
        case .sessionConnected:
            session.connected = true
            session.consecutiveFailures = 0
            session.connectivityLost = nil
            globalFailover = nil
            // A new session deserves a new probe.
            for s in symbols { health[s]?.failedProbe = nil }
        case let .sessionDisconnected(reason):
            session.connected = false
            session.lastError = reason
            for s in symbols where health[s]?.probe != nil {
                probeFailed(s, reason: "IB session down (\(reason))", now: now, out: &out)
            }
        case let .connectAttemptFailed(consecutive, reason):
            session.connected = false
            session.consecutiveFailures = consecutive
            session.lastError = reason
            if consecutive >= policy.maxReconnectAttempts && globalFailover == nil {
                let why = "IB session failed \(consecutive) consecutive connection attempts"
                    + " (limit \(policy.maxReconnectAttempts); last error: \(reason))"
                globalFailover = (why, now)
                for s in symbols { failOver(s, reason: why, now: now, out: &out) }
            }
        case .heartbeatOK:
            session.lastHeartbeatMs = now
        case let .competingSession(list):
            for s in list ?? symbols { health[s]?.refused = true }
        case let .connectivityLost(reason):
            session.connectivityLost = reason
        case .connectivityRestored:
            session.connectivityLost = nil
        case let .farmDown(name):
            session.farmsDown.insert(name)
        case let .farmUp(name):
            session.farmsDown.remove(name)
        case let .stale(list):
            for s in list { health[s]?.staleInRedis = true }
        case let .fresh(list):
            for s in list { health[s]?.staleInRedis = false }
        case let .probeFailed(symbol, reason):
            probeFailed(symbol, reason: reason, now: now, out: &out)
        case let .marketHours(symbol, open):
            if var h = health[symbol], h.marketOpen != open {
                h.marketOpen = open
                if open {
                    h.openedAtMs = now
                    h.failedProbe = nil
                }
                health[symbol] = h
            }
        case .tick:
            break
        }
        evaluate(now: now, out: &out)
        return out.actions(order: symbols)
    }

    /// IB delivered: the symbol is confirmed; in failover the stable period starts.
    mutating func confirm(_ symbol: String, now: Int64, out: inout ActionCollector) {
        guard var h = health[symbol] else { return }
        h.lastConfirmedMs = now
        h.probe = nil
        h.refused = false
        // The worker writes what IB delivered, so the key is fresh again in Redis; waiting for
        // the next staleness run to say so would only trigger another probe.
        h.staleInRedis = false
        h.failedProbe = nil
        if case .failover = h.phase, session.connected, globalFailover == nil {
            h.phase = .recovering(sinceMs: now)
            out.add(
                .recovering, symbol,
                "IB delivers data again; failback after \(seconds(h.requiredStableMs(policy))) of stable data")
        }
        health[symbol] = h
    }

    mutating func probeFailed(_ symbol: String, reason: String, now: Int64, out: inout ActionCollector) {
        guard var h = health[symbol] else { return }
        h.probe = nil
        switch h.phase {
        case .ib:
            guard h.marketOpen else {
                health[symbol] = h
                return
            }
            if h.silenceMs(nowMs: now) >= policy.stalenessMs || h.staleInRedis {
                health[symbol] = h
                failOver(symbol, reason: "\(staleReason(h, now: now)) and the probe failed (\(reason))", now: now, out: &out)
            } else {
                // Probed ahead of the limit: the verdict waits for it (or for data).
                h.failedProbe = reason
                health[symbol] = h
            }
        case .recovering:
            h.phase = .failover
            health[symbol] = h
            out.add(.recoveryInterrupted, symbol, "probe failed (\(reason))")
        case .failover:
            health[symbol] = h
        }
    }

    /// Moves a symbol to Alpha Vantage (or back from recovering to plain failover).
    mutating func failOver(_ symbol: String, reason: String, now: Int64, out: inout ActionCollector) {
        guard var h = health[symbol] else { return }
        switch h.phase {
        case .failover:
            return
        case .recovering:
            h.phase = .failover
            h.reason = reason
            health[symbol] = h
            out.add(.recoveryInterrupted, symbol, reason)
            return
        case .ib:
            break
        }
        if let back = h.lastFailbackMs, now - back < policy.flapWindowMs {
            h.flaps = min(h.flaps + 1, 62)
        } else {
            h.flaps = 0
        }
        h.phase = .failover
        h.probe = nil
        h.failoverSinceMs = now
        // The failover itself is the latest verdict on IB: the first recovery probe waits a
        // check interval.
        h.lastProbeMs = now
        h.reason = reason
        health[symbol] = h
        out.add(.failover, symbol, reason)
    }
}
