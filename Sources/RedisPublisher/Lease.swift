/// The lease of a worker group (`worker.group`) as one worker sees it: a value type, events in,
/// actions out, every time on the caller's monotonic clock in milliseconds.
///
/// One worker of a group holds the lease key `P:group:GROUP:lease` in Redis (lua/lease.lua:
/// `SET NX PX`, renewed and released only with the owner token). It is `active`: it subscribes
/// market data and writes, and every data write carries its token, which publish.lua checks
/// against the key (the fence). The others are `standby`: they keep their gateway session warm
/// and try to acquire the lease every renew interval, or as soon as the holder's remaining time
/// (`PTTL`) runs out, whichever is first.
///
/// The lease's end is never taken from the wall clock: a grant counts from the moment the
/// request was SENT (Redis starts the TTL when it receives it, which is later), so the worker
/// believes it holds the lease at most until Redis expires it. Locally the worker stops being
/// active at `sent + ttl` when no renewal succeeded; the fence makes any write that arrives at
/// Redis after the expiry (a paused process, a batch on the wire) fail regardless.
///
/// Bound: after the active worker dies, its lease expires at most `ttl` after its last renewal,
/// and a standby tries again at most one renew interval later, so a standby takes over within
/// `ttl + renewInterval` (plus one round trip to Redis).
///
/// A standby that could not serve (`ready` false: its gateway session is down) bids only once it
/// has been so for a whole TTL, so a ready peer wins the lease; with no ready peer it still
/// takes over, within `2 x ttl + renewInterval`, and serves what it can (Alpha Vantage).
public struct LeaseStateMachine: Sendable {
    /// Lease TTL and renew interval; `renewInterval < ttl` (checked by the configuration).
    public struct Timing: Sendable, Hashable {
        /// `worker.lease_ttl_seconds` in ms: how long the lease lasts without a renewal.
        public var ttlMs: Int64
        /// `worker.lease_renew_seconds` in ms: how often the holder renews and a standby bids.
        public var renewIntervalMs: Int64

        public init(ttlMs: Int64, renewIntervalMs: Int64) {
            self.ttlMs = max(1, ttlMs)
            self.renewIntervalMs = max(1, min(renewIntervalMs, self.ttlMs))
        }
    }

    /// What the worker does in its group.
    public enum Role: String, Sendable, Hashable {
        /// Holds the lease: subscribes market data and writes.
        case active
        /// Does not hold it: gateway session up, no market data lines, no data writes.
        case standby
    }

    /// A call of lua/lease.lua.
    public enum Request: String, Sendable, Hashable {
        case acquire, renew, release
    }

    /// What the machine asks the worker to do.
    public enum Action: Sendable, Hashable {
        /// Send `request` now; report its outcome with `replied(id:…)`.
        case send(Request, id: UInt64)
        /// The lease was acquired: subscribe everything and write with the new token.
        case becomeActive
        /// The lease is lost (or could not be confirmed in time): stop writing, cancel the
        /// market data lines, and release the old token (harmless if someone else holds it).
        case becomeStandby(reason: String)
    }

    /// What Redis answered to a request (lua/lease.lua's reply), or that it did not answer.
    public enum Reply: Sendable, Hashable {
        /// The caller holds the lease now.
        case granted
        /// Somebody else holds it (`holder`, its token; nil when the key is absent), with
        /// `remainingMs` left (`PTTL`: -2 absent, -1 no expiry).
        case refused(holder: String?, remainingMs: Int64)
        /// No answer: Redis unreachable, refusing, or too slow.
        case failed(String)
    }

    public let timing: Timing
    /// What the worker is now.
    public private(set) var role: Role = .standby
    /// The lease key's value as last seen (the holder's token), nil when nobody held it.
    public private(set) var holder: String?
    /// Active: until when the lease is certainly ours (monotonic ms), from the last grant's
    /// sending time plus the TTL.
    public private(set) var validUntilMs: Int64?
    /// When the next acquire (standby) or renew (active) is due.
    public private(set) var nextRequestMs: Int64 = 0
    /// The request on the wire, if any; replies to any other id are stale and ignored.
    private var pending: (id: UInt64, request: Request, sentAtMs: Int64)?
    private var lastID: UInt64 = 0
    /// Standby: since when this worker has not been ready (nil while ready).
    public private(set) var notReadySinceMs: Int64?

    public init(timing: Timing) {
        self.timing = timing
    }

    /// The time to call `tick` again (a request due) or `expire` (the lease's local end).
    public var nextWakeMs: Int64 {
        if let until = validUntilMs { return min(nextRequestMs, until) }
        return nextRequestMs
    }

    /// Periodic: gives up an expired lease, and sends the acquire/renew that is due.
    /// - Parameter ready: whether this worker could serve now (its gateway session is up); a
    ///   standby that is not ready defers its bid until it has been so for a whole TTL.
    public mutating func tick(nowMs: Int64, ready: Bool = true) -> [Action] {
        var actions = expire(nowMs: nowMs)
        if role == .standby {
            if ready {
                notReadySinceMs = nil
            } else if notReadySinceMs == nil {
                notReadySinceMs = nowMs
            }
            if let since = notReadySinceMs, nowMs - since < timing.ttlMs, pending == nil, nowMs >= nextRequestMs {
                nextRequestMs = min(since + timing.ttlMs, nowMs + timing.renewIntervalMs)
                return actions
            }
        } else {
            notReadySinceMs = nil
        }
        if pending == nil, nowMs >= nextRequestMs {
            lastID += 1
            let request: Request = role == .active ? .renew : .acquire
            pending = (lastID, request, nowMs)
            actions.append(.send(request, id: lastID))
        }
        return actions
    }

    /// Gives up the lease when no renewal succeeded within the TTL of the last grant (the
    /// watchdog calls this even while a request hangs).
    public mutating func expire(nowMs: Int64) -> [Action] {
        guard role == .active, let until = validUntilMs, nowMs >= until else { return [] }
        return stepDown(nowMs: nowMs, reason: "the lease was not renewed within its TTL (\(timing.ttlMs) ms): Redis did not confirm it")
    }

    /// The outcome of the request `id`, which was sent at the time `tick` returned it.
    public mutating func replied(id: UInt64, _ reply: Reply, nowMs: Int64) -> [Action] {
        guard let sent = pending, sent.id == id else { return [] }  // overtaken by a step-down
        pending = nil
        switch reply {
        case .granted:
            validUntilMs = sent.sentAtMs + timing.ttlMs
            nextRequestMs = sent.sentAtMs + timing.renewIntervalMs
            guard role == .standby else { return [] }
            role = .active
            return [.becomeActive]
        case let .refused(holder, remainingMs):
            self.holder = holder
            if role == .active {
                return stepDown(nowMs: nowMs, reason: "another worker holds the lease (\(holder.map(Self.workerID(ofToken:)) ?? "nobody"))")
            }
            // Bid again right after the holder's lease would end unrenewed, at the latest one
            // renew interval from now.
            let wait: Int64 = remainingMs > 0 ? min(timing.renewIntervalMs, remainingMs + 1)
                : remainingMs == -2 ? min(timing.renewIntervalMs, 10) : timing.renewIntervalMs
            nextRequestMs = nowMs + wait
            return []
        case .failed:
            // Try again soon; an active worker keeps its lease until `validUntilMs`.
            nextRequestMs = nowMs + max(1, timing.renewIntervalMs / 2)
            return expire(nowMs: nowMs)
        }
    }

    /// A data write was refused by the fence: the lease key holds another token (or none), so
    /// this worker is no longer the holder, whatever its clock says.
    public mutating func fenced(nowMs: Int64) -> [Action] {
        guard role == .active else { return [] }
        return stepDown(nowMs: nowMs, reason: "a write was refused by the lease fence: another worker holds the lease or it expired")
    }

    /// Graceful stop: no more requests; true when the lease should be released.
    public mutating func stop() -> Bool {
        let wasActive = role == .active
        role = .standby
        validUntilMs = nil
        pending = nil
        nextRequestMs = .max
        return wasActive
    }

    /// The worker id in a token made by `makeToken` (`id#hex`); the token itself otherwise.
    public static func workerID(ofToken token: String) -> String {
        guard let hash = token.lastIndex(of: "#") else { return token }
        return String(token[..<hash])
    }

    /// A fresh owner token: the worker id (so the holder can be named) and 128 random bits.
    public static func makeToken(workerID: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<2).map { _ in
            let s = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
        return "\(workerID)#\(hex)"
    }

    private mutating func stepDown(nowMs: Int64, reason: String) -> [Action] {
        role = .standby
        validUntilMs = nil
        pending = nil
        // Leave the next bid one interval away: the worker that took over (or Redis coming
        // back) should settle first; a standby bids every interval anyway.
        nextRequestMs = nowMs + timing.renewIntervalMs
        return [.becomeStandby(reason: reason)]
    }
}

/// lua/lease.lua's reply `{held, holder, pttl}`.
public struct LeaseReply: Sendable, Hashable {
    /// The caller holds the lease after the call.
    public var held: Bool
    /// The lease key's value after the call (the holder's token), nil when absent.
    public var holder: String?
    /// The key's remaining time in ms (`PTTL`: -2 absent, -1 no expiry).
    public var remainingMs: Int64

    public init(held: Bool, holder: String?, remainingMs: Int64) {
        self.held = held
        self.holder = holder
        self.remainingMs = remainingMs
    }

    init(reply: RedisReply) throws(RedisError) {
        guard let parts = reply.array, parts.count == 3, let held = parts[0].int, let pttl = parts[2].int else {
            throw RedisError(.unexpectedReply, "lease.lua returned an unexpected shape")
        }
        self.init(held: held == 1, holder: parts[1].string, remainingMs: pttl)
    }

    /// As the state machine takes it.
    public var machineReply: LeaseStateMachine.Reply {
        held ? .granted : .refused(holder: holder, remainingMs: remainingMs)
    }
}
