import NIOCore
import TWSProtocol

/// A caller waiting for a one-shot answer, and the answer collected so far.
struct Waiter {
    let continuation: CheckedContinuation<[ServerMessage], any Error>
    let isSnapshot: Bool
    var timeout: Scheduled<Void>?
    var messages: [ServerMessage] = []

    mutating func append(_ message: ServerMessage) {
        messages.append(message)
    }

    /// The request is sent again after a reconnect: what came before is incomplete.
    mutating func reset() {
        messages.removeAll()
    }

    func succeed() {
        timeout?.cancel()
        continuation.resume(returning: messages)
    }

    func fail(_ error: any Error) {
        timeout?.cancel()
        continuation.resume(throwing: error)
    }
}

/// The worker's calls, carried out on the loop.
extension SessionCore {
    func subscribe(_ id: SubscriptionID, contract: Contract, genericTicks: String) {
        if let message = registry.subscribe(id, contract: contract, genericTicks: genericTicks, sessionUp: machine.state.isSessionUp && channel != nil) {
            bulk.append(message)
            drain()
        }
        publishStatus()
    }

    func unsubscribe(_ id: SubscriptionID) {
        if case .cancelMktData(let reqId) = registry.unsubscribe(id) {
            let queued = bulk.count
            bulk.removeAll { if case .reqMktData(reqId, _, _, _, _) = $0 { true } else { false } }
            // Never sent: nothing to cancel. Otherwise the cancel frees a line, so it is urgent.
            if bulk.count == queued, channel != nil {
                urgent.append(.cancelMktData(reqId: reqId))
                drain()
            }
        }
        publishStatus()
    }

    func startRequest(_ id: RequestID, _ request: OneShotRequest, timeout: Duration, continuation: CheckedContinuation<[ServerMessage], any Error>) {
        if abandoned.remove(id) != nil {
            continuation.resume(throwing: CancellationError())
            return
        }
        guard !finished, !stopping else {
            continuation.resume(throwing: IBSessionError.notRunning)
            return
        }
        var waiter = Waiter(continuation: continuation, isSnapshot: { if case .snapshot = request { true } else { false } }())
        waiter.timeout = eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.seconds * 1e9))) { [self] in
            timedOut(id, after: timeout)
        }
        waiters[id] = waiter
        if let message = registry.add(id, request, sessionUp: machine.state.isSessionUp && channel != nil) {
            bulk.append(message)
            drain()
        }
    }

    /// A snapshot that timed out still returns the ticks it got, if any carried a value (it is
    /// a probe, and partial data is data). TICK_REQ_PARAMS (81) and MARKET_DATA_TYPE (58) are
    /// not: a real gateway sends both at once for every request, stalled or not. Anything else
    /// without its end marker is incomplete and fails.
    private func timedOut(_ id: RequestID, after timeout: Duration) {
        guard var waiter = waiters.removeValue(forKey: id) else { return }
        waiter.timeout = nil
        if waiter.isSnapshot, waiter.messages.contains(where: \.carriesMarketData) {
            waiter.succeed()
        } else {
            waiter.fail(IBSessionError.timedOut(after: timeout))
        }
        finish(id, cancelLine: true)
    }

    func cancelRequest(_ id: RequestID) {
        if let waiter = waiters.removeValue(forKey: id) {
            waiter.fail(CancellationError())
            finish(id, cancelLine: true)
        } else {
            // Cancelled before it reached the loop (or just after it finished); bounded so the
            // second case cannot grow the set without limit.
            if abandoned.count > 1024 { abandoned.removeAll() }
            abandoned.insert(id)
        }
    }

    func complete(_ id: RequestID) {
        waiters.removeValue(forKey: id)?.succeed()
        finish(id, cancelLine: false)
    }

    /// Forgets the request; an abandoned snapshot's line is cancelled.
    func finish(_ id: RequestID, cancelLine: Bool) {
        if let cancel = registry.finish(id), cancelLine, channel != nil {
            urgent.append(cancel)
            drain()
        }
    }
}

extension ServerMessage {
    /// Whether the message carries a market value (a tick with a price, size, string, generic
    /// value or option computation). Bookkeeping — TICK_REQ_PARAMS (81), MARKET_DATA_TYPE (58),
    /// TICK_SNAPSHOT_END (57) — confirms nothing about the market.
    public var carriesMarketData: Bool {
        switch self {
        case .tickPrice, .tickSize, .tickString, .tickGeneric, .tickOptionComputation: true
        default: false
        }
    }
}

extension Tick {
    /// Whether the tick carries a market value; MARKET_DATA_TYPE (58) does not.
    public var carriesMarketData: Bool {
        if case .marketDataType = self { return false }
        return true
    }
}
