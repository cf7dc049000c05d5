/// Keeps secrets (the Alpha Vantage key, Redis passwords) out of every text the process
/// writes: configuration listings, problems, and log lines.
///
/// Redaction is by key name, because a log call site cannot be trusted to remember: any
/// metadata key that looks like a credential is replaced whatever its value.
public enum Redaction {
    /// The stand-in for a secret.
    public static let mask = "***"

    /// Fragments of key names that mark a value as secret (compared case-insensitively, with
    /// `-` and `.` treated as `_`).
    static let secretKeyFragments = ["api_key", "apikey", "password", "passwd", "secret", "token", "authorization", "credential"]

    /// True for `api_key`, `alphavantage.api_key`, `REDIS_PASSWORD`, `x-api-token` ...
    public static func isSecretKey(_ key: String) -> Bool {
        let normalized = String(key.lowercased().map { $0 == "-" || $0 == "." ? "_" : $0 })
        return secretKeyFragments.contains { normalized.contains($0) }
    }

    /// The value to show for a key: URLs keep their shape with the password masked, other
    /// secrets are masked entirely.
    public static func redactValue(ofKey key: String, _ value: String) -> String {
        if key.lowercased().hasSuffix("url") { return redactURL(value) }
        return isSecretKey(key) ? mask : value
    }

    /// `redis://user:pw@host:6379/0` -> `redis://user:***@host:6379/0`; also masks an
    /// `apikey=` query parameter (Alpha Vantage URLs carry the key in the query).
    public static func redactURL(_ text: String) -> String {
        var result = text
        if let schemeEnd = result.range(of: "://"),
           let at = result[schemeEnd.upperBound...].lastIndex(of: "@") {
            let credentials = result[schemeEnd.upperBound..<at]
            if let colon = credentials.firstIndex(of: ":") {
                result.replaceSubrange(result.index(after: colon)..<at, with: mask)
            } else if !credentials.isEmpty {
                result.replaceSubrange(schemeEnd.upperBound..<at, with: mask)
            }
        }
        return redactQuery(result)
    }

    /// Masks the value of query parameters named like secrets (`apikey=...`).
    static func redactQuery(_ text: String) -> String {
        guard let question = text.firstIndex(of: "?") else { return text }
        let base = text[...question]
        let pairs = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<equals]
            return isSecretKey(String(name)) ? "\(name)=\(mask)" : String(pair)
        }
        return base + pairs.joined(separator: "&")
    }
}
