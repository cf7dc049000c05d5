import NIOCore
import NIOPosix

/// A monotonic `Clock` whose sleeps are SwiftNIO timers (epoll and `CLOCK_MONOTONIC`).
///
/// Every periodic loop of the worker (failover checks, status, re-centring, retries) and the
/// Alpha Vantage poller sleep on it. Measured: under libfaketime (`faketime -f -90s`, with
/// `FAKETIME_DONT_FAKE_MONOTONIC=1`, the way operators simulate a host whose wall clock is off
/// Redis'), `Task.sleep` on both `ContinuousClock` and `SuspendingClock` did not return for
/// 90 s, while NIO's timers (which the IB session runs on) kept time. Durations are the same
/// on any host; only the timer mechanism differs.
public struct EventLoopClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        /// Nanoseconds of `NIODeadline.now()` (monotonic, since an arbitrary start).
        public var nanoseconds: Int64

        public func advanced(by duration: Duration) -> Instant {
            Instant(nanoseconds: nanoseconds + Int64(duration / .nanoseconds(1)))
        }

        public func duration(to other: Instant) -> Duration {
            .nanoseconds(other.nanoseconds - nanoseconds)
        }

        public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }
    }

    let eventLoop: any EventLoop

    /// - Parameter eventLoop: where the timers run; NIO's shared group by default.
    public init(eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.eventLoop = eventLoop
    }

    public var now: Instant { Instant(nanoseconds: Int64(NIODeadline.now().uptimeNanoseconds)) }

    public var minimumResolution: Duration { .microseconds(1) }

    /// Returns at `deadline`; throws `CancellationError` when the task is cancelled first.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let scheduled = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, deadline.nanoseconds)))) {}
        do {
            try await withTaskCancellationHandler {
                try await scheduled.futureResult.get()
            } onCancel: {
                scheduled.cancel()
            }
        } catch {
            throw CancellationError()
        }
    }

    /// Milliseconds on this clock, for durations the worker measures.
    public var nowMs: Int64 { now.nanoseconds / 1_000_000 }
}
