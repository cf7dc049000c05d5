import TWSProtocol

extension GatewayEngine {
    /// Instruments that move: every subscribed one, plus the underlyings of subscribed
    /// options (an option's price follows its underlying). Sorted by conId so that the
    /// round-robin order is reproducible.
    func activeInstruments(nowMs: Int64) -> [Instrument] {
        var byConId: [Int64: Instrument] = [:]
        for session in sessions.values where session.phase == .ready {
            for subscription in session.subscriptions.values {
                let instrument = subscription.instrument
                byConId[instrument.conId] = instrument
                if case .option(let o) = instrument, let stock = catalog.underlying(of: o) {
                    byConId[stock.conId] = .stock(stock)
                }
            }
        }
        return byConId.keys.sorted().compactMap { byConId[$0] }
            .filter { calendar.isOpen(secType: $0.secType, epochMs: nowMs) }
    }

    /// Called by the I/O layer's timer: performs the market updates the rate owes since the
    /// last call (at most one second's worth, so a paused loop does not cause a burst).
    ///
    /// - Parameter limit: the most updates one call makes. What is owed beyond it is carried
    ///   to the next call, but never more than `limit`: a simulator that cannot make the rate
    ///   (its loop saturated) sends what it manages in pieces of at most `limit`, as a steady
    ///   stream, instead of piling up a second's worth and sending it as one multi-megabyte
    ///   write every second or so (which is what the end-to-end benchmark measured at 50k
    ///   updates/s before: the client's latency was the time to drain that burst). The
    ///   offered rate is then what the simulator achieved, which the benchmark reports.
    mutating func advance(nowMs: Int64, limit: Int = .max) -> [GatewayAction] {
        defer { lastAdvanceMs = nowMs }
        guard let last = lastAdvanceMs, faults.ticksPerSecond > 0 else { return [] }
        let elapsed = Double(max(0, nowMs - last)) / 1000
        tickDebt = min(tickDebt + faults.ticksPerSecond * elapsed, max(1, faults.ticksPerSecond))
        let due = min(Int(tickDebt), max(1, limit))
        guard due > 0 else { return [] }
        tickDebt = min(tickDebt - Double(due), Double(max(1, limit)))
        return marketUpdates(due, nowMs: nowMs, ignoringQuiet: false)
    }

    /// `flood N`: N market updates at once, regardless of the rate (and of `quiet`, which
    /// models a calm market, not a broken feed).
    mutating func flood(_ count: Int, nowMs: Int64) -> [GatewayAction] {
        marketUpdates(count, nowMs: nowMs, ignoringQuiet: true)
    }

    private mutating func marketUpdates(_ count: Int, nowMs: Int64, ignoringQuiet: Bool) -> [GatewayAction] {
        let active = activeInstruments(nowMs: nowMs).filter {
            ignoringQuiet ? !faults.dataBlocked(for: $0) : faults.ticksAllowed(for: $0)
        }
        guard !active.isEmpty else { return [] }
        // Who listens to what, computed once: subscriptions do not change during a batch.
        var subscribers: [Int64: [(ConnectionID, Int32)]] = [:]
        for id in sessions.keys.sorted() {
            guard let session = sessions[id], session.phase == .ready else { continue }
            for reqId in session.subscriptions.keys.sorted() {
                if let conId = session.subscriptions[reqId]?.instrument.conId { subscribers[conId, default: []].append((id, reqId)) }
            }
        }
        var outbox: [ConnectionID: [ServerMessage]] = [:]
        for _ in 0..<count {
            let instrument = active[roundRobin % active.count]
            roundRobin &+= 1
            switch instrument {
            case .stock(let s):
                market.step(stock: s, nowMs: nowMs)
                if let stamps = configuration.benchmarkStamps { market.stampVolume(of: s, with: stamps) }
            case .option(let o):
                market.step(option: o, nowMs: nowMs)
                if let stamps = configuration.benchmarkStamps { market.stampVolume(of: o, with: stamps) }
            }
            for (id, reqId) in subscribers[instrument.conId] ?? [] {
                guard var subscription = sessions[id]?.subscriptions[reqId] else { continue }
                let clientId = sessions[id]?.clientId ?? 0
                let messages = diff(&subscription, clientId: clientId)
                sessions[id]?.subscriptions[reqId] = subscription
                if !messages.isEmpty { outbox[id, default: []] += messages }
            }
        }
        return outbox.keys.sorted().compactMap { id in
            guard let messages = outbox[id], !messages.isEmpty else { return nil }
            return .send(id, messages)
        }
    }

    // MARK: Observation

    func subscriptionInfos() -> [SubscriptionInfo] {
        var result: [SubscriptionInfo] = []
        for session in sessions.values where session.phase == .ready {
            for s in session.subscriptions.values {
                var info = SubscriptionInfo(
                    clientId: session.clientId ?? 0, reqId: s.reqId, conId: s.instrument.conId, symbol: s.instrument.symbol,
                    secType: s.instrument.secType, marketDataType: s.marketDataType)
                if case .option(let o) = s.instrument {
                    info.expiry = o.expiry.yyyymmdd
                    info.strike = o.strike
                    info.right = o.rightCode
                    info.tradingClass = o.classCode
                }
                result.append(info)
            }
        }
        return result.sorted { ($0.clientId, $0.reqId) < ($1.clientId, $1.reqId) }
    }

    var currentCounters: GatewayCounters {
        var c = counters
        c.connections = sessions.values.filter { $0.phase != .closing }.count
        c.clients = sessions.values.filter { $0.phase == .ready }.count
        c.subscriptions = linesInUse
        return c
    }
}
