import Simulators
import Testing

@testable import BenchE2E

@Suite("DeliveryTracker")
struct DeliveryTrackerTests {
    func stamp(_ ordinal: UInt64, sent: UInt64) -> BenchmarkStamps.Stamp { .init(ordinal: ordinal, sentNanos: sent) }

    /// One message carrying AAPL's 5th update after its 2nd was delivered absorbs 3 updates.
    @Test func coalescedDeliveryIsCreditedWithEveryUpdateItCovers() {
        var t = DeliveryTracker()
        t.record(symbol: "AAPL", sequence: 10, payloadBytes: 100, receivedNanos: 1_000, stamp: stamp(2, sent: 500))
        t.record(symbol: "AAPL", sequence: 40, payloadBytes: 100, receivedNanos: 2_000, stamp: stamp(5, sent: 1_500))
        t.record(symbol: "MSFT", sequence: 41, payloadBytes: 50, receivedNanos: 2_000, stamp: stamp(1, sent: 1_600))
        #expect(t.counters.absorbed == 6)
        #expect(t.counters.messages == 3)
        #expect(t.counters.payloadBytes == 250)
        #expect(t.counters.maxSequence == 41)
    }

    /// A late, older message for a symbol (reordering) adds nothing.
    @Test func olderOrdinalAddsNothing() {
        var t = DeliveryTracker()
        t.record(symbol: "SPY", sequence: 9, payloadBytes: 1, receivedNanos: 10, stamp: stamp(4, sent: 1))
        t.record(symbol: "SPY", sequence: 5, payloadBytes: 1, receivedNanos: 11, stamp: stamp(2, sent: 1))
        #expect(t.counters.absorbed == 4)
        #expect(t.counters.maxSequence == 9)
    }

    @Test func unknownSequencesAreCountedAsUnmatched() {
        var t = DeliveryTracker()
        t.record(symbol: "SPY", sequence: nil, payloadBytes: 1, receivedNanos: 10, stamp: nil)
        t.record(symbol: "SPY", sequence: 77, payloadBytes: 1, receivedNanos: 10, stamp: nil)
        #expect(t.counters.unmatched == 2)
        #expect(t.counters.absorbed == 0)
    }

    /// The window takes latencies only of updates issued after it began.
    @Test func windowSamplesOnlyUpdatesIssuedInside() {
        var t = DeliveryTracker()
        t.beginWindow(afterSequence: 100)
        t.record(symbol: "A", sequence: 100, payloadBytes: 1, receivedNanos: 9_000, stamp: stamp(1, sent: 1_000))
        t.record(symbol: "A", sequence: 101, payloadBytes: 1, receivedNanos: 9_000, stamp: stamp(2, sent: 8_000))
        t.record(symbol: "B", sequence: 102, payloadBytes: 1, receivedNanos: 9_500, stamp: stamp(1, sent: 9_000))
        #expect(t.endWindow() == [1_000, 500])
        t.record(symbol: "B", sequence: 103, payloadBytes: 1, receivedNanos: 9_500, stamp: stamp(2, sent: 9_000))
        #expect(t.endWindow() == [])
    }

    @Test func sampleLimitCountsTheRest() {
        var t = DeliveryTracker(sampleLimit: 2)
        t.beginWindow(afterSequence: 0)
        for seq in 1...5 as ClosedRange<UInt64> {
            t.record(symbol: "A", sequence: seq, payloadBytes: 1, receivedNanos: 10, stamp: stamp(seq, sent: 5))
        }
        #expect(t.droppedSamples == 3)
        #expect(t.endWindow().count == 2)
    }
}

@Suite("LatencySummary")
struct LatencySummaryTests {
    @Test func nearestRankPercentiles() throws {
        let samples = (1...1000).map { UInt64($0) * 1000 }.shuffled()
        let s = try #require(LatencySummary(nanos: samples))
        #expect(s.count == 1000)
        #expect(s.p50Micros == 500)
        #expect(s.p90Micros == 900)
        #expect(s.p99Micros == 990)
        #expect(s.p999Micros == 999)
        #expect(s.maxMicros == 1000)
        #expect(s.meanMicros == 500.5)
    }

    @Test func singleSampleAndEmpty() throws {
        let one = try #require(LatencySummary(nanos: [2_500]))
        #expect(one.p50Micros == 2.5 && one.p99Micros == 2.5 && one.maxMicros == 2.5)
        #expect(LatencySummary(nanos: []) == nil)
    }
}
