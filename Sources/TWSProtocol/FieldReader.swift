/// A cursor over the NUL-terminated fields of one payload.
///
/// Numbers are parsed straight from the bytes (no `String` per field): at 100k+ messages per
/// second the per-field allocations of a `split` dominate everything else. Only text fields
/// that end up in a message are turned into `String`s.
///
/// Like ibapi's `read_fields`, bytes after the last NUL are not a field: a payload cut in the
/// middle of its last field reports that field as missing instead of decoding half a number.
struct FieldReader {
    private let bytes: UnsafeRawBufferPointer
    private var position: Int
    /// Names the message in errors (`TICK_PRICE`, `reqMktData`, ...).
    var message: String

    init(_ bytes: UnsafeRawBufferPointer, message: String) {
        self.bytes = bytes
        self.position = 0
        self.message = message
    }

    /// True when at least one more complete (NUL-terminated) field follows.
    var hasMore: Bool {
        var i = position
        while i < bytes.count {
            if bytes[i] == 0 { return true }
            i += 1
        }
        return false
    }

    /// The number of complete fields left.
    var remainingFieldCount: Int {
        var count = 0
        var i = position
        while i < bytes.count {
            if bytes[i] == 0 { count += 1 }
            i += 1
        }
        return count
    }

    /// The next field's bytes, without its terminator.
    mutating func next(_ field: String) throws(TWSProtocolError) -> UnsafeRawBufferPointer {
        let start = position
        var i = start
        let end = bytes.count
        while i < end {
            if bytes[i] == 0 {
                position = i + 1
                return UnsafeRawBufferPointer(rebasing: bytes[start..<i])
            }
            i += 1
        }
        throw .truncated(message: message, field: field)
    }

    mutating func skip(_ field: String, count: Int = 1) throws(TWSProtocolError) {
        for _ in 0..<count { _ = try next(field) }
    }

    mutating func string(_ field: String) throws(TWSProtocolError) -> String {
        String(decoding: try next(field), as: UTF8.self)
    }

    /// A text field that may carry `\uXXXX` escapes (error texts and long names from v153).
    mutating func escapedString(_ field: String, unescape: Bool) throws(TWSProtocolError) -> String {
        let raw = try next(field)
        return unescape ? ASCII7.unescape(raw) : String(decoding: raw, as: UTF8.self)
    }

    /// A required integer. Empty text is an error here: a message without its id or type is
    /// not something to guess about.
    mutating func int64(_ field: String) throws(TWSProtocolError) -> Int64 {
        let raw = try next(field)
        guard let value = NumberParser.int64(raw) else {
            throw .invalidNumber(field: field, text: String(decoding: raw, as: UTF8.self))
        }
        return value
    }

    /// Request ids and tick types: in one pass over the field (plain `[-]digits`, up to 10
    /// digits, up to its NUL); anything else takes `int32Checked`, which finds the field first
    /// and gives the same value or error as always.
    mutating func int32(_ field: String) throws(TWSProtocolError) -> Int32 {
        var i = position
        let end = bytes.count
        var negative = false
        if i < end, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var value: Int64 = 0
        var digits = 0
        while i < end {
            let byte = bytes[i]
            if byte == 0 { break }
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10, digits < 10 else { return try int32Checked(field) }
            value = value &* 10 &+ Int64(digit)
            digits += 1
            i += 1
        }
        guard i < end, digits > 0, let narrow = Int32(exactly: negative ? -value : value) else { return try int32Checked(field) }
        position = i + 1
        return narrow
    }

    mutating func int32Checked(_ field: String) throws(TWSProtocolError) -> Int32 {
        let raw = try next(field)
        guard let value = NumberParser.int64(raw), let narrow = Int32(exactly: value) else {
            throw .invalidNumber(field: field, text: String(decoding: raw, as: UTF8.self))
        }
        return narrow
    }

    /// An integer where empty, `2147483647` and `9223372036854775807` mean "unset".
    mutating func optionalInt64(_ field: String) throws(TWSProtocolError) -> Int64? {
        let raw = try next(field)
        if raw.isEmpty { return nil }
        guard let value = NumberParser.int64(raw) else {
            throw .invalidNumber(field: field, text: String(decoding: raw, as: UTF8.self))
        }
        return value == Int64(Int32.max) || value == Int64.max ? nil : value
    }

    mutating func optionalInt32(_ field: String) throws(TWSProtocolError) -> Int32? {
        guard let value = try optionalInt64(field) else { return nil }
        guard let narrow = Int32(exactly: value) else {
            throw .invalidNumber(field: field, text: String(value))
        }
        return narrow
    }

    /// A list length: empty means 0 (as in both reference decoders); negative is rejected so a
    /// hostile count can never drive a loop or an allocation.
    mutating func count(_ field: String) throws(TWSProtocolError) -> Int {
        let raw = try next(field)
        if raw.isEmpty { return 0 }
        guard let value = NumberParser.int64(raw) else {
            throw .invalidNumber(field: field, text: String(decoding: raw, as: UTF8.self))
        }
        guard value >= 0, value <= Int64(bytes.count) else {
            throw .invalidValue(field: field, text: String(value))
        }
        return Int(value)
    }

    /// `0`/`1` (any non-zero integer is true, empty is false).
    mutating func bool(_ field: String) throws(TWSProtocolError) -> Bool {
        let raw = try next(field)
        if raw.isEmpty { return false }
        guard let value = NumberParser.int64(raw) else {
            throw .invalidNumber(field: field, text: String(decoding: raw, as: UTF8.self))
        }
        return value != 0
    }

    /// A double where empty, `Infinity`, `1.7976931348623157E308` and the integer sentinels
    /// mean "unset"; IB's own per-field markers (-1, -2) are the caller's business.
    ///
    /// Prices, sizes and greeks: a plain decimal (`[-]digits[.digits]`, at most 19 significant
    /// digits, exactly representable as NumberParser's fast path requires) is parsed in the
    /// same pass that finds its NUL; anything else (exponents, `Infinity`, long mantissas,
    /// garbage) takes `optionalDoubleChecked`, which finds the field first and gives the same
    /// value or error as always (`FieldReaderTests` compares both on every spelling).
    mutating func optionalDouble(_ field: String) throws(TWSProtocolError) -> Double? {
        var i = position
        let end = bytes.count
        guard i < end else { return try optionalDoubleChecked(field) }
        if bytes[i] == 0 {
            position = i + 1
            return nil
        }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        // Integer digits, then (after one '.') fraction digits, each loop doing only what its
        // part needs; at most 19 digits in all (leading zeros included), so the mantissa
        // cannot overflow. More, or any other byte: the checked reader decides.
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        while i < end {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            mantissa = mantissa &* 10 &+ UInt64(digit)
            digits += 1
            i += 1
        }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < end {
                let digit = bytes[i] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                mantissa = mantissa &* 10 &+ UInt64(digit)
                digits += 1
                scale += 1
                i += 1
            }
        }
        guard i < end, bytes[i] == 0, digits > 0, digits <= 19, mantissa <= 1 << 53, scale <= 22 else {
            return try optionalDoubleChecked(field)
        }
        position = i + 1
        let magnitude = Double(mantissa) / NumberParser.powersOfTen[scale]
        let value = negative ? -magnitude : magnitude
        return Sentinel.isUnset(value) ? nil : value + 0
    }

    mutating func optionalDoubleChecked(_ field: String) throws(TWSProtocolError) -> Double? {
        let raw = try next(field)
        if raw.isEmpty { return nil }
        guard let value = NumberParser.double(raw) else {
            throw .invalidNumber(field: field, text: String(decoding: raw, as: UTF8.self))
        }
        // + 0 turns "-0" into 0: a negative zero carries no information and would only make
        // equal quotes compare unequal.
        return Sentinel.isUnset(value) ? nil : value + 0
    }
}

extension Sentinel {
    /// Every spelling of "unset" a double field can carry: Double.max, infinities, and the
    /// integer maxima that IB's Decimal sizes use.
    static func isUnset(_ value: Double) -> Bool {
        // Double(Int64.max) is 2^63: the text 9223372036854775807 parses to exactly that.
        !value.isFinite || value == Double.greatestFiniteMagnitude || value == Double(Int32.max)
            || value == Double(Int64.max) || value == Double(Int64.min)
    }
}
