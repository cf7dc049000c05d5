/// The delay before reconnect attempt `n`: a pure function, so tests need no clock.
///
/// Exponential (doubling from `initial`, capped at `maximum`) with equal jitter: half the
/// delay is fixed, half random, so many workers restarted together do not reconnect in step
/// and none retries in a tight loop.
public struct ReconnectBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// - Parameters:
    ///   - attempt: 1 for the first retry after a failure.
    ///   - random: a value in [0, 1).
    public func delay(attempt: Int, random: Double) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let cap = min(maximum, initial * (1 << exponent))
        let jitter = min(max(random, 0), 1)
        return cap / 2 + cap * (jitter / 2)
    }
}
