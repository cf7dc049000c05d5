import Synchronization

/// The facts `/readyz` answers from, kept up to date by the worker as they change, so that a
/// probe never waits on Redis or IB (it is answered on an event loop).
///
/// Ready means: not shutting down, Redis reachable, and data flowing from some source
/// (CONTRACT §4). The first failing condition is the reason, in that order, because it is the
/// one to fix first.
public final class ReadinessState: Sendable {
    private struct Facts {
        var stopping = false
        var redisReachable = false
        var dataFlowing = false
    }

    private let facts = Mutex(Facts())

    public init() {}

    // @inline(never) on every method that takes the lock: Synchronization.Mutex on Linux reads
    // the thread id from a C thread-local, and inlined into an async caller the optimiser can
    // reuse that thread-local's address from before an `await`, i.e. another thread's id. The
    // unlock then runs on the new thread and traps ("Call to unlock Mutex on a thread which
    // hasn't acquired the lock"): seen in release builds under benchmarks/e2e, from
    // Worker.checkStaleness after `await publisher.checkStaleness`.
    @inline(never)
    public func setRedisReachable(_ reachable: Bool) { facts.withLock { $0.redisReachable = reachable } }

    /// True while at least one source (IB or Alpha Vantage) delivers fresh data.
    @inline(never)
    public func setDataFlowing(_ flowing: Bool) { facts.withLock { $0.dataFlowing = flowing } }

    /// Once shutdown starts the worker is never ready again, so load balancers drain it.
    @inline(never)
    public func setStopping() { facts.withLock { $0.stopping = true } }

    public var readiness: Readiness {
        @inline(never) get {
            facts.withLock { facts in
                if facts.stopping { return .notReady(reason: "shutting down") }
                if !facts.redisReachable { return .notReady(reason: "redis unreachable") }
                if !facts.dataFlowing { return .notReady(reason: "no fresh data from IB or Alpha Vantage") }
                return .ready
            }
        }
    }
}

extension HealthRoutes {
    /// Routes answering `/readyz` from `state` and `/metrics` from `metrics`.
    public init(state: ReadinessState, metrics: @escaping @Sendable () -> [UInt8]) {
        self.init(readiness: { state.readiness }, metrics: metrics)
    }
}
