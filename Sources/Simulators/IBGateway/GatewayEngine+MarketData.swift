import TWSProtocol

extension GatewayEngine {
    // MARK: Reference data

    func contractDetails(reqId: Int32, contract: Contract) -> [ServerMessage] {
        let matches = catalog.match(contract)
        guard !matches.isEmpty else { return [GatewayNotice.noSecurityDefinition(reqId)] }
        return matches.map {
            .contractData(reqId: reqId, details: catalog.details(for: $0, requestedExchange: contract.exchange, calendar: calendar))
        } + [.contractDataEnd(reqId: reqId)]
    }

    /// One message per trading class and exchange with the class's expirations and the union
    /// of its strikes, then END (SECURITY_DEFINITION_OPTION_PARAMETER 75 / _END 76). SPX
    /// answers SPX and SPXW on SMART and CBOE; a future answers its FOP classes on CME (only
    /// when `futFopExchange` is empty or CME, as IB filters by it). An unknown underlying
    /// gets only END, as IB answers.
    func optionParameters(reqId: Int32, symbol: String, futFopExchange: String, underlyingSecType: String, underlyingConId: Int64)
        -> [ServerMessage]
    {
        let symbol = symbol.uppercased()
        let underConId: Int64?
        if underlyingConId != 0 {
            underConId = underlyingConId
        } else {
            switch underlyingSecType.uppercased() {
            case "IND": underConId = catalog.indices[symbol]?.conId
            case "FUT": underConId = catalog.futures[symbol]?.first?.conId
            default: underConId = catalog.stocks[symbol]?.conId
            }
        }
        guard let underConId, let chains = catalog.classChains[underConId],
            case .stock(let underlying)? = catalog.byConId[underConId], underlying.symbol == symbol
        else { return [.optionParametersEnd(reqId: reqId)] }
        let exchangeFilter = futFopExchange.uppercased()
        var out: [ServerMessage] = []
        for chain in chains {
            for exchange in chain.exchanges where exchangeFilter.isEmpty || exchangeFilter == exchange {
                out.append(.optionParameters(OptionParameters(
                    reqId: reqId, exchange: exchange, underlyingConId: underConId, tradingClass: chain.tradingClass,
                    multiplier: chain.multiplier, expirations: chain.expirations.map(\.yyyymmdd), strikes: chain.strikes)))
            }
        }
        return out + [.optionParametersEnd(reqId: reqId)]
    }

    // MARK: Market data

    /// The type actually served: frozen types only apply while the market is closed.
    func servedMarketDataType(requested: Int32, instrument: Instrument, nowMs: Int64) -> Int32 {
        let open = calendar.isOpen(secType: instrument.secType, epochMs: nowMs)
        switch requested {
        case 2: return open ? 1 : 2
        case 3: return 3
        case 4: return open ? 3 : 4
        default: return 1
        }
    }

    var linesInUse: Int { sessions.values.reduce(0) { $0 + $1.subscriptions.count } }

    mutating func marketData(
        _ session: inout Session, reqId: Int32, contract: Contract, genericTicks: String = "", snapshot: Bool, nowMs: Int64
    ) -> [ServerMessage] {
        if faults.competingSession { return [GatewayNotice.competingSession(reqId)] }
        if contract.exchange.isEmpty && contract.conId == 0 { return [GatewayNotice.missingExchange(reqId)] }
        let matches = catalog.match(contract)
        guard let instrument = matches.first else { return [GatewayNotice.noSecurityDefinition(reqId)] }
        guard matches.count == 1 else { return [GatewayNotice.ambiguous(reqId, symbol: contract.symbol)] }
        if contract.exchange.isEmpty { return [GatewayNotice.missingExchange(reqId)] }
        if faults.noPermission.contains(instrument.symbol) { return [GatewayNotice.noPermission(reqId, symbol: instrument.symbol)] }
        if session.subscriptions[reqId] != nil { return [GatewayNotice.duplicateTicker(reqId)] }
        if !snapshot && linesInUse >= configuration.marketDataLines { return [GatewayNotice.tooManyTickers(reqId)] }

        let type = servedMarketDataType(requested: session.requestedMarketDataType, instrument: instrument, nowMs: nowMs)
        ensureMarket(instrument, nowMs: nowMs)
        var subscription = Subscription(reqId: reqId, instrument: instrument, marketDataType: type)
        // TICK_REQ_PARAMS (81) acknowledges every market data request at once, snapshot or
        // not, stalled or not (IB's docs: returned "immediately after a market data request is
        // made"); MARKET_DATA_TYPE (58) follows only for a client that called reqMarketDataType.
        var out = header(reqId: reqId, type: type, labelled: session.marketDataTypeRequested)
        var lineKept = true
        if let rule = faults.errorRules[instrument.symbol] {
            out.append(GatewayNotice.error(reqId, rule.code, rule.message))
            lineKept = rule.keepLine
            // 10167 "Displaying delayed market data": delayed tick types follow.
            if rule.code == 10167 { subscription.marketDataType = max(subscription.marketDataType, 3) }
        }
        subscription.genericTicks = Set(genericTicks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        if snapshot {
            // A stalled or disconnected gateway acknowledges a snapshot and never answers it:
            // that is the fault. It stays pending, so cancelling it is not error 300.
            if faults.dataBlocked(for: instrument) || !lineKept {
                if session.pendingSnapshots.count < 1024 { session.pendingSnapshots.insert(reqId) }
                return out
            }
            out += diff(&subscription, clientId: session.clientId ?? 0)
            out.append(.tickSnapshotEnd(reqId: reqId))
            return out
        }
        guard lineKept else { return out }
        // A quiet market still shows its current state to a new subscriber.
        if !faults.dataBlocked(for: instrument) {
            out += diff(&subscription, clientId: session.clientId ?? 0)
        }
        session.subscriptions[reqId] = subscription
        return out
    }

    private func header(reqId: Int32, type: Int32, labelled: Bool) -> [ServerMessage] {
        var out: [ServerMessage] = [.tickReqParams(reqId: reqId, minTick: 0.01, bboExchange: "9c0001", snapshotPermissions: 3)]
        if labelled { out.append(.marketDataType(reqId: reqId, marketDataType: type)) }
        return out
    }

    mutating func ensureMarket(_ instrument: Instrument, nowMs: Int64) {
        switch instrument {
        case .stock(let s): _ = market.stockState(s, nowMs: nowMs)
        case .option(let o): _ = market.optionState(o, nowMs: nowMs)
        }
    }

    func currentTicks(_ instrument: Instrument, genericTicks: Set<Int> = []) -> [(tickType: Int32, value: TickValue)] {
        switch instrument {
        case .stock(let s):
            let ticks = market.ticks(stock: s) + (catalog.classChains[s.conId] == nil ? [] : market.optionStatistics(of: s, genericTicks: genericTicks))
            guard faults.everHalted.contains(s.symbol) else { return ticks }
            // A halt: no quote on either side (-1, size 0) and tick 49 says why.
            guard faults.halted.contains(s.symbol) else { return ticks + [(TickTypes.halted, .generic(0))] }
            let halted = ticks.map { tick -> (tickType: Int32, value: TickValue) in
                switch tick.tickType {
                case 1, 2: (tick.tickType, .price(nil))
                case 0, 3: (tick.tickType, .size(0))
                default: tick
                }
            }
            return halted + [(TickTypes.halted, .generic(1))]
        case .option(let o): return market.ticks(option: o)
        }
    }

    /// The messages that bring a subscriber from what it was last sent to the current
    /// market: only changed tick types; a changed bid/ask/last price carries its size and is
    /// followed by the size tick, as IB does.
    mutating func diff(_ subscription: inout Subscription, clientId: Int32) -> [ServerMessage] {
        let delayed = subscription.marketDataType >= 3
        let reqId = subscription.reqId
        var out: [ServerMessage] = []
        let ticks = currentTicks(subscription.instrument, genericTicks: subscription.genericTicks)
        let sizes = Dictionary(ticks.map { ($0.tickType, $0.value) }, uniquingKeysWith: { a, _ in a })
        var priceChanged: Set<Int32> = []
        for (liveType, value) in ticks {
            let pairedPrice: Int32? = [0: 1, 3: 2, 5: 4][liveType]
            let forced = pairedPrice.map { priceChanged.contains($0) } ?? false
            guard forced || subscription.lastSent[liveType] != value else { continue }
            subscription.lastSent[liveType] = value
            let type = delayed ? (DelayedTicks.map[liveType] ?? liveType) : liveType
            recorder.record(clientId: clientId, reqId: reqId, conId: subscription.instrument.conId,
                            symbol: subscription.instrument.recordedSymbol, tickType: type, value: value)
            switch value {
            case .price(let price):
                priceChanged.insert(liveType)
                let sizeType: Int32? = [1: 0, 2: 3, 4: 5][liveType]
                var size: Double? = nil
                if let sizeType, case .size(let s)? = sizes[sizeType] { size = s }
                out.append(.tickPrice(reqId: reqId, tickType: type, price: price, size: price == nil ? 0 : size, attrMask: 0))
            case .size(let size):
                out.append(.tickSize(reqId: reqId, tickType: type, size: size))
            case .string(let text):
                out.append(.tickString(reqId: reqId, tickType: type, value: text))
            case .generic(let value):
                out.append(.tickGeneric(reqId: reqId, tickType: type, value: value))
            case .optionComputation(var computation):
                computation.reqId = reqId
                computation.tickType = type
                out.append(.tickOptionComputation(computation))
            }
        }
        counters.ticksSent += out.count
        return out
    }
}

/// Tick type numbers the simulator sends beyond prices and sizes (IB's tick types list).
enum TickTypes {
    /// TICK_GENERIC "Halted": 0 not halted, 1 general halt, 2 volatility halt.
    static let halted: Int32 = 49
}
