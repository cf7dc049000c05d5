import Essentials
import Foundation

/// Alpha Vantage's JSON bodies, byte-for-byte in the documented shapes, with deterministic
/// prices: the same seed, symbol and tick number always give the same numbers.
enum AlphaVantagePayloads {
    // MARK: Notices (texts as the live API sends them; see AlphaVantageDecoder+errors)

    static let throttleNote = #"{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency."}"#
    static let throttleBurst = #"{"Information": "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly (1 request per second). You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day), raise the per-second burst limit, and instantly unlock all premium endpoints"}"#
    static let premiumInformation = #"{"Information": "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints"}"#
    static let missingKey = #"{"Error Message": "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."}"#

    static func dailyLimit(key: String) -> String {
        #"{"Information": "# + JSONString.quoted("We have detected your API key as " + key + " and our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.") + "}"
    }

    static func invalidCall(function: String) -> String {
        #"{"Error Message": "# + JSONString.quoted("Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for " + function + ".") + "}"
    }

    static func unknownFunction(_ function: String) -> String {
        #"{"Error Message": "# + JSONString.quoted("This API function (" + function + ") does not exist.") + "}"
    }

    /// REALTIME_OPTIONS without the plan: a premium message and artificial sample rows.
    static let premiumOptions = #"""
    {"endpoint": "Realtime Options", "message": "This is a premium endpoint. ***THE SAMPLE DATA SCHEMA BELOW IS ARTIFICIAL AND FOR ILLUSTRATION PURPOSES ONLY***. To access the actual data, please subscribe to either the 600 requests per minute or the 1200 requests per minute premium plan at https://www.alphavantage.co/premium/ if you would like to access realtime US options data for personal non-professional use.", "data": [{"contractID": "XXYYZZ999999C00020000", "symbol": "XXYYZZ", "expiration": "2099-99-99", "strike": "20.00", "type": "call", "last": "100.00", "mark": "100.00", "bid": "99.00", "bid_size": "10", "ask": "101.00", "ask_size": "10", "volume": "100", "open_interest": "1000", "date": "2099-99-99"}]}
    """#

    // MARK: Data

    /// One symbol's prices at one tick.
    struct Quote {
        var open, high, low, price, previousClose: Double
        var volume: Int
        var change: Double { price - previousClose }
        var changePercent: Double { change / previousClose * 100 }
    }

    static func quote(seed: UInt64, symbol: String, tick: UInt64) -> Quote {
        var base = SplitMix64(seed: seed ^ StableHash.fnv1a(symbol))
        // The IB Gateway simulator's level for the same seed, within a percent.
        let level = InstrumentCatalog.basePrice(symbol: symbol, seed: seed)
        let previousClose = (level * (1 + (base.unit() - 0.5) * 0.02)).avRounded(places: 2)
        let open = (previousClose * (1 + (base.unit() - 0.5) * 0.02)).avRounded(places: 2)
        var walk = SplitMix64(seed: seed ^ StableHash.fnv1a(symbol) &+ tick &* SplitMix64.golden)
        let price = (open * (1 + (walk.unit() - 0.5) * 0.03)).avRounded(places: 2)
        let high = (max(open, price) * (1 + walk.unit() * 0.005)).avRounded(places: 2)
        let low = (min(open, price) * (1 - walk.unit() * 0.005)).avRounded(places: 2)
        let volume = 1_000_000 + Int(walk.unit() * 9_000_000) + Int(tick) * 1_000
        return Quote(open: open, high: high, low: low, price: price, previousClose: previousClose, volume: volume)
    }

    static func globalQuote(symbol: String, quote q: Quote, delayed: Bool, now: Date) -> String {
        let key = delayed ? "Global Quote - DATA DELAYED BY 15 MINUTES" : "Global Quote"
        return "{\"\(key)\": {"
            + "\"01. symbol\": \(JSONString.quoted(symbol)), \"02. open\": \"\(f4(q.open))\", \"03. high\": \"\(f4(q.high))\", "
            + "\"04. low\": \"\(f4(q.low))\", \"05. price\": \"\(f4(q.price))\", \"06. volume\": \"\(q.volume)\", "
            + "\"07. latest trading day\": \"\(day(now))\", \"08. previous close\": \"\(f4(q.previousClose))\", "
            + "\"09. change\": \"\(f4(q.change))\", \"10. change percent\": \"\(f4(q.changePercent))%\"}}"
    }

    static func bulkQuotes(_ quotes: [(String, Quote)], now: Date) -> String {
        let stamp = eastern(now)
        let rows = quotes.map { symbol, q in
            "{\"symbol\": \(JSONString.quoted(symbol)), \"timestamp\": \"\(stamp)\", \"open\": \"\(f4(q.open))\", "
                + "\"high\": \"\(f4(q.high))\", \"low\": \"\(f4(q.low))\", \"close\": \"\(f4(q.price))\", "
                + "\"volume\": \"\(q.volume)\", \"previous_close\": \"\(f4(q.previousClose))\", "
                + "\"change\": \"\(f4(q.change))\", \"change_percent\": \"\(f4(q.changePercent))\", "
                + "\"extended_hours_quote\": \"\", \"extended_hours_change\": \"\", \"extended_hours_change_percent\": \"\"}"
        }
        return "{\"endpoint\": \"Realtime Bulk Quotes\", \"message\": \"\", \"data\": [" + rows.joined(separator: ", ") + "]}"
    }

    // MARK: Helpers

    static func f4(_ v: Double) -> String { String(format: "%.4f", v) }

    static func day(_ date: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// `2024-05-13 16:00:00.000` on the exchange's clock, as REALTIME_BULK_QUOTES stamps it.
    static func eastern(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/New_York") ?? TimeZone(secondsFromGMT: 0)!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, c.nanosecond! / 1_000_000)
    }
}

extension Double {
    /// Prefixed: the Simulators module is shared with the IB Gateway simulator.
    func avRounded(places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}

extension AlphaVantagePayloads {
    static let utcCalendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(secondsFromGMT: 0)!
        return c
    }()
}
