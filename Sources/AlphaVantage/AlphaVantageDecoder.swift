import Foundation
import MarketModel

/// Turns Alpha Vantage JSON bodies into snapshots or typed errors. Pure: no I/O, no clock.
///
/// Shapes (Alpha Vantage documentation and captured answers):
/// - GLOBAL_QUOTE: `{"Global Quote": {"01. symbol": "IBM", "02. open": "225.5400", ...,
///   "10. change percent": "2.3322%"}}`; with `entitlement=delayed` the object's key is
///   `"Global Quote - DATA DELAYED BY 15 MINUTES"`; an unknown symbol gives `{"Global Quote": {}}`.
/// - REALTIME_BULK_QUOTES: `{"endpoint": "Realtime Bulk Quotes", "message": "...", "data":
///   [{"symbol", "timestamp", "open", "high", "low", "close", "volume", "previous_close",
///   "change", "change_percent", "extended_hours_quote", ...}]}`.
/// - REALTIME_OPTIONS: `{"endpoint": "Realtime Options", "message": "success", "data":
///   [{"contractID", "symbol", "expiration", "strike", "type", "last", "mark", "bid",
///   "bid_size", "ask", "ask_size", "volume", "open_interest", "date", "implied_volatility",
///   "delta", "gamma", "theta", "vega", "rho"}]}`.
/// Numbers arrive as strings; "None", "-", "" and "N/A" mean unknown.
public enum AlphaVantageDecoder {
    /// Parses `body` as a JSON object, or throws `.malformed`.
    public static func jsonObject(_ body: [UInt8]) throws(AlphaVantageError) -> [String: Any] {
        guard !body.isEmpty else { throw .malformed("empty body") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw .malformed("not valid JSON (\(body.count) bytes)")
        }
        guard let object = parsed as? [String: Any] else { throw .malformed("top level is not a JSON object") }
        return object
    }

    /// GLOBAL_QUOTE -> one quote. `last` is the latest price ("05. price") and `close` the
    /// previous close, matching IB's close tick.
    public static func globalQuote(_ object: [String: Any], symbol: String, dataType: DataType) throws(AlphaVantageError) -> QuoteSnapshot {
        if let error = classify(object) { throw error }
        guard let key = object.keys.sorted().first(where: { $0.hasPrefix("Global Quote") }) else {
            throw .malformed("no \"Global Quote\" object")
        }
        guard let fields = object[key] as? [String: Any] else { throw .malformed("\"\(key)\" is not an object") }
        if fields.isEmpty { throw .emptyResult }
        // An answer naming another instrument is never written under either key: the key
        // asked for would hold another instrument's prices (found by fuzz/alphavantage).
        let echoed = (fields["01. symbol"] as? String).map(normalizedSymbol)
        if let echoed, echoed != normalizedSymbol(symbol) {
            throw .malformed("the answer is for \"\(echoed.prefix(32))\", not \"\(normalizedSymbol(symbol))\"")
        }
        var quote = QuoteSnapshot(symbol: echoed ?? symbol)
        quote.open = number(fields["02. open"])
        quote.high = number(fields["03. high"])
        quote.low = number(fields["04. low"])
        quote.last = number(fields["05. price"])
        quote.volume = number(fields["06. volume"])
        quote.close = number(fields["08. previous close"])
        quote.change = number(fields["09. change"])
        quote.changePercent = number(fields["10. change percent"])
        quote.dataType = dataType
        guard quote.last != nil || quote.close != nil else { throw .emptyResult }
        return quote
    }

    /// REALTIME_BULK_QUOTES -> the quotes of the symbols asked for that came back with a
    /// price. Symbols Alpha Vantage does not know are simply absent from the result.
    public static func bulkQuotes(_ object: [String: Any], symbols: [String], dataType: DataType) throws(AlphaVantageError) -> [QuoteSnapshot] {
        if let error = classify(object) { throw error }
        guard let rows = object["data"] as? [Any] else { throw .malformed("no \"data\" array") }
        let wanted = Set(symbols.map(normalizedSymbol))
        var quotes: [QuoteSnapshot] = []
        for case let row as [String: Any] in rows {
            guard let raw = row["symbol"] as? String else { continue }
            let symbol = normalizedSymbol(raw)
            guard wanted.contains(symbol) else { continue }
            var quote = QuoteSnapshot(symbol: symbol)
            quote.open = number(row["open"])
            quote.high = number(row["high"])
            quote.low = number(row["low"])
            // Regular-session values; extended_hours_quote is left out so `last` never
            // mixes a pre/post-market print with the day's open/high/low.
            quote.last = number(row["close"])
            quote.close = number(row["previous_close"])
            quote.volume = number(row["volume"])
            quote.change = number(row["change"])
            quote.changePercent = number(row["change_percent"])
            quote.lastTradeMs = (row["timestamp"] as? String).flatMap(easternTimestampMs)
            quote.dataType = dataType
            guard quote.last != nil || quote.close != nil else { continue }
            quotes.append(quote)
        }
        if quotes.isEmpty { throw .emptyResult }
        return quotes
    }

    /// The symbol as the configuration spells it (`brk.b` and `BRK.B` are one key).
    static func normalizedSymbol(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespaces).uppercased()
    }

    /// A number sent as a string (`"225.5400"`, `"2.3322%"`) or as a JSON number; nil for
    /// the spellings of "unknown" and for non-finite values.
    public static func number(_ value: Any?) -> Double? {
        switch value {
        case let s as String:
            var text = s.trimmingCharacters(in: .whitespaces)
            if text.hasSuffix("%") { text.removeLast() }
            switch text.lowercased() {
            case "", "none", "-", "n/a", "null", "nan": return nil
            default: break
            }
            guard let v = Double(text), v.isFinite else { return nil }
            return v
        case let n as NSNumber:
            let v = n.doubleValue
            return v.isFinite ? v : nil
        default:
            return nil
        }
    }

    /// `"2024-05-13 16:00:00.000"` in US/Eastern (the exchange's clock) -> epoch ms.
    static func easternTimestampMs(_ text: String) -> Int64? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        let timeAndFraction = parts[1].split(separator: ".", maxSplits: 1)
        let time = timeAndFraction[0].split(separator: ":").compactMap { Int($0) }
        guard date.count == 3, time.count == 3 else { return nil }
        var millis = 0
        if timeAndFraction.count == 2 {
            let digits = String(timeAndFraction[1].prefix(3))
            millis = (Int(digits) ?? 0) * [1, 100, 10, 1][digits.count]
        }
        var components = DateComponents()
        components.year = date[0]; components.month = date[1]; components.day = date[2]
        components.hour = time[0]; components.minute = time[1]; components.second = time[2]
        guard let zone = TimeZone(identifier: "America/New_York") else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard let instant = calendar.date(from: components) else { return nil }
        return Int64((instant.timeIntervalSince1970 * 1000).rounded()) + Int64(millis)
    }
}
