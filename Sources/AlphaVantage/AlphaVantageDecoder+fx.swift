import Foundation
import MarketModel

extension AlphaVantageDecoder {
    /// The object key of a CURRENCY_EXCHANGE_RATE answer.
    static let exchangeRateKey = "Realtime Currency Exchange Rate"

    /// `EUR/USD`: an FX pair's name in the poller, its events and the relay
    /// (`AlphaVantageRequest.pairSymbol`, `CurrencyPair.symbol`). The slash cannot occur in an
    /// Alpha Vantage ticker, so a pair never shares a name with a stock. Defined here so the
    /// decoder builds on its own (fuzz/build.sh).
    public static func pairSymbol(from: String, to: String) -> String { "\(from)/\(to)" }

    /// CURRENCY_EXCHANGE_RATE -> one FX quote of the pair `from`/`to`. Pure.
    ///
    /// Shape (Alpha Vantage documentation, "Currency Exchange Rate"; the field names as
    /// client libraries decode them, e.g. the `alpha_vantage` crate's `RealtimeExchangeRate`):
    /// `{"Realtime Currency Exchange Rate": {"1. From_Currency Code": "EUR",
    /// "2. From_Currency Name": "Euro", "3. To_Currency Code": "USD", "4. To_Currency Name":
    /// "United States Dollar", "5. Exchange Rate": "1.08450000", "6. Last Refreshed":
    /// "2024-02-29 14:55:01", "7. Time Zone": "UTC", "8. Bid Price": "1.08448000",
    /// "9. Ask Price": "1.08452000"}}`. An unknown pair is an `Error Message` ("Invalid API
    /// call ... for CURRENCY_EXCHANGE_RATE."), notices are `Note` / `Information` as on every
    /// endpoint (`classify`).
    ///
    /// The quote has what an FX quote has: `bid` ("8. Bid Price"), `ask` ("9. Ask Price") and
    /// `last` = the exchange rate ("5. Exchange Rate", Alpha Vantage's latest rate; IDEALPRO
    /// has no last trade), `last_trade_ms` = "6. Last Refreshed" in "7. Time Zone"; no sizes,
    /// no volume, no open/high/low/close. Its `symbol` is `pairSymbol` (`EUR/USD`); the relay
    /// writes it under the pair's key.
    ///
    /// - Throws: the `classify` error of a notice; `.malformed` when the object is missing or
    ///   names another pair (never written under this pair's key); `.emptyResult` when the
    ///   object is empty or carries no usable rate.
    public static func exchangeRate(_ object: [String: Any], from: String, to: String, dataType: DataType) throws(AlphaVantageError) -> QuoteSnapshot {
        if let error = classify(object) { throw error }
        guard let raw = object[exchangeRateKey] else { throw .malformed("no \"\(exchangeRateKey)\" object") }
        guard let fields = raw as? [String: Any] else { throw .malformed("\"\(exchangeRateKey)\" is not an object") }
        if fields.isEmpty { throw .emptyResult }
        let wantFrom = normalizedSymbol(from), wantTo = normalizedSymbol(to)
        let echoedFrom = (fields["1. From_Currency Code"] as? String).map(normalizedSymbol)
        let echoedTo = (fields["3. To_Currency Code"] as? String).map(normalizedSymbol)
        if let echoedFrom, echoedFrom != wantFrom {
            throw .malformed("the answer is for \"\(echoedFrom.prefix(16))\"/\"\((echoedTo ?? "?").prefix(16))\", not \(wantFrom)/\(wantTo)")
        }
        if let echoedTo, echoedTo != wantTo {
            throw .malformed("the answer is for \"\((echoedFrom ?? "?").prefix(16))\"/\"\(echoedTo.prefix(16))\", not \(wantFrom)/\(wantTo)")
        }
        var quote = QuoteSnapshot(symbol: pairSymbol(from: wantFrom, to: wantTo))
        // A rate is a positive price; zero or negative is garbage, not a quote.
        let positive = { (v: Double?) in v.flatMap { $0 > 0 ? $0 : nil } }
        quote.last = positive(number(fields["5. Exchange Rate"]))
        quote.bid = positive(number(fields["8. Bid Price"]))
        quote.ask = positive(number(fields["9. Ask Price"]))
        if let bid = quote.bid, let ask = quote.ask, bid > ask {
            throw .malformed("bid \(bid) above ask \(ask)")
        }
        quote.lastTradeMs = (fields["6. Last Refreshed"] as? String).flatMap { text in
            zonedTimestampMs(text, zone: (fields["7. Time Zone"] as? String) ?? "UTC")
        }
        quote.dataType = dataType
        guard quote.last != nil || (quote.bid != nil && quote.ask != nil) else { throw .emptyResult }
        return quote
    }

    /// `"2024-02-29 14:55:01"` in the IANA zone `zone` (Alpha Vantage says `UTC`) -> epoch ms;
    /// nil for another layout or an unknown zone.
    static func zonedTimestampMs(_ text: String, zone: String) -> Int64? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        let time = parts[1].split(separator: ".")[0].split(separator: ":").compactMap { Int($0) }
        guard date.count == 3, time.count == 3, let timeZone = TimeZone(identifier: zone) else { return nil }
        var components = DateComponents()
        components.year = date[0]; components.month = date[1]; components.day = date[2]
        components.hour = time[0]; components.minute = time[1]; components.second = time[2]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard components.isValidDate(in: calendar), let instant = calendar.date(from: components) else { return nil }
        return Int64((instant.timeIntervalSince1970 * 1000).rounded())
    }
}
