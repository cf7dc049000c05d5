import Essentials

/// Decides when the next Alpha Vantage request may start. Pure: time comes in as arguments,
/// so tests drive it with plain instants and never sleep.
///
/// Three limits hold together:
/// - at most `requestsPerMinute` starts in any 60 s window and `requestsPerDay` in any 24 h
///   window. Sliding windows rather than a refilling bucket: a bucket that starts full lets
///   through up to twice its size across a window boundary, which is exactly what draws a
///   throttle notice;
/// - consecutive starts at least `minimumSpacing` apart (free keys are also held to one
///   request per second: "Please consider spreading out your free API requests more
///   sparingly (1 request per second)");
/// - after a throttle, daily-cap or transient failure answer, nothing starts until a back-off
///   has passed, and the back-off doubles on each repeat until a request succeeds.
public struct RateLimiter<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public struct Configuration: Sendable, Hashable {
        /// `alphavantage.requests_per_minute`; at least 1.
        public var requestsPerMinute: Int
        /// `alphavantage.requests_per_day`; 0 = no daily cap.
        public var requestsPerDay: Int
        /// Default min(1 s, 60 s / requestsPerMinute).
        public var minimumSpacing: Duration
        /// First back-off after a throttle notice [60 s: any per-minute window has rolled
        /// over by then], doubling up to `maxThrottleBackoff` [15 min].
        public var throttleBackoff: Duration
        public var maxThrottleBackoff: Duration
        /// First back-off after the daily cap [1 h], doubling up to `maxDailyBackoff` [24 h].
        /// The cap's reset time is not published, so the client probes hourly at most.
        public var dailyBackoff: Duration
        public var maxDailyBackoff: Duration
        /// First back-off after a timeout, 5xx, transport or malformed answer [2 s], doubling
        /// up to `maxTransientBackoff` [2 min].
        public var transientBackoff: Duration
        public var maxTransientBackoff: Duration

        public init(
            requestsPerMinute: Int,
            requestsPerDay: Int,
            minimumSpacing: Duration? = nil,
            throttleBackoff: Duration = .seconds(60),
            maxThrottleBackoff: Duration = .seconds(900),
            dailyBackoff: Duration = .seconds(3600),
            maxDailyBackoff: Duration = .seconds(86_400),
            transientBackoff: Duration = .seconds(2),
            maxTransientBackoff: Duration = .seconds(120)
        ) {
            self.requestsPerMinute = max(1, requestsPerMinute)
            self.requestsPerDay = max(0, requestsPerDay)
            self.minimumSpacing = minimumSpacing ?? min(.seconds(1), .seconds(60) / self.requestsPerMinute)
            self.throttleBackoff = throttleBackoff
            self.maxThrottleBackoff = maxThrottleBackoff
            self.dailyBackoff = dailyBackoff
            self.maxDailyBackoff = maxDailyBackoff
            self.transientBackoff = transientBackoff
            self.maxTransientBackoff = maxTransientBackoff
        }
    }

    /// Why requests are held back beyond the normal budget.
    public enum BackoffReason: String, Sendable, Hashable {
        case throttled, dailyLimit = "daily_limit", transient
    }

    public enum Decision: Sendable, Hashable {
        /// Start the request now; it has been counted.
        case granted
        /// Ask again at this instant.
        case wait(until: Instant)
    }

    public let configuration: Configuration
    /// Starts within the last minute / day, oldest first.
    private var minuteStarts: [Instant] = []
    private var dayStarts: [Instant] = []
    private var lastStart: Instant?
    /// Nothing starts before this instant.
    public private(set) var backoffUntil: Instant?
    public private(set) var backoffReason: BackoffReason?
    private var repeats: [BackoffReason: Int] = [:]
    /// Requests granted since creation (for metrics).
    public private(set) var granted: Int = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The earliest instant a request may start, never earlier than `now`.
    public func earliestStart(at now: Instant) -> Instant {
        var t = now
        if let backoffUntil, backoffUntil > t { t = backoffUntil }
        if let lastStart { t = max(t, lastStart.advanced(by: configuration.minimumSpacing)) }
        if minuteStarts.count >= configuration.requestsPerMinute {
            // The start that must leave the window before another may enter it.
            t = max(t, minuteStarts[minuteStarts.count - configuration.requestsPerMinute].advanced(by: .seconds(60)))
        }
        if configuration.requestsPerDay > 0, dayStarts.count >= configuration.requestsPerDay {
            t = max(t, dayStarts[dayStarts.count - configuration.requestsPerDay].advanced(by: .seconds(86_400)))
        }
        return t
    }

    /// Grants and counts a request if one may start at `now`.
    public mutating func acquire(at now: Instant) -> Decision {
        prune(at: now)
        let start = earliestStart(at: now)
        guard start <= now else { return .wait(until: start) }
        minuteStarts.append(now)
        if configuration.requestsPerDay > 0 { dayStarts.append(now) }
        lastStart = now
        granted += 1
        if let backoffUntil, backoffUntil <= now {
            self.backoffUntil = nil
            backoffReason = nil
        }
        return .granted
    }

    /// A request came back with data (or a symbol-level error): the service is healthy, so
    /// the next back-off starts small again.
    public mutating func recordSuccess() {
        repeats.removeAll()
    }

    /// A throttle notice, a daily-cap notice or a transient failure came back at `now`.
    public mutating func recordBackoff(_ reason: BackoffReason, at now: Instant) {
        let n = repeats[reason, default: 0]
        repeats[reason] = n + 1
        let (base, cap) = switch reason {
        case .throttled: (configuration.throttleBackoff, configuration.maxThrottleBackoff)
        case .dailyLimit: (configuration.dailyBackoff, configuration.maxDailyBackoff)
        case .transient: (configuration.transientBackoff, configuration.maxTransientBackoff)
        }
        // The n-th repeat (0 first) waits base * 2^n, at most cap; no jitter: the service
        // names the wait, there is no crowd of peers to spread.
        let delay = BackoffPolicy(initial: base, max: cap, multiplier: 2).cap(forAttempt: n + 1)
        let until = now.advanced(by: delay)
        if backoffUntil == nil || until > backoffUntil! {
            backoffUntil = until
            backoffReason = reason
        }
    }

    /// How many more requests the daily budget allows right now (nil = no daily cap).
    public func remainingToday(at now: Instant) -> Int? {
        guard configuration.requestsPerDay > 0 else { return nil }
        let cutoff = now.advanced(by: .seconds(-86_400))
        return configuration.requestsPerDay - dayStarts.filter { $0 > cutoff }.count
    }

    private mutating func prune(at now: Instant) {
        let minuteCutoff = now.advanced(by: .seconds(-60))
        if let i = minuteStarts.firstIndex(where: { $0 > minuteCutoff }) {
            minuteStarts.removeFirst(i)
        } else {
            minuteStarts.removeAll()
        }
        let dayCutoff = now.advanced(by: .seconds(-86_400))
        if let i = dayStarts.firstIndex(where: { $0 > dayCutoff }) {
            dayStarts.removeFirst(i)
        } else {
            dayStarts.removeAll()
        }
    }
}
