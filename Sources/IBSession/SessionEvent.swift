import TWSProtocol

/// A market data subscription as the worker knows it. Stable for the life of the session:
/// request ids are re-issued on every reconnect, this id never changes.
public struct SubscriptionID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public static func < (a: SubscriptionID, b: SubscriptionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "sub#\(rawValue)" }
}

/// One tick, without the request id (which means nothing outside the current connection).
public enum Tick: Sendable, Hashable {
    /// TICK_PRICE: `price` nil = no quote on that side (IB's -1).
    case price(tickType: Int32, price: Double?, size: Double?, attrMask: Int32)
    case size(tickType: Int32, size: Double?)
    /// TICK_STRING; tick 45 is the last trade time in epoch seconds.
    case string(tickType: Int32, value: String)
    case generic(tickType: Int32, value: Double?)
    /// TICK_OPTION_COMPUTATION (its `reqId` is the connection's, ignore it).
    case optionComputation(OptionComputation)
    /// MARKET_DATA_TYPE: the type actually served (1 live, 2 frozen, 3 delayed, 4 delayed-frozen).
    case marketDataType(Int32)
}

/// A tick for one subscription.
public struct MarketDataEvent: Sendable, Hashable {
    public var subscription: SubscriptionID
    public var tick: Tick

    public init(subscription: SubscriptionID, tick: Tick) {
        self.subscription = subscription
        self.tick = tick
    }
}

/// What IB said about one subscription, so the worker can report it per symbol.
public enum SubscriptionStatus: Sendable, Hashable {
    /// (Re)requested on the current connection.
    case requested
    /// 354/10089: no market data permission (and no delayed data yet).
    case noPermission(code: Int32, message: String)
    /// 10167: no live permission; delayed data is served instead.
    case delayed(message: String)
    /// A warning about a line that stays open (10090, 10091: part of the data is not
    /// subscribed; the entitled tick types keep streaming).
    case warning(code: Int32, message: String)
    /// 200/321: IB does not know the contract; it is not requested again.
    case invalidContract(code: Int32, message: String)
    /// 101: the account's market data lines are exhausted; retried after a reconnect.
    case tooManyLines(message: String)
    /// 10197: refused because the same user has a competing live session elsewhere.
    case competingSession(message: String)
    /// Any other error tied to this request: the session has given the line up and sent
    /// cancelMktData, so the gateway frees it even if it had kept it open.
    case failed(code: Int32, message: String)
}

/// Everything the session tells its single consumer, in order.
public enum SessionEvent: Sendable, Hashable {
    case state(from: SessionState, to: SessionState, reason: String)
    /// NEXT_VALID_ID received: the API session is ready.
    case connected(serverVersion: Int, clientId: Int32)
    /// The ticks of one socket read, in wire order (batched: at 100k ticks/s one event per
    /// tick would cost more than the ticks).
    case marketData([MarketDataEvent])
    /// Every ERR_MSG, informational or not; `subscription` when `reqId` is one of ours.
    case ibError(code: Int32, message: String, reqId: Int32, subscription: SubscriptionID?)
    case subscriptionStatus(SubscriptionID, SubscriptionStatus)
    /// All active subscriptions were requested again (after a reconnect or 1101).
    case resubscribed(count: Int)
}

/// A snapshot of the session for status hashes and metrics.
public struct SessionStatus: Sendable, Hashable {
    public var state: SessionState
    public var host: String
    public var port: Int
    /// Negotiated on the current connection; nil when not connected.
    public var serverVersion: Int?
    /// The client id of the current (or next) attempt.
    public var clientId: Int32
    /// Wall clock (Unix epoch ms) when the current API session became ready.
    public var connectedSinceMs: Int64?
    /// Consecutive failed attempts; back to 0 after `healthyResetAfter` of healthy connection.
    public var reconnectAttempts: Int
    /// Total failed attempts and lost connections since start (for metrics).
    public var totalReconnects: Int
    public var lastError: String?
    /// Active persistent subscriptions.
    public var subscriptions: Int
    /// Messages with an id the codec does not model: skipped, never an error.
    public var skippedMessages: Int = 0
    /// Frames that did not decode (bad number, missing fields): skipped and logged.
    public var undecodableMessages: Int = 0
    /// Late ticks of cancelled or superseded lines.
    public var droppedTicks: Int = 0
    /// Times the pacer held outgoing requests back (`ib.max_requests_per_second`): each is one
    /// wait before the queue could drain further.
    public var pacingDelays: Int = 0

    public init(
        state: SessionState = .disconnected, host: String = "", port: Int = 0, serverVersion: Int? = nil,
        clientId: Int32 = 0, connectedSinceMs: Int64? = nil, reconnectAttempts: Int = 0, totalReconnects: Int = 0,
        lastError: String? = nil, subscriptions: Int = 0
    ) {
        self.state = state
        self.host = host
        self.port = port
        self.serverVersion = serverVersion
        self.clientId = clientId
        self.connectedSinceMs = connectedSinceMs
        self.reconnectAttempts = reconnectAttempts
        self.totalReconnects = totalReconnects
        self.lastError = lastError
        self.subscriptions = subscriptions
    }
}
