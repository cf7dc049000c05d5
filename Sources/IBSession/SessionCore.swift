import Essentials
import Logging
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import TWSProtocol

import struct Foundation.Date

/// The session's engine. Everything mutable lives here and is touched only on `eventLoop`; the
/// channel handler runs on the same loop, so the read path calls in without a hop. It feeds
/// events to the state machine and carries out the actions it returns.
final class SessionCore: @unchecked Sendable {
    // @unchecked: every stored var is confined to `eventLoop` (asserted in debug builds);
    // the lets are Sendable or thread-safe.
    let configuration: GatewayConfiguration
    let eventLoop: EventLoop
    let logger: Logger
    let events: AsyncStream<SessionEvent>.Continuation
    let statusBox: StatusBox

    var machine: SessionStateMachine
    var registry: SubscriptionRegistry
    var pacer: Pacer
    /// Control messages (heartbeat, market data type, cancels) go ahead of bulk requests.
    var urgent = CircularBuffer<ClientMessage>()
    var bulk = CircularBuffer<ClientMessage>()
    var drainTimer: Scheduled<Void>?

    var channel: Channel?
    var generation: UInt64 = 0
    var serverVersion = 0
    var ticker: RepeatedTask?
    var batch: [MarketDataEvent] = []
    var waiters: [RequestID: Waiter] = [:]
    /// Requests cancelled before they reached the loop.
    var abandoned: Set<RequestID> = []
    var running = false
    var stopping = false
    /// `run()` ended: requests fail at once instead of waiting for a session that never comes.
    var finished = false
    var stopped: EventLoopPromise<Void>?
    var undecodableCount = 0
    var skippedCount = 0
    var droppedTicks = 0
    var pacingDelays = 0
    var competingRetry: Scheduled<Void>?

    init(configuration: GatewayConfiguration, eventLoop: EventLoop, logger: Logger, events: AsyncStream<SessionEvent>.Continuation, statusBox: StatusBox, random: SplitMix64) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.events = events
        self.statusBox = statusBox
        machine = SessionStateMachine(configuration: configuration, random: random)
        registry = SubscriptionRegistry(maxResends: configuration.maxRequestResends)
        pacer = Pacer(ratePerSecond: configuration.maxRequestsPerSecond, burst: configuration.requestBurst, now: .now)
        batch.reserveCapacity(1024)
    }

    /// The periodic tick: fine enough for the heartbeat and the connect timeout, coarse
    /// enough to cost nothing (4 wake-ups a second at the default 10 s heartbeat).
    var tickInterval: TimeAmount {
        let tenth = configuration.heartbeatInterval / 10
        let clamped = min(max(tenth, .milliseconds(10)), .milliseconds(250))
        return .nanoseconds(Int64(clamped.seconds * 1e9))
    }

    // MARK: Lifecycle (on the loop)

    func start() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        let promise = eventLoop.makePromise(of: Void.self)
        guard !running, stopped == nil else {
            promise.fail(IBSessionError.alreadyRunning)
            return promise.futureResult
        }
        running = true
        stopped = promise
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { [self] _ in
            handle(.tick(now: .now))
        }
        handle(.connectRequested(now: .now))
        return promise.futureResult
    }

    /// Cancels market data (so the gateway frees the lines at once), gives the cancels up to a
    /// second to leave, then closes and stops.
    func shutdown() {
        eventLoop.preconditionInEventLoop()
        guard running, !stopping else { return }
        stopping = true
        guard machine.state.isSessionUp, channel != nil else { return finishShutdown() }
        bulk.removeAll()
        urgent.append(contentsOf: registry.liveCancels())
        drain()
        if urgent.isEmpty { return finishShutdown() }
        eventLoop.scheduleTask(in: .seconds(1)) { [self] in finishShutdown() }
    }

    func finishShutdown() {
        guard running else { return }
        running = false
        finished = true
        ticker?.cancel()
        ticker = nil
        drainTimer?.cancel()
        handle(.shutdown(now: .now))
        for (id, waiter) in waiters {
            waiter.fail(IBSessionError.notRunning)
            waiters[id] = nil
        }
        let closed = closeChannel()
        closed.whenComplete { [self] _ in
            flushBatch()
            events.finish()
            stopped?.succeed(())
        }
    }

    // MARK: Driving the machine

    func handle(_ event: SessionStateMachine.Event) {
        for action in machine.handle(event) { execute(action) }
        publishStatus()
    }

    private func execute(_ action: SessionStateMachine.Action) {
        switch action {
        case .connect(let host, let port, let clientId):
            connect(host: host, port: port, clientId: clientId)
        case .sendGreeting(let minVersion, let maxVersion):
            writeNow(Handshake.clientGreeting(minVersion: minVersion, maxVersion: maxVersion))
        case .sendStartAPI(let clientId):
            serverVersion = machine.serverVersion ?? serverVersion
            writeNow(MessageEncoder.encode(.startAPI(clientId: clientId, optionalCapabilities: ""), serverVersion: serverVersion))
        case .send(let messages):
            urgent.append(contentsOf: messages)
            drain()
        case .close(let reason):
            logger.warning("closing gateway connection", metadata: ["reason": "\(reason)"])
            _ = closeChannel()
        case .scheduleReconnect(let delay):
            // One line per failed attempt: what failed, in words (the message is the same from
            // one attempt to the next, so repeats are summarised), and when the next try is.
            // `failed_attempts` counts consecutive failures, the initial connect included, as
            // `reconnect_attempts` in the status and the failover limit do; after k failures
            // the next try is "reconnect attempt k" (the state reason).
            logger.warning("cannot connect to IB Gateway: \(machine.lastError ?? "connection failed")", metadata: [
                "failed_attempts": "\(machine.attemptsSinceConnected)", "retry_in_ms": "\(Int(delay.seconds * 1000))",
            ])
            scheduleTick(after: delay)
        case .resubscribeAll:
            let messages = registry.requestAll()
            bulk.append(contentsOf: messages)
            drain()
            let count = registry.activeSubscriptionCount
            if count > 0 { emit(.resubscribed(count: count)) }
        case .resubscribeAfterDataLoss:
            bulk.append(contentsOf: registry.resubscribeAfterDataLoss())
            drain()
            emit(.resubscribed(count: registry.activeSubscriptionCount))
        case .connectionLost:
            connectionLost()
        case .emit(let event):
            if case .state(let from, let to, let reason) = event {
                // Retrying (connecting <-> backoff) is told by the failure line above; only
                // the other changes of state are news at info.
                let retrying = to == .backoff || (to == .connecting && machine.attemptsSinceConnected > 0)
                logger.log(level: retrying ? .debug : .info, "gateway session state",
                           metadata: ["from": "\(from)", "to": "\(to)", "reason": "\(reason)"])
                let before = machine.attemptsSinceConnected
                if to.isSessionUp, !from.isSessionUp, before > 0 {
                    logger.notice("connected to IB Gateway after \(before) failed attempt\(before == 1 ? "" : "s")")
                }
            }
            emit(event)
        }
    }

    func emit(_ event: SessionEvent) {
        flushBatch()
        events.yield(event)
    }

    func scheduleTick(after delay: Duration) {
        eventLoop.scheduleTask(in: .nanoseconds(Int64(delay.seconds * 1e9) + 1_000_000)) { [self] in
            handle(.tick(now: .now))
        }
    }

    func publishStatus() {
        let state = machine.state
        let version = state.isSessionUp ? machine.serverVersion : nil
        statusBox.mutex.withLockedValue { status in
            if state.isSessionUp, !status.state.isSessionUp {
                status.connectedSinceMs = Int64(Date().timeIntervalSince1970 * 1000)
            } else if !state.isSessionUp {
                status.connectedSinceMs = nil
            }
            status.state = state
            status.port = machine.port
            status.serverVersion = version
            status.clientId = machine.clientId
            status.reconnectAttempts = machine.attemptsSinceConnected
            status.totalReconnects = machine.totalFailures
            status.lastError = machine.lastError
            status.subscriptions = registry.activeSubscriptionCount
        }
    }
}

/// The status snapshot shared between the loop (writer) and any reader thread.
final class StatusBox: Sendable {
    let mutex: NIOLockedValueBox<SessionStatus>

    init(_ initial: SessionStatus) {
        mutex = NIOLockedValueBox(initial)
    }
}
