import Essentials

/// Indexes, futures, FX pairs and their option classes, as IB lists them.
///
/// Shapes follow IB's contract details and reqSecDefOptParams answers for these products:
/// - Indexes (`IND`) are published by one exchange (CBOE for SPX and VIX, NASDAQ for NDX,
///   RUSSELL for RUT), have no bid/ask/size/volume at IB, only last/high/low/close/open.
///   Their options come in several trading classes under one underlying conId: SPX (monthly,
///   AM-settled, third Friday) and SPXW (PM-settled: every business day, so 0DTE exists),
///   NDX/NDXP, RUT/RUTW, VIX/VIXW (Wednesdays); multiplier 100, exchanges SMART and CBOE.
/// - Futures (`FUT`) have a contract month, a last trading day (third Friday of Mar/Jun/Sep/Dec
///   for ES), a multiplier (ES 50, NQ 20), exchange CME, localSymbol `ESZ6`, tradingClass `ES`,
///   minTick 0.25. Options on them (`FOP`) are listed on CME in classes ES (quarterly, expiring
///   with the future), EW (end of month) and EW1/EW2/EW4 (Friday weeklies), multiplier 50,
///   underConId = the future's conId.
/// - FX (`CASH`) trades on IDEALPRO: symbol = base currency, currency = quote currency,
///   localSymbol/tradingClass `EUR.USD`, minTick 0.00005; IB sends bid/ask with sizes in the
///   base currency, and no last, last size or volume.
extension InstrumentCatalog {
    struct IndexSpec {
        var symbol: String, conId: Int64, exchange: String, price: Double, name: String, volatility: Double
        var monthlyClass: String, shortClass: String, step: Double
        /// VIX options expire on Wednesdays, the others on Fridays (and SPXW/NDXP/RUTW daily).
        var wednesdays = false
    }

    /// conIds are IB's for SPX, NDX, VIX, RUT and the FX pairs.
    static let indexSpecs: [IndexSpec] = [
        IndexSpec(symbol: "SPX", conId: 416_904, exchange: "CBOE", price: 6000, name: "S&P 500 Stock Index", volatility: 0.15,
                  monthlyClass: "SPX", shortClass: "SPXW", step: 5),
        IndexSpec(symbol: "NDX", conId: 416_843, exchange: "NASDAQ", price: 21000, name: "NASDAQ 100 Stock Index", volatility: 0.2,
                  monthlyClass: "NDX", shortClass: "NDXP", step: 10),
        IndexSpec(symbol: "RUT", conId: 416_888, exchange: "RUSSELL", price: 2300, name: "Russell 2000 Stock Index", volatility: 0.22,
                  monthlyClass: "RUT", shortClass: "RUTW", step: 5),
        IndexSpec(symbol: "VIX", conId: 13_455_763, exchange: "CBOE", price: 17, name: "CBOE Volatility Index", volatility: 0.8,
                  monthlyClass: "VIX", shortClass: "VIXW", step: 1, wednesdays: true),
    ]

    struct FutureSpec {
        var symbol: String, baseConId: Int64, price: Double, name: String, multiplier: String, volatility: Double
        var step: Double
        /// Option classes (FOP) only on the nearest `optionMonths` contracts.
        var optionMonths: Int
    }

    static let futureSpecs: [FutureSpec] = [
        FutureSpec(symbol: "ES", baseConId: 495_512_000, price: 6000, name: "E-mini S&P 500", multiplier: "50", volatility: 0.15, step: 5,
                   optionMonths: 2),
        FutureSpec(symbol: "NQ", baseConId: 563_947_000, price: 21000, name: "E-mini Nasdaq-100", multiplier: "20", volatility: 0.2,
                   step: 10, optionMonths: 0),
    ]

    static let fxSpecs: [(base: String, quote: String, conId: Int64, price: Double, tick: Double)] = [
        ("EUR", "USD", 12_087_792, 1.085, 0.00005),
        ("GBP", "USD", 12_087_797, 1.27, 0.00005),
        ("USD", "JPY", 15_016_059, 150.0, 0.005),
    ]

    static let currencyNames = ["EUR": "European Monetary Union Euro", "GBP": "British pound", "USD": "US dollar"]

    /// CME month codes.
    static let monthCodes: [Character] = ["F", "G", "H", "J", "K", "M", "N", "Q", "U", "V", "X", "Z"]

    mutating func addDerivatives(seed: UInt64, strikesEachSide n: Int) {
        for spec in Self.indexSpecs {
            var random = SplitMix64(seed: seed, salt: StableHash.fnv1a("base:" + spec.symbol))
            let price = ((spec.price * (0.97 + 0.06 * random.unit())) / 0.01).rounded() * 0.01
            let index = StockListing(
                symbol: spec.symbol, conId: spec.conId, basePrice: price, primaryExchange: spec.exchange, longName: spec.name,
                industry: "Indices", category: "Index", stockType: "", volatility: spec.volatility, secType: "IND",
                exchange: spec.exchange, tradingClassOverride: spec.symbol)
            add(index)
            let centre = (price / spec.step).rounded() * spec.step
            let strikes = (-n...n).map { centre + Double($0) * spec.step }.filter { $0 > 0 }
            let monthly = Self.monthlyExpirations(from: today, count: 3, wednesdays: spec.wednesdays)
            let short = Self.shortExpirations(from: today, dailies: spec.wednesdays ? 0 : 5, weeks: 4, wednesdays: spec.wednesdays)
                + monthly
            for (tradingClass, expirations) in [(spec.monthlyClass, monthly), (spec.shortClass, Array(Set(short)).sorted())] {
                list(OptionChain(
                    symbol: spec.symbol, underConId: spec.conId, expirations: expirations, strikes: strikes,
                    strikesByExpiry: Dictionary(uniqueKeysWithValues: expirations.map { ($0, strikes) }),
                    tradingClass: tradingClass, multiplier: "100", secType: "OPT", exchanges: ["SMART", "CBOE"]))
            }
        }
        for spec in Self.futureSpecs {
            var random = SplitMix64(seed: seed, salt: StableHash.fnv1a("base:" + spec.symbol))
            let level = spec.price * (0.97 + 0.06 * random.unit())
            var previousLastTrade = today.adding(days: -1)
            for (i, lastTrade) in Self.quarterlies(from: today, count: 4).enumerated() {
                let c = lastTrade.components
                let local = "\(spec.symbol)\(Self.monthCodes[c.month - 1])\(c.year % 10)"
                // Contango: each later quarter a little higher, on the 0.25 grid.
                let price = ((level * (1 + 0.01 * Double(i))) / 0.25).rounded() * 0.25
                let future = StockListing(
                    symbol: spec.symbol, conId: spec.baseConId + Int64(c.year * 100 + c.month) % 100_000, basePrice: price,
                    primaryExchange: "CME", longName: spec.name, industry: "Indices", category: "Broad Range Equity Index",
                    stockType: "", volatility: spec.volatility, secType: "FUT", exchange: "CME", multiplier: spec.multiplier,
                    lastTradeDate: lastTrade, localSymbolOverride: local, tradingClassOverride: spec.symbol, tick: 0.25)
                add(future)
                if i < spec.optionMonths {
                    listFutureOptions(future, after: previousLastTrade, step: spec.step, strikesEachSide: n)
                }
                previousLastTrade = lastTrade
            }
        }
        for fx in Self.fxSpecs {
            add(StockListing(
                symbol: fx.base, conId: fx.conId, basePrice: fx.price, primaryExchange: "IDEALPRO",
                longName: Self.currencyNames[fx.base] ?? fx.base, industry: "", category: "", stockType: "", volatility: 0.08,
                secType: "CASH", exchange: "IDEALPRO", currency: fx.quote, localSymbolOverride: "\(fx.base).\(fx.quote)",
                tradingClassOverride: "\(fx.base).\(fx.quote)", tick: fx.tick))
        }
    }

    /// FOP classes on one future: ES (quarterly, with the future), EW (last business day of
    /// each month before it), EW1/EW2/EW4 (first, second, fourth Friday) within six weeks.
    private mutating func listFutureOptions(_ future: StockListing, after previous: SimDate, step: Double, strikesEachSide n: Int) {
        guard let lastTrade = future.lastTradeDate else { return }
        let centre = (future.basePrice / step).rounded() * step
        let strikes = (-n...n).map { centre + Double($0) * step }.filter { $0 > 0 }
        var classes: [String: [SimDate]] = [future.symbol: [lastTrade]]
        var month = (previous > today ? previous : today).components
        while true {
            let eom = Self.lastBusinessDay(year: month.year, month: month.month)
            if eom > lastTrade { break }
            if eom >= today && eom > previous { classes["EW", default: []].append(eom) }
            month.month += 1
            if month.month > 12 { month.month = 1; month.year += 1 }
        }
        var friday = today.adding(days: (5 - today.weekday + 7) % 7)
        while friday < lastTrade && friday < today.adding(days: 42) {
            let week = (friday.components.day - 1) / 7 + 1
            if friday > previous, week != 3, week <= 4 { classes["EW\(week)", default: []].append(friday) }
            friday = friday.adding(days: 7)
        }
        for (tradingClass, expirations) in classes.sorted(by: { $0.key < $1.key }) {
            list(OptionChain(
                symbol: future.symbol, underConId: future.conId, expirations: expirations, strikes: strikes,
                strikesByExpiry: Dictionary(uniqueKeysWithValues: expirations.map { ($0, strikes) }),
                tradingClass: tradingClass, multiplier: future.multiplier, secType: "FOP", exchanges: ["CME"],
                futureLocalSymbol: future.localSymbol))
        }
    }

    /// Third Fridays (or, for VIX, the Wednesday 30 days before the next month's third
    /// Friday) from today on.
    static func monthlyExpirations(from today: SimDate, count: Int, wednesdays: Bool) -> [SimDate] {
        var result: [SimDate] = []
        var (year, month, _) = today.components
        while result.count < count {
            var next = (year, month + 1)
            if next.1 > 12 { next = (year + 1, 1) }
            let date = wednesdays ? thirdFriday(year: next.0, month: next.1).adding(days: -30) : thirdFriday(year: year, month: month)
            if date >= today { result.append(date) }
            (year, month) = next
        }
        return result
    }

    /// Daily expirations for the next `dailies` business days (today included: 0DTE), then
    /// weekly Fridays (or Wednesdays) for `weeks` weeks.
    static func shortExpirations(from today: SimDate, dailies: Int, weeks: Int, wednesdays: Bool) -> [SimDate] {
        var result: [SimDate] = []
        var day = today
        while result.count < dailies {
            if !day.isWeekend { result.append(day) }
            day = day.adding(days: 1)
        }
        let weekday = wednesdays ? 3 : 5
        var next = today.adding(days: (weekday - today.weekday + 7) % 7)
        for _ in 0..<weeks {
            result.append(next)
            next = next.adding(days: 7)
        }
        return result
    }

    /// Third Fridays of Mar/Jun/Sep/Dec that have not passed.
    static func quarterlies(from today: SimDate, count: Int) -> [SimDate] {
        var result: [SimDate] = []
        var (year, month, _) = today.components
        while result.count < count {
            if month % 3 == 0 {
                let date = thirdFriday(year: year, month: month)
                if date >= today { result.append(date) }
            }
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
        return result
    }

    static func lastBusinessDay(year: Int, month: Int) -> SimDate {
        let next = month == 12 ? SimDate(year: year + 1, month: 1, day: 1) : SimDate(year: year, month: month + 1, day: 1)
        var day = next.adding(days: -1)
        while day.isWeekend { day = day.adding(days: -1) }
        return day
    }
}
