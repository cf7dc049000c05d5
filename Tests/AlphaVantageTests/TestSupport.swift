@testable import AlphaVantage

/// A point in test time: plain arithmetic on a Duration, so the pure types run without a clock.
struct TestInstant: InstantProtocol, Sendable, CustomStringConvertible {
    var offset: Duration

    static let zero = TestInstant(offset: .zero)
    static func seconds(_ s: Double) -> TestInstant { TestInstant(offset: .milliseconds(Int64((s * 1000).rounded()))) }

    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.offset < rhs.offset }
    var description: String { "t+\(offset)" }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
