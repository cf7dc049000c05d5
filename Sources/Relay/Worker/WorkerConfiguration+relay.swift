import Essentials
import AlphaVantage
import Failover
import IBSession
import RedisPublisher

extension WorkerConfiguration {
    /// Splits the validated file/env configuration into what each component takes.
    public init(_ c: RelayConfiguration) {
        let gateway = GatewayConfiguration(
            host: c.ib.host, port: c.ib.port, clientId: Int32(c.ib.clientID),
            clientIdPool: c.ib.clientIDPool.map { Int32($0) },
            connectTimeout: c.ib.connectTimeout, heartbeatInterval: c.ib.heartbeatInterval,
            reconnect: BackoffPolicy(initial: c.ib.reconnect.initialDelay, max: c.ib.reconnect.maxDelay, multiplier: c.ib.reconnect.multiplier),
            connectivityLostGrace: c.ib.connectivityLostGrace,
            marketDataType: c.ib.marketDataType.ibCode,
            maxRequestsPerSecond: Double(c.ib.maxRequestsPerSecond))
        let publisher = PublisherConfiguration(
            url: c.redis.url,
            workerID: c.worker.id, keyPrefix: c.redis.keyPrefix,
            quoteTTL: c.redis.quoteTTL, optionTTL: c.redis.optionTTL, chainTTL: c.redis.chainTTL,
            streamEnabled: c.redis.streamEnabled, streamMaxLen: c.redis.streamMaxLength,
            scriptsDirectory: c.redis.scriptsDirectory,
            sentinel: c.redis.sentinel)
        var alphaVantage: AlphaVantageConfiguration?
        if let key = c.alphaVantage.apiKey, !key.isEmpty {
            let entitlement: AlphaVantageConfiguration.Entitlement = switch c.alphaVantage.entitlement {
            case .none: .none
            case .delayed: .delayed
            case .realtime: .realtime
            }
            alphaVantage = AlphaVantageConfiguration(
                baseURL: c.alphaVantage.baseURL, apiKey: APIKey(key), entitlement: entitlement,
                requestsPerMinute: c.alphaVantage.requestsPerMinute, requestsPerDay: c.alphaVantage.requestsPerDay,
                bulkQuotes: c.alphaVantage.bulkQuotes, options: c.alphaVantage.options,
                http: HTTPClientConfiguration(totalTimeout: c.alphaVantage.timeout))
        }
        self.init(
            workerID: c.worker.id, gateway: gateway, publisher: publisher, alphaVantage: alphaVantage,
            alphaVantageBulkQuotes: c.alphaVantage.bulkQuotes, alphaVantageOptions: c.alphaVantage.options,
            alphaVantageFX: c.alphaVantage.fx,
            failover: FailoverPolicy(
                maxReconnectAttempts: c.failover.maxReconnectAttempts, staleness: c.failover.staleness,
                checkInterval: c.failover.checkInterval, failbackStable: c.failover.failbackStable),
            symbols: c.symbols, maxMarketDataLines: c.ib.maxMarketDataLines,
            statusInterval: c.worker.statusInterval,
            group: c.worker.group,
            leaseTiming: LeaseStateMachine.Timing(
                ttlMs: c.worker.leaseTTL.components.seconds * 1000 + c.worker.leaseTTL.components.attoseconds / 1_000_000_000_000_000,
                renewIntervalMs: c.worker.leaseRenewInterval.components.seconds * 1000
                    + c.worker.leaseRenewInterval.components.attoseconds / 1_000_000_000_000_000))
        // Applications may lease instruments at runtime (README "Subscriptions at runtime").
        if c.leases.enabled {
            var leases = LeaseSettings()
            leases.pollInterval = c.leases.pollInterval
            leases.graceMs = Self.milliseconds(c.leases.grace)
            leases.minHoldMs = Self.milliseconds(c.leases.minHold)
            leases.maxPriority = c.leases.maxPriority
            leases.requesterMaxPriority = c.leases.requesterMaxPriority
            leases.maxRequestsPerRequester = c.leases.maxRequestsPerRequester
            leases.newRequestsPerMinute = c.leases.newRequestsPerMinute
            self.leases = leases
        }
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}
