import Logging
import Synchronization
import Testing
@testable import Relay

/// Issue 16 item 6: a condition that lasts is told once, then summarised with back-off.
/// Instants are made up (a base plus offsets): no clock, no sleeping.
@Suite("Log repeat filter")
struct RepeatFilterTests {
    let base = ContinuousClock.now
    func at(_ seconds: Double) -> ContinuousClock.Instant { base + .milliseconds(Int64(seconds * 1000)) }

    @Test func aLineRepeatedEverySecondIsPrintedWithBackOffAndCounts() {
        var filter = RepeatFilter()
        var printed: [(Int, Int)] = []
        for second in 0...200 {
            if case .print(let repeated) = filter.admit(key: "k", now: at(Double(second))) { printed.append((second, repeated)) }
        }
        // 0 s, then after 10, 20, 40, 80 s windows: 10, 30, 70, 150; each with what was left out.
        #expect(printed.map(\.0) == [0, 10, 30, 70, 150])
        #expect(printed.map(\.1) == [0, 9, 19, 39, 79])
    }

    @Test func theWindowStopsGrowingAtTheMaximum() {
        var filter = RepeatFilter(initialWindow: .seconds(10), maximumWindow: .seconds(30))
        var printed: [Int] = []
        for second in 0...150 {
            if case .print = filter.admit(key: "k", now: at(Double(second))) { printed.append(second) }
        }
        #expect(printed == [0, 10, 30, 60, 90, 120, 150])
    }

    @Test func aConditionThatEndsAndReturnsIsToldAtOnceWithWhatWasLeftOut() {
        var filter = RepeatFilter()
        #expect(filter.admit(key: "k", now: at(0)) == .print(repeated: 0))
        #expect(filter.admit(key: "k", now: at(1)) == .suppress)
        #expect(filter.admit(key: "k", now: at(2)) == .suppress)
        // Quiet for longer than the window: a new episode, printed, carrying the two left out.
        #expect(filter.admit(key: "k", now: at(60)) == .print(repeated: 2))
        #expect(filter.admit(key: "k", now: at(61)) == .suppress)
    }

    @Test func keysAreIndependent() {
        var filter = RepeatFilter()
        #expect(filter.admit(key: "a", now: at(0)) == .print(repeated: 0))
        #expect(filter.admit(key: "b", now: at(0.5)) == .print(repeated: 0))
        #expect(filter.admit(key: "a", now: at(1)) == .suppress)
        #expect(filter.admit(key: "b", now: at(1)) == .suppress)
    }

    @Test func capacityForgetsTheLeastRecentlySeenKey() {
        var filter = RepeatFilter(capacity: 2)
        _ = filter.admit(key: "a", now: at(0))
        _ = filter.admit(key: "b", now: at(1))
        _ = filter.admit(key: "c", now: at(2))  // forgets a
        #expect(filter.admit(key: "a", now: at(3)) == .print(repeated: 0))
        #expect(filter.admit(key: "c", now: at(3)) == .suppress)
    }

    @Test func theKeyIgnoresVolatileMetadataButNotTheSymbol() {
        let one = RepeatFilter.key(label: "q", level: .warning, message: "cannot connect", metadata: ["attempt": "1", "retry_in_ms": "200"])
        let two = RepeatFilter.key(label: "q", level: .warning, message: "cannot connect", metadata: ["attempt": "2", "retry_in_ms": "400"])
        #expect(one == two)
        let aapl = RepeatFilter.key(label: "q", level: .info, message: "probing IB", metadata: ["symbol": "AAPL"])
        let msft = RepeatFilter.key(label: "q", level: .info, message: "probing IB", metadata: ["symbol": "MSFT"])
        #expect(aapl != msft)
        #expect(RepeatFilter.key(label: "q", level: .info, message: "m", metadata: [:]) != RepeatFilter.key(label: "q", level: .warning, message: "m", metadata: [:]))
    }

    /// Through the real handler: held-back lines never reach the sink; the summary line carries
    /// `repeated=N`; at debug level nothing is held back.
    @Test func theHandlerHoldsBackRepeatsAndReportsTheCount() {
        let lines = LineCollector()
        let clock = ManualInstant(base)
        let shared = SharedRepeatFilter(now: { clock.now })
        let logger = Logger(label: "q") { label in
            RelayLogHandler(label: label, format: .text, level: .info, sink: { lines.append($0) }, clock: { 0 }, repeats: shared)
        }
        for second in 0..<12 {
            clock.set(base + .seconds(second))
            logger.warning("cannot connect to IB Gateway: refused", metadata: ["attempt": "\(second + 1)"])
        }
        let all = lines.all
        #expect(all.count == 2)
        #expect(all.first?.hasSuffix("cannot connect to IB Gateway: refused attempt=1") == true)
        #expect(all.last?.hasSuffix("cannot connect to IB Gateway: refused attempt=11 repeated=9") == true)

        let debugLines = LineCollector()
        let debugLogger = Logger(label: "q") { label in
            RelayLogHandler(label: label, format: .text, level: .debug, sink: { debugLines.append($0) }, clock: { 0 }, repeats: shared)
        }
        for _ in 0..<5 { debugLogger.warning("same") }
        #expect(debugLines.all.count == 5)
    }
}

final class LineCollector: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

final class ManualInstant: Sendable {
    private let instant: Mutex<ContinuousClock.Instant>
    init(_ start: ContinuousClock.Instant) { instant = Mutex(start) }
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func set(_ value: ContinuousClock.Instant) { instant.withLock { $0 = value } }
}
