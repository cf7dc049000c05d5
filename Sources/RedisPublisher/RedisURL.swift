import Essentials

/// Where and how to reach Redis: `redis://[user:password@]host:port/db`, or `rediss://...`
/// for TLS.
///
/// The password is kept for AUTH but never appears in `description`, so a URL can be logged
/// or printed by `check-config` as is.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// Default 6379.
    public var port: Int
    /// ACL user name; nil means AUTH with the password alone (the `default` user).
    public var user: String?
    public var password: String?
    /// Default 0.
    public var database: Int
    /// TLS settings; non-nil exactly for `rediss://` URLs (the parser sets the defaults:
    /// verify on, system trust store). Default nil (plaintext).
    public var tls: RedisTLSOptions?

    public init(host: String = "127.0.0.1", port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0,
                tls: RedisTLSOptions? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses `redis://[user:password@]host[:port][/db]` (and `rediss://` for TLS); also
    /// `redis://:password@host` and `redis://[::1]:6379`. User and password may be
    /// percent-encoded.
    public init(parsing text: String) throws(RedisError) {
        func invalid(_ why: String) -> RedisError {
            // The text may hold a password: the error names the problem, never the value.
            RedisError(.invalidURL, "invalid Redis URL: \(why) (expected redis[s]://[user:password@]host:port/db)")
        }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("redis://") {
            scheme = "redis://"
        } else if lower.hasPrefix("rediss://") {
            scheme = "rediss://"
        } else {
            throw invalid("the scheme must be redis:// or rediss:// (TLS)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                guard let u = Self.percentDecoded(credentials[..<colon]),
                      let p = Self.percentDecoded(credentials[credentials.index(after: colon)...])
                else { throw invalid("bad percent-encoding in the credentials") }
                user = u.isEmpty ? nil : u
                password = p
            } else {
                // `redis://secret@host` is the older password-only form.
                guard let p = Self.percentDecoded(credentials) else { throw invalid("bad percent-encoding in the credentials") }
                password = p
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !dbText.isEmpty {
                guard let db = Int(dbText), db >= 0 else { throw invalid("the database must be a non-negative integer") }
                database = db
            }
        }
        let host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("unexpected text after the IPv6 address")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw invalid("the host is missing") }
        var port = 6379
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw invalid("the port must be 1-65535") }
            port = p
        }
        self.init(host: String(host), port: port, user: user, password: password, database: database,
                  tls: scheme == "rediss://" ? RedisTLSOptions() : nil)
    }

    /// The URL with the password replaced by `***`: safe for logs and `check-config`.
    public var description: String {
        var credentials = ""
        if user != nil || password != nil {
            credentials = (user ?? "") + (password != nil ? ":" + Redaction.mask : "") + "@"
        }
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(tls == nil ? "redis" : "rediss")://\(credentials)\(hostText):\(port)/\(database)"
    }

    private static func percentDecoded(_ s: Substring) -> String? {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        var rest = Array(s.utf8)[...]
        while let b = rest.popFirst() {
            guard b == UInt8(ascii: "%") else {
                bytes.append(b)
                continue
            }
            guard rest.count >= 2,
                  let hi = hexValue(rest.popFirst()!), let lo = hexValue(rest.popFirst()!)
            else { return nil }
            bytes.append(hi << 4 | lo)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
