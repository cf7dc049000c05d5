// libFuzzer entry point over the Alpha Vantage decoding path: the HTTP body as the server
// sent it, through `AlphaVantageDecoder.jsonObject` into each endpoint's decoder
// (GLOBAL_QUOTE, REALTIME_BULK_QUOTES, REALTIME_OPTIONS, CURRENCY_EXCHANGE_RATE), then into the Redis record each
// decoded snapshot would become.
//
// Thrown `AlphaVantageError`s are the expected answer to a hostile body. What must hold for
// anything that decodes (a failed check aborts, which libFuzzer reports as a crash):
// - a quote is for a symbol that was asked for (never another instrument's key);
// - an FX quote is for the pair asked for, with positive values and bid <= ask;
// - an option belongs to the underlying asked for, with a real date, a positive strike and a
//   right, and lands on that underlying's option key;
// - every number written is plain decimal text (no exponent, NaN, infinity or IB sentinel).

import Foundation
import MarketModel

private let asked = ["AAPL", "BRK.B", "MSFT"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    // The classifier sees every notice text, parsed or not.
    _ = AlphaVantageDecoder.classifyNotice(String(decoding: body, as: UTF8.self))
    guard let object = try? AlphaVantageDecoder.jsonObject(body) else { return 0 }
    _ = AlphaVantageDecoder.classify(object)

    if let quote = try? AlphaVantageDecoder.globalQuote(object, symbol: "AAPL", dataType: .alphavantageRealtime) {
        precondition(quote.symbol == "AAPL", "GLOBAL_QUOTE for AAPL decoded as \(quote.symbol)")
        checkRecord(quote.record(source: .alphavantage, updatedMs: 1_700_000_000_000), key: Keys.quote("AAPL"))
    }
    if let quotes = try? AlphaVantageDecoder.bulkQuotes(object, symbols: asked, dataType: .alphavantageRealtime) {
        precondition(!quotes.isEmpty, "bulk quotes decoded to an empty list without an error")
        for quote in quotes {
            precondition(asked.contains(quote.symbol), "bulk quote for \(quote.symbol), not asked for")
            checkRecord(quote.record(source: .alphavantage, updatedMs: 1_700_000_000_000), key: Keys.quote(quote.symbol))
        }
    }
    if let fx = try? AlphaVantageDecoder.exchangeRate(object, from: "EUR", to: "USD", dataType: .alphavantageRealtime) {
        precondition(fx.symbol == "EUR/USD", "CURRENCY_EXCHANGE_RATE for EUR/USD decoded as \(fx.symbol)")
        precondition([fx.bid, fx.ask, fx.last].allSatisfy { $0.map { $0 > 0 && $0.isFinite } ?? true }, "FX values \(fx)")
        if let bid = fx.bid, let ask = fx.ask { precondition(bid <= ask, "crossed FX quote \(bid) > \(ask)") }
        checkRecord(fx.record(source: .alphavantage, updatedMs: 1_700_000_000_000), key: Keys.quote("EUR/USD"))
    }
    if let options = try? AlphaVantageDecoder.options(object, symbol: "SPY", dataType: .alphavantageRealtime) {
        for option in options {
            precondition(option.symbol == "SPY", "option of \(option.symbol) in SPY's chain")
            precondition(option.expiry.count == 8 && option.expiry.allSatisfy(\.isASCIIDigit), "expiry \(option.expiry)")
            precondition(option.strike.isFinite && option.strike > 0, "strike \(option.strike)")
            let record = option.record(source: .alphavantage, updatedMs: 1_700_000_000_000)
            checkRecord(record, key: Keys.option("SPY", expiry: option.expiry, strike: option.strike, right: option.right))
        }
    }
    return 0
}

private func checkRecord(_ record: Record, key: String) {
    precondition(record.key == key, "record key \(record.key), expected \(key)")
    for field in record.fields where field.isNumber {
        precondition(isPlainDecimal(field.value), "field \(field.name) = \(field.value) is not plain decimal")
    }
}

/// `-?digits(.digits)?`: what CONTRACT §3 allows for a number.
private func isPlainDecimal(_ text: String) -> Bool {
    var s = Substring(text)
    if s.hasPrefix("-") { s = s.dropFirst() }
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count) else { return false }
    return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
