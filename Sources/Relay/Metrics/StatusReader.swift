import MarketModel
import RedisPublisher

/// Reads what `quote-relay status` shows, over one short-lived Redis connection.
///
/// Blocking (hiredis): call it from a dedicated thread, never from an event loop or the
/// cooperative pool. Ages are measured against Redis' own clock (TIME), the same clock the
/// staleness script uses, so a skewed operator laptop does not misreport freshness.
public enum StatusReader {
    public static func read(url: RedisURL, prefix: String) throws(RedisError) -> StatusSnapshot {
        let connection = try RedisConnection(url: url, connectTimeout: .seconds(2), ioTimeout: .seconds(5))
        defer { connection.close() }

        let time = try connection.command(["TIME"]).array ?? []
        let seconds = time.first?.int ?? 0
        let micros = time.count > 1 ? (time[1].int ?? 0) : 0
        let nowMs = seconds * 1000 + micros / 1000

        // SCAN, not KEYS: KEYS blocks a busy production server for the whole keyspace.
        var workerKeys: [String] = []
        var cursor = "0"
        repeat {
            let reply = try connection.command(["SCAN", cursor, "MATCH", Keys.prefixed(prefix, "worker:*"), "COUNT", "200"])
            guard let parts = reply.array, parts.count == 2 else { break }
            cursor = parts[0].string ?? "0"
            workerKeys += (parts[1].array ?? []).compactMap(\.string)
        } while cursor != "0"
        workerKeys.sort()

        var workers: [String: [String: String]] = [:]
        let workerPrefix = Keys.prefixed(prefix, "worker:")
        let hashes = try connection.pipeline(workerKeys.map { ["HGETALL", $0] })
        for (key, reply) in zip(workerKeys, hashes) {
            guard let hash = reply.hash, !hash.isEmpty else { continue }
            workers[String(key.dropFirst(workerPrefix.count))] = hash
        }

        let updated = try connection.command(["ZRANGE", Keys.prefixed(prefix, Keys.updated), "0", "-1", "WITHSCORES"]).array ?? []
        var members: [(String, Int64)] = []
        var index = 0
        while index + 1 < updated.count {
            if let member = updated[index].string, let score = updated[index + 1].string.flatMap(Double.init) {
                members.append((member, Int64(score)))
            }
            index += 2
        }
        let flags = try connection.pipeline(members.map { ["HMGET", Keys.prefixed(prefix, $0.0), "source", "stale"] })
        let keys = zip(members, flags).map { member, reply -> StatusSnapshot.KeyState in
            let values = reply.array ?? []
            let source = values.first.flatMap { $0.isNull ? nil : $0.string }
            let stale = values.count > 1 ? (values[1].isNull ? nil : values[1].string) : nil
            return .init(key: member.0, updatedMs: member.1, source: source, stale: stale)
        }
        // worker.group leases: P:group:GROUP:lease holds the active worker's owner token.
        var leaseKeys: [String] = []
        cursor = "0"
        repeat {
            let reply = try connection.command(["SCAN", cursor, "MATCH", Keys.prefixed(prefix, PublisherKeys.lease(group: "*")), "COUNT", "200"])
            guard let parts = reply.array, parts.count == 2 else { break }
            cursor = parts[0].string ?? "0"
            leaseKeys += (parts[1].array ?? []).compactMap(\.string)
        } while cursor != "0"
        let groupPrefix = Keys.prefixed(prefix, "group:")
        let leaseReplies = try connection.pipeline(leaseKeys.flatMap { [["GET", $0], ["PTTL", $0]] })
        var groups: [StatusSnapshot.GroupLease] = []
        for (i, key) in leaseKeys.enumerated() {
            guard let token = leaseReplies[2 * i].string, key.hasPrefix(groupPrefix), key.hasSuffix(":lease") else { continue }
            let group = String(key.dropFirst(groupPrefix.count).dropLast(":lease".count))
            groups.append(.init(group: group, holder: LeaseStateMachine.workerID(ofToken: token), remainingMs: leaseReplies[2 * i + 1].int ?? -2))
        }
        return StatusSnapshot(prefix: prefix, workers: workers, keys: keys, nowMs: nowMs, groups: groups)
    }
}
