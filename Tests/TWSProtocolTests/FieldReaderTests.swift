import Foundation
import Essentials
import Testing
@testable import TWSProtocol

/// The one-pass number readers (`int32`, `optionalDouble`) against the two-pass ones they
/// stand in front of (`int32Checked`, `optionalDoubleChecked`): the same value or the same
/// error, and the cursor in the same place, for every spelling IB sends and plenty it does not.
@Suite("FieldReader one-pass numbers")
struct FieldReaderTests {
    enum Outcome<T: Equatable>: Equatable {
        case value(T, next: String?)
        case error(String)
    }

    /// Reads the first field of `fields` (NUL-terminated, followed by "next") both ways.
    static func both<T: Equatable>(
        _ field: String, terminated: Bool = true,
        _ fast: (inout FieldReader) throws(TWSProtocolError) -> T, _ checked: (inout FieldReader) throws(TWSProtocolError) -> T
    ) -> (Outcome<T>, Outcome<T>) {
        var bytes = Array(field.utf8)
        if terminated { bytes += [0] + Array("next".utf8) + [0] }
        func run(_ read: (inout FieldReader) throws(TWSProtocolError) -> T) -> Outcome<T> {
            bytes.withUnsafeBytes { raw in
                var reader = FieldReader(raw, message: "TEST")
                do throws(TWSProtocolError) {
                    let value = try read(&reader)
                    return .value(value, next: try? reader.string("next"))
                } catch {
                    return .error("\(error)")
                }
            }
        }
        return (run(fast), run(checked))
    }

    static let spellings = [
        "", "0", "-0", "1", "-1", "185.25", "-185.25", "0.000123", ".5", "5.", "-.5", ".", "-", "+1", "+1.5", "--1",
        "1.7976931348623157E308", "1.0E-4", "1e5", "Infinity", "-Infinity", "nan", "NaN", "0x10", "12a", "1.2.3",
        "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "12345678901234567890", "0.12345678901234567", "9007199254740992", "9007199254740993", "123456789012345.6789",
        "1000000000000000000000000", "0.0000000000000000000000001", "00000000000000000000001.5", "1 ", " 1", "١",
    ]

    @Test func optionalDoubleIsTheSameOnEverySpelling() {
        for text in Self.spellings {
            let (fast, checked) = Self.both(text, { (r: inout FieldReader) throws(TWSProtocolError) in try r.optionalDouble("v") },
                                            { (r: inout FieldReader) throws(TWSProtocolError) in try r.optionalDoubleChecked("v") })
            #expect(fast == checked, "'\(text)'")
        }
    }

    @Test func int32IsTheSameOnEverySpelling() {
        for text in Self.spellings {
            let (fast, checked) = Self.both(text, { (r: inout FieldReader) throws(TWSProtocolError) in try r.int32("v") },
                                            { (r: inout FieldReader) throws(TWSProtocolError) in try r.int32Checked("v") })
            #expect(fast == checked, "'\(text)'")
        }
    }

    /// A field cut before its NUL (a truncated payload) is missing, not half a number.
    @Test func anUnterminatedFieldIsTheSameError() {
        for text in ["", "1", "185.25", "-"] {
            let d = Self.both(text, terminated: false, { (r: inout FieldReader) throws(TWSProtocolError) in try r.optionalDouble("v") },
                              { (r: inout FieldReader) throws(TWSProtocolError) in try r.optionalDoubleChecked("v") })
            #expect(d.0 == d.1, "'\(text)'")
            let i = Self.both(text, terminated: false, { (r: inout FieldReader) throws(TWSProtocolError) in try r.int32("v") },
                              { (r: inout FieldReader) throws(TWSProtocolError) in try r.int32Checked("v") })
            #expect(i.0 == i.1, "'\(text)'")
        }
    }

    /// Random decimals as IB and Python spell them (shortest repr, fixed places, integers).
    @Test func randomDecimalsAreTheSame() {
        var rng = SplitMix64(seed: 1505)
        for _ in 0..<20_000 {
            let raw = Double(bitPattern: rng.next() >> 2) .truncatingRemainder(dividingBy: 1e7)
            let value = raw.isFinite ? raw : 0
            let spellings = [
                "\(value)", String(Int64(value)), NumberText.python(value),
                String(format: "%.2f", value), String(format: "%.6f", value / 1e6), "-\(Int64(value) % 100_000).\(rng.next() % 1000)",
            ]
            for text in spellings {
                let (fast, checked) = Self.both(text, { (r: inout FieldReader) throws(TWSProtocolError) in try r.optionalDouble("v") },
                                                { (r: inout FieldReader) throws(TWSProtocolError) in try r.optionalDoubleChecked("v") })
                #expect(fast == checked, "'\(text)'")
            }
        }
    }
}
