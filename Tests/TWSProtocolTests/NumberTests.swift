import Essentials
import Testing
@testable import TWSProtocol

@Suite("Number parsing and spelling")
struct NumberTests {
    static func parse(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBytes { NumberParser.double($0) }
    }

    static func parseInt(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBytes { NumberParser.int64($0) }
    }

    static let doubles: [(String, Double?)] = [
        ("185.25", 185.25), ("-1", -1), ("0", 0), ("0.0", 0), ("100", 100), ("1.", 1), (".5", 0.5), ("+2.5", 2.5),
        ("0.1", 0.1), ("0.30000000000000004", 0.30000000000000004), ("452.5", 452.5),
        ("1.7976931348623157E308", .greatestFiniteMagnitude), ("1.0E-4", 0.0001), ("1e-05", 0.00001),
        ("9223372036854775807", Double(Int64.max)), ("12345678901234567890123", 1.2345678901234568e22),
        ("0.000000000000000000000000001", 1e-27), ("Infinity", .infinity), ("-Infinity", -.infinity),
        ("", nil), ("-", nil), (".", nil), ("-.", nil), ("abc", nil), ("nan", nil), ("NaN", nil), ("inf", nil),
        ("0x1p3", nil), ("1.2.3", nil), ("1e", nil), ("--1", nil), ("1,5", nil), (" 1", nil), ("1 ", nil), ("e5", nil),
    ]

    @Test("doubles from bytes", arguments: doubles)
    func parsesDoubles(text: String, expected: Double?) {
        #expect(Self.parse(text) == expected)
    }

    @Test func fastPathAgreesWithTheStandardLibrary() {
        // Deterministic sample of prices and greeks in the forms IB sends.
        var rng = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let places = Int(rng.next() % 9)
            let mantissa = Int64(bitPattern: rng.next() % 100_000_000_000) - 50_000_000_000
            var scale = 1.0
            for _ in 0..<places { scale *= 10 }
            let value = Double(mantissa) / scale
            for text in [NumberText.python(value), NumberText.decimal(value), "\(value)"] {
                #expect(Self.parse(text) == Double(text), "\(text)")
            }
        }
    }

    static let ints: [(String, Int64?)] = [
        ("0", 0), ("-1", -1), ("+7", 7), ("2147483647", 2_147_483_647), ("9223372036854775807", .max),
        ("-9223372036854775808", .min), ("9223372036854775808", nil), ("-9223372036854775809", nil),
        ("", nil), ("-", nil), ("1.0", nil), ("12a", nil), (" 1", nil),
    ]

    @Test("integers from bytes", arguments: ints)
    func parsesIntegers(text: String, expected: Int64?) {
        #expect(Self.parseInt(text) == expected)
    }

    static let pythonSpellings: [(Double, String)] = [
        (190.0, "190.0"), (452.5, "452.5"), (0.0001, "0.0001"), (0.00001, "1e-05"), (1e16, "1e+16"),
        (1_234_567_890_123_456.0, "1234567890123456.0"), (0.1 + 0.2, "0.30000000000000004"), (-0.5, "-0.5"),
        (1e22, "1e+22"), (123e-20, "1.23e-18"), (.leastNonzeroMagnitude, "5e-324"), (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        (100, "100.0"), (0.01, "0.01"), (2.5e-5, "2.5e-05"), (12345.678, "12345.678"), (1e15, "1000000000000000.0"),
        (0.00012, "0.00012"), (0, "0.0"), (-1, "-1.0"),
    ]

    @Test("Python's str(float), as ibapi's make_field writes doubles", arguments: pythonSpellings)
    func pythonSpelling(value: Double, expected: String) {
        #expect(NumberText.python(value) == expected)
    }

    @Test func decimalSpelling() {
        #expect(NumberText.decimal(100) == "100")
        #expect(NumberText.decimal(0.5) == "0.5")
        #expect(NumberText.decimal(1_234_567) == "1234567")
        #expect(NumberText.decimal(0.0001) == "0.0001")
        #expect(NumberText.decimal(1e-7) == "0.0000001")
        #expect(NumberText.decimal(1e17) == "100000000000000000")
        #expect(NumberText.decimal(-2.25) == "-2.25")
    }

    @Test func asciiSevenEscapes() {
        let escaped = ASCII7.escape("Café 日本 😀 ok")
        #expect(escaped == "Caf\\u00e9 \\u65e5\\u672c \\ud83d\\ude00 ok")
        let back = Array(escaped.utf8).withUnsafeBytes { ASCII7.unescape($0) }
        #expect(back == "Café 日本 😀 ok")
        // Broken escapes stay literal text, never a crash.
        for text in ["\\u", "\\u12", "\\uZZZZ", "a\\", "\\\\u0041"] {
            let out = Array(text.utf8).withUnsafeBytes { ASCII7.unescape($0) }
            #expect(!out.isEmpty)
        }
        #expect(Array("x\\u0041y".utf8).withUnsafeBytes { ASCII7.unescape($0) } == "xAy")
        // An escaped control character (NUL separates fields) stays literal text (fuzz finding:
        // ERR_MSG "Connectivity lost \\u0000" decoded to a NUL that re-encoding split).
        #expect(Array("lost \\u0000".utf8).withUnsafeBytes { ASCII7.unescape($0) } == "lost \\u0000")
        #expect(Array("a\\u001fb".utf8).withUnsafeBytes { ASCII7.unescape($0) } == "a\\u001fb")
    }
}

