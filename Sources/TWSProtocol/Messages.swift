// The typed messages of the TWS API text protocol (server versions below 201), in both
// directions. These enums are the interface between the codec (this module), the gateway
// session (IBSession) and the simulator (Simulators): neither side ever touches raw fields.
//
// Unknown values are nil: IB's sentinels (-1 prices and sizes, Double.max, Int32.max,
// Int64.max, the option computation's -1/-2 markers, empty strings) never surface as numbers.

/// An instrument as IB describes it in requests and contract details.
public struct Contract: Sendable, Hashable {
    /// 0 when unknown (IB's own convention on the wire).
    public var conId: Int64
    public var symbol: String
    /// `STK`, `OPT`, `IND`, `FUT`, ...
    public var secType: String
    /// `YYYYMMDD` for options; empty for stocks.
    public var lastTradeDateOrContractMonth: String
    /// nil = unset (sent as an empty field).
    public var strike: Double?
    /// `C`, `P` or empty.
    public var right: String
    public var multiplier: String
    public var exchange: String
    public var primaryExchange: String
    public var currency: String
    public var localSymbol: String
    public var tradingClass: String

    public init(
        conId: Int64 = 0, symbol: String = "", secType: String = "STK",
        lastTradeDateOrContractMonth: String = "", strike: Double? = nil, right: String = "",
        multiplier: String = "", exchange: String = "SMART", primaryExchange: String = "",
        currency: String = "USD", localSymbol: String = "", tradingClass: String = ""
    ) {
        self.conId = conId
        self.symbol = symbol
        self.secType = secType
        self.lastTradeDateOrContractMonth = lastTradeDateOrContractMonth
        self.strike = strike
        self.right = right
        self.multiplier = multiplier
        self.exchange = exchange
        self.primaryExchange = primaryExchange
        self.currency = currency
        self.localSymbol = localSymbol
        self.tradingClass = tradingClass
    }
}

/// Requests, client -> gateway.
public enum ClientMessage: Sendable, Hashable {
    /// START_API (71), sent once after the server hello.
    case startAPI(clientId: Int32, optionalCapabilities: String)
    /// reqMktData (1). `genericTickList` e.g. "100,101,106" or "".
    case reqMktData(reqId: Int32, contract: Contract, genericTickList: String, snapshot: Bool, regulatorySnapshot: Bool)
    /// cancelMktData (2).
    case cancelMktData(reqId: Int32)
    /// reqMarketDataType (59): 1 live, 2 frozen, 3 delayed, 4 delayed-frozen.
    case reqMarketDataType(Int32)
    /// reqContractDetails (9).
    case reqContractDetails(reqId: Int32, contract: Contract, includeExpired: Bool)
    /// reqSecDefOptParams (78).
    case reqSecDefOptParams(reqId: Int32, underlyingSymbol: String, futFopExchange: String, underlyingSecType: String, underlyingConId: Int64)
    /// reqCurrentTime (49): the worker's heartbeat probe.
    case reqCurrentTime
    /// reqIds (8).
    case reqIds(numIds: Int32)
    /// Any other request id: decoded only far enough to be skipped and counted.
    case unknown(messageId: Int32, fields: [String])
}

/// ERR_MSG (4). `reqId` is -1 for notices not tied to a request.
public struct ErrorMessage: Sendable, Hashable {
    public var reqId: Int32
    public var code: Int32
    public var message: String
    public var advancedOrderRejectJson: String?
    /// From v194 only.
    public var errorTimeMs: Int64?

    public init(reqId: Int32, code: Int32, message: String, advancedOrderRejectJson: String? = nil, errorTimeMs: Int64? = nil) {
        self.reqId = reqId
        self.code = code
        self.message = message
        self.advancedOrderRejectJson = advancedOrderRejectJson
        self.errorTimeMs = errorTimeMs
    }
}

/// TICK_OPTION_COMPUTATION (21); every "not computed" marker decodes to nil.
public struct OptionComputation: Sendable, Hashable {
    public var reqId: Int32
    /// 10 bid, 11 ask, 12 last, 13 model (80-83 delayed).
    public var tickType: Int32
    /// 0 return-based, 1 price-based volatility (from v156); nil before.
    public var tickAttrib: Int32?
    public var impliedVol: Double?
    public var delta: Double?
    public var optPrice: Double?
    public var pvDividend: Double?
    public var gamma: Double?
    public var vega: Double?
    public var theta: Double?
    public var undPrice: Double?

    public init(
        reqId: Int32, tickType: Int32, tickAttrib: Int32? = nil, impliedVol: Double? = nil, delta: Double? = nil,
        optPrice: Double? = nil, pvDividend: Double? = nil, gamma: Double? = nil, vega: Double? = nil,
        theta: Double? = nil, undPrice: Double? = nil
    ) {
        self.reqId = reqId
        self.tickType = tickType
        self.tickAttrib = tickAttrib
        self.impliedVol = impliedVol
        self.delta = delta
        self.optPrice = optPrice
        self.pvDividend = pvDividend
        self.gamma = gamma
        self.vega = vega
        self.theta = theta
        self.undPrice = undPrice
    }
}

/// CONTRACT_DATA (10): the contract plus what the worker needs from its details (trading and
/// liquid hours drive the staleness logic).
public struct ContractDetails: Sendable, Hashable {
    public var contract: Contract
    public var marketName: String
    public var minTick: Double?
    public var orderTypes: String
    public var validExchanges: String
    public var priceMagnifier: Int32?
    public var underConId: Int64?
    public var longName: String
    public var contractMonth: String
    public var industry: String
    public var category: String
    public var subcategory: String
    public var timeZoneId: String
    /// IB's format: `20261126:0400-20261126:2000;20261127:CLOSED;...`
    public var tradingHours: String
    public var liquidHours: String
    public var evRule: String
    public var evMultiplier: Double?
    public var secIdList: [(tag: String, value: String)]
    public var aggGroup: Int32?
    public var underSymbol: String
    public var underSecType: String
    public var marketRuleIds: String
    public var realExpirationDate: String
    public var stockType: String
    public var minSize: Double?
    public var sizeIncrement: Double?
    public var suggestedSizeIncrement: Double?
    /// The time (and zone) IB appends to lastTradeDateOrContractMonth after a space or dash,
    /// e.g. `16:00 US/Eastern`; the contract keeps only the date.
    public var lastTradeTime: String
    /// CONTRACT_DATA's separate lastTradeDate field (v182+), empty before.
    public var lastTradeDate: String

    public init(
        contract: Contract, marketName: String = "", minTick: Double? = nil, orderTypes: String = "",
        validExchanges: String = "", priceMagnifier: Int32? = 1, underConId: Int64? = nil, longName: String = "",
        contractMonth: String = "", industry: String = "", category: String = "", subcategory: String = "",
        timeZoneId: String = "", tradingHours: String = "", liquidHours: String = "", evRule: String = "",
        evMultiplier: Double? = nil, secIdList: [(tag: String, value: String)] = [], aggGroup: Int32? = nil,
        underSymbol: String = "", underSecType: String = "", marketRuleIds: String = "",
        realExpirationDate: String = "", stockType: String = "", minSize: Double? = nil,
        sizeIncrement: Double? = nil, suggestedSizeIncrement: Double? = nil,
        lastTradeTime: String = "", lastTradeDate: String = ""
    ) {
        self.contract = contract
        self.marketName = marketName
        self.minTick = minTick
        self.orderTypes = orderTypes
        self.validExchanges = validExchanges
        self.priceMagnifier = priceMagnifier
        self.underConId = underConId
        self.longName = longName
        self.contractMonth = contractMonth
        self.industry = industry
        self.category = category
        self.subcategory = subcategory
        self.timeZoneId = timeZoneId
        self.tradingHours = tradingHours
        self.liquidHours = liquidHours
        self.evRule = evRule
        self.evMultiplier = evMultiplier
        self.secIdList = secIdList
        self.aggGroup = aggGroup
        self.underSymbol = underSymbol
        self.underSecType = underSecType
        self.marketRuleIds = marketRuleIds
        self.realExpirationDate = realExpirationDate
        self.stockType = stockType
        self.minSize = minSize
        self.sizeIncrement = sizeIncrement
        self.suggestedSizeIncrement = suggestedSizeIncrement
        self.lastTradeTime = lastTradeTime
        self.lastTradeDate = lastTradeDate
    }

    public static func == (a: ContractDetails, b: ContractDetails) -> Bool {
        a.contract == b.contract && a.marketName == b.marketName && a.minTick == b.minTick
            && a.orderTypes == b.orderTypes && a.validExchanges == b.validExchanges
            && a.priceMagnifier == b.priceMagnifier && a.underConId == b.underConId && a.longName == b.longName
            && a.contractMonth == b.contractMonth && a.industry == b.industry && a.category == b.category
            && a.subcategory == b.subcategory && a.timeZoneId == b.timeZoneId && a.tradingHours == b.tradingHours
            && a.liquidHours == b.liquidHours && a.evRule == b.evRule && a.evMultiplier == b.evMultiplier
            && a.secIdList.map { "\($0.tag)=\($0.value)" } == b.secIdList.map { "\($0.tag)=\($0.value)" }
            && a.aggGroup == b.aggGroup && a.underSymbol == b.underSymbol && a.underSecType == b.underSecType
            && a.marketRuleIds == b.marketRuleIds && a.realExpirationDate == b.realExpirationDate
            && a.stockType == b.stockType && a.minSize == b.minSize && a.sizeIncrement == b.sizeIncrement
            && a.suggestedSizeIncrement == b.suggestedSizeIncrement
            && a.lastTradeTime == b.lastTradeTime && a.lastTradeDate == b.lastTradeDate
    }

    public func hash(into h: inout Hasher) {
        h.combine(contract)
        h.combine(tradingHours)
    }
}

/// SECURITY_DEFINITION_OPTION_PARAMETER (75): one message per exchange.
public struct OptionParameters: Sendable, Hashable {
    public var reqId: Int32
    public var exchange: String
    public var underlyingConId: Int64
    public var tradingClass: String
    public var multiplier: String
    public var expirations: [String]
    public var strikes: [Double]

    public init(reqId: Int32, exchange: String, underlyingConId: Int64, tradingClass: String, multiplier: String, expirations: [String], strikes: [Double]) {
        self.reqId = reqId
        self.exchange = exchange
        self.underlyingConId = underlyingConId
        self.tradingClass = tradingClass
        self.multiplier = multiplier
        self.expirations = expirations
        self.strikes = strikes
    }
}

/// Messages, gateway -> client.
public enum ServerMessage: Sendable, Hashable {
    case nextValidId(Int64)
    case managedAccounts([String])
    case error(ErrorMessage)
    /// TICK_PRICE (1). `price` nil for IB's -1 / unset; `size` nil when unset.
    case tickPrice(reqId: Int32, tickType: Int32, price: Double?, size: Double?, attrMask: Int32)
    /// TICK_SIZE (2).
    case tickSize(reqId: Int32, tickType: Int32, size: Double?)
    /// TICK_STRING (46). Tick 45 is the last trade time in epoch seconds.
    case tickString(reqId: Int32, tickType: Int32, value: String)
    /// TICK_GENERIC (45).
    case tickGeneric(reqId: Int32, tickType: Int32, value: Double?)
    case tickOptionComputation(OptionComputation)
    /// TICK_REQ_PARAMS (81), first after reqMktData.
    case tickReqParams(reqId: Int32, minTick: Double?, bboExchange: String, snapshotPermissions: Int32)
    /// MARKET_DATA_TYPE (58): the type actually served for `reqId`.
    case marketDataType(reqId: Int32, marketDataType: Int32)
    /// TICK_SNAPSHOT_END (57).
    case tickSnapshotEnd(reqId: Int32)
    /// CONTRACT_DATA (10). Boxed (`indirect`): a `ContractDetails` is about 600 bytes, and inline
    /// it made every decoded tick message that size (measured in bench-stages, issue 15).
    indirect case contractData(reqId: Int32, details: ContractDetails)
    case contractDataEnd(reqId: Int32)
    case optionParameters(OptionParameters)
    case optionParametersEnd(reqId: Int32)
    /// CURRENT_TIME (49): the answer to the heartbeat probe, epoch seconds.
    case currentTime(Int64)
    /// A message id this codec does not model: skipped and counted, never an error.
    case unknown(messageId: Int32, fieldCount: Int)
}
