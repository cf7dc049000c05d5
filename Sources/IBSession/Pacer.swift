/// A token bucket for outgoing messages: the gateway answers more than ~50 messages per second
/// with error 100 (and may drop the session), so a burst of 500 subscriptions at start-up or
/// after a reconnect must leave at a steady rate. Time is passed in, never read.
public struct Pacer: Sendable {
    /// Tokens added per second.
    public let rate: Double
    /// Bucket size: how many messages may leave back to back.
    public let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    /// Starts with a full bucket at `now`.
    public init(ratePerSecond: Double, burst: Int, now: ContinuousClock.Instant) {
        rate = max(ratePerSecond, 0.001)
        self.burst = Double(max(burst, 1))
        tokens = self.burst
        last = now
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        guard now > last else { return }
        tokens = min(burst, tokens + (now - last).seconds * rate)
        last = now
    }

    /// Takes one token if there is one; false means "wait `delayUntilAvailable(now:)`".
    public mutating func tryAcquire(now: ContinuousClock.Instant) -> Bool {
        refill(now: now)
        // A hair of tolerance so float rounding never leaves a timer firing just short of a token.
        guard tokens >= 1 - 1e-9 else { return false }
        tokens -= 1
        return true
    }

    /// How long until one token is available (zero if one is).
    public mutating func delayUntilAvailable(now: ContinuousClock.Instant) -> Duration {
        refill(now: now)
        let missing = 1 - tokens
        return missing <= 1e-9 ? .zero : .seconds(missing / rate)
    }

    /// Tokens currently in the bucket (for tests and metrics).
    public mutating func available(now: ContinuousClock.Instant) -> Double {
        refill(now: now)
        return tokens
    }
}
