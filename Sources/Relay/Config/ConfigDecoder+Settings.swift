import Essentials
import RedisPublisher
import MarketData

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ConfigDecoder {
    /// Reads every key of the catalogue, in its order, then checks the rules that span keys.
    mutating func decode() -> RelayConfiguration {
        var c = RelayConfiguration()
        let maxInt32 = Int(Int32.max)

        string("worker.id", &c.worker.id)
        if let problem = Self.keyComponentProblem(c.worker.id) { self.problem("worker.id", c.worker.id, source(of: "worker.id"), problem) }
        seconds("worker.status_interval_seconds", &c.worker.statusInterval)
        seconds("worker.shutdown_timeout_seconds", &c.worker.shutdownTimeout)
        workerGroup(&c.worker)

        string("ib.host", &c.ib.host)
        int("ib.port", &c.ib.port, in: 1...65_535)
        int("ib.client_id", &c.ib.clientID, in: 0...maxInt32)
        clientIDPool(&c.ib.clientIDPool, clientID: c.ib.clientID)
        seconds("ib.connect_timeout_seconds", &c.ib.connectTimeout)
        seconds("ib.heartbeat_interval_seconds", &c.ib.heartbeatInterval)
        choice("ib.market_data_type", &c.ib.marketDataType)
        int("ib.max_market_data_lines", &c.ib.maxMarketDataLines, in: 1...100_000)
        int("ib.max_requests_per_second", &c.ib.maxRequestsPerSecond, in: 1...50, rangeText: "between 1 and 50 (IB disconnects above 50 messages a second)")
        seconds("ib.connectivity_lost_grace_seconds", &c.ib.connectivityLostGrace)
        milliseconds("ib.reconnect.initial_delay_ms", &c.ib.reconnect.initialDelay)
        milliseconds("ib.reconnect.max_delay_ms", &c.ib.reconnect.maxDelay)
        double("ib.reconnect.multiplier", &c.ib.reconnect.multiplier, atLeast: 1)
        if c.ib.reconnect.maxDelay < c.ib.reconnect.initialDelay {
            problem(
                "ib.reconnect.max_delay_ms", Self.format(c.ib.reconnect.maxDelay, unit: .milliseconds), source(of: "ib.reconnect.max_delay_ms"),
                "must be at least ib.reconnect.initial_delay_ms (\(Self.format(c.ib.reconnect.initialDelay, unit: .milliseconds)))"
            )
        }

        redisURL(&c.redis.url)
        redisTLS(&c.redis.url)
        c.redis.sentinel = redisSentinel()
        string("redis.key_prefix", &c.redis.keyPrefix, allowEmpty: true)
        if let problem = Self.keyComponentProblem(c.redis.keyPrefix, allowEmpty: true) {
            self.problem("redis.key_prefix", c.redis.keyPrefix, source(of: "redis.key_prefix"), problem)
        }
        seconds("redis.quote_ttl_seconds", &c.redis.quoteTTL, wholeOnly: true)
        seconds("redis.option_ttl_seconds", &c.redis.optionTTL, wholeOnly: true)
        seconds("redis.chain_ttl_seconds", &c.redis.chainTTL, wholeOnly: true)
        bool("redis.stream.enabled", &c.redis.streamEnabled)
        int("redis.stream.maxlen", &c.redis.streamMaxLength, in: 1...Int.max)
        string("redis.scripts_dir", &c.redis.scriptsDirectory)

        c.symbols = decodeSymbols()

        int("failover.max_reconnect_attempts", &c.failover.maxReconnectAttempts, in: 1...Int.max)
        seconds("failover.staleness_seconds", &c.failover.staleness)
        seconds("failover.check_interval_seconds", &c.failover.checkInterval)
        seconds("failover.failback_stable_seconds", &c.failover.failbackStable)

        bool("leases.enabled", &c.leases.enabled)
        milliseconds("leases.poll_interval_ms", &c.leases.pollInterval)
        seconds("leases.grace_seconds", &c.leases.grace)
        seconds("leases.min_hold_seconds", &c.leases.minHold)
        int("leases.max_priority", &c.leases.maxPriority, in: 0...1_000)
        requesterMaxPriority(&c.leases.requesterMaxPriority)
        int("leases.max_requests_per_requester", &c.leases.maxRequestsPerRequester, in: 1...10_000)
        int("leases.new_requests_per_minute", &c.leases.newRequestsPerMinute, in: 1...10_000)
        if c.failover.checkInterval > c.failover.staleness {
            warnings.append("failover.check_interval_seconds is longer than failover.staleness_seconds: staleness is noticed late")
        }

        string("alphavantage.base_url", &c.alphaVantage.baseURL)
        if let problem = Self.httpURLProblem(c.alphaVantage.baseURL) {
            self.problem("alphavantage.base_url", c.alphaVantage.baseURL, source(of: "alphavantage.base_url"), problem)
        }
        var apiKey = ""
        string("alphavantage.api_key", &apiKey, allowEmpty: true)
        c.alphaVantage.apiKey = apiKey.isEmpty ? nil : apiKey
        redactLastSetting(hasValue: c.alphaVantage.apiKey != nil)
        int("alphavantage.requests_per_minute", &c.alphaVantage.requestsPerMinute, in: 1...100_000)
        int("alphavantage.requests_per_day", &c.alphaVantage.requestsPerDay, in: 1...100_000_000)
        if c.alphaVantage.requestsPerDay < c.alphaVantage.requestsPerMinute {
            problem(
                "alphavantage.requests_per_day", String(c.alphaVantage.requestsPerDay), source(of: "alphavantage.requests_per_day"),
                "must be at least alphavantage.requests_per_minute (\(c.alphaVantage.requestsPerMinute))"
            )
        }
        choice("alphavantage.entitlement", &c.alphaVantage.entitlement)
        bool("alphavantage.bulk_quotes", &c.alphaVantage.bulkQuotes)
        bool("alphavantage.options", &c.alphaVantage.options)
        bool("alphavantage.fx", &c.alphaVantage.fx)
        seconds("alphavantage.timeout_seconds", &c.alphaVantage.timeout)
        if c.alphaVantage.apiKey == nil {
            warnings.append("alphavantage.api_key is not set (ALPHAVANTAGE_API_KEY): failover to Alpha Vantage will be refused by the service")
        }

        listen(&c.http)
        choice("log.level", &c.log.level)
        choice("log.format", &c.log.format)

        checkLineBudget(c)
        return c
    }

    /// The source recorded for a key that was just read.
    func source(of path: String) -> ConfigValueSource {
        settings.last { $0.keyPath == path }?.source ?? .defaultValue
    }

    private mutating func redactLastSetting(hasValue: Bool) {
        guard var last = settings.popLast() else { return }
        last.value = hasValue ? Redaction.mask : "(not set)"
        settings.append(last)
    }

    /// `leases.requester_max_priority`: `REQUESTER=N` items (YAML list, or a comma-separated
    /// environment value), each requester named as in a lease member, N in 0...1000.
    private mutating func requesterMaxPriority(_ caps: inout [String: Int]) {
        let path = "leases.requester_max_priority"
        guard let (items, source) = rawList(path) else { return record(path, "[]", .defaultValue) }
        record(path, "[" + items.joined(separator: ", ") + "]", source)
        var parsed: [String: Int] = [:]
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
            guard parts.count == 2, LeaseArbiter.Lease.isValidRequester(parts[0]) else {
                problem(path, item, source, "each item is REQUESTER=N, the requester 1-64 of A-Z a-z 0-9 _ . - (e.g. trader=8)")
                continue
            }
            guard let cap = Int(parts[1]), (0...1_000).contains(cap) else {
                problem(path, item, source, "the maximum priority must be a whole number between 0 and 1000")
                continue
            }
            guard parsed[parts[0]] == nil else {
                problem(path, item, source, "requester '\(parts[0])' appears twice")
                continue
            }
            parsed[parts[0]] = cap
        }
        caps = parsed
    }

    private mutating func clientIDPool(_ pool: inout [Int], clientID: Int) {
        let path = "ib.client_id_pool"
        guard let (items, source) = rawList(path) else { return record(path, "[]", .defaultValue) }
        record(path, "[" + items.joined(separator: ", ") + "]", source)
        var ids: [Int] = []
        for item in items {
            guard let id = Int(item), (0...Int(Int32.max)).contains(id) else {
                problem(path, item, source, "every client id must be a whole number between 0 and \(Int32.max)")
                continue
            }
            if id == clientID || ids.contains(id) {
                problem(path, item, source, "client id \(id) appears twice (ib.client_id and the pool must all differ)")
                continue
            }
            ids.append(id)
        }
        pool = ids
    }

    private mutating func redisURL(_ url: inout RedisURL) {
        let path = "redis.url"
        guard let (text, source) = raw(path) else { return record(path, url.description, .defaultValue) }
        do {
            let parsed = try RedisURL(parsing: text)
            url = parsed
            record(path, parsed.description, source)
        } catch {
            // RedisPublisher's messages never include the URL itself (it may hold a password).
            let prefix = "invalid Redis URL: "
            let reason = error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
            record(path, Redaction.url(text), source)
            problem(path, Redaction.url(text), source, reason)
        }
    }

    /// `redis.tls.*`: settings of a `rediss://` URL. Setting them with a `redis://` URL is a
    /// problem, not a silent plaintext connection.
    private mutating func redisTLS(_ url: inout RedisURL) {
        var options = url.tls ?? RedisTLSOptions()
        func optional(_ path: String, _ value: inout String?) {
            var text = value ?? ""
            string(path, &text, allowEmpty: true)
            value = text.isEmpty ? nil : text
        }
        optional("redis.tls.ca_file", &options.caFile)
        optional("redis.tls.cert_file", &options.certificateFile)
        optional("redis.tls.key_file", &options.keyFile)
        optional("redis.tls.server_name", &options.serverName)
        bool("redis.tls.verify", &options.verify)
        let setPaths = ["redis.tls.ca_file", "redis.tls.cert_file", "redis.tls.key_file", "redis.tls.server_name", "redis.tls.verify"]
            .filter { source(of: $0) != .defaultValue }
        guard url.tls != nil else {
            for path in setPaths {
                problem(path, settings.last { $0.keyPath == path }?.value, source(of: path),
                        "TLS settings need a rediss:// redis.url (the URL is redis://, which never uses TLS)")
            }
            return
        }
        for problem in options.problems {
            let path = problem.hasPrefix("redis.tls.server_name") ? "redis.tls.server_name" : "redis.tls.key_file"
            let value = settings.last { $0.keyPath == path }?.value
            self.problem(path, value?.isEmpty == false ? value : nil, source(of: path),
                         String(problem.drop { $0 != ":" }.dropFirst().drop { $0 == " " }))
        }
        for (path, file) in [("redis.tls.ca_file", options.caFile), ("redis.tls.cert_file", options.certificateFile),
                             ("redis.tls.key_file", options.keyFile)] {
            if let file, access(file, R_OK) != 0 {
                problem(path, file, source(of: path), "the file does not exist or is not readable")
            }
        }
        url.tls = options
    }

    /// `redis.sentinels` (host:port list), `redis.master_name` (needed with sentinels) and
    /// the Sentinel credentials.
    private mutating func redisSentinel() -> SentinelConfiguration? {
        let path = "redis.sentinels"
        var addresses: [SentinelConfiguration.Address] = []
        if let (items, source) = rawList(path) {
            record(path, "[" + items.joined(separator: ", ") + "]", source)
            for item in items {
                guard let address = SentinelConfiguration.Address(parsing: item) else {
                    problem(path, item, source, "expected host:port (e.g. 10.0.0.7:26379)")
                    continue
                }
                addresses.append(address)
            }
        } else {
            record(path, "[]", .defaultValue)
        }
        var masterName = ""
        string("redis.master_name", &masterName, allowEmpty: true)
        var username = ""
        string("redis.sentinel_username", &username, allowEmpty: true)
        var password = ""
        string("redis.sentinel_password", &password, allowEmpty: true)
        redactLastSetting(hasValue: !password.isEmpty)
        guard !addresses.isEmpty else {
            if !masterName.isEmpty {
                warnings.append("redis.master_name is set but redis.sentinels is empty: redis.url is used as is")
            }
            return nil
        }
        if masterName.isEmpty {
            problem("redis.master_name", nil, source(of: "redis.master_name"),
                    "must be set with redis.sentinels (the name in the sentinels' `sentinel monitor <name> ...`)")
            return nil
        }
        return SentinelConfiguration(sentinels: addresses, masterName: masterName,
                                     username: username.isEmpty ? nil : username, password: password.isEmpty ? nil : password)
    }

    private mutating func listen(_ http: inout RelayConfiguration.HTTPSettings) {
        let path = "http.listen"
        guard let (text, source) = raw(path) else { return record(path, "\(http.host):\(http.port)", .defaultValue) }
        record(path, text, source)
        guard let colon = text.lastIndex(of: ":") else { return problem(path, text, source, "expected host:port, e.g. 127.0.0.1:9464") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return problem(path, text, source, "host is missing (use 0.0.0.0 to listen on every interface)") }
        guard let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            return problem(path, text, source, "port must be between 0 and 65535 (0: any free port)")
        }
        http.host = host
        http.port = port
    }

    /// Market data lines are the account's hard limit: more subscriptions than lines get error
    /// 101 from IB. The worker's budget copes by dropping the farthest strikes, so this warns.
    private mutating func checkLineBudget(_ c: RelayConfiguration) {
        let wanted = c.symbols.count + c.symbols.compactMap(\.options?.marketDataLines).reduce(0, +)
        if wanted > c.ib.maxMarketDataLines {
            warnings.append(
                "symbols want \(wanted) market data lines but ib.max_market_data_lines is \(c.ib.maxMarketDataLines): the farthest option strikes will not be subscribed"
            )
        }
    }

    /// Parts of Redis key names must not contain glob characters or the separator.
    /// `worker.group` (optional) and its lease timing: TTL at least 100 ms, renew interval
    /// less than the TTL.
    mutating func workerGroup(_ w: inout RelayConfiguration.WorkerSettings) {
        if let (text, source) = raw("worker.group") {
            record("worker.group", text, source)
            if let problem = Self.groupNameProblem(text) {
                self.problem("worker.group", text, source, problem)
            } else {
                w.group = text
            }
        } else {
            record("worker.group", "", .defaultValue)
        }
        seconds("worker.lease_ttl_seconds", &w.leaseTTL)
        if w.leaseTTL < .milliseconds(100) {
            problem("worker.lease_ttl_seconds", Self.format(w.leaseTTL, unit: .seconds), source(of: "worker.lease_ttl_seconds"),
                    "must be at least 0.1 seconds")
        }
        var renew = w.leaseRenewInterval
        seconds("worker.lease_renew_seconds", &renew)
        if source(of: "worker.lease_renew_seconds") != .defaultValue { w.leaseRenew = renew }
        if w.leaseRenewInterval >= w.leaseTTL {
            problem("worker.lease_renew_seconds", Self.format(w.leaseRenewInterval, unit: .seconds), source(of: "worker.lease_renew_seconds"),
                    "must be less than worker.lease_ttl_seconds (\(Self.format(w.leaseTTL, unit: .seconds))): the lease must be renewed before it expires")
        }
    }

    /// A group name becomes part of a key (`P:group:GROUP:lease`) and of log lines.
    static func groupNameProblem(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty (leave the key out for a worker without a group)" }
        if text.count > 64 { return "must be at most 64 characters" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if !text.allSatisfy({ allowed.contains($0) }) { return "may contain only letters, digits, '.', '_' and '-'" }
        return nil
    }

    static func keyComponentProblem(_ text: String, allowEmpty: Bool = false) -> String? {
        if text.isEmpty { return allowEmpty ? nil : "must not be empty" }
        if text.contains(where: { " *?[]\t\n".contains($0) }) { return "must not contain spaces or the glob characters * ? [ ]" }
        return nil
    }

    static func httpURLProblem(_ text: String) -> String? {
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return "must start with http:// or https://" }
        let afterScheme = text.drop { $0 != "/" }.dropFirst(2)
        let host = afterScheme.prefix { $0 != "/" && $0 != "?" }
        if host.isEmpty || host.hasPrefix(":") { return "host is missing" }
        return nil
    }
}
