import MarketModel
import TWSProtocol

/// Folds the ticks of one market data subscription into the complete state of its record.
///
/// IB sends bid, ask, sizes, greeks and the data type as separate messages, repeats sizes two
/// or three times, and marks "no quote on that side" with -1 (decoded to nil). The merger keeps
/// the last value of every field, so the record published after any prefix of the stream is
/// exactly what the gateway has said so far, and it reports whether a message changed anything
/// so the caller only writes (and the publisher only conflates) real changes.
///
/// The caller routes messages by request id; the merger does not look at `reqId`.
public struct TickMerger<Snapshot: TickMergeable>: Sendable {
    /// The merged state; publish it with `snapshot.record(source:updatedMs:)`.
    public private(set) var snapshot: Snapshot
    /// Messages that changed the snapshot, for metrics.
    public private(set) var changes: Int = 0
    /// Messages that were applied but changed nothing (IB's repeats).
    public private(set) var repeats: Int = 0
    /// What MARKET_DATA_TYPE (58) last said is served; nil until the gateway says.
    public private(set) var reportedType: DataType?
    /// Whether the last value tick was a delayed tick type (66-76, 80-83, 88); nil before any.
    public private(set) var lastTickDelayed: Bool?

    public init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
    }

    /// Applies one gateway message addressed to this subscription.
    /// - Returns: true when any field of the snapshot changed.
    @discardableResult
    public mutating func apply(_ message: ServerMessage) -> Bool {
        switch message {
        case let .tickPrice(_, tickType, price, size, _): tickPrice(tickType: tickType, price: price, size: size)
        case let .tickSize(_, tickType, size): tickSize(tickType: tickType, size: size)
        case let .tickString(_, tickType, value): tickString(tickType: tickType, value: value)
        case let .tickOptionComputation(computation): tickOptionComputation(computation)
        case let .tickGeneric(_, tickType, value): tickGeneric(tickType: tickType, value: value)
        case let .marketDataType(_, code): marketDataType(code)
        // TICK_REQ_PARAMS and snapshot ends are control messages.
        default: false
        }
    }

    // The hot path calls these directly with a tick's fields (no `ServerMessage` built for it);
    // `apply(_:)` is the same thing for a decoded message. A tick type the record uses labels
    // `data_type` by its class (live or delayed); ignored tick types change nothing at all.

    /// TICK_PRICE (1): `price` nil for IB's -1 (no quote on that side), `size` nil when unset.
    /// - Returns: true when any field of the snapshot changed.
    @discardableResult
    public mutating func tickPrice(tickType: Int32, price: Double?, size: Double?) -> Bool {
        guard let field = TickField.price(tickType: tickType), snapshot.uses(field) else { return false }
        var changed = applyPrice(tickType: tickType, price: price, size: size)
        changed = noteTickType(tickType) || changed
        return counted(changed)
    }

    /// TICK_SIZE (2). - Returns: true when any field of the snapshot changed.
    @discardableResult
    public mutating func tickSize(tickType: Int32, size: Double?) -> Bool {
        guard usesSize(tickType: tickType) else { return false }
        var changed = applySize(tickType: tickType, size: size)
        changed = noteTickType(tickType) || changed
        return counted(changed)
    }

    /// TICK_STRING (46): only ticks 45 and 88 (last trade time, epoch seconds) are used.
    /// - Returns: true when any field of the snapshot changed.
    @discardableResult
    public mutating func tickString(tickType: Int32, value: String) -> Bool {
        guard TickField.isLastTimestamp(tickType: tickType), snapshot.usesLastTradeTime else { return false }
        var changed = applyString(tickType: tickType, value: value)
        changed = noteTickType(tickType) || changed
        return counted(changed)
    }

    /// TICK_OPTION_COMPUTATION (21): the model tick (13/83) sets the greeks, 10-12 (80-82) the
    /// side volatilities; ignored on a quote. - Returns: true when any field changed.
    @discardableResult
    public mutating func tickOptionComputation(_ computation: OptionComputation) -> Bool {
        guard TickField.isModelComputation(tickType: computation.tickType) || TickField.sideVolatility(tickType: computation.tickType) != nil,
            snapshot.optionRight != nil
        else { return false }
        var changed = applyComputation(computation)
        changed = noteTickType(computation.tickType) || changed
        return counted(changed)
    }

    /// TICK_GENERIC (45): only tick 49 (halted) is published; trade counts and historical
    /// volatility are not. - Returns: true when `halted` changed.
    @discardableResult
    public mutating func tickGeneric(tickType: Int32, value: Double?) -> Bool {
        guard tickType == TickField.haltedTickType else { return false }
        return counted(snapshot.setHalted(finite(value)))
    }

    /// MARKET_DATA_TYPE (58): the type IB says it serves (1 live, 2 frozen, 3 delayed,
    /// 4 delayed-frozen). - Returns: true when `data_type` changed.
    @discardableResult
    public mutating func marketDataType(_ code: Int32) -> Bool {
        reportedType = DataType(ibCode: Int(code))
        return counted(snapshot.setDataType(resolvedDataType))
    }

    private mutating func counted(_ changed: Bool) -> Bool {
        if changed { changes += 1 } else { repeats += 1 }
        return changed
    }

    /// `data_type` from what IB said (58) and what it sends: delayed tick types are delayed
    /// data whatever was reported, live tick types are live (or frozen, if 58 said so), and
    /// without any tick yet the report stands.
    var resolvedDataType: DataType? {
        guard let delayed = lastTickDelayed else { return reportedType }
        if delayed { return reportedType == .delayedFrozen ? .delayedFrozen : .delayed }
        return reportedType == .frozen ? .frozen : .live
    }

    /// Records the class (live or delayed) of a value tick and relabels `data_type` if needed.
    mutating func noteTickType(_ tickType: Int32) -> Bool {
        let delayed = TickField.isDelayed(tickType: tickType)
        guard lastTickDelayed != delayed else { return false }
        lastTickDelayed = delayed
        return snapshot.setDataType(resolvedDataType)
    }

    /// Applies a TICK_PRICE. A missing bid/ask/last price empties the field, and its size too
    /// unless the gateway sent a real size with it, so no stale size outlives its price.
    mutating func applyPrice(tickType: Int32, price: Double?, size: Double?) -> Bool {
        guard let field = TickField.price(tickType: tickType) else { return false }
        let price = finite(price)
        var changed = snapshot.set(field, price)
        if let sizeField = field.companionSize {
            let size = finite(size)
            if price == nil {
                let kept = (size ?? 0) > 0 ? size : nil
                changed = snapshot.set(sizeField, kept) || changed
            } else if let size {
                changed = snapshot.set(sizeField, size) || changed
            }
        }
        return changed
    }

    /// Whether a TICK_SIZE tick type sets a field of this record.
    func usesSize(tickType: Int32) -> Bool {
        if let field = TickField.size(tickType: tickType) { return snapshot.uses(field) }
        switch (tickType, snapshot.optionRight) {
        case (27, .call?), (28, .put?), (86, _?): return true
        // On the underlying's own line, 27-30 are its options' totals per right.
        case (27, nil), (28, nil), (29, nil), (30, nil): return true
        default: return false
        }
    }

    /// Applies a TICK_SIZE, including open interest: on an option's subscription IB reports
    /// calls' interest as tick 27 and puts' as 28, so only the one matching the right counts.
    mutating func applySize(tickType: Int32, size: Double?) -> Bool {
        var size = finite(size)
        if let field = TickField.size(tickType: tickType) {
            // IB's "no quote on that side" is price -1 with size 0, and the TICK_SIZE that
            // follows repeats the 0: a zero size without its price is no quote, not a size.
            if size == 0, let price = field.companionPrice, snapshot.value(price) == nil { size = nil }
            return snapshot.set(field, size)
        }
        switch (tickType, snapshot.optionRight) {
        case (27, .call?), (28, .put?), (86, _?):
            return snapshot.set(.openInterest, size)
        // On the underlying's own line, 27-30 are its options' totals per right.
        case (27, nil): return snapshot.set(.optionCallOpenInterest, size)
        case (28, nil): return snapshot.set(.optionPutOpenInterest, size)
        case (29, nil): return snapshot.set(.optionCallVolume, size)
        case (30, nil): return snapshot.set(.optionPutVolume, size)
        default:
            return false
        }
    }

    /// Applies a TICK_STRING: ticks 45 and 88 are the last trade time in epoch seconds.
    mutating func applyString(tickType: Int32, value: String) -> Bool {
        guard TickField.isLastTimestamp(tickType: tickType) else { return false }
        return snapshot.setLastTradeMs(Self.epochMs(fromSecondsText: value))
    }

    /// Applies a TICK_OPTION_COMPUTATION. Only the model tick sets greeks: it is the one IB
    /// computes from the mid and the underlying, and mixing in bid/ask computations would make
    /// a field's value depend on which side ticked last. The bid, ask and last computations
    /// (10, 11, 12) set `bid_iv`, `ask_iv`, `last_iv`: the volatility each price implies.
    /// "Not computed" markers arrive as nil and make the field absent, because that is the
    /// gateway's latest word on it.
    mutating func applyComputation(_ c: OptionComputation) -> Bool {
        if let side = TickField.sideVolatility(tickType: c.tickType) {
            return snapshot.set(side, finite(c.impliedVol))
        }
        guard TickField.isModelComputation(tickType: c.tickType) else { return false }
        var changed = snapshot.set(.impliedVol, finite(c.impliedVol))
        changed = snapshot.set(.delta, finite(c.delta)) || changed
        changed = snapshot.set(.gamma, finite(c.gamma)) || changed
        changed = snapshot.set(.vega, finite(c.vega)) || changed
        changed = snapshot.set(.theta, finite(c.theta)) || changed
        changed = snapshot.set(.underlyingPrice, finite(c.undPrice)) || changed
        changed = snapshot.set(.modelPrice, finite(c.optPrice)) || changed
        return changed
    }

    /// Epoch seconds as IB spells them ("1732631400", rarely with a fraction) to milliseconds;
    /// nil for empty, zero or unparsable text so a bad value is absent rather than 1970.
    static func epochMs(fromSecondsText text: String) -> Int64? {
        let trimmed = text.trimmingWhitespace()
        if let seconds = Int64(trimmed) {
            guard seconds > 0, seconds < Int64.max / 1000 else { return nil }
            return seconds * 1000
        }
        guard let seconds = Double(trimmed), seconds.isFinite, seconds > 0, seconds < 1e15 else { return nil }
        return Int64((seconds * 1000).rounded())
    }
}

/// Non-finite values (IB's "Infinity") are unknown, and NaN would defeat change detection.
@inline(__always)
func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

extension TickMerger where Snapshot == QuoteSnapshot {
    /// A merger for an underlying's quote.
    public init(symbol: String) { self.init(QuoteSnapshot(symbol: symbol)) }
}

extension TickMerger where Snapshot == OptionSnapshot {
    /// A merger for one option contract.
    public init(symbol: String, expiry: String, strike: Double, right: OptionRight, conId: Int64? = nil) {
        var s = OptionSnapshot(symbol: symbol, expiry: expiry, strike: strike, right: right)
        s.conId = conId
        self.init(s)
    }
}
