/// Percentiles of a window's tick-to-subscriber latencies, in microseconds. Nearest-rank
/// percentiles over every sample (no histogram buckets, no interpolation): p99 of 10,000
/// samples is the 9,900th smallest.
public struct LatencySummary: Sendable, Equatable, Codable {
    public var count: Int
    public var p50Micros: Double
    public var p90Micros: Double
    public var p99Micros: Double
    public var p999Micros: Double
    public var maxMicros: Double
    public var meanMicros: Double

    public init?(nanos samples: [UInt64]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func rank(_ p: Double) -> Double {
            let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1000
        }
        count = sorted.count
        p50Micros = rank(0.50)
        p90Micros = rank(0.90)
        p99Micros = rank(0.99)
        p999Micros = rank(0.999)
        maxMicros = Double(sorted[sorted.count - 1]) / 1000
        meanMicros = Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000
    }
}
