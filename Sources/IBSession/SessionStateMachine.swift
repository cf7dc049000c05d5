import Essentials
import TWSProtocol

/// The life of one gateway session as a value type: events in, actions out. It owns every
/// decision (when to connect, what a timeout or an error code means, how long to back off) and
/// performs none: the NIO layer carries the actions out and reports what happened. Time arrives
/// inside the events, so tests drive hours of reconnects in microseconds.
public struct SessionStateMachine: Sendable {
    public enum Event: Sendable, Hashable {
        /// `run()` started: connect now.
        case connectRequested(now: ContinuousClock.Instant)
        case tcpConnected(now: ContinuousClock.Instant)
        /// The server hello; `serverVersion` is what the gateway chose.
        case helloReceived(serverVersion: Int, now: ContinuousClock.Instant)
        /// NEXT_VALID_ID: the API session is ready.
        case nextValidIdReceived(now: ContinuousClock.Instant)
        /// CURRENT_TIME: the answer to the heartbeat probe.
        case currentTimeReceived(now: ContinuousClock.Instant)
        /// Bytes arrived (once per socket read, not per message).
        case inboundActivity(now: ContinuousClock.Instant)
        /// Every ERR_MSG: connection-level codes change the state, any non-informational code
        /// becomes `lastError`.
        case errorReceived(code: Int32, message: String, now: ContinuousClock.Instant)
        /// Periodic and on the wake-ups the machine asked for: timeouts, heartbeat, backoff.
        case tick(now: ContinuousClock.Instant)
        /// The socket closed, or the TCP connect failed (`error` says why).
        case connectionClosed(error: String?, now: ContinuousClock.Instant)
        /// Stop for good (the run task was cancelled).
        case shutdown(now: ContinuousClock.Instant)
    }

    public enum Action: Sendable, Hashable {
        /// Open TCP to host:port; the handshake follows `tcpConnected`.
        case connect(host: String, port: Int, clientId: Int32)
        /// `API\0` + `v<min>..<max>`.
        case sendGreeting(minVersion: Int, maxVersion: Int)
        case sendStartAPI(clientId: Int32)
        /// Control messages (heartbeat, market data type): ahead of queued requests.
        case send([ClientMessage])
        /// Shut the socket down (output first, so the gateway sees EOF and frees the client id).
        case close(reason: String)
        /// Tick again after this long (the backoff); `connect` follows on that tick.
        case scheduleReconnect(after: Duration)
        /// Request every subscription and pending request again under new ids.
        case resubscribeAll
        /// 1101: cancel and request every market data line again.
        case resubscribeAfterDataLoss
        /// The connection is void: forget its request ids, fail requests out of re-sends.
        case connectionLost
        case emit(SessionEvent)
    }

    public let configuration: GatewayConfiguration
    public private(set) var state: SessionState = .disconnected
    /// Failures since the connection was last healthy for `healthyResetAfter`, a dropped
    /// connection included: sizes the backoff, so a gateway that keeps dropping a minute-old
    /// session is not hammered.
    public private(set) var failedAttempts = 0
    /// Consecutive failed connection attempts: what `reconnect_attempts`, the log's
    /// `failed_attempts` and `failover.max_reconnect_attempts` count. An attempt has failed
    /// until its session has stayed up for one heartbeat interval: a gateway that drops a
    /// working connection and takes the next attempt at once has had no failed attempt (data
    /// flowed between), while one that accepts and drops within seconds, again and again, runs
    /// out of attempts and fails over.
    public private(set) var attemptsSinceConnected = 0
    /// All failures since start, never reset.
    public private(set) var totalFailures = 0
    public internal(set) var lastError: String?
    public private(set) var serverVersion: Int?
    /// Port in use: 1300 ("API port changed") moves it.
    public private(set) var port: Int
    private var clientIdIndex = 0
    private var random: SplitMix64

    private var attemptStartedAt: ContinuousClock.Instant?
    private var reconnectAt: ContinuousClock.Instant?
    private var healthySince: ContinuousClock.Instant?
    private var lastProbeAt: ContinuousClock.Instant?
    private var lastReplyAt: ContinuousClock.Instant?
    private var lastInboundAt: ContinuousClock.Instant?
    private var connectivityLostSince: ContinuousClock.Instant?
    private var brokenFarms: Set<String> = []

    public init(configuration: GatewayConfiguration, random: SplitMix64 = SplitMix64()) {
        self.configuration = configuration
        self.random = random
        port = configuration.port
    }

    /// The client id of the current or next attempt.
    public var clientId: Int32 {
        let ids = configuration.clientIds
        return ids[clientIdIndex % ids.count]
    }

    /// When the machine next needs a tick for a backoff to end (nil when not backing off).
    public var nextReconnectAt: ContinuousClock.Instant? { reconnectAt }

    public mutating func handle(_ event: Event) -> [Action] {
        if state == .stopped { return [] }
        switch event {
        case .connectRequested(let now):
            guard state == .disconnected || state == .backoff else { return [] }
            return startAttempt(now: now)

        case .tcpConnected:
            guard state == .connecting else { return [] }
            return transition(to: .handshaking, reason: "tcp connected")
                + [.sendGreeting(minVersion: configuration.minVersion, maxVersion: configuration.maxVersion)]

        case .helloReceived(let version, let now):
            guard state == .handshaking else { return [] }
            guard version >= configuration.minVersion, version <= configuration.maxVersion else {
                return fail("server version \(version) outside v\(configuration.minVersion)..\(configuration.maxVersion)", now: now)
            }
            serverVersion = version
            return [.sendStartAPI(clientId: clientId)]

        case .nextValidIdReceived(let now):
            guard state == .handshaking, let version = serverVersion else { return [] }
            return sessionReady(serverVersion: version, now: now)

        case .currentTimeReceived(let now):
            lastReplyAt = now
            return []

        case .inboundActivity(let now):
            lastInboundAt = now
            return []

        case .errorReceived(let code, let message, let now):
            return handleError(code: code, message: message, now: now)

        case .tick(let now):
            return tick(now: now)

        case .connectionClosed(let error, let now):
            switch state {
            case .connecting, .handshaking, .connected, .degraded:
                return fail(error ?? "connection closed by the gateway", now: now, closeSocket: false)
            default:
                return []
            }

        case .shutdown:
            let wasOpen = state != .disconnected && state != .backoff
            reconnectAt = nil
            var actions = transition(to: .stopped, reason: "shutdown")
            if wasOpen { actions.insert(.close(reason: "shutdown"), at: 0) }
            return actions
        }
    }

    private mutating func startAttempt(now: ContinuousClock.Instant) -> [Action] {
        attemptStartedAt = now
        reconnectAt = nil
        serverVersion = nil
        return transition(to: .connecting, reason: attemptsSinceConnected == 0 ? "connect" : "reconnect attempt \(attemptsSinceConnected)")
            + [.connect(host: configuration.host, port: port, clientId: clientId)]
    }

    private mutating func sessionReady(serverVersion version: Int, now: ContinuousClock.Instant) -> [Action] {
        attemptStartedAt = nil
        healthySince = now
        lastReplyAt = now
        lastInboundAt = now
        lastProbeAt = nil
        connectivityLostSince = nil
        brokenFarms = []
        var actions = transition(to: .connected, reason: "next valid id received")
        actions.append(.emit(.connected(serverVersion: version, clientId: clientId)))
        // On every connect, live included: a gateway sends MARKET_DATA_TYPE (58) per request only
        // to a client that called reqMarketDataType (59), and 58 is what labels `data_type`.
        actions.append(.send([.reqMarketDataType(configuration.marketDataType)]))
        actions.append(.resubscribeAll)
        return actions
    }

    /// Every failure path ends here: count, remember why, close, back off.
    mutating func fail(_ reason: String, now: ContinuousClock.Instant, closeSocket: Bool = true) -> [Action] {
        failedAttempts += 1
        attemptsSinceConnected += 1
        totalFailures += 1
        lastError = reason
        attemptStartedAt = nil
        healthySince = nil
        lastProbeAt = nil
        lastReplyAt = nil
        lastInboundAt = nil
        connectivityLostSince = nil
        brokenFarms = []
        serverVersion = nil
        let delay = configuration.reconnect.delay(forAttempt: failedAttempts, using: &random)
        reconnectAt = now + delay
        var actions: [Action] = closeSocket ? [.close(reason: reason)] : []
        actions.append(.connectionLost)
        actions += transition(to: .backoff, reason: reason)
        actions.append(.scheduleReconnect(after: delay))
        return actions
    }

    private mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        switch state {
        case .backoff:
            if let at = reconnectAt, now >= at { return startAttempt(now: now) }
            return []
        case .connecting, .handshaking:
            if let started = attemptStartedAt, now - started >= configuration.connectTimeout {
                let stage = state == .connecting ? "tcp connect" : (serverVersion == nil ? "server hello" : "next valid id")
                return fail("connect timeout after \(configuration.connectTimeout) waiting for \(stage)", now: now)
            }
            return []
        case .connected, .degraded:
            return connectedTick(now: now)
        case .disconnected, .stopped:
            return []
        }
    }

    private mutating func connectedTick(now: ContinuousClock.Instant) -> [Action] {
        let interval = configuration.heartbeatInterval
        // A reply stuck behind a flood of ticks is late, not missing: the socket is dead only
        // when the probe went unanswered for two intervals AND nothing at all arrived for one.
        let silent = lastInboundAt.map { now - $0 >= interval } ?? true
        if let reply = lastReplyAt, now - reply >= interval * 2, silent {
            return fail("heartbeat: no CURRENT_TIME reply for \(interval * 2)", now: now)
        }
        if let lost = connectivityLostSince, now - lost >= configuration.connectivityLostGrace {
            return fail("connectivity lost (1100) for more than \(configuration.connectivityLostGrace)", now: now)
        }
        if failedAttempts > 0, let since = healthySince, now - since >= configuration.healthyResetAfter {
            failedAttempts = 0
        }
        if attemptsSinceConnected > 0, let since = healthySince, now - since >= interval {
            attemptsSinceConnected = 0
        }
        if lastProbeAt.map({ now - $0 >= interval }) ?? true {
            lastProbeAt = now
            return [.send([.reqCurrentTime])]
        }
        return []
    }

    mutating func transition(to newState: SessionState, reason: String) -> [Action] {
        guard newState != state else { return [] }
        let old = state
        state = newState
        return [.emit(.state(from: old, to: newState, reason: reason))]
    }

    // Small mutators for the error extension (stored properties stay private to this file).

    mutating func rotateClientId() {
        clientIdIndex = (clientIdIndex + 1) % configuration.clientIds.count
    }

    mutating func movePort(to newPort: Int) {
        port = newPort
    }

    mutating func markConnectivityLost(now: ContinuousClock.Instant) {
        if connectivityLostSince == nil { connectivityLostSince = now }
        healthySince = nil
    }

    mutating func markConnectivityRestored(now: ContinuousClock.Instant) {
        connectivityLostSince = nil
        if healthySince == nil { healthySince = now }
    }

    mutating func setFarm(_ farm: String, broken: Bool) {
        if broken { brokenFarms.insert(farm) } else { brokenFarms.remove(farm) }
    }

    var degradedState: SessionState {
        if connectivityLostSince != nil { return .degraded(.connectivityLost) }
        if !brokenFarms.isEmpty { return .degraded(.farmsDown(brokenFarms)) }
        return .connected
    }
}
