/// IB's ASCII-7 encoding of text fields (v153+): non-ASCII characters travel as `\uXXXX`.
enum ASCII7 {
    static func unescape(_ bytes: UnsafeRawBufferPointer) -> String {
        // Fast path: nothing escaped.
        if !bytes.contains(UInt8(ascii: "\\")) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count)
        var plain: [UInt8] = []
        var out = ""
        func flushPlain() {
            if !plain.isEmpty {
                out += String(decoding: plain, as: UTF8.self)
                plain.removeAll(keepingCapacity: true)
            }
        }
        func flushUnits() {
            if !units.isEmpty {
                out += String(decoding: units, as: UTF16.self)
                units.removeAll(keepingCapacity: true)
            }
        }
        var i = 0
        while i < bytes.count {
            // A control character (NUL is the field separator) is never decoded from an
            // escape: the text stays literal, so decoding and re-encoding agree (fuzz finding).
            if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u"),
               let unit = hex4(bytes, at: i + 2), unit >= 0x20, unit != 0x7F {
                flushPlain()
                units.append(unit)
                i += 6
            } else {
                flushUnits()
                plain.append(bytes[i])
                i += 1
            }
        }
        flushPlain()
        flushUnits()
        return out
    }

    private static func hex4(_ bytes: UnsafeRawBufferPointer, at start: Int) -> UInt16? {
        guard start + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for k in 0..<4 {
            let b = bytes[start + k]
            let nibble: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(nibble)
        }
        return value
    }

    /// Non-ASCII scalars as `\uXXXX` (UTF-16 units, so astral characters become a pair).
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                out.unicodeScalars.append(scalar)
            } else {
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }
        }
        return out
    }
}
