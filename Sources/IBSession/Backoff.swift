/// Delays between connection attempts: exponential growth, capped, with full jitter
/// (a uniform draw between zero and the cap), so a fleet of workers that lost the same gateway
/// does not reconnect in lock step.
public struct BackoffPolicy: Sendable, Hashable {
    /// `ib.reconnect.initial_delay_ms`, default 500 ms: the cap of the first retry.
    public var initial: Duration
    /// `ib.reconnect.max_delay_ms`, default 30 s: no cap ever exceeds it.
    public var max: Duration
    /// `ib.reconnect.multiplier`, default 2.
    public var multiplier: Double

    public init(initial: Duration = .milliseconds(500), max: Duration = .seconds(30), multiplier: Double = 2.0) {
        self.initial = initial
        self.max = max
        self.multiplier = multiplier
    }

    /// The upper bound of the delay before retry number `attempt` (1 for the first retry):
    /// `min(max, initial * multiplier^(attempt-1))`.
    public func cap(forAttempt attempt: Int) -> Duration {
        let maxSeconds = max.seconds
        var seconds = initial.seconds
        guard multiplier > 1 else { return .roundedSeconds(Swift.min(seconds, maxSeconds)) }
        var step = 1
        // Multiplying step by step (instead of pow) stops as soon as the cap is reached, so a
        // huge attempt number can neither loop long nor overflow.
        while step < attempt, seconds < maxSeconds {
            seconds *= multiplier
            step += 1
        }
        return .roundedSeconds(Swift.min(seconds, maxSeconds))
    }

    /// The delay before retry number `attempt`: `unit * cap`, where `unit` is a uniform draw
    /// from [0, 1). Pure, so tests pick the draw.
    public func delay(forAttempt attempt: Int, unit: Double) -> Duration {
        let u = Swift.min(Swift.max(unit, 0), 1)
        return .roundedSeconds(cap(forAttempt: attempt).seconds * u)
    }

    /// The delay before retry number `attempt`, drawing the jitter from `random`.
    public func delay<R: RandomNumberGenerator>(forAttempt attempt: Int, using random: inout R) -> Duration {
        delay(forAttempt: attempt, unit: Double.random(in: 0..<1, using: &random))
    }
}

extension Duration {
    /// Rounded to whole nanoseconds, so 0.1 s doubled four times is exactly 1.6 s.
    static func roundedSeconds(_ seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// The duration in seconds as a Double (attosecond precision is not needed for timers).
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

/// A small seedable generator (SplitMix64), so the state machine stays a deterministic value
/// type: production seeds it from the system generator, tests with a constant.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
