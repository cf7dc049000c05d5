import Foundation
import MarketModel
import Testing
import TWSProtocol

@testable import MarketData

@Suite("OptionChainBuilder")
struct OptionChainBuilderTests {
    static func params(_ exchange: String, _ tradingClass: String, _ expirations: [String], _ strikes: [Double]) -> OptionParameters {
        OptionParameters(
            reqId: 9, exchange: exchange, underlyingConId: 416_904, tradingClass: tradingClass, multiplier: "100",
            expirations: expirations, strikes: strikes)
    }

    @Test func picksSmartAndTheSymbolsTradingClass() {
        var b = OptionChainBuilder(symbol: "SPX")
        b.add(Self.params("CBOE", "SPX", ["20261218"], [4000, 4100]))
        b.add(Self.params("SMART", "SPXW", ["20261120", "20261127", "20261218"], [4000, 4050, 4100]))
        b.add(Self.params("SMART", "SPX", ["20261218", "20261120"], [4100, 4000, 4000]))
        let chain = b.chain()
        #expect(chain?.tradingClass == "SPX")
        #expect(chain?.exchange == "SMART")
        #expect(chain?.expirations == ["20261120", "20261218"])
        #expect(chain?.strikes == [4000, 4100])
        #expect(chain?.underlyingConId == 416_904)
        #expect(chain?.multiplier == "100")
        #expect(b.chain(tradingClass: "SPXW")?.expirations.count == 3)
        let record = chain!.record(source: .ib, updatedMs: 1)
        #expect(record.value("strikes") == "4000,4100")
        #expect(record.value("expirations") == "20261120,20261218")
    }

    @Test func fallsBackToTheClassWithMostExpiriesAndToOtherExchanges() {
        var b = OptionChainBuilder(symbol: "BRK B")
        b.add(Self.params("CBOE", "BRKB", ["20261218", "20261120"], [400, 410]))
        b.add(Self.params("CBOE", "BRK", ["20261218"], [400]))
        let chain = b.chain()
        #expect(chain?.tradingClass == "BRKB")
        #expect(chain?.exchange == "CBOE")
    }

    @Test func nothingUsableIsNil() {
        var b = OptionChainBuilder(symbol: "XYZ")
        #expect(b.chain() == nil)
        b.add(Self.params("SMART", "XYZ", [], [10]))
        #expect(b.chain() == nil)
    }

    @Test func exchangeDateFollowsTheExchangeZone() {
        // 03:30 UTC on 26 Nov is still 25 Nov in New York and already 26 Nov in Tokyo.
        let t = utc(2026, 11, 26, 3, 30)
        #expect(TradingHours("", timeZoneId: "US/Eastern").date(atMs: t) == "20261125")
        #expect(TradingHours("", timeZoneId: "Japan").date(atMs: t) == "20261126")
        #expect(TradingHours.unknown.date(atMs: t) == "20261126")
    }
}
