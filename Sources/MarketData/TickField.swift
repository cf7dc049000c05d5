import MarketModel

/// A field of a quote or option record that IB fills from individual ticks.
///
/// IB never sends a whole quote: every value arrives as its own tick type, live and delayed
/// under different numbers. Mapping both onto one field set keeps the merge logic independent
/// of the market data type the gateway actually serves.
public enum TickField: Sendable, Hashable, CaseIterable {
    case bid, bidSize, ask, askSize, last, lastSize, volume
    case open, high, low, close
    case openInterest
    case impliedVol, delta, gamma, vega, theta, underlyingPrice, modelPrice
    /// Implied volatility at the bid, ask and last price (TICK_OPTION_COMPUTATION 10, 11, 12).
    case bidIV, askIV, lastIV
    /// On an underlying: its options' open interest and volume per right (generic ticks 101
    /// and 100: TICK_SIZE 27 call OI, 28 put OI, 29 call volume, 30 put volume).
    case optionCallOpenInterest, optionPutOpenInterest, optionCallVolume, optionPutVolume

    /// The price field of a TICK_PRICE tick type (live 1 2 4 6 7 9 14, delayed 66 67 68 72 73 75 76).
    public static func price(tickType: Int32) -> TickField? {
        switch tickType {
        case 1, 66: .bid
        case 2, 67: .ask
        case 4, 68: .last
        case 6, 72: .high
        case 7, 73: .low
        case 9, 75: .close
        case 14, 76: .open
        default: nil
        }
    }

    /// The size field of a TICK_SIZE tick type (live 0 3 5 8, delayed 69 70 71 74).
    ///
    /// Open interest (27 call, 28 put, 86 futures) is not listed here: which of 27/28 applies
    /// depends on the option's right, so `TickMerger` decides it.
    public static func size(tickType: Int32) -> TickField? {
        switch tickType {
        case 0, 69: .bidSize
        case 3, 70: .askSize
        case 5, 71: .lastSize
        case 8, 74: .volume
        default: nil
        }
    }

    /// The size that travels inside a TICK_PRICE for this price field, if any.
    public var companionSize: TickField? {
        switch self {
        case .bid: .bidSize
        case .ask: .askSize
        case .last: .lastSize
        default: nil
        }
    }

    /// The price a bid/ask size belongs to (a quote side is a price and its size).
    public var companionPrice: TickField? {
        switch self {
        case .bidSize: .bid
        case .askSize: .ask
        default: nil
        }
    }

    /// Tick types whose value is the time of the last trade in epoch seconds (TICK_STRING).
    public static func isLastTimestamp(tickType: Int32) -> Bool {
        tickType == 45 || tickType == 88
    }

    /// Tick types IB sends only for delayed data (PROTOCOL.md §5: 66-76, 80-83, 88; IB's tick
    /// type list): their presence labels a record `delayed` whatever else was reported.
    public static func isDelayed(tickType: Int32) -> Bool {
        (66...76).contains(tickType) || (80...83).contains(tickType) || tickType == 88
    }

    /// TICK_GENERIC 49, "Halted" (IB's tick types: 0 not halted, 1 general halt, 2 volatility
    /// halt). Delivered without asking for a generic tick list.
    public static let haltedTickType: Int32 = 49

    /// The model option computation (13, delayed 83): the only one whose greeks the record
    /// publishes (`delta gamma vega theta und_price model_price`, `iv` its volatility).
    public static func isModelComputation(tickType: Int32) -> Bool {
        tickType == 13 || tickType == 83
    }

    /// The field a bid/ask/last option computation's implied volatility fills: tick 10 (bid,
    /// delayed 80) -> `bid_iv`, 11 (ask, 81) -> `ask_iv`, 12 (last, 82) -> `last_iv`.
    public static func sideVolatility(tickType: Int32) -> TickField? {
        switch tickType {
        case 10, 80: .bidIV
        case 11, 81: .askIV
        case 12, 82: .lastIV
        default: nil
        }
    }
}

/// A snapshot the tick merger can write into. Each setter reports whether the stored value
/// changed, which is what lets repeated ticks (IB sends sizes two or three times) skip a write.
public protocol TickMergeable: Sendable {
    /// Sets a field; fields the record type does not have are ignored (returns false).
    mutating func set(_ field: TickField, _ value: Double?) -> Bool
    /// The value of a field, or nil when unknown or not part of the record type.
    func value(_ field: TickField) -> Double?
    mutating func setLastTradeMs(_ value: Int64?) -> Bool
    mutating func setDataType(_ value: DataType?) -> Bool
    /// Whether the record type has this field (a quote has no greeks, an option no session
    /// open/high/low/close): ticks for fields it lacks are ignored entirely.
    func uses(_ field: TickField) -> Bool
    /// Whether the record type publishes the last trade time (ticks 45/88).
    var usesLastTradeTime: Bool { get }
    /// Tick 49 (TICK_GENERIC "halted"): 0 trading, 1 halted, 2 volatility halt; nil unknown.
    mutating func setHalted(_ value: Double?) -> Bool
    /// The option's right, so open-interest ticks 27 (calls) and 28 (puts) land on the right
    /// contract; nil for underlyings.
    var optionRight: OptionRight? { get }
}

@inline(__always)
func assign<T: Equatable>(_ slot: inout T?, _ value: T?) -> Bool {
    if slot == value { return false }
    slot = value
    return true
}
