/// Every key the configuration understands, in the order `check-config` prints them.
///
/// The catalogue exists so that a typo (`ib.prot`) is caught instead of silently ignored, so that
/// list-valued keys can accept `a,b` in the environment, and so that secrets are known by name
/// before any value is read.
enum ConfigKeyCatalog {
    struct Entry: Sendable {
        var path: String
        var isList = false
        var isSecret = false
    }

    static let entries: [Entry] = [
        .init(path: "worker.id"),
        .init(path: "worker.status_interval_seconds"),
        .init(path: "worker.shutdown_timeout_seconds"),
        .init(path: "worker.group"),
        .init(path: "worker.lease_ttl_seconds"),
        .init(path: "worker.lease_renew_seconds"),
        .init(path: "ib.host"),
        .init(path: "ib.port"),
        .init(path: "ib.client_id"),
        .init(path: "ib.client_id_pool", isList: true),
        .init(path: "ib.connect_timeout_seconds"),
        .init(path: "ib.heartbeat_interval_seconds"),
        .init(path: "ib.market_data_type"),
        .init(path: "ib.max_market_data_lines"),
        .init(path: "ib.max_requests_per_second"),
        .init(path: "ib.connectivity_lost_grace_seconds"),
        .init(path: "ib.reconnect.initial_delay_ms"),
        .init(path: "ib.reconnect.max_delay_ms"),
        .init(path: "ib.reconnect.multiplier"),
        .init(path: "redis.url", isSecret: true),
        .init(path: "redis.tls.ca_file"),
        .init(path: "redis.tls.cert_file"),
        .init(path: "redis.tls.key_file"),
        .init(path: "redis.tls.server_name"),
        .init(path: "redis.tls.verify"),
        .init(path: "redis.sentinels", isList: true),
        .init(path: "redis.master_name"),
        .init(path: "redis.sentinel_username"),
        .init(path: "redis.sentinel_password", isSecret: true),
        .init(path: "redis.key_prefix"),
        .init(path: "redis.quote_ttl_seconds"),
        .init(path: "redis.option_ttl_seconds"),
        .init(path: "redis.chain_ttl_seconds"),
        .init(path: "redis.stream.enabled"),
        .init(path: "redis.stream.maxlen"),
        .init(path: "redis.scripts_dir"),
        .init(path: "symbols", isList: true),
        .init(path: "failover.max_reconnect_attempts"),
        .init(path: "failover.staleness_seconds"),
        .init(path: "failover.check_interval_seconds"),
        .init(path: "failover.failback_stable_seconds"),
        .init(path: "leases.enabled"),
        .init(path: "leases.poll_interval_ms"),
        .init(path: "leases.grace_seconds"),
        .init(path: "leases.min_hold_seconds"),
        .init(path: "leases.max_priority"),
        .init(path: "leases.requester_max_priority", isList: true),
        .init(path: "leases.max_requests_per_requester"),
        .init(path: "leases.new_requests_per_minute"),
        .init(path: "alphavantage.base_url"),
        .init(path: "alphavantage.api_key", isSecret: true),
        .init(path: "alphavantage.requests_per_minute"),
        .init(path: "alphavantage.requests_per_day"),
        .init(path: "alphavantage.entitlement"),
        .init(path: "alphavantage.bulk_quotes"),
        .init(path: "alphavantage.options"),
        .init(path: "alphavantage.fx"),
        .init(path: "alphavantage.timeout_seconds"),
        .init(path: "http.listen"),
        .init(path: "log.level"),
        .init(path: "log.format"),
    ]

    static let byPath: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })

    /// Keys of a map entry in `symbols`.
    static let symbolFields: Set<String> = [
        "symbol", "sec_type", "exchange", "currency", "primary_exchange", "options", "last_trade_date_or_contract_month",
        "front_month", "multiplier", "alphavantage_symbol",
    ]
    static let optionFields: Set<String> = [
        "expirations", "strikes_around_atm", "min_days_to_expiry", "max_days_to_expiry", "trading_classes",
    ]

    /// `redis.url` -> `REDIS_URL` (CONTRACT §2); the same rule swift-configuration's
    /// `EnvironmentVariablesProvider` applies to our all-lowercase keys.
    static func environmentName(_ path: String) -> String {
        String(path.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// True for `ib` and `ib.reconnect`: maps that hold known keys.
    static func isSection(_ path: String) -> Bool {
        entries.contains { $0.path.hasPrefix(path + ".") }
    }

    /// The known key closest to a misspelt one, when it is close enough to be the likely intent.
    static func suggestion(for path: String) -> String? {
        let candidates = entries.map(\.path) + entries.flatMap { entry in
            entry.path.split(separator: ".").indices.dropLast().map { index in
                entry.path.split(separator: ".")[...index].joined(separator: ".")
            }
        }
        let scored = candidates.map { ($0, editDistance($0, path)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, path.count / 5) else { return nil }
        return best
    }

    /// The reason given for an unknown field of a `symbols` entry or its `options` map: an
    /// error naming the closest known field when there is one, else all of them.
    static func unknownFieldReason(_ name: String, known: Set<String>) -> String {
        let best = known.map { ($0, editDistance($0, name)) }.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        if let (field, distance) = best, distance <= max(2, name.count / 5) {
            return "unknown key (did you mean '\(field)'?)"
        }
        return "unknown key (known: \(known.sorted().joined(separator: ", ")))"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
