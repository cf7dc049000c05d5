import Foundation
import MarketModel
import Testing
@testable import AlphaVantage

/// Payload samples in Alpha Vantage's real shapes (GLOBAL_QUOTE as captured in public client
/// code; REALTIME_* as documented field lists), decoded into the shared snapshots.
@Suite struct DecoderTests {
    static let globalQuote = """
        {
            "Global Quote": {
                "01. symbol": "AAPL",
                "02. open": "225.5400",
                "03. high": "226.1900",
                "04. low": "223.8900",
                "05. price": "225.9700",
                "06. volume": "9226278",
                "07. latest trading day": "2019-10-04",
                "08. previous close": "220.8200",
                "09. change": "5.1500",
                "10. change percent": "2.3322%"
            }
        }
        """

    static let delayedGlobalQuote = """
        {"Global Quote - DATA DELAYED BY 15 MINUTES": {"01. symbol": "NVDA", "02. open": "237.6500",
        "03. high": "239.0800", "04. low": "236.3800", "05. price": "237.0650", "06. volume": "-",
        "07. latest trading day": "2026-10-07", "08. previous close": "239.2400", "09. change": "None",
        "10. change percent": ""}}
        """

    static let bulk = """
        {"endpoint": "Realtime Bulk Quotes", "message": "", "data": [
          {"symbol": "MSFT", "timestamp": "2024-05-13 16:00:00.000", "open": "418.0100", "high": "418.3500",
           "low": "410.8200", "close": "413.7200", "volume": "15440207", "previous_close": "414.7400",
           "change": "-1.0200", "change_percent": "-0.2459", "extended_hours_quote": "413.9000",
           "extended_hours_change": "0.1800", "extended_hours_change_percent": "0.0435"},
          {"symbol": "IBM", "timestamp": "2024-05-13 15:59:59.512", "open": "167.5000", "high": "168.0600",
           "low": "166.7600", "close": "167.5600", "volume": "2599400", "previous_close": "167.1500",
           "change": "0.4100", "change_percent": "0.2453%", "extended_hours_quote": "",
           "extended_hours_change": "", "extended_hours_change_percent": ""},
          {"symbol": "NOTASKED", "timestamp": "2024-05-13 16:00:00.000", "close": "1.0000"},
          {"symbol": "ZZZZ", "timestamp": "", "open": "", "high": "", "low": "", "close": "", "previous_close": ""}
        ]}
        """

    static let options = """
        {"endpoint": "Realtime Options", "message": "success", "data": [
          {"contractID": "IBM270115C00390000", "symbol": "IBM", "expiration": "2027-01-15", "strike": "390.00",
           "type": "call", "last": "12.25", "mark": "12.40", "bid": "12.10", "bid_size": "25", "ask": "12.70",
           "ask_size": "31", "volume": "104", "open_interest": "2210", "date": "2026-11-25",
           "implied_volatility": "0.21646", "delta": "0.41203", "gamma": "0.00702", "theta": "-0.06512",
           "vega": "0.98051", "rho": "0.33710"},
          {"contractID": "IBM270115P00392500", "symbol": "IBM", "expiration": "2027-01-15", "strike": "392.50",
           "type": "put", "last": "0.00", "mark": "31.05", "bid": "30.80", "bid_size": "0", "ask": "31.30",
           "ask_size": "12", "volume": "0", "open_interest": "0", "date": "2026-11-25",
           "implied_volatility": "None", "delta": "-0.58011", "gamma": "0.00698", "theta": "-0.03901",
           "vega": "0.97720", "rho": "-0.51002"},
          {"contractID": "BROKEN", "symbol": "IBM", "expiration": "", "strike": "1", "type": "call"}
        ]}
        """

    @Test func globalQuoteMapsEveryField() throws {
        let q = try AlphaVantageDecoder.globalQuote(try AlphaVantageDecoder.jsonObject(bytes(Self.globalQuote)), symbol: "AAPL", dataType: .alphavantageEOD)
        var expected = QuoteSnapshot(symbol: "AAPL")
        expected.open = 225.54
        expected.high = 226.19
        expected.low = 223.89
        expected.last = 225.97
        expected.volume = 9_226_278
        expected.close = 220.82
        expected.change = 5.15
        expected.changePercent = 2.3322
        expected.dataType = .alphavantageEOD
        #expect(q == expected)
        let record = q.record(source: .alphavantage, updatedMs: 1_700_000_000_000)
        #expect(record.value("change_percent") == "2.3322")
        #expect(record.value("last") == "225.97")
        #expect(record.value("data_type") == "alphavantage_eod")
    }

    @Test func delayedKeyAndAbsentSpellings() throws {
        let q = try AlphaVantageDecoder.globalQuote(try AlphaVantageDecoder.jsonObject(bytes(Self.delayedGlobalQuote)), symbol: "NVDA", dataType: .alphavantageDelayed)
        #expect(q.last == 237.065)
        #expect(q.close == 239.24)
        #expect(q.volume == nil)
        #expect(q.change == nil)
        #expect(q.changePercent == nil)
        #expect(q.dataType == .alphavantageDelayed)
        // Absent stays absent in the record: never "", never -1.
        let record = q.record(source: .alphavantage, updatedMs: 1)
        #expect(record.value("volume") == nil)
        #expect(record.value("change") == "-2.175")  // derived from last and close
    }

    @Test func emptyGlobalQuoteIsEmptyResult() throws {
        let object = try AlphaVantageDecoder.jsonObject(bytes(#"{"Global Quote": {}}"#))
        #expect(throws: AlphaVantageError.emptyResult) {
            try AlphaVantageDecoder.globalQuote(object, symbol: "NOPE", dataType: .alphavantageEOD)
        }
    }

    /// Regression (fuzz/alphavantage, crash-da3436ce): a GLOBAL_QUOTE answer for AAPL whose
    /// "01. symbol" names another instrument was decoded as that instrument's quote.
    @Test func globalQuoteForAnotherSymbolIsMalformed() throws {
        let body = Self.globalQuote.replacingOccurrences(of: "\"01. symbol\": \"AAPL\"", with: "\"01. symbol\": \"AA4444PL\"")
        let object = try AlphaVantageDecoder.jsonObject(bytes(body))
        #expect(throws: AlphaVantageError.malformed("the answer is for \"AA4444PL\", not \"AAPL\"")) {
            try AlphaVantageDecoder.globalQuote(object, symbol: "AAPL", dataType: .alphavantageEOD)
        }
        // The same instrument spelled in another case is the same instrument.
        let lower = try AlphaVantageDecoder.jsonObject(bytes(Self.globalQuote.replacingOccurrences(of: "\"AAPL\"", with: "\" aapl\"")))
        #expect(try AlphaVantageDecoder.globalQuote(lower, symbol: "AAPL", dataType: .alphavantageEOD).symbol == "AAPL")
    }

    @Test func globalQuoteWithoutItsObjectIsMalformed() throws {
        let object = try AlphaVantageDecoder.jsonObject(bytes(#"{"Meta Data": {}}"#))
        #expect(throws: AlphaVantageError.malformed("no \"Global Quote\" object")) {
            try AlphaVantageDecoder.globalQuote(object, symbol: "IBM", dataType: .alphavantageEOD)
        }
    }

    @Test func bulkQuotesKeepAskedSymbolsWithPrices() throws {
        let object = try AlphaVantageDecoder.jsonObject(bytes(Self.bulk))
        let quotes = try AlphaVantageDecoder.bulkQuotes(object, symbols: ["MSFT", "ibm", "ZZZZ"], dataType: .alphavantageRealtime)
        #expect(quotes.map(\.symbol) == ["MSFT", "IBM"])
        let msft = quotes[0]
        #expect(msft.last == 413.72)
        #expect(msft.close == 414.74)
        #expect(msft.open == 418.01)
        #expect(msft.change == -1.02)
        #expect(msft.changePercent == -0.2459)
        #expect(msft.volume == 15_440_207)
        // 2024-05-13 16:00 EDT = 20:00 UTC.
        #expect(msft.lastTradeMs == 1_715_630_400_000)
        #expect(quotes[1].lastTradeMs == 1_715_630_399_512)
        #expect(quotes[1].changePercent == 0.2453)
        #expect(msft.dataType == .alphavantageRealtime)
    }

    @Test func bulkWithNothingUsableIsEmptyResult() throws {
        let object = try AlphaVantageDecoder.jsonObject(bytes(#"{"endpoint": "Realtime Bulk Quotes", "message": "", "data": []}"#))
        #expect(throws: AlphaVantageError.emptyResult) {
            try AlphaVantageDecoder.bulkQuotes(object, symbols: ["IBM"], dataType: .alphavantageRealtime)
        }
    }

    @Test func optionsWithGreeks() throws {
        let object = try AlphaVantageDecoder.jsonObject(bytes(Self.options))
        let chain = try AlphaVantageDecoder.options(object, symbol: "IBM", dataType: .alphavantageRealtime)
        #expect(chain.count == 2)  // the row without an expiration is skipped
        let call = chain[0]
        #expect(call.key == "option:IBM:20270115:390:C")
        #expect(call.bid == 12.1)
        #expect(call.ask == 12.7)
        #expect(call.bidSize == 25)
        #expect(call.askSize == 31)
        #expect(call.last == 12.25)
        #expect(call.volume == 104)
        #expect(call.openInterest == 2210)
        #expect(call.impliedVol == 0.21646)
        #expect(call.delta == 0.41203)
        #expect(call.gamma == 0.00702)
        #expect(call.theta == -0.06512)
        #expect(call.vega == 0.98051)
        #expect(call.conId == nil)
        let put = chain[1]
        #expect(put.key == "option:IBM:20270115:392.5:P")
        #expect(put.impliedVol == nil)
        #expect(put.delta == -0.58011)
        let record = put.record(source: .alphavantage, updatedMs: 5)
        #expect(record.value("iv") == nil)
        #expect(record.value("data_type") == "alphavantage_realtime")
    }

    @Test func optionsWithOnlyBrokenRowsAreMalformed() throws {
        let object = try AlphaVantageDecoder.jsonObject(bytes(#"{"message": "success", "data": [{"strike": "x"}]}"#))
        #expect(throws: AlphaVantageError.malformed("no option row with expiration, strike and type among 1")) {
            try AlphaVantageDecoder.options(object, symbol: "IBM", dataType: .alphavantageRealtime)
        }
        let empty = try AlphaVantageDecoder.jsonObject(bytes(#"{"message": "success", "data": []}"#))
        #expect(throws: AlphaVantageError.emptyResult) {
            try AlphaVantageDecoder.options(empty, symbol: "IBM", dataType: .alphavantageRealtime)
        }
    }

    @Test(arguments: [
        ("225.5400", 225.54), ("2.3322%", 2.3322), ("-0.2459", -0.2459), (" 12 ", 12.0),
    ])
    func numbersFromStrings(text: String, value: Double) {
        #expect(AlphaVantageDecoder.number(text) == value)
    }

    @Test(arguments: ["None", "-", "", "N/A", "null", "%", "abc", "inf", "nan"])
    func unknownSpellingsAreAbsent(text: String) {
        #expect(AlphaVantageDecoder.number(text) == nil)
    }

    @Test func truncatedAndNonObjectJSONAreMalformed() {
        let full = Array(Self.globalQuote.utf8)
        #expect(throws: AlphaVantageError.malformed("not valid JSON (\(full.count / 2) bytes)")) {
            try AlphaVantageDecoder.jsonObject(Array(full.prefix(full.count / 2)))
        }
        #expect(throws: AlphaVantageError.malformed("top level is not a JSON object")) {
            try AlphaVantageDecoder.jsonObject(bytes("[1,2]"))
        }
        #expect(throws: AlphaVantageError.malformed("empty body")) {
            try AlphaVantageDecoder.jsonObject([])
        }
    }

    @Test func compactDates() {
        #expect(AlphaVantageDecoder.compactDate("2024-06-14") == "20240614")
        #expect(AlphaVantageDecoder.compactDate("2099-99-99") == nil)
        #expect(AlphaVantageDecoder.compactDate("20240614") == nil)
    }
}
