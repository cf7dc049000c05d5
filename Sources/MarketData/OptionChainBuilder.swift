import MarketModel
import TWSProtocol

/// Collects the SECURITY_DEFINITION_OPTION_PARAMETER messages of one reqSecDefOptParams
/// (one per exchange and trading class) and picks the chain the worker publishes.
///
/// IB lists every exchange separately and, for some underlyings, several trading classes
/// (SPX monthlies and SPXW weeklies); the contract publishes SMART's chain of the underlying's
/// own trading class, which is what a SMART-routed subscription can use.
public struct OptionChainBuilder: Sendable, Hashable {
    public let symbol: String
    public private(set) var parameters: [OptionParameters] = []

    public init(symbol: String) {
        self.symbol = symbol
    }

    public mutating func add(_ p: OptionParameters) {
        parameters.append(p)
    }

    /// The chain, or nil when IB listed nothing usable (no expirations or no strikes).
    /// - Parameters:
    ///   - exchange: preferred exchange [SMART]; when absent, every exchange is considered.
    ///   - tradingClass: preferred trading class; else the one named like the symbol; else
    ///     the class with the most expirations.
    public func chain(exchange: String = "SMART", tradingClass: String? = nil) -> ChainSnapshot? {
        let onExchange = parameters.filter { $0.exchange.caseInsensitiveCompare(exchange) == .orderedSame }
        let pool = (onExchange.isEmpty ? parameters : onExchange).filter { !$0.expirations.isEmpty && !$0.strikes.isEmpty }
        guard !pool.isEmpty else { return nil }
        let chosenClass: String
        if let tradingClass, pool.contains(where: { $0.tradingClass == tradingClass }) {
            chosenClass = tradingClass
        } else if pool.contains(where: { $0.tradingClass == symbol }) {
            chosenClass = symbol
        } else {
            chosenClass = pool.max { a, b in
                a.expirations.count != b.expirations.count
                    ? a.expirations.count < b.expirations.count : a.tradingClass > b.tradingClass
            }!.tradingClass
        }
        let chosen = pool.filter { $0.tradingClass == chosenClass }
        var chain = ChainSnapshot(
            symbol: symbol,
            expirations: Array(Set(chosen.flatMap(\.expirations).filter { $0.count == 8 })).sorted(),
            strikes: Array(Set(chosen.flatMap(\.strikes).filter { $0.isFinite && $0 > 0 })).sorted())
        guard !chain.expirations.isEmpty, !chain.strikes.isEmpty else { return nil }
        chain.underlyingConId = chosen.first.map(\.underlyingConId)
        chain.exchange = onExchange.isEmpty ? chosen.first?.exchange : exchange
        chain.tradingClass = chosenClass
        chain.multiplier = chosen.first?.multiplier
        return chain
    }

    /// Every trading class IB listed (SPX and SPXW; ES, EW, EW1 ...), in IB's order, each from
    /// the preferred exchange's message (SMART for `OPT`, the future's exchange for `FOP`),
    /// else from the first exchange that lists it. Classes without expirations or strikes are
    /// left out.
    /// - Parameters:
    ///   - only: the classes to keep (`options.trading_classes`); empty keeps all.
    ///   - root: the key `SYM` of a class's options (README "Key grammar").
    public func classes(exchange: String = "SMART", only: [String] = [], root: (String) -> String) -> [ChainSnapshot.ClassChain] {
        var order: [String] = []
        var byClass: [String: [OptionParameters]] = [:]
        for p in parameters where !p.expirations.isEmpty && !p.strikes.isEmpty {
            if byClass[p.tradingClass] == nil { order.append(p.tradingClass) }
            byClass[p.tradingClass, default: []].append(p)
        }
        return order.filter { only.isEmpty || only.contains($0) }.compactMap { tradingClass in
            let listings = byClass[tradingClass] ?? []
            guard let chosen = listings.first(where: { $0.exchange.caseInsensitiveCompare(exchange) == .orderedSame }) ?? listings.first
            else { return nil }
            let expirations = Array(Set(chosen.expirations.filter { $0.count == 8 })).sorted()
            let strikes = Array(Set(chosen.strikes.filter { $0.isFinite && $0 > 0 })).sorted()
            guard !expirations.isEmpty, !strikes.isEmpty else { return nil }
            return ChainSnapshot.ClassChain(
                tradingClass: tradingClass, exchange: chosen.exchange, multiplier: chosen.multiplier, expirations: expirations,
                strikes: strikes, root: root(tradingClass))
        }
    }

    /// The chain with every class (`classes(exchange:only:root:)`): the top-level CONTRACT §3
    /// fields describe the primary class (`primaryClass`, default the symbol; else the first),
    /// and `classes` all of them. nil when no class is usable.
    public func chainWithClasses(
        exchange: String = "SMART", only: [String] = [], primaryClass: String? = nil, root: (String) -> String
    ) -> ChainSnapshot? {
        let classes = classes(exchange: exchange, only: only, root: root)
        let preferred = primaryClass ?? symbol
        guard let primary = classes.first(where: { $0.tradingClass == preferred }) ?? classes.first else { return nil }
        var chain = ChainSnapshot(symbol: symbol, expirations: primary.expirations, strikes: primary.strikes)
        chain.underlyingConId = parameters.first.map(\.underlyingConId)
        chain.exchange = primary.exchange
        chain.tradingClass = primary.tradingClass
        chain.multiplier = primary.multiplier
        chain.classes = classes
        return chain
    }
}
