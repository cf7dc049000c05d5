import TWSProtocol

/// A one-shot request the worker is waiting on; stable across reconnects like `SubscriptionID`.
public struct RequestID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "req#\(rawValue)" }
}

/// The one-shot requests the session can re-send after a reconnect (all are idempotent reads).
public enum OneShotRequest: Sendable, Hashable {
    case contractDetails(Contract)
    case optionParameters(symbol: String, futFopExchange: String, secType: String, conId: Int64)
    case snapshot(Contract)
}

/// Every market data subscription and every request in flight, keyed both by the worker's stable
/// ids and by the current connection's request ids. Making "request everything again" a single
/// call is what keeps subscriptions alive across reconnects and 1101. A value type: the session
/// confines it to its event loop, tests drive it directly.
public struct SubscriptionRegistry: Sendable {
    public struct Subscription: Sendable, Hashable {
        public let id: SubscriptionID
        public var contract: Contract
        public var genericTicks: String
        /// The request id on the current connection; nil while not requested.
        public var reqId: Int32?
        public var status: SubscriptionStatus?
        /// 200/321: IB does not know the contract; requesting it again is pointless.
        public var rejected: Bool = false
        /// Whether the one retry as delayed data (after 354/10089) was spent.
        public var delayedRetryDone: Bool = false
    }

    public struct PendingRequest: Sendable, Hashable {
        public let id: RequestID
        public var request: OneShotRequest
        public var reqId: Int32?
        /// How often it was sent (first send included).
        public var sends: Int = 0
    }

    /// Who a request id on the wire belongs to.
    public enum Owner: Sendable, Hashable {
        case subscription(SubscriptionID)
        case request(RequestID)
    }

    public private(set) var subscriptions: [SubscriptionID: Subscription] = [:]
    public private(set) var requests: [RequestID: PendingRequest] = [:]
    /// Hot path: looked up for every tick.
    public private(set) var owners: [Int32: Owner] = [:]
    private var nextReqId: Int32
    /// Re-sends allowed after the first send before a request fails.
    public let maxResends: Int

    /// Request ids only grow (across connections too), so a late message for an old request
    /// can never be mistaken for a new one.
    public init(firstReqId: Int32 = 1, maxResends: Int = 2) {
        nextReqId = max(firstReqId, 1)
        self.maxResends = maxResends
    }

    private mutating func issueReqId(for owner: Owner) -> Int32 {
        let id = nextReqId
        nextReqId = nextReqId == Int32.max ? 1 : nextReqId + 1
        owners[id] = owner
        return id
    }

    public func owner(ofReqId reqId: Int32) -> Owner? { owners[reqId] }

    /// Persistent subscriptions that are not rejected for good.
    public var activeSubscriptionCount: Int { subscriptions.values.count { !$0.rejected } }

    // MARK: Subscriptions

    /// Registers a subscription; returns the request to send when the session is up.
    public mutating func subscribe(_ id: SubscriptionID, contract: Contract, genericTicks: String, sessionUp: Bool) -> ClientMessage? {
        subscriptions[id] = Subscription(id: id, contract: contract, genericTicks: genericTicks)
        return sessionUp ? request(subscription: id) : nil
    }

    /// Forgets a subscription; returns the cancel to send if it is live on this connection.
    public mutating func unsubscribe(_ id: SubscriptionID) -> ClientMessage? {
        guard let sub = subscriptions.removeValue(forKey: id), let reqId = sub.reqId else { return nil }
        owners[reqId] = nil
        return .cancelMktData(reqId: reqId)
    }

    /// A cancel for every line open on this connection (for a clean shutdown).
    public func liveCancels() -> [ClientMessage] {
        subscriptions.values.sorted { $0.id < $1.id }.compactMap { sub in sub.reqId.map { .cancelMktData(reqId: $0) } }
    }

    private mutating func request(subscription id: SubscriptionID) -> ClientMessage? {
        guard var sub = subscriptions[id], !sub.rejected else { return nil }
        if let old = sub.reqId { owners[old] = nil }
        let reqId = issueReqId(for: .subscription(id))
        sub.reqId = reqId
        sub.status = .requested
        subscriptions[id] = sub
        return .reqMktData(reqId: reqId, contract: sub.contract, genericTickList: sub.genericTicks, snapshot: false, regulatorySnapshot: false)
    }

    /// Records IB's verdict on a subscription. 200/321 retire it for good; every other error
    /// frees its request id (IB sends nothing more for it) until the next resubscribe.
    public mutating func setStatus(_ status: SubscriptionStatus, for id: SubscriptionID) {
        guard var sub = subscriptions[id] else { return }
        sub.status = status
        switch status {
        case .requested, .delayed, .warning:
            // The line stays open: (delayed, or the entitled part of the) ticks follow.
            break
        case .invalidContract:
            sub.rejected = true
            fallthrough
        case .noPermission, .tooManyLines, .competingSession, .failed:
            if let reqId = sub.reqId { owners[reqId] = nil }
            sub.reqId = nil
        }
        subscriptions[id] = sub
    }

    /// The same subscription requested again under a fresh id (after error 100: the gateway
    /// did not process the request). Nil when it is gone or rejected for good.
    public mutating func rerequest(_ id: SubscriptionID) -> ClientMessage? {
        request(subscription: id)
    }

    /// After 354/10089 with delayed data allowed: one more request under a fresh id (the caller
    /// sends reqMarketDataType first). Nil when the retry was already spent.
    public mutating func retryAsDelayed(_ id: SubscriptionID) -> ClientMessage? {
        guard var sub = subscriptions[id], !sub.delayedRetryDone, !sub.rejected else { return nil }
        sub.delayedRetryDone = true
        subscriptions[id] = sub
        return request(subscription: id)
    }

    // MARK: One-shot requests

    /// Registers a one-shot request; returns what to send when the session is up.
    public mutating func add(_ id: RequestID, _ request: OneShotRequest, sessionUp: Bool) -> ClientMessage? {
        requests[id] = PendingRequest(id: id, request: request)
        return sessionUp ? send(request: id) : nil
    }

    private mutating func send(request id: RequestID) -> ClientMessage? {
        guard var pending = requests[id] else { return nil }
        if let old = pending.reqId { owners[old] = nil }
        let reqId = issueReqId(for: .request(id))
        pending.reqId = reqId
        pending.sends += 1
        requests[id] = pending
        switch pending.request {
        case .contractDetails(let contract):
            return .reqContractDetails(reqId: reqId, contract: contract, includeExpired: false)
        case .optionParameters(let symbol, let exchange, let secType, let conId):
            return .reqSecDefOptParams(reqId: reqId, underlyingSymbol: symbol, futFopExchange: exchange, underlyingSecType: secType, underlyingConId: conId)
        case .snapshot(let contract):
            return .reqMktData(reqId: reqId, contract: contract, genericTickList: "", snapshot: true, regulatorySnapshot: false)
        }
    }

    /// Forgets a finished, failed or abandoned request. Returns the cancel to send when an
    /// abandoned snapshot is still live (contract details and option parameters have none).
    @discardableResult
    public mutating func finish(_ id: RequestID) -> ClientMessage? {
        guard let pending = requests.removeValue(forKey: id), let reqId = pending.reqId else { return nil }
        owners[reqId] = nil
        if case .snapshot = pending.request { return .cancelMktData(reqId: reqId) }
        return nil
    }

    // MARK: Connection changes

    /// The connection is gone: every request id is void. Requests that have used up their
    /// re-sends are removed and returned, for the caller to fail.
    public mutating func connectionLost() -> [RequestID] {
        owners.removeAll(keepingCapacity: true)
        for id in subscriptions.keys { subscriptions[id]?.reqId = nil }
        var failed: [RequestID] = []
        for (id, pending) in requests {
            if pending.sends > maxResends {
                requests[id] = nil
                failed.append(id)
            } else {
                requests[id]?.reqId = nil
            }
        }
        return failed.sorted { $0.rawValue < $1.rawValue }
    }

    /// A new API session is ready: every subscription that is not rejected and every pending
    /// request, under fresh ids, subscriptions first in the order they were made.
    public mutating func requestAll() -> [ClientMessage] {
        var messages: [ClientMessage] = []
        messages.reserveCapacity(subscriptions.count + requests.count)
        for id in subscriptions.keys.sorted() {
            if let message = request(subscription: id) { messages.append(message) }
        }
        for id in requests.keys.sorted(by: { $0.rawValue < $1.rawValue }) where requests[id]?.reqId == nil {
            if let message = send(request: id) { messages.append(message) }
        }
        return messages
    }

    /// 1101 (connectivity restored, data lost): the gateway dropped every market data line,
    /// so each subscription (and snapshot in flight) is requested again under a new id. No
    /// cancels: the old lines are gone, and a cancel would only earn error 300 per line.
    public mutating func resubscribeAfterDataLoss() -> [ClientMessage] {
        var messages: [ClientMessage] = []
        for id in subscriptions.keys.sorted() {
            if let message = request(subscription: id) { messages.append(message) }
        }
        for id in requests.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let pending = requests[id], case .snapshot = pending.request else { continue }
            if let message = send(request: id) { messages.append(message) }
        }
        return messages
    }

    /// Subscriptions refused by 10197 (competing live session), requested again: the other
    /// session may have ended, and IB does not say when.
    public mutating func retryCompetingSession() -> [ClientMessage] {
        var messages: [ClientMessage] = []
        for id in subscriptions.keys.sorted() {
            guard let sub = subscriptions[id], sub.reqId == nil, case .competingSession = sub.status else { continue }
            if let message = request(subscription: id) { messages.append(message) }
        }
        return messages
    }
}
