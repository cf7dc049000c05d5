import MarketModel

/// One option contract of an underlying's window: what the worker qualifies, subscribes and
/// publishes as `option:SYM:EXP:STRIKE:R`.
public struct OptionKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `YYYYMMDD`.
    public var expiry: String
    public var strike: Double
    public var right: OptionRight
    /// IB's trading class (`SPX`, `SPXW`, `ES`, `EW1`); empty: the underlying's symbol.
    public var tradingClass: String
    /// The `SYM` of the option's Redis key (README "Key grammar"): the trading class for `OPT`
    /// (`AAPL`, `SPX`, `SPXW`), `CLASS.YYYYMM` of the underlying future for `FOP`
    /// (`ES.202612`, `EW1.202612`); empty: the underlying's key symbol.
    public var root: String

    public init(expiry: String, strike: Double, right: OptionRight, tradingClass: String = "", root: String = "") {
        self.expiry = expiry
        self.strike = strike
        self.right = right
        self.tradingClass = tradingClass
        self.root = root
    }

    public static func < (a: OptionKey, b: OptionKey) -> Bool {
        if a.expiry != b.expiry { return a.expiry < b.expiry }
        if a.strike != b.strike { return a.strike < b.strike }
        if a.right != b.right { return a.right == .call }
        return a.root < b.root
    }

    /// `SPXW:20261218:450:C` (`20261218:450:C` without a root), the tail of the Redis key.
    public var description: String {
        (root.isEmpty ? "" : root + ":") + "\(expiry):\(DecimalFormat.string(strike) ?? "?"):\(right.rawValue)"
    }

    /// The Redis key (without prefix) of this contract; `symbol` (the underlying's key
    /// symbol) names it when the key has no root of its own.
    public func key(symbol: String) -> String {
        Keys.option(root.isEmpty ? symbol : root, expiry: expiry, strike: strike, right: right)
    }
}

/// An option of the window with its priority: the line budget keeps nearer expiries and
/// strikes nearer the money first.
public struct RankedOption: Sendable, Hashable {
    public var key: OptionKey
    /// 0 for the nearest selected expiry.
    public var expiryRank: Int
    /// Distance from the ATM strike in strike steps: 0 at the money.
    public var strikeRank: Int

    public init(key: OptionKey, expiryRank: Int, strikeRank: Int) {
        self.key = key
        self.expiryRank = expiryRank
        self.strikeRank = strikeRank
    }

    /// Nearer expiry, then nearer strike, then lower strike, then call before put.
    public static func priorityOrder(_ a: RankedOption, _ b: RankedOption) -> Bool {
        if a.expiryRank != b.expiryRank { return a.expiryRank < b.expiryRank }
        if a.strikeRank != b.strikeRank { return a.strikeRank < b.strikeRank }
        return a.key < b.key
    }
}

/// What to change when the window moves: subscribe `added`, cancel `removed`.
public struct OptionWindowChange: Sendable, Hashable {
    /// In priority order, so a paced subscriber starts with what matters most.
    public var added: [RankedOption]
    /// Sorted by key.
    public var removed: [OptionKey]
    /// Why the window moved (or did not), for the log.
    public var reason: String

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty }

    public init(added: [RankedOption] = [], removed: [OptionKey] = [], reason: String) {
        self.added = added
        self.removed = removed
        self.reason = reason
    }
}
