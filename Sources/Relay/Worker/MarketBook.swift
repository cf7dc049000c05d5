import IBSession
import MarketData
import MarketModel
import TWSProtocol

/// The merged state of every subscription, keyed by the session's stable subscription ids.
///
/// A batch of ticks (one socket read) is applied at once and each changed instrument yields
/// one record, so a burst of bid/ask/size ticks for the same key becomes one write before the
/// publisher's own coalescing even starts.
struct MarketBook {
    enum Entry {
        case quote(symbol: String, merger: TickMerger<QuoteSnapshot>)
        case option(symbol: String, key: OptionKey, merger: TickMerger<OptionSnapshot>)

        var symbol: String {
            switch self {
            case .quote(let s, _), .option(let s, _, _): s
            }
        }
    }

    private(set) var entries: [SubscriptionID: Entry] = [:]
    /// The qualified contract of each line, for snapshot requests (probes, keep-alive).
    private(set) var contracts: [SubscriptionID: Contract] = [:]
    /// When each line was last confirmed (subscribed, written with `source=ib`, or asked for a
    /// keep-alive snapshot), monotonic ms: the keep-alive schedules its next snapshot from it.
    var lastConfirmedMs: [SubscriptionID: Int64] = [:]
    /// When IB last delivered values for each line (a tick carrying a value, or a snapshot
    /// answered with values), monotonic ms.
    var lastIBDataMs: [SubscriptionID: Int64] = [:]
    private(set) var quoteSubscription: [String: SubscriptionID] = [:]
    private(set) var optionSubscriptions: [String: [OptionKey: SubscriptionID]] = [:]

    /// - Parameter snapshot: the record to start from (identity fields of a non-stock
    ///   instrument: `sec_type`, `contract_month`, ...); nil starts an empty quote of `symbol`.
    mutating func addQuote(_ id: SubscriptionID, symbol: String, contract: Contract, monoMs nowMs: Int64, snapshot: QuoteSnapshot? = nil) {
        entries[id] = .quote(symbol: symbol, merger: TickMerger(snapshot ?? QuoteSnapshot(symbol: symbol)))
        contracts[id] = contract
        lastConfirmedMs[id] = nowMs
        quoteSubscription[symbol] = id
    }

    mutating func addOption(_ id: SubscriptionID, symbol: String, key: OptionKey, contract: Contract, monoMs nowMs: Int64) {
        var snapshot = OptionSnapshot(symbol: symbol, expiry: key.expiry, strike: key.strike, right: key.right)
        snapshot.conId = contract.conId
        // Every option record says which class and multiplier it is (SPX vs SPXW, ES 50).
        snapshot.tradingClass = contract.tradingClass.isEmpty ? nil : contract.tradingClass
        snapshot.multiplier = Double(contract.multiplier)
        snapshot.root = key.root.isEmpty ? nil : key.root
        contracts[id] = contract
        lastConfirmedMs[id] = nowMs
        entries[id] = .option(symbol: symbol, key: key, merger: TickMerger(snapshot))
        optionSubscriptions[symbol, default: [:]][key] = id
    }

    @discardableResult
    mutating func remove(_ id: SubscriptionID) -> Entry? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        contracts[id] = nil
        lastConfirmedMs[id] = nil
        lastIBDataMs[id] = nil
        switch entry {
        case .quote(let symbol, _): quoteSubscription[symbol] = nil
        case .option(let symbol, let key, _): optionSubscriptions[symbol]?[key] = nil
        }
        return entry
    }

    /// Applies one tick; returns the symbol when the instrument changed.
    mutating func apply(_ tick: Tick, to id: SubscriptionID) -> (symbol: String, changed: Bool)? {
        guard var entry = entries[id] else { return nil }
        let message = tick.serverMessage
        let changed: Bool
        switch entry {
        case .quote(let symbol, var merger):
            changed = merger.apply(message)
            entry = .quote(symbol: symbol, merger: merger)
        case .option(let symbol, let key, var merger):
            changed = merger.apply(message)
            entry = .option(symbol: symbol, key: key, merger: merger)
        }
        entries[id] = entry
        return (entry.symbol, changed)
    }

    func record(for id: SubscriptionID, source: DataSource, nowMs: Int64) -> Record? {
        switch entries[id] {
        case .quote(_, let merger)?: merger.snapshot.record(source: source, updatedMs: nowMs)
        case .option(_, _, let merger)?: merger.snapshot.record(source: source, updatedMs: nowMs)
        case nil: nil
        }
    }

    func quote(_ symbol: String) -> QuoteSnapshot? {
        guard let id = quoteSubscription[symbol], case .quote(_, let merger)? = entries[id] else { return nil }
        return merger.snapshot
    }

    /// Every subscription of a symbol: its quote first, then its options.
    func subscriptions(of symbol: String) -> [SubscriptionID] {
        var out: [SubscriptionID] = []
        if let q = quoteSubscription[symbol] { out.append(q) }
        out.append(contentsOf: (optionSubscriptions[symbol] ?? [:]).sorted { $0.key < $1.key }.map(\.value))
        return out
    }

    /// The price the option window centres on: last trade, else the mid, else the close.
    func referencePrice(_ symbol: String) -> Double? {
        guard let q = quote(symbol) else { return nil }
        if let last = q.last, last > 0 { return last }
        if let bid = q.bid, let ask = q.ask, bid > 0, ask >= bid { return (bid + ask) / 2 }
        if let close = q.close, close > 0 { return close }
        return nil
    }
}

extension Tick {
    /// The merger speaks `ServerMessage`; the request id means nothing here.
    var serverMessage: ServerMessage {
        switch self {
        case let .price(tickType, price, size, attrMask):
            .tickPrice(reqId: 0, tickType: tickType, price: price, size: size, attrMask: attrMask)
        case let .size(tickType, size): .tickSize(reqId: 0, tickType: tickType, size: size)
        case let .string(tickType, value): .tickString(reqId: 0, tickType: tickType, value: value)
        case let .generic(tickType, value): .tickGeneric(reqId: 0, tickType: tickType, value: value)
        case let .optionComputation(c): .tickOptionComputation(c)
        case let .marketDataType(t): .marketDataType(reqId: 0, marketDataType: t)
        }
    }
}
