/// One entry of `symbols`: what to request from IB (the contract fields) and whether to follow
/// its option chain. In YAML an entry is either `"AAPL"` (a stock on SMART in USD, no options)
/// or a map with the fields below.
public struct SymbolSpec: Sendable, Equatable, Hashable {
    /// The symbol as IB spells it; also the `SYM` of the Redis keys.
    public var symbol: String
    /// `sec_type` [STK]: `STK` or `IND` (option chains need one of these), `FUT`, `CASH`.
    public var secType: SecurityType = .stock
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
        options: OptionWindow? = nil
    ) {
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

        /// Only stocks and indexes have the option chains `reqSecDefOptParams` describes.
        public var hasOptionChains: Bool { self == .stock || self == .index }
    }

    /// Which part of the chain to follow: the nearest expirations, and strikes on each side of
    /// the at-the-money strike.
    public struct OptionWindow: Sendable, Equatable, Hashable {
        /// `options.expirations` [2]: the nearest N expirations.
        public var expirations = 2
        /// `options.strikes_around_atm` [5]: strikes above and below the money, per expiration.
        public var strikesAroundATM = 5

        public init(expirations: Int = 2, strikesAroundATM: Int = 5) {
            self.expirations = expirations
            self.strikesAroundATM = strikesAroundATM
        }

        /// Market data lines the window takes: calls and puts on `2 * strikes + 1` strikes for
        /// each expiration.
        public var marketDataLines: Int { expirations * (2 * strikesAroundATM + 1) * 2 }
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
