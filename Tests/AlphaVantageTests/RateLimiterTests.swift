import Testing
@testable import AlphaVantage

@Suite struct RateLimiterTests {
    typealias Limiter = RateLimiter<TestInstant>

    /// Grants as fast as allowed from `start` until `end`; returns the grant instants.
    static func drain(_ limiter: inout Limiter, from start: TestInstant, until end: TestInstant) -> [TestInstant] {
        var grants: [TestInstant] = []
        var now = start
        while now < end {
            switch limiter.acquire(at: now) {
            case .granted: grants.append(now)
            case .wait(let until): now = until
            }
        }
        return grants
    }

    static func maxInWindow(_ grants: [TestInstant], _ window: Duration) -> Int {
        var best = 0
        for (i, g) in grants.enumerated() {
            best = max(best, grants[i...].prefix { g.duration(to: $0) < window }.count)
        }
        return best
    }

    @Test func defaultSpacingIsOneSecondForSlowPlans() {
        #expect(Limiter.Configuration(requestsPerMinute: 5, requestsPerDay: 25).minimumSpacing == .seconds(1))
        #expect(Limiter.Configuration(requestsPerMinute: 120, requestsPerDay: 0).minimumSpacing == .milliseconds(500))
    }

    @Test func perMinuteBudgetHoldsInEverySlidingWindow() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 5, requestsPerDay: 0))
        let grants = Self.drain(&limiter, from: .zero, until: .seconds(600))
        #expect(grants.count == 50)
        #expect(Self.maxInWindow(grants, .seconds(60)) == 5)
        // Burst of five one second apart, then the window: 0,1,2,3,4 then 60,61,...
        #expect(Array(grants.prefix(7)) == [.seconds(0), .seconds(1), .seconds(2), .seconds(3), .seconds(4), .seconds(60), .seconds(61)])
    }

    @Test func dailyBudgetCapsRequests() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 5, requestsPerDay: 25))
        let grants = Self.drain(&limiter, from: .zero, until: .seconds(86_400))
        #expect(grants.count == 25)
        #expect(limiter.remainingToday(at: .seconds(86_399)) == 0)
        // The 26th waits for the first to leave the 24 h window.
        #expect(limiter.earliestStart(at: .seconds(86_399)) == .seconds(86_400))
        #expect(limiter.acquire(at: .seconds(86_400)) == .granted)
    }

    @Test func throttleBacksOffAndGrowsOnRepeats() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 5, requestsPerDay: 0))
        #expect(limiter.acquire(at: .seconds(0)) == .granted)
        limiter.recordBackoff(.throttled, at: .seconds(1))
        #expect(limiter.backoffReason == .throttled)
        #expect(limiter.acquire(at: .seconds(30)) == .wait(until: .seconds(61)))
        #expect(limiter.acquire(at: .seconds(61)) == .granted)
        #expect(limiter.backoffUntil == nil)
        limiter.recordBackoff(.throttled, at: .seconds(62))
        #expect(limiter.acquire(at: .seconds(62)) == .wait(until: .seconds(182)))  // 120 s
        #expect(limiter.acquire(at: .seconds(182)) == .granted)
        limiter.recordBackoff(.throttled, at: .seconds(183))
        #expect(limiter.earliestStart(at: .seconds(183)) == .seconds(423))  // 240 s
        // Success resets the growth.
        #expect(limiter.acquire(at: .seconds(423)) == .granted)
        limiter.recordSuccess()
        limiter.recordBackoff(.throttled, at: .seconds(424))
        #expect(limiter.earliestStart(at: .seconds(424)) == .seconds(484))
    }

    @Test func backoffIsCapped() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 5, requestsPerDay: 0, throttleBackoff: .seconds(60), maxThrottleBackoff: .seconds(300)))
        for i in 0..<10 { limiter.recordBackoff(.throttled, at: .seconds(Double(i))) }
        #expect(limiter.earliestStart(at: .seconds(9)) == .seconds(309))
    }

    @Test func dailyLimitBacksOffForAnHour() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 5, requestsPerDay: 25))
        limiter.recordBackoff(.dailyLimit, at: .seconds(10))
        #expect(limiter.acquire(at: .seconds(11)) == .wait(until: .seconds(3610)))
        limiter.recordBackoff(.dailyLimit, at: .seconds(3610))
        #expect(limiter.earliestStart(at: .seconds(3610)) == .seconds(3610 + 7200))
    }

    @Test func transientFailuresBackOffBriefly() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 60, requestsPerDay: 0))
        limiter.recordBackoff(.transient, at: .seconds(0))
        #expect(limiter.earliestStart(at: .seconds(0)) == .seconds(2))
        limiter.recordBackoff(.transient, at: .seconds(2))
        #expect(limiter.earliestStart(at: .seconds(2)) == .seconds(6))
    }

    @Test func shorterBackoffNeverShortensALongerOne() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 5, requestsPerDay: 25))
        limiter.recordBackoff(.dailyLimit, at: .seconds(0))
        limiter.recordBackoff(.transient, at: .seconds(1))
        #expect(limiter.earliestStart(at: .seconds(1)) == .seconds(3600))
        #expect(limiter.backoffReason == .dailyLimit)
    }

    @Test func grantedCountsRequests() {
        var limiter = Limiter(configuration: .init(requestsPerMinute: 2, requestsPerDay: 0))
        _ = Self.drain(&limiter, from: .zero, until: .seconds(120))
        #expect(limiter.granted == 4)
    }
}
