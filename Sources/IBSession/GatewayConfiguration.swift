import Essentials

/// Where and how the session talks to IB Gateway. Every timing is a `Duration`, so units never
/// travel as bare numbers; the defaults are those of the public contract (`ib.*` keys).
public struct GatewayConfiguration: Sendable, Hashable {
    /// `ib.host`, default `127.0.0.1`.
    public var host: String
    /// `ib.port`, default 4002 (IB Gateway paper).
    public var port: Int
    /// `ib.client_id`, default 17: the id tried first on every connect.
    public var clientId: Int32
    /// `ib.client_id_pool`: further ids, tried in order after a 326 ("client id in use"), then
    /// back to `clientId`. A gateway holds a dead session's id until it notices the close, so
    /// rotating ids turns a 326 storm into a single retry.
    public var clientIdPool: [Int32]
    /// `ib.connect_timeout_seconds`, default 5 s: TCP connect + hello + START_API + NEXT_VALID_ID
    /// must all finish within it, or the attempt counts as failed.
    public var connectTimeout: Duration
    /// `ib.heartbeat_interval_seconds`, default 10 s. The protocol has no heartbeat, so a
    /// reqCurrentTime probe is sent this often; no CURRENT_TIME reply for two intervals means the
    /// socket is dead (half-open, or a gateway that hangs).
    public var heartbeatInterval: Duration
    /// `ib.reconnect.*`: delays between attempts.
    public var reconnect: BackoffPolicy
    /// A connection must stay healthy this long (default 30 s) before the failed-attempt counter
    /// goes back to zero; otherwise a gateway that accepts and drops at once would be retried
    /// at the initial delay forever.
    public var healthyResetAfter: Duration
    /// How long a 1100 ("connectivity between IB and the gateway lost") may last before the
    /// session gives up waiting for 1101/1102 and reconnects. Default 60 s.
    public var connectivityLostGrace: Duration
    /// `ib.market_data_type`: 1 live (default), 2 frozen, 3 delayed, 4 delayed-frozen. Sent as
    /// reqMarketDataType (59) after every connect, live included. With 3 or 4, a subscription
    /// refused for lack of permission (354/10089) is requested once more as delayed data.
    public var marketDataType: Int32
    /// Outgoing messages per second, default 40: below the gateway's limit of about 50
    /// (error 100 beyond it), with room for the heartbeat.
    public var maxRequestsPerSecond: Double
    /// Messages that may leave back to back before pacing starts, default 5.
    public var requestBurst: Int
    /// Highest server version advertised, default 200; must stay <= 200 because v201 switches
    /// the wire format to protobuf framing, which this client does not speak.
    public var maxVersion: Int
    /// Lowest server version accepted, default 157 (fractional sizes, v156 option computation).
    public var minVersion: Int
    /// How often a one-shot request is sent again after a reconnect before it fails with
    /// `IBSessionError.connectionLost`. Default 2.
    public var maxRequestResends: Int
    /// After 10197 (a competing live session holds the market data) the refused lines are
    /// requested again this often, default 30 s: IB does not announce the end of the other
    /// session.
    public var competingSessionRetry: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 4002,
        clientId: Int32 = 17,
        clientIdPool: [Int32] = [],
        connectTimeout: Duration = .seconds(5),
        heartbeatInterval: Duration = .seconds(10),
        reconnect: BackoffPolicy = BackoffPolicy(),
        healthyResetAfter: Duration = .seconds(30),
        connectivityLostGrace: Duration = .seconds(60),
        marketDataType: Int32 = 1,
        maxRequestsPerSecond: Double = 40,
        requestBurst: Int = 5,
        maxVersion: Int = 200,
        minVersion: Int = 157,
        maxRequestResends: Int = 2,
        competingSessionRetry: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.clientId = clientId
        self.clientIdPool = clientIdPool
        self.connectTimeout = connectTimeout
        self.heartbeatInterval = heartbeatInterval
        self.reconnect = reconnect
        self.healthyResetAfter = healthyResetAfter
        self.connectivityLostGrace = connectivityLostGrace
        self.marketDataType = marketDataType
        self.maxRequestsPerSecond = maxRequestsPerSecond
        self.requestBurst = requestBurst
        self.maxVersion = min(maxVersion, 200)
        self.minVersion = minVersion
        self.maxRequestResends = maxRequestResends
        self.competingSessionRetry = competingSessionRetry
    }

    /// The ids in the order they are tried: `clientId` first, then the pool, without repeats.
    public var clientIds: [Int32] {
        var seen: Set<Int32> = []
        return ([clientId] + clientIdPool).filter { seen.insert($0).inserted }
    }
}
