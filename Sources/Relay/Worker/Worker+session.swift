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
                perform(engine.handle(.sessionConnected, nowMs: nowMs()))
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
    func handleMarketData(_ batch: [MarketDataEvent]) {
        let now = nowMs()
        var touched: [SubscriptionID] = []
        var seen = Set<SubscriptionID>()
        var confirmed = Set<String>()
        for event in batch {
            guard let (symbol, _) = book.apply(event.tick, to: event.subscription) else { continue }
            confirmed.insert(symbol)
            if seen.insert(event.subscription).inserted { touched.append(event.subscription) }
        }
        metrics.ibTicksReceived.increment(by: Int64(batch.count))
        lastTickMs = now
        // Every touched instrument is written, changed or not: a tick confirms the values, and
        // `updated_ms` says when they were last confirmed.
        for id in touched {
            book.lastIBDataMs[id] = now
            writeIB(id, nowMs: now)
        }
        for symbol in confirmed {
            let actions = engine.handle(.dataConfirmed(symbol: symbol), nowMs: now)
            if !actions.isEmpty { perform(actions) }
        }
    }

    /// Writes a line's merged IB state, unless its symbol is on Alpha Vantage (then IB's
    /// values are kept up to date in the book and written at failback).
    func writeIB(_ id: SubscriptionID, nowMs now: Int64) {
        guard let symbol = book.entries[id]?.symbol, !failedOver.contains(symbol),
            let record = book.record(for: id, source: .ib, nowMs: now)
        else { return }
        publisher.publish(record)
        book.lastConfirmedMs[id] = now
        lastPublishMs = now
    }

    func handleSessionState(from: SessionState, to: SessionState, reason: String) {
        let now = nowMs()
        metrics.ibConnected.record(to.isSessionUp ? 1 : 0)
        if from.isSessionUp && !to.isSessionUp {
            perform(engine.handle(.sessionDisconnected(reason: reason), nowMs: now))
        }
        if case .backoff = to {
            metrics.ibReconnects.increment()
            let attempts = session.status.reconnectAttempts
            perform(engine.handle(.connectAttemptFailed(consecutive: attempts, reason: reason), nowMs: now))
        }
        refreshState(reason: "IB session \(to.name): \(reason)")
    }

    func handleIBError(code: Int32, message: String, reqId: Int32, subscription: SubscriptionID?) {
        let symbol = subscription.flatMap { book.entries[$0]?.symbol }
        let now = nowMs()
        let meaning = IBErrorClass.classify(code: code, message: message)
        // The session already logged the message; the worker adds the symbol when it knows it.
        if !meaning.isInformational, let symbol {
            logger.warning("IB error for \(symbol)", metadata: ["code": "\(code)", "message": "\(message)"])
        }
        metrics.ibError(code: Int(code))
        publisher.publishEvent(WorkerEvents.ibError(
            worker: configuration.workerID, code: code, message: message, reqId: reqId, symbol: symbol, nowMs: now))
        let event: FailoverEvent?
        switch code {
        case 10197: event = .competingSession(symbols: symbol.map { [$0] })
        case 1100, 2110: event = .connectivityLost(reason: "\(code) \(message)")
        case 1101, 1102: event = .connectivityRestored
        case 2103: event = .farmDown(Self.farmName(message))
        case 2104: event = .farmUp(Self.farmName(message))
        default: event = nil
        }
        if let event {
            perform(engine.handle(event, nowMs: now))
            refreshState(reason: "IB \(code): \(message)")
        }
    }

    func handleSubscriptionStatus(_ subscription: SubscriptionID, _ status: SubscriptionStatus) {
        guard let entry = book.entries[subscription] else { return }
        let symbol = entry.symbol
        let problem: String?
        switch status {
        case .requested: problem = nil
        case let .noPermission(code, message): problem = "no market data permission (\(code)): \(message)"
        case .delayed(let message): problem = "delayed data only: \(message)"
        case let .invalidContract(code, message): problem = "IB does not know the contract (\(code)): \(message)"
        case .tooManyLines(let message): problem = "market data lines exhausted: \(message)"
        case .competingSession(let message): problem = "competing live session: \(message)"
        case let .failed(code, message): problem = "request failed (\(code)): \(message)"
        }
        switch (entry, status) {
        case (.quote, _):
            // Only the underlying's own subscription describes the symbol.
            symbols[symbol]?.problem = problem
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
        }
    }

    /// `Market data farm connection is broken:usfarm` -> `usfarm`.
    static func farmName(_ message: String) -> String {
        guard let colon = message.lastIndex(of: ":") else { return message }
        return String(message[message.index(after: colon)...])
    }
}
