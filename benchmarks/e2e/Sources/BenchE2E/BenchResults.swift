/// A target rate: a fixed number of simulator updates per second, or as many as the system
/// absorbs (closed-loop flood).
public enum TargetRate: Sendable, Hashable, CustomStringConvertible {
    case perSecond(Int)
    case max

    public init?(_ text: String) {
        let t = text.lowercased()
        if t == "max" { self = .max; return }
        let scaled = t.hasSuffix("k") ? Int(t.dropLast()).map { $0 * 1000 } : Int(t)
        guard let n = scaled, n > 0 else { return nil }
        self = .perSecond(n)
    }

    public var description: String {
        switch self {
        case .perSecond(let n): n % 1000 == 0 ? "\(n / 1000)k" : "\(n)"
        case .max: "max"
        }
    }
}

/// One (target, rate) measurement. Rates are per second of the measurement window.
public struct RunResult: Codable, Sendable {
    public var target: String
    public var rate: String
    /// `ok`, `saturated` (absorbed < 90% of offered: the target fell behind) or
    /// `failed: why`.
    public var status: String
    public var windowSeconds: Double = 0
    /// Seconds from launch until every subscription was live at the simulator.
    public var startupSeconds: Double?
    /// Option-lines scenario: streaming lines live at the simulator when the window opened.
    public var linesLive: Int?
    /// Market updates the simulator made (each changes one instrument).
    public var offeredUpdatesPerSecond: Double = 0
    /// TWS tick messages those updates produced on the wire.
    public var offeredTickMessagesPerSecond: Double = 0
    /// Pub/sub messages the subscriber received.
    public var deliveredMessagesPerSecond: Double = 0
    /// Source updates whose effect reached the subscriber (coalesced ones included).
    public var absorbedUpdatesPerSecond: Double = 0
    public var deliveredPayloadBytesPerSecond: Double = 0
    /// Updates issued but not yet delivered when the window closed.
    public var backlogAtEnd: UInt64 = 0
    public var latency: LatencySummary?
    public var droppedSamples = 0
    public var unmatchedMessages: UInt64 = 0
    /// CPU, percent of one core, over the window.
    public var targetCPU: Double?
    public var redisCPU: Double?
    /// The benchmark process: simulator + subscriber (+ the driver, negligible).
    public var benchProcessCPU: Double?
    public var subscriberThreadCPU: Double?
    public var targetRSSKiB: Int?
    public var targetPeakRSSKiB: Int?
    public var stoppedAs: String?
    public var logPath: String?
    /// Which pass over the rates this was (1-based; `--repeats`).
    public var pass: Int?
    /// /proc/loadavg's three figures when the window opened (other work on the machine).
    public var loadAverage: String?

    public init(target: String, rate: String, status: String) {
        self.target = target
        self.rate = rate
        self.status = status
    }
}

/// The worker's memory with quotes and options subscribed.
public struct MemoryResult: Codable, Sendable {
    public var target: String
    public var status: String
    public var quotes: Int = 0
    public var optionsRequested: Int = 0
    /// Streaming subscriptions live at the simulator when memory was read.
    public var subscriptionsLive: Int = 0
    public var readySeconds: Double?
    public var warmupSeconds: Double = 0
    public var updatesPerSecondDuringWarmup: Int = 0
    public var rssKiB: Int?
    public var peakRSSKiB: Int?
    public var logPath: String?

    public init(target: String, status: String) {
        self.target = target
        self.status = status
    }
}

public struct BenchReport: Codable, Sendable {
    public var startedAt: String
    public var symbols: Int
    public var windowSeconds: Double
    public var warmupSeconds: Double
    public var floodWindow: Int
    public var runs: [RunResult] = []
    public var memory: [MemoryResult] = []
    public var notes: [String] = []
}
