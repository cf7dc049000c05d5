import TWSProtocol

/// Identifies one TCP connection to the simulated gateway.
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.raw < b.raw }
    public var description: String { "#\(raw)" }
}

/// What the I/O layer must do after the engine handled an event. The engine never touches a
/// socket, so every behaviour of the gateway (handshake, faults, pacing, ticks) is tested
/// with plain values.
enum GatewayAction: Sendable, Equatable {
    /// The server hello: two fields, no message id (PROTOCOL.md §2).
    case hello(ConnectionID, serverVersion: Int, connectionTime: String, delayMs: Int)
    case send(ConnectionID, [ServerMessage])
    /// Messages the codec does not model (account-sync END messages), as raw fields.
    case sendFields(ConnectionID, [[String]])
    case close(ConnectionID)
}

/// The whole simulated gateway as a value: sessions, subscriptions, the market and the
/// faults in force. Each event returns the actions to carry out.
struct GatewayEngine: Sendable {
    enum Phase: Sendable, Equatable {
        /// Connected; `API\0` and the version range not seen yet.
        case awaitingVersions
        /// Versions seen but the hello is held back by `hang`.
        case helloDeferred(maxVersion: Int)
        /// Hello sent (or scheduled); waiting for START_API.
        case awaitingStartAPI
        case ready
        /// Refused or rejected; the close is under way.
        case closing
    }

    struct Subscription: Sendable {
        var reqId: Int32
        var instrument: Instrument
        var marketDataType: Int32
        /// The last value sent per live tick type; a tick type is sent only when it differs.
        var lastSent: [Int32: TickValue] = [:]
        /// The generic ticks asked for (`100` option volume, `101` option open interest).
        var genericTicks: Set<Int> = []
    }

    struct Session: Sendable {
        var id: ConnectionID
        var phase: Phase = .awaitingVersions
        var serverVersion = 0
        var clientId: Int32?
        var requestedMarketDataType: Int32 = 1
        /// The client called reqMarketDataType (59): only then does the gateway label each
        /// request with MARKET_DATA_TYPE (58) (PROTOCOL.md §5).
        var marketDataTypeRequested = false
        var nextOrderId: Int64 = 1
        /// Arrival times (ms) of the messages in the last second, for IB's pacing limit.
        var recentMessages: [Int64] = []
        var recentViolations: [Int64] = []
        var subscriptions: [Int32: Subscription] = [:]
        /// Snapshot requests a fault left unanswered: still pending, as at IB, so cancelling
        /// one is not error 300.
        var pendingSnapshots: Set<Int32> = []
    }

    var configuration: IBGatewaySimulator.Configuration
    let calendar: TradingCalendar
    let catalog: InstrumentCatalog
    var market: MarketSimulator
    var sessions: [ConnectionID: Session] = [:]
    var faults = FaultState()
    var counters = GatewayCounters()
    var recorder: TickRecorder
    /// Fractional market updates owed by the rate (carried between timer calls).
    var tickDebt = 0.0
    var lastAdvanceMs: Int64?
    var roundRobin = 0

    init(configuration: IBGatewaySimulator.Configuration, nowMs: Int64) {
        self.configuration = configuration
        let today = configuration.today ?? Eastern.local(epochMs: nowMs).date
        calendar = TradingCalendar(mode: configuration.tradingHours)
        catalog = InstrumentCatalog(
            symbols: configuration.symbols, seed: configuration.seed, today: today,
            strikesEachSide: configuration.strikesEachSide, weekly: configuration.weeklyExpirations,
            monthly: configuration.monthlyExpirations)
        market = MarketSimulator(seed: configuration.seed, catalog: catalog, riskFreeRate: configuration.riskFreeRate)
        recorder = TickRecorder(limit: configuration.recordLimit)
        faults.ticksPerSecond = configuration.ticksPerSecond
    }

    // MARK: Connection lifecycle

    mutating func accepted(_ id: ConnectionID, nowMs: Int64) -> [GatewayAction] {
        sessions[id] = Session(id: id)
        if let until = faults.refuseUntilMs, nowMs < until {
            sessions[id]?.phase = .closing
            counters.connectionsRefused += 1
            return [.close(id)]
        }
        return []
    }

    /// `API\0` and `v<min>..<max>` arrived; the hello answers with min(client max, ours).
    mutating func versionsReceived(_ id: ConnectionID, minVersion: Int, maxVersion: Int, nowMs: Int64) -> [GatewayAction] {
        guard var session = sessions[id], session.phase == .awaitingVersions else { return [] }
        let version = min(maxVersion, configuration.maxServerVersion)
        session.serverVersion = version
        if faults.hang {
            session.phase = .helloDeferred(maxVersion: maxVersion)
            sessions[id] = session
            return []
        }
        session.phase = .awaitingStartAPI
        sessions[id] = session
        return [hello(id, version: version, nowMs: nowMs)]
    }

    private func hello(_ id: ConnectionID, version: Int, nowMs: Int64) -> GatewayAction {
        .hello(id, serverVersion: version, connectionTime: Eastern.connectionTime(epochMs: nowMs), delayMs: faults.slowHandshakeMs)
    }

    mutating func closed(_ id: ConnectionID) {
        sessions[id] = nil
    }

    /// The negotiated version of a connection (0 before the hello), for the encoder.
    func serverVersion(of id: ConnectionID) -> Int { sessions[id]?.serverVersion ?? 0 }

    // MARK: Requests

    mutating func received(_ message: ClientMessage, from id: ConnectionID, nowMs: Int64) -> [GatewayAction] {
        guard var session = sessions[id] else { return [] }
        counters.messagesReceived += 1
        if faults.hang { return [] }
        switch session.phase {
        case .awaitingStartAPI:
            guard case .startAPI(let clientId, _) = message else { return [] }
            return startAPI(&session, clientId: clientId)
        case .ready:
            break
        default:
            return []
        }
        if let rejected = pace(&session, message, nowMs: nowMs) {
            sessions[id] = session
            return rejected
        }
        var out: [ServerMessage] = []
        switch message {
        case .startAPI:
            break
        case .unknown(let messageId, let fields):
            sessions[id] = session
            let reply = accountSyncReply(messageId: messageId, fields: fields, account: configuration.accounts.first ?? "")
            guard let reply, !reply.isEmpty else { return [] }
            return [.sendFields(id, reply)]
        case .reqCurrentTime:
            out.append(.currentTime(nowMs / 1000))
        case .reqIds:
            out.append(.nextValidId(session.nextOrderId))
        case .reqMarketDataType(let type):
            if (1...4).contains(type) {
                session.requestedMarketDataType = type
                session.marketDataTypeRequested = true
            }
        case .reqContractDetails(let reqId, let contract, _):
            counters.contractDetailsRequests += 1
            out += contractDetails(reqId: reqId, contract: contract)
        case .reqSecDefOptParams(let reqId, let symbol, let futFopExchange, let secType, let conId):
            out += optionParameters(
                reqId: reqId, symbol: symbol, futFopExchange: futFopExchange, underlyingSecType: secType, underlyingConId: conId)
        case .reqMktData(let reqId, let contract, let genericTicks, let snapshot, let regulatory):
            out += marketData(
                &session, reqId: reqId, contract: contract, genericTicks: genericTicks, snapshot: snapshot || regulatory, nowMs: nowMs)
        case .cancelMktData(let reqId):
            if session.subscriptions.removeValue(forKey: reqId) == nil, session.pendingSnapshots.remove(reqId) == nil {
                out.append(GatewayNotice.unknownTicker(reqId))
            }
        }
        sessions[id] = session
        countErrors(out)
        return out.isEmpty ? [] : [.send(id, out)]
    }

    private mutating func startAPI(_ session: inout Session, clientId: Int32) -> [GatewayAction] {
        let id = session.id
        let taken = sessions.values.contains { $0.id != id && $0.phase == .ready && $0.clientId == clientId }
        if taken {
            session.phase = .closing
            sessions[id] = session
            countErrors([GatewayNotice.clientIdInUse])
            return [.send(id, [GatewayNotice.clientIdInUse]), .close(id)]
        }
        session.phase = .ready
        session.clientId = clientId
        sessions[id] = session
        var out: [ServerMessage] = [.managedAccounts(configuration.accounts), .nextValidId(session.nextOrderId)]
        for farm in GatewayNotice.marketDataFarms {
            out.append(faults.downFarms.contains(farm) ? GatewayNotice.farmBroken(farm) : GatewayNotice.farmOK(farm))
        }
        out += [GatewayNotice.hmdsOK, GatewayNotice.secDefOK]
        if faults.connectivityLost { out.append(GatewayNotice.connectivityLost) }
        return [.send(id, out)]
    }

    /// IB's limit of about 50 messages per second per client: a message over the limit is
    /// rejected with error 100 and not processed; a client that keeps going at twice the
    /// limit is disconnected, as the real gateway eventually does.
    private mutating func pace(_ session: inout Session, _ message: ClientMessage, nowMs: Int64) -> [GatewayAction]? {
        let limit = configuration.pacingLimit
        guard limit > 0 else { return nil }
        session.recentMessages.removeAll { $0 <= nowMs - 1000 }
        session.recentViolations.removeAll { $0 <= nowMs - 1000 }
        guard session.recentMessages.count >= limit else {
            session.recentMessages.append(nowMs)
            return nil
        }
        session.recentViolations.append(nowMs)
        let error = GatewayNotice.pacing(message.requestId ?? -1)
        countErrors([error])
        if session.recentViolations.count > limit {
            session.phase = .closing
            return [.send(session.id, [error]), .close(session.id)]
        }
        return [.send(session.id, [error])]
    }

    mutating func countErrors(_ messages: [ServerMessage]) {
        for case .error(let e) in messages where e.code < 2000 || e.code >= 10_000 {
            counters.errorsSent += 1
        }
    }

    /// Connections that completed START_API, by clientId.
    func session(clientId: Int32) -> Session? {
        sessions.values.first { $0.phase == .ready && $0.clientId == clientId }
    }
}

extension ClientMessage {
    /// The request id a reply about this message (e.g. error 100) refers to, when it has one.
    var requestId: Int32? {
        switch self {
        case .reqMktData(let reqId, _, _, _, _), .cancelMktData(let reqId), .reqContractDetails(let reqId, _, _),
            .reqSecDefOptParams(let reqId, _, _, _, _):
            reqId
        default: nil
        }
    }
}
