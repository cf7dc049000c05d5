import MarketModel

/// The pub/sub JSON of a record, written as UTF-8 bytes straight into a reusable buffer.
///
/// Byte for byte the same text as `Record.jsonPayload(prefixedKey:)` (the tests hold the two
/// together), but about ten times cheaper: the writer builds one payload per write, and the
/// String-based version cost more than Redis' own work for the write.
public enum PayloadEncoder {
    /// Replaces the contents of `out` with the payload: the record's fields, then `key` and
    /// `type` (publish.lua appends `seq` and `stale`).
    public static func encode(_ record: Record, prefixedKey: String, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(UInt8(ascii: "{"))
        var first = true
        for field in record.fields {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            quoted(field.name, into: &out)
            out.append(UInt8(ascii: ":"))
            if field.isNumber {
                var value = field.value
                value.withUTF8 { out.append(contentsOf: $0) }
            } else {
                quoted(field.value, into: &out)
            }
        }
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: #""key":"#.utf8)
        quoted(prefixedKey, into: &out)
        out.append(contentsOf: #","type":"#.utf8)
        quoted(record.kind.rawValue, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `"text"` with the escapes of `JSONText.quoted`: `"` `\` and control characters;
    /// everything else, multi-byte UTF-8 included, is copied as is.
    static func quoted(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { utf8 in
            out.append(UInt8(ascii: "\""))
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                out.append(contentsOf: utf8)
            } else {
                for byte in utf8 { escape(byte, into: &out) }
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    private static func escape(_ byte: UInt8, into out: inout [UInt8]) {
        let backslash = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [backslash, UInt8(ascii: "\"")])
        case backslash: out.append(contentsOf: [backslash, backslash])
        case 0x0A: out.append(contentsOf: [backslash, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [backslash, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [backslash, UInt8(ascii: "t")])
        case ..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [backslash, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        default: out.append(byte)
        }
    }
}
