import TWSProtocol

/// One market data subscription as the simulator sees it, for tests that need to map a
/// symbol to the reqId a client chose.
public struct SubscriptionInfo: Sendable, Hashable {
    public var clientId: Int32
    public var reqId: Int32
    public var conId: Int64
    public var symbol: String
    /// `STK`, `IND`, `FUT`, `CASH`, `OPT` or `FOP`.
    public var secType: String
    /// Options only: `YYYYMMDD`, strike, `C`/`P`.
    public var expiry: String?
    public var strike: Double?
    public var right: String?
    /// The market data type served (1 live, 2 frozen, 3 delayed, 4 delayed-frozen).
    public var marketDataType: Int32
    /// Options only: IB's trading class (`SPX`, `SPXW`, `EW1`).
    public var tradingClass: String? = nil
}

/// What the simulator counted since it started; the control port's `counters` reports it.
public struct GatewayCounters: Sendable, Hashable {
    /// Connections that completed START_API and are still open.
    public var clients = 0
    /// Open TCP connections, in any phase.
    public var connections = 0
    /// Streaming market data subscriptions (market data lines in use).
    public var subscriptions = 0
    /// Tick messages sent (TICK_PRICE, TICK_SIZE, TICK_STRING, TICK_OPTION_COMPUTATION).
    public var ticksSent = 0
    /// Messages received from clients after the handshake.
    public var messagesReceived = 0
    /// ERR_MSG sent with a code below 2000 or 10000+ (notices 1100-1102 included, farm OKs not).
    public var errorsSent = 0
    /// Connections closed at accept by `refuse`.
    public var connectionsRefused = 0
    /// reqContractDetails (9) received: a client that asks twice for one contract costs the
    /// account's message budget twice (IB paces all requests at 50 messages/s).
    public var contractDetailsRequests = 0

    var reply: String {
        "clients=\(clients) connections=\(connections) subscriptions=\(subscriptions) ticks=\(ticksSent) received=\(messagesReceived) errors=\(errorsSent) refused=\(connectionsRefused) contract_details=\(contractDetailsRequests)"
    }
}

/// Keeps, per (clientId, reqId, tick type as sent on the wire), the values the simulator
/// sent, so tests of the worker can assert that Redis holds exactly the last one sent.
struct TickRecorder: Sendable {
    struct Key: Hashable, Sendable {
        var clientId: Int32
        var reqId: Int32
        var tickType: Int32
    }

    /// A contract as one client was sent it, over all its requests (streaming lines and
    /// snapshots alike).
    struct ContractKey: Hashable, Sendable {
        var clientId: Int32
        var conId: Int64
    }

    var limit: Int
    private(set) var values: [Key: [TickValue]] = [:]
    /// The last value sent per tick type (as on the wire) for each contract and client, in
    /// the order sent whatever the request: what a client that keeps the newest value of
    /// every tick it receives must hold. Bounded by contracts x tick types.
    private(set) var latest: [ContractKey: (symbol: String, ticks: [Int32: TickValue])] = [:]

    init(limit: Int) { self.limit = limit }

    mutating func record(clientId: Int32, reqId: Int32, conId: Int64, symbol: String, tickType: Int32, value: TickValue) {
        guard limit > 0 else { return }
        latest[ContractKey(clientId: clientId, conId: conId), default: (symbol, [:])].ticks[tickType] = value
        let key = Key(clientId: clientId, reqId: reqId, tickType: tickType)
        values[key, default: []].append(value)
        if let count = values[key]?.count, count > limit {
            values[key]?.removeFirst(count - limit)
        }
    }

    func sent(clientId: Int32, reqId: Int32) -> [Int32: [TickValue]] {
        var result: [Int32: [TickValue]] = [:]
        for (key, list) in values where key.clientId == clientId && key.reqId == reqId {
            result[key.tickType] = list
        }
        return result
    }

    /// The last values sent to `clientId` for the contracts named `symbol`, by conId (one
    /// contract for a stock; each contract month for a future).
    func latest(clientId: Int32, symbol: String) -> [Int64: [Int32: TickValue]] {
        var result: [Int64: [Int32: TickValue]] = [:]
        for (key, entry) in latest where key.clientId == clientId && entry.symbol == symbol {
            result[key.conId] = entry.ticks
        }
        return result
    }
}
