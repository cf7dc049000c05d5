import Essentials
import Foundation
import TWSProtocol

extension MarketSimulator {
    /// The model of one option against the current underlying price: years to expiry count
    /// calendar days from the simulator's "today" (half a day on expiry day), so greeks do
    /// not depend on the wall clock and stay reproducible.
    func model(_ option: OptionListing, underlying: Double) -> BlackScholes {
        let days = Double(option.expiry.dayNumber - catalog.today.dayNumber) + 0.5
        return BlackScholes(
            right: option.right, spot: underlying, strike: option.strike, years: max(days, 0.5) / 365,
            rate: riskFreeRate)
    }

    /// A volatility smile: higher for low strikes (put skew) and away from the money.
    func smile(_ option: OptionListing, underlying: Double) -> Double {
        let atm = catalog.underlying(of: option)?.volatility ?? 0.3
        let m = log(option.strike / underlying)
        return min(3, max(0.05, atm * (1 - 0.6 * m + 2.0 * m * m)))
    }

    mutating func optionState(_ option: OptionListing, nowMs: Int64) -> OptionState {
        if let state = options[option.conId] { return state }
        guard let stock = catalog.underlying(of: option) else {
            preconditionFailure("option \(option.localSymbol) without underlying in the catalog")
        }
        _ = stockState(stock, nowMs: nowMs)
        let underlying = midPrice(of: stock.conId) ?? stock.basePrice
        var state = OptionState(
            random: SplitMix64(seed: seed, salt: UInt64(bitPattern: option.conId)),
            volatility: smile(option, underlying: underlying), bidSize: 0, askSize: 0, lastSize: 0, volume: 0,
            underlyingPrice: underlying)
        state.volume = Double(state.random.int(in: 0...5_000))
        state.openInterest = Double(state.random.int(in: 100...50_000))
        requote(&state, option, trade: true, nowMs: nowMs)
        state.closeCents = state.lastCents
        options[option.conId] = state
        return state
    }

    /// One market event of an option: follow the underlying, jitter the volatility, requote.
    mutating func step(option: OptionListing, nowMs: Int64) {
        var s = optionState(option, nowMs: nowMs)
        s.underlyingPrice = midPrice(of: option.underConId) ?? s.underlyingPrice
        let target = smile(option, underlying: s.underlyingPrice)
        s.volatility = min(3, max(0.05, s.volatility + 0.1 * (target - s.volatility) + 0.002 * s.random.normal()))
        requote(&s, option, trade: s.random.unit() < 0.2, nowMs: nowMs)
        options[option.conId] = s
    }

    private func requote(_ s: inout OptionState, _ option: OptionListing, trade: Bool, nowMs: Int64) {
        let theo = model(option, underlying: s.underlyingPrice).values(volatility: s.volatility).price
        let theoCents = theo * 100
        if theoCents < 0.5 {
            s.bidCents = nil
            s.askCents = 1
        } else {
            let spread = max(1, Int((theoCents * 0.04).rounded()))
            let bid = max(1, Int((theoCents - Double(spread) / 2).rounded(.down)))
            s.bidCents = bid
            s.askCents = bid + spread
        }
        if s.random.unit() < 0.5 || s.bidSize == 0 { s.bidSize = Double(s.random.int(in: 1...50)) }
        if s.random.unit() < 0.5 || s.askSize == 0 { s.askSize = Double(s.random.int(in: 1...50)) }
        if trade, let ask = s.askCents {
            s.lastCents = s.random.unit() < 0.5 ? (s.bidCents ?? ask) : ask
            s.lastSize = Double(s.random.int(in: 1...20))
            s.volume += s.lastSize
            s.lastTradeSeconds = nowMs / 1000
        }
    }

    /// Every tick type an option subscription carries: the quote, then the four option
    /// computations (bid, ask, last, model) with greeks at each price's implied volatility.
    func ticks(option: OptionListing) -> [(tickType: Int32, value: TickValue)] {
        guard let s = options[option.conId] else { return [] }
        let bs = model(option, underlying: s.underlyingPrice)
        var result: [(Int32, TickValue)] = [
            (1, .price(optionalCents(s.bidCents))), (0, .size(s.bidCents == nil ? 0 : s.bidSize)),
            (2, .price(optionalCents(s.askCents))), (3, .size(s.askSize)),
        ]
        if let last = s.lastCents {
            result += [(4, .price(optionalCents(last))), (5, .size(s.lastSize))]
        }
        result.append((8, .size(s.volume)))
        // Generic tick 101: IB reports a call's open interest as tick 27 and a put's as 28.
        result.append((option.right == .call ? 27 : 28, .size(s.openInterest)))
        if let close = s.closeCents { result.append((9, .price(optionalCents(close)))) }
        if let time = s.lastTradeSeconds { result.append((45, .string(String(time)))) }
        let und = s.underlyingPrice
        result.append((10, .optionComputation(computation(bs, tickType: 10, price: optionalCents(s.bidCents), und: und))))
        result.append((11, .optionComputation(computation(bs, tickType: 11, price: optionalCents(s.askCents), und: und))))
        if let last = s.lastCents {
            result.append((12, .optionComputation(computation(bs, tickType: 12, price: optionalCents(last), und: und))))
        }
        let model = bs.values(volatility: s.volatility)
        result.append((13, .optionComputation(OptionComputation(
            reqId: 0, tickType: 13, tickAttrib: 0, impliedVol: s.volatility, delta: model.delta, optPrice: model.price,
            pvDividend: 0, gamma: model.gamma, vega: model.vega, theta: model.theta, undPrice: und))))
        return result
    }

    private func computation(_ bs: BlackScholes, tickType: Int32, price: Double?, und: Double) -> OptionComputation {
        guard let price, let iv = bs.impliedVolatility(price: price) else {
            // IB's "not computed": the price (if any) and the underlying are still reported.
            return OptionComputation(reqId: 0, tickType: tickType, tickAttrib: 0, optPrice: price, undPrice: und)
        }
        let v = bs.values(volatility: iv)
        return OptionComputation(
            reqId: 0, tickType: tickType, tickAttrib: 0, impliedVol: iv, delta: v.delta, optPrice: price, pvDividend: 0,
            gamma: v.gamma, vega: v.vega, theta: v.theta, undPrice: und)
    }
}
