import MarketModel
import Testing

@testable import MarketData

@Suite("LineBudget")
struct LineBudgetTests {
    static func window(_ price: Double, expiries: Int = 2, around: Int = 2) -> [RankedOption] {
        var w = OptionWindow(
            expirations: ["20261120", "20261127", "20261204"], strikes: stride(from: 100.0, through: 200, by: 5).map { $0 },
            expirationsCount: expiries, strikesAroundATM: around)
        _ = w.update(underlyingPrice: price, today: "20261120")
        return w.selected
    }

    @Test func everythingFits() {
        let budget = LineBudget(maxLines: 100)
        let a = budget.allocate(underlyings: ["SPY", "AAPL"], options: [OptionDemand(symbol: "SPY", options: Self.window(150))])
        #expect(a.admitted.count == 22)
        #expect(a.leftOut.isEmpty)
        #expect(a.summary == "")
        #expect(a.admitted.prefix(2) == [.quote(symbol: "SPY"), .quote(symbol: "AAPL")])
    }

    @Test func underlyingsComeFirstInConfigurationOrder() {
        let a = LineBudget(maxLines: 2).allocate(
            underlyings: ["SPY", "QQQ", "IWM"], options: [OptionDemand(symbol: "SPY", options: Self.window(150))])
        #expect(a.admitted == [.quote(symbol: "SPY"), .quote(symbol: "QQQ")])
        #expect(a.leftOut.first == .quote(symbol: "IWM"))
        #expect(a.leftOut.count == 21)
        #expect(a.summary == "market data line budget of 2 reached: left out 1 quote and 20 options (IWM 1, SPY 20)")
    }

    @Test func optionsInterleaveAcrossUnderlyingsByExpiryThenMoneyness() {
        let a = LineBudget(maxLines: 8).allocate(
            underlyings: ["SPY", "QQQ"],
            options: [OptionDemand(symbol: "SPY", options: Self.window(150)), OptionDemand(symbol: "QQQ", options: Self.window(120))])
        #expect(a.admitted.map(\.description) == [
            "quote:SPY", "quote:QQQ",
            "option:SPY:20261120:150:C", "option:SPY:20261120:150:P",
            "option:QQQ:20261120:120:C", "option:QQQ:20261120:120:P",
            "option:SPY:20261120:145:C", "option:SPY:20261120:145:P",
        ])
        // Next in line: SPY's other strike at distance 1, then QQQ's.
        #expect(a.leftOut.prefix(4).map(\.description) == [
            "option:SPY:20261120:155:C", "option:SPY:20261120:155:P",
            "option:QQQ:20261120:115:C", "option:QQQ:20261120:115:P",
        ])
        #expect(a.leftOutBySymbol == ["SPY": 16, "QQQ": 18])
        // Every front-month option comes before any second-month one.
        let all = a.admitted + a.leftOut
        let firstSecondMonth = all.firstIndex { $0.description.contains("20261127") }!
        let lastFrontMonth = all.lastIndex { $0.description.contains("20261120") }!
        #expect(lastFrontMonth < firstSecondMonth)
    }

    @Test func reservedLinesAreKeptFree() {
        let budget = LineBudget(maxLines: 10, reserved: 2)
        let a = budget.allocate(underlyings: ["SPY"], options: [OptionDemand(symbol: "SPY", options: Self.window(150))])
        #expect(a.available == 8)
        #expect(a.admitted.count == 8)
        #expect(a.leftOut.count == 13)
    }

    @Test func duplicatesAreCountedOnce() {
        let w = Self.window(150, expiries: 1, around: 0)
        let a = LineBudget(maxLines: 10).allocate(
            underlyings: ["SPY", "SPY"], options: [OptionDemand(symbol: "SPY", options: w + w)])
        #expect(a.admitted.count == 3)
    }

    @Test func zeroBudgetLeavesEverythingOut() {
        let a = LineBudget(maxLines: 0).allocate(underlyings: ["SPY"], options: [])
        #expect(a.admitted.isEmpty)
        #expect(a.leftOut == [.quote(symbol: "SPY")])
        #expect(a.summary == "market data line budget of 0 reached: left out 1 quote (SPY 1)")
    }
}
