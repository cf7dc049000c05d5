import Foundation
import NIOConcurrencyHelpers
import Simulators
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's subscriber: one Redis connection in PSUBSCRIBE mode, read on a dedicated
/// thread with large reads and an in-place parser, timestamping each read as it returns.
///
/// It has to be much faster than what it measures. It parses only the channel and the
/// `volume` number, and takes its lock once per read, not per message; `subscribe` mode of
/// the CLI measures its own ceiling against redis-benchmark's PUBLISH.
public final class PubSubSubscriber: Sendable {
    public let pattern: String
    private let port: Int
    private let stamps: BenchmarkStamps?
    private let tracker: NIOLockedValueBox<DeliveryTracker>
    private let subscribed = Synchronization.Atomic<Bool>(false)
    private let stopping = Synchronization.Atomic<Bool>(false)
    private let finished = Synchronization.Atomic<Bool>(false)
    private let maxSequence = Synchronization.Atomic<UInt64>(0)
    /// Kernel thread id of the reader, so that its own CPU time can be read from /proc.
    private let threadId = Synchronization.Atomic<Int32>(0)
    private let failure = NIOLockedValueBox<String?>(nil)

    /// - Parameter stamps: the simulator's stamps; nil counts messages only.
    public init(redisPort: Int, pattern: String, stamps: BenchmarkStamps?) {
        port = redisPort
        self.pattern = pattern
        self.stamps = stamps
        tracker = NIOLockedValueBox(DeliveryTracker())
    }

    /// Connects, subscribes and waits (bounded) for Redis' confirmation.
    public func start(timeout: Duration = .seconds(5)) async throws {
        let fd = try LoopbackSocket.connect(port: port)
        try LoopbackSocket.writeAll(fd, LoopbackSocket.command(["PSUBSCRIBE", pattern]))
        let thread = Thread { [self] in readLoop(fd) }
        thread.name = "bench-subscriber"
        thread.start()
        let deadline = ContinuousClock.now + timeout
        while !subscribed.load(ordering: .acquiring) {
            if let failure = error { throw BenchError("subscriber: \(failure)") }
            guard ContinuousClock.now < deadline else { throw BenchError("subscriber: no PSUBSCRIBE confirmation within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Stops the reader thread and closes the connection (bounded wait).
    public func stop(timeout: Duration = .seconds(3)) async {
        stopping.store(true, ordering: .releasing)
        let deadline = ContinuousClock.now + timeout
        while !finished.load(ordering: .acquiring) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    // NIO's (pthread) lock, not Synchronization.Mutex: these are called from async code, where
    // an inlined Mutex can trap in release builds (see ReadinessState.swift).
    public var counters: DeliveryTracker.Counters { tracker.withLockedValue { $0.counters } }
    /// The highest sequence number delivered, without taking the lock.
    public var deliveredSequence: UInt64 { maxSequence.load(ordering: .relaxed) }
    public var readerThreadId: Int32? { let id = threadId.load(ordering: .relaxed); return id > 0 ? id : nil }
    public var error: String? { failure.withLockedValue { $0 } }

    public func beginWindow(afterSequence: UInt64) { tracker.withLockedValue { $0.beginWindow(afterSequence: afterSequence) } }
    public func endWindow() -> (samples: [UInt64], dropped: Int) {
        tracker.withLockedValue { t in
            let dropped = t.droppedSamples
            return (t.endWindow(), dropped)
        }
    }

    /// The calling thread's kernel id, from /proc/thread-self (`PID/task/TID`): `gettid` is
    /// not exported to Swift and `syscall` is variadic.
    private static func currentThreadId() -> Int32? {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return link.split(separator: "/").last.flatMap { Int32($0) }
    }

    private struct Delivered {
        var symbol: String
        var sequence: UInt64?
        var bytes: Int
    }

    private func readLoop(_ fd: Int32) {
        threadId.store(Self.currentThreadId() ?? 0, ordering: .relaxed)
        defer {
            close(fd)
            finished.store(true, ordering: .releasing)
        }
        var buffer = [UInt8](repeating: 0, count: 8 << 20)
        var filled = 0
        var batch: [Delivered] = []
        batch.reserveCapacity(4096)
        while !stopping.load(ordering: .relaxed) {
            var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pollfd, 1, 50)
            if ready == 0 || (ready < 0 && errno == EINTR) { continue }
            if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            let received = BenchmarkStamps.nanos()
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                failure.withLockedValue { $0 = n == 0 ? "Redis closed the connection" : "read: \(String(cString: strerror(errno)))" }
                return
            }
            filled += n
            var consumed = 0
            var confirmed = false
            do {
                try buffer.withUnsafeBufferPointer { bytes throws(RESPPushParser.ParseError) in
                    let view = UnsafeBufferPointer(rebasing: bytes[0..<filled])
                    while let (push, end) = try RESPPushParser.parse(view, from: consumed) {
                        consumed = end
                        switch push {
                        case .message(let channel, let payload):
                            batch.append(Delivered(
                                symbol: QuoteMessageScanner.symbol(in: view, channel),
                                sequence: QuoteMessageScanner.volume(in: view, payload), bytes: payload.count))
                        case .subscribed:
                            confirmed = true
                        case .other:
                            break
                        }
                    }
                }
            } catch {
                failure.withLockedValue { $0 = error.description }
                return
            }
            if consumed > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    let base = raw.baseAddress!
                    if consumed < filled { memmove(base, base + consumed, filled - consumed) }
                }
                filled -= consumed
            }
            if !batch.isEmpty {
                let highest = tracker.withLockedValue { tracker in
                    for message in batch {
                        let stamp = message.sequence.flatMap { stamps?.lookup($0) }
                        tracker.record(
                            symbol: message.symbol, sequence: message.sequence, payloadBytes: message.bytes,
                            receivedNanos: received, stamp: stamp)
                    }
                    return tracker.counters.maxSequence
                }
                maxSequence.store(highest, ordering: .relaxed)
                batch.removeAll(keepingCapacity: true)
            }
            if confirmed { subscribed.store(true, ordering: .releasing) }
        }
    }
}

/// An error of the benchmark harness: what went wrong, in words for the report.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
