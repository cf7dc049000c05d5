/// Minimal JSON writing for pub/sub payloads and events: the hot path builds one string per
/// update, so this avoids Foundation's JSONSerialization and its boxing.
public enum JSONText {
    /// `"text"` with JSON escapes.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// A JSON object from ordered fields; numbers are written as their canonical text.
    public static func object(_ fields: [Field]) -> String {
        var out = "{"
        var first = true
        for field in fields {
            if !first { out += "," }
            first = false
            out += quoted(field.name)
            out += ":"
            out += field.isNumber ? field.value : quoted(field.value)
        }
        out += "}"
        return out
    }
}

extension Record {
    /// The pub/sub message without `seq` and `stale` (the publish script appends those): the
    /// hash's fields plus `key` (with prefix) and `type`.
    public func jsonPayload(prefixedKey: String) -> String {
        var all = fields
        all.append(Field("key", prefixedKey, isNumber: false))
        all.append(Field("type", kind.rawValue, isNumber: false))
        return JSONText.object(all)
    }
}
