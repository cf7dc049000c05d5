import Testing
@testable import RedisPublisher

@Suite("LatencyHistogram")
struct LatencyHistogramTests {
    @Test func percentilesAreWithinOneBucket() {
        var h = LatencyHistogram()
        #expect(h.percentile(0.5) == nil)
        for i in 1...100 { h.record(nanos: UInt64(i) * 1000) }  // 1 µs ... 100 µs
        #expect(h.count == 100)
        #expect(h.mean == .nanoseconds(50_500))
        let p50 = h.percentile(0.5)!
        let p99 = h.percentile(0.99)!
        #expect(p50 >= .microseconds(50) && p50 <= .nanoseconds(50_000 * 109 / 100))
        #expect(p99 >= .microseconds(99) && p99 <= .microseconds(100))
        #expect(h.percentile(1) == .microseconds(100))
    }

    /// What `/metrics` replays into its histogram: only the writes since the last copy.
    @Test func recordedSinceAnEarlierCopyIsTheDifferencePerBucket() {
        var h = LatencyHistogram()
        h.record(nanos: 1_000)
        let earlier = h
        h.record(nanos: 1_000)
        h.record(nanos: 1_000)
        h.record(nanos: 3_000_000)
        let delta = h.recorded(since: earlier)
        #expect(delta.map(\.count) == [2, 1])
        #expect(delta[0].nanos >= 1_000 && delta[0].nanos < 1_200)
        #expect(delta[1].nanos == 3_000_000, "capped at the maximum seen")
        #expect(h.recorded(since: h).isEmpty)
    }

    @Test func bucketEdgesContainTheirValues() {
        for v: UInt64 in [0, 1, 7, 8, 15, 16, 17, 1000, 123_456_789, UInt64(Int64.max)] {
            let b = LatencyHistogram.bucket(v)
            #expect(LatencyHistogram.upperEdge(b) >= v)
            if b > 0 { #expect(LatencyHistogram.upperEdge(b - 1) < v) }
        }
    }
}
