/// Spellings of doubles on the wire.
public enum NumberText {
    /// Python's `repr(float)`: shortest round-trip digits, fixed notation with at least one
    /// fractional digit for 1e-4 <= |x| < 1e16, otherwise `d.ddde+XX`. Swift's own
    /// `description` produces the same digits but switches notation at other thresholds.
    public static func python(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (negative, digits, exponent) = decompose(value)
        // `exponent` is the position of the decimal point relative to the digit string:
        // value = 0.d1d2d3... * 10^exponent.
        let sign = negative ? "-" : ""
        let pyExponent = exponent - 1  // scientific exponent: d1.d2d3 * 10^pyExponent
        if pyExponent >= -4 && pyExponent < 16 {
            if exponent <= 0 {
                return sign + "0." + String(repeating: "0", count: -exponent) + digits
            }
            if exponent >= digits.count {
                return sign + digits + String(repeating: "0", count: exponent - digits.count) + ".0"
            }
            let split = digits.index(digits.startIndex, offsetBy: exponent)
            return sign + digits[..<split] + "." + digits[split...]
        }
        var mantissa = String(digits.first!)
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let expSign = pyExponent < 0 ? "-" : "+"
        let expDigits = String(abs(pyExponent))
        return sign + mantissa + "e" + expSign + (expDigits.count < 2 ? "0" + expDigits : expDigits)
    }

    /// Plain decimal without exponent and without a trailing `.0` (`100`, `0.5`, `1.25`),
    /// as IB spells Decimal sizes and as ibapi/ib_async parse integers.
    public static func decimal(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        if value == 0 { return "0" }
        let (negative, digits, exponent) = decompose(value)
        let sign = negative ? "-" : ""
        if exponent <= 0 {
            return sign + "0." + String(repeating: "0", count: -exponent) + digits
        }
        if exponent >= digits.count {
            return sign + digits + String(repeating: "0", count: exponent - digits.count)
        }
        let split = digits.index(digits.startIndex, offsetBy: exponent)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// Shortest round-trip digits (no leading/trailing zeros) and the decimal point position.
    static func decompose(_ value: Double) -> (negative: Bool, digits: String, exponent: Int) {
        let text = "\(value.magnitude)"  // "452.5", "1e-05", "1.2345e+16"
        var mantissa = Substring(text)
        var exp10 = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exp10 = Int(text[text.index(after: e)...]) ?? 0
        }
        var intPart = mantissa
        var fracPart: Substring = ""
        if let dot = mantissa.firstIndex(of: ".") {
            intPart = mantissa[..<dot]
            fracPart = mantissa[mantissa.index(after: dot)...]
        }
        var digits = String(intPart) + String(fracPart)
        var point = intPart.count + exp10
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (value.sign == .minus, digits, point)
    }
}
