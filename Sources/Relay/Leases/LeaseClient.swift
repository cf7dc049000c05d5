import MarketData
import MarketModel
import RedisPublisher

/// What an application (or `quote-relay subscribe|unsubscribe|subscriptions`) does with the
/// lease layout of `LeaseStore` (README "Subscriptions at runtime"). Blocking (hiredis): call
/// it from a thread of its own.
public enum LeaseClient {
    /// One lease as `subscriptions` lists it.
    public struct Row: Sendable, Hashable {
        public var requester: String
        public var spec: String
        /// ms until the lease expires (negative: expired, in the grace or not yet pruned).
        public var expiresInMs: Int64
        public var priority: Int
        /// The status hash (`state`, `place`, `reason`, `key`, `updated_ms`); empty when the
        /// worker has not written one yet (or no worker reads leases).
        public var status: [String: String]
    }

    public enum ClientError: Error, Sendable, CustomStringConvertible {
        case badRequester(String)
        case badSpec(InstrumentRequest.Refusal)
        case badTTL
        case redis(RedisError)

        public var description: String {
            switch self {
            case .badRequester(let r): "requester '\(r)' must be 1-64 of A-Z a-z 0-9 _ . -"
            case .badSpec(let refusal): "\(refusal)"
            case .badTTL: "the TTL must be between 1 and 86400 seconds"
            case .redis(let e): "\(e)"
            }
        }
    }

    /// What ``subscribe(on:prefix:requester:spec:ttlMs:priority:)`` wrote.
    public struct Written: Sendable, Hashable {
        /// When the lease expires, ms on Redis' clock (`TIME`).
        public var expiresMs: Int64
        /// True when the lease is new, false when an existing one was refreshed (`ZADD`'s count).
        public var created: Bool
    }

    /// The checks every way of leasing makes before anything is written (the CLI, the HTTP
    /// endpoints): a valid requester, a spec `InstrumentRequest` accepts, a TTL of
    /// 1 ms to 24 h.
    public static func validate(requester: String, spec: String, ttlMs: Int64) throws(ClientError) {
        guard LeaseArbiter.Lease.isValidRequester(requester) else { throw .badRequester(requester) }
        if case .failure(let refusal) = InstrumentRequest.parse(spec) { throw .badSpec(refusal) }
        guard (1...86_400_000).contains(ttlMs) else { throw .badTTL }
    }

    /// Writes (or refreshes) a lease that expires `ttlMs` from now on Redis' clock.
    /// - Returns: the expiry (ms, Redis' clock).
    public static func subscribe(
        url: RedisURL, prefix: String, requester: String, spec: String, ttlMs: Int64, priority: Int?
    ) throws(ClientError) -> Int64 {
        try validate(requester: requester, spec: spec, ttlMs: ttlMs)
        let connection = try connect(url)
        defer { connection.close() }
        return try subscribe(on: connection, prefix: prefix, requester: requester, spec: spec, ttlMs: ttlMs, priority: priority).expiresMs
    }

    /// ``subscribe(url:prefix:requester:spec:ttlMs:priority:)`` on an open connection (the
    /// caller owns it): validates, then `TIME` and the `ZADD`s.
    public static func subscribe(
        on connection: RedisConnection, prefix: String, requester: String, spec: String, ttlMs: Int64, priority: Int?
    ) throws(ClientError) -> Written {
        try validate(requester: requester, spec: spec, ttlMs: ttlMs)
        do throws(RedisError) {
            let now = try redisNowMs(connection)
            let member = "\(requester)|\(spec)"
            var commands = [["ZADD", Keys.prefixed(prefix, "leases"), String(now + ttlMs), member]]
            if let priority { commands.append(["ZADD", Keys.prefixed(prefix, "leases:priority"), String(priority), member]) }
            let replies = try connection.pipeline(commands)
            for reply in replies { _ = try reply.checked() }
            return Written(expiresMs: now + ttlMs, created: (replies.first?.int ?? 0) > 0)
        } catch {
            throw .redis(error)
        }
    }

    /// Removes a lease at once (the worker keeps the line for the grace period).
    /// - Returns: whether the lease existed.
    public static func unsubscribe(url: RedisURL, prefix: String, requester: String, spec: String) throws(ClientError) -> Bool {
        guard LeaseArbiter.Lease.isValidRequester(requester) else { throw .badRequester(requester) }
        let connection = try connect(url)
        defer { connection.close() }
        return try unsubscribe(on: connection, prefix: prefix, requester: requester, spec: spec)
    }

    /// ``unsubscribe(url:prefix:requester:spec:)`` on an open connection (the caller owns it).
    /// The spec is not parsed, so a malformed lease can be removed too.
    public static func unsubscribe(on connection: RedisConnection, prefix: String, requester: String, spec: String) throws(ClientError) -> Bool {
        guard LeaseArbiter.Lease.isValidRequester(requester) else { throw .badRequester(requester) }
        do throws(RedisError) {
            let member = "\(requester)|\(spec)"
            let replies = try connection.pipeline([
                ["ZREM", Keys.prefixed(prefix, "leases"), member], ["ZREM", Keys.prefixed(prefix, "leases:priority"), member],
            ])
            if (try replies[0].checked().int ?? 0) > 0 { return true }
            // Not written this way: the requester's leases that name the same instrument in
            // another spelling (`msft` for `MSFT`, `STK:MSFT` ...), as the worker reads them.
            guard case .success(let wanted) = InstrumentRequest.parse(spec) else { return false }
            // Every member (ZRANGEBYSCORE, the command the worker's ACL already allows).
            let members = try connection.command(["ZRANGEBYSCORE", Keys.prefixed(prefix, "leases"), "-inf", "+inf"]).checked().array ?? []
            let same = members.compactMap(\.string).filter { candidate in
                guard candidate.hasPrefix(requester + "|") else { return false }
                return (try? InstrumentRequest.parse(String(candidate.dropFirst(requester.count + 1))).get()) == wanted
            }
            guard !same.isEmpty else { return false }
            let removed = try connection.pipeline(same.flatMap { candidate in
                [["ZREM", Keys.prefixed(prefix, "leases"), candidate], ["ZREM", Keys.prefixed(prefix, "leases:priority"), candidate]]
            })
            for reply in removed { _ = try reply.checked() }
            return true
        } catch {
            throw .redis(error)
        }
    }

    /// Every lease with its status, by requester and spec.
    public static func list(url: RedisURL, prefix: String) throws(ClientError) -> [Row] {
        let connection = try connect(url)
        defer { connection.close() }
        return try list(on: connection, prefix: prefix)
    }

    /// ``list(url:prefix:)`` on an open connection (the caller owns it): `TIME`, both sorted
    /// sets, then one `HGETALL` per lease in one pipeline.
    public static func list(on connection: RedisConnection, prefix: String) throws(ClientError) -> [Row] {
        do throws(RedisError) {
            let now = try redisNowMs(connection)
            let replies = try connection.pipeline([
                ["ZRANGEBYSCORE", Keys.prefixed(prefix, "leases"), "-inf", "+inf", "WITHSCORES"],
                ["ZRANGEBYSCORE", Keys.prefixed(prefix, "leases:priority"), "-inf", "+inf", "WITHSCORES"],
            ])
            let priorities = Dictionary(LeaseStore.pairs(try replies[1].checked()), uniquingKeysWith: { a, _ in a })
            var rows: [Row] = []
            for (member, score) in LeaseStore.pairs(try replies[0].checked()) {
                let bar = member.firstIndex(of: "|")
                let requester = bar.map { String(member[..<$0]) } ?? ""
                let spec = bar.map { String(member[member.index(after: $0)...]) } ?? member
                // Applications may write any score Redis takes (+inf, 1e300): shown clamped,
                // never a crash of the operator's tool.
                let expires = Self.clampedInt64(score)
                rows.append(Row(
                    requester: requester, spec: spec, expiresInMs: expires.subtractingReportingOverflow(now).overflow ? .max : expires - now,
                    priority: Int(Self.clampedInt64(priorities[member] ?? 0)), status: [:]))
            }
            rows.sort { ($0.requester, $0.spec) < ($1.requester, $1.spec) }
            let statuses = try connection.pipeline(rows.map { ["HGETALL", Keys.prefixed(prefix, "request:\($0.requester):\($0.spec)")] })
            for index in rows.indices { rows[index].status = statuses[index].hash ?? [:] }
            return rows
        } catch {
            throw .redis(error)
        }
    }

    /// A connection for one CLI command (the library's default timeouts).
    static func connect(_ url: RedisURL) throws(ClientError) -> RedisConnection {
        do throws(RedisError) {
            return try RedisConnection(url: url)
        } catch {
            throw .redis(error)
        }
    }

    /// The rows as a table for the operator.
    public static func table(_ rows: [Row]) -> String {
        guard !rows.isEmpty else { return "no leases" }
        var lines = [["REQUESTER", "INSTRUMENT", "EXPIRES_IN", "PRIORITY", "STATE", "DETAIL"]]
        for row in rows {
            let state = row.status["state"] ?? (row.expiresInMs > 0 ? "(no status yet)" : "expired")
            let detail = row.status["place"].map { "place \($0)" } ?? row.status["reason"] ?? row.status["key"] ?? ""
            lines.append([row.requester, row.spec, String(format1(row.expiresInMs)), String(row.priority), state, detail])
        }
        var widths = [Int](repeating: 0, count: 6)
        for line in lines { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return lines.map { line in
            line.enumerated().map { i, cell in i == line.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func format1(_ ms: Int64) -> String {
        let tenths = ms / 100
        return "\(tenths / 10).\(abs(tenths % 10))s"
    }

    static func redisNowMs(_ connection: RedisConnection) throws(RedisError) -> Int64 {
        let time = try connection.command(["TIME"]).checked().array ?? []
        return (time.first?.int ?? 0) * 1000 + (time.count > 1 ? (time[1].int ?? 0) : 0) / 1000
    }
}

extension LeaseClient {
    /// A sorted-set score as an integer for display: the arbiter's reading
    /// (`LeaseArbiter.expiryMs(score:)`), anything beyond it clamped to `Int64`'s range, NaN as 0.
    static func clampedInt64(_ score: Double) -> Int64 {
        if let value = LeaseArbiter.expiryMs(score: score) { return value }
        return score.isNaN ? 0 : score > 0 ? .max : .min
    }
}
