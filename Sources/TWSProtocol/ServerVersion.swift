/// Negotiated protocol ("server") versions and the gates that change the layouts we use.
///
/// The negotiated range: our client advertises `v100..200`. 100 is the oldest version the
/// `v<min>..<max>` handshake exists for; 200 is the newest *text* protocol. From 201
/// (`protobuf`) the gateway switches message ids to raw 4-byte integers and, from 205/206,
/// sends contract and market data as protobuf, which this codec deliberately does not speak.
/// A gateway negotiates min(client max, server max), so advertising 200 keeps every message
/// in text no matter how new the gateway is. Real gateways answer 176 (2023) or 178 (10.30
/// with ib_async); every layout between 100 and 200 is supported by following the gates below.
public enum ServerVersion {
    /// The lowest version of the `v<min>..<max>` handshake.
    public static let minimum = 100
    /// The highest version still fully text; never raise to 201 or more (protobuf).
    public static let maximumText = 200
    /// What our client advertises.
    public static let clientRange: ClosedRange<Int> = minimum...maximumText

    public static let reqMktDataConId = 47
    public static let deltaNeutral = 40
    public static let contractDataChain = 40
    public static let secIdType = 45
    public static let tradingClass = 68
    public static let linking = 70
    public static let optionalCapabilities = 72
    public static let primaryExchange = 75
    public static let pastLimit = 109
    public static let mdSizeMultiplier = 110
    public static let smartComponents = 114
    public static let aggGroup = 121
    public static let underlyingInfo = 122
    public static let marketRules = 126
    public static let preOpenBidAsk = 132
    public static let realExpirationDate = 134
    public static let stockType = 152
    public static let encodeMsgASCII7 = 153
    public static let priceBasedVolatility = 156
    public static let fractionalSizeSupport = 163
    public static let sizeRules = 164
    public static let advancedOrderReject = 166
    public static let bondIssuerId = 176
    public static let fundDataFields = 179
    public static let lastTradeDate = 182
    public static let ineligibilityReasons = 186
    public static let errorTime = 194
    /// Message ids become raw 4-byte integers from here: out of this codec's range.
    public static let protobuf = 201
}

/// Message ids of the requests (client -> gateway) this codec models.
public enum OutgoingMessageID {
    public static let reqMktData: Int32 = 1
    public static let cancelMktData: Int32 = 2
    public static let reqIds: Int32 = 8
    public static let reqContractDetails: Int32 = 9
    public static let reqCurrentTime: Int32 = 49
    public static let reqMarketDataType: Int32 = 59
    public static let startAPI: Int32 = 71
    public static let reqSecDefOptParams: Int32 = 78
}

/// Message ids of the gateway messages (gateway -> client) this codec models.
public enum IncomingMessageID {
    public static let tickPrice: Int32 = 1
    public static let tickSize: Int32 = 2
    public static let errorMessage: Int32 = 4
    public static let nextValidId: Int32 = 9
    public static let contractData: Int32 = 10
    public static let managedAccounts: Int32 = 15
    public static let tickOptionComputation: Int32 = 21
    public static let tickGeneric: Int32 = 45
    public static let tickString: Int32 = 46
    public static let currentTime: Int32 = 49
    public static let contractDataEnd: Int32 = 52
    public static let tickSnapshotEnd: Int32 = 57
    public static let marketDataType: Int32 = 58
    public static let securityDefinitionOptionParameter: Int32 = 75
    public static let securityDefinitionOptionParameterEnd: Int32 = 76
    public static let tickReqParams: Int32 = 81
}

/// IB's "unset" markers, as they appear on the wire.
public enum Sentinel {
    public static let unsetInt32 = Int32.max
    public static let unsetInt64 = Int64.max
    /// `1.7976931348623157E308` in Java's spelling.
    public static let unsetDouble = Double.greatestFiniteMagnitude
}
