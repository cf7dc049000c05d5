import NIOConcurrencyHelpers

/// The facts `/readyz` answers from, kept up to date by the worker as they change, so that a
/// probe never waits on Redis or IB (it is answered on an event loop).
///
/// Ready means: not shutting down, Redis reachable and taking writes, and data flowing from some source
/// (CONTRACT §4). The first failing condition is the reason, in that order, because it is the
/// one to fix first.
///
/// Locks in this codebase are NIO's (pthread) rather than `Synchronization.Mutex`: in release
/// builds a `Mutex.withLock` inlined into an async function after a suspension point crashed
/// the worker ("Call to unlock Mutex on a thread which hasn't acquired the lock"; seen under
/// the end-to-end benchmark, Swift 6.3.1 on Linux), as its owner-thread check used the thread
/// the task ran on before the suspension.
public final class ReadinessState: Sendable {
    private struct Facts {
        var stopping = false
        var redisReachable = false
        /// Redis is reachable but refuses writes (READONLY, OOM, ...): the reason.
        var redisWriteRefusal: String?
        var dataFlowing = false
        /// worker.group: why this worker does not serve (standby), nil while it may.
        var standby: String?
    }

    private let facts = NIOLockedValueBox(Facts())

    public init() {}

    public func setRedisReachable(_ reachable: Bool) { facts.withLockedValue { $0.redisReachable = reachable } }

    /// nil while Redis takes writes; else why not (`Redis refuses writes (READONLY): ...`).
    public func setRedisWriteRefusal(_ reason: String?) { facts.withLockedValue { $0.redisWriteRefusal = reason } }

    /// True while at least one source (IB or Alpha Vantage) delivers fresh data.
    public func setDataFlowing(_ flowing: Bool) { facts.withLockedValue { $0.dataFlowing = flowing } }

    /// worker.group: nil while this worker holds the lease (or has no group), else why it
    /// stands by (`standby in group G`): it serves no data, so it is not ready.
    public func setStandby(_ reason: String?) {
        facts.withLockedValue {
            $0.standby = reason
            if reason != nil { $0.dataFlowing = false }
        }
    }

    /// Once shutdown starts the worker is never ready again, so load balancers drain it.
    public func setStopping() { facts.withLockedValue { $0.stopping = true } }

    public var readiness: Readiness {
        facts.withLockedValue { facts in
            if facts.stopping { return .notReady(reason: "shutting down") }
            if !facts.redisReachable { return .notReady(reason: "redis unreachable") }
            if let refusal = facts.redisWriteRefusal { return .notReady(reason: refusal) }
            if let standby = facts.standby { return .notReady(reason: standby) }
            if !facts.dataFlowing { return .notReady(reason: "no fresh data from IB or Alpha Vantage") }
            return .ready
        }
    }
}

extension HealthRoutes {
    /// Routes answering `/readyz` from `state`, `/metrics` from `metrics` and, with an API,
    /// `/subscriptions...`.
    public init(state: ReadinessState, metrics: @escaping @Sendable () -> [UInt8], subscriptions: SubscriptionAPI? = nil) {
        self.init(readiness: { state.readiness }, metrics: metrics, subscriptions: subscriptions)
    }
}
