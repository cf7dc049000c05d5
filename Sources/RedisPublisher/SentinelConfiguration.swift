/// Where to find the Redis primary when Redis runs behind Sentinel: `redis.sentinels`,
/// `redis.master_name` and the Sentinel credentials.
///
/// With a Sentinel configuration the host and port of `redis.url` are not used: the
/// publisher asks the sentinels for the primary's address on every connect, follows
/// `+switch-master`, and re-asks when a write is refused with `READONLY` or the connection
/// drops. `redis.url` still supplies the data nodes' user, password, database and TLS.
public struct SentinelConfiguration: Sendable, Hashable {
    /// One sentinel's address.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port`, `[v6]:port`, or a bare host (port 26379, Sentinel's default).
        /// nil for text that is not an address.
        public init?(parsing text: String) {
            var rest = Substring(text)
            var host: Substring
            var port = 26379
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                host = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if rest.hasPrefix(":") {
                    guard let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
                    port = p
                } else if !rest.isEmpty {
                    return nil
                }
            } else if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else { return nil }
                port = p
            } else {
                host = rest
            }
            guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" || $0 == "@" }) else { return nil }
            self.init(host: String(host), port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// `redis.sentinels`: asked in order; the first that knows the primary answers.
    public var sentinels: [Address]
    /// `redis.master_name`: the name the sentinels monitor the primary under
    /// (`sentinel monitor <name> ...`).
    public var masterName: String
    /// `redis.sentinel_username`: ACL user on the sentinels; nil = the default user.
    public var username: String?
    /// `redis.sentinel_password`: `requirepass` (or the ACL user's password) of the
    /// sentinels; nil = no AUTH. A secret: never printed.
    public var password: String?

    public init(sentinels: [Address], masterName: String, username: String? = nil, password: String? = nil) {
        self.sentinels = sentinels
        self.masterName = masterName
        self.username = username
        self.password = password
    }
}
