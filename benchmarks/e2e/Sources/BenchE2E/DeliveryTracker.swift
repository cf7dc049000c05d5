import Simulators

/// What the subscriber saw, as a value: every delivered message goes through `record`, and
/// a measurement window collects latencies for updates issued inside it. Kept free of I/O
/// so that the crediting rules below are tested with plain values.
///
/// Crediting coalesced delivery: a publisher that merges ten AAPL updates into one write
/// delivers one message carrying the tenth update's sequence number. The simulator's stamp
/// says it is AAPL's n-th update, so the message absorbs every AAPL update up to n that was
/// not credited before. `absorbed` therefore counts source updates whose effect reached the
/// subscriber, however many messages that took.
public struct DeliveryTracker: Sendable {
    public struct Counters: Sendable, Equatable {
        /// Pub/sub messages received.
        public var messages: UInt64 = 0
        /// Their payload bytes.
        public var payloadBytes: UInt64 = 0
        /// Messages whose volume is not a known sequence number (initial snapshots, or
        /// stamps that left the simulator's ring).
        public var unmatched: UInt64 = 0
        /// Source updates covered by what was delivered (see above).
        public var absorbed: UInt64 = 0
        /// The highest sequence number delivered so far.
        public var maxSequence: UInt64 = 0

        public init() {}
    }

    public private(set) var counters = Counters()
    private var latestOrdinal: [String: UInt64] = [:]
    private var windowStart: UInt64?
    private var samples: [UInt64] = []
    /// Samples kept per window at most (64 MiB of UInt64); beyond that they are counted only.
    public let sampleLimit: Int
    public private(set) var droppedSamples = 0

    public init(sampleLimit: Int = 8 << 20) {
        self.sampleLimit = sampleLimit
    }

    /// One delivered message.
    /// - Parameters:
    ///   - stamp: the simulator's record of `sequence`, nil when unknown.
    ///   - receivedNanos: when the read that brought it returned (same clock as the stamp).
    public mutating func record(
        symbol: String, sequence: UInt64?, payloadBytes: Int, receivedNanos: UInt64, stamp: BenchmarkStamps.Stamp?
    ) {
        counters.messages += 1
        counters.payloadBytes += UInt64(payloadBytes)
        guard let sequence, let stamp else {
            counters.unmatched += 1
            return
        }
        counters.maxSequence = max(counters.maxSequence, sequence)
        let previous = latestOrdinal[symbol] ?? 0
        if stamp.ordinal > previous {
            counters.absorbed += stamp.ordinal - previous
            latestOrdinal[symbol] = stamp.ordinal
        }
        guard let start = windowStart, sequence > start else { return }
        guard samples.count < sampleLimit else {
            droppedSamples += 1
            return
        }
        // A receive time before the send time can only come from a stamp taken after the
        // write returned on a loaded machine: count it as zero rather than wrap around.
        samples.append(receivedNanos >= stamp.sentNanos ? receivedNanos - stamp.sentNanos : 0)
    }

    /// Starts collecting latencies of updates with a sequence number above `afterSequence`
    /// (those issued from now on): updates queued before the window are not its business.
    public mutating func beginWindow(afterSequence: UInt64) {
        windowStart = afterSequence
        samples.removeAll(keepingCapacity: true)
        droppedSamples = 0
    }

    /// Ends the window and hands over its latency samples (nanoseconds, arrival order).
    public mutating func endWindow() -> [UInt64] {
        windowStart = nil
        defer { samples = [] }
        return samples
    }
}
