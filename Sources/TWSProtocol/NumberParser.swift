/// Decimal text -> numbers, straight from bytes.
///
/// IB sends plain decimals (`185.25`, `-1`, `100`), Java spellings (`1.7976931348623157E308`,
/// `1.0E-4`) and `Infinity`. The common plain case is parsed with Clinger's fast path (exact
/// when the digits fit in 2^53 and the scale in 10^22); anything else is validated against a
/// strict alphabet and handed to the standard library's correctly rounded parser, so
/// `nan`, hex floats and other text Swift would accept never pass as numbers.
enum NumberParser {
    static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// `[+-]digits`, nil on anything else or on overflow.
    static func int64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            i = 1
        } else if bytes[0] == UInt8(ascii: "+") {
            i = 1
        }
        guard i < count else { return nil }
        // Accumulate negatively so Int64.min parses without overflow.
        var value: Int64 = 0
        while i < count {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { return nil }
            value = next
            i += 1
        }
        if negative { return value }
        return value == Int64.min ? nil : -value
    }

    static func double(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            i = 1
        } else if bytes[0] == UInt8(ascii: "+") {
            i = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        var seenPoint = false
        var simple = true
        while i < count {
            let byte = bytes[i]
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    if mantissa != 0 { digits += 1 }
                    if seenPoint { scale += 1 }
                } else {
                    simple = false
                    break
                }
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                simple = false
                break
            }
            i += 1
        }
        if simple {
            // "", "-", "." and "-." carry no digit at all.
            let start = bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") ? 1 : 0
            let body = count - start - (seenPoint ? 1 : 0)
            guard body > 0 else { return nil }
            if mantissa <= 1 << 53, scale <= 22 {
                let value = Double(mantissa) / powersOfTen[scale]
                return negative ? -value : value
            }
        }
        return slowPath(bytes)
    }

    /// Exponents, long mantissas and `Infinity`.
    private static func slowPath(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let text = String(decoding: bytes, as: UTF8.self)
        switch text {
        case "Infinity", "+Infinity", "Infinite": return .infinity
        case "-Infinity", "-Infinite": return -.infinity
        default: break
        }
        var sawDigit = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
            default: return nil
            }
        }
        guard sawDigit, let value = Double(text) else { return nil }
        return value
    }
}
