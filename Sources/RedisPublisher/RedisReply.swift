/// A reply copied out of hiredis' `redisReply` tree, so no C memory outlives the call.
public enum RedisReply: Sendable, Hashable {
    case status(String)
    case error(String)
    case integer(Int64)
    /// A bulk string, decoded as UTF-8 (invalid sequences repaired); everything this project
    /// stores is text.
    case string(String)
    case null
    case array([RedisReply])

    /// Integer replies, and bulk strings that hold an integer (Lua numbers, `HGET seq`).
    public var int: Int64? {
        switch self {
        case .integer(let v): v
        case .string(let s), .status(let s): Int64(s)
        default: nil
        }
    }

    public var string: String? {
        switch self {
        case .string(let s), .status(let s): s
        case .integer(let v): String(v)
        default: nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let a) = self { a } else { nil }
    }

    public var isNull: Bool {
        if case .null = self { true } else { false }
    }

    /// `HGETALL`'s flat name/value list as a dictionary.
    public var hash: [String: String]? {
        guard let a = array, a.count % 2 == 0 else { return nil }
        var out: [String: String] = [:]
        out.reserveCapacity(a.count / 2)
        var i = 0
        while i < a.count {
            guard let k = a[i].string, let v = a[i + 1].string else { return nil }
            out[k] = v
            i += 2
        }
        return out
    }

    /// The reply as a value, or the server's error reply as a typed error (NOSCRIPT apart,
    /// so the caller can reload the script and retry).
    public func checked() throws(RedisError) -> RedisReply {
        guard case .error(let message) = self else { return self }
        throw message.hasPrefix("NOSCRIPT") ? RedisError(.noScript, message) : RedisError(.server, message)
    }
}
