import AlphaVantage
import Failover
import IBSession
import MarketData
import MarketModel
import RedisPublisher
import TWSProtocol

extension Worker {
    func failoverLoop() async {
        // The engine's deadlines (probe timeouts, staleness, failback) are checked every
        // second; the Lua staleness check runs every `check_interval_seconds`.
        let tick = Duration.milliseconds(min(1000, configuration.failover.checkIntervalMs))
        var lastLuaCheck = clock.now
        while !Task.isCancelled {
            try? await clock.sleep(for: tick)
            guard !Task.isCancelled else { return }
            let due = lastLuaCheck.duration(to: clock.now) >= .milliseconds(configuration.failover.checkIntervalMs)
            if due { lastLuaCheck = clock.now }
            await runChecks(withStaleness: due)
        }
    }

    func runChecks(withStaleness: Bool) async {
        let now = nowMs()
        for symbol in order {
            guard let hours = symbols[symbol]?.hours else { continue }
            let open = hours.isOpen(atMs: now)
            if symbols[symbol]?.marketOpen != open {
                symbols[symbol]?.marketOpen = open
                logger.info("market \(open ? "open" : "closed")", metadata: ["symbol": "\(symbol)"])
                decide(.marketHours(symbol: symbol, open: open))
            }
        }
        if withStaleness { await checkStaleness() }
        let mono = monoMs()
        refreshQuietLines(monoMs: mono)
        for status in engine.status.symbols {
            if let confirmed = status.lastConfirmedMs {
                metrics.symbolStaleness(symbol: status.symbol, seconds: Double(max(0, mono - confirmed)) / 1000)
            }
        }
        decide(.tick)
        let flowing = lastPublishMs.map { mono - $0 < configuration.failover.stalenessMs } ?? false
        readiness.setDataFlowing(flowing)
        refreshState(reason: "periodic check")
    }

    /// Runs `lua/staleness.lua` (Redis' own clock) and turns its answer into events.
    func checkStaleness() async {
        do {
            let change = try await publisher.checkStaleness(thresholdMs: configuration.failover.stalenessMs)
            metrics.staleKeys.record(change.staleCount)
            let now = nowMs()
            if !change.newlyStale.isEmpty {
                logger.warning("keys went stale", metadata: ["keys": "\(change.newlyStale.joined(separator: ","))"])
                publisher.publishEvent(WorkerEvents.staleness(kind: "stale", worker: configuration.workerID, keys: change.newlyStale, nowMs: now))
                // A symbol's health is its quote's: a quiet option is flagged stale in Redis
                // (truthfully), but it does not make the symbol suspect.
                let quotes = change.newlyStale.filter { $0.hasPrefix("quote:") }
                if !quotes.isEmpty { decide(.stale(symbols: Self.symbols(ofKeys: quotes))) }
            }
            if !change.newlyFresh.isEmpty {
                logger.info("keys fresh again", metadata: ["keys": "\(change.newlyFresh.joined(separator: ","))"])
                publisher.publishEvent(WorkerEvents.staleness(kind: "fresh", worker: configuration.workerID, keys: change.newlyFresh, nowMs: now))
                let quotes = change.newlyFresh.filter { $0.hasPrefix("quote:") }
                if !quotes.isEmpty { decide(.fresh(symbols: Self.symbols(ofKeys: quotes))) }
            }
            if !change.expired.isEmpty {
                // Keys whose TTL ran out (their source stopped writing them): announced so a
                // reader that saw them go stale also learns they are gone.
                publisher.publishEvent(WorkerEvents.staleness(kind: "expired", worker: configuration.workerID, keys: change.expired, nowMs: now))
            }
            stalenessFailures = 0
        } catch {
            // Readiness follows the publisher's connection and refusal state (status loop).
            stalenessFailures += 1
            // During an outage this fails every check: say it once, then every 30th time.
            if stalenessFailures == 1 || stalenessFailures % 30 == 0 {
                logger.warning("staleness check failed", metadata: ["error": "\(error)", "consecutive": "\(stalenessFailures)"])
            }
        }
    }

    /// `quote:AAPL`, `option:SPY:20261218:450:C`, `chain:SPY` -> their symbols, unique, in order.
    static func symbols(ofKeys keys: [String]) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for key in keys {
            let parts = key.split(separator: ":", maxSplits: 2)
            guard parts.count >= 2 else { continue }
            let symbol = String(parts[1])
            if seen.insert(symbol).inserted { out.append(symbol) }
        }
        return out
    }

    /// Carries out the engine's decisions.
    func perform(_ actions: [FailoverAction]) {
        guard !actions.isEmpty else { return }
        let mono = monoMs()
        for action in actions {
            switch action {
            case let .probe(symbol, reason):
                logger.debug("probing IB", metadata: ["symbol": "\(symbol)", "reason": "\(reason)"])
                Task { await self.probe(symbol) }
            case let .failover(list, reason):
                // Alpha Vantage serves only what is the same instrument there; the rest (and
                // everything when no key is configured) keeps IB's stale-flagged data.
                let servable = poller == nil ? [] : list.filter { fallbackProblem($0) == nil }
                let stranded = list.filter { !servable.contains($0) && !unservable.contains($0) }
                if !stranded.isEmpty {
                    unservable.formUnion(stranded)
                    for symbol in stranded {
                        noFallback[symbol] = poller == nil ? "no Alpha Vantage key configured" : fallbackProblem(symbol)
                    }
                    logger.error("IB cannot deliver and there is no fallback: data stays flagged stale until IB recovers",
                                 metadata: ["symbols": "\(stranded.joined(separator: ","))", "reason": "\(reason)",
                                            "why_no_fallback": "\(stranded.compactMap { noFallback[$0] }.joined(separator: "; "))"])
                    refreshState(reason: reason)
                }
                let newly = servable.filter { !failedOver.contains($0) }
                guard !newly.isEmpty else { continue }
                failedOver.formUnion(newly)
                for symbol in newly { failoverSinceMs[symbol] = mono }
                metrics.failovers.increment(by: Int64(newly.count))
                logger.warning("failover to Alpha Vantage", metadata: ["symbols": "\(newly.joined(separator: ","))", "reason": "\(reason)"])
                publisher.publishEvent(WorkerEvents.failover(kind: "failover", worker: configuration.workerID, reason: reason, symbols: newly, nowMs: nowMs()))
                updatePoller()
                refreshState(reason: reason)
            case let .failback(list, reason):
                if !unservable.isDisjoint(with: list) {
                    unservable.subtract(list)
                    for symbol in list { noFallback[symbol] = nil }
                    logger.notice("IB delivers again", metadata: ["symbols": "\(list.joined(separator: ","))", "reason": "\(reason)"])
                    refreshState(reason: reason)
                }
                let back = list.filter { failedOver.contains($0) }
                guard !back.isEmpty else { continue }
                failedOver.subtract(back)
                metrics.failbacks.increment(by: Int64(back.count))
                logger.notice("failback to IB", metadata: ["symbols": "\(back.joined(separator: ","))", "reason": "\(reason)"])
                // IB's merged state was kept up to date all along: write the lines IB has
                // delivered since the failover, which switches their keys' source back (the
                // publish script drops AV-only fields). A line IB has not confirmed since
                // keeps Alpha Vantage's values until IB delivers it (a tick or a keep-alive
                // snapshot): writing it now would claim a confirmation that did not happen.
                let now = nowMs()
                for symbol in back {
                    let since = failoverSinceMs.removeValue(forKey: symbol) ?? 0
                    for id in book.subscriptions(of: symbol) {
                        if (book.lastIBDataMs[id] ?? -1) >= since {
                            writeIB(id, nowMs: now)
                        } else {
                            // Quiet since the failover (an option between trades): confirm it
                            // with a keep-alive snapshot at the next check, so its key is IB's
                            // again within the stable period rather than at its TTL.
                            book.lastConfirmedMs[id] = Int64.min / 2
                        }
                    }
                }
                publisher.publishEvent(WorkerEvents.failover(kind: "failback", worker: configuration.workerID, reason: reason, symbols: back, nowMs: now))
                updatePoller()
                refreshState(reason: reason)
            case let .recovering(list, reason):
                logger.info("IB recovering", metadata: ["symbols": "\(list.joined(separator: ","))", "reason": "\(reason)"])
            case let .recoveryInterrupted(list, reason):
                logger.info("IB recovery interrupted", metadata: ["symbols": "\(list.joined(separator: ","))", "reason": "\(reason)"])
            }
        }
    }

    /// Why Alpha Vantage cannot stand in for a symbol (nil: it can). Only the same instrument
    /// may be written under a key (`SymbolSpec.alphaVantageFallback`): Alpha Vantage's
    /// GLOBAL_QUOTE `ES` is Eversource Energy, not CME's E-mini. An FX pair has one when
    /// `alphavantage.fx` is on (CURRENCY_EXCHANGE_RATE for the same pair).
    func fallbackProblem(_ symbol: String) -> String? {
        guard let spec = symbols[symbol]?.spec else { return "not configured" }
        return spec.alphaVantageFallback(fxEnabled: configuration.alphaVantageFX).unavailableReason
    }

    /// The name the poller uses for `symbol`'s Alpha Vantage instrument: the GLOBAL_QUOTE
    /// symbol, or the FX pair's `EUR/USD` (`CurrencyPair.symbol`); nil when there is none.
    func alphaVantageSymbol(_ symbol: String) -> String? {
        switch symbols[symbol]?.spec.alphaVantageFallback(fxEnabled: configuration.alphaVantageFX) {
        case .globalQuote(let mapped)?: mapped
        case let .exchangeRate(from, to)?: CurrencyPair(from: from, to: to).symbol
        case .unavailable?, nil: nil
        }
    }

    /// The FX pair CURRENCY_EXCHANGE_RATE is asked for on `symbol`'s behalf, if any.
    func alphaVantagePair(_ symbol: String) -> CurrencyPair? {
        guard case let .exchangeRate(from, to)? = symbols[symbol]?.spec.alphaVantageFallback(fxEnabled: configuration.alphaVantageFX) else { return nil }
        return CurrencyPair(from: from, to: to)
    }

    /// A snapshot request (plus the session's own heartbeat) tells a quiet symbol from a dead
    /// feed. Only an answer with values counts: a real gateway acknowledges every request at
    /// once with TICK_REQ_PARAMS (81), stalled or not, and a snapshot that ends without a value
    /// confirms nothing.
    func probe(_ symbol: String) async {
        guard let contract = symbols[symbol]?.contract else {
            decide(.probeFailed(symbol: symbol, reason: "contract not resolved yet"))
            return
        }
        do {
            let messages = try await session.snapshot(contract, timeout: configuration.probeTimeout)
            guard messages.contains(where: \.carriesMarketData) else {
                decide(.probeFailed(symbol: symbol, reason: "the snapshot came back without values"))
                return
            }
            if let id = book.quoteSubscription[symbol] {
                for message in messages {
                    if let tick = Tick(message) { _ = book.apply(tick, to: id) }
                }
                book.lastIBDataMs[id] = monoMs()
                writeIB(id, nowMs: nowMs())
            }
            decide(.probeAnswered(symbol: symbol))
        } catch {
            decide(.probeFailed(symbol: symbol, reason: "\(error)"))
        }
    }

    func updatePoller() {
        guard let poller else { return }
        // The set is read when the task runs, not when it was created: tasks may run in any
        // order, and whichever runs last must install the current set.
        Task {
            let (quotes, options, pairs) = self.pollerSymbols()
            await poller.setSymbols(quotes: quotes, options: options, exchangeRates: pairs)
        }
    }

    /// The Alpha Vantage symbols to poll: those of the key symbols in failover (FX pairs
    /// separately: they take CURRENCY_EXCHANGE_RATE, in the same round and budget).
    func pollerSymbols() -> (quotes: [String], options: [String], pairs: [CurrencyPair]) {
        let keys = order.filter { failedOver.contains($0) }
        let pairs = keys.compactMap(alphaVantagePair)
        let quotes = keys.filter { alphaVantagePair($0) == nil }.compactMap(alphaVantageSymbol)
        let options = configuration.alphaVantageOptions
            ? keys.filter { symbols[$0]?.window != nil }.compactMap { symbols[$0]?.spec.alphaVantageOptionsSymbol(fxEnabled: configuration.alphaVantageFX) }
            : []
        return (quotes, options, pairs)
    }

    /// Key symbols in failover whose Alpha Vantage symbol is `avSymbol`.
    func keySymbols(forAlphaVantage avSymbol: String) -> [String] {
        order.filter { failedOver.contains($0) && alphaVantageSymbol($0) == avSymbol }
    }

    /// Alpha Vantage data is written only for symbols in failover, and only to the keys IB
    /// served (the same option window), so readers find the same keys with `source=alphavantage`.
    func handleAlphaVantage(_ event: AlphaVantagePollEvent) {
        guard role == .active else { return }  // a poll that ended after this term did
        let now = nowMs()
        switch event {
        case .quotes(let quotes):
            metrics.alphaVantageRequest(function: quotes.count > 1 ? "REALTIME_BULK_QUOTES" : "GLOBAL_QUOTE")
            for quote in quotes {
                // Written under the key of the instrument it is (`BRK B` is Alpha Vantage's BRK.B).
                for key in keySymbols(forAlphaVantage: quote.symbol) {
                    var record = quote
                    record.symbol = key
                    publisher.publish(record.record(source: .alphavantage, updatedMs: now))
                    lastPublishMs = monoMs()
                }
            }
        case .exchangeRate(let quote):
            metrics.alphaVantageRequest(function: "CURRENCY_EXCHANGE_RATE")
            // The pair's own key, with the identity fields IB's record of it has (sec_type,
            // currency, local_symbol, con_id), so the record keeps its shape across the switch.
            for key in keySymbols(forAlphaVantage: quote.symbol) {
                guard let state = symbols[key] else { continue }
                var record = quote
                record.symbol = key
                record.secType = state.spec.secType.rawValue
                record.currency = state.spec.currency
                record.localSymbol = state.contract.flatMap { $0.localSymbol.isEmpty ? nil : $0.localSymbol } ?? key
                record.conId = state.contract?.conId
                publisher.publish(record.record(source: .alphavantage, updatedMs: now))
                lastPublishMs = monoMs()
            }
        case let .options(avSymbol, options):
            metrics.alphaVantageRequest(function: "REALTIME_OPTIONS")
            guard let symbol = keySymbols(forAlphaVantage: avSymbol).first else { return }
            let wanted = book.optionSubscriptions[symbol] ?? [:]
            for option in options {
                let key = OptionKey(expiry: option.expiry, strike: option.strike, right: option.right)
                guard wanted[key] != nil else { continue }
                var record = option
                record.symbol = symbol
                publisher.publish(record.record(source: .alphavantage, updatedMs: now))
            }
        case let .failure(request, error):
            metrics.alphaVantageRequest(function: request.function)
            metrics.alphaVantageError(kind: error.code)
            logger.debug("Alpha Vantage request failed", metadata: ["request": "\(request)", "error": "\(error)"])
        }
    }
}

extension Tick {
    /// The ticks of a snapshot answer, as the book merges them.
    init?(_ message: ServerMessage) {
        switch message {
        case let .tickPrice(_, tickType, price, size, attrMask): self = .price(tickType: tickType, price: price, size: size, attrMask: attrMask)
        case let .tickSize(_, tickType, size): self = .size(tickType: tickType, size: size)
        case let .tickString(_, tickType, value): self = .string(tickType: tickType, value: value)
        case let .tickGeneric(_, tickType, value): self = .generic(tickType: tickType, value: value)
        case let .tickOptionComputation(c): self = .optionComputation(c)
        case let .marketDataType(_, t): self = .marketDataType(t)
        default: return nil
        }
    }
}
