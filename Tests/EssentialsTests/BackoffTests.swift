import Essentials
import Testing

@Suite("Backoff")
struct BackoffTests {
    let policy = BackoffPolicy(initial: .milliseconds(500), max: .seconds(30), multiplier: 2)

    @Test("caps grow exponentially up to max", arguments: [
        (1, 500), (2, 1000), (3, 2000), (4, 4000), (6, 16000), (7, 30000), (50, 30000), (Int.max, 30000),
    ] as [(Int, Int64)])
    func caps(attempt: Int, expectedMs: Int64) {
        #expect(policy.cap(forAttempt: attempt) == .milliseconds(expectedMs))
    }

    @Test func fullJitterSpansZeroToCap() {
        #expect(policy.delay(forAttempt: 3, unit: 0) == .zero)
        #expect(policy.delay(forAttempt: 3, unit: 0.5) == .milliseconds(1000))
        #expect(policy.delay(forAttempt: 3, unit: 0.25) == .milliseconds(500))
        // Out-of-range draws are clamped, never beyond the cap and never negative.
        #expect(policy.delay(forAttempt: 3, unit: 7) == .milliseconds(2000))
        #expect(policy.delay(forAttempt: 3, unit: -1) == .zero)
    }

    /// The caller resets its failure count to zero after a success; the next failure is
    /// attempt 1 again, and 0 (or less) means the same as 1.
    @Test func attemptZeroIsTreatedAsFirst() {
        #expect(policy.cap(forAttempt: 0) == .milliseconds(500))
        #expect(policy.cap(forAttempt: -5) == .milliseconds(500))
        #expect(policy.delay(forAttempt: 0, unit: 0.5) == .milliseconds(250))
    }

    @Test func multiplierOfOneOrLessKeepsInitial() {
        let flat = BackoffPolicy(initial: .seconds(2), max: .seconds(30), multiplier: 1)
        #expect(flat.cap(forAttempt: 1_000_000) == .seconds(2))
        let inverted = BackoffPolicy(initial: .seconds(60), max: .seconds(30), multiplier: 0.5)
        #expect(inverted.cap(forAttempt: 3) == .seconds(30))
    }

    /// An initial delay above the maximum is held to the maximum: no delay ever exceeds `max`.
    @Test func maxBoundsEvenTheFirstCap() {
        let odd = BackoffPolicy(initial: .seconds(10), max: .seconds(5))
        #expect(odd.cap(forAttempt: 1) == .seconds(5))
        #expect(odd.delay(forAttempt: 1, unit: 0.999_999) <= .seconds(5))
    }

    @Test func fractionalSecondsAreRoundedToWholeNanoseconds() {
        let tenth = BackoffPolicy(initial: .milliseconds(100), max: .seconds(10))
        #expect(tenth.cap(forAttempt: 5) == .milliseconds(1600))
        #expect(BackoffPolicy(initial: .milliseconds(1), max: .seconds(1), multiplier: 1.5).cap(forAttempt: 3) == .microseconds(2250))
    }

    /// The Redis writer's reconnect (200 ms doubling to 5 s, full jitter).
    @Test func redisReconnectDefaults() {
        let redis = BackoffPolicy(initial: .milliseconds(200), max: .seconds(5))
        #expect(redis.delay(forAttempt: 1, unit: 0.5) == .milliseconds(100))
        #expect(redis.delay(forAttempt: 3, unit: 1) == .milliseconds(800))
        #expect(redis.cap(forAttempt: 6) == .seconds(5))
        #expect(redis.delay(forAttempt: 100, unit: 1) == .seconds(5))
    }

    /// The Redis writer's pause while Redis refuses writes: 50 ms doubling to 2 s, no jitter.
    @Test(arguments: [(1, 50), (2, 100), (3, 200), (6, 1600), (7, 2000), (1000, 2000)] as [(Int, Int64)])
    func refusalPause(streak: Int, expectedMs: Int64) {
        #expect(BackoffPolicy(initial: .milliseconds(50), max: .seconds(2)).cap(forAttempt: streak) == .milliseconds(expectedMs))
    }

    /// The Alpha Vantage rate limiter's throttle back-off: 60 s doubling to 15 min, no jitter.
    @Test(arguments: [(1, 60), (2, 120), (4, 480), (5, 900), (40, 900)] as [(Int, Int64)])
    func throttleBackoff(repeatCount: Int, expectedSeconds: Int64) {
        #expect(BackoffPolicy(initial: .seconds(60), max: .seconds(900)).cap(forAttempt: repeatCount) == .seconds(expectedSeconds))
    }

    /// The failback's stable period: 5 s doubled per recent flap, at most 4 times (Failover).
    @Test(arguments: [(1, 5), (2, 10), (3, 20), (4, 20), (63, 20)] as [(Int, Int64)])
    func flapRaisedStablePeriod(attempt: Int, expectedSeconds: Int64) {
        #expect(BackoffPolicy(initial: .seconds(5), max: .seconds(20)).cap(forAttempt: attempt) == .seconds(expectedSeconds))
    }

    @Test func absurdDurationsSaturateInsteadOfTrapping() {
        let huge = BackoffPolicy(initial: .seconds(1), max: .seconds(Int64.max / 2))
        #expect(huge.cap(forAttempt: 200) == .nanoseconds(Int64.max))
        #expect(huge.delay(forAttempt: 200, unit: 0.5) <= .nanoseconds(Int64.max))
    }

    @Test func zeroInitialStaysZero() {
        #expect(BackoffPolicy(initial: .zero, max: .seconds(5)).cap(forAttempt: 10) == .zero)
    }

    @Test func seededDrawsAreDeterministicAndBounded() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        for attempt in 1...40 {
            let da = policy.delay(forAttempt: attempt, using: &a)
            let db = policy.delay(forAttempt: attempt, using: &b)
            #expect(da == db)
            #expect(da >= .zero && da < policy.cap(forAttempt: attempt))
        }
    }

    @Test func jitterActuallySpreads() {
        var random = SplitMix64(seed: 7)
        let delays = (0..<200).map { _ in policy.delay(forAttempt: 7, using: &random) }
        #expect(delays.min()! < .seconds(3))
        #expect(delays.max()! > .seconds(27))
    }
}
