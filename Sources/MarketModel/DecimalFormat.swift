/// Canonical decimal text for numbers written to Redis hashes and JSON messages.
///
/// Readers of the Redis layout parse these with anything from `float()` to `strtod`, and
/// compare strike keys as strings, so every number has exactly one spelling: plain decimal,
/// no exponent, no trailing zeros beyond what the value needs (`450`, `452.5`, `0.0001`).
/// The digits are Swift's shortest round-tripping representation, so no precision is lost
/// and none is invented.
public enum DecimalFormat {
    /// Plain decimal text for a finite value, or nil for NaN and infinities (which are never
    /// published: an unknown value is an absent field).
    public static func string(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        if value == 0 { return "0" }
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        // Swift's shortest round-tripping text, e.g. "452.5", "1e-05", "1.2345e+16". Without an
        // exponent it is already the canonical spelling: a non-integer's shortest digits never
        // end in a fractional zero. This is the hot path (every number of every record), so the
        // text is taken as is, with one scan of its bytes for the exponent.
        let shortest = value.description
        guard shortest.utf8.contains(UInt8(ascii: "e")) || shortest.utf8.contains(UInt8(ascii: "E")) else {
            return shortest
        }
        guard let eIndex = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return trimmed(shortest)
        }
        let mantissa = String(shortest[..<eIndex])
        guard let exponent = Int(shortest[shortest.index(after: eIndex)...]) else { return nil }
        return expand(mantissa: mantissa, exponent: exponent)
    }

    /// Integer text for counts (sizes, volume) that IB sends as decimals since v163.
    public static func string(_ value: Int64) -> String { String(value) }

    private static func trimmed(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var out = Substring(s)
        while out.hasSuffix("0") { out = out.dropLast() }
        if out.hasSuffix(".") { out = out.dropLast() }
        return String(out)
    }

    private static func expand(mantissa: String, exponent: Int) -> String {
        var negative = false
        var m = Substring(mantissa)
        if m.hasPrefix("-") { negative = true; m = m.dropFirst() }
        let parts = m.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0])
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fracPart
        var point = intPart.count + exponent  // position of the decimal point in `digits`
        if point <= 0 {
            digits = String(repeating: "0", count: -point + 1) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        let head = digits.prefix(point)
        let tail = digits.dropFirst(point)
        var text = tail.isEmpty ? String(head) : trimmed(String(head) + "." + String(tail))
        // Strip redundant leading zeros of the integer part ("00.5" -> "0.5").
        while text.hasPrefix("0") && text.count > 1 && !text.hasPrefix("0.") { text.removeFirst() }
        return negative ? "-" + text : text
    }
}
