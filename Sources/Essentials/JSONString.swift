/// JSON string literals (RFC 8259 §7), written without Foundation: the one JSON escaper of the
/// project, used by the pub/sub payloads (the write path: byte level, no allocation when nothing
/// needs escaping), the `P:events` messages, JSON log lines, the status and HTTP bodies and the
/// simulators' answers.
///
/// What is escaped: `"` and `\`; `\n`, `\r`, `\t` as their two-character escapes (what
/// JavaScript's `JSON.stringify` and Python's `json.dumps` write); every other control
/// character below U+0020 as `\u00XX` (lower-case hex). Everything else, multi-byte UTF-8
/// included, is copied as is: DEL (U+007F) and U+2028/U+2029 are legal in JSON strings
/// (RFC 8259; JavaScript accepts them in string literals since ES2019), and escaping them would
/// change the bytes of every payload that carries them.
///
/// Invalid UTF-8 cannot reach here: the input is a `String`, and Swift repairs invalid UTF-8
/// when a `String` is made from bytes (`String(decoding:as:)` puts U+FFFD in place of each
/// invalid sequence), so the output is always valid UTF-8 and valid JSON.
public enum JSONString {
    /// `"text"` with JSON escapes, as a `String` (for messages that are built as text).
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `"text"` with JSON escapes to `out` as UTF-8 bytes. The hot path of the Redis
    /// writer: a string with nothing to escape is copied in one block.
    @inlinable
    public static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            out.append(UInt8(ascii: "\""))
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                out.append(contentsOf: utf8)
            } else {
                // Bytes below 0x80 are whole ASCII characters in UTF-8 (every byte of a
                // multi-byte sequence is >= 0x80), so escaping byte by byte is escaping
                // character by character.
                for byte in utf8 { appendEscaped(byte, to: &out) }
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    /// One byte of a string's UTF-8, escaped if JSON requires it.
    @inlinable
    static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        let backslash = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [backslash, UInt8(ascii: "\"")])
        case backslash: out.append(contentsOf: [backslash, backslash])
        case 0x0A: out.append(contentsOf: [backslash, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [backslash, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [backslash, UInt8(ascii: "t")])
        case ..<0x20:
            out.append(contentsOf: [backslash, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigit(byte >> 4), hexDigit(byte & 0xF)])
        default: out.append(byte)
        }
    }

    /// The lower-case hex digit of a nibble (0...15).
    @inlinable
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
