import MarketModel
import Testing

@testable import MarketData

@Suite("OptionWindow")
struct OptionWindowTests {
    static let strikes = stride(from: 100.0, through: 200.0, by: 5.0).map { $0 }
    static let expiries = ["20261120", "20261127", "20261204", "20261218"]

    static let nearestTable: [(price: Double, strike: Double)] = [
        (152, 150), (152.5, 150), (152.51, 155), (99, 100), (1000, 200), (100, 100), (147.6, 150),
    ]

    @Test("nearest strike", arguments: nearestTable)
    func nearest(price: Double, strike: Double) {
        let i = OptionWindow.nearestStrikeIndex(Self.strikes, to: price)
        #expect(i.map { Self.strikes[$0] } == strike)
        #expect(OptionWindow.nearestStrikeIndex([], to: price) == nil)
    }

    @Test func initialSelectionOrderAndContents() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 2, strikesAroundATM: 2)
        let change = w.update(underlyingPrice: 152, today: "20261120")
        #expect(change.removed.isEmpty)
        #expect(change.added.count == 2 * 5 * 2)
        #expect(w.centreStrike == 150)
        // Expiring today still counts; priority: expiry, distance from ATM, strike, call first.
        let head = change.added.prefix(6).map { "\($0.key)" }
        #expect(head == [
            "20261120:150:C", "20261120:150:P", "20261120:145:C", "20261120:145:P", "20261120:155:C", "20261120:155:P",
        ])
        #expect(Set(change.added.map(\.key.expiry)) == ["20261120", "20261127"])
        #expect(Set(change.added.map(\.key.strike)) == [140, 145, 150, 155, 160])
        #expect(change.added.last?.expiryRank == 1)
        #expect(change.added.last?.strikeRank == 2)
        #expect(w.keys.count == 20)
    }

    @Test func expiredExpiriesAreSkipped() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 2, strikesAroundATM: 0)
        _ = w.update(underlyingPrice: 150, today: "20261121")
        #expect(w.keys == [
            OptionKey(expiry: "20261127", strike: 150, right: .call), OptionKey(expiry: "20261127", strike: 150, right: .put),
            OptionKey(expiry: "20261204", strike: 150, right: .call), OptionKey(expiry: "20261204", strike: 150, right: .put),
        ])
    }

    @Test func dayRolloverSwapsTheExpiry() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 2, strikesAroundATM: 1)
        _ = w.update(underlyingPrice: 150, today: "20261120")
        let change = w.update(underlyingPrice: 150, today: "20261123")
        #expect(change.removed.allSatisfy { $0.expiry == "20261120" })
        #expect(change.removed.count == 6)
        #expect(change.added.allSatisfy { $0.key.expiry == "20261204" })
        #expect(change.added.count == 6)
        #expect(change.reason.contains("day changed"))
    }

    @Test func recentringNeedsTheHysteresisMargin() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 1, strikesAroundATM: 2)
        _ = w.update(underlyingPrice: 150, today: "20261120")
        // Midpoint 152.5, margin 0.25 x 5 = 1.25: the window moves above 153.75 only.
        let r1 = w.update(underlyingPrice: 153, today: "20261120")
        #expect(r1.isEmpty)
        let r2 = w.update(underlyingPrice: 153.75, today: "20261120")
        #expect(r2.isEmpty)
        #expect(w.centreStrike == 150)
        let move = w.update(underlyingPrice: 153.8, today: "20261120")
        #expect(w.centreStrike == 155)
        #expect(move.removed == [OptionKey(expiry: "20261120", strike: 140, right: .call), OptionKey(expiry: "20261120", strike: 140, right: .put)])
        #expect(move.added.map(\.key) == [OptionKey(expiry: "20261120", strike: 165, right: .call), OptionKey(expiry: "20261120", strike: 165, right: .put)])
        #expect(move.added.allSatisfy { $0.strikeRank == 2 })
        #expect(move.reason == "re-centred from 150 to 155 at price 153.8")
        // Back down needs a price below 151.25.
        let r3 = w.update(underlyingPrice: 151.3, today: "20261120")
        #expect(r3.isEmpty)
        let r4 = w.update(underlyingPrice: 151.2, today: "20261120")
        #expect(!r4.isEmpty)
        #expect(w.centreStrike == 150)
    }

    @Test func oscillationAroundAMidpointDoesNotChurn() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 2, strikesAroundATM: 5)
        _ = w.update(underlyingPrice: 152.4, today: "20261120")
        var changes = 0
        for i in 0..<1000 {
            let price = 152.5 + (i % 2 == 0 ? 1.2 : -1.2)
            if !w.update(underlyingPrice: price, today: "20261120").isEmpty { changes += 1 }
        }
        #expect(changes == 0)
    }

    @Test func largeJumpRecentresOnTheNearestStrike() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 1, strikesAroundATM: 1)
        _ = w.update(underlyingPrice: 150, today: "20261120")
        let change = w.update(underlyingPrice: 181, today: "20261120")
        #expect(w.centreStrike == 180)
        #expect(change.removed.count == 6)
        #expect(change.added.count == 6)
        #expect(Set(w.keys.map(\.strike)) == [175, 180, 185])
    }

    @Test func windowIsTruncatedAtTheEdgeOfTheChain() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 1, strikesAroundATM: 3)
        _ = w.update(underlyingPrice: 101, today: "20261120")
        #expect(Set(w.keys.map(\.strike)) == [100, 105, 110, 115])
    }

    @Test func unevenStrikeGapsUseTheGapTowardsThePrice() {
        let strikes = [90.0, 95, 97.5, 100, 102.5, 105, 110]
        var w = OptionWindow(expirations: ["20261218"], strikes: strikes, expirationsCount: 1, strikesAroundATM: 1)
        _ = w.update(underlyingPrice: 105, today: "20261120")
        // Gap 105 -> 110 is 5: midpoint 107.5, margin 1.25.
        let r5 = w.update(underlyingPrice: 108.5, today: "20261120")
        #expect(r5.isEmpty)
        let r6 = w.update(underlyingPrice: 108.8, today: "20261120")
        #expect(!r6.isEmpty)
        #expect(w.centreStrike == 110)
        // Gap 105 -> 102.5 is 2.5: from 105 down, midpoint 103.75, margin 0.625.
        _ = w.update(underlyingPrice: 105, today: "20261120")
        #expect(w.centreStrike == 105)
        let r7 = w.update(underlyingPrice: 103.2, today: "20261120")
        #expect(r7.isEmpty)
        let r8 = w.update(underlyingPrice: 103.1, today: "20261120")
        #expect(!r8.isEmpty)
        #expect(w.centreStrike == 102.5)
    }

    @Test func unusablePricesChangeNothing() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 1, strikesAroundATM: 1)
        _ = w.update(underlyingPrice: 150, today: "20261120")
        for price in [0, -1, Double.nan, .infinity] {
            let r9 = w.update(underlyingPrice: price, today: "20261120")
            #expect(r9.isEmpty)
        }
        #expect(w.keys.count == 6)
    }

    @Test func newChainKeepsTheCentreWhenListed() {
        var w = OptionWindow(expirations: Self.expiries, strikes: Self.strikes, expirationsCount: 1, strikesAroundATM: 1)
        _ = w.update(underlyingPrice: 153.5, today: "20261120")
        #expect(w.centreStrike == 155)
        let change = w.updateChain(expirations: Self.expiries, strikes: Self.strikes + [152.5, 157.5], underlyingPrice: 153.5, today: "20261120")
        // 152.5 is now nearer, but 153.5 is inside the dead band (moving needs < 153.125):
        // the centre stays at 155 and its neighbours tighten.
        #expect(w.centreStrike == 155)
        #expect(Set(w.keys.map(\.strike)) == [152.5, 155, 157.5])
        #expect(Set(change.removed.map(\.strike)) == [150, 160])
    }

    @Test func emptyChainYieldsEmptyWindow() {
        var w = OptionWindow(expirations: [], strikes: [], expirationsCount: 2, strikesAroundATM: 5)
        let change = w.update(underlyingPrice: 100, today: "20261120")
        #expect(change.isEmpty)
        #expect(w.keys.isEmpty)
    }
}
