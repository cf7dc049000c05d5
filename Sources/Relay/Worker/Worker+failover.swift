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

    /// The periodic check: market hours, the Lua staleness check when due, then the core's
    /// tick (keep-alive, the engine's deadlines, readiness, state).
    func runChecks(withStaleness: Bool) async {
        feed(.marketHours(order.compactMap { symbol in symbols[symbol].map { (symbol: symbol, hours: $0.hours) } }))
        if withStaleness { await checkStaleness() }
        feed(.tick(lines: keepAliveCandidates()))
    }

    /// Runs `lua/staleness.lua` (Redis' own clock) and hands the answer to the core.
    func checkStaleness() async {
        do {
            let change = try await publisher.checkStaleness(thresholdMs: configuration.failover.stalenessMs)
            feed(.stalenessAnswered(change))
        } catch {
            // Readiness follows the publisher's connection and refusal state (status loop).
            feed(.stalenessFailed(error: "\(error)"))
        }
    }

    /// Why Alpha Vantage cannot stand in for a symbol (nil: it can). Only the same instrument
    /// may be written under a key (`SymbolSpec.alphaVantageFallback`): Alpha Vantage's
    /// GLOBAL_QUOTE `ES` is Eversource Energy, not CME's E-mini. An FX pair has one when
    /// `alphavantage.fx` is on (CURRENCY_EXCHANGE_RATE for the same pair).
    func fallbackProblem(_ symbol: String) -> String? {
        guard let spec = symbols[symbol]?.spec else { return "not configured" }
        return Self.fallbackProblem(spec, fxEnabled: configuration.alphaVantageFX)
    }

    /// Why Alpha Vantage cannot stand in for `spec`'s instrument (nil: it can).
    static func fallbackProblem(_ spec: SymbolSpec, fxEnabled: Bool) -> String? {
        spec.alphaVantageFallback(fxEnabled: fxEnabled).unavailableReason
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
            feed(.probeFailed(symbol: symbol, reason: "contract not resolved yet"))
            return
        }
        do {
            let messages = try await session.snapshot(contract, timeout: configuration.probeTimeout)
            guard messages.contains(where: \.carriesMarketData) else {
                feed(.probeFailed(symbol: symbol, reason: "the snapshot came back without values"))
                return
            }
            if let id = book.quoteSubscription[symbol] {
                for message in messages {
                    if let tick = Tick(message) { _ = book.apply(tick, to: id) }
                }
                book.lastIBDataMs[id] = monoMs()
                writeIB(id, nowMs: nowMs())
            }
            feed(.probeAnswered(symbol: symbol))
        } catch {
            feed(.probeFailed(symbol: symbol, reason: "\(error)"))
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
                    core.noteDataWritten(monoMs: monoMs())
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
                core.noteDataWritten(monoMs: monoMs())
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
