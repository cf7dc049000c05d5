import Testing
@testable import RedisPublisher

@Suite("ReconnectBackoff")
struct ReconnectBackoffTests {
    @Test func doublesUpToTheCapWithEqualJitter() {
        let b = ReconnectBackoff(initial: .milliseconds(200), maximum: .seconds(5))
        #expect(b.delay(attempt: 1, random: 0) == .milliseconds(100))
        #expect(b.delay(attempt: 1, random: 0.5) == .milliseconds(150))
        #expect(b.delay(attempt: 2, random: 0) == .milliseconds(200))
        #expect(b.delay(attempt: 3, random: 1) == .milliseconds(800))
        #expect(b.delay(attempt: 6, random: 0) == .milliseconds(2500))
        #expect(b.delay(attempt: 100, random: 1) == .seconds(5))
        #expect(b.delay(attempt: 0, random: 0) == .milliseconds(100))
    }
}
