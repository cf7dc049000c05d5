import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The status hash waiting to be written (only the latest matters).
struct PendingStatus: Sendable {
    var fields: [(String, String)]
    var ttlMs: Int64
}

/// A `lease` call waiting for the writer thread.
struct LeaseRequest: Sendable {
    var request: LeaseStateMachine.Request
    var token: String
    var ttlMs: Int64
    var continuation: CheckedContinuation<LeaseReply, any Error>
}

/// A `checkStaleness` call waiting for the writer thread.
struct StalenessRequest: Sendable {
    var thresholdMs: Int64
    var continuation: CheckedContinuation<StalenessChange, any Error>
}

/// Everything the producers and the writer thread share.
///
/// `@unchecked Sendable` is safe because every mutable property is read and written only
/// while `condition` is locked (through `locked`); the writer sleeps on the same condition.
final class PublisherShared: @unchecked Sendable {
    private let condition = NSCondition()

    var pending: PendingWrites
    var status: PendingStatus?
    var stalenessRequests: [StalenessRequest] = []
    var leaseRequests: [LeaseRequest] = []
    /// `worker.group`: the token every data write carries (nil: standby, data writes dropped).
    var fenceToken: String?
    /// Grows with every token change: the writer then forgets what it wrote under the old one.
    var fenceGeneration: UInt64 = 0
    /// The generation in which Redis last refused a write with `FENCED`: equal to
    /// `fenceGeneration` when the current token was refused (a late refusal of a batch sent
    /// under an earlier token does not count).
    var fenceRefusedGeneration: UInt64?
    var flushWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    var runWaiters: [CheckedContinuation<Void, Never>] = []
    var nextWaiterID: UInt64 = 0
    /// Batches taken whose replies are not all in yet (at most two: the writer prepares and
    /// sends the next batch while the server works on the previous one).
    var inFlight = 0
    /// The writer sleeps waiting for work: only then does a producer need to signal.
    var writerWaiting = false
    var started = false
    var stopping = false
    var finished = false
    var everConnected = false
    /// Set by the Sentinel watcher on `+switch-master`; the writer reconnects (asking the
    /// sentinels again) before its next batch.
    var primaryMoved = false
    /// The primary the writer is connected to when it found it through Sentinel (nil when
    /// not connected or not behind Sentinel); the watcher compares it with what the sentinels
    /// name, so a `+switch-master` it missed (sent while it was not subscribed) is noticed.
    var connectedPrimary: SentinelConfiguration.Address?
    var stats = PublisherStats()

    init(maxEvents: Int) {
        pending = PendingWrites(maxEvents: maxEvents)
    }

    /// Nothing waits to be written and nothing is on the wire.
    var isIdle: Bool {
        pending.isEmpty && status == nil && stalenessRequests.isEmpty && leaseRequests.isEmpty && inFlight == 0
    }

    var hasWork: Bool {
        !pending.isEmpty || status != nil || !stalenessRequests.isEmpty || !leaseRequests.isEmpty
    }

    func locked<R>(_ body: (PublisherShared) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(self)
    }

    /// Wakes the writer if it sleeps waiting for work. Call with the lock held.
    func signalWriterIfWaiting() {
        if writerWaiting { condition.signal() }
    }

    /// Wakes every sleeper (stop). Call with the lock held.
    func broadcast() {
        condition.broadcast()
    }

    /// With the lock held: sleeps until work arrives or the publisher stops. Returns false
    /// when stopping.
    func waitForWork() -> Bool {
        // A moved primary is work too: an idle writer reconnects at once and writes every live
        // key again on the new primary (the old one loses what it took after the promotion).
        while !stopping && !hasWork && !primaryMoved {
            writerWaiting = true
            condition.wait()
            writerWaiting = false
        }
        return !stopping
    }

    /// With the lock held: sleeps for `nanos` unless the publisher stops first. Returns false
    /// when stopping.
    func sleep(nanos: UInt64) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(nanos) / 1e9)
        while !stopping && Date() < deadline {
            _ = condition.wait(until: deadline)
        }
        return !stopping
    }

    /// With the lock held: removes the flush waiters to resume (outside the lock) once idle.
    func takeFlushWaitersIfIdle() -> [CheckedContinuation<Bool, Never>] {
        guard isIdle, !flushWaiters.isEmpty else { return [] }
        let waiters = Array(flushWaiters.values)
        flushWaiters.removeAll()
        return waiters
    }
}

/// Monotonic nanoseconds, for latencies (never the wall clock, which can jump).
enum MonotonicClock {
    static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
