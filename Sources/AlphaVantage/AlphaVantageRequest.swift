/// One Alpha Vantage call: what the scheduler decides to run and the client runs.
public enum AlphaVantageRequest: Sendable, Hashable, CustomStringConvertible {
    /// GLOBAL_QUOTE for one symbol (free; end-of-day data without entitlement).
    case globalQuote(String)
    /// REALTIME_BULK_QUOTES for 1...100 symbols (premium).
    case bulkQuotes([String])
    /// REALTIME_OPTIONS with greeks for one underlying (premium).
    case options(String)

    /// Alpha Vantage honours only the first 100 symbols of a bulk call.
    public static let maxBulkSymbols = 100

    /// The `function` query parameter.
    public var function: String {
        switch self {
        case .globalQuote: "GLOBAL_QUOTE"
        case .bulkQuotes: "REALTIME_BULK_QUOTES"
        case .options: "REALTIME_OPTIONS"
        }
    }

    /// The symbols this call refreshes.
    public var symbols: [String] {
        switch self {
        case .globalQuote(let s), .options(let s): [s]
        case .bulkQuotes(let list): list
        }
    }

    public var description: String { "\(function) \(symbols.joined(separator: ","))" }

    /// Query items in a stable order, without the API key.
    func queryItems(entitlement: AlphaVantageConfiguration.Entitlement) -> [(String, String)] {
        var items: [(String, String)] = [("function", function)]
        switch self {
        case .globalQuote(let s):
            items.append(("symbol", s))
        case .bulkQuotes(let list):
            items.append(("symbol", list.prefix(Self.maxBulkSymbols).joined(separator: ",")))
        case .options(let s):
            items.append(("symbol", s))
            items.append(("require_greeks", "true"))
        }
        if let value = entitlement.queryValue { items.append(("entitlement", value)) }
        return items
    }
}

/// RFC 3986 query encoding; `,` stays literal because Alpha Vantage splits bulk symbols on it.
enum QueryEncoding {
    static func encode(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ","):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func url(base: String, items: [(String, String)]) -> String {
        let query = items.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        return base + (base.contains("?") ? "&" : "?") + query
    }
}
