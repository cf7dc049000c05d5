/// One entry of `symbols`: what to request from IB (the contract fields) and whether to follow
/// its option chain. In YAML an entry is either `"AAPL"` (a stock on SMART in USD, no options)
/// or a map with the fields below.
public struct SymbolSpec: Sendable, Equatable, Hashable {
    /// The symbol as IB spells it (`AAPL`, `SPX`, `ES`, `EUR`); the `SYM` of the Redis keys is
    /// `keySymbol`, which adds what else names the instrument (see `SymbolSpec+identity.swift`).
    public var symbol: String
    /// `sec_type` [STK]: `STK` (stocks and ETFs: IB has no separate ETF type), `IND`, `FUT`,
    /// `CASH`. Options (`OPT` on STK/IND, `FOP` on FUT) are followed through `options`.
    public var secType: SecurityType = .stock
    /// `last_trade_date_or_contract_month` (IB's `lastTradeDateOrContractMonth`) or
    /// `front_month`: which future. Required for `FUT`, refused for every other type.
    public var contractMonth: ContractMonth?
    /// `multiplier` [none]: IB's contract multiplier, to disambiguate a future (ES: 50).
    public var multiplier: String?
    /// `alphavantage_symbol` [none]: the explicit fallback mapping; see `alphaVantageFallback`.
    public var alphaVantageMapping: AlphaVantageMapping?
    /// `exchange` [SMART].
    public var exchange = "SMART"
    /// `currency` [USD]: three letters.
    public var currency = "USD"
    /// `primary_exchange` [none]: disambiguates SMART-routed stocks listed on several venues.
    public var primaryExchange: String?
    /// `options` [none]: follow the option chain around the money; absent means quotes only.
    public var options: OptionWindow?

    public init(
        symbol: String,
        secType: SecurityType = .stock,
        exchange: String = "SMART",
        currency: String = "USD",
        primaryExchange: String? = nil,
        options: OptionWindow? = nil,
        contractMonth: ContractMonth? = nil,
        multiplier: String? = nil,
        alphaVantageMapping: AlphaVantageMapping? = nil
    ) {
        self.contractMonth = contractMonth
        self.multiplier = multiplier
        self.alphaVantageMapping = alphaVantageMapping
        self.symbol = symbol
        self.secType = secType
        self.exchange = exchange
        self.currency = currency
        self.primaryExchange = primaryExchange
        self.options = options
    }

    /// IB's security types that make sense for a quote relay.
    public enum SecurityType: String, Sendable, Equatable, Hashable, CaseIterable {
        case stock = "STK"
        case index = "IND"
        case future = "FUT"
        case cash = "CASH"

        /// Stocks and indexes have `OPT` chains, futures `FOP` chains (`reqSecDefOptParams`
        /// answers all three); FX has none on IDEALPRO.
        public var hasOptionChains: Bool { self != .cash }

        /// The security type of the options on this underlying: `OPT` on STK/IND, `FOP` on FUT.
        public var optionSecType: String? {
            switch self {
            case .stock, .index: "OPT"
            case .future: "FOP"
            case .cash: nil
            }
        }
    }

    /// Which part of the chain to follow, for EVERY trading class IB lists (SPX and SPXW) or
    /// the ones named: the nearest expirations (by count and/or days to expiry) and strikes on
    /// each side of each class's at-the-money strike.
    public struct OptionWindow: Sendable, Equatable, Hashable {
        /// `options.expirations` [2, or 24 with a days-to-expiry range]: at most the nearest N
        /// expirations per trading class.
        public var expirations = 2
        /// `options.strikes_around_atm` [5]: strikes above and below the money, per expiration.
        public var strikesAroundATM = 5
        /// `options.min_days_to_expiry` / `options.max_days_to_expiry` [none]: calendar days from
        /// the exchange's today; `0...0` is 0DTE. nil: no range, the count alone decides.
        public var daysToExpiry: ClosedRange<Int>?
        /// `options.trading_classes` [all]: e.g. `[SPXW]`; empty follows every class IB lists.
        public var tradingClasses: [String] = []

        public init(
            expirations: Int = 2, strikesAroundATM: Int = 5, daysToExpiry: ClosedRange<Int>? = nil,
            tradingClasses: [String] = []
        ) {
            self.expirations = expirations
            self.strikesAroundATM = strikesAroundATM
            self.daysToExpiry = daysToExpiry
            self.tradingClasses = tradingClasses
        }

        /// Market data lines the window takes per trading class: calls and puts on
        /// `2 * strikes + 1` strikes for each expiration (an upper bound with a DTE range).
        public var marketDataLines: Int { expirations * (2 * strikesAroundATM + 1) * 2 * max(1, tradingClasses.count) }
    }
}

extension SymbolSpec {
    /// Symbols end up in Redis key names and pub/sub patterns, so a colon or a glob character
    /// would make keys ambiguous: only letters, digits, space (IB's `BRK B`), `.`, `-`, `/`, `^`.
    static func symbolProblem(_ symbol: String) -> String? {
        if symbol.isEmpty { return "must not be empty" }
        if symbol != symbol.trimmingSpaces { return "must not start or end with a space" }
        let allowed = symbol.unicodeScalars.allSatisfy { scalar in
            (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)))
                || " .-/^".unicodeScalars.contains(scalar)
        }
        if !allowed { return "may contain only letters, digits, space, '.', '-', '/', '^'" }
        if symbol.count > 32 { return "is longer than 32 characters" }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
