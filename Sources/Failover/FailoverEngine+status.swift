/// The worker-level failover view for the status hash (`source`, `failover_reason`,
/// `failover_since_ms`).
public struct FailoverStatus: Sendable, Hashable {
    /// `ib` when every symbol is on IB, else `alphavantage` (CONTRACT §3 allows only these two;
    /// `symbolsInFailover` says which symbols).
    public var source: String
    /// Why symbols are on Alpha Vantage; nil when none is.
    public var failoverReason: String?
    /// When the earliest current failover began; nil when none is active.
    public var failoverSinceMs: Int64?
    /// Symbols served by Alpha Vantage (failover or recovering), in configuration order.
    public var symbolsInFailover: [String]
    public var symbols: [SymbolStatus]
}

extension FailoverEngine {
    public func state(of symbol: String) -> SymbolFeedState? {
        health[symbol]?.feedState
    }

    public func status(of symbol: String) -> SymbolStatus? {
        guard let h = health[symbol] else { return nil }
        return SymbolStatus(
            symbol: symbol, state: h.feedState, reason: h.reason, failoverSinceMs: h.failoverSinceMs,
            lastConfirmedMs: h.lastConfirmedMs, marketOpen: h.marketOpen)
    }

    /// Symbols currently served by Alpha Vantage.
    public var symbolsInFailover: [String] {
        symbols.filter { health[$0]?.inFailover == true }
    }

    public var status: FailoverStatus {
        let perSymbol = symbols.compactMap { status(of: $0) }
        let failed = perSymbol.filter { $0.state == .failover || $0.state == .recovering }
        let source = failed.isEmpty ? "ib" : "alphavantage"
        var reason: String?
        var since: Int64?
        if let globalFailover, !failed.isEmpty {
            reason = globalFailover.reason
            since = globalFailover.sinceMs
        } else if !failed.isEmpty {
            let shown = failed.prefix(5).map { "\($0.symbol): \($0.reason ?? "unknown")" }
            reason = shown.joined(separator: "; ") + (failed.count > 5 ? "; and \(failed.count - 5) more" : "")
        }
        if !failed.isEmpty {
            since = failed.compactMap(\.failoverSinceMs).min() ?? since
        }
        return FailoverStatus(
            source: source, failoverReason: reason, failoverSinceMs: since,
            symbolsInFailover: failed.map(\.symbol), symbols: perSymbol)
    }
}
