/// What the worker tells the failover engine. Every event is handled with the time it
/// happened at (`nowMs`), so the engine never reads a clock.
public enum FailoverEvent: Sendable, Hashable {
    /// The session is up (NEXT_VALID_ID received): resets the consecutive failure count.
    case sessionConnected
    /// The session went down (socket closed, heartbeat lost, 1300).
    case sessionDisconnected(reason: String)
    /// A connection attempt failed; `consecutive` counts them since the last success.
    case connectAttemptFailed(consecutive: Int, reason: String)
    /// The heartbeat (reqCurrentTime) answered.
    case heartbeatOK
    /// 10197: IB refuses market data because of a competing live session. `symbols` are the
    /// affected subscriptions' underlyings; nil means every symbol.
    case competingSession(symbols: [String]?)
    /// The gateway lost IB's servers (1100, 2110); data stops but the socket stays.
    case connectivityLost(reason: String)
    /// 1101 / 1102.
    case connectivityRestored
    /// 2103 / 2104 for a market data farm.
    case farmDown(String)
    case farmUp(String)
    /// IB delivered data for the symbol (any tick of its quote). The hot path: O(1).
    case dataConfirmed(symbol: String)
    /// The staleness script found these symbols' keys older than the threshold.
    case stale(symbols: [String])
    /// The staleness script found these keys fresh again. Informational only: in failover the
    /// keys are refreshed by Alpha Vantage, which says nothing about IB.
    case fresh(symbols: [String])
    /// The probe for the symbol answered (snapshot data or unchanged values confirmed).
    case probeAnswered(symbol: String)
    /// The probe failed (error, no answer, session down); a timeout is detected by the engine.
    case probeFailed(symbol: String, reason: String)
    /// The symbol's market opened or closed (from its trading hours).
    case marketHours(symbol: String, open: Bool)
    /// Time passed: deadlines, staleness and failback are evaluated.
    case tick
}

/// What the worker must do; every decision carries its reason in plain words for the log,
/// the `failover`/`failback` events and the status hash.
public enum FailoverAction: Sendable, Hashable, CustomStringConvertible {
    /// Request a snapshot for the symbol and a heartbeat; answer with `probeAnswered` or
    /// `probeFailed` (or let the engine time it out).
    case probe(symbol: String, reason: String)
    /// Serve these symbols from Alpha Vantage.
    case failover(symbols: [String], reason: String)
    /// Serve these symbols from IB again.
    case failback(symbols: [String], reason: String)
    /// Informational: IB delivers again for these symbols in failover; the stable period runs.
    case recovering(symbols: [String], reason: String)
    /// Informational: the stable period was broken; the symbols stay on Alpha Vantage.
    case recoveryInterrupted(symbols: [String], reason: String)

    public var description: String {
        switch self {
        case let .probe(symbol, reason): "probe \(symbol): \(reason)"
        case let .failover(symbols, reason): "failover \(symbols.joined(separator: ",")): \(reason)"
        case let .failback(symbols, reason): "failback \(symbols.joined(separator: ",")): \(reason)"
        case let .recovering(symbols, reason): "recovering \(symbols.joined(separator: ",")): \(reason)"
        case let .recoveryInterrupted(symbols, reason):
            "recovery interrupted \(symbols.joined(separator: ",")): \(reason)"
        }
    }
}
