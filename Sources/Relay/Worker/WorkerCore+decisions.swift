import Failover
import IBSession
import MarketData
import RedisPublisher

extension WorkerCore {
    /// Hands an event to the failover engine and turns its decisions into actions. A standby
    /// serves nothing, so it fails nothing over; its engine starts afresh when it becomes active.
    mutating func decide(_ event: FailoverEvent, now: Now, _ out: inout [Action]) {
        guard active else { return }
        let decisions = engine.handle(event, nowMs: now.monoMs)
        if !decisions.isEmpty { apply(decisions, now: now, &out) }
    }

    /// The engine's decisions: which symbols Alpha Vantage serves, which have no fallback.
    mutating func apply(_ decisions: [FailoverAction], now: Now, _ out: inout [Action]) {
        for decision in decisions {
            switch decision {
            case let .probe(symbol, reason):
                out.append(.log(LogLine(level: .debug, message: "probing IB", metadata: ["symbol": symbol, "reason": reason])))
                out.append(.probe(symbol: symbol))
            case let .failover(list, reason):
                failover(list, reason: reason, now: now, &out)
            case let .failback(list, reason):
                failback(list, reason: reason, now: now, &out)
            case let .recovering(list, reason):
                out.append(.log(LogLine(level: .info, message: "IB recovering", metadata: [
                    "symbols": list.joined(separator: ","), "reason": reason,
                ])))
            case let .recoveryInterrupted(list, reason):
                out.append(.log(LogLine(level: .info, message: "IB recovery interrupted", metadata: [
                    "symbols": list.joined(separator: ","), "reason": reason,
                ])))
            }
        }
    }

    /// Alpha Vantage serves only what is the same instrument there; the rest (and everything
    /// when no key is configured) keeps IB's stale-flagged data and makes the state `degraded`.
    mutating func failover(_ list: [String], reason: String, now: Now, _ out: inout [Action]) {
        let servable = settings.hasAlphaVantage ? list.filter { fallbackProblems[$0] == nil } : []
        let stranded = list.filter { !servable.contains($0) && !unservable.contains($0) }
        if !stranded.isEmpty {
            unservable.formUnion(stranded)
            for symbol in stranded {
                noFallback[symbol] = settings.hasAlphaVantage ? fallbackProblems[symbol] : "no Alpha Vantage key configured"
            }
            out.append(.log(LogLine(
                level: .error, message: "IB cannot deliver and there is no fallback: data stays flagged stale until IB recovers",
                metadata: [
                    "symbols": stranded.joined(separator: ","), "reason": reason,
                    "why_no_fallback": stranded.compactMap { noFallback[$0] }.joined(separator: "; "),
                ])))
            refresh(reason: reason, now: now, &out)
        }
        let newly = servable.filter { !failedOver.contains($0) }
        guard !newly.isEmpty else { return }
        failedOver.formUnion(newly)
        for symbol in newly { failoverSinceMs[symbol] = now.monoMs }
        out.append(.metric(.failovers(newly.count)))
        out.append(.log(LogLine(level: .warning, message: "failover to Alpha Vantage", metadata: [
            "symbols": newly.joined(separator: ","), "reason": reason,
        ])))
        out.append(.publishEvent(WorkerEvents.failover(
            kind: "failover", worker: settings.workerID, reason: reason, symbols: newly, nowMs: now.wallMs)))
        out.append(.updatePoller)
        refresh(reason: reason, now: now, &out)
    }

    /// IB delivers again: symbols without fallback are no longer stranded; symbols on Alpha
    /// Vantage are IB's again, their lines written from IB's merged state (kept up to date all
    /// along) where IB delivered since the failover.
    mutating func failback(_ list: [String], reason: String, now: Now, _ out: inout [Action]) {
        if !unservable.isDisjoint(with: list) {
            unservable.subtract(list)
            for symbol in list { noFallback[symbol] = nil }
            out.append(.log(LogLine(level: .notice, message: "IB delivers again", metadata: [
                "symbols": list.joined(separator: ","), "reason": reason,
            ])))
            refresh(reason: reason, now: now, &out)
        }
        let back = list.filter { failedOver.contains($0) }
        guard !back.isEmpty else { return }
        failedOver.subtract(back)
        out.append(.metric(.failbacks(back.count)))
        out.append(.log(LogLine(level: .notice, message: "failback to IB", metadata: [
            "symbols": back.joined(separator: ","), "reason": reason,
        ])))
        for symbol in back {
            out.append(.writeIBLines(symbol: symbol, sinceMs: failoverSinceMs.removeValue(forKey: symbol) ?? 0))
        }
        out.append(.publishEvent(WorkerEvents.failover(
            kind: "failback", worker: settings.workerID, reason: reason, symbols: back, nowMs: now.wallMs)))
        out.append(.updatePoller)
        refresh(reason: reason, now: now, &out)
    }

    /// An ERR_MSG: the `ib_error` event (with the code's class), and for connection-level
    /// codes a failover event. What a code means for its request is decided in IBSession
    /// (`IBErrorClass`).
    mutating func ibError(code: Int32, message: String, reqId: Int32, symbol: String?, now: Now, _ out: inout [Action]) {
        let meaning = IBErrorClass.classify(code: code, message: message)
        out.append(.publishEvent(WorkerEvents.ibError(
            worker: settings.workerID, code: code, message: message, reqId: reqId, symbol: symbol,
            severity: meaning.severity.rawValue, nowMs: now.wallMs)))
        let event: FailoverEvent?
        switch meaning {
        // 10197 on a line refuses that line; only one without a request id (-1) refuses all.
        // A 10197 on a probe's snapshot is the probe's failure, handled by the probe.
        case .competingSession: event = reqId < 0 ? .competingSession(symbols: nil) : symbol.map { .competingSession(symbols: [$0]) }
        case .connectivityLost: event = .connectivityLost(reason: "\(code) \(message)")
        case .connectivityRestoredDataLost, .connectivityRestoredDataMaintained: event = .connectivityRestored
        // Only market data farms (2103/2104) stop ticks; HMDS and sec-def farms do not.
        case .farmBroken(let farm) where code == 2103: event = .farmDown(farm)
        case .farmOK(let farm) where code == 2104: event = .farmUp(farm)
        default: event = nil
        }
        if let event {
            decide(event, now: now, &out)
            refresh(reason: "IB \(code): \(message)", now: now, &out)
        }
    }

    /// A market that opened or closed (by its trading hours at `now.wallMs`) is logged and
    /// told to the engine: a closed market is quiet, not dead.
    mutating func marketHours(_ list: [(symbol: String, hours: TradingHours)], now: Now, _ out: inout [Action]) {
        for (symbol, hours) in list {
            let open = hours.isOpen(atMs: now.wallMs)
            guard marketOpen[symbol] != open else { continue }
            marketOpen[symbol] = open
            out.append(.log(LogLine(level: .info, message: "market \(open ? "open" : "closed")", metadata: ["symbol": symbol])))
            decide(.marketHours(symbol: symbol, open: open), now: now, &out)
        }
    }

    /// `lua/staleness.lua`'s answer (Redis' own clock) as events and engine input. A symbol's
    /// health is its quote's: a quiet option is flagged stale in Redis (truthfully), but it
    /// does not make the symbol suspect.
    mutating func stalenessAnswered(_ change: StalenessChange, now: Now, _ out: inout [Action]) {
        out.append(.metric(.staleKeys(change.staleCount)))
        if !change.newlyStale.isEmpty {
            out.append(.log(LogLine(level: .warning, message: "keys went stale", metadata: ["keys": change.newlyStale.joined(separator: ",")])))
            out.append(.publishEvent(WorkerEvents.staleness(kind: "stale", worker: settings.workerID, keys: change.newlyStale, nowMs: now.wallMs)))
            let quotes = change.newlyStale.filter { $0.hasPrefix("quote:") }
            if !quotes.isEmpty { decide(.stale(symbols: Self.symbols(ofKeys: quotes)), now: now, &out) }
        }
        if !change.newlyFresh.isEmpty {
            out.append(.log(LogLine(level: .info, message: "keys fresh again", metadata: ["keys": change.newlyFresh.joined(separator: ",")])))
            out.append(.publishEvent(WorkerEvents.staleness(kind: "fresh", worker: settings.workerID, keys: change.newlyFresh, nowMs: now.wallMs)))
            let quotes = change.newlyFresh.filter { $0.hasPrefix("quote:") }
            if !quotes.isEmpty { decide(.fresh(symbols: Self.symbols(ofKeys: quotes)), now: now, &out) }
        }
        if !change.expired.isEmpty {
            // Keys whose TTL ran out (their source stopped writing them): announced so a
            // reader that saw them go stale also learns they are gone.
            out.append(.publishEvent(WorkerEvents.staleness(kind: "expired", worker: settings.workerID, keys: change.expired, nowMs: now.wallMs)))
        }
        stalenessFailures = 0
    }

    /// The periodic check: keep-alive snapshots for quiet lines, staleness gauges, the
    /// engine's deadlines, readiness and the state.
    mutating func tick(_ lines: [QuietLine], now: Now, _ out: inout [Action]) {
        keepAlive(lines, now: now, &out)
        for status in engine.status.symbols {
            if let confirmed = status.lastConfirmedMs {
                out.append(.metric(.symbolStaleness(symbol: status.symbol, seconds: Double(max(0, now.monoMs - confirmed)) / 1000)))
            }
        }
        decide(.tick, now: now, &out)
        out.append(.setDataFlowing(lastPublishMs.map { now.monoMs - $0 < settings.stalenessMs } ?? false))
        refresh(reason: "periodic check", now: now, &out)
    }

    /// IB sends a tick only when a value changes, so a quiet line (an option between trades,
    /// any line while the market is closed) is never written, and its key would expire after
    /// its TTL although the worker is healthy and the value still right. A line quiet for a
    /// third of its key's TTL is therefore confirmed with a snapshot request, at most
    /// `maxKeepAliveSnapshots` at once, only while the session is up and never for a symbol
    /// on Alpha Vantage.
    mutating func keepAlive(_ lines: [QuietLine], now: Now, _ out: inout [Action]) {
        guard session.isSessionUp else { return }
        for line in lines where !refreshing.contains(line.id) {
            guard refreshing.count < settings.maxKeepAliveSnapshots else { return }
            guard !failedOver.contains(line.symbol), now.monoMs - line.lastConfirmedMs >= line.quietLimitMs else { continue }
            refreshing.insert(line.id)
            out.append(.keepAlive(line.id))
        }
    }

    /// `quote:AAPL`, `option:SPY:20261218:450:C`, `chain:SPY` -> their symbols, unique, in order.
    static func symbols(ofKeys keys: [String]) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for key in keys {
            let parts = key.split(separator: ":", maxSplits: 2)
            guard parts.count >= 2 else { continue }
            let symbol = String(parts[1])
            if seen.insert(symbol).inserted { out.append(symbol) }
        }
        return out
    }
}
