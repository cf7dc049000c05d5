import MarketData
import MarketModel
import NIOConcurrencyHelpers
import NIOPosix
import RedisPublisher

/// The Redis side of runtime subscriptions (README "Subscriptions at runtime"): reads the
/// leases and writes the per-request statuses, over a connection of its own.
///
/// Layout under the prefix `P`:
/// - `P:leases`: sorted set, member `<requester>|<instrument spec>`, score = expiry in ms on
///   Redis' clock (`TIME`); written by applications, read (and pruned) by the worker;
/// - `P:leases:priority`: sorted set, same members, score = priority (optional, default 0);
/// - `P:request:<requester>:<instrument spec>`: hash `state`, `place`, `reason`, `key`,
///   `updated_ms`; written by the worker, its TTL the lease's remaining time plus the grace;
/// - channel `P:request:<requester>`: the same fields as JSON at every change.
///
/// Only commands of the least-privilege ACL (config/redis-acl.conf) are used: TIME,
/// ZRANGEBYSCORE, ZREM, DEL, HSET, PEXPIRE, PUBLISH. No SCAN, no keyspace notifications:
/// the worker polls the one sorted set, so it needs no CONFIG and re-reads everything after a
/// Redis restart.
///
/// Blocking (hiredis): every call runs on NIO's blocking thread pool, never on an event loop
/// or the cooperative pool; calls are serialised by the lock.
final class LeaseStore: Sendable {
    /// What one read found.
    struct Snapshot: Sendable {
        /// Redis `TIME` in ms, read in the same pipeline as the leases.
        var nowMs: Int64
        var leases: [LeaseArbiter.Lease]
        /// Members without a valid `<requester>|`.
        var unparseable: [String]
        /// Members whose score is no time in ms (`+inf`, `1e300`): refused and dropped.
        var invalidExpiry: [LeaseArbiter.Lease] = []
    }

    /// A status write (nil state: delete).
    struct StatusWrite: Sendable {
        var ref: LeaseArbiter.RequestRef
        var state: LeaseArbiter.RequestState?
        var keySymbol: String?
        /// PEXPIRE of the status hash.
        var ttlMs: Int64
        /// The state is unchanged (a lease refreshed by its application): only the hash's TTL
        /// is extended, and nothing is published, unless the hash is gone (a Redis restart or
        /// flush), when it is written and published whole.
        var refreshOnly = false
    }

    /// At most this many leases are read per poll (a guard against a runaway writer).
    static let maxLeases = 10_000

    let prefix: String
    private let connect: @Sendable () throws(RedisError) -> RedisConnection
    private let connection = NIOLockedValueBox<ConnectionBox>(ConnectionBox())

    /// `connect` opens a connection (direct, or through Sentinel to the primary).
    init(prefix: String, connect: @escaping @Sendable () throws(RedisError) -> RedisConnection) {
        self.prefix = prefix
        self.connect = connect
    }

    /// How the lease store and the HTTP subscription endpoints reach Redis: like the publisher
    /// (`redis.url` with its TLS settings, or through Sentinel to the primary), with its
    /// connect and I/O timeouts.
    static func connector(_ publisher: PublisherConfiguration) -> @Sendable () throws(RedisError) -> RedisConnection {
        { () throws(RedisError) -> RedisConnection in
            if let sentinel = publisher.sentinel, !sentinel.sentinels.isEmpty {
                return try Sentinel.connectToPrimary(
                    sentinel, dataURL: publisher.url, connectTimeout: publisher.connectTimeout, ioTimeout: publisher.ioTimeout)
            }
            return try RedisConnection(url: publisher.url, connectTimeout: publisher.connectTimeout, ioTimeout: publisher.ioTimeout)
        }
    }

    var leasesKey: String { Keys.prefixed(prefix, "leases") }
    var priorityKey: String { Keys.prefixed(prefix, "leases:priority") }
    func statusKey(_ ref: LeaseArbiter.RequestRef) -> String { Keys.prefixed(prefix, "request:\(ref.requester):\(ref.spec)") }
    func channel(_ requester: String) -> String { Keys.prefixed(prefix, "request:\(requester)") }

    /// TIME and both sorted sets, in one round trip.
    func read() async throws -> Snapshot {
        try await blocking { connection throws(RedisError) in
            let replies = try connection.pipeline([
                ["TIME"],
                ["ZRANGEBYSCORE", self.leasesKey, "-inf", "+inf", "WITHSCORES", "LIMIT", "0", String(Self.maxLeases)],
                ["ZRANGEBYSCORE", self.priorityKey, "-inf", "+inf", "WITHSCORES", "LIMIT", "0", String(Self.maxLeases)],
            ])
            let time = try replies[0].checked().array ?? []
            let nowMs = (time.first?.int ?? 0) * 1000 + (time.count > 1 ? (time[1].int ?? 0) : 0) / 1000
            let priorities = Dictionary(Self.pairs(try replies[2].checked()), uniquingKeysWith: { a, _ in a })
            var leases: [LeaseArbiter.Lease] = []
            var unparseable: [String] = []
            var invalidExpiry: [LeaseArbiter.Lease] = []
            for (member, score) in Self.pairs(try replies[1].checked()) {
                let priority = priorities[member].map(Self.priority(score:)) ?? 0
                guard let lease = LeaseArbiter.Lease.parse(member: member, expiresMs: 0, priority: priority) else {
                    unparseable.append(member)
                    continue
                }
                if let expiry = LeaseArbiter.expiryMs(score: score) {
                    leases.append(LeaseArbiter.Lease(requester: lease.requester, spec: lease.spec, expiresMs: expiry, priority: priority))
                } else {
                    invalidExpiry.append(lease)
                }
            }
            return Snapshot(nowMs: nowMs, leases: leases, unparseable: unparseable, invalidExpiry: invalidExpiry)
        }
    }

    /// A `P:leases:priority` score as a priority, read as the CLI's listing reads it
    /// (`LeaseClient.clampedInt64`): `+inf` or 1e300 is the highest priority (the arbiter then
    /// bounds it by `leases.max_priority`), `-inf` the lowest, NaN 0.
    static func priority(score: Double) -> Int {
        Int(clamping: LeaseClient.clampedInt64(score.rounded()))
    }

    /// Statuses and lease removals, in one pipeline (and a second one for refreshed statuses
    /// whose hash was gone).
    func write(statuses: [StatusWrite], drop members: [String], nowMs: Int64) async throws {
        guard !statuses.isEmpty || !members.isEmpty else { return }
        try await blocking { connection throws(RedisError) in
            var commands: [[String]] = []
            for member in members {
                commands.append(["ZREM", self.leasesKey, member])
                commands.append(["ZREM", self.priorityKey, member])
            }
            var refreshes: [(index: Int, write: StatusWrite)] = []
            for write in statuses {
                if write.refreshOnly, write.state != nil {
                    refreshes.append((commands.count, write))
                    commands.append(["PEXPIRE", self.statusKey(write.ref), String(max(1, write.ttlMs))])
                } else {
                    commands += self.commands(write, nowMs: nowMs)
                }
            }
            let replies = try connection.pipeline(commands)
            for reply in replies { _ = try reply.checked() }
            // PEXPIRE answers 0 when the key does not exist: write that status whole.
            let missing = refreshes.filter { replies[$0.index].int == 0 }.flatMap { self.commands($0.write, nowMs: nowMs) }
            if !missing.isEmpty {
                for reply in try connection.pipeline(missing) { _ = try reply.checked() }
            }
        }
    }

    /// One status written whole: DEL, HSET + PEXPIRE (unless deleted), PUBLISH on the
    /// requester's channel.
    func commands(_ write: StatusWrite, nowMs: Int64) -> [[String]] {
        var commands: [[String]] = []
        let key = statusKey(write.ref)
        let fields = Self.fields(write)
        commands.append(["DEL", key])
        if write.state != nil {
            commands.append(["HSET", key] + fields.flatMap { [$0.0, $0.1] } + ["updated_ms", String(nowMs)])
            commands.append(["PEXPIRE", key, String(max(1, write.ttlMs))])
        }
        var json = fields.map { Field($0.0, $0.1, isNumber: $0.0 == "place") }
        json.insert(Field("spec", write.ref.spec, isNumber: false), at: 0)
        json.insert(Field("requester", write.ref.requester, isNumber: false), at: 0)
        json.append(Field("ts_ms", String(nowMs), isNumber: true))
        commands.append(["PUBLISH", channel(write.ref.requester), JSONText.object(json)])
        return commands
    }

    /// A status as hash fields: `state` (`active`, `queued`, `refused`, `fallback`, or
    /// `released` on the channel when the lease is gone), `place`, `reason`, `key`.
    static func fields(_ write: StatusWrite) -> [(String, String)] {
        var fields: [(String, String)] = []
        switch write.state {
        case .active?: fields.append(("state", "active"))
        case .fallback?: fields.append(("state", "fallback"))
        case .queued(let place)?: fields += [("state", "queued"), ("place", String(place))]
        case .lookingUp?: fields += [("state", "queued"), ("reason", "asking IB for the contract before a line is given")]
        case .refused(let refusal)?: fields += [("state", "refused"), ("reason", refusal.description)]
        case nil: fields.append(("state", "released"))
        }
        if let key = write.keySymbol, write.state != nil { fields.append(("key", Keys.quote(key))) }
        return fields
    }

    func close() {
        connection.withLockedValue { box in
            box.connection?.close()
            box.connection = nil
        }
    }

    /// Runs `body` on the blocking pool with a live connection; a failed call drops the
    /// connection, so the next one reconnects (after a Redis restart, say).
    private func blocking<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { [connect, connection] in
            try connection.withLockedValue { box in
                do throws(RedisError) {
                    let live: RedisConnection
                    if let existing = box.connection { live = existing } else { live = try connect() }
                    box.connection = live
                    return try body(live)
                } catch {
                    box.connection?.close()
                    box.connection = nil
                    throw error
                }
            }
        }
    }

    /// `[member, score, member, score, ...]` as pairs.
    static func pairs(_ reply: RedisReply) -> [(String, Double)] {
        let items = reply.array ?? []
        var out: [(String, Double)] = []
        var index = 0
        while index + 1 < items.count {
            if let member = items[index].string, let score = items[index + 1].string.flatMap(Double.init) { out.append((member, score)) }
            index += 2
        }
        return out
    }
}

/// The connection, confined to the lock.
final class ConnectionBox: @unchecked Sendable {
    // @unchecked: only touched inside `LeaseStore.connection`'s lock.
    var connection: RedisConnection?
}
