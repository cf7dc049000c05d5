/// Write latencies in log-linear buckets (8 per power of two, so any percentile is within
/// ~9%), cheap enough to record every write and small enough to copy into stats.
public struct LatencyHistogram: Sendable, Hashable {
    static let subBuckets = 8
    private(set) var buckets = [UInt64](repeating: 0, count: 64 * subBuckets)
    public private(set) var count: UInt64 = 0
    public private(set) var sumNanos: UInt64 = 0
    public private(set) var maxNanos: UInt64 = 0

    public init() {}

    public mutating func record(nanos: UInt64) {
        buckets[Self.bucket(nanos)] &+= 1
        count &+= 1
        sumNanos &+= nanos
        maxNanos = max(maxNanos, nanos)
    }

    /// The latency below which `fraction` (0...1) of the recorded writes fall (the upper
    /// edge of its bucket, capped at the maximum seen); nil before any write.
    public func percentile(_ fraction: Double) -> Duration? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((Double(count) * min(max(fraction, 0), 1)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen >= rank {
                return .nanoseconds(Int64(min(Self.upperEdge(index), maxNanos)))
            }
        }
        return .nanoseconds(Int64(maxNanos))
    }

    /// The writes recorded since `earlier` (an older copy of this histogram), per bucket: a
    /// representative latency (the bucket's upper edge, capped at the maximum seen) and how
    /// many writes fell in it. Lets a metrics exporter replay the distribution without the
    /// writer thread calling into it on every write.
    public func recorded(since earlier: LatencyHistogram) -> [(nanos: UInt64, count: UInt64)] {
        var out: [(nanos: UInt64, count: UInt64)] = []
        for (index, n) in buckets.enumerated() where n > earlier.buckets[index] {
            out.append((min(Self.upperEdge(index), maxNanos), n - earlier.buckets[index]))
        }
        return out
    }

    public var mean: Duration? {
        count > 0 ? .nanoseconds(Int64(sumNanos / count)) : nil
    }

    static func bucket(_ nanos: UInt64) -> Int {
        guard nanos >= UInt64(subBuckets) else { return Int(nanos) }
        let log2 = 63 - nanos.leadingZeroBitCount          // >= 3
        let shift = log2 - 3                                 // keep the top 4 bits
        let mantissa = Int(nanos >> UInt64(shift)) - subBuckets  // 0..<8
        return (shift + 1) * subBuckets + mantissa
    }

    static func upperEdge(_ index: Int) -> UInt64 {
        guard index >= subBuckets else { return UInt64(index) }
        let shift = index / subBuckets - 1
        let mantissa = UInt64(index % subBuckets + subBuckets)
        return ((mantissa + 1) << UInt64(shift)) - 1
    }
}
