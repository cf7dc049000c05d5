import Relay
import Testing

/// The split of the validated file/env configuration into the components' configurations.
@Suite struct WorkerConfigurationTests {
    static func load(_ yaml: String, env: [String: String] = [:]) throws -> WorkerConfiguration {
        let report = ConfigurationLoader.load(yaml: yaml, environment: env)
        #expect(report.problems.isEmpty, "\(report.problems)")
        return WorkerConfiguration(try #require(report.configuration))
    }

    @Test func contractKeysReachTheComponents() throws {
        let c = try Self.load("""
            worker: {id: w9}
            ib: {host: 10.0.0.5, port: 4001, client_id: 3, client_id_pool: [4, 5], heartbeat_interval_seconds: 4,
                 market_data_type: delayed, max_market_data_lines: 60,
                 reconnect: {initial_delay_ms: 250, max_delay_ms: 8000, multiplier: 3}}
            redis: {url: "redis://u:pw@127.0.0.1:6390/2", key_prefix: md, quote_ttl_seconds: 30}
            symbols: [AAPL, {symbol: SPY, options: {expirations: 1, strikes_around_atm: 3}}]
            failover: {max_reconnect_attempts: 7, staleness_seconds: 20, check_interval_seconds: 2, failback_stable_seconds: 9}
            """)
        #expect(c.workerID == "w9")
        #expect(c.gateway.host == "10.0.0.5" && c.gateway.port == 4001 && c.gateway.clientId == 3)
        #expect(c.gateway.clientIdPool == [4, 5])
        #expect(c.gateway.marketDataType == 3)
        #expect(c.gateway.reconnect.initial == .milliseconds(250) && c.gateway.reconnect.max == .seconds(8) && c.gateway.reconnect.multiplier == 3)
        #expect(c.publisher.url.user == "u" && c.publisher.url.password == "pw" && c.publisher.url.database == 2)
        #expect(c.publisher.keyPrefix == "md" && c.publisher.quoteTTL == .seconds(30))
        #expect(c.failover.maxReconnectAttempts == 7 && c.failover.stalenessMs == 20_000)
        #expect(c.failover.checkIntervalMs == 2000 && c.failover.failbackStableMs == 9000)
        #expect(c.maxMarketDataLines == 60)
        #expect(c.symbols.map(\.symbol) == ["AAPL", "SPY"])
        #expect(c.symbols[1].options?.strikesAroundATM == 3)
        // The status hash lives 3 heartbeats, so it is rewritten at least every heartbeat.
        #expect(c.statusInterval <= c.gateway.heartbeatInterval)
        #expect(c.alphaVantage == nil, "no key: no Alpha Vantage failover")
    }

    @Test func leaseKeysReachTheWorker() throws {
        let defaults = try #require(try Self.load("symbols: [AAPL]").leases)
        #expect(defaults == LeaseSettings())
        let c = try Self.load("""
            symbols: [AAPL]
            leases: {poll_interval_ms: 250, grace_seconds: 3, min_hold_seconds: 0.5, max_priority: 4,
                     max_requests_per_requester: 7, new_requests_per_minute: 9}
            """)
        let leases = try #require(c.leases)
        #expect(leases.pollInterval == .milliseconds(250) && leases.graceMs == 3_000 && leases.minHoldMs == 500)
        #expect(leases.maxPriority == 4 && leases.maxRequestsPerRequester == 7 && leases.newRequestsPerMinute == 9)
        #expect(try Self.load("symbols: [AAPL]", env: ["LEASES_ENABLED": "false"]).leases == nil)
        // Per-requester maxima, from the file or the environment (comma-separated).
        let caps = try #require(try Self.load("symbols: [AAPL]\nleases: {requester_max_priority: [trader=8, 'backfill = 2']}").leases)
        #expect(caps.requesterMaxPriority == ["trader": 8, "backfill": 2])
        let fromEnv = try #require(try Self.load("symbols: [AAPL]", env: ["LEASES_REQUESTER_MAX_PRIORITY": "ops=10,batch.job=0"]).leases)
        #expect(fromEnv.requesterMaxPriority == ["ops": 10, "batch.job": 0])
    }

    @Test func alphaVantageKeyFromTheEnvironmentEnablesFailover() throws {
        let c = try Self.load("symbols: [AAPL]\nalphavantage: {entitlement: delayed, requests_per_minute: 75, requests_per_day: 5000}",
                              env: ["ALPHAVANTAGE_API_KEY": "K3Y-from-env"])
        let av = try #require(c.alphaVantage)
        #expect(av.apiKey.value == "K3Y-from-env")
        #expect("\(av.apiKey)" == "***")
        #expect(av.entitlement == .delayed && av.requestsPerMinute == 75 && av.requestsPerDay == 5000)
    }
}
