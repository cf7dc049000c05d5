extension FailoverEngine {
    /// The periodic part of the decision: probe deadlines, staleness, refusals, recovery
    /// probes, interrupted recoveries and failbacks, for every symbol.
    mutating func evaluate(now: Int64, out: inout ActionCollector) {
        for symbol in symbols {
            guard var h = health[symbol] else { continue }
            if let probe = h.probe, now >= probe.deadlineMs {
                probeFailed(
                    symbol, reason: "no answer within \(seconds(policy.probeTimeoutMs))", now: now, out: &out)
                guard let updated = health[symbol] else { continue }
                h = updated
            }
            switch h.phase {
            case .ib:
                evaluateOnIB(symbol, h, now: now, out: &out)
            case .failover:
                probeForRecovery(symbol, h, now: now, out: &out)
            case let .recovering(since):
                evaluateRecovery(symbol, h, since: since, now: now, out: &out)
            }
        }
    }

    /// On IB: refusals fail over at once; silence is probed `probeLeadMs` before the staleness
    /// limit, so a failed probe's verdict is ready when the limit is reached and the failover
    /// lands at the limit rather than a probe timeout later.
    mutating func evaluateOnIB(_ symbol: String, _ h: SymbolHealth, now: Int64, out: inout ActionCollector) {
        guard h.marketOpen else { return }
        if h.refused {
            failOver(
                symbol, reason: "IB refused market data: competing live session on the same user (10197)",
                now: now, out: &out)
            return
        }
        let silence = h.silenceMs(nowMs: now)
        let stale = silence >= policy.stalenessMs || h.staleInRedis
        if stale, let failed = h.failedProbe {
            failOver(symbol, reason: "\(staleReason(h, now: now)) and the probe failed (\(failed))", now: now, out: &out)
            return
        }
        guard session.connected else {
            // No session, no probe to send: the answer is already known.
            if stale {
                let down = session.lastError.map { "IB session down: \($0)" } ?? "IB session down"
                failOver(symbol, reason: "\(staleReason(h, now: now)) and no probe possible (\(down))", now: now, out: &out)
            }
            return
        }
        guard h.probe == nil, h.failedProbe == nil else { return }
        if h.staleInRedis {
            sendProbe(symbol, now: now, reason: staleReason(h, now: now), out: &out)
        } else if silence >= policy.stalenessMs - policy.probeLeadMs {
            sendProbe(
                symbol, now: now,
                reason: "no IB data for \(seconds(silence)) in trading hours (staleness limit \(seconds(policy.stalenessMs)))",
                out: &out)
        }
    }

    func staleReason(_ h: SymbolHealth, now: Int64) -> String {
        h.silenceMs(nowMs: now) >= policy.stalenessMs || !h.staleInRedis
            ? "no IB data confirmed for \(seconds(policy.stalenessMs)) in trading hours"
            : "the staleness check found the key older than \(seconds(policy.stalenessMs))"
    }

    /// In failover, quiet symbols get no ticks: probe them every check interval so an IB
    /// that can deliver again is noticed.
    mutating func probeForRecovery(_ symbol: String, _ h: SymbolHealth, now: Int64, out: inout ActionCollector) {
        guard session.connected, globalFailover == nil, h.probe == nil else { return }
        if now - h.lastConfirmedMs < policy.checkIntervalMs { return }
        if let last = h.lastProbeMs, now - last < policy.checkIntervalMs { return }
        sendProbe(symbol, now: now, reason: "checking whether IB delivers again", out: &out)
    }

    mutating func evaluateRecovery(
        _ symbol: String, _ h: SymbolHealth, since: Int64, now: Int64, out: inout ActionCollector
    ) {
        if !session.connected {
            var h = h
            h.phase = .failover
            health[symbol] = h
            out.add(.recoveryInterrupted, symbol, "IB session down")
            return
        }
        if h.refused {
            var h = h
            h.phase = .failover
            health[symbol] = h
            out.add(.recoveryInterrupted, symbol, "IB refused market data again (10197)")
            return
        }
        if now - h.lastConfirmedMs > policy.recoveryMaxGapMs {
            var h = h
            h.phase = .failover
            health[symbol] = h
            out.add(
                .recoveryInterrupted, symbol,
                "no IB data for more than \(seconds(policy.recoveryMaxGapMs)) while recovering")
            return
        }
        let required = h.requiredStableMs(policy)
        if now - since >= required && now - (h.failoverSinceMs ?? since) >= policy.minFailoverMs {
            var h = h
            h.phase = .ib
            h.lastFailbackMs = now
            h.failoverSinceMs = nil
            h.reason = nil
            h.staleInRedis = false
            h.probe = nil
            health[symbol] = h
            var why = "IB delivered fresh data continuously for \(seconds(required))"
            if h.flaps > 0 { why += " (stable period raised after \(h.flaps) recent flap\(h.flaps == 1 ? "" : "s"))" }
            out.add(.failback, symbol, why)
            return
        }
        probeForRecovery(symbol, h, now: now, out: &out)
    }

    mutating func sendProbe(_ symbol: String, now: Int64, reason: String, out: inout ActionCollector) {
        guard var h = health[symbol] else { return }
        h.probe = SymbolHealth.Probe(sentMs: now, deadlineMs: now + policy.probeTimeoutMs)
        h.lastProbeMs = now
        health[symbol] = h
        out.add(.probe, symbol, reason)
    }
}

/// Groups decisions of one kind and reason into one action, symbols in configuration order,
/// so a session failure yields one `failover` event rather than one per symbol.
struct ActionCollector {
    enum Kind: Hashable {
        case probe, failover, failback, recovering, recoveryInterrupted
    }

    private var groups: [(kind: Kind, reason: String, symbols: Set<String>)] = []

    mutating func add(_ kind: Kind, _ symbol: String, _ reason: String) {
        if let i = groups.firstIndex(where: { $0.kind == kind && $0.reason == reason }) {
            groups[i].symbols.insert(symbol)
        } else {
            groups.append((kind, reason, [symbol]))
        }
    }

    func actions(order: [String]) -> [FailoverAction] {
        var out: [FailoverAction] = []
        for g in groups {
            let list = order.filter { g.symbols.contains($0) }
            switch g.kind {
            case .probe: out.append(contentsOf: list.map { .probe(symbol: $0, reason: g.reason) })
            case .failover: out.append(.failover(symbols: list, reason: g.reason))
            case .failback: out.append(.failback(symbols: list, reason: g.reason))
            case .recovering: out.append(.recovering(symbols: list, reason: g.reason))
            case .recoveryInterrupted: out.append(.recoveryInterrupted(symbols: list, reason: g.reason))
            }
        }
        return out
    }
}
