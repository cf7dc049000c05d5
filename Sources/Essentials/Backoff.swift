/// Delays between retries: exponential growth from `initial` by `multiplier`, capped at `max`,
/// and, where many clients may retry together, full jitter (a uniform draw between zero and the
/// cap), so a fleet of workers that lost the same server does not come back in lock step.
///
/// The one backoff of the project. Users:
/// - the IB Gateway session (`ib.reconnect.*`, full jitter, CONTRACT §ib.reconnect);
/// - the Redis writer's reconnects (full jitter) and its pause while Redis refuses writes
///   (``cap(forAttempt:)``, no jitter);
/// - the Alpha Vantage rate limiter's back-off after throttle, daily-cap and transient answers
///   (``cap(forAttempt:)``, no jitter: the service names the wait, not a crowd of peers).
/// - the log's repeat filter, whose hold-back window doubles per summary line (``cap(forAttempt:)``).
/// - the worker's retries of contract details and option chains (`Worker.requestRetry`, ``cap(forAttempt:)``).
///
/// Pure: the attempt number and the random draw are arguments, so tests need no clock and no
/// luck. The caller keeps the count of failures and resets it to zero after a success.
public struct BackoffPolicy: Sendable, Hashable {
    /// The cap of the first retry (attempt 1).
    public var initial: Duration
    /// No cap ever exceeds it (not even `initial`).
    public var max: Duration
    /// Growth per failed attempt; 1 or less keeps every cap at `min(initial, max)`.
    public var multiplier: Double

    /// - Parameters:
    ///   - initial: the cap of the first retry; default 500 ms (`ib.reconnect.initial_delay_ms`).
    ///   - max: the largest cap; default 30 s (`ib.reconnect.max_delay_ms`).
    ///   - multiplier: growth per attempt; default 2 (`ib.reconnect.multiplier`).
    public init(initial: Duration = .milliseconds(500), max: Duration = .seconds(30), multiplier: Double = 2.0) {
        self.initial = initial
        self.max = max
        self.multiplier = multiplier
    }

    /// The upper bound of the delay before retry number `attempt` (1 for the first retry; 0 and
    /// negative numbers count as 1): `min(max, initial * multiplier^(attempt-1))`, rounded to
    /// whole nanoseconds. Also the delay itself where no jitter is wanted.
    public func cap(forAttempt attempt: Int) -> Duration {
        let maxSeconds = max.backoffSeconds
        var seconds = initial.backoffSeconds
        guard multiplier > 1 else { return .backoffRounded(Swift.min(seconds, maxSeconds)) }
        var step = 1
        // Multiplying step by step (instead of pow) stops as soon as the cap is reached, so a
        // huge attempt number can neither loop long nor overflow.
        while step < attempt, seconds < maxSeconds {
            seconds *= multiplier
            step += 1
        }
        return .backoffRounded(Swift.min(seconds, maxSeconds))
    }

    /// The full-jitter delay before retry number `attempt`: `unit * cap(forAttempt:)`, where
    /// `unit` is a uniform draw from [0, 1) (values outside [0, 1] are clamped, so the delay is
    /// never negative and never above the cap).
    public func delay(forAttempt attempt: Int, unit: Double) -> Duration {
        let u = Swift.min(Swift.max(unit, 0), 1)
        return .backoffRounded(cap(forAttempt: attempt).backoffSeconds * u)
    }

    /// The full-jitter delay before retry number `attempt`, drawing the jitter from `random`
    /// (a ``SplitMix64`` in tests and state machines, the system generator elsewhere).
    public func delay<R: RandomNumberGenerator>(forAttempt attempt: Int, using random: inout R) -> Duration {
        delay(forAttempt: attempt, unit: Double.random(in: 0..<1, using: &random))
    }
}

extension Duration {
    /// Rounded to whole nanoseconds, so 0.1 s doubled four times is exactly 1.6 s; beyond
    /// `Int64.max` nanoseconds (292 years) it saturates instead of trapping.
    fileprivate static func backoffRounded(_ seconds: Double) -> Duration {
        let nanoseconds = (seconds * 1e9).rounded()
        guard nanoseconds < 9.2e18 else { return .nanoseconds(Int64.max) }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// The duration in seconds as a Double (attosecond precision is not needed for timers).
    fileprivate var backoffSeconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
