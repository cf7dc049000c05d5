import Testing

@testable import IBSession

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
        // Out-of-range draws are clamped, never beyond the cap.
        #expect(policy.delay(forAttempt: 3, unit: 7) == .milliseconds(2000))
    }

    @Test func attemptZeroIsTreatedAsFirst() {
        #expect(policy.cap(forAttempt: 0) == .milliseconds(500))
    }

    @Test func multiplierOfOneOrLessKeepsInitial() {
        let flat = BackoffPolicy(initial: .seconds(2), max: .seconds(30), multiplier: 1)
        #expect(flat.cap(forAttempt: 1_000_000) == .seconds(2))
        let inverted = BackoffPolicy(initial: .seconds(60), max: .seconds(30), multiplier: 0.5)
        #expect(inverted.cap(forAttempt: 3) == .seconds(30))
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
