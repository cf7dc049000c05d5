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

    /// How Alpha Vantage stands in for `spec`'s instrument (nil: it cannot): the name the
    /// poller uses (the GLOBAL_QUOTE symbol, or the FX pair's `EUR/USD`), the pair, and the
    /// REALTIME_OPTIONS symbol when `alphavantage.options` is on.
    static func fallback(_ spec: SymbolSpec, configuration: WorkerConfiguration) -> WorkerCore.Fallback? {
        let fx = configuration.alphaVantageFX
        let options = configuration.alphaVantageOptions ? spec.alphaVantageOptionsSymbol(fxEnabled: fx) : nil
        switch spec.alphaVantageFallback(fxEnabled: fx) {
        case .globalQuote(let mapped):
            return WorkerCore.Fallback(symbol: spec.keySymbol, name: mapped, optionsSymbol: options)
        case let .exchangeRate(from, to):
            let pair = CurrencyPair(from: from, to: to)
            return WorkerCore.Fallback(symbol: spec.keySymbol, name: pair.symbol, pair: pair, optionsSymbol: options)
        case .unavailable:
            return nil
        }
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

    /// Carries out an Alpha Vantage write the core decided on.
    func writeAlphaVantage(_ action: WorkerCore.Action, nowMs now: Int64) {
        switch action {
        case let .writeAlphaVantageQuote(quote, key):
            // Written under the key of the instrument it is (`BRK B` is Alpha Vantage's BRK.B).
            var record = quote
            record.symbol = key
            publisher.publish(record.record(source: .alphavantage, updatedMs: now))
            core.noteDataWritten(monoMs: monoMs())
        case let .writeAlphaVantageRate(quote, key):
            // The pair's own key, with the identity fields IB's record of it has (sec_type,
            // currency, local_symbol, con_id), so the record keeps its shape across the switch.
            guard let state = symbols[key] else { return }
            var record = quote
            record.symbol = key
            record.secType = state.spec.secType.rawValue
            record.currency = state.spec.currency
            record.localSymbol = state.contract.flatMap { $0.localSymbol.isEmpty ? nil : $0.localSymbol } ?? key
            record.conId = state.contract?.conId
            publisher.publish(record.record(source: .alphavantage, updatedMs: now))
            core.noteDataWritten(monoMs: monoMs())
        case let .writeAlphaVantageOptions(options, key):
            // Only the options of the window IB served, so readers find the same keys.
            let wanted = book.optionSubscriptions[key] ?? [:]
            for option in options {
                guard wanted[OptionKey(expiry: option.expiry, strike: option.strike, right: option.right)] != nil else { continue }
                var record = option
                record.symbol = key
                publisher.publish(record.record(source: .alphavantage, updatedMs: now))
            }
        default:
            break
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
