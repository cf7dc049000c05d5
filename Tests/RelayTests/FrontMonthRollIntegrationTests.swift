import Foundation
import NIOConcurrencyHelpers
import Relay
import Simulators
import Testing

/// A wall clock the test moves: the real time plus an offset it sets. (NIO's lock, not
/// `Mutex`: the worker calls it from async code; BENCHMARKS.md "Found while benchmarking".)
final class MovableWallClock: Sendable {
    private let offsetMs: NIOLockedValueBox<Int64>

    init(startingAtMs start: Int64) { offsetMs = NIOLockedValueBox(start - WallClock.nowMs()) }

    @Sendable func now() -> Int64 { WallClock.nowMs() + offsetMs.withLockedValue { $0 } }

    /// Moves the clock so that it reads `ms` now (and runs on from there).
    func set(_ ms: Int64) { offsetMs.withLockedValue { $0 = ms - WallClock.nowMs() } }
}

/// The `front_month` roll (README "Instruments and key grammar") end to end with an injected
/// clock: IB's contract details (the simulator's ES quarterlies, listed for a fixed "today")
/// decide the front month; when the worker's exchange date reaches the roll date (5 calendar
/// days before the last trading day) the old month's line is cancelled at the gateway
/// (cancelMktData, 2) and the next month is subscribed under the same `ES.FRONT` key.
@Suite(.serialized)
struct FrontMonthRollIntegrationTests {
    /// 2026-11-30 15:00 UTC (09:00 in Chicago, CME's zone), and the roll day 2026-12-13.
    static let monday: Int64 = 1_796_050_800_000
    static let rollDay: Int64 = monday + 13 * 86_400_000

    @Test func frontMonthRollsAtTheGatewayAndKeepsItsKey() async throws {
        let clock = MovableWallClock(startingAtMs: Self.monday)
        var o = WorkerHarness.Options()
        o.symbols = [SymbolSpec(symbol: "ES", secType: .future, exchange: "CME", contractMonth: .front(rollDaysBeforeExpiry: 5))]
        o.simToday = SimDate(year: 2026, month: 11, day: 30)
        o.wallClock = clock.now
        let h = try await WorkerHarness.start(o)
        func futureLines() async -> [SubscriptionInfo] { await h.ib.subscriptions().filter { $0.clientId == 5 && $0.secType == "FUT" } }

        // ESZ6 (last trading day 2026-12-18) is the front month until 2026-12-13.
        // Generous waits: CI starts every suite at once on two cores.
        #expect(await h.wait(.seconds(30)) { h.hash("quote:ES.FRONT")["local_symbol"] == "ESZ6" && h.hash("quote:ES.FRONT")["last"] != nil })
        let before = h.hash("quote:ES.FRONT")
        #expect(before["contract_month"] == "202612" && before["symbol"] == "ES.FRONT")
        let oldLines = await futureLines()
        #expect(oldLines.count == 1)
        let oldConId = try #require(oldLines.first?.conId)
        #expect(before["con_id"] == String(oldConId))

        // The day before the roll date nothing happens.
        clock.set(Self.rollDay - 86_400_000)
        try await Task.sleep(for: .seconds(1))
        #expect(await futureLines().map(\.conId) == [oldConId])

        // On the roll date: ESZ6's line is cancelled at the gateway, ESH7's subscribed.
        clock.set(Self.rollDay)
        let rolled = await h.waitAsync(.seconds(30)) {
            let lines = await futureLines()
            return lines.count == 1 && lines[0].conId != oldConId
        }
        let linesNow = await futureLines()
        #expect(rolled, "gateway lines: \(linesNow)")
        let newConId = try #require(await futureLines().first?.conId)
        #expect(await h.wait(.seconds(20)) { h.hash("quote:ES.FRONT")["con_id"] == String(newConId) })
        let after = h.hash("quote:ES.FRONT")
        #expect(after["local_symbol"] == "ESH7" && after["contract_month"] == "202703" && after["symbol"] == "ES.FRONT")
        #expect(after["sec_type"] == "FUT" && after["multiplier"] == "50")
        // One key names the front month; no month key appears beside it.
        #expect(h.keys("quote:*") == ["\(h.prefix):quote:ES.FRONT"])
        try await h.stop()
    }
}
