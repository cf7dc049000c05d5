import Yams

extension ConfigDecoder {
    /// `symbols` from a flag or `SYMBOLS` (comma-separated plain symbols), else from the file's
    /// list, whose entries may be strings or maps.
    mutating func decodeSymbols() -> [SymbolSpec] {
        let path = "symbols"
        var specs: [SymbolSpec] = []
        var source = ConfigValueSource.defaultValue
        if let (items, listSource) = rawList(path), listSource != .file {
            source = listSource
            for (index, item) in items.enumerated() {
                if let spec = symbol(item, at: "\(path)[\(index)]", source: source) { specs.append(spec) }
            }
        } else if let node = symbolsNode, node.null == nil {
            source = .file
            if let sequence = node.sequence {
                for (index, entry) in sequence.enumerated() {
                    if let spec = symbolEntry(entry, at: "\(path)[\(index)]") { specs.append(spec) }
                }
            } else if let text = node.scalar?.string {
                for (index, item) in YAMLConfigFile.splitList(text).enumerated() {
                    if let spec = symbol(item, at: "\(path)[\(index)]", source: source) { specs.append(spec) }
                }
            } else {
                problem(path, nil, source, "expected a list of symbols")
            }
        }
        if specs.isEmpty, !problems.contains(where: { $0.keyPath.hasPrefix(path) }) {
            problem(path, nil, source, "at least one symbol is required")
        }
        var seen: Set<String> = []
        for spec in specs where !seen.insert(spec.keySymbol).inserted {
            problem(path, spec.keySymbol, source, "instrument \(spec.keySymbol) is listed twice (its Redis keys would collide)")
        }
        for spec in specs {
            record(path, Self.render(spec), source)
        }
        return specs
    }

    private mutating func symbol(_ text: String, at path: String, source: ConfigValueSource) -> SymbolSpec? {
        if let reason = SymbolSpec.symbolProblem(text) {
            problem(path, text, source, "symbol \(reason)")
            return nil
        }
        // One rule (README "Configuration"): symbols are IB's, which are upper-case; `aapl` is
        // AAPL, so it names the same key and a second entry for it is a duplicate.
        return SymbolSpec(symbol: text.uppercased())
    }

    private mutating func symbolEntry(_ node: Node, at path: String) -> SymbolSpec? {
        if let text = node.scalar?.string { return symbol(text, at: path, source: .file) }
        guard let map = node.mapping else {
            problem(path, nil, .file, "expected a symbol or a map with 'symbol'")
            return nil
        }
        var fields: [String: Node] = [:]
        for (key, value) in map {
            guard let name = key.string else { continue }
            if !ConfigKeyCatalog.symbolFields.contains(name) {
                problem("\(path).\(name)", value.scalar?.string, .file, ConfigKeyCatalog.unknownFieldReason(name, known: ConfigKeyCatalog.symbolFields))
                continue
            }
            if value.null == nil { fields[name] = value }
        }
        guard let symbolText = fields["symbol"]?.scalar?.string else {
            problem("\(path).symbol", nil, .file, "is required in a map entry")
            return nil
        }
        guard var spec = symbol(symbolText, at: "\(path).symbol", source: .file) else { return nil }
        let before = problems.count
        if let text = scalarField(fields, "sec_type", at: path) {
            if let type = SymbolSpec.SecurityType(rawValue: text.uppercased()) {
                spec.secType = type
            } else {
                problem("\(path).sec_type", text, .file, "must be one of " + SymbolSpec.SecurityType.allCases.map(\.rawValue).joined(separator: "|"))
            }
        }
        if let text = scalarField(fields, "exchange", at: path) {
            if text.isEmpty || text.contains(where: { $0 == " " || $0 == ":" }) {
                problem("\(path).exchange", text, .file, "must be an exchange code such as SMART or NASDAQ")
            } else {
                spec.exchange = text.uppercased()
            }
        }
        if let text = scalarField(fields, "currency", at: path) {
            if text.count == 3, text.allSatisfy({ $0.isASCII && $0.isLetter }) {
                spec.currency = text.uppercased()
            } else {
                problem("\(path).currency", text, .file, "must be a three-letter currency code such as USD")
            }
        }
        if let text = scalarField(fields, "primary_exchange", at: path), !text.isEmpty {
            spec.primaryExchange = text.uppercased()
        }
        if let text = scalarField(fields, "multiplier", at: path) {
            if let value = Double(text), value > 0, value.isFinite {
                spec.multiplier = text
            } else {
                problem("\(path).multiplier", text, .file, "must be a positive number such as 50 (IB's contract multiplier)")
            }
        }
        if let text = scalarField(fields, "alphavantage_symbol", at: path) {
            if ["none", "false", "off", "no"].contains(text.lowercased()) {
                spec.alphaVantageMapping = SymbolSpec.AlphaVantageMapping.none
            } else if let reason = SymbolSpec.symbolProblem(text) {
                problem("\(path).alphavantage_symbol", text, .file, "\(reason) (or 'none' for no fallback)")
            } else {
                spec.alphaVantageMapping = .symbol(text.uppercased())
            }
        }
        identity(&spec, fields, explicitExchange: fields["exchange"] != nil, at: path)
        if let optionsNode = fields["options"] {
            spec.options = optionWindow(optionsNode, at: "\(path).options")
            if spec.options != nil, !spec.secType.hasOptionChains {
                problem("\(path).options", nil, .file, "IB lists no option chains for sec_type \(spec.secType.rawValue); options are followed on STK and IND (OPT) and FUT (FOP)")
            }
        }
        return problems.count == before ? spec : nil
    }

    /// The fields that make a non-stock entry name one instrument (issue 10 §3): a future's
    /// contract month, the listing exchange of futures and indexes, an FX pair's two currencies.
    private mutating func identity(_ spec: inout SymbolSpec, _ fields: [String: Node], explicitExchange: Bool, at path: String) {
        let monthPath = "\(path).last_trade_date_or_contract_month"
        if let text = scalarField(fields, "last_trade_date_or_contract_month", at: path) {
            if Self.contractMonthProblem(text) == nil {
                spec.contractMonth = .fixed(text)
            } else {
                problem(monthPath, text, .file, "must be a contract month YYYYMM (e.g. 202612) or a last trading day YYYYMMDD")
            }
        }
        if let node = fields["front_month"] {
            if let frontMonth = frontMonth(node, at: "\(path).front_month") {
                if spec.contractMonth != nil {
                    problem("\(path).front_month", nil, .file, "set either last_trade_date_or_contract_month or front_month, not both")
                } else {
                    spec.contractMonth = frontMonth
                }
            }
        }
        switch spec.secType {
        case .future:
            if spec.contractMonth == nil, !problems.contains(where: { $0.keyPath.hasPrefix(monthPath) || $0.keyPath.hasPrefix("\(path).front_month") }) {
                problem(monthPath, nil, .file,
                    "sec_type FUT needs the contract: set last_trade_date_or_contract_month: YYYYMM (e.g. 202612) for one contract month, or front_month: true to follow the front month (rolled 5 days before its last trading day; front_month: {roll_days_before_expiry: N} to change that)")
            }
            if !explicitExchange || spec.exchange == "SMART" {
                problem("\(path).exchange", explicitExchange ? spec.exchange : nil, .file,
                    "sec_type FUT needs the exchange that lists the future (e.g. CME for ES, NYMEX for CL); IB does not route futures through SMART")
            }
        case .index:
            if !explicitExchange || spec.exchange == "SMART" {
                problem("\(path).exchange", explicitExchange ? spec.exchange : nil, .file,
                    "sec_type IND needs the exchange that publishes the index (CBOE for SPX and VIX, NASDAQ for NDX, RUSSELL for RUT)")
            }
        case .cash:
            // `EUR.USD` is IB's local symbol for the pair; the symbol is the base currency.
            let parts = spec.symbol.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2 {
                if fields["currency"] != nil, spec.currency != parts[1].uppercased() {
                    problem("\(path).currency", spec.currency, .file, "contradicts the pair \(spec.symbol)")
                }
                spec.symbol = parts[0].uppercased()
                spec.currency = parts[1].uppercased()
            }
            if spec.symbol.count != 3 || !spec.symbol.allSatisfy({ $0.isASCII && $0.isLetter }) {
                problem("\(path).symbol", spec.symbol, .file, "sec_type CASH needs the base currency (EUR) or the pair (EUR.USD)")
            } else if spec.symbol == spec.currency {
                problem("\(path).currency", spec.currency, .file, "an FX pair needs two different currencies")
            }
            if !explicitExchange { spec.exchange = "IDEALPRO" }
            if spec.exchange == "SMART" {
                problem("\(path).exchange", spec.exchange, .file, "IB quotes FX pairs on IDEALPRO, not SMART")
            }
        case .stock:
            break
        }
        if spec.secType != .future, spec.contractMonth != nil {
            problem(monthPath, nil, .file, "only sec_type FUT has a contract month (this entry is \(spec.secType.rawValue))")
        }
    }

    /// `front_month: true` (roll 5 days before expiry) or `{roll_days_before_expiry: N}`.
    private mutating func frontMonth(_ node: Node, at path: String) -> SymbolSpec.ContractMonth? {
        if let text = node.scalar?.string {
            switch text.lowercased() {
            case "true", "yes", "on": return .front(rollDaysBeforeExpiry: 5)
            case "false", "no", "off": return nil
            default:
                problem(path, text, .file, "expected true or a map {roll_days_before_expiry: N}")
                return nil
            }
        }
        guard let map = node.mapping else {
            problem(path, nil, .file, "expected true or a map {roll_days_before_expiry: N}")
            return nil
        }
        var days = 5
        for (key, value) in map {
            guard key.string == "roll_days_before_expiry" else {
                problem("\(path).\(key.string ?? "?")", value.scalar?.string, .file, ConfigKeyCatalog.unknownFieldReason(key.string ?? "?", known: ["roll_days_before_expiry"]))
                continue
            }
            let text = value.scalar?.string ?? ""
            guard let number = Int(text), (0...60).contains(number) else {
                problem("\(path).roll_days_before_expiry", text, .file, "must be a whole number of days between 0 and 60")
                return nil
            }
            days = number
        }
        return .front(rollDaysBeforeExpiry: days)
    }

    /// `YYYYMM` or `YYYYMMDD` with a real month (and day).
    static func contractMonthProblem(_ text: String) -> String? {
        guard text.count == 6 || text.count == 8, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return "format" }
        let month = Int(text.dropFirst(4).prefix(2)) ?? 0
        guard (1...12).contains(month) else { return "month" }
        if text.count == 8, !(1...31).contains(Int(text.suffix(2)) ?? 0) { return "day" }
        return nil
    }

    private mutating func scalarField(_ fields: [String: Node], _ name: String, at path: String) -> String? {
        guard let node = fields[name] else { return nil }
        guard let text = node.scalar?.string else {
            problem("\(path).\(name)", nil, .file, "expected a single value")
            return nil
        }
        return text.trimmingSpaces
    }

    /// `options: {expirations: 2, strikes_around_atm: 5}`; `options: true` takes the defaults
    /// and `options: false` none.
    private mutating func optionWindow(_ node: Node, at path: String) -> SymbolSpec.OptionWindow? {
        if let text = node.scalar?.string {
            switch text.lowercased() {
            case "true", "yes", "on": return SymbolSpec.OptionWindow()
            case "false", "no", "off": return nil
            default:
                problem(path, text, .file, "expected a map {expirations, strikes_around_atm} or true/false")
                return nil
            }
        }
        guard let map = node.mapping else {
            problem(path, nil, .file, "expected a map {expirations, strikes_around_atm}")
            return nil
        }
        var window = SymbolSpec.OptionWindow()
        var count: Int?
        var minDays: Int?
        var maxDays: Int?
        for (key, value) in map {
            guard let name = key.string else { continue }
            guard ConfigKeyCatalog.optionFields.contains(name) else {
                problem("\(path).\(name)", value.scalar?.string, .file, ConfigKeyCatalog.unknownFieldReason(name, known: ConfigKeyCatalog.optionFields))
                continue
            }
            if name == "trading_classes" {
                let items = value.sequence.map { $0.compactMap { $0.scalar?.string } }
                    ?? value.scalar.map { YAMLConfigFile.splitList($0.string) } ?? []
                for item in items where SymbolSpec.symbolProblem(item) != nil || item.contains(" ") {
                    problem("\(path).trading_classes", item, .file, "must be IB trading classes such as SPX, SPXW")
                }
                window.tradingClasses = items.map { $0.uppercased() }
                continue
            }
            let text = value.scalar?.string ?? ""
            let range: ClosedRange<Int> = switch name {
            case "expirations": 1...24
            case "strikes_around_atm": 1...50
            default: 0...3660
            }
            guard let number = Int(text), range.contains(number) else {
                problem("\(path).\(name)", text, .file, "must be a whole number between \(range.lowerBound) and \(range.upperBound)")
                continue
            }
            switch name {
            case "expirations": count = number
            case "strikes_around_atm": window.strikesAroundATM = number
            case "min_days_to_expiry": minDays = number
            default: maxDays = number
            }
        }
        if minDays != nil || maxDays != nil {
            let lower = minDays ?? 0
            let upper = maxDays ?? 3660
            if lower > upper {
                problem("\(path).min_days_to_expiry", String(lower), .file, "is above max_days_to_expiry (\(upper))")
            } else {
                window.daysToExpiry = lower...upper
            }
            window.expirations = count ?? 24
        } else {
            window.expirations = count ?? 2
        }
        return window
    }

    static func render(_ spec: SymbolSpec) -> String {
        var parts = ["\(spec.symbol)", spec.secType.rawValue, spec.exchange, spec.currency]
        switch spec.contractMonth {
        case .fixed(let month)?: parts.append("contract \(month)")
        case .front(let days)?: parts.append("front month (roll \(days) days before expiry)")
        case nil: break
        }
        if let multiplier = spec.multiplier { parts.append("multiplier \(multiplier)") }
        if spec.keySymbol != spec.symbol { parts.append("key \(spec.keySymbol)") }
        if let primary = spec.primaryExchange { parts.append("primary \(primary)") }
        switch spec.alphaVantageMapping {
        case .symbol(let s)?: parts.append("alphavantage \(s)")
        case .none?: parts.append("alphavantage none")
        case nil: break
        }
        if let options = spec.options {
            var text = "options \(options.expirations) expirations x \(options.strikesAroundATM) strikes around ATM"
            if let days = options.daysToExpiry { text += ", \(days.lowerBound)-\(days.upperBound) days to expiry" }
            text += options.tradingClasses.isEmpty ? ", every trading class" : ", classes \(options.tradingClasses.joined(separator: ","))"
            parts.append(text)
        }
        return parts.joined(separator: " ")
    }
}
