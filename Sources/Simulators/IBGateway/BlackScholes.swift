import Foundation

/// Black-Scholes-Merton values for European options, in IB's units: vega per volatility
/// point (1%), theta per calendar day. IB computes American-style greeks with its own
/// model; the simulator only needs values that are internally consistent and realistic.
struct BlackScholes: Sendable, Hashable {
    enum Right: Sendable, Hashable { case call, put }

    var right: Right
    var spot: Double
    var strike: Double
    /// Years to expiry (calendar days / 365).
    var years: Double
    var rate: Double
    var dividendYield: Double = 0

    struct Values: Sendable, Hashable {
        var price: Double
        var delta: Double
        var gamma: Double
        /// Per 1 volatility point.
        var vega: Double
        /// Per calendar day.
        var theta: Double
    }

    func values(volatility sigma: Double) -> Values {
        let t = max(years, 1e-6)
        let sqrtT = t.squareRoot()
        let d1 = (log(spot / strike) + (rate - dividendYield + sigma * sigma / 2) * t) / (sigma * sqrtT)
        let d2 = d1 - sigma * sqrtT
        let discR = exp(-rate * t), discQ = exp(-dividendYield * t)
        let pdf = Self.pdf(d1)
        let gamma = discQ * pdf / (spot * sigma * sqrtT)
        let vega = spot * discQ * pdf * sqrtT / 100
        switch right {
        case .call:
            let price = spot * discQ * Self.cdf(d1) - strike * discR * Self.cdf(d2)
            let theta = (-spot * discQ * pdf * sigma / (2 * sqrtT) - rate * strike * discR * Self.cdf(d2)
                + dividendYield * spot * discQ * Self.cdf(d1)) / 365
            return Values(price: price, delta: discQ * Self.cdf(d1), gamma: gamma, vega: vega, theta: theta)
        case .put:
            let price = strike * discR * Self.cdf(-d2) - spot * discQ * Self.cdf(-d1)
            let theta = (-spot * discQ * pdf * sigma / (2 * sqrtT) + rate * strike * discR * Self.cdf(-d2)
                - dividendYield * spot * discQ * Self.cdf(-d1)) / 365
            return Values(price: price, delta: discQ * (Self.cdf(d1) - 1), gamma: gamma, vega: vega, theta: theta)
        }
    }

    /// The volatility whose price equals `price`, by bisection (monotone in sigma, so it
    /// always converges); nil when the price is outside what any volatility in 0.1%..500%
    /// can produce, which IB reports as "not computed".
    func impliedVolatility(price: Double) -> Double? {
        var low = 0.001, high = 5.0
        guard price.isFinite, price > values(volatility: low).price, price < values(volatility: high).price else {
            return nil
        }
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if values(volatility: mid).price < price { low = mid } else { high = mid }
            if high - low < 1e-9 { break }
        }
        return (low + high) / 2
    }

    static func pdf(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
    static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.squareRoot()) }
}
