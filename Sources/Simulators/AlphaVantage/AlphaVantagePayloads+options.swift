import Essentials
import Foundation

extension AlphaVantagePayloads {
    /// REALTIME_OPTIONS: the next three Friday expirations, 21 strikes around the money,
    /// calls and puts, priced with Black-Scholes so greeks and prices agree. Sorted as the
    /// documentation says: by expiration, then strike from low to high.
    static func options(symbol: String, seed: UInt64, underlying: Double, now: Date, greeks: Bool) -> String {
        let step: Double = underlying < 50 ? 1 : underlying < 200 ? 2.5 : 5
        let atm = (underlying / step).rounded() * step
        let strikes = (-10...10).map { atm + Double($0) * step }.filter { $0 > 0 }
        var random = SplitMix64(seed: seed ^ StableHash.fnv1a(symbol) ^ 0x0517)
        let baseVol = 0.18 + random.unit() * 0.15
        let today = day(now)
        var rows: [String] = []
        for expiry in fridays(after: now, count: 3) {
            let days = max(1, expiry.timeIntervalSince(now) / 86_400)
            let t = days / 365
            let expiryText = day(expiry)
            let compact = expiryText.replacingOccurrences(of: "-", with: "").dropFirst(2)
            for strike in strikes {
                for isCall in [true, false] {
                    let vol = baseVol + 0.1 * abs(log(strike / underlying))
                    let g = AlphaVantageBlackScholes(spot: underlying, strike: strike, years: t, rate: 0.045, vol: vol, isCall: isCall)
                    let mark = max(0.01, g.price.avRounded(places: 2))
                    let half = max(0.01, (mark * 0.01).avRounded(places: 2))
                    let oi = 100 + Int(random.unit() * 20_000)
                    var row = "{\"contractID\": \"\(symbol)\(compact)\(isCall ? "C" : "P")\(String(format: "%08d", Int((strike * 1000).rounded())))\", "
                        + "\"symbol\": \(JSONString.quoted(symbol)), \"expiration\": \"\(expiryText)\", \"strike\": \"\(String(format: "%.2f", strike))\", "
                        + "\"type\": \"\(isCall ? "call" : "put")\", \"last\": \"\(String(format: "%.2f", mark))\", \"mark\": \"\(String(format: "%.2f", mark))\", "
                        + "\"bid\": \"\(String(format: "%.2f", max(0, mark - half)))\", \"bid_size\": \"\(1 + Int(random.unit() * 200))\", "
                        + "\"ask\": \"\(String(format: "%.2f", mark + half))\", \"ask_size\": \"\(1 + Int(random.unit() * 200))\", "
                        + "\"volume\": \"\(Int(random.unit() * 5_000))\", \"open_interest\": \"\(oi)\", \"date\": \"\(today)\""
                    if greeks {
                        row += ", \"implied_volatility\": \"\(f5(vol))\", \"delta\": \"\(f5(g.delta))\", "
                            + "\"gamma\": \"\(f5(g.gamma))\", \"theta\": \"\(f5(g.thetaPerDay))\", "
                            + "\"vega\": \"\(f5(g.vegaPerPoint))\", \"rho\": \"\(f5(g.rhoPerPoint))\""
                    }
                    rows.append(row + "}")
                }
            }
        }
        return "{\"endpoint\": \"Realtime Options\", \"message\": \"success\", \"data\": [" + rows.joined(separator: ", ") + "]}"
    }

    /// Five decimals, never "-0.00000".
    static func f5(_ v: Double) -> String { String(format: "%.5f", abs(v) < 0.000005 ? 0 : v) }

    /// The next `count` Fridays strictly after `date` (UTC), at 20:00 UTC (about the close).
    static func fridays(after date: Date, count: Int) -> [Date] {
        var out: [Date] = []
        var day = utcCalendar.startOfDay(for: date)
        while out.count < count {
            day = utcCalendar.date(byAdding: .day, value: 1, to: day)!
            if utcCalendar.component(.weekday, from: day) == 6 {
                out.append(day.addingTimeInterval(20 * 3600))
            }
        }
        return out
    }
}

/// European option value and greeks, in the units IB and Alpha Vantage publish: theta per
/// calendar day, vega and rho per volatility / rate point.
struct AlphaVantageBlackScholes {
    let price, delta, gamma, thetaPerDay, vegaPerPoint, rhoPerPoint: Double

    init(spot s: Double, strike k: Double, years t: Double, rate r: Double, vol v: Double, isCall: Bool) {
        let sqrtT = t.squareRoot()
        let d1 = (log(s / k) + (r + v * v / 2) * t) / (v * sqrtT)
        let d2 = d1 - v * sqrtT
        let pdf = exp(-d1 * d1 / 2) / (2 * Double.pi).squareRoot()
        let discount = exp(-r * t)
        func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
        gamma = pdf / (s * v * sqrtT)
        vegaPerPoint = s * pdf * sqrtT / 100
        if isCall {
            price = s * cdf(d1) - k * discount * cdf(d2)
            delta = cdf(d1)
            thetaPerDay = (-s * pdf * v / (2 * sqrtT) - r * k * discount * cdf(d2)) / 365
            rhoPerPoint = k * t * discount * cdf(d2) / 100
        } else {
            price = k * discount * cdf(-d2) - s * cdf(-d1)
            delta = cdf(d1) - 1
            thetaPerDay = (-s * pdf * v / (2 * sqrtT) + r * k * discount * cdf(-d2)) / 365
            rhoPerPoint = -k * t * discount * cdf(-d2) / 100
        }
    }
}
