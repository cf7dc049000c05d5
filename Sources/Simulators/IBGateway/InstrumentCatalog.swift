import TWSProtocol

/// One stock the simulator trades.
struct StockListing: Sendable, Hashable {
    var symbol: String
    var conId: Int64
    var basePrice: Double
    var primaryExchange: String
    var longName: String
    var industry: String
    var category: String
    var stockType: String
    /// At-the-money implied volatility of its options.
    var volatility: Double
}

/// One listed option.
struct OptionListing: Sendable, Hashable {
    var conId: Int64
    var symbol: String
    var underConId: Int64
    var expiry: SimDate
    var strike: Double
    var right: BlackScholes.Right

    var rightCode: String { right == .call ? "C" : "P" }

    /// OCC symbology, as IB's localSymbol: `AAPL  260619C00190000`.
    var localSymbol: String {
        let root = symbol.count >= 6 ? symbol : symbol + String(repeating: " ", count: 6 - symbol.count)
        let strikeText = String(Int((strike * 1000).rounded()))
        let padded = String(repeating: "0", count: max(0, 8 - strikeText.count)) + strikeText
        return root + expiry.yyyymmdd.dropFirst(2) + rightCode + padded
    }
}

/// The chain of one underlying: what reqSecDefOptParams reports (the union of strikes over
/// expirations) and what is really listed per expiry (not every strike on every expiry, as
/// on real weeklies, which is why clients must qualify before subscribing).
struct OptionChain: Sendable, Hashable {
    var symbol: String
    var underConId: Int64
    var expirations: [SimDate]
    var strikes: [Double]
    var strikesByExpiry: [SimDate: [Double]]
}

enum Instrument: Sendable, Hashable {
    case stock(StockListing)
    case option(OptionListing)

    var conId: Int64 {
        switch self {
        case .stock(let s): s.conId
        case .option(let o): o.conId
        }
    }

    var symbol: String {
        switch self {
        case .stock(let s): s.symbol
        case .option(let o): o.symbol
        }
    }

    var secType: String {
        if case .option = self { return "OPT" }
        return "STK"
    }
}

/// Every instrument of the simulated gateway, built once from the configuration.
struct InstrumentCatalog: Sendable {
    private(set) var stocks: [String: StockListing] = [:]
    private(set) var chains: [String: OptionChain] = [:]
    private(set) var byConId: [Int64: Instrument] = [:]
    private var optionIndex: [String: Int64] = [:]
    /// The exchanges reqSecDefOptParams reports, SMART first.
    let optionExchanges = ["SMART", "CBOE"]
    let today: SimDate

    init(symbols: [String], seed: UInt64, today: SimDate, strikesEachSide: Int, weekly: Int, monthly: Int) {
        self.today = today
        let expirations = Self.expirations(from: today, weekly: weekly, monthly: monthly)
        for raw in symbols {
            let symbol = raw.uppercased()
            guard stocks[symbol] == nil, !symbol.isEmpty else { continue }
            let stock = Self.listing(symbol: symbol, seed: seed)
            stocks[symbol] = stock
            byConId[stock.conId] = .stock(stock)
            let chain = Self.chain(for: stock, expirations: expirations, strikesEachSide: strikesEachSide)
            chains[symbol] = chain
            for expiry in chain.expirations {
                for strike in chain.strikesByExpiry[expiry] ?? [] {
                    for right in [BlackScholes.Right.call, .put] {
                        var option = OptionListing(
                            conId: 0, symbol: symbol, underConId: stock.conId, expiry: expiry, strike: strike, right: right)
                        var id = 1_000_000_000 + Int64(stableHash(option.localSymbol) % 1_000_000_000)
                        while byConId[id] != nil { id += 1 }
                        option.conId = id
                        byConId[id] = .option(option)
                        optionIndex[option.localSymbol] = id
                    }
                }
            }
        }
    }

    /// Stocks in a stable order (the configuration's).
    var stockList: [StockListing] { stocks.values.sorted { $0.symbol < $1.symbol } }

    func option(symbol: String, expiry: SimDate, strike: Double, right: BlackScholes.Right) -> OptionListing? {
        let key = OptionListing(conId: 0, symbol: symbol, underConId: 0, expiry: expiry, strike: strike, right: right)
        guard let id = optionIndex[key.localSymbol], case .option(let o)? = byConId[id] else { return nil }
        return o
    }

    // MARK: Building

    private static func listing(symbol: String, seed: UInt64) -> StockListing {
        var random = SeededRandom(seed: seed, salt: stableHash("base:" + symbol))
        _ = random.unit()  // the factor of `basePrice`
        let base = basePrice(symbol: symbol, seed: seed)
        if let known = KnownStocks.table[symbol] {
            return StockListing(
                symbol: symbol, conId: known.conId, basePrice: base,
                primaryExchange: known.primary, longName: known.name, industry: known.industry,
                category: known.category, stockType: known.stockType, volatility: known.volatility)
        }
        let hash = stableHash(symbol)
        return StockListing(
            symbol: symbol, conId: 100_000_000 + Int64(hash % 800_000_000),
            basePrice: base, primaryExchange: "NYSE",
            longName: symbol + " SIMULATED INC", industry: "Industrial", category: "Miscellaneous",
            stockType: "COMMON", volatility: 0.2 + 0.3 * random.unit())
    }

    /// A symbol's price level for a seed. The Alpha Vantage simulator prices from it too, so
    /// that the two simulators started with the same `--seed` (as scripts/demo does) quote the
    /// same market: a failover then changes the source, not the price level, and the option
    /// keys IB served exist in Alpha Vantage's chain.
    static func basePrice(symbol: String, seed: UInt64) -> Double {
        var random = SeededRandom(seed: seed, salt: stableHash("base:" + symbol))
        let factor = 0.9 + 0.2 * random.unit()
        let level = KnownStocks.table[symbol]?.price ?? 20 + Double(stableHash(symbol) % 480)
        return ((level * factor) * 100).rounded() / 100
    }

    /// Weekly Fridays from today on, then third Fridays of the following months.
    static func expirations(from today: SimDate, weekly: Int, monthly: Int) -> [SimDate] {
        var result: [SimDate] = []
        var friday = today.adding(days: (5 - today.weekday + 7) % 7)
        for _ in 0..<weekly {
            result.append(friday)
            friday = friday.adding(days: 7)
        }
        var (year, month, _) = (result.last ?? today).components
        while result.count < weekly + monthly {
            let third = thirdFriday(year: year, month: month)
            if third > (result.last ?? today.adding(days: -1)) { result.append(third) }
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
        return result
    }

    static func thirdFriday(year: Int, month: Int) -> SimDate {
        let first = SimDate(year: year, month: month, day: 1)
        return first.adding(days: (5 - first.weekday + 7) % 7 + 14)
    }

    static func strikeStep(for price: Double) -> Double {
        switch price {
        case ..<25: 0.5
        case ..<100: 1
        case ..<250: 2.5
        case ..<1000: 5
        default: 10
        }
    }

    private static func chain(for stock: StockListing, expirations: [SimDate], strikesEachSide n: Int) -> OptionChain {
        let step = strikeStep(for: stock.basePrice)
        let center = (stock.basePrice / step).rounded() * step
        var byExpiry: [SimDate: [Double]] = [:]
        var all = Set<Double>()
        for expiry in expirations {
            let monthlyExpiry = expiry == thirdFriday(year: expiry.components.year, month: expiry.components.month)
            var strikes: [Double] = []
            for i in -n...n {
                let strike = center + Double(i) * step
                guard strike > 0 else { continue }
                // Weeklies list only every other strike far from the money, like real chains.
                if !monthlyExpiry && abs(i) > n / 2 && i % 2 != 0 { continue }
                strikes.append(strike)
            }
            byExpiry[expiry] = strikes
            all.formUnion(strikes)
        }
        return OptionChain(
            symbol: stock.symbol, underConId: stock.conId, expirations: expirations, strikes: all.sorted(),
            strikesByExpiry: byExpiry)
    }
}
