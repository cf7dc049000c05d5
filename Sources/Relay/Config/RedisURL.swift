/// `redis.url` taken apart: `redis://[user:password@]host[:port][/db]`.
///
/// hiredis 0.14 has no TLS, so `rediss://` is rejected rather than silently sent in clear.
/// The password is a secret: ``description`` and ``redacted`` print `***` in its place, and the
/// type has no `CustomDebugStringConvertible` that would leak it.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var username: String?
    public var password: String?
    public var host: String
    /// [6379] when the URL has none.
    public var port: Int
    /// [0] when the URL has no path.
    public var database: Int

    public init(username: String? = nil, password: String? = nil, host: String, port: Int = 6379, database: Int = 0) {
        self.username = username
        self.password = password
        self.host = host
        self.port = port
        self.database = database
    }

    /// Parses a URL, or says in one phrase what is wrong with it.
    public static func parse(_ text: String) -> Result<RedisURL, RedisURLError> {
        let schemeSeparator = "://"
        guard let schemeEnd = text.range(of: schemeSeparator) else {
            return .failure(.init("must look like redis://[user:password@]host:port/db"))
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else {
            if scheme == "rediss" { return .failure(.init("TLS (rediss://) is not supported; use redis://")) }
            return .failure(.init("scheme must be redis://, not \(scheme)://"))
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var username: String?
        var password: String?
        // The password may itself contain '@'; the host part never does, so split at the last one.
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : String(user)
                password = String(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                // `redis://secret@host` is how redis-cli and most clients spell a bare password.
                password = String(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else {
                    return .failure(.init("database must be a number >= 0, got '\(path)'"))
                }
                database = db
            }
        }
        var host = Substring(rest)
        var port = 6379
        if host.hasPrefix("[") {
            // IPv6 literal: [::1]:6379
            guard let close = host.firstIndex(of: "]") else { return .failure(.init("unclosed '[' in host")) }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else {
                    return .failure(.init("port must be a number"))
                }
                port = value
            }
        } else if let colon = host.lastIndex(of: ":") {
            let portText = host[host.index(after: colon)...]
            host = host[..<colon]
            guard let value = Int(portText) else { return .failure(.init("port must be a number, got '\(portText)'")) }
            port = value
        }
        guard !host.isEmpty else { return .failure(.init("host is missing")) }
        guard (1...65_535).contains(port) else { return .failure(.init("port must be 1-65535, got \(port)")) }
        return .success(RedisURL(username: username, password: password, host: String(host), port: port, database: database))
    }

    /// The URL with the password replaced by `***`: safe for logs and `check-config`.
    public var redacted: String {
        var credentials = ""
        if password != nil {
            credentials = "\(username ?? ""):***@"
        } else if let username {
            credentials = "\(username)@"
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(hostPart):\(port)/\(database)"
    }

    public var description: String { redacted }
}

/// Why a `redis.url` was rejected.
public struct RedisURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
