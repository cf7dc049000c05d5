#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers
import Synchronization
import TWSProtocol

/// Benchmark mode of the IB Gateway simulator (benchmarks/e2e): every stock (and option) update
/// carries a global sequence number in its `volume` tick, and the simulator records when the message
/// holding it was handed to the socket. A subscriber in the same process (same monotonic
/// clock) reads `volume` back from the published JSON and gets the tick-to-subscriber latency
/// of that exact update, through whatever client and Redis sit in between.
///
/// Off unless `Configuration.benchmarkStamps` is set; the normal simulator never pays for it.
///
/// Storage is a ring of `capacity` slots indexed by `seq % capacity`, so memory stays fixed
/// however long a run is; a sequence number older than `capacity` updates is reported as
/// unknown rather than misattributed. The simulator's event loop writes, any thread reads.
public final class BenchmarkStamps: @unchecked Sendable {
    // @unchecked: the three buffers are allocated once, never reallocated, freed in deinit,
    // and every element is an `Atomic`, so concurrent access from the simulator's loop and a
    // subscriber thread is race-free by construction.
    private let sequences: UnsafeMutablePointer<Synchronization.Atomic<UInt64>>
    private let ordinals: UnsafeMutablePointer<Synchronization.Atomic<UInt64>>
    private let sentNanos: UnsafeMutablePointer<Synchronization.Atomic<UInt64>>
    private let mask: UInt64
    private let issued = Synchronization.Atomic<UInt64>(0)
    /// Per underlying conId, how many updates it has had: lets a reader turn "the latest seq I
    /// saw for AAPL" into "how many AAPL updates that covers", which is how coalesced delivery
    /// is credited with the updates it absorbed.
    private let perInstrument = NIOLockedValueBox<[Int64: UInt64]>([:])

    /// What the simulator recorded about one sequence number.
    public struct Stamp: Sendable, Hashable {
        /// The 1-based count of updates of the same instrument up to and including this one.
        public var ordinal: UInt64
        /// `BenchmarkStamps.nanos()` just before the message was written to the socket.
        public var sentNanos: UInt64

        public init(ordinal: UInt64, sentNanos: UInt64) {
            self.ordinal = ordinal
            self.sentNanos = sentNanos
        }
    }

    /// - Parameter capacity: ring slots, rounded up to a power of two (default 4 Mi: 96 MiB,
    ///   about 8 s of history at 500k updates/s).
    public init(capacity: Int = 1 << 22) {
        var size = 1
        while size < max(capacity, 2) { size <<= 1 }
        mask = UInt64(size - 1)
        sequences = Self.allocate(size)
        ordinals = Self.allocate(size)
        sentNanos = Self.allocate(size)
    }

    deinit {
        let size = Int(mask) + 1
        for buffer in [sequences, ordinals, sentNanos] {
            buffer.deinitialize(count: size)
            buffer.deallocate()
        }
    }

    private static func allocate(_ size: Int) -> UnsafeMutablePointer<Synchronization.Atomic<UInt64>> {
        let buffer = UnsafeMutablePointer<Synchronization.Atomic<UInt64>>.allocate(capacity: size)
        for i in 0..<size { (buffer + i).initialize(to: Synchronization.Atomic(0)) }
        return buffer
    }

    /// Monotonic time in nanoseconds (CLOCK_MONOTONIC), the clock of every stamp.
    public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// The last sequence number handed out (0 before the first update).
    public var lastIssued: UInt64 { issued.load(ordering: .acquiring) }

    /// Called by the simulator for each stock update: the next sequence number, which becomes
    /// the update's volume. Sequence numbers start at 1.
    func issue(conId: Int64) -> UInt64 {
        let ordinal = perInstrument.withLockedValue { counts -> UInt64 in
            let next = counts[conId, default: 0] + 1
            counts[conId] = next
            return next
        }
        let seq = issued.load(ordering: .relaxed) + 1
        let slot = Int(seq & mask)
        // Invalidate first so that a reader never pairs the new seq with the old slot's data.
        sequences[slot].store(0, ordering: .releasing)
        ordinals[slot].store(ordinal, ordering: .relaxed)
        sentNanos[slot].store(0, ordering: .relaxed)
        sequences[slot].store(seq, ordering: .releasing)
        issued.store(seq, ordering: .releasing)
        return seq
    }

    /// Records the send time of every sequence number in a batch about to be written: the
    /// volume ticks (live 8, delayed 74) of stock updates.
    func stampSent(_ messages: [ServerMessage]) {
        let now = Self.nanos()
        for case .tickSize(_, let tickType, let size?) in messages where tickType == 8 || tickType == 74 {
            guard size >= 1, size < 1.0e15 else { continue }
            let seq = UInt64(size)
            let slot = Int(seq & mask)
            guard sequences[slot].load(ordering: .acquiring) == seq else { continue }
            // Only the first write counts: a later subscriber's copy is not the same message.
            _ = sentNanos[slot].compareExchange(expected: 0, desired: now, ordering: .relaxed)
        }
    }

    /// The stamp of `seq`, or nil when it was never issued, has left the ring, or was not sent
    /// yet (a value that is not a benchmark sequence number, e.g. a subscription's initial
    /// volume, is nil as well).
    public func lookup(_ seq: UInt64) -> Stamp? {
        guard seq > 0 else { return nil }
        let slot = Int(seq & mask)
        guard sequences[slot].load(ordering: .acquiring) == seq else { return nil }
        let stamp = Stamp(
            ordinal: ordinals[slot].load(ordering: .relaxed), sentNanos: sentNanos[slot].load(ordering: .relaxed))
        // Re-check: the slot may have been reused while it was read.
        guard sequences[slot].load(ordering: .acquiring) == seq, stamp.sentNanos != 0 else { return nil }
        return stamp
    }
}

extension MarketSimulator {
    /// Benchmark mode: the stock's volume becomes the update's sequence number, so that every
    /// update changes the volume tick and can be traced to the subscriber.
    /// Indexes and FX pairs carry no volume tick (IB sends none), so their updates get no
    /// sequence number: one that is never sent would count as offered and never delivered.
    mutating func stampVolume(of stock: StockListing, with stamps: BenchmarkStamps) {
        guard stocks[stock.conId] != nil, stock.secType != "IND", stock.secType != "CASH" else { return }
        stocks[stock.conId]?.volume = Double(stamps.issue(conId: stock.conId))
    }

    /// The same for an option line (its own volume, tick 8): the option-lines benchmark traces
    /// option updates to the subscriber like stock updates.
    mutating func stampVolume(of option: OptionListing, with stamps: BenchmarkStamps) {
        guard options[option.conId] != nil else { return }
        options[option.conId]?.volume = Double(stamps.issue(conId: option.conId))
    }
}
