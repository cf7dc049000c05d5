import Essentials
import Testing
import TWSProtocol
@testable import Simulators

@Suite struct CatalogTests {
    let monday = SimDate(year: 2026, month: 6, day: 1)

    @Test func civilDatesRoundTrip() {
        #expect(SimDate(year: 1970, month: 1, day: 1).dayNumber == 0)
        #expect(monday.weekday == 1)
        #expect(monday.yyyymmdd == "20260601")
        #expect(SimDate(yyyymmdd: "20260229") == nil)
        #expect(SimDate(yyyymmdd: "20240229")?.components.day == 29)
    }

    @Test func expirationsAreWeekliesThenThirdFridays() {
        let dates = InstrumentCatalog.expirations(from: monday, weekly: 4, monthly: 3).map(\.yyyymmdd)
        #expect(dates == ["20260605", "20260612", "20260619", "20260626", "20260717", "20260821", "20260918"])
        // A Friday "today" is itself the first weekly expiry.
        let friday = SimDate(year: 2026, month: 6, day: 5)
        #expect(InstrumentCatalog.expirations(from: friday, weekly: 1, monthly: 0).map(\.yyyymmdd) == ["20260605"])
    }

    @Test func knownStocksKeepTheirConIdsAndSeedMovesBasePrices() {
        let a = InstrumentCatalog(symbols: ["aapl", "ZZZT"], seed: 1, today: monday, strikesEachSide: 4, weekly: 2, monthly: 1)
        let b = InstrumentCatalog(symbols: ["AAPL", "ZZZT"], seed: 2, today: monday, strikesEachSide: 4, weekly: 2, monthly: 1)
        #expect(a.stocks["AAPL"]?.conId == 265_598)
        #expect(a.stocks["AAPL"]?.basePrice != b.stocks["AAPL"]?.basePrice)
        #expect(a.stocks["ZZZT"]?.conId == b.stocks["ZZZT"]?.conId)
        let again = InstrumentCatalog(symbols: ["AAPL"], seed: 1, today: monday, strikesEachSide: 4, weekly: 2, monthly: 1)
        #expect(again.stocks["AAPL"]?.basePrice == a.stocks["AAPL"]?.basePrice)
    }

    /// The two simulators with the same seed quote one market: the Alpha Vantage simulator's
    /// price sits within a few percent of the gateway's level (it was anywhere in 20...520,
    /// so a demo failover doubled or halved prices and no IB option key existed in its chain).
    @Test func alphaVantagePricesFollowTheGatewaysLevelForTheSameSeed() {
        for symbol in ["AAPL", "MSFT", "SPY", "ZZZT"] {
            for seed: UInt64 in [1, 7, 42] {
                let level = InstrumentCatalog(symbols: [symbol], seed: seed, today: monday, strikesEachSide: 4, weekly: 1, monthly: 0)
                    .stocks[symbol]!.basePrice
                #expect(level == InstrumentCatalog.basePrice(symbol: symbol, seed: seed))
                for tick: UInt64 in [0, 1, 50] {
                    let q = AlphaVantagePayloads.quote(seed: seed, symbol: symbol, tick: tick)
                    #expect(abs(q.price / level - 1) < 0.04, "\(symbol) seed \(seed): AV \(q.price) vs IB level \(level)")
                }
            }
        }
    }

    @Test func weekliesListFewerStrikesThanTheChainUnion() throws {
        let catalog = InstrumentCatalog(symbols: ["SPY"], seed: 1, today: monday, strikesEachSide: 10, weekly: 2, monthly: 1)
        let chain = try #require(catalog.chains["SPY"])
        let weekly = try #require(chain.strikesByExpiry[SimDate(year: 2026, month: 6, day: 5)])
        let monthly = try #require(chain.strikesByExpiry[SimDate(year: 2026, month: 6, day: 19)])
        #expect(monthly.count == 21)
        #expect(weekly.count < monthly.count)
        #expect(chain.strikes == monthly)
        let missing = try #require(monthly.first { !weekly.contains($0) })
        let unlisted = Contract(symbol: "SPY", secType: "OPT", lastTradeDateOrContractMonth: "20260605", strike: missing, right: "C", exchange: "SMART")
        #expect(catalog.match(unlisted).isEmpty)
    }

    @Test func partialOptionDescriptionsListTheMatchingContracts() {
        let catalog = InstrumentCatalog(symbols: ["AAPL"], seed: 1, today: monday, strikesEachSide: 3, weekly: 1, monthly: 1)
        let wholeExpiry = Contract(symbol: "AAPL", secType: "OPT", lastTradeDateOrContractMonth: "20260619", exchange: "SMART")
        #expect(catalog.match(wholeExpiry).count == 14)
        var calls = wholeExpiry
        calls.right = "CALL"
        calls.strike = 0  // ib_async's "unset"
        #expect(catalog.match(calls).count == 7)
        var month = calls
        month.lastTradeDateOrContractMonth = "202606"
        #expect(catalog.match(month).count == 12)  // the weekly 0605 (5 strikes) and the monthly 0619 (7)
        guard case .option(let o)? = catalog.match(calls).first else { Issue.record("no option"); return }
        #expect(o.localSymbol.hasPrefix("AAPL  260619C00"))
        #expect(catalog.match(Contract(conId: o.conId, secType: "")) == [.option(o)])
        #expect(catalog.match(Contract(conId: o.conId, secType: "STK")).isEmpty)
    }

    @Test func tradingHoursFollowIBsFormat() {
        let friday = SimDate(year: 2026, month: 6, day: 5)
        let us = TradingCalendar(mode: .usEquities, days: 3)
        #expect(us.hours(secType: "STK", liquid: false, from: friday) == "20260605:0400-20260605:2000;20260606:CLOSED;20260607:CLOSED")
        #expect(us.hours(secType: "STK", liquid: true, from: friday).hasPrefix("20260605:0930-20260605:1600;"))
        #expect(us.hours(secType: "OPT", liquid: false, from: friday).hasPrefix("20260605:0930-20260605:1600;"))
        let open = TradingCalendar(mode: .alwaysOpen, days: 2)
        #expect(open.hours(secType: "STK", liquid: true, from: friday) == "20260605:0000-20260606:0000;20260606:0000-20260607:0000")
    }

    @Test func usHoursOpenAndCloseOnEasternTime() {
        let us = TradingCalendar(mode: .usEquities)
        #expect(us.isOpen(secType: "OPT", epochMs: mondayMorningMs))  // 10:30 EDT
        #expect(!us.isOpen(secType: "OPT", epochMs: mondayMorningMs - 2 * 3_600_000))  // 08:30
        #expect(us.isOpen(secType: "STK", epochMs: mondayMorningMs - 2 * 3_600_000))
        #expect(!us.isOpen(secType: "STK", epochMs: mondayMorningMs - 2 * 86_400_000))  // Saturday
        #expect(Eastern.connectionTime(epochMs: mondayMorningMs) == "20260601 10:30:00 EDT")
    }
}

@Suite struct PricingTests {
    @Test func blackScholesMatchesTextbookValues() {
        let call = BlackScholes(right: .call, spot: 100, strike: 100, years: 1, rate: 0.05).values(volatility: 0.2)
        let put = BlackScholes(right: .put, spot: 100, strike: 100, years: 1, rate: 0.05).values(volatility: 0.2)
        #expect(abs(call.price - 10.4506) < 1e-4)
        #expect(abs(put.price - 5.5735) < 1e-4)
        #expect(abs(call.delta - 0.6368) < 1e-4)
        #expect(abs(put.delta - (-0.3632)) < 1e-4)
        #expect(abs(call.gamma - 0.018762) < 1e-6)
        #expect(abs(call.vega - 0.37524) < 1e-5)  // per volatility point
        #expect(abs(call.theta - (-6.4140 / 365)) < 1e-5)  // per calendar day
    }

    @Test func impliedVolatilityInvertsThePrice() throws {
        let model = BlackScholes(right: .put, spot: 187.3, strike: 180, years: 30.0 / 365, rate: 0.045)
        let price = model.values(volatility: 0.31).price
        let iv = try #require(model.impliedVolatility(price: price))
        #expect(abs(iv - 0.31) < 1e-7)
        #expect(model.impliedVolatility(price: 0) == nil)  // below any volatility's price
    }

    @Test func seededRandomIsReproducible() {
        var a = SplitMix64(seed: 42, salt: 265_598)
        var b = SplitMix64(seed: 42, salt: 265_598)
        var c = SplitMix64(seed: 43, salt: 265_598)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
    }
}
