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
                logger.info("IB session ready", metadata: ["server_version": "\(serverVersion)", "client_id": "\(clientId)"])
                metrics.ibConnected.record(1)
                feed(.sessionConnected(serverVersion: serverVersion, clientId: clientId))
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
        var confirmed: [String] = []
        book.beginBatch()
        for event in batch {
            // Merged in place; the book says when a line's first value tick of this read arrives.
            guard let applied = book.apply(event.tick, to: event.subscription), applied.firstInBatch else { continue }
            touched.append(event.subscription)
            if case .quote(let symbol)? = book.entry(event.subscription), book.quoteSubscription[symbol] == event.subscription {
                confirmed.append(symbol)
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
        guard !confirmed.isEmpty else { return }
        // The session's state is not asked for on the hot path: the core keeps the last seen.
        let at = WorkerCore.Now(wallMs: now, monoMs: mono, session: nil)
        let actions = core.handle(.dataConfirmed(symbols: confirmed), now: at)
        if !actions.isEmpty { perform(actions, now: at) }
    }

    /// Writes a line's merged IB state, unless its symbol is on Alpha Vantage (then IB's
    /// values are kept up to date in the book and written at failback).
    func writeIB(_ id: SubscriptionID, nowMs now: Int64) {
        guard let symbol = book.entry(id)?.symbol, !failedOver.contains(symbol),
            let record = book.record(for: id, source: .ib, nowMs: now)
        else { return }
        publisher.publish(record)
        let mono = monoMs()
        book.lastConfirmedMs[id] = mono
        core.noteDataWritten(monoMs: mono)
    }

    func handleSessionState(from: SessionState, to: SessionState, reason: String) {
        metrics.ibConnected.record(to.isSessionUp ? 1 : 0)
        if case .backoff = to { metrics.ibReconnects.increment() }
        feed(.sessionStateChanged(from: from, to: to, reason: reason, reconnectAttempts: session.status.reconnectAttempts))
    }

    /// Every ERR_MSG: an `ib_error` event (with the code's class), and for connection-level
    /// codes a failover event. What a code means for its request is decided in IBSession
    /// (`IBErrorClass`) and arrives as a `subscriptionStatus`.
    func handleIBError(code: Int32, message: String, reqId: Int32, subscription: SubscriptionID?) {
        let symbol = subscription.flatMap { book.entry($0)?.symbol }
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
        feed(.ibError(code: code, message: message, reqId: reqId, symbol: symbol))
    }

    /// A line's status: what it means is decided by `WorkerCore.lineStatus`; this carries it out.
    func handleSubscriptionStatus(_ subscription: SubscriptionID, _ status: SubscriptionStatus) {
        guard let entry = book.entry(subscription) else { return }
        let symbol = entry.symbol
        let isQuote = if case .quote = entry { true } else { false }
        let decision = WorkerCore.lineStatus(isQuote: isQuote, status)
        switch decision.effect {
        case .clearInstrument:
            symbols[symbol]?.problem = nil
            symbols[symbol]?.warning = nil
        case .setProblem:
            symbols[symbol]?.problem = decision.problem
        case .setWarning:
            symbols[symbol]?.warning = decision.warning
        case .dropOption(let remember):
            if remember, case .option(_, let key) = entry { symbols[symbol]?.missingOptions.insert(key) }
            session.unsubscribe(subscription)
            book.remove(subscription)
        case .keep:
            break
        }
        if let problem = decision.problem {
            logger.warning("market data problem", metadata: ["symbol": "\(symbol)", "problem": "\(problem)"])
        } else if let warning = decision.warning {
            logger.notice("market data warning", metadata: ["symbol": "\(symbol)", "warning": "\(warning)"])
        }
        if decision.problem != nil || decision.warning != nil { writeStatus() }
    }
}
