/// Keeps secrets (the Alpha Vantage key, Redis and Sentinel passwords, tokens) out of every text
/// a person or a log can read: configuration listings and problems, log lines and their
/// metadata, error messages, request URLs in diagnostics. The one redaction helper of the
/// project; ``mask`` is what every secret is shown as.
///
/// Redaction is by name where there is one (a configuration key, a log metadata key, a query
/// parameter), because a call site cannot be trusted to remember: anything named like a
/// credential is masked whatever its value.
public enum Redaction {
    /// The stand-in for a secret.
    public static let mask = "***"

    /// Fragments of names that mark a value as secret (compared case-insensitively, with `-`
    /// and `.` treated as `_`).
    static let secretKeyFragments = ["api_key", "apikey", "password", "passwd", "secret", "token", "authorization", "credential"]

    /// True for `api_key`, `alphavantage.api_key`, `apikey`, `APIKEY`, `REDIS_PASSWORD`,
    /// `redis.sentinel_password`, `x-api-token` ...
    public static func isSecretKey(_ key: String) -> Bool {
        let normalized = String(key.lowercased().map { $0 == "-" || $0 == "." ? "_" : $0 })
        return secretKeyFragments.contains { normalized.contains($0) }
    }

    /// The value to show for a named setting: a key ending in `url` keeps its shape with the
    /// secrets in it masked (``url(_:)``); a secret key's value is masked entirely; anything
    /// else is shown as is.
    public static func redactValue(ofKey key: String, _ value: String) -> String {
        if key.lowercased().hasSuffix("url") { return url(value) }
        return isSecretKey(key) ? mask : value
    }

    /// The URL with its secrets masked, its shape kept:
    /// - the password of the user information: `redis://user:pw@host:6379/0` ->
    ///   `redis://user:***@host:6379/0`; the older password-only form `redis://pw@host` ->
    ///   `redis://***@host`. The user information ends at the last `@` after the scheme, the
    ///   rule `RedisURL` parses with, so a password with a raw `@` or `/` is masked whole (a URL
    ///   with an `@` further on is masked too much, never too little);
    /// - the value of every query parameter named like a secret (``isSecretKey(_:)``):
    ///   `?function=GLOBAL_QUOTE&apikey=K` -> `?function=GLOBAL_QUOTE&apikey=***`, the name kept
    ///   as spelled (Alpha Vantage matches `apikey` case-insensitively). A parameter without `=`
    ///   has no value to hide and stays as it is. A `#fragment` is kept as it is.
    public static func url(_ text: String) -> String {
        var result = text
        if let schemeEnd = result.firstRange(of: "://"),
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

    /// Masks the value of query parameters named like secrets, leaving a `#fragment` alone.
    static func redactQuery(_ text: String) -> String {
        guard let question = text.firstIndex(of: "?") else { return text }
        let base = text[...question]
        var query = text[text.index(after: question)...]
        var fragment: Substring = ""
        if let hash = query.firstIndex(of: "#") {
            fragment = query[hash...]
            query = query[..<hash]
        }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<equals]
            return isSecretKey(String(name)) ? "\(name)=\(mask)" : String(pair)
        }
        return base + pairs.joined(separator: "&") + fragment
    }

    /// `text` with every occurrence of `secret` replaced by ``mask`` (an empty secret changes
    /// nothing). For texts a server sends back: Alpha Vantage quotes the key in some messages,
    /// so every message from it passes through here.
    public static func text(_ text: String, removing secret: String) -> String {
        guard !secret.isEmpty, text.contains(secret) else { return text }
        return text.replacing(secret, with: mask)
    }
}
