import MarketData
import MarketModel
import TWSProtocol

extension Worker {
    /// The reqContractDetails request that names the configured instrument (issue 10 §3):
    /// a future with its month (or every month, for the front-month rule), an FX pair on
    /// IDEALPRO with its quote currency, an index on its exchange.
    static func contractRequest(_ spec: SymbolSpec) -> Contract {
        var request = Contract(
            symbol: spec.symbol, secType: spec.secType.rawValue, exchange: spec.exchange,
            primaryExchange: spec.primaryExchange ?? "", currency: spec.currency)
        if case .fixed(let month)? = spec.contractMonth { request.lastTradeDateOrContractMonth = month }
        if let multiplier = spec.multiplier { request.multiplier = multiplier }
        return request
    }

    /// The one contract of IB's answer the entry names, or nil (reported) when there is none
    /// or, for IND/FUT/CASH, the answer is ambiguous: a key must only ever hold one
    /// instrument's data.
    func chooseContract(_ symbol: String, spec: SymbolSpec, details: [ContractDetails]) -> ContractDetails? {
        guard !details.isEmpty else {
            reportProblem(symbol, "IB returned no contract for \(spec.symbol) \(spec.secType.rawValue)")
            return nil
        }
        if case .front(let days)? = spec.contractMonth {
            let dates = details.map { Self.lastTradeDate($0) }
            guard let choice = FrontMonth.choose(lastTradeDates: dates, today: today(for: symbol), rollDaysBeforeExpiry: days) else {
                reportProblem(symbol, "IB lists no \(spec.symbol) future before its roll date (front_month roll_days_before_expiry: \(days))")
                return nil
            }
            symbols[symbol]?.rollDate = choice.rollDate
            logger.info("front month", metadata: [
                "symbol": "\(symbol)", "contract": "\(details[choice.index].contract.localSymbol)", "rolls_on": "\(choice.rollDate)",
            ])
            return details[choice.index]
        }
        // A stock on SMART is taken as before (IB's first answer, narrowed by primary_exchange);
        // an index, a future or a pair must be exactly one contract.
        guard details.count == 1 || spec.secType == .stock else {
            let listed = details.prefix(5).map { $0.contract.localSymbol.isEmpty ? String($0.contract.conId) : $0.contract.localSymbol }
            reportProblem(symbol, "IB lists \(details.count) contracts for \(spec.symbol) \(spec.secType.rawValue) (\(listed.joined(separator: ", "))): name one (last_trade_date_or_contract_month, multiplier, exchange)")
            return nil
        }
        return details[0]
    }

    /// A future's last trading day from CONTRACT_DATA: `lastTradeDateOrContractMonth` (time
    /// and zone after a space or dash removed by the decoder), else `realExpirationDate`.
    static func lastTradeDate(_ details: ContractDetails) -> String {
        let text = details.contract.lastTradeDateOrContractMonth
        return text.count >= 8 ? String(text.prefix(8)) : details.realExpirationDate
    }

    /// The quote record's identity fields for a non-stock instrument (stocks keep CONTRACT
    /// §3's record exactly).
    static func quoteIdentity(_ symbol: String, spec: SymbolSpec, contract: Contract) -> QuoteSnapshot? {
        guard spec.secType != .stock else { return nil }
        var q = QuoteSnapshot(symbol: symbol)
        q.secType = spec.secType.rawValue
        q.conId = contract.conId
        q.localSymbol = contract.localSymbol.isEmpty ? nil : contract.localSymbol
        switch spec.secType {
        case .future:
            q.contractMonth = String(contract.lastTradeDateOrContractMonth.prefix(6))
            q.multiplier = Double(contract.multiplier)
        case .cash:
            q.currency = spec.currency
        case .index, .stock:
            break
        }
        return q
    }

    /// Rolls a `front_month` future on its roll date: its quote and option lines are
    /// cancelled, and the next month is resolved and subscribed under the same `SYM.FRONT`
    /// key (`con_id`, `local_symbol` and `contract_month` in the record say which contract).
    func rollFrontMonthIfDue(_ symbol: String) async {
        guard let rollDate = symbols[symbol]?.rollDate, FrontMonth.rollIsDue(rollDate: rollDate, today: today(for: symbol)), !stopping else { return }
        logger.notice("front month rolls", metadata: ["symbol": "\(symbol)", "roll_date": "\(rollDate)"])
        for id in book.subscriptions(of: symbol) {
            session.unsubscribe(id)
            book.remove(id)
        }
        symbols[symbol]?.rollDate = nil
        symbols[symbol]?.contract = nil
        symbols[symbol]?.windows = [:]
        symbols[symbol]?.chainClasses = [:]
        symbols[symbol]?.missingOptions = []
        symbols[symbol]?.chainFetchedAt = nil
        await resolve(symbol)
        if let state = symbols[symbol], let contract = state.contract, let options = state.spec.options {
            await setUpChain(symbol, contract: contract, options: options)
        }
    }
}
