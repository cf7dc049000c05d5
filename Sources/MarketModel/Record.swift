/// Where a record's values came from. A hash never mixes fields of two sources.
public enum DataSource: String, Sendable, Hashable, CaseIterable {
    case ib
    case alphavantage
}

/// The `data_type` field: IB's market data types, or Alpha Vantage's entitlement.
public enum DataType: String, Sendable, Hashable, CaseIterable {
    case live
    case frozen
    case delayed
    case delayedFrozen = "delayed_frozen"
    case alphavantageRealtime = "alphavantage_realtime"
    case alphavantageDelayed = "alphavantage_delayed"
    case alphavantageEOD = "alphavantage_eod"

    /// IB's numeric market data type (1 live, 2 frozen, 3 delayed, 4 delayed-frozen).
    public init?(ibCode: Int) {
        switch ibCode {
        case 1: self = .live
        case 2: self = .frozen
        case 3: self = .delayed
        case 4: self = .delayedFrozen
        default: return nil
        }
    }

    public var ibCode: Int? {
        switch self {
        case .live: 1
        case .frozen: 2
        case .delayed: 3
        case .delayedFrozen: 4
        default: nil
        }
    }
}

/// One field of a data key. `isNumber` decides how it is spelled in the JSON message
/// (a JSON number, or a JSON string); in the hash every value is text.
public struct Field: Sendable, Hashable {
    public var name: String
    public var value: String
    public var isNumber: Bool

    public init(_ name: String, _ value: String, isNumber: Bool) {
        self.name = name
        self.value = value
        self.isNumber = isNumber
    }
}

/// The complete known state of one data key (`quote:AAPL`, `option:SPY:20261218:450:C`,
/// `chain:SPY`), as the publisher writes it.
///
/// A record is the whole truth, not a delta: fields that are absent here are removed from
/// the hash on write, so an unknown value is never left behind as an old number. `seq` and
/// `stale` are not part of it: the Lua scripts own them.
public struct Record: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case quote, option, chain
    }

    public var kind: Kind
    /// The key without the configured prefix, which is also the pub/sub channel's suffix.
    public var key: String
    public var source: DataSource
    public var updatedMs: Int64
    /// Every known field, in a stable order, including `symbol`, `source` and `updated_ms`.
    public var fields: [Field]

    public init(kind: Kind, key: String, source: DataSource, updatedMs: Int64, fields: [Field]) {
        self.kind = kind
        self.key = key
        self.source = source
        self.updatedMs = updatedMs
        self.fields = fields
    }

    public func value(_ name: String) -> String? {
        fields.first(where: { $0.name == name })?.value
    }
}

/// Collects fields in order, dropping unknown values so they are absent, never `-1` or "".
public struct FieldList: Sendable {
    public private(set) var fields: [Field] = []

    public init() {}

    /// Room for `capacity` fields up front: a record is built per changed line per socket
    /// read, and growing the array field by field cost five reallocations per record.
    public init(capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    public mutating func text(_ name: String, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        fields.append(Field(name, value, isNumber: false))
    }

    public mutating func number(_ name: String, _ value: Double?) {
        guard let value, let text = DecimalFormat.string(value) else { return }
        fields.append(Field(name, text, isNumber: true))
    }

    public mutating func integer(_ name: String, _ value: Int64?) {
        guard let value else { return }
        fields.append(Field(name, String(value), isNumber: true))
    }
}
