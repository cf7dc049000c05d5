/// Keeps the API key out of everything a person or a log can read.
public enum Redaction {
    /// The URL with the value of every `apikey` query parameter replaced by `***`
    /// (parameter name matched case-insensitively, as Alpha Vantage does).
    public static func url(_ url: String) -> String {
        guard let queryStart = url.firstIndex(of: "?") else { return url }
        let base = url[..<queryStart]
        var rest = url[url.index(after: queryStart)...]
        var fragment = ""
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[hash...])
            rest = rest[..<hash]
        }
        let parts = rest.split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            let name = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return name.lowercased() == "apikey" ? "\(name)=***" : String(part)
        }
        return base + "?" + parts.joined(separator: "&") + fragment
    }

    /// `text` with every occurrence of `secret` replaced by `***`. Servers quote the key back
    /// in some messages, so every message from Alpha Vantage passes through here.
    public static func text(_ text: String, removing secret: String) -> String {
        guard !secret.isEmpty, text.contains(secret) else { return text }
        return text.replacing(secret, with: "***")
    }
}
