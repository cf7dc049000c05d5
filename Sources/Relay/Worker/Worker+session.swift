import Failover
import Logging
import IBSession
import MarketModel
import TWSProtocol

extension Worker {
    /// The single consumer of the session's events, in order.
    func consumeSessionEvents() async {
        for await event in session.events {
            switch event {
            case .marketData(let batch):
                handleMarketData(batch)
            case let .state(from, to, reason):
                handleSessionState(from: from, to: to, reason: reason)
            case let .connected(serverVersion, clientId):
                everConnected = true
                logger.info("IB session ready", metadata: ["server_version": "\(serverVersion)", "client_id": "\(clientId)"])
                metrics.ibConnected.record(1)
                decide(.sessionConnected)
                refreshState(reason: "IB session ready (server version \(serverVersion), client id \(clientId))")
            case let .ibError(code, message, reqId, subscription):
                handleIBError(code: code, message: message, reqId: reqId, subscription: subscription)
            case let .subscriptionStatus(subscription, status):
                handleSubscriptionStatus(subscription, status)
            case .resubscribed(let count):
                logger.info("market data requested again after reconnect or data loss", metadata: ["subscriptions": "\(count)"])
            }
        }
    }

    /// The hot path: one socket read's ticks.
    ///
    /// Only ticks that carry a value confirm data: MARKET_DATA_TYPE (58) relabels `data_type`
    /// in the book but stamps nothing, and TICK_REQ_PARAMS (81) never gets here. A symbol is
    /// confirmed for failover only by its quote line's ticks: options streaming through another
    /// farm say nothing about the quote.
    func handleMarketData(_ batch: [MarketDataEvent]) {
        guard role == .active else { return }  // standby: lines cancelled, late ticks ignored
        var touched: [SubscriptionID] = []
        var seen = Set<SubscriptionID>()
        var confirmed: [String] = []
        for event in batch {
            guard let (symbol, _) = book.apply(event.tick, to: event.subscription), event.tick.carriesMarketData else { continue }
            if seen.insert(event.subscription).inserted {
                touched.append(event.subscription)
                if book.quoteSubscription[symbol] == event.subscription { confirmed.append(symbol) }
            }
        }
        metrics.ibTicksReceived.increment(by: Int64(batch.count))
        guard !touched.isEmpty else { return }
        let now = nowMs()
        let mono = monoMs()
        lastTickMs = now
        // Every touched instrument is written, changed or not: a tick confirms the values, and
        // `updated_ms` says when they were last confirmed.
        for id in touched {
            book.lastIBDataMs[id] = mono
            writeIB(id, nowMs: now)
        }
        for symbol in confirmed {
            let actions = engine.handle(.dataConfirmed(symbol: symbol), nowMs: mono)
            if !actions.isEmpty { perform(actions) }
        }
    }

    /// Hands an event to the failover engine on the monotonic clock and carries out its actions.
    func decide(_ event: FailoverEvent) {
        // A standby serves nothing, so it fails nothing over; its engine starts afresh when
        // it becomes active.
        guard role == .active else { return }
        perform(engine.handle(event, nowMs: monoMs()))
    }

    /// Writes a line's merged IB state, unless its symbol is on Alpha Vantage (then IB's
    /// values are kept up to date in the book and written at failback).
    func writeIB(_ id: SubscriptionID, nowMs now: Int64) {
        guard let symbol = book.entries[id]?.symbol, !failedOver.contains(symbol),
            let record = book.record(for: id, source: .ib, nowMs: now)
        else { return }
        publisher.publish(record)
        let mono = monoMs()
        book.lastConfirmedMs[id] = mono
        lastPublishMs = mono
    }

    func handleSessionState(from: SessionState, to: SessionState, reason: String) {
        metrics.ibConnected.record(to.isSessionUp ? 1 : 0)
        if from.isSessionUp && !to.isSessionUp {
            decide(.sessionDisconnected(reason: reason))
        }
        if case .backoff = to {
            metrics.ibReconnects.increment()
            let attempts = session.status.reconnectAttempts
            decide(.connectAttemptFailed(consecutive: attempts, reason: reason))
        }
        refreshState(reason: "IB session \(to.name): \(reason)")
    }

    /// Every ERR_MSG: an `ib_error` event (with the code's class), and for connection-level
    /// codes a failover event. What a code means for its request is decided in IBSession
    /// (`IBErrorClass`) and arrives as a `subscriptionStatus`.
    func handleIBError(code: Int32, message: String, reqId: Int32, subscription: SubscriptionID?) {
        let symbol = subscription.flatMap { book.entries[$0]?.symbol }
        let meaning = IBErrorClass.classify(code: code, message: message)
        // The session already logged the message; the worker adds the symbol when it knows it.
        if meaning.severity == .requestFatal, let symbol {
            logger.warning("IB error for \(symbol)", metadata: ["code": "\(code)", "message": "\(message)"])
        }
        metrics.ibError(code: Int(code))
        if code == 326 {
            // Two workers of a group at one gateway must differ in ib.client_id.
            logger.error("IB Gateway refused the client id: another API client uses it (326)", metadata: [
                "client_id": "\(session.status.clientId)",
                "hint": "every worker at a gateway (each member of a worker.group) needs its own ib.client_id (or ib.client_id_pool)",
            ])
        }
        publisher.publishEvent(WorkerEvents.ibError(
            worker: configuration.workerID, code: code, message: message, reqId: reqId, symbol: symbol,
            severity: meaning.severity.rawValue, nowMs: nowMs()))
        let event: FailoverEvent?
        switch meaning {
        // 10197 on a line refuses that line; only one without a request id (-1) refuses all.
        // A 10197 on a probe's snapshot is the probe's failure, handled by the probe.
        case .competingSession: event = reqId < 0 ? .competingSession(symbols: nil) : symbol.map { .competingSession(symbols: [$0]) }
        case .connectivityLost: event = .connectivityLost(reason: "\(code) \(message)")
        case .connectivityRestoredDataLost, .connectivityRestoredDataMaintained: event = .connectivityRestored
        // Only market data farms (2103/2104) stop ticks; HMDS and sec-def farms do not.
        case .farmBroken(let farm) where code == 2103: event = .farmDown(farm)
        case .farmOK(let farm) where code == 2104: event = .farmUp(farm)
        default: event = nil
        }
        if let event {
            decide(event)
            refreshState(reason: "IB \(code): \(message)")
        }
    }

    func handleSubscriptionStatus(_ subscription: SubscriptionID, _ status: SubscriptionStatus) {
        guard let entry = book.entries[subscription] else { return }
        let symbol = entry.symbol
        let problem: String?
        var warning: String?
        switch status {
        case .requested: problem = nil
        case let .noPermission(code, message): problem = "no market data permission (\(code)): \(message)"
        case .delayed(let message):
            problem = nil
            warning = "delayed data instead of live (10167): \(message)"
        case let .warning(code, message):
            problem = nil
            warning = "IB warning (\(code)): \(message)"
        case let .invalidContract(code, message): problem = "IB does not know the contract (\(code)): \(message)"
        case .tooManyLines(let message): problem = "market data lines exhausted (101): \(message)"
        case .competingSession(let message): problem = "competing live session (10197): \(message)"
        case let .failed(code, message): problem = "request failed (\(code)), line cancelled: \(message)"
        }
        switch (entry, status) {
        case (.quote, .requested):
            symbols[symbol]?.problem = nil
            symbols[symbol]?.warning = nil
        case (.quote, _):
            // Only the underlying's own subscription describes the symbol. A warning leaves
            // the line (and any earlier problem) as it is.
            if let warning { symbols[symbol]?.warning = warning } else { symbols[symbol]?.problem = problem }
        case (.option(_, let key, _), .invalidContract), (.option(_, let key, _), .noPermission):
            // A line IB will never serve: free it, and do not ask for it again.
            symbols[symbol]?.missingOptions.insert(key)
            session.unsubscribe(subscription)
            book.remove(subscription)
        case (.option, .tooManyLines), (.option, .failed):
            // Free the line; the next re-centring asks again if the budget still admits it.
            session.unsubscribe(subscription)
            book.remove(subscription)
        case (.option, _):
            break
        }
        if let problem {
            logger.warning("market data problem", metadata: ["symbol": "\(symbol)", "problem": "\(problem)"])
        } else if let warning {
            logger.notice("market data warning", metadata: ["symbol": "\(symbol)", "warning": "\(warning)"])
        }
        if problem != nil || warning != nil { writeStatus() }
    }
}
