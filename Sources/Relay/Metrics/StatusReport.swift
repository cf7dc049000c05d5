import Essentials

/// What `quote-relay status` read from Redis, as plain values: the worker hashes, the
/// freshness index and each data key's `source`/`stale`. Rendering is a pure function of this,
/// so the table and the JSON are tested without a server.
public struct StatusSnapshot: Sendable, Equatable {
    public struct KeyState: Sendable, Equatable {
        /// The key without the prefix (`quote:AAPL`), as stored in `P:updated`.
        public var key: String
        /// The `P:updated` score: when the values were last confirmed, epoch ms.
        public var updatedMs: Int64
        /// The hash's `source` and `stale`; nil when the hash has expired but the index
        /// still lists it.
        public var source: String?
        public var stale: String?

        public init(key: String, updatedMs: Int64, source: String?, stale: String?) {
            self.key = key
            self.updatedMs = updatedMs
            self.source = source
            self.stale = stale
        }
    }

    /// A worker group's lease (`P:group:GROUP:lease`, worker.group).
    public struct GroupLease: Sendable, Equatable {
        public var group: String
        /// The holder's worker id (from its owner token).
        public var holder: String
        /// The lease's remaining time (`PTTL`), ms.
        public var remainingMs: Int64

        public init(group: String, holder: String, remainingMs: Int64) {
            self.group = group
            self.holder = holder
            self.remainingMs = remainingMs
        }
    }

    public var prefix: String
    /// Worker id -> its status hash (`P:worker:ID`).
    public var workers: [String: [String: String]]
    public var keys: [KeyState]
    /// The reader's clock, epoch ms; ages are relative to it.
    public var nowMs: Int64
    /// Every group lease held now, by group name.
    public var groups: [GroupLease]

    public init(prefix: String, workers: [String: [String: String]], keys: [KeyState], nowMs: Int64, groups: [GroupLease] = []) {
        self.prefix = prefix
        self.workers = workers
        self.keys = keys
        self.nowMs = nowMs
        self.groups = groups.sorted { $0.group < $1.group }
    }

    /// Status hash fields that are numbers, emitted as JSON numbers.
    static let numericWorkerFields: Set<String> = [
        "ib_port", "client_id", "server_version", "connected_since_ms", "reconnect_attempts",
        "failover_since_ms", "last_tick_ms", "pid", "updated_ms", "lease_ttl_ms",
    ]

    /// Quotes first, then chains, then options, each alphabetically: the order an operator scans.
    var sortedKeys: [KeyState] {
        func rank(_ key: String) -> Int {
            if key.hasPrefix("quote:") { return 0 }
            if key.hasPrefix("chain:") { return 1 }
            if key.hasPrefix("option:") { return 2 }
            return 3
        }
        return keys.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }
    }
}

/// Renders a ``StatusSnapshot`` for people (a table) or machines (JSON).
public enum StatusRenderer {
    public static func table(_ snapshot: StatusSnapshot) -> String {
        var lines: [String] = []
        if snapshot.workers.isEmpty {
            lines.append("no worker status under \(snapshot.prefix):worker:* (is the worker running, and is --prefix right?)")
        }
        for id in snapshot.workers.keys.sorted() {
            let hash = snapshot.workers[id]!
            let field = { (name: String) -> String in hash[name].flatMap { $0.isEmpty ? nil : $0 } ?? "-" }
            let age = { (name: String) -> String in
                guard let ms = hash[name].flatMap({ Int64($0) }) else { return "-" }
                return formatAge(snapshot.nowMs - ms) + " ago"
            }
            lines.append("worker \(id)")
            var rows: [(String, String)] = [
                ("state", field("state")),
            ]
            if let group = hash["group"], !group.isEmpty {
                // worker.group: active publishes, standby waits for the lease.
                rows.append(("role", "\(field("role")) in group \(group)  (lease held by \(field("lease_holder")))"))
            }
            rows += [
                ("source", field("source")),
                ("ib", "\(field("ib_host")):\(field("ib_port"))  client id \(field("client_id"))  server version \(field("server_version"))"),
                ("connected since", age("connected_since_ms")),
                ("reconnect attempts", field("reconnect_attempts")),
                ("last tick", age("last_tick_ms")),
                ("last error", field("last_error")),
            ]
            if let reason = hash["failover_reason"], !reason.isEmpty {
                rows.append(("failover", "\(reason) (since \(age("failover_since_ms")))"))
            } else {
                rows.append(("failover", "-"))
            }
            rows.append(("symbols", field("symbols")))
            rows.append(("pid / version", "\(field("pid")) / \(field("version"))"))
            rows.append(("status updated", age("updated_ms")))
            let width = rows.map(\.0.count).max() ?? 0
            for (name, value) in rows {
                lines.append("  " + name + String(repeating: " ", count: width - name.count) + "  " + value)
            }
        }
        for lease in snapshot.groups {
            lines.append("group \(lease.group): lease held by \(lease.holder) (expires in \(formatAge(lease.remainingMs)) unless renewed)")
        }
        lines.append("")
        if snapshot.keys.isEmpty {
            lines.append("no keys in \(snapshot.prefix):updated")
        } else {
            let header = ["KEY", "AGE", "SOURCE", "STALE"]
            let rows = snapshot.sortedKeys.map { key in
                [key.key, formatAge(snapshot.nowMs - key.updatedMs), key.source ?? "(expired)", key.stale ?? "-"]
            }
            let widths = (0..<header.count).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            for row in [header] + rows {
                let cells = row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
                }
                lines.append(cells.joined(separator: "  "))
            }
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ snapshot: StatusSnapshot) -> String {
        let str = JSONString.quoted
        let workers = snapshot.workers.keys.sorted().map { id -> String in
            let hash = snapshot.workers[id]!
            var fields = ["\"id\":\(str(id))"]
            for name in hash.keys.sorted() {
                let value = hash[name]!
                if StatusSnapshot.numericWorkerFields.contains(name), let number = Int64(value) {
                    fields.append("\(str(name)):\(number)")
                } else {
                    fields.append("\(str(name)):\(str(value))")
                }
            }
            if let updated = hash["updated_ms"].flatMap({ Int64($0) }) {
                fields.append("\"age_ms\":\(snapshot.nowMs - updated)")
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
        let keys = snapshot.sortedKeys.map { key -> String in
            var fields = [
                "\"key\":\(str(key.key))", "\"updated_ms\":\(key.updatedMs)", "\"age_ms\":\(snapshot.nowMs - key.updatedMs)",
            ]
            fields.append("\"source\":" + (key.source.map(str) ?? "null"))
            fields.append("\"stale\":" + (key.stale.map { $0 == "1" ? "true" : "false" } ?? "null"))
            return "{" + fields.joined(separator: ",") + "}"
        }
        let groups = snapshot.groups.map { lease in
            "{\"group\":\(str(lease.group)),\"holder\":\(str(lease.holder)),\"remaining_ms\":\(lease.remainingMs)}"
        }
        // Only with worker groups, so the shape without them stays as it was.
        let groupsField = groups.isEmpty ? "" : "\"groups\":[\(groups.joined(separator: ","))],"
        return "{\"prefix\":\(str(snapshot.prefix)),\"now_ms\":\(snapshot.nowMs),\"workers\":[\(workers.joined(separator: ","))],\(groupsField)\"keys\":[\(keys.joined(separator: ","))]}"
    }

    /// `850ms`, `12.3s`, `4m05s`, `2h03m`, `3d04h`; negative ages (clock skew) read as `0ms`.
    public static func formatAge(_ milliseconds: Int64) -> String {
        let ms = max(0, milliseconds)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if ms < 1000 { return "\(ms)ms" }
        if ms < 60_000 { return "\(ms / 1000).\((ms % 1000) / 100)s" }
        let seconds = ms / 1000
        if seconds < 3600 { return "\(seconds / 60)m\(two(seconds % 60))s" }
        if seconds < 86_400 { return "\(seconds / 3600)h\(two((seconds % 3600) / 60))m" }
        return "\(seconds / 86_400)d\(two((seconds % 86_400) / 3600))h"
    }
}
