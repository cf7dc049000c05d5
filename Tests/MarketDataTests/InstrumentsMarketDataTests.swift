import MarketModel
import Testing
import TWSProtocol

@testable import MarketData

/// Issue 13: expirations by days to expiry (0DTE), every trading class of a chain, the option
/// key grammar per class, and the front-month rule. Pure, fixed dates.
@Suite("Instruments: windows, classes, front month")
struct InstrumentsMarketDataTests {
    static let strikes = stride(from: 5900.0, through: 6100.0, by: 5.0).map { $0 }
    /// SPXW around Monday 2026-11-30: dailies, then Fridays and the third-Friday monthly.
    static let spxw = ["20261130", "20261201", "20261202", "20261203", "20261204", "20261211", "20261218"]

    @Test func daysBetweenIsCalendarDays() {
        #expect(OptionWindow.daysBetween("20261130", "20261130") == 0)
        #expect(OptionWindow.daysBetween("20261130", "20261218") == 18)
        #expect(OptionWindow.daysBetween("20261231", "20270101") == 1)
        #expect(OptionWindow.daysBetween("20240228", "20240301") == 2, "leap year")
        #expect(OptionWindow.daysBetween("2026113", "20261130") == nil)
        #expect(FrontMonth.yyyymmdd(dayNumber: OptionWindow.dayNumber("20240229")!) == "20240229")
    }

    @Test func zeroDTEWindowHoldsOnlyTodaysExpiry() {
        var w = OptionWindow(
            expirations: Self.spxw, strikes: Self.strikes, expirationsCount: 24, strikesAroundATM: 1, daysToExpiry: 0...0,
            tradingClass: "SPXW", root: "SPXW")
        _ = w.update(underlyingPrice: 6001, today: "20261130")
        #expect(Set(w.keys.map(\.expiry)) == ["20261130"])
        #expect(w.keys.count == 6)
        #expect(w.keys.allSatisfy { $0.tradingClass == "SPXW" && $0.key(symbol: "SPX").hasPrefix("option:SPXW:20261130:") })
        // On a day without an expiry in range the window is empty, not the next expiry.
        _ = w.update(underlyingPrice: 6001, today: "20261205")
        #expect(w.keys.isEmpty)
    }

    @Test func dteRangeAndCountTogether() {
        let selected = OptionWindow.select(
            expirations: Self.spxw, strikes: Self.strikes, centreIndex: 20, today: "20261130", expirationsCount: 3,
            strikesAroundATM: 0, daysToExpiry: 1...7)
        #expect(selected.map(\.key.expiry) == ["20261201", "20261201", "20261202", "20261202", "20261203", "20261203"])
        let weekly = OptionWindow.select(
            expirations: Self.spxw, strikes: Self.strikes, centreIndex: 20, today: "20261130", expirationsCount: 24,
            strikesAroundATM: 0, daysToExpiry: 8...30)
        #expect(Set(weekly.map(\.key.expiry)) == ["20261211", "20261218"])
    }

    @Test func stockKeysStayAsToday() {
        let key = OptionKey(expiry: "20261218", strike: 452.5, right: .put)
        #expect(key.key(symbol: "AAPL") == "option:AAPL:20261218:452.5:P")
        let fop = OptionKey(expiry: "20261218", strike: 6000, right: .call, tradingClass: "ES", root: "ES.202612")
        #expect(fop.key(symbol: "ES.FRONT") == "option:ES.202612:20261218:6000:C")
        #expect(fop != OptionKey(expiry: "20261218", strike: 6000, right: .call), "classes are different contracts")
    }

    static func params(_ exchange: String, _ tradingClass: String, _ multiplier: String, _ expirations: [String]) -> OptionParameters {
        OptionParameters(
            reqId: 1, exchange: exchange, underlyingConId: 416_904, tradingClass: tradingClass, multiplier: multiplier,
            expirations: expirations, strikes: [5990, 6000, 6010])
    }

    @Test func everyTradingClassIsKeptWithItsOwnExpiriesAndMultiplier() throws {
        var b = OptionChainBuilder(symbol: "SPX")
        b.add(Self.params("CBOE", "SPX", "100", ["20261218"]))
        b.add(Self.params("SMART", "SPX", "100", ["20261218", "20270115"]))
        b.add(Self.params("SMART", "SPXW", "100", Self.spxw))
        b.add(Self.params("CBOE", "SPXW", "100", Self.spxw))
        let root: (String) -> String = { $0 == "SPX" ? "" : $0 }
        let classes = b.classes(root: root)
        #expect(classes.map(\.tradingClass) == ["SPX", "SPXW"])
        #expect(classes.allSatisfy { $0.exchange == "SMART" && $0.multiplier == "100" })
        #expect(classes[0].expirations == ["20261218", "20270115"] && classes[1].expirations == Self.spxw)
        #expect(classes.map(\.root) == ["", "SPXW"])
        #expect(b.classes(only: ["SPXW"], root: root).map(\.tradingClass) == ["SPXW"])
        let chain = try #require(b.chainWithClasses(root: root))
        let record = chain.record(source: .ib, updatedMs: 1)
        #expect(record.value("trading_class") == "SPX" && record.value("expirations") == "20261218,20270115")
        #expect(record.value("trading_classes") == "SPX,SPXW")
        #expect(record.value("expirations:SPXW") == Self.spxw.joined(separator: ","))
        #expect(record.value("multiplier:SPXW") == "100" && record.value("key_root:SPXW") == "SPXW")
        #expect(record.value("key_root:SPX") == nil, "the underlying's own class keeps the underlying's key")
        // A FOP chain on CME: the future's exchange is preferred.
        var fop = OptionChainBuilder(symbol: "ES.202612")
        fop.add(OptionParameters(reqId: 2, exchange: "CME", underlyingConId: 7, tradingClass: "EW1", multiplier: "50", expirations: ["20261204"], strikes: [6000]))
        fop.add(OptionParameters(reqId: 2, exchange: "CME", underlyingConId: 7, tradingClass: "ES", multiplier: "50", expirations: ["20261218"], strikes: [6000]))
        let futureChain = try #require(fop.chainWithClasses(exchange: "CME", primaryClass: "ES") { "\($0).202612" })
        #expect(futureChain.tradingClass == "ES" && futureChain.multiplier == "50" && futureChain.classes.map(\.root) == ["EW1.202612", "ES.202612"])
    }

    @Test func frontMonthIsTheNearestBeforeItsRollDate() {
        let months = ["20270319", "20261218", "20270618"]
        let before = FrontMonth.choose(lastTradeDates: months, today: "20261130", rollDaysBeforeExpiry: 5)
        #expect(before == FrontMonth.Choice(index: 1, rollDate: "20261213"))
        // From the roll date on, the next month.
        #expect(FrontMonth.choose(lastTradeDates: months, today: "20261213", rollDaysBeforeExpiry: 5)?.index == 0)
        #expect(FrontMonth.choose(lastTradeDates: months, today: "20261212", rollDaysBeforeExpiry: 5)?.index == 1)
        #expect(FrontMonth.choose(lastTradeDates: ["20261218 09:30 US/Central", "garbage"], today: "20261130", rollDaysBeforeExpiry: 0)?.rollDate == "20261218")
        #expect(FrontMonth.choose(lastTradeDates: ["20261218"], today: "20261218", rollDaysBeforeExpiry: 0) == nil)
        #expect(FrontMonth.choose(lastTradeDates: [], today: "20261130", rollDaysBeforeExpiry: 5) == nil)
    }

    /// The roll rule over a whole season, day by day, with an injected "today" (the exchange's
    /// date): ES quarterlies as IB lists them (CONTRACT_DATA lastTradeDateOrContractMonth,
    /// third Fridays), rolled 5 calendar days before the last trading day.
    @Test func frontMonthRollsOnItsRollDateAcrossASeason() throws {
        let months = ["20270319", "20261218", "20270618", "20270917"]
        var day = try #require(OptionWindow.dayNumber("20261130"))
        let end = try #require(OptionWindow.dayNumber("20270620"))
        var held: [String] = []
        var current: FrontMonth.Choice?
        while day <= end {
            let today = FrontMonth.yyyymmdd(dayNumber: day)
            if current == nil || FrontMonth.rollIsDue(rollDate: current!.rollDate, today: today) {
                let next = FrontMonth.choose(lastTradeDates: months, today: today, rollDaysBeforeExpiry: 5)
                // A roll always moves to a later month, never back or to the same one.
                if let current, let next { #expect(months[next.index] > months[current.index], "\(today)") }
                current = next
                if let next { held.append("\(today) \(months[next.index])") }
            }
            day += 1
        }
        #expect(held == ["20261130 20261218", "20261213 20270319", "20270314 20270618", "20270613 20270917"])
    }

    @Test func rollIsDueFromTheRollDateOn() {
        #expect(!FrontMonth.rollIsDue(rollDate: "20261213", today: "20261212"))
        #expect(FrontMonth.rollIsDue(rollDate: "20261213", today: "20261213"))
        #expect(FrontMonth.rollIsDue(rollDate: "20261213", today: "20270101"), "a year boundary is a date, not a string order accident")
        #expect(!FrontMonth.rollIsDue(rollDate: "20261213", today: "garbage"), "an unreadable date never rolls")
    }
}
