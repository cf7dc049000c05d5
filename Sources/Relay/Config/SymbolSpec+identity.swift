// Instrument identity: which instrument a configured symbol names, the Redis key symbol that
// names it unambiguously, and which Alpha Vantage symbol (if any) is the SAME instrument.
//
// A key must only ever hold data of the instrument it names (issue 10 §3): `ES` is a CME future
// at IB and Eversource Energy's stock at Alpha Vantage, so the fallback is never "the same
// spelling" except for stocks and ETFs.

extension SymbolSpec {
    /// Which future a `FUT` entry follows (IB's `lastTradeDateOrContractMonth`).
    public enum ContractMonth: Sendable, Equatable, Hashable {
        /// `YYYYMM` (the contract month, e.g. `202612`) or `YYYYMMDD` (the last trading day).
        case fixed(String)
        /// The front month, resolved from IB's contract details (every listed month of the
        /// symbol on the exchange) and rolled to the next month `rollDaysBeforeExpiry` calendar
        /// days before the front contract's last trading day.
        case front(rollDaysBeforeExpiry: Int)

        /// `202612`, `20261218` or `FRONT`: the tail of the key symbol.
        public var keyTail: String {
            switch self {
            case .fixed(let text): text
            case .front: "FRONT"
            }
        }
    }

    /// `alphavantage_symbol` in a symbol entry: the user's explicit statement of which Alpha
    /// Vantage symbol is the same instrument, or that none is.
    public enum AlphaVantageMapping: Sendable, Equatable, Hashable {
        /// GLOBAL_QUOTE / REALTIME_BULK_QUOTES with this symbol (e.g. `BRK.B` for IB's `BRK B`).
        case symbol(String)
        /// `alphavantage_symbol: none`: never fall back for this instrument.
        case none
    }

    /// The `SYM` of `P:quote:SYM` and `P:chain:SYM` for this entry (README "Key grammar"):
    /// - `STK` (stocks, ETFs) and `IND`: the symbol, exactly as today (`AAPL`, `SPX`);
    /// - `FUT`: `SYMBOL.YYYYMM` / `SYMBOL.YYYYMMDD` as configured, or `SYMBOL.FRONT` for the
    ///   rolled front month (`ES.202612`, `ES.FRONT`);
    /// - `CASH`: `BASE.QUOTE`, IB's local symbol for FX pairs (`EUR.USD`).
    /// Two entries with the same key symbol are refused by `check-config`.
    public var keySymbol: String {
        switch secType {
        case .stock, .index: symbol
        case .future: "\(symbol).\(contractMonth?.keyTail ?? "FRONT")"
        case .cash: "\(symbol).\(currency)"
        }
    }

    /// Where failover may take this instrument's quote from.
    public enum AlphaVantageFallback: Sendable, Equatable, Hashable {
        /// GLOBAL_QUOTE / REALTIME_BULK_QUOTES for this Alpha Vantage symbol.
        case globalQuote(symbol: String)
        /// CURRENCY_EXCHANGE_RATE `from_currency` / `to_currency`: the same FX pair.
        case exchangeRate(from: String, to: String)
        /// No Alpha Vantage instrument is this one: the key is flagged stale with `reason`
        /// (for the status hash and the log), never filled with another instrument.
        case unavailable(reason: String)

        /// The reason when there is no fallback, else nil.
        public var unavailableReason: String? {
            if case .unavailable(let reason) = self { return reason }
            return nil
        }
    }

    /// Which Alpha Vantage instrument is the SAME as this one, or none and why. Pure.
    ///
    /// - Stocks and ETFs (`STK`) in USD: the same ticker by default (IB's share-class space
    ///   becomes Alpha Vantage's dot: `BRK B` -> `BRK.B`), or the explicit mapping.
    /// - Anything else only through an explicit `alphavantage_symbol` the user wrote: Alpha
    ///   Vantage's GLOBAL_QUOTE knows equities, and the same letters there are a different
    ///   instrument (`ES` is Eversource Energy, `SPX` is not the S&P 500 index).
    /// - `CASH`: Alpha Vantage's FX endpoint (CURRENCY_EXCHANGE_RATE) when `fxEnabled`
    ///   (`alphavantage.fx`): it quotes the same pair (a bid/ask/mid, no last or volume,
    ///   just as IDEALPRO).
    /// - `alphavantage_symbol: none` switches the fallback off for any type.
    public func alphaVantageFallback(fxEnabled: Bool) -> AlphaVantageFallback {
        switch alphaVantageMapping {
        case .none?:
            return .unavailable(reason: "alphavantage_symbol is none for \(keySymbol)")
        case .symbol(let mapped)?:
            return .globalQuote(symbol: mapped)
        case nil:
            break
        }
        switch secType {
        case .stock:
            guard currency == "USD" else {
                return .unavailable(reason: "\(keySymbol) trades in \(currency); Alpha Vantage's quote for \(symbol) may be another listing (set alphavantage_symbol)")
            }
            return .globalQuote(symbol: symbol.replacingSpaces(with: "."))
        case .cash:
            guard fxEnabled else {
                return .unavailable(reason: "FX pair \(keySymbol): Alpha Vantage's FX endpoint is off (alphavantage.fx)")
            }
            return .exchangeRate(from: symbol, to: currency)
        case .index:
            return .unavailable(reason: "index \(keySymbol) has no Alpha Vantage equivalent (set alphavantage_symbol to map one explicitly)")
        case .future:
            return .unavailable(reason: "future \(keySymbol) has no Alpha Vantage equivalent (set alphavantage_symbol to map one explicitly)")
        }
    }

    /// Whether Alpha Vantage's REALTIME_OPTIONS (US equity options) lists this underlying's
    /// options: only for stocks and ETFs, under the same symbol as the quote fallback. Index
    /// options (SPX, SPXW) and options on futures have no equivalent there.
    public func alphaVantageOptionsSymbol(fxEnabled: Bool) -> String? {
        guard secType == .stock, case .globalQuote(let symbol) = alphaVantageFallback(fxEnabled: fxEnabled) else { return nil }
        return symbol
    }
}

extension String {
    func replacingSpaces(with replacement: Character) -> String {
        String(map { $0 == " " ? replacement : $0 })
    }
}
