import Testing

@testable import IBSession

@Suite("Pacer")
struct PacerTests {
    let t0 = ContinuousClock.now

    @Test func burstThenSteadyRate() {
        var pacer = Pacer(ratePerSecond: 40, burst: 5, now: t0)
        for _ in 0..<5 { let r1 = pacer.tryAcquire(now: t0); #expect(r1) }
        let r2 = pacer.tryAcquire(now: t0)
        #expect(!r2)
        let r3 = pacer.delayUntilAvailable(now: t0)
        #expect(r3 == .milliseconds(25))
        let r4 = pacer.tryAcquire(now: t0 + .milliseconds(24))
        #expect(!r4)
        let r5 = pacer.tryAcquire(now: t0 + .milliseconds(25))
        #expect(r5)
    }

    @Test func bucketNeverExceedsBurst() {
        var pacer = Pacer(ratePerSecond: 40, burst: 5, now: t0)
        let r6 = pacer.available(now: t0 + .seconds(3600))
        #expect(r6 == 5)
    }

    /// 500 messages through the pacer, sent as soon as allowed: no one-second window holds more
    /// than rate + burst, which keeps 40/s + 5 well under the gateway's 50.
    @Test func fiveHundredMessagesStayUnderFiftyPerSecond() {
        var pacer = Pacer(ratePerSecond: 40, burst: 5, now: t0)
        var now = t0
        var sentAt: [ContinuousClock.Instant] = []
        while sentAt.count < 500 {
            if pacer.tryAcquire(now: now) {
                sentAt.append(now)
            } else {
                now += pacer.delayUntilAvailable(now: now)
            }
        }
        var worst = 0
        var start = 0
        for end in sentAt.indices {
            while sentAt[end] - sentAt[start] >= .seconds(1) { start += 1 }
            worst = max(worst, end - start + 1)
        }
        #expect(worst <= 45)
        #expect(worst >= 40)
        let total = sentAt.last! - t0
        #expect(total > .milliseconds(12_300) && total < .milliseconds(12_500))
    }
}
