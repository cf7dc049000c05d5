import Essentials
import MarketModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Pure rendering of one log event, so both formats are tested without a process.
///
/// text: `2026-11-26T04:20:38.123Z info quote-relay.ib: connected host=127.0.0.1 port=4002`
/// json: `{"ts":"2026-11-26T04:20:38.123Z","level":"info","label":"quote-relay.ib","msg":"connected","metadata":{"host":"127.0.0.1","port":"4002"}}`
public enum LogLineFormatter {
    public static func line(
        format: LogFormat,
        timestampMs: Int64,
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata
    ) -> String {
        let redacted = redact(metadata)
        let ts = iso8601(milliseconds: timestampMs)
        switch format {
        case .text:
            var line = "\(ts) \(level.rawValue) \(label): \(message.replacingNewlines)"
            for key in redacted.keys.sorted() {
                line += " \(key)=\(textValue(redacted[key]!))"
            }
            return line
        case .json:
            var line = "{\"ts\":\(JSONString.quoted(ts)),\"level\":\(JSONString.quoted(level.rawValue)),\"label\":\(JSONString.quoted(label)),\"msg\":\(JSONString.quoted(message))"
            if !redacted.isEmpty {
                line += ",\"metadata\":" + jsonValue(.dictionary(redacted))
            }
            return line + "}"
        }
    }

    /// Masks secrets by key name at every depth, and passwords inside URL-shaped strings.
    static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var result: Logger.Metadata = [:]
        for (key, value) in metadata {
            result[key] = Redaction.isSecretKey(key) ? .string(Redaction.mask) : redact(value)
        }
        return result
    }

    private static func redact(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): text.contains("://") ? .string(Redaction.url(text)) : value
        case .stringConvertible(let convertible):
            convertible.description.contains("://") ? .string(Redaction.url(convertible.description)) : value
        case .dictionary(let nested): .dictionary(redact(nested))
        case .array(let items): .array(items.map(redact))
        }
    }

    static func textValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): quoteIfNeeded(text)
        case .stringConvertible(let convertible): quoteIfNeeded(convertible.description)
        case .array(let items): "[" + items.map(textValue).joined(separator: ",") + "]"
        case .dictionary(let nested): "{" + nested.keys.sorted().map { "\($0)=\(textValue(nested[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// Values with spaces are quoted so `key=value` pairs stay splittable by `grep`/`awk`.
    private static func quoteIfNeeded(_ text: String) -> String {
        if text.isEmpty { return "\"\"" }
        if text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) {
            return JSONString.quoted(text)
        }
        return text
    }

    static func jsonValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): JSONString.quoted(text)
        case .stringConvertible(let convertible): JSONString.quoted(convertible.description)
        case .array(let items): "[" + items.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let nested):
            "{" + nested.keys.sorted().map { "\(JSONString.quoted($0)):\(jsonValue(nested[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// UTC with milliseconds; gmtime_r instead of a Foundation formatter keeps logging cheap.
    static func iso8601(milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds.floorDiv(1000))
        let ms = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

extension String {
    /// A message with a newline would break one-line-per-event parsing of text logs.
    fileprivate var replacingNewlines: String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
