import Logging
import TWSProtocol

/// Routing decoded gateway messages: ticks to the batch, answers to their waiters, control
/// messages to the state machine, errors to all of those by meaning.
extension SessionCore {
    func received(_ message: ServerMessage, generation: UInt64) {
        guard generation == self.generation else { return }
        switch message {
        case .tickPrice(let reqId, let tickType, let price, let size, let attrMask):
            route(reqId, .price(tickType: tickType, price: price, size: size, attrMask: attrMask), message)
        case .tickSize(let reqId, let tickType, let size):
            route(reqId, .size(tickType: tickType, size: size), message)
        case .tickString(let reqId, let tickType, let value):
            route(reqId, .string(tickType: tickType, value: value), message)
        case .tickGeneric(let reqId, let tickType, let value):
            route(reqId, .generic(tickType: tickType, value: value), message)
        case .tickOptionComputation(let computation):
            route(computation.reqId, .optionComputation(computation), message)
        case .marketDataType(let reqId, let type):
            route(reqId, .marketDataType(type), message)
        case .tickReqParams(let reqId, _, _, _):
            if case .request(let id) = registry.owner(ofReqId: reqId) { waiters[id]?.append(message) }
        case .tickSnapshotEnd(let reqId):
            if case .request(let id) = registry.owner(ofReqId: reqId) { complete(id) }
        case .contractData(let reqId, _):
            if case .request(let id) = registry.owner(ofReqId: reqId) { waiters[id]?.append(message) }
        case .optionParameters(let parameters):
            if case .request(let id) = registry.owner(ofReqId: parameters.reqId) { waiters[id]?.append(message) }
        case .contractDataEnd(let reqId), .optionParametersEnd(let reqId):
            if case .request(let id) = registry.owner(ofReqId: reqId) { complete(id) }
        case .currentTime:
            handle(.currentTimeReceived(now: .now))
        case .nextValidId:
            handle(.nextValidIdReceived(now: .now))
        case .managedAccounts(let accounts):
            logger.debug("managed accounts", metadata: ["accounts": "\(accounts.joined(separator: ","))"])
        case .error(let error):
            received(error)
        case .unknown:
            skippedCount &+= 1
        }
    }

    /// The hot path: one dictionary lookup and an append per tick.
    @inline(__always)
    private func route(_ reqId: Int32, _ tick: Tick, _ message: ServerMessage) {
        switch registry.owners[reqId] {
        case .subscription(let id):
            batch.append(MarketDataEvent(subscription: id, tick: tick))
        case .request(let id):
            waiters[id]?.append(message)
        case nil:
            // Late ticks of a cancelled or superseded line.
            droppedTicks &+= 1
        }
    }

    func undecodable(_ fields: [String], error: any Error, generation: UInt64) {
        guard generation == self.generation else { return }
        undecodableCount += 1
        publishCounters()
        // Powers of two: a systematic decoding problem shows up without flooding the log.
        if undecodableCount & (undecodableCount - 1) == 0 {
            logger.warning("skipping undecodable gateway message", metadata: [
                "error": "\(error)", "fields": "\(fields.prefix(12).joined(separator: "|"))", "count": "\(undecodableCount)",
            ])
        }
    }

    private func received(_ error: ErrorMessage) {
        let owner = error.reqId >= 0 ? registry.owner(ofReqId: error.reqId) : nil
        let errorClass = IBErrorClass.classify(code: error.code, message: error.message)
        var subscription: SubscriptionID?
        if case .subscription(let id) = owner { subscription = id }

        let metadata: Logger.Metadata = ["code": "\(error.code)", "req_id": "\(error.reqId)", "message": "\(error.message)"]
        if errorClass.isInformational {
            logger.info("gateway notice", metadata: metadata)
        } else if errorClass.severity == .warning {
            logger.notice("gateway warning", metadata: metadata)
        } else if errorClass == .pacingViolation {
            logger.error("gateway pacing violation: outgoing rate too high", metadata: metadata)
        } else {
            logger.warning("gateway error", metadata: metadata)
        }
        emit(.ibError(code: error.code, message: error.message, reqId: error.reqId, subscription: subscription))

        switch owner {
        case .subscription(let id):
            subscriptionError(id, errorClass, error)
        case .request(let id):
            if errorClass.failsRequest {
                waiters.removeValue(forKey: id)?.fail(IBSessionError.requestFailed(code: error.code, message: error.message))
                finish(id, cancelLine: false)
            }
        case nil:
            break
        }
        // Also publishes the status (last error, subscription count).
        handle(.errorReceived(code: error.code, message: error.message, now: .now))
    }

    private func subscriptionError(_ id: SubscriptionID, _ errorClass: IBErrorClass, _ error: ErrorMessage) {
        let status: SubscriptionStatus
        switch errorClass {
        case .noPermission: status = .noPermission(code: error.code, message: error.message)
        case .delayedInstead: status = .delayed(message: error.message)
        case .partialData: status = .warning(code: error.code, message: error.message)
        case .invalidRequest: status = .invalidContract(code: error.code, message: error.message)
        case .tooManyLines: status = .tooManyLines(message: error.message)
        case .competingSession: status = .competingSession(message: error.message)
        case .pacingViolation:
            // Error 100: the gateway did not process the request. Ask again under a new id,
            // behind the pacer; nothing to cancel (no line was opened).
            if let message = registry.rerequest(id) {
                bulk.append(message)
                drain()
            }
            return
        case .duplicateTicker, .other: status = .failed(code: error.code, message: error.message)
        default: return
        }
        let reqId = registry.subscriptions[id]?.reqId
        registry.setStatus(status, for: id)
        if errorClass == .other, let reqId, channel != nil {
            // A code IB's table does not document for market data: whether the gateway still
            // holds the line is unknown, so it is cancelled (at worst IB answers 300). The
            // documented refusals (200, 321, 354, 10089, 10168, 101, 10197) open no line, and a
            // cancel after 322 (duplicate id) would close the other line using that id.
            urgent.append(.cancelMktData(reqId: reqId))
            drain()
        }
        emit(.subscriptionStatus(id, status))
        if errorClass == .competingSession { scheduleCompetingSessionRetry() }
        if errorClass == .noPermission, configuration.marketDataType >= 3, let retry = registry.retryAsDelayed(id) {
            logger.info("requesting delayed market data instead", metadata: ["subscription": "\(id)", "code": "\(error.code)"])
            urgent.append(.reqMarketDataType(configuration.marketDataType))
            bulk.append(retry)
            drain()
        }
    }

    /// One timer for all lines refused by 10197; each retry that is refused again re-arms it.
    private func scheduleCompetingSessionRetry() {
        guard competingRetry == nil else { return }
        competingRetry = eventLoop.scheduleTask(in: .nanoseconds(Int64(configuration.competingSessionRetry.seconds * 1e9))) { [self] in
            competingRetry = nil
            guard running, machine.state.isSessionUp else { return }
            let messages = registry.retryCompetingSession()
            guard !messages.isEmpty else { return }
            logger.info("requesting market data again after a competing session", metadata: ["count": "\(messages.count)"])
            bulk.append(contentsOf: messages)
            drain()
        }
    }
}
