import Essentials
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
            JSONString.appendQuoted(field.name, to: &out)
            out.append(UInt8(ascii: ":"))
            if field.isNumber {
                var value = field.value
                value.withUTF8 { out.append(contentsOf: $0) }
            } else {
                JSONString.appendQuoted(field.value, to: &out)
            }
        }
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: #""key":"#.utf8)
        JSONString.appendQuoted(prefixedKey, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        JSONString.appendQuoted(record.kind.rawValue, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
