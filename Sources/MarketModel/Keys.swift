/// Key names of the Redis layout (CONTRACT §3), without the configured prefix.
///
/// Other applications build these same names to read the cache, so the spelling of a strike
/// is canonical (`450`, `452.5`) and an expiry is always `YYYYMMDD`.
public enum Keys {
    public static func quote(_ symbol: String) -> String { "quote:\(symbol)" }
    public static func chain(_ symbol: String) -> String { "chain:\(symbol)" }

    public static func option(_ symbol: String, expiry: String, strike: Double, right: OptionRight) -> String {
        "option:\(symbol):\(expiry):\(DecimalFormat.string(strike) ?? "0"):\(right.rawValue)"
    }

    public static let updated = "updated"
    public static let events = "events"
    public static let stream = "stream"
    public static func worker(_ id: String) -> String { "worker:\(id)" }

    /// Joins the configured prefix and a key: `mkt` + `quote:AAPL` -> `mkt:quote:AAPL`.
    public static func prefixed(_ prefix: String, _ key: String) -> String {
        prefix.isEmpty ? key : "\(prefix):\(key)"
    }
}

/// Call or put, spelled as in the key and the `right` field.
public enum OptionRight: String, Sendable, Hashable, CaseIterable {
    case call = "C"
    case put = "P"

    /// Accepts IB's spellings (`C`, `CALL`, `P`, `PUT`) and Alpha Vantage's (`call`, `put`).
    public init?(text: String) {
        switch text.uppercased() {
        case "C", "CALL": self = .call
        case "P", "PUT": self = .put
        default: return nil
        }
    }
}
