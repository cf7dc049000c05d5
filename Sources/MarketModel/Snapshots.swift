/// The known values of a quote; nil means unknown and is published as an absent field.
/// Producers (the IB tick merger, the Alpha Vantage decoder) fill what they have.
public struct QuoteSnapshot: Sendable, Hashable {
    public var symbol: String
    public var bid: Double?
    public var bidSize: Double?
    public var ask: Double?
    public var askSize: Double?
    public var last: Double?
    public var lastSize: Double?
    public var volume: Double?
    public var open: Double?
    public var high: Double?
    public var low: Double?
    public var close: Double?
    public var change: Double?
    public var changePercent: Double?
    public var lastTradeMs: Int64?
    public var dataType: DataType?
    /// IB's tick 49: 0 trading, 1 halted, 2 volatility halt (contract extension `halted`).
    public var halted: Double?
    /// Identity fields of a non-stock instrument (README "Key grammar"); nil for stocks, whose
    /// record stays exactly CONTRACT §3's: `sec_type` (IND, FUT, CASH), `con_id` (which
    /// contract a `SYM.FRONT` key holds now), `contract_month` (FUT, `YYYYMM`), `multiplier`
    /// (FUT), `local_symbol` (IB's: `ESZ6`, `EUR.USD`), `currency` (CASH: the quote currency).
    public var secType: String?
    public var conId: Int64?
    public var contractMonth: String?
    public var multiplier: Double?
    public var localSymbol: String?
    public var currency: String?
    /// On an underlying whose options are followed (generic ticks 100 and 101): its options'
    /// open interest and today's volume per right, in contracts.
    public var optionCallOpenInterest: Double?
    public var optionPutOpenInterest: Double?
    public var optionCallVolume: Double?
    public var optionPutVolume: Double?

    public init(symbol: String) { self.symbol = symbol }

    /// `change` and `change_percent` are derived from last and close when the source does
    /// not send them (IB never does).
    public func record(source: DataSource, updatedMs: Int64) -> Record {
        var f = FieldList(capacity: 32)
        f.text("symbol", symbol)
        f.number("bid", bid)
        f.number("bid_size", bidSize)
        f.number("ask", ask)
        f.number("ask_size", askSize)
        f.number("last", last)
        f.number("last_size", lastSize)
        f.number("volume", volume)
        f.number("open", open)
        f.number("high", high)
        f.number("low", low)
        f.number("close", close)
        var chg = change
        var pct = changePercent
        if chg == nil, let last, let close, close > 0 {
            chg = Self.round(last - close, places: 6)
            if pct == nil { pct = Self.round((last - close) / close * 100, places: 4) }
        }
        f.number("change", chg)
        f.number("change_percent", pct)
        f.integer("last_trade_ms", lastTradeMs)
        f.text("sec_type", secType)
        f.integer("con_id", conId)
        f.text("contract_month", contractMonth)
        f.number("multiplier", multiplier)
        f.text("local_symbol", localSymbol)
        f.text("currency", currency)
        f.number("option_call_open_interest", optionCallOpenInterest)
        f.number("option_put_open_interest", optionPutOpenInterest)
        f.number("option_call_volume", optionCallVolume)
        f.number("option_put_volume", optionPutVolume)
        f.integer("updated_ms", updatedMs)
        f.text("source", source.rawValue)
        f.text("data_type", dataType?.rawValue)
        f.number("halted", halted)
        return Record(kind: .quote, key: Keys.quote(symbol), source: source, updatedMs: updatedMs, fields: f.fields)
    }

    static func round(_ v: Double, places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (v * scale).rounded() / scale
    }
}

/// The known values of one option contract, quotes and greeks together.
public struct OptionSnapshot: Sendable, Hashable {
    public var symbol: String
    /// `YYYYMMDD`.
    public var expiry: String
    public var strike: Double
    public var right: OptionRight
    public var conId: Int64?
    public var bid: Double?
    public var bidSize: Double?
    public var ask: Double?
    public var askSize: Double?
    public var last: Double?
    public var lastSize: Double?
    public var volume: Double?
    public var openInterest: Double?
    public var impliedVol: Double?
    public var delta: Double?
    public var gamma: Double?
    /// Per volatility point, as IB sends it.
    public var vega: Double?
    /// Per calendar day, as IB sends it.
    public var theta: Double?
    public var underlyingPrice: Double?
    public var modelPrice: Double?
    /// Implied volatility at the bid, ask and last price (IB's computation ticks 10, 11, 12).
    public var bidIV: Double?
    public var askIV: Double?
    public var lastIV: Double?
    public var dataType: DataType?
    /// IB's tick 49: 0 trading, 1 halted, 2 volatility halt (contract extension `halted`).
    public var halted: Double?
    /// IB's trading class (`SPXW`) and multiplier (`100`, ES options `50`).
    public var tradingClass: String?
    public var multiplier: Double?
    /// The key's `SYM` when it is not `symbol` (README "Key grammar": `SPXW`, `ES.202612`).
    public var root: String?

    public init(symbol: String, expiry: String, strike: Double, right: OptionRight) {
        self.symbol = symbol
        self.expiry = expiry
        self.strike = strike
        self.right = right
    }

    public var key: String { Keys.option(root ?? symbol, expiry: expiry, strike: strike, right: right) }

    public func record(source: DataSource, updatedMs: Int64) -> Record {
        var f = FieldList(capacity: 32)
        f.text("symbol", symbol)
        f.text("expiry", expiry)
        f.number("strike", strike)
        f.text("right", right.rawValue)
        f.integer("con_id", conId)
        f.text("trading_class", tradingClass)
        f.number("multiplier", multiplier)
        f.number("bid", bid)
        f.number("bid_size", bidSize)
        f.number("ask", ask)
        f.number("ask_size", askSize)
        f.number("last", last)
        f.number("last_size", lastSize)
        f.number("volume", volume)
        f.number("open_interest", openInterest)
        f.number("bid_iv", bidIV)
        f.number("ask_iv", askIV)
        f.number("last_iv", lastIV)
        f.number("iv", impliedVol)
        f.number("delta", delta)
        f.number("gamma", gamma)
        f.number("vega", vega)
        f.number("theta", theta)
        f.number("und_price", underlyingPrice)
        f.number("model_price", modelPrice)
        f.integer("updated_ms", updatedMs)
        f.text("source", source.rawValue)
        f.text("data_type", dataType?.rawValue)
        f.number("halted", halted)
        return Record(kind: .option, key: key, source: source, updatedMs: updatedMs, fields: f.fields)
    }
}

/// An option chain: the expirations and strikes IB (or Alpha Vantage) lists for an underlying.
public struct ChainSnapshot: Sendable, Hashable {
    public var symbol: String
    public var underlyingConId: Int64?
    public var exchange: String?
    public var tradingClass: String?
    public var multiplier: String?
    /// `YYYYMMDD`, ascending.
    public var expirations: [String]
    /// Ascending.
    public var strikes: [Double]
    /// Every trading class IB lists (SPX and SPXW), each with its own expirations, strikes,
    /// multiplier and exchange; empty for a single-class chain written the CONTRACT §3 way.
    public var classes: [ClassChain] = []

    /// One trading class of a chain.
    public struct ClassChain: Sendable, Hashable {
        public var tradingClass: String
        public var exchange: String
        public var multiplier: String
        /// `YYYYMMDD`, ascending.
        public var expirations: [String]
        public var strikes: [Double]
        /// The `SYM` its option keys use (README "Key grammar").
        public var root: String

        public init(tradingClass: String, exchange: String, multiplier: String, expirations: [String], strikes: [Double], root: String) {
            self.tradingClass = tradingClass
            self.exchange = exchange
            self.multiplier = multiplier
            self.expirations = expirations
            self.strikes = strikes
            self.root = root
        }
    }

    public init(symbol: String, expirations: [String] = [], strikes: [Double] = []) {
        self.symbol = symbol
        self.expirations = expirations
        self.strikes = strikes
    }

    public func record(source: DataSource, updatedMs: Int64) -> Record {
        var f = FieldList()
        f.text("symbol", symbol)
        f.integer("underlying_con_id", underlyingConId)
        f.text("exchange", exchange)
        f.text("trading_class", tradingClass)
        if let multiplier, let m = Double(multiplier) { f.number("multiplier", m) }
        f.text("expirations", expirations.sorted().joined(separator: ","))
        f.text("strikes", strikes.sorted().compactMap { DecimalFormat.string($0) }.joined(separator: ","))
        // Extension (README): the classes, then per class `FIELD:CLASS`.
        if !classes.isEmpty {
            f.text("trading_classes", classes.map(\.tradingClass).joined(separator: ","))
            for c in classes {
                f.text("exchange:\(c.tradingClass)", c.exchange)
                if let m = Double(c.multiplier) { f.number("multiplier:\(c.tradingClass)", m) }
                f.text("key_root:\(c.tradingClass)", c.root)
                f.text("expirations:\(c.tradingClass)", c.expirations.sorted().joined(separator: ","))
                f.text("strikes:\(c.tradingClass)", c.strikes.sorted().compactMap { DecimalFormat.string($0) }.joined(separator: ","))
            }
        }
        f.integer("updated_ms", updatedMs)
        f.text("source", source.rawValue)
        return Record(kind: .chain, key: Keys.chain(symbol), source: source, updatedMs: updatedMs, fields: f.fields)
    }
}
