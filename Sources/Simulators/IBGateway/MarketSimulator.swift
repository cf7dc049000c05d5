import Essentials
import TWSProtocol

/// A value the simulator has for one tick type of one instrument. Prices are nil when a
/// side has no quote (sent as IB's -1 with size 0).
public enum TickValue: Sendable, Hashable {
    case price(Double?)
    case size(Double)
    case string(String)
    /// TICK_GENERIC (45 msg id 45): e.g. tick 49 "halted" (0 trading, 1 halted, 2 volatility halt).
    case generic(Double)
    /// An option computation; its `reqId` is 0 here and set per subscription when sent.
    case optionComputation(OptionComputation)
}

/// The current market of every instrument that has been asked for, and its seeded walk.
///
/// Underlying prices live in integer multiples of the listing's minTick (cents for stocks and
/// indexes, 0.25 for ES, 0.00005 for EUR.USD; the `...Cents` fields hold those units) so that
/// a long walk never drifts off the tick grid.
/// Each instrument owns a generator derived from (seed, conId): its sequence of states is a
/// function of the seed and of how many times it stepped, nothing else.
struct MarketSimulator: Sendable {
    struct StockState: Sendable {
        var random: SplitMix64
        var midCents: Int
        var bidCents: Int, askCents: Int
        var bidSize: Double, askSize: Double
        var lastCents: Int, lastSize: Double
        var volume: Double
        var openCents: Int, highCents: Int, lowCents: Int, closeCents: Int
        var lastTradeSeconds: Int64
        /// Across the underlying's options: open interest and today's volume per right
        /// (generic ticks 101 and 100).
        var callOpenInterest: Double = 0, putOpenInterest: Double = 0
        var callVolume: Double = 0, putVolume: Double = 0
    }

    struct OptionState: Sendable {
        var random: SplitMix64
        /// Model volatility; jitters a little on every step.
        var volatility: Double
        var bidCents: Int? = nil, askCents: Int? = nil
        var bidSize: Double, askSize: Double
        var lastCents: Int? = nil, lastSize: Double
        var volume: Double
        /// Contracts open; IB reports it once a day, so it never changes within a run.
        var openInterest: Double = 0
        var closeCents: Int? = nil
        var lastTradeSeconds: Int64? = nil
        var underlyingPrice: Double
    }

    let seed: UInt64
    let catalog: InstrumentCatalog
    let riskFreeRate: Double
    var stocks: [Int64: StockState] = [:]
    var options: [Int64: OptionState] = [:]

    init(seed: UInt64, catalog: InstrumentCatalog, riskFreeRate: Double) {
        self.seed = seed
        self.catalog = catalog
        self.riskFreeRate = riskFreeRate
    }

    // MARK: Stocks

    mutating func stockState(_ stock: StockListing, nowMs: Int64) -> StockState {
        if let state = stocks[stock.conId] { return state }
        var random = SplitMix64(seed: seed, salt: UInt64(bitPattern: stock.conId))
        let mid = Int((stock.basePrice / stock.tick).rounded())
        let spread = max(1, mid / 10_000)
        let close = mid - mid * random.int(in: -150...150) / 10_000
        let open = close + close * random.int(in: -50...50) / 10_000
        let state = StockState(
            random: random, midCents: mid, bidCents: mid - spread / 2 - spread % 2, askCents: mid + spread / 2,
            bidSize: Self.lot(stock) * Double(random.int(in: 1...10)), askSize: Self.lot(stock) * Double(random.int(in: 1...10)),
            lastCents: mid, lastSize: Self.lot(stock), volume: Self.lot(stock) * Double(random.int(in: 10_000...90_000)),
            openCents: open, highCents: max(open, mid, close) + mid / 500, lowCents: min(open, mid, close) - mid / 500,
            closeCents: close, lastTradeSeconds: nowMs / 1000)
        // A generator of its own, so the price walk stays what it was for a seed.
        var statistics = SplitMix64(seed: seed, salt: UInt64(bitPattern: stock.conId) ^ 0x5151_0101)
        var withOptions = state
        withOptions.callOpenInterest = Double(statistics.int(in: 100_000...2_000_000))
        withOptions.putOpenInterest = Double(statistics.int(in: 100_000...2_000_000))
        withOptions.callVolume = Double(statistics.int(in: 1_000...200_000))
        withOptions.putVolume = Double(statistics.int(in: 1_000...200_000))
        stocks[stock.conId] = withOptions
        return withOptions
    }

    /// One market event: the quote may move, sizes may change, a trade may print.
    mutating func step(stock: StockListing, nowMs: Int64) {
        var s = stockState(stock, nowMs: nowMs)
        if s.random.unit() < 0.5 {
            let move = Int((s.random.normal() * Double(s.midCents) * 0.0004).rounded())
            s.midCents = max(50, s.midCents + move)
            let spread = max(1, s.midCents / 10_000) + (s.random.unit() < 0.3 ? 1 : 0)
            s.bidCents = s.midCents - (spread + 1) / 2
            s.askCents = s.bidCents + spread
        }
        if s.random.unit() < 0.4 { s.bidSize = Self.lot(stock) * Double(s.random.int(in: 1...10)) }
        if s.random.unit() < 0.4 { s.askSize = Self.lot(stock) * Double(s.random.int(in: 1...10)) }
        if s.random.unit() < 0.6 {
            s.lastCents = s.random.unit() < 0.5 ? s.bidCents : s.askCents
            s.lastSize = s.random.unit() < 0.2 && stock.secType == "STK"
                ? Double(s.random.int(in: 1...99)) : Self.lot(stock) * Double(s.random.int(in: 1...5))
            s.volume += s.lastSize
            s.highCents = max(s.highCents, s.lastCents)
            s.lowCents = min(s.lowCents, s.lastCents)
            s.lastTradeSeconds = nowMs / 1000
        }
        // Option volume grows with the underlying's trading (no extra draws: same walk per seed).
        if s.lastTradeSeconds == nowMs / 1000 {
            s.callVolume += Double(s.lastCents % 7 + 1)
            s.putVolume += Double(s.askCents % 5 + 1)
        }
        stocks[stock.conId] = s
    }

    /// A size unit: 100-share lots for stocks, one contract for futures, 1,000,000 of the base
    /// currency for FX (IB reports IDEALPRO sizes in the base currency).
    static func lot(_ listing: StockListing) -> Double {
        switch listing.secType {
        case "FUT": 1
        case "CASH": 1_000_000
        default: 100
        }
    }

    /// Every tick type a subscription of an underlying carries, in the order IB sends them.
    /// Stocks and futures: the full set. Indexes: no bid, ask, sizes or volume (IB computes
    /// the value; nobody quotes it). FX on IDEALPRO: bid/ask with sizes in the base currency
    /// and high/low/close, but no last, last size, volume or last timestamp.
    func ticks(stock: StockListing) -> [(tickType: Int32, value: TickValue)] {
        guard let s = stocks[stock.conId] else { return [] }
        let price = { (units: Int) -> TickValue in .price(Self.price(units, tick: stock.tick)) }
        let quote: [(Int32, TickValue)] = [(1, price(s.bidCents)), (0, .size(s.bidSize)), (2, price(s.askCents)), (3, .size(s.askSize))]
        let trade: [(Int32, TickValue)] = [(4, price(s.lastCents)), (5, .size(s.lastSize)), (8, .size(s.volume))]
        let session: [(Int32, TickValue)] = [(6, price(s.highCents)), (7, price(s.lowCents)), (9, price(s.closeCents)), (14, price(s.openCents))]
        switch stock.secType {
        case "IND":
            return [(4, price(s.lastCents))] + session + [(45, .string(String(s.lastTradeSeconds)))]
        case "CASH":
            return quote + [(6, price(s.highCents)), (7, price(s.lowCents)), (9, price(s.closeCents))]
        default:
            return quote + trade + session + [(45, .string(String(s.lastTradeSeconds)))]
        }
    }

    /// Option statistics of an underlying with a chain, when its subscription asked for them:
    /// generic tick 100 -> TICK_SIZE 29 (call volume) and 30 (put volume), generic tick 101 ->
    /// TICK_SIZE 27 (call open interest) and 28 (put open interest) (IB's tick types).
    func optionStatistics(of stock: StockListing, genericTicks: Set<Int>) -> [(tickType: Int32, value: TickValue)] {
        guard let s = stocks[stock.conId] else { return [] }
        var out: [(Int32, TickValue)] = []
        if genericTicks.contains(100) { out += [(29, .size(s.callVolume)), (30, .size(s.putVolume))] }
        if genericTicks.contains(101) { out += [(27, .size(s.callOpenInterest)), (28, .size(s.putOpenInterest))] }
        return out
    }

    /// The underlying's mid (an index's value: IB has no bid/ask for it, the walk's mid is its
    /// value), the price its options follow.
    func midPrice(of underConId: Int64) -> Double? {
        guard let s = stocks[underConId], case .stock(let listing)? = catalog.byConId[underConId] else { return nil }
        return Self.price(s.bidCents + s.askCents, tick: listing.tick) / 2
    }

    /// Units of `tick` as a price, rounded to the tick's decimals so 1.08345 is not 1.0834500000000001.
    static func price(_ units: Int, tick: Double) -> Double {
        let raw = Double(units) * tick
        return (raw * 1e6).rounded() / 1e6
    }
    func optionalCents(_ value: Int?) -> Double? { value.map { Double($0) / 100 } }
}
