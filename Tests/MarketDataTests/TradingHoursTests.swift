import Foundation
import Testing
import TWSProtocol

@testable import MarketData

/// Epoch ms of a UTC wall-clock time; the expected values below are worked out by hand.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int = 0) -> Int64 {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    let date = cal.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi))!
    return Int64(date.timeIntervalSince1970 * 1000)
}

@Suite("TradingHours")
struct TradingHoursTests {
    @Test func newFormatUSEastern() {
        let h = TradingHours(
            "20261125:0930-20261125:1600;20261126:CLOSED;20261127:0930-20261127:1300", timeZoneId: "US/Eastern")
        #expect(h.problems.isEmpty)
        #expect(h.sessions == [utc(2026, 11, 25, 14, 30)..<utc(2026, 11, 25, 21), utc(2026, 11, 27, 14, 30)..<utc(2026, 11, 27, 18)])
        #expect(h.status(atMs: utc(2026, 11, 25, 14, 30)) == .open)
        #expect(h.status(atMs: utc(2026, 11, 25, 14, 30) - 1) == .closed)
        #expect(h.status(atMs: utc(2026, 11, 25, 21)) == .closed)
        #expect(h.status(atMs: utc(2026, 11, 25, 21) - 1) == .open)
        #expect(h.status(atMs: utc(2026, 11, 26, 16)) == .closed)  // Thanksgiving
        #expect(!h.isOpen(atMs: utc(2026, 11, 26, 16)))
        #expect(h.isOpen(atMs: utc(2026, 11, 27, 17, 59)))
    }

    @Test func olderFormatWithSplitRangesMerges() {
        let h = TradingHours("20090507:0700-1830,1830-2330;20090508:CLOSED", timeZoneId: "EST5EDT")
        #expect(h.problems.isEmpty)
        // May: daylight time, UTC-4; the two touching ranges are one session.
        #expect(h.sessions == [utc(2009, 5, 7, 11)..<utc(2009, 5, 8, 3, 30)])
        #expect(h.status(atMs: utc(2009, 5, 7, 22, 30)) == .open)
        #expect(h.status(atMs: utc(2009, 5, 8, 12)) == .closed)
        #expect(h.coverage == utc(2009, 5, 7, 4)..<utc(2009, 5, 9, 4))
    }

    @Test func olderFormatEndBeforeStartIsNextDay() {
        let h = TradingHours("20090507:1715-1600", timeZoneId: "US/Central")
        #expect(h.sessions == [utc(2009, 5, 7, 22, 15)..<utc(2009, 5, 8, 21)])
    }

    @Test func overnightSessionCrossesMidnight() {
        let h = TradingHours(
            "20261122:1700-20261123:1600;20261123:1700-20261124:1600", timeZoneId: "US/Central")
        #expect(h.sessions == [utc(2026, 11, 22, 23)..<utc(2026, 11, 23, 22), utc(2026, 11, 23, 23)..<utc(2026, 11, 24, 22)])
        #expect(h.status(atMs: utc(2026, 11, 23, 6)) == .open)
        #expect(h.status(atMs: utc(2026, 11, 23, 22, 30)) == .closed)
        #expect(h.nextOpen(afterMs: utc(2026, 11, 23, 22, 30)) == utc(2026, 11, 23, 23))
        #expect(h.nextClose(afterMs: utc(2026, 11, 23, 6)) == utc(2026, 11, 23, 22))
        #expect(h.nextClose(afterMs: utc(2026, 11, 23, 22, 30)) == utc(2026, 11, 24, 22))
        #expect(h.nextOpen(afterMs: utc(2026, 11, 24, 0)) == nil)
    }

    @Test func lunchBreakInTokyo() {
        let h = TradingHours("20261126:0900-20261126:1130;20261126:1230-20261126:1500", timeZoneId: "Japan")
        #expect(h.sessions == [utc(2026, 11, 26, 0)..<utc(2026, 11, 26, 2, 30), utc(2026, 11, 26, 3, 30)..<utc(2026, 11, 26, 6)])
        #expect(h.status(atMs: utc(2026, 11, 26, 3)) == .closed)
        #expect(h.nextOpen(afterMs: utc(2026, 11, 26, 3)) == utc(2026, 11, 26, 3, 30))
    }

    static let zoneTable: [(zone: String, day: String, openUTC: (Int, Int, Int, Int, Int))] = [
        ("US/Eastern", "20260715", (2026, 7, 15, 13, 30)),  // EDT
        ("US/Eastern", "20261215", (2026, 12, 15, 14, 30)),  // EST
        ("America/New_York", "20261215", (2026, 12, 15, 14, 30)),
        ("EST", "20260715", (2026, 7, 15, 13, 30)),  // IB's EST follows daylight saving
        ("MET", "20260715", (2026, 7, 15, 7, 30)),  // CEST
        ("MET", "20261215", (2026, 12, 15, 8, 30)),
        ("GB-Eire", "20260715", (2026, 7, 15, 8, 30)),
        ("Hongkong", "20260715", (2026, 7, 15, 1, 30)),
        ("Australia/NSW", "20260715", (2026, 7, 14, 23, 30)),
    ]

    @Test("time zones", arguments: zoneTable.indices)
    func zones(index: Int) {
        let row = Self.zoneTable[index]
        let h = TradingHours("\(row.day):0930-\(row.day):1600", timeZoneId: row.zone)
        #expect(h.problems.isEmpty)
        let (y, mo, d, hh, mi) = row.openUTC
        #expect(h.sessions.first?.lowerBound == utc(y, mo, d, hh, mi), "\(row.zone) \(row.day)")
    }

    @Test func unknownZoneAndEmptyHoursAreOpen() {
        let unknownZone = TradingHours("20261125:0930-20261125:1600", timeZoneId: "Mars/Olympus")
        #expect(unknownZone.problems.count == 1)
        #expect(unknownZone.status(atMs: utc(2026, 11, 25, 3)) == .unknown)
        #expect(unknownZone.isOpen(atMs: utc(2026, 11, 25, 3)))
        let empty = TradingHours("", timeZoneId: "US/Eastern")
        #expect(empty.status(atMs: utc(2026, 11, 25, 3)) == .unknown)
        #expect(empty.isOpen(atMs: 0))
        #expect(TradingHours.unknown.isOpen(atMs: 0))
    }

    @Test func outsideTheListedDaysIsUnknown() {
        let h = TradingHours("20261125:0930-20261125:1600;20261126:CLOSED", timeZoneId: "US/Eastern")
        #expect(h.status(atMs: utc(2026, 11, 26, 16)) == .closed)
        #expect(h.status(atMs: utc(2026, 11, 27, 16)) == .unknown)
        #expect(h.isOpen(atMs: utc(2026, 11, 27, 16)))
        #expect(h.status(atMs: utc(2026, 11, 24, 16)) == .unknown)
    }

    @Test func malformedSegmentsAreSkippedAndReported() {
        let h = TradingHours("2026112:0930-1600;20261125:0930-20261125:1600;20261126:99-x;;", timeZoneId: "US/Eastern")
        #expect(h.problems.count == 2)
        #expect(h.sessions == [utc(2026, 11, 25, 14, 30)..<utc(2026, 11, 25, 21)])
    }

    @Test func contractDetailsPreferLiquidHours() {
        var d = ContractDetails(contract: Contract(symbol: "AAPL"))
        d.timeZoneId = "US/Eastern"
        d.tradingHours = "20261125:0400-20261125:2000"
        d.liquidHours = "20261125:0930-20261125:1600"
        #expect(TradingHours(details: d).sessions == [utc(2026, 11, 25, 14, 30)..<utc(2026, 11, 25, 21)])
        #expect(TradingHours(details: d, liquid: false).sessions == [utc(2026, 11, 25, 9)..<utc(2026, 11, 26, 1)])
        d.liquidHours = ""
        #expect(TradingHours(details: d).sessions == [utc(2026, 11, 25, 9)..<utc(2026, 11, 26, 1)])
    }
}
