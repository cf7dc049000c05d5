import IBSession
import MarketData
import MarketModel
import TWSProtocol

/// The merged state of every subscription, keyed by the session's stable subscription ids.
///
/// A batch of ticks (one socket read) is applied at once and each changed instrument yields
/// one record, so a burst of bid/ask/size ticks for the same key becomes one write before the
/// publisher's own coalescing even starts.
///
/// This is the hot path's "merging" stage (BENCHMARKS.md, issue 15): each tick costs one
/// dictionary lookup (id -> slot) and is merged in place in its line's slot. Nothing is copied
/// out and back, and no `ServerMessage` is rebuilt from the tick. Quote and option lines live
/// in two arrays, so each merger has its concrete snapshot type.
public struct MarketBook: Sendable {
    /// What a line is, without its merged state (cheap to copy).
    public enum Entry: Sendable, Hashable {
        case quote(symbol: String)
        case option(symbol: String, key: OptionKey)

        /// The configured (or requested) symbol the line belongs to.
        public var symbol: String {
            switch self {
            case .quote(let s), .option(let s, _): s
            }
        }
    }

    /// What `apply` did with one tick.
    public struct Applied: Sendable, Hashable {
        /// Any field of the line's record changed.
        public var changed: Bool
        /// The tick carries a value (`Tick.carriesMarketData`) and is the first such tick of
        /// this line since `beginBatch()`: the line must be written once for the batch.
        public var firstInBatch: Bool
    }

    struct QuoteLine: Sendable {
        var id: SubscriptionID
        var symbol: String
        var merger: TickMerger<QuoteSnapshot>
        var batch: UInt64 = 0
    }

    struct OptionLine: Sendable {
        var id: SubscriptionID
        var symbol: String
        var key: OptionKey
        var merger: TickMerger<OptionSnapshot>
        var batch: UInt64 = 0
    }

    enum Slot: Sendable, Hashable {
        case quote(Int)
        case option(Int)
    }

    private var slots: [SubscriptionID: Slot] = [:]
    private var quoteLines: [QuoteLine] = []
    private var optionLines: [OptionLine] = []
    /// Batches start at 1, so a line whose `batch` is 0 has not been touched yet.
    private var batch: UInt64 = 0

    /// The qualified contract of each line, for snapshot requests (probes, keep-alive).
    public private(set) var contracts: [SubscriptionID: Contract] = [:]
    /// When each line was last confirmed (subscribed, written with `source=ib`, or asked for a
    /// keep-alive snapshot), monotonic ms: the keep-alive schedules its next snapshot from it.
    public var lastConfirmedMs: [SubscriptionID: Int64] = [:]
    /// When IB last delivered values for each line (a tick carrying a value, or a snapshot
    /// answered with values), monotonic ms.
    public var lastIBDataMs: [SubscriptionID: Int64] = [:]
    /// Each symbol's quote line.
    public private(set) var quoteSubscription: [String: SubscriptionID] = [:]
    /// Each symbol's option lines by contract.
    public private(set) var optionSubscriptions: [String: [OptionKey: SubscriptionID]] = [:]

    public init() {}

    /// Lines in the book (quotes and options): market data lines held at the gateway.
    public var lineCount: Int { slots.count }

    /// Every line's id, in no particular order.
    public var lineIDs: [SubscriptionID] { Array(slots.keys) }

    /// Whether `id` is a line of the book.
    public func contains(_ id: SubscriptionID) -> Bool { slots[id] != nil }

    /// What line `id` is; nil when it is not in the book.
    public func entry(_ id: SubscriptionID) -> Entry? {
        switch slots[id] {
        case .quote(let i)?: .quote(symbol: quoteLines[i].symbol)
        case .option(let i)?: .option(symbol: optionLines[i].symbol, key: optionLines[i].key)
        case nil: nil
        }
    }

    /// Every line with what it is (quotes first, then options).
    public var entries: [(id: SubscriptionID, entry: Entry)] {
        quoteLines.map { ($0.id, .quote(symbol: $0.symbol)) } + optionLines.map { ($0.id, .option(symbol: $0.symbol, key: $0.key)) }
    }

    /// - Parameter snapshot: the record to start from (identity fields of a non-stock
    ///   instrument: `sec_type`, `contract_month`, ...); nil starts an empty quote of `symbol`.
    ///   A line already under `id` is replaced.
    public mutating func addQuote(_ id: SubscriptionID, symbol: String, contract: Contract, monoMs nowMs: Int64, snapshot: QuoteSnapshot? = nil) {
        remove(id)
        slots[id] = .quote(quoteLines.count)
        quoteLines.append(QuoteLine(id: id, symbol: symbol, merger: TickMerger(snapshot ?? QuoteSnapshot(symbol: symbol))))
        contracts[id] = contract
        lastConfirmedMs[id] = nowMs
        quoteSubscription[symbol] = id
    }

    /// An option line of `symbol`'s window; the record names the contract (`con_id`,
    /// `trading_class`, `multiplier`, `root`). A line already under `id` is replaced.
    public mutating func addOption(_ id: SubscriptionID, symbol: String, key: OptionKey, contract: Contract, monoMs nowMs: Int64) {
        remove(id)
        var snapshot = OptionSnapshot(symbol: symbol, expiry: key.expiry, strike: key.strike, right: key.right)
        snapshot.conId = contract.conId
        // Every option record says which class and multiplier it is (SPX vs SPXW, ES 50).
        snapshot.tradingClass = contract.tradingClass.isEmpty ? nil : contract.tradingClass
        snapshot.multiplier = Double(contract.multiplier)
        snapshot.root = key.root.isEmpty ? nil : key.root
        contracts[id] = contract
        lastConfirmedMs[id] = nowMs
        slots[id] = .option(optionLines.count)
        optionLines.append(OptionLine(id: id, symbol: symbol, key: key, merger: TickMerger(snapshot)))
        optionSubscriptions[symbol, default: [:]][key] = id
    }

    /// Removes a line and everything kept about it. The symbol's quote or option mapping is
    /// cleared only if it still points at this line (a rolled future's new line stays).
    @discardableResult
    public mutating func remove(_ id: SubscriptionID) -> Entry? {
        guard let slot = slots.removeValue(forKey: id) else { return nil }
        contracts[id] = nil
        lastConfirmedMs[id] = nil
        lastIBDataMs[id] = nil
        switch slot {
        case .quote(let i):
            let line = quoteLines[i]
            // Swap-remove: the last line takes the freed slot.
            if i != quoteLines.count - 1 {
                quoteLines.swapAt(i, quoteLines.count - 1)
                slots[quoteLines[i].id] = .quote(i)
            }
            quoteLines.removeLast()
            if quoteSubscription[line.symbol] == id { quoteSubscription[line.symbol] = nil }
            return .quote(symbol: line.symbol)
        case .option(let i):
            let line = optionLines[i]
            if i != optionLines.count - 1 {
                optionLines.swapAt(i, optionLines.count - 1)
                slots[optionLines[i].id] = .option(i)
            }
            optionLines.removeLast()
            if optionSubscriptions[line.symbol]?[line.key] == id {
                optionSubscriptions[line.symbol]?[line.key] = nil
                if optionSubscriptions[line.symbol]?.isEmpty == true { optionSubscriptions[line.symbol] = nil }
            }
            return .option(symbol: line.symbol, key: line.key)
        }
    }

    /// Starts a new batch (one socket read): every line's first value tick after this reports
    /// `firstInBatch`.
    public mutating func beginBatch() {
        batch &+= 1
    }

    /// Merges one tick into line `id`, in place.
    /// - Returns: nil when `id` is not a line of the book (a late tick of a cancelled line).
    public mutating func apply(_ tick: Tick, to id: SubscriptionID) -> Applied? {
        let touches = tick.carriesMarketData
        switch slots[id] {
        case .quote(let i)?:
            let changed = Self.merge(tick, into: &quoteLines[i].merger)
            let first = touches && quoteLines[i].batch != batch
            if first { quoteLines[i].batch = batch }
            return Applied(changed: changed, firstInBatch: first)
        case .option(let i)?:
            let changed = Self.merge(tick, into: &optionLines[i].merger)
            let first = touches && optionLines[i].batch != batch
            if first { optionLines[i].batch = batch }
            return Applied(changed: changed, firstInBatch: first)
        case nil:
            return nil
        }
    }

    @inline(__always)
    static func merge<S: TickMergeable>(_ tick: Tick, into merger: inout TickMerger<S>) -> Bool {
        switch tick {
        case let .price(tickType, price, size, _): merger.tickPrice(tickType: tickType, price: price, size: size)
        case let .size(tickType, size): merger.tickSize(tickType: tickType, size: size)
        case let .string(tickType, value): merger.tickString(tickType: tickType, value: value)
        case let .generic(tickType, value): merger.tickGeneric(tickType: tickType, value: value)
        case let .optionComputation(computation): merger.tickOptionComputation(computation)
        case let .marketDataType(code): merger.marketDataType(code)
        }
    }

    /// Line `id`'s merged state as a record stamped `source` and `updated_ms = nowMs` (epoch ms).
    public func record(for id: SubscriptionID, source: DataSource, nowMs: Int64) -> Record? {
        switch slots[id] {
        case .quote(let i)?: quoteLines[i].merger.snapshot.record(source: source, updatedMs: nowMs)
        case .option(let i)?: optionLines[i].merger.snapshot.record(source: source, updatedMs: nowMs)
        case nil: nil
        }
    }

    /// The merged quote of `symbol`'s quote line.
    public func quote(_ symbol: String) -> QuoteSnapshot? {
        guard let id = quoteSubscription[symbol], case .quote(let i)? = slots[id] else { return nil }
        return quoteLines[i].merger.snapshot
    }

    /// Every subscription of a symbol: its quote first, then its options.
    public func subscriptions(of symbol: String) -> [SubscriptionID] {
        var out: [SubscriptionID] = []
        if let q = quoteSubscription[symbol] { out.append(q) }
        out.append(contentsOf: (optionSubscriptions[symbol] ?? [:]).sorted { $0.key < $1.key }.map(\.value))
        return out
    }

    /// The price the option window centres on: last trade, else the mid, else the close.
    public func referencePrice(_ symbol: String) -> Double? {
        guard let q = quote(symbol) else { return nil }
        if let last = q.last, last > 0 { return last }
        if let bid = q.bid, let ask = q.ask, bid > 0, ask >= bid { return (bid + ask) / 2 }
        if let close = q.close, close > 0 { return close }
        return nil
    }
}
