import Foundation
import Essentials
import IBSession
import MarketData
import MarketModel
import TWSProtocol

extension Worker {
    /// Requests in flight at once while setting up: enough to hide IB's round trips (tens
    /// of ms each at a real gateway), while the session's pacer keeps the rate under IB's limit.
    static let setUpWidth = 16

    /// Resolves and subscribes every underlying first (they come before options in the line
    /// budget, and a quote is what most readers want), then every option chain and window.
    func setUpSymbols() async {
        await forEach(order, width: Self.setUpWidth) { worker, symbol in await worker.resolve(symbol) }
        let underlyings = order.filter { symbols[$0]?.contract != nil && symbols[$0]?.spec.options != nil }
        await forEach(underlyings, width: Self.setUpWidth) { worker, symbol in
            guard let state = await worker.symbols[symbol], let contract = state.contract, let options = state.spec.options,
                state.spec.secType.hasOptionChains
            else { return }
            await worker.setUpChain(symbol, contract: contract, options: options)
        }
    }

    /// Runs `body` for every item with at most `width` running at once.
    func forEach<Item: Sendable>(_ items: [Item], width: Int, _ body: @escaping @Sendable (Worker, Item) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            var next = items.makeIterator()
            for _ in 0..<width {
                guard let item = next.next() else { break }
                group.addTask { await body(self, item) }
            }
            while await group.next() != nil {
                guard !Task.isCancelled, let item = next.next() else { continue }
                group.addTask { await body(self, item) }
            }
        }
    }

    /// The wait before asking IB again for a contract or an option chain that failed for a
    /// passing reason (gateway down, timeout): 1 s doubling to 30 s, no jitter (one worker's
    /// requests, paced by the session anyway).
    static let requestRetry = BackoffPolicy(initial: .seconds(1), max: .seconds(30), multiplier: 2)

    /// Retries until IB answers: a gateway that is down at start-up is not an error.
    func resolve(_ symbol: String) async {
        guard let spec = symbols[symbol]?.spec else { return }
        let request = Self.contractRequest(spec)
        var attempt = 0
        while !Task.isCancelled {
            do {
                // A requested instrument's look-up has just asked IB (its answer let the
                // request take a line): not asked again within a minute.
                let details: [ContractDetails]
                if let cached = lookedUpContracts.removeValue(forKey: symbol), monoMs() - cached.monoMs < 60_000 {
                    details = cached.details
                } else {
                    details = try await session.contractDetails(request)
                }
                guard let first = chooseContract(symbol, spec: spec, details: details) else { return }
                // A requested instrument may have been released (or released and asked for
                // again, with its own resolve) while IB answered: never two lines for one key.
                // A standby of a worker group subscribes nothing.
                guard !stopping, role == .active, symbols[symbol] != nil, book.quoteSubscription[symbol] == nil else { return }
                guard book.quoteSubscription.count < configuration.maxMarketDataLines else {
                    reportProblem(symbol, "no market data line left (ib.max_market_data_lines = \(configuration.maxMarketDataLines))")
                    return
                }
                var contract = first.contract
                contract.exchange = spec.exchange
                symbols[symbol]?.contract = contract
                symbols[symbol]?.hours = TradingHours(details: first)
                // With options followed, IB's generic ticks 100/101 add the underlying's option
                // volume and open interest per right (TICK_SIZE 29/30, 27/28).
                let id = session.subscribe(contract, genericTicks: spec.options != nil && spec.secType.hasOptionChains ? "100,101" : "")
                book.addQuote(id, symbol: symbol, contract: contract, monoMs: monoMs(), snapshot: Self.quoteIdentity(symbol, spec: spec, contract: contract))
                logger.info("subscribed", metadata: ["symbol": "\(symbol)", "con_id": "\(contract.conId)"])
                return
            } catch let error as IBSessionError where error.isPermanent {
                if case .requestFailed(200, _) = error {
                    // IB does not know the instrument: a configuration problem, not an outage.
                    // Nothing is served under its key (no failover), and the worker's state is
                    // about the instruments it does serve.
                    symbols[symbol]?.unresolvable = true
                    servedChanged()
                    reportProblem(symbol, "IB does not know this instrument (200); check symbol, sec_type, exchange, currency: \(error)")
                    publisher.publishEvent(WorkerEvents.plain(type: "symbol_rejected", worker: configuration.workerID, nowMs: nowMs(), [
                        Field("symbol", symbol, isNumber: false), Field("reason", "\(error)", isNumber: false),
                    ]))
                    writeStatus()
                } else {
                    reportProblem(symbol, "\(error)")
                }
                return
            } catch {
                logger.debug("contract details for \(symbol) failed, retrying", metadata: ["error": "\(error)"])
                attempt += 1
                try? await clock.sleep(for: Self.requestRetry.cap(forAttempt: attempt))
            }
        }
    }

    func reportProblem(_ symbol: String, _ problem: String) {
        symbols[symbol]?.problem = problem
        logger.error("symbol cannot be served by IB", metadata: ["symbol": "\(symbol)", "problem": "\(problem)"])
    }

    /// Publishes `P:chain:SYM` and prepares the option window; subscriptions follow once the
    /// underlying has a price (see `recentre`). The chain is asked for again periodically
    /// (`refreshChainIfDue`).
    func setUpChain(_ symbol: String, contract: Contract, options: SymbolSpec.OptionWindow) async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                guard try await fetchChain(symbol, contract: contract, options: options) else { return }
                await recentre(symbol)
                return
            } catch let error as IBSessionError where error.isPermanent {
                reportProblem(symbol, "option chain: \(error)")
                return
            } catch {
                attempt += 1
                try? await clock.sleep(for: Self.requestRetry.cap(forAttempt: attempt))
            }
        }
    }

    func recentreLoop() async {
        while !Task.isCancelled {
            try? await clock.sleep(for: configuration.recentreInterval)
            for symbol in order where symbols[symbol]?.rollDate != nil {
                await rollFrontMonthIfDue(symbol)
            }
            for symbol in order where symbols[symbol]?.window != nil {
                await refreshChainIfDue(symbol)
                await recentre(symbol)
            }
        }
    }

    /// Moves the option window to the underlying's price, within the line budget: cancels what
    /// left it, qualifies and subscribes what entered.
    func recentre(_ symbol: String) async {
        guard var windows = symbols[symbol]?.windows, !windows.isEmpty, symbols[symbol]?.recentring == false,
            let price = book.referencePrice(symbol)
        else { return }
        let today = today(for: symbol)
        // Every trading class has its own window (its own strikes), centred on the same price.
        var reasons: [String] = []
        for tradingClass in windows.keys.sorted() {
            guard var window = windows[tradingClass] else { continue }
            let change = window.update(underlyingPrice: price, today: today)
            windows[tradingClass] = window
            if !change.isEmpty { reasons.append(windows.count > 1 ? "\(tradingClass): \(change.reason)" : change.reason) }
        }
        symbols[symbol]?.windows = windows
        // Expired expiries can never come back: forget them so the set does not grow.
        let unexpired = (symbols[symbol]?.missingOptions ?? []).filter { $0.expiry >= today }
        symbols[symbol]?.missingOptions = unexpired
        let allAdmitted = admittedOptionsBySymbol()
        // Lines of ANY symbol that the budget no longer admits are cancelled before this
        // symbol adds lines, so the total never exceeds `ib.max_market_data_lines`.
        var toCancel: [SubscriptionID] = []
        for (s, lines) in book.optionSubscriptions {
            let admitted = allAdmitted[s] ?? []
            toCancel += lines.filter { !admitted.contains($0.key) }.map(\.value)
        }
        let subscribed = book.optionSubscriptions[symbol] ?? [:]
        let toAdd = (allAdmitted[symbol] ?? []).filter { subscribed[$0] == nil && symbols[symbol]?.missingOptions.contains($0) == false }
            .sorted { $0 < $1 }
        guard !toCancel.isEmpty || !toAdd.isEmpty else { return }
        if !reasons.isEmpty { logger.info("option window: \(reasons.joined(separator: "; "))", metadata: ["symbol": "\(symbol)"]) }
        symbols[symbol]?.recentring = true
        defer { symbols[symbol]?.recentring = false }
        for id in toCancel {
            session.unsubscribe(id)
            book.remove(id)
        }
        await forEach(toAdd, width: Self.setUpWidth) { worker, key in await worker.subscribeOption(symbol, key: key) }
        metrics.marketDataLines.record(book.lineCount)
    }

    /// Asks IB for the option's conId first: a strike listed in the chain may not exist for
    /// every expiry, and subscribing to it would only produce errors.
    func subscribeOption(_ symbol: String, key: OptionKey) async {
        guard let state = symbols[symbol], let underlying = state.contract, let secType = state.spec.secType.optionSecType else { return }
        // The class is always named: SPX and SPXW both list the third Friday's strikes, and
        // IB answers an option request without a class with both (ambiguous).
        let tradingClass = key.tradingClass.isEmpty ? underlying.symbol : key.tradingClass
        let listed = state.chainClasses[tradingClass]
        let exchange = secType == "FOP" ? (listed?.exchange ?? underlying.exchange) : "SMART"
        let request = Contract(
            symbol: underlying.symbol, secType: secType, lastTradeDateOrContractMonth: key.expiry, strike: key.strike,
            right: key.right.rawValue, multiplier: listed?.multiplier ?? "", exchange: exchange,
            currency: underlying.currency, tradingClass: tradingClass)
        do {
            let details = try await session.contractDetails(request)
            guard var contract = details.first?.contract else {
                symbols[symbol]?.missingOptions.insert(key)
                return
            }
            contract.exchange = exchange
            // The window may have moved on (or the worker begun to stop) while IB answered.
            guard !stopping, role == .active, admittedOptions(for: symbol).contains(key), book.optionSubscriptions[symbol]?[key] == nil else { return }
            let id = session.subscribe(contract, genericTicks: "101")
            book.addOption(id, symbol: symbol, key: key, contract: contract, monoMs: monoMs())
        } catch let error as IBSessionError where error.isPermanent {
            symbols[symbol]?.missingOptions.insert(key)
            logger.debug("option does not exist, skipped", metadata: ["option": "\(key.key(symbol: symbol))", "error": "\(error)"])
        } catch {
            logger.debug("option qualification failed, retried at the next re-centring", metadata: ["option": "\(key.key(symbol: symbol))", "error": "\(error)"])
        }
    }

    /// The options of `symbol` that fit in `ib.max_market_data_lines`, given every symbol's
    /// window: underlyings first, then nearer expiries and nearer strikes.
    func admittedOptions(for symbol: String) -> Set<OptionKey> {
        admittedOptionsBySymbol()[symbol] ?? []
    }

    /// Every symbol's admitted options, from one allocation of the whole budget.
    func admittedOptionsBySymbol() -> [String: Set<OptionKey>] {
        // The lines granted to requested instruments are set aside; the arbiter gives requests
        // only what the pinned instruments leave (`leaseLineCapacity`), so pinned options come
        // first. Requested windows take their own grant (`requestedAdmittedOptions`).
        let budget = LineBudget(maxLines: configuration.maxMarketDataLines, reserved: requestedGrantedLines)
        let demands = pinnedOrder.compactMap { s -> OptionDemand? in
            guard let state = symbols[s], !state.windows.isEmpty else { return nil }
            let missing = state.missingOptions
            return OptionDemand(symbol: s, options: state.selectedOptions.filter { !missing.contains($0.key) })
        }
        let allocation = budget.allocate(underlyings: pinnedOrder, options: demands)
        let summary = allocation.leftOut.isEmpty ? nil : allocation.summary
        if summary != leftOut {
            leftOut = summary
            if let summary { logger.warning("market data line budget: \(summary)") }
        }
        var keys: [String: Set<OptionKey>] = [:]
        for line in allocation.admitted {
            if case let .option(s, key) = line { keys[s, default: []].insert(key) }
        }
        keys.merge(requestedAdmittedOptions()) { pinned, _ in pinned }
        return keys
    }

    /// The exchange's calendar date, which decides which expiries have passed.
    func today(for symbol: String) -> String {
        let zone = symbols[symbol]?.hours.timeZone ?? TimeZone(identifier: "America/New_York") ?? .current
        return TradingHours.date(atMs: nowMs(), timeZone: zone)
    }
}

extension IBSessionError {
    /// Errors that retrying cannot fix: IB does not know the contract (200), the request is
    /// invalid (321), or there is no permission (354).
    var isPermanent: Bool {
        if case .requestFailed(let code, _) = self { return [200, 321, 354, 10089].contains(code) }
        return false
    }
}
