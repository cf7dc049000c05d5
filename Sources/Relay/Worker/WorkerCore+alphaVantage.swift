import AlphaVantage
import Logging
import MarketModel

extension WorkerCore {
    /// How Alpha Vantage stands in for one served instrument (README "Failover"): only the
    /// same instrument may be written under its key.
    struct Fallback: Sendable, Hashable {
        /// The key symbol (`AAPL`, `EUR.USD`).
        var symbol: String
        /// What the poller calls it: the GLOBAL_QUOTE symbol (`BRK B` for BRK.B) or the FX
        /// pair's `EUR/USD` (`CurrencyPair.symbol`).
        var name: String
        /// The pair CURRENCY_EXCHANGE_RATE is asked for, for an FX instrument.
        var pair: CurrencyPair?
        /// The REALTIME_OPTIONS symbol, when `alphavantage.options` is on and the instrument
        /// has options there.
        var optionsSymbol: String?
    }

    /// The Alpha Vantage names to poll: those of the symbols in failover, in served order (FX
    /// pairs separately: CURRENCY_EXCHANGE_RATE, in the same round and budget); options only
    /// for symbols in `optionWindows` (their windows are known).
    func pollerSymbols(optionWindows: Set<String>) -> (quotes: [String], options: [String], pairs: [CurrencyPair]) {
        let inFailover = fallbacks.filter { failedOver.contains($0.symbol) }
        let pairs = inFailover.compactMap(\.pair)
        let quotes = inFailover.filter { $0.pair == nil }.map(\.name)
        let options = inFailover.filter { optionWindows.contains($0.symbol) }.compactMap(\.optionsSymbol)
        return (quotes, options, pairs)
    }

    /// The key symbols in failover that Alpha Vantage's `name` stands in for.
    func keySymbols(forAlphaVantage name: String) -> [String] {
        fallbacks.filter { $0.name == name && failedOver.contains($0.symbol) }.map(\.symbol)
    }

    /// An Alpha Vantage answer: written only for symbols in failover, only under the keys IB
    /// served, and only while active (a poll may end after the term did).
    func alphaVantageAnswered(_ answer: AlphaVantagePollEvent, _ out: inout [Action]) {
        guard active else { return }
        switch answer {
        case .quotes(let quotes):
            out.append(.metric(.alphaVantageRequest(function: quotes.count > 1 ? "REALTIME_BULK_QUOTES" : "GLOBAL_QUOTE")))
            for quote in quotes {
                for key in keySymbols(forAlphaVantage: quote.symbol) { out.append(.writeAlphaVantageQuote(quote, key: key)) }
            }
        case .exchangeRate(let quote):
            out.append(.metric(.alphaVantageRequest(function: "CURRENCY_EXCHANGE_RATE")))
            for key in keySymbols(forAlphaVantage: quote.symbol) { out.append(.writeAlphaVantageRate(quote, key: key)) }
        case let .options(name, options):
            out.append(.metric(.alphaVantageRequest(function: "REALTIME_OPTIONS")))
            if let key = keySymbols(forAlphaVantage: name).first { out.append(.writeAlphaVantageOptions(options, key: key)) }
        case let .failure(request, error):
            out.append(.metric(.alphaVantageRequest(function: request.function)))
            out.append(.metric(.alphaVantageError(kind: error.code)))
            out.append(.log(LogLine(level: .debug, message: "Alpha Vantage request failed", metadata: [
                "request": "\(request)", "error": "\(error)",
            ])))
        }
    }
}
