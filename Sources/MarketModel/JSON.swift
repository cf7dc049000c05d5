import Essentials

/// Minimal JSON writing for pub/sub payloads and events: the hot path builds one string per
/// update, so this avoids Foundation's JSONSerialization and its boxing. Strings are escaped by
/// `JSONString` (Essentials), the same escaper as the byte-level `PayloadEncoder`.
public enum JSONText {
    /// A JSON object from ordered fields; numbers are written as their canonical text.
    public static func object(_ fields: [Field]) -> String {
        var out = "{"
        var first = true
        for field in fields {
            if !first { out += "," }
            first = false
            out += JSONString.quoted(field.name)
            out += ":"
            out += field.isNumber ? field.value : JSONString.quoted(field.value)
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
