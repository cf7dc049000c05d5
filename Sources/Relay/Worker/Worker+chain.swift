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

    /// Asks IB for the chain of `symbol`, publishes `P:chain:SYM` and creates or updates the
    /// option window. Returns false when IB lists no chain (reported as a problem).
    func fetchChain(_ symbol: String, contract: Contract, options: SymbolSpec.OptionWindow) async throws -> Bool {
        let all = try await session.optionParameters(symbol: contract.symbol, secType: contract.secType, conId: contract.conId)
        let smart = all.filter { $0.exchange == "SMART" }
        guard let chosen = smart.first(where: { $0.tradingClass == contract.symbol }) ?? smart.first ?? all.first else {
            reportProblem(symbol, "IB lists no option chain for \(symbol)")
            return false
        }
        var chain = ChainSnapshot(symbol: symbol, expirations: chosen.expirations, strikes: chosen.strikes)
        chain.underlyingConId = chosen.underlyingConId
        chain.exchange = chosen.exchange
        chain.tradingClass = chosen.tradingClass
        chain.multiplier = chosen.multiplier
        publisher.publish(chain.record(source: .ib, updatedMs: nowMs()))
        symbols[symbol]?.chainFetchedAt = .now
        symbols[symbol]?.chainTradingClass = chosen.tradingClass
        symbols[symbol]?.chainMultiplier = chosen.multiplier
        if var window = symbols[symbol]?.window {
            if window.chainExpirations != chosen.expirations.sorted() || window.chainStrikes != chosen.strikes.sorted(),
                let price = book.referencePrice(symbol)
            {
                let change = window.updateChain(
                    expirations: chosen.expirations, strikes: chosen.strikes, underlyingPrice: price, today: today(for: symbol))
                symbols[symbol]?.window = window
                logger.info("option chain changed", metadata: ["symbol": "\(symbol)", "window": "\(change.reason)"])
            }
        } else {
            symbols[symbol]?.window = MarketData.OptionWindow(
                expirations: chosen.expirations, strikes: chosen.strikes,
                expirationsCount: options.expirations, strikesAroundATM: options.strikesAroundATM)
            logger.info("option chain", metadata: [
                "symbol": "\(symbol)", "expirations": "\(chosen.expirations.count)", "strikes": "\(chosen.strikes.count)",
            ])
        }
        return true
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
