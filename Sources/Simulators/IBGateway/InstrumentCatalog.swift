import Essentials
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
    /// IB's security type: `STK`, `IND`, `FUT` or `CASH` (the simulator models all four as
    /// one kind of listing; their tick sets differ, see `MarketSimulator.ticks(stock:)`).
    var secType = "STK"
    /// The listing exchange for IND/FUT/CASH (CBOE, CME, IDEALPRO); stocks route via SMART.
    var exchange = "SMART"
    var currency = "USD"
    /// Contract multiplier as IB spells it (`50` for ES); empty for stocks, indexes and FX.
    var multiplier = ""
    /// A future's last trading day.
    var lastTradeDate: SimDate?
    /// IB's localSymbol when it differs from the symbol (`ESZ6`, `EUR.USD`).
    var localSymbolOverride: String?
    /// IB's tradingClass (`ES`, `EUR.USD`); nil: stocks' NMS/ETF rule.
    var tradingClassOverride: String?
    /// The price increment (minTick): 0.01, ES 0.25, EUR.USD 0.00005.
    var tick = 0.01

    var localSymbol: String { localSymbolOverride ?? symbol }

    /// `YYYYMM` of a future.
    var contractMonth: String? {
        guard let date = lastTradeDate else { return nil }
        return String(date.yyyymmdd.prefix(6))
    }
}

/// One listed option: `OPT` on a stock or index, `FOP` on a future.
struct OptionListing: Sendable, Hashable {
    var conId: Int64
    var symbol: String
    var underConId: Int64
    var expiry: SimDate
    var strike: Double
    var right: BlackScholes.Right
    /// IB's trading class: `AAPL`, `SPX` (monthly, AM-settled), `SPXW` (weeklies/dailies),
    /// `ES` / `EW` / `EW1` (ES options).
    var tradingClass: String = ""
    var multiplier = "100"
    var secType = "OPT"
    /// The future's local symbol (`ESZ6`) for FOP local symbols; nil for OPT.
    var futureLocalSymbol: String? = nil

    var rightCode: String { right == .call ? "C" : "P" }

    /// The class, or the symbol when none was set.
    var classCode: String { tradingClass.isEmpty ? symbol : tradingClass }

    /// IB's localSymbol: OCC symbology for OPT, with the trading class as root
    /// (`AAPL  260619C00190000`, `SPXW  261218C06000000`); CME style for FOP, the class and
    /// the future's month code, then right and strike (`ESZ6 C6000`, `EW1Z6 P5950`).
    var localSymbol: String {
        if secType == "FOP" {
            let month = futureLocalSymbol.map { String($0.dropFirst(symbol.count)) } ?? ""
            return "\(classCode)\(month) \(rightCode)\(strikeText)"
        }
        let root = classCode.count >= 6 ? classCode : classCode + String(repeating: " ", count: 6 - classCode.count)
        let strikeText = String(Int((strike * 1000).rounded()))
        let padded = String(repeating: "0", count: max(0, 8 - strikeText.count)) + strikeText
        return root + expiry.yyyymmdd.dropFirst(2) + rightCode + padded
    }

    private var strikeText: String {
        strike == strike.rounded() ? String(Int(strike)) : String(strike)
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
    /// The trading class (one reqSecDefOptParams message per class and exchange).
    var tradingClass: String = ""
    var multiplier = "100"
    /// `OPT` or `FOP`.
    var secType = "OPT"
    /// The exchanges reqSecDefOptParams reports for this class.
    var exchanges = ["SMART", "CBOE"]
    var futureLocalSymbol: String? = nil
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

    /// The symbol the tick recorder files the contract under for `last`: the symbol of a
    /// stock, index, future or FX pair; options get none (their symbol is the underlying's).
    var recordedSymbol: String {
        switch self {
        case .stock(let s): s.symbol
        case .option: ""
        }
    }

    var symbol: String {
        switch self {
        case .stock(let s): s.symbol
        case .option(let o): o.symbol
        }
    }

    var secType: String {
        switch self {
        case .stock(let s): s.secType
        case .option(let o): o.secType
        }
    }
}

/// Every instrument of the simulated gateway, built once from the configuration.
struct InstrumentCatalog: Sendable {
    private(set) var stocks: [String: StockListing] = [:]
    private(set) var chains: [String: OptionChain] = [:]
    /// Indexes by symbol (SPX, NDX, VIX, RUT).
    private(set) var indices: [String: StockListing] = [:]
    /// Futures by symbol, nearest last trading day first.
    private(set) var futures: [String: [StockListing]] = [:]
    /// FX pairs by `BASE.QUOTE`.
    private(set) var fxPairs: [String: StockListing] = [:]
    /// Every trading class of every underlying, by the underlying's conId.
    private(set) var classChains: [Int64: [OptionChain]] = [:]
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
            var chain = Self.chain(for: stock, expirations: expirations, strikesEachSide: strikesEachSide)
            chain.tradingClass = symbol
            chains[symbol] = chain
            list(chain)
        }
        addDerivatives(seed: seed, strikesEachSide: strikesEachSide)
    }

    /// Lists every option of one trading class's chain.
    mutating func list(_ chain: OptionChain) {
        classChains[chain.underConId, default: []].append(chain)
        for expiry in chain.expirations {
            for strike in chain.strikesByExpiry[expiry] ?? [] {
                for right in [BlackScholes.Right.call, .put] {
                    var option = OptionListing(
                        conId: 0, symbol: chain.symbol, underConId: chain.underConId, expiry: expiry, strike: strike, right: right,
                        tradingClass: chain.tradingClass, multiplier: chain.multiplier, secType: chain.secType,
                        futureLocalSymbol: chain.futureLocalSymbol)
                    var id = 1_000_000_000 + Int64(StableHash.fnv1a(option.localSymbol) % 1_000_000_000)
                    while byConId[id] != nil { id += 1 }
                    option.conId = id
                    byConId[id] = .option(option)
                    optionIndex[option.localSymbol] = id
                }
            }
        }
    }

    mutating func add(_ listing: StockListing) {
        byConId[listing.conId] = .stock(listing)
        switch listing.secType {
        case "IND": indices[listing.symbol] = listing
        case "FUT":
            futures[listing.symbol, default: []].append(listing)
            futures[listing.symbol]?.sort { ($0.lastTradeDate ?? today) < ($1.lastTradeDate ?? today) }
        case "CASH": fxPairs[listing.localSymbol] = listing
        default: break
        }
    }

    /// Stocks in a stable order (the configuration's).
    var stockList: [StockListing] { stocks.values.sorted { $0.symbol < $1.symbol } }

    func option(symbol: String, expiry: SimDate, strike: Double, right: BlackScholes.Right) -> OptionListing? {
        let key = OptionListing(conId: 0, symbol: symbol, underConId: 0, expiry: expiry, strike: strike, right: right)
        return option(localSymbol: key.localSymbol)
    }

    func option(localSymbol: String) -> OptionListing? {
        guard let id = optionIndex[localSymbol], case .option(let o)? = byConId[id] else { return nil }
        return o
    }

    /// The listing an option's prices follow.
    func underlying(of option: OptionListing) -> StockListing? {
        if case .stock(let s)? = byConId[option.underConId] { return s }
        return nil
    }

    // MARK: Building

    private static func listing(symbol: String, seed: UInt64) -> StockListing {
        var random = SplitMix64(seed: seed, salt: StableHash.fnv1a("base:" + symbol))
        _ = random.unit()  // the factor of `basePrice`
        let base = basePrice(symbol: symbol, seed: seed)
        if let known = KnownStocks.table[symbol] {
            return StockListing(
                symbol: symbol, conId: known.conId, basePrice: base,
                primaryExchange: known.primary, longName: known.name, industry: known.industry,
                category: known.category, stockType: known.stockType, volatility: known.volatility)
        }
        let hash = StableHash.fnv1a(symbol)
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
        var random = SplitMix64(seed: seed, salt: StableHash.fnv1a("base:" + symbol))
        let factor = 0.9 + 0.2 * random.unit()
        let level = KnownStocks.table[symbol]?.price ?? 20 + Double(StableHash.fnv1a(symbol) % 480)
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

    static func chain(for stock: StockListing, expirations: [SimDate], strikesEachSide n: Int) -> OptionChain {
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
