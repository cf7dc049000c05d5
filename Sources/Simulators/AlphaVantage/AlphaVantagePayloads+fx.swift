import Essentials
import Foundation

/// CURRENCY_EXCHANGE_RATE in Alpha Vantage's documented shape:
/// `{"Realtime Currency Exchange Rate": {"1. From_Currency Code": "EUR", "2. From_Currency
/// Name": "Euro", "3. To_Currency Code": "USD", "4. To_Currency Name": "United States Dollar",
/// "5. Exchange Rate": "1.08450000", "6. Last Refreshed": "2024-02-29 14:55:01",
/// "7. Time Zone": "UTC", "8. Bid Price": "1.08448000", "9. Ask Price": "1.08452000"}}`
/// (eight decimals, the refresh time in UTC). An unknown currency code is the endpoint's
/// `Error Message` ("Invalid API call ... for CURRENCY_EXCHANGE_RATE.").
extension AlphaVantagePayloads {
    /// Physical currencies the simulator quotes: ISO code -> (Alpha Vantage's name, US dollars
    /// per unit). The levels match the IB Gateway simulator's pairs (EUR.USD 1.085, GBP.USD
    /// 1.27, USD.JPY 150), so a failover lands near where IB left off.
    static let currencies: [String: (name: String, usd: Double)] = [
        "USD": ("United States Dollar", 1),
        "EUR": ("Euro", 1.085),
        "GBP": ("British Pound Sterling", 1.27),
        "JPY": ("Japanese Yen", 1.0 / 150),
        "CHF": ("Swiss Franc", 1.13),
        "CAD": ("Canadian Dollar", 0.73),
        "AUD": ("Australian Dollar", 0.66),
    ]

    /// One pair's rate, bid and ask at one tick, or nil when a code is not a currency the
    /// simulator knows. The rate walks within 0.1 % of its level; the spread is 0.4 pips of
    /// EUR.USD's size, scaled to the rate.
    static func exchangeRate(seed: UInt64, from: String, to: String, tick: UInt64) -> (rate: Double, bid: Double, ask: Double)? {
        guard from != to, let f = currencies[from], let t = currencies[to] else { return nil }
        let level = f.usd / t.usd
        var walk = SplitMix64(seed: seed ^ StableHash.fnv1a(from + "/" + to) &+ tick &* SplitMix64.golden)
        let rate = level * (1 + (walk.unit() - 0.5) * 0.002)
        let half = rate * 0.00002
        let places = 5
        return (rate.avRounded(places: places), (rate - half).avRounded(places: places), (rate + half).avRounded(places: places))
    }

    static func exchangeRateBody(from: String, to: String, rate: Double, bid: Double, ask: Double, now: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: now)
        let refreshed = String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        let fromName = currencies[from]?.name ?? from
        let toName = currencies[to]?.name ?? to
        return "{\"Realtime Currency Exchange Rate\": {"
            + "\"1. From_Currency Code\": \(JSONString.quoted(from)), \"2. From_Currency Name\": \(JSONString.quoted(fromName)), "
            + "\"3. To_Currency Code\": \(JSONString.quoted(to)), \"4. To_Currency Name\": \(JSONString.quoted(toName)), "
            + "\"5. Exchange Rate\": \"\(f8(rate))\", \"6. Last Refreshed\": \"\(refreshed)\", \"7. Time Zone\": \"UTC\", "
            + "\"8. Bid Price\": \"\(f8(bid))\", \"9. Ask Price\": \"\(f8(ask))\"}}"
    }

    static func f8(_ v: Double) -> String { String(format: "%.8f", v) }
}
