/// One Alpha Vantage call: what the scheduler decides to run and the client runs.
public enum AlphaVantageRequest: Sendable, Hashable, CustomStringConvertible {
    /// GLOBAL_QUOTE for one symbol (free; end-of-day data without entitlement).
    case globalQuote(String)
    /// REALTIME_BULK_QUOTES for 1...100 symbols (premium).
    case bulkQuotes([String])
    /// REALTIME_OPTIONS with greeks for one underlying (premium).
    case options(String)
    /// CURRENCY_EXCHANGE_RATE for one FX pair (free): `from` is the base currency (IB's
    /// `symbol`, EUR of EUR.USD), `to` the quote currency (IB's `currency`, USD), both ISO 4217
    /// codes as Alpha Vantage spells them.
    case exchangeRate(from: String, to: String)

    /// Alpha Vantage honours only the first 100 symbols of a bulk call.
    public static let maxBulkSymbols = 100

    /// The name the scheduler and poller use for an FX pair: `EUR/USD`. The slash cannot
    /// occur in an Alpha Vantage ticker, so a pair never shares a name with a stock.
    public static func pairSymbol(from: String, to: String) -> String { AlphaVantageDecoder.pairSymbol(from: from, to: to) }

    /// The `function` query parameter.
    public var function: String {
        switch self {
        case .globalQuote: "GLOBAL_QUOTE"
        case .bulkQuotes: "REALTIME_BULK_QUOTES"
        case .options: "REALTIME_OPTIONS"
        case .exchangeRate: "CURRENCY_EXCHANGE_RATE"
        }
    }

    /// The symbols this call refreshes.
    public var symbols: [String] {
        switch self {
        case .globalQuote(let s), .options(let s): [s]
        case .bulkQuotes(let list): list
        case .exchangeRate(let from, let to): [Self.pairSymbol(from: from, to: to)]
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
        case .exchangeRate(let from, let to):
            // No `entitlement`: it applies to US equity data, not to the FX endpoint.
            items.append(("from_currency", from))
            items.append(("to_currency", to))
            return items
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

/// An FX pair as Alpha Vantage's CURRENCY_EXCHANGE_RATE names it: `from` (base, EUR of
/// EUR.USD) and `to` (quote currency, USD), ISO 4217 codes.
public struct CurrencyPair: Sendable, Hashable, CustomStringConvertible {
    public var from: String
    public var to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// `EUR/USD`: the name the scheduler, the poller's events and the relay use for the pair.
    public var symbol: String { AlphaVantageRequest.pairSymbol(from: from, to: to) }
    public var description: String { symbol }
}
