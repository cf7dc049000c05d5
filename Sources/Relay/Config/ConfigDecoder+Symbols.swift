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
        for spec in specs where !seen.insert(spec.symbol).inserted {
            problem(path, spec.symbol, source, "symbol \(spec.symbol) is listed twice (its Redis keys would collide)")
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
        return SymbolSpec(symbol: text)
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
        if let optionsNode = fields["options"] {
            spec.options = optionWindow(optionsNode, at: "\(path).options")
            if spec.options != nil, !spec.secType.hasOptionChains {
                problem("\(path).options", nil, .file, "option chains are followed only for sec_type STK or IND, not \(spec.secType.rawValue)")
            }
        }
        return problems.count == before ? spec : nil
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
        for (key, value) in map {
            guard let name = key.string else { continue }
            guard ConfigKeyCatalog.optionFields.contains(name) else {
                problem("\(path).\(name)", value.scalar?.string, .file, ConfigKeyCatalog.unknownFieldReason(name, known: ConfigKeyCatalog.optionFields))
                continue
            }
            let text = value.scalar?.string ?? ""
            let range = name == "expirations" ? 1...24 : 1...50
            guard let number = Int(text), range.contains(number) else {
                problem("\(path).\(name)", text, .file, "must be a whole number between \(range.lowerBound) and \(range.upperBound)")
                continue
            }
            if name == "expirations" { window.expirations = number } else { window.strikesAroundATM = number }
        }
        return window
    }

    static func render(_ spec: SymbolSpec) -> String {
        var parts = ["\(spec.symbol)", spec.secType.rawValue, spec.exchange, spec.currency]
        if let primary = spec.primaryExchange { parts.append("primary \(primary)") }
        if let options = spec.options {
            parts.append("options \(options.expirations) expirations x \(options.strikesAroundATM) strikes around ATM")
        }
        return parts.joined(separator: " ")
    }
}
