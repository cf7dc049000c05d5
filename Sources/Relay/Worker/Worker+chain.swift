import IBSession
import MarketData
import MarketModel
import TWSProtocol

extension Worker {
    /// How often the option chain is asked for again: often enough that `P:chain:SYM` never
    /// outlives its TTL (`redis.chain_ttl_seconds`: the chain is written once, so without a
    /// refresh it expired a day after start-up) and that a newly listed expiration or strike
    /// appears within the hour, as IB lists new weeklies during the day.
    var chainRefreshInterval: Duration {
        min(configuration.publisher.chainTTL / 2, .seconds(3600))
    }

    /// Asks IB for the chain of `symbol` (every trading class: SPX and SPXW; ES, EW, EW1 on a
    /// future), publishes `P:chain:SYM` and creates or updates one option window per class.
    /// Returns false when IB lists no chain (reported as a problem).
    func fetchChain(_ symbol: String, contract: Contract, options: SymbolSpec.OptionWindow) async throws -> Bool {
        guard let spec = symbols[symbol]?.spec else { return false }
        // A requested window may have been resized while its set-up waited: the spec decides.
        let options = spec.options ?? options
        // FOP chains are listed per futures exchange; stock and index chains with "" (IB's
        // reqSecDefOptParams: futFopExchange is for FOP only).
        let futFopExchange = spec.secType == .future ? contract.exchange : ""
        let all = try await session.optionParameters(
            symbol: contract.symbol, secType: contract.secType, conId: contract.conId, futFopExchange: futFopExchange)
        var builder = OptionChainBuilder(symbol: symbol)
        for p in all { builder.add(p) }
        let root = Self.optionKeyRoot(spec: spec, contract: contract)
        guard
            let chain = builder.chainWithClasses(
                exchange: spec.secType == .future ? contract.exchange : "SMART", only: options.tradingClasses,
                primaryClass: contract.symbol, root: root)
        else {
            let named = options.tradingClasses.isEmpty ? "" : " in trading classes \(options.tradingClasses.joined(separator: ","))"
            reportProblem(symbol, "IB lists no option chain for \(symbol)\(named)")
            return false
        }
        publisher.publish(chain.record(source: .ib, updatedMs: nowMs()))
        symbols[symbol]?.chainFetchedAt = .now
        symbols[symbol]?.chainClasses = Dictionary(chain.classes.map { ($0.tradingClass, $0) }, uniquingKeysWith: { a, _ in a })
        let today = today(for: symbol)
        let price = book.referencePrice(symbol)
        var windows = symbols[symbol]?.windows ?? [:]
        for listed in chain.classes {
            let keyClass = listed.root.isEmpty ? "" : listed.tradingClass
            if var window = windows[listed.tradingClass] {
                guard window.chainExpirations != listed.expirations || window.chainStrikes != listed.strikes, let price else { continue }
                let change = window.updateChain(expirations: listed.expirations, strikes: listed.strikes, underlyingPrice: price, today: today)
                windows[listed.tradingClass] = window
                logger.info("option chain changed", metadata: ["symbol": "\(symbol)", "class": "\(listed.tradingClass)", "window": "\(change.reason)"])
            } else {
                windows[listed.tradingClass] = MarketData.OptionWindow(
                    expirations: listed.expirations, strikes: listed.strikes, expirationsCount: options.expirations,
                    strikesAroundATM: options.strikesAroundATM, daysToExpiry: options.daysToExpiry, tradingClass: keyClass,
                    root: listed.root)
                logger.info("option chain", metadata: [
                    "symbol": "\(symbol)", "class": "\(listed.tradingClass)", "multiplier": "\(listed.multiplier)",
                    "expirations": "\(listed.expirations.count)", "strikes": "\(listed.strikes.count)",
                ])
            }
        }
        // A class IB no longer lists (or the configuration left out) has no window.
        for tradingClass in windows.keys where symbols[symbol]?.chainClasses[tradingClass] == nil {
            windows[tradingClass] = nil
        }
        symbols[symbol]?.windows = windows
        return true
    }

    /// The key `SYM` of an underlying's options per trading class (README "Key grammar"):
    /// empty (the underlying's own key symbol, as today) for a stock's own class; the trading
    /// class for every other `OPT` class (`SPX`, `SPXW`); `CLASS.YYYYMM` of the underlying
    /// future for `FOP` (`ES.202612`, `EW1.202612`), which also names which future they are on.
    static func optionKeyRoot(spec: SymbolSpec, contract: Contract) -> (String) -> String {
        let month = String(contract.lastTradeDateOrContractMonth.prefix(6))
        let keySymbol = spec.keySymbol
        let isFuture = spec.secType == .future
        return { tradingClass in
            if isFuture { return "\(tradingClass).\(month)" }
            return tradingClass == keySymbol ? "" : tradingClass
        }
    }

    /// Re-lists the chain once `chainRefreshInterval` has passed; a failure (IB away) is
    /// retried at the next re-centring, and the key keeps its last value meanwhile.
    func refreshChainIfDue(_ symbol: String) async {
        guard let state = symbols[symbol], let contract = state.contract, let options = state.spec.options,
            let fetched = state.chainFetchedAt, ContinuousClock.now - fetched >= chainRefreshInterval
        else { return }
        do {
            _ = try await fetchChain(symbol, contract: contract, options: options)
        } catch {
            logger.debug("option chain refresh failed; retried later", metadata: ["symbol": "\(symbol)", "error": "\(error)"])
        }
    }
}
