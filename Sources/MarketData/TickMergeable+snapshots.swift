import MarketModel

extension QuoteSnapshot: TickMergeable {
    public mutating func set(_ field: TickField, _ value: Double?) -> Bool {
        switch field {
        case .bid: assign(&bid, value)
        case .bidSize: assign(&bidSize, value)
        case .ask: assign(&ask, value)
        case .askSize: assign(&askSize, value)
        case .last: assign(&last, value)
        case .lastSize: assign(&lastSize, value)
        case .volume: assign(&volume, value)
        case .open: assign(&open, value)
        case .high: assign(&high, value)
        case .low: assign(&low, value)
        case .close: assign(&close, value)
        case .optionCallOpenInterest: assign(&optionCallOpenInterest, value)
        case .optionPutOpenInterest: assign(&optionPutOpenInterest, value)
        case .optionCallVolume: assign(&optionCallVolume, value)
        case .optionPutVolume: assign(&optionPutVolume, value)
        case .openInterest, .impliedVol, .delta, .gamma, .vega, .theta, .underlyingPrice, .modelPrice, .bidIV, .askIV, .lastIV: false
        }
    }

    public func value(_ field: TickField) -> Double? {
        switch field {
        case .bid: bid
        case .bidSize: bidSize
        case .ask: ask
        case .askSize: askSize
        case .last: last
        case .lastSize: lastSize
        case .volume: volume
        case .open: open
        case .high: high
        case .low: low
        case .close: close
        case .optionCallOpenInterest: optionCallOpenInterest
        case .optionPutOpenInterest: optionPutOpenInterest
        case .optionCallVolume: optionCallVolume
        case .optionPutVolume: optionPutVolume
        case .openInterest, .impliedVol, .delta, .gamma, .vega, .theta, .underlyingPrice, .modelPrice, .bidIV, .askIV, .lastIV: nil
        }
    }

    public mutating func setLastTradeMs(_ value: Int64?) -> Bool { assign(&lastTradeMs, value) }
    public mutating func setDataType(_ value: DataType?) -> Bool { assign(&dataType, value) }
    public mutating func setHalted(_ value: Double?) -> Bool { assign(&halted, value) }
    public var optionRight: OptionRight? { nil }
    public func uses(_ field: TickField) -> Bool {
        switch field {
        case .openInterest, .impliedVol, .delta, .gamma, .vega, .theta, .underlyingPrice, .modelPrice: false
        default: true
        }
    }
    public var usesLastTradeTime: Bool { true }
}

extension OptionSnapshot: TickMergeable {
    public mutating func set(_ field: TickField, _ value: Double?) -> Bool {
        switch field {
        case .bid: assign(&bid, value)
        case .bidSize: assign(&bidSize, value)
        case .ask: assign(&ask, value)
        case .askSize: assign(&askSize, value)
        case .last: assign(&last, value)
        case .lastSize: assign(&lastSize, value)
        case .volume: assign(&volume, value)
        case .openInterest: assign(&openInterest, value)
        case .impliedVol: assign(&impliedVol, value)
        case .delta: assign(&delta, value)
        case .gamma: assign(&gamma, value)
        case .vega: assign(&vega, value)
        case .theta: assign(&theta, value)
        case .underlyingPrice: assign(&underlyingPrice, value)
        case .modelPrice: assign(&modelPrice, value)
        case .bidIV: assign(&bidIV, value)
        case .askIV: assign(&askIV, value)
        case .lastIV: assign(&lastIV, value)
        // The option record has no session open/high/low/close (CONTRACT §3) and no
        // underlying-wide option statistics.
        case .open, .high, .low, .close, .optionCallOpenInterest, .optionPutOpenInterest, .optionCallVolume, .optionPutVolume: false
        }
    }

    public func value(_ field: TickField) -> Double? {
        switch field {
        case .bid: bid
        case .bidSize: bidSize
        case .ask: ask
        case .askSize: askSize
        case .last: last
        case .lastSize: lastSize
        case .volume: volume
        case .openInterest: openInterest
        case .impliedVol: impliedVol
        case .delta: delta
        case .gamma: gamma
        case .vega: vega
        case .theta: theta
        case .underlyingPrice: underlyingPrice
        case .modelPrice: modelPrice
        case .bidIV: bidIV
        case .askIV: askIV
        case .lastIV: lastIV
        case .open, .high, .low, .close, .optionCallOpenInterest, .optionPutOpenInterest, .optionCallVolume, .optionPutVolume: nil
        }
    }

    /// The option record has no last trade time.
    public mutating func setLastTradeMs(_ value: Int64?) -> Bool { false }
    public mutating func setDataType(_ value: DataType?) -> Bool { assign(&dataType, value) }
    public mutating func setHalted(_ value: Double?) -> Bool { assign(&halted, value) }
    public func uses(_ field: TickField) -> Bool {
        switch field {
        case .open, .high, .low, .close: false
        default: true
        }
    }
    public var usesLastTradeTime: Bool { false }
    public var optionRight: OptionRight? { right }
}
