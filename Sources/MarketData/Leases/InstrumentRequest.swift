/// One instrument an application asks for at runtime, parsed from the `<instrument spec>` of a
/// lease (README "Subscriptions at runtime"). Pure: no I/O.
///
/// Grammar (case-insensitive, canonicalised to upper case):
/// ```
/// spec    = [sectype ":"] symbol ["@" exchange] ["#options=" expirations "x" strikes]
/// sectype = "STK" | "IND" | "FUT" | "CASH"          (default STK: stocks and ETFs)
/// symbol  = STK/IND: IB's symbol (AAPL, SPX, BRK B)
///           FUT: SYMBOL.YYYYMM or SYMBOL.YYYYMMDD  (ES.202612)
///           CASH: BASE.QUOTE                         (EUR.USD)
/// ```
/// Examples: `AAPL`, `STK:SPY`, `IND:SPX@CBOE`, `FUT:ES.202612@CME`, `CASH:EUR.USD`,
/// `STK:SPY#options=2x5`. The key symbol (the `SYM` of `P:quote:SYM`) is the same as for a YAML
/// entry naming the same instrument, so a request for a pinned instrument is served by its line.
public struct InstrumentRequest: Sendable, Hashable, CustomStringConvertible {
    /// IB's security types that can be requested at runtime (IB has no separate ETF type).
    public enum SecurityType: String, Sendable, Hashable, CaseIterable {
        case stock = "STK"
        case index = "IND"
        case future = "FUT"
        case cash = "CASH"
    }

    /// An option window on the requested underlying: the nearest `expirations` expirations and
    /// `strikesAroundATM` strikes on each side of the money, calls and puts.
    public struct Options: Sendable, Hashable {
        public var expirations: Int
        public var strikesAroundATM: Int
        /// Lines the window takes: calls and puts on `2 * strikes + 1` strikes per expiration.
        public var lines: Int { expirations * (2 * strikesAroundATM + 1) * 2 }
        /// The largest window accepted: anything wider is "absurd" (README).
        public static let maxExpirations = 12
        public static let maxStrikesAroundATM = 25

        public init(expirations: Int, strikesAroundATM: Int) {
            self.expirations = expirations
            self.strikesAroundATM = strikesAroundATM
        }

        /// Whether this window selects every option `other` selects. Windows of one
        /// underlying nest: both take the nearest expirations and the strikes around the same
        /// money, so the wider count in each dimension covers the narrower one.
        public func covers(_ other: Options) -> Bool {
            expirations >= other.expirations && strikesAroundATM >= other.strikesAroundATM
        }

        /// The smallest window covering both (README: a line's window is the union of the
        /// windows its leases ask for).
        public func union(_ other: Options) -> Options {
            Options(expirations: max(expirations, other.expirations), strikesAroundATM: max(strikesAroundATM, other.strikesAroundATM))
        }

        /// `a` covers `b` (no window is covered by anything; a window is not covered by none).
        public static func covers(_ a: Options?, _ b: Options?) -> Bool {
            guard let b else { return true }
            guard let a else { return false }
            return a.covers(b)
        }

        /// The union of two optional windows (nil: quote only).
        public static func union(_ a: Options?, _ b: Options?) -> Options? {
            guard let a else { return b }
            guard let b else { return a }
            return a.union(b)
        }

        /// `a` cut down to what `bound` selects (component-wise minimum; nil when either is nil).
        static func clip(_ a: Options?, to bound: Options?) -> Options? {
            guard let a, let bound else { return nil }
            return Options(expirations: min(a.expirations, bound.expirations), strikesAroundATM: min(a.strikesAroundATM, bound.strikesAroundATM))
        }
    }

    /// The same instrument with another option window (nil: the quote alone).
    public func with(options: Options?) -> InstrumentRequest {
        var copy = self
        copy.options = options
        return copy
    }

    public var secType: SecurityType
    /// The symbol as IB spells it (`ES` for `FUT:ES.202612`, `EUR` for `CASH:EUR.USD`).
    public var symbol: String
    /// IB's exchange: SMART for stocks, IDEALPRO for FX, as given for indexes and futures.
    public var exchange: String
    /// Quote currency: USD except for FX pairs (the pair's second half).
    public var currency: String
    /// FUT only: `YYYYMM` or `YYYYMMDD` (IB's `lastTradeDateOrContractMonth`).
    public var contractMonth: String?
    public var options: Options?

    /// The `SYM` of `P:quote:SYM`: `AAPL`, `SPX`, `ES.202612`, `EUR.USD`.
    public var keySymbol: String {
        switch secType {
        case .stock, .index: symbol
        case .future: "\(symbol).\(contractMonth ?? "")"
        case .cash: "\(symbol).\(currency)"
        }
    }

    /// Which instrument this is, beyond its key symbol: `STK` and `IND` share the bare
    /// symbol as key (`SPX`), so two requests (or a request and a pinned entry) with the same
    /// key but another identity must never share a line or a key.
    public var identity: String {
        Self.identity(secType: secType.rawValue, symbol: symbol, exchange: exchange, currency: currency, contractMonth: contractMonth)
    }

    /// The identity of any instrument (a YAML entry too): `STK:AAPL:USD`, `IND:SPX@CBOE`,
    /// `FUT:ES.202612@CME`, `CASH:EUR.USD`.
    public static func identity(secType: String, symbol: String, exchange: String, currency: String, contractMonth: String?) -> String {
        switch secType {
        case "STK": "STK:\(symbol):\(currency)"
        case "CASH": "CASH:\(symbol).\(currency)"
        case "FUT": "FUT:\(symbol).\(contractMonth ?? "")@\(exchange)"
        default: "\(secType):\(symbol)@\(exchange)"
        }
    }

    /// Market data lines the request takes when served: the quote plus the option window.
    public var linesNeeded: Int { 1 + (options?.lines ?? 0) }

    public var description: String {
        var text = "\(secType.rawValue):\(keySymbol)"
        if secType == .index || secType == .future { text += "@\(exchange)" }
        if let options { text += "#options=\(options.expirations)x\(options.strikesAroundATM)" }
        return text
    }

    /// The longest spec accepted (it becomes part of a Redis key name).
    public static let maxSpecLength = 100

    /// Parses a spec; the failure is the reason given in the request's `refused` status.
    public static func parse(_ text: String) -> Result<InstrumentRequest, Refusal> {
        guard !text.isEmpty else { return .failure(.invalid("the instrument spec is empty")) }
        guard text.count <= maxSpecLength else { return .failure(.invalid("the instrument spec is longer than \(maxSpecLength) characters")) }
        var rest = Substring(text.uppercased())
        var options: Options?
        if let hash = rest.firstIndex(of: "#") {
            let tail = rest[rest.index(after: hash)...]
            rest = rest[..<hash]
            switch parseOptions(tail) {
            case .success(let window): options = window
            case .failure(let refusal): return .failure(refusal)
            }
        }
        var secType = SecurityType.stock
        if let colon = rest.firstIndex(of: ":") {
            let head = String(rest[..<colon])
            guard let type = SecurityType(rawValue: head) else {
                return .failure(.invalid("unknown security type '\(head)' (STK, IND, FUT or CASH; options through '#options=EXPxSTRIKES')"))
            }
            secType = type
            rest = rest[rest.index(after: colon)...]
        }
        var exchange: String?
        if let at = rest.firstIndex(of: "@") {
            let name = String(rest[rest.index(after: at)...])
            guard !name.isEmpty, name.count <= 16, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                return .failure(.invalid("exchange '\(name)' must be 1-16 letters or digits"))
            }
            exchange = name
            rest = rest[..<at]
        }
        let symbolText = String(rest)
        if let problem = symbolProblem(symbolText) { return .failure(.invalid("symbol '\(symbolText)' \(problem)")) }
        var request = InstrumentRequest(
            secType: secType, symbol: symbolText, exchange: exchange ?? "SMART", currency: "USD", contractMonth: nil, options: options)
        switch secType {
        case .stock:
            break
        case .index:
            guard exchange != nil else { return .failure(.invalid("an index needs its exchange: IND:\(symbolText)@EXCHANGE (e.g. IND:SPX@CBOE)")) }
        case .future:
            guard let dot = symbolText.lastIndex(of: "."), exchange != nil else {
                return .failure(.invalid("a future is FUT:SYMBOL.YYYYMM@EXCHANGE (e.g. FUT:ES.202612@CME)"))
            }
            let month = String(symbolText[symbolText.index(after: dot)...])
            guard (month.count == 6 || month.count == 8), month.allSatisfy(\.isNumber), let m = Int(month.dropFirst(4).prefix(2)), (1...12).contains(m) else {
                return .failure(.invalid("contract month '\(month)' must be YYYYMM or YYYYMMDD"))
            }
            request.symbol = String(symbolText[..<dot])
            request.contractMonth = month
        case .cash:
            let parts = symbolText.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ $0.count == 3 && $0.allSatisfy(\.isLetter) }), exchange == nil || exchange == "IDEALPRO" else {
                return .failure(.invalid("an FX pair is CASH:BASE.QUOTE with three-letter currencies (e.g. CASH:EUR.USD)"))
            }
            guard options == nil else { return .failure(.invalid("FX pairs have no option chain on IDEALPRO")) }
            request.symbol = String(parts[0])
            request.currency = String(parts[1])
            request.exchange = "IDEALPRO"
        }
        if request.symbol.isEmpty { return .failure(.invalid("the symbol is empty")) }
        return .success(request)
    }

    private static func parseOptions(_ tail: Substring) -> Result<Options, Refusal> {
        guard tail.hasPrefix("OPTIONS=") else { return .failure(.invalid("after '#' only 'options=EXPIRATIONSxSTRIKES' is known")) }
        let value = tail.dropFirst("OPTIONS=".count)
        let parts = value.split(separator: "X", omittingEmptySubsequences: false)
        guard parts.count == 2, let e = Int(parts[0]), let s = Int(parts[1]) else {
            return .failure(.invalid("option window '\(value.lowercased())' must be EXPIRATIONSxSTRIKES (e.g. 2x5)"))
        }
        guard (1...Options.maxExpirations).contains(e), (1...Options.maxStrikesAroundATM).contains(s) else {
            return .failure(.invalid(
                "absurd option window \(e)x\(s): expirations must be 1-\(Options.maxExpirations), strikes around the money 1-\(Options.maxStrikesAroundATM)"))
        }
        return .success(Options(expirations: e, strikesAroundATM: s))
    }

    /// The same rule as a YAML symbol (Relay's `SymbolSpec.symbolProblem`): symbols end up in
    /// Redis key names and channel patterns, so no colon, `|` or glob character.
    static func symbolProblem(_ symbol: String) -> String? {
        if symbol.isEmpty { return "must not be empty" }
        if symbol.first == " " || symbol.last == " " { return "must not start or end with a space" }
        let allowed = symbol.unicodeScalars.allSatisfy { scalar in
            (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))) || " .-/^".unicodeScalars.contains(scalar)
        }
        if !allowed { return "may contain only letters, digits, space, '.', '-', '/', '^'" }
        if symbol.count > 32 { return "is longer than 32 characters" }
        return nil
    }

    /// Why a request is refused: the `reason` field of its status (README).
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// Malformed spec, absurd option window (`invalid request`).
        case invalid(String)
        /// IB does not know the contract (200) or lists several.
        case unknownContract(String)
        /// IB refuses the data (354, 10089, ...).
        case noPermission(String)
        /// A limit of this worker: rate, per-requester maximum, more lines than exist.
        case notAllowed(String)

        /// `invalid request`, `unknown contract`, `no permission`, `not allowed`.
        public var category: String {
            switch self {
            case .invalid: "invalid request"
            case .unknownContract: "unknown contract"
            case .noPermission: "no permission"
            case .notAllowed: "not allowed"
            }
        }

        public var detail: String {
            switch self {
            case .invalid(let d), .unknownContract(let d), .noPermission(let d), .notAllowed(let d): d
            }
        }

        /// `category: detail`, as written to the status hash's `reason`.
        public var description: String { "\(category): \(detail)" }
    }
}
