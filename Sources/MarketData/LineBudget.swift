/// A market data line: one concurrent IB subscription.
public enum MarketDataLine: Sendable, Hashable, CustomStringConvertible {
    case quote(symbol: String)
    case option(symbol: String, key: OptionKey)

    public var symbol: String {
        switch self {
        case let .quote(symbol), let .option(symbol, _): symbol
        }
    }

    public var description: String {
        switch self {
        case let .quote(symbol): "quote:\(symbol)"
        case let .option(symbol, key): "option:\(symbol):\(key)"
        }
    }
}

/// The options one underlying wants, in its window's priority order.
public struct OptionDemand: Sendable, Hashable {
    public var symbol: String
    public var options: [RankedOption]

    public init(symbol: String, options: [RankedOption]) {
        self.symbol = symbol
        self.options = options
    }
}

/// What fits in the budget and what does not.
public struct LineAllocation: Sendable, Hashable {
    /// In priority order: underlyings (configuration order), then options.
    public var admitted: [MarketDataLine]
    /// In priority order too: the first entries would be the first to get a line that frees up.
    public var leftOut: [MarketDataLine]
    /// The lines the allocation could use (`maxLines - reserved`).
    public var available: Int

    public var admittedSet: Set<MarketDataLine> { Set(admitted) }

    /// Left-out lines per underlying, for the status hash.
    public var leftOutBySymbol: [String: Int] {
        leftOut.reduce(into: [:]) { $0[$1.symbol, default: 0] += 1 }
    }

    /// One line for the log and the status hash; empty when everything fits.
    public var summary: String {
        guard !leftOut.isEmpty else { return "" }
        let quotes = leftOut.filter { if case .quote = $0 { true } else { false } }.count
        let options = leftOut.count - quotes
        let perSymbol = leftOutBySymbol.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        var parts: [String] = []
        if quotes > 0 { parts.append("\(quotes) quote\(quotes == 1 ? "" : "s")") }
        if options > 0 { parts.append("\(options) option\(options == 1 ? "" : "s")") }
        return "market data line budget of \(available) reached: left out \(parts.joined(separator: " and "))"
            + " (\(perSymbol))"
    }
}

/// Never more concurrent subscriptions than `ib.max_market_data_lines`.
///
/// When the configuration asks for more, the quotes of the underlyings come first (in
/// configuration order: every option's window depends on its underlying's price), then
/// options across all underlyings by nearer expiry, then nearer-to-the-money strike, so a
/// small budget spreads over every underlying's front-month ATM options instead of filling
/// up on the first symbol's far wings. Calls and puts of one strike go together.
public struct LineBudget: Sendable, Hashable {
    /// `ib.max_market_data_lines` [100].
    public var maxLines: Int
    /// Lines kept free for probe snapshots and contract re-qualification, which IB also
    /// counts while they run.
    public var reserved: Int

    public init(maxLines: Int, reserved: Int = 0) {
        self.maxLines = max(0, maxLines)
        self.reserved = max(0, reserved)
    }

    public var available: Int { max(0, maxLines - reserved) }

    public func allocate(underlyings: [String], options: [OptionDemand]) -> LineAllocation {
        var ordered: [MarketDataLine] = []
        var seen = Set<MarketDataLine>()
        for symbol in underlyings {
            let line = MarketDataLine.quote(symbol: symbol)
            if seen.insert(line).inserted { ordered.append(line) }
        }
        struct Candidate {
            var option: RankedOption
            var symbolOrder: Int
            var line: MarketDataLine
        }
        var candidates: [Candidate] = []
        for (order, demand) in options.enumerated() {
            for option in demand.options {
                let line = MarketDataLine.option(symbol: demand.symbol, key: option.key)
                if seen.insert(line).inserted {
                    candidates.append(Candidate(option: option, symbolOrder: order, line: line))
                }
            }
        }
        candidates.sort { a, b in
            if a.option.expiryRank != b.option.expiryRank { return a.option.expiryRank < b.option.expiryRank }
            if a.option.strikeRank != b.option.strikeRank { return a.option.strikeRank < b.option.strikeRank }
            if a.symbolOrder != b.symbolOrder { return a.symbolOrder < b.symbolOrder }
            return a.option.key < b.option.key
        }
        ordered.append(contentsOf: candidates.map(\.line))
        let cut = min(available, ordered.count)
        return LineAllocation(admitted: Array(ordered[..<cut]), leftOut: Array(ordered[cut...]), available: available)
    }
}
