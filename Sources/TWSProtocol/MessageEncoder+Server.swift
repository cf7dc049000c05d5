extension MessageEncoder {
    /// Java's `Double.MAX_VALUE` text: how the gateway spells an unset double, and a value both
    /// Python clients parse where an empty field would make `float()` fail.
    static let unsetDoubleText = "1.7976931348623157E308"

    /// One gateway message as a full frame (the simulator's side).
    ///
    /// nil values go out in the spelling a real gateway uses for "unknown" (-1 prices, the
    /// option computation's -1/-2 markers, empty or Double.max fields), so that the decoder
    /// maps them back to nil and IB's own clients read them as IB's sentinels.
    public static func encode(_ message: ServerMessage, serverVersion: Int) -> [UInt8] {
        let v = min(serverVersion, ServerVersion.maximumText)
        var w = FieldWriter()
        switch message {
        case .nextValidId(let orderId):
            w.add(IncomingMessageID.nextValidId)
            w.add(1)
            w.add(orderId)

        case .managedAccounts(let accounts):
            w.add(IncomingMessageID.managedAccounts)
            w.add(1)
            w.add(accounts.joined(separator: ","))

        case .error(let error):
            w.add(IncomingMessageID.errorMessage)
            if v < ServerVersion.errorTime { w.add(2) }
            w.add(error.reqId)
            w.add(error.code)
            w.add(v >= ServerVersion.encodeMsgASCII7 ? ASCII7.escape(error.message) : error.message)
            if v >= ServerVersion.advancedOrderReject {
                let json = error.advancedOrderRejectJson ?? ""
                w.add(v >= ServerVersion.encodeMsgASCII7 ? ASCII7.escape(json) : json)
            }
            if v >= ServerVersion.errorTime { w.addOrEmpty(error.errorTimeMs) }

        case .tickPrice(let reqId, let tickType, let price, let size, let attrMask):
            w.add(IncomingMessageID.tickPrice)
            w.add(6)
            w.add(reqId)
            w.add(tickType)
            if let price { w.add(price) } else { w.add("-1") }
            w.addDecimal(size)
            w.add(attrMask)

        case .tickSize(let reqId, let tickType, let size):
            w.add(IncomingMessageID.tickSize)
            w.add(6)
            w.add(reqId)
            w.add(tickType)
            w.addDecimal(size)

        case .tickString(let reqId, let tickType, let value):
            w.add(IncomingMessageID.tickString)
            w.add(6)
            w.add(reqId)
            w.add(tickType)
            w.add(value)

        case .tickGeneric(let reqId, let tickType, let value):
            w.add(IncomingMessageID.tickGeneric)
            w.add(6)
            w.add(reqId)
            w.add(tickType)
            if let value { w.add(value) } else { w.add(unsetDoubleText) }

        case .tickOptionComputation(let c):
            w.add(IncomingMessageID.tickOptionComputation)
            if v >= ServerVersion.priceBasedVolatility {
                w.add(c.reqId)
                w.add(c.tickType)
                w.add(c.tickAttrib ?? 0)
            } else {
                w.add(6)
                w.add(c.reqId)
                w.add(c.tickType)
            }
            w.add(c.impliedVol ?? -1)
            w.add(c.delta ?? -2)
            w.add(c.optPrice ?? -1)
            w.add(c.pvDividend ?? -1)
            w.add(c.gamma ?? -2)
            w.add(c.vega ?? -2)
            w.add(c.theta ?? -2)
            w.add(c.undPrice ?? -1)

        case .tickReqParams(let reqId, let minTick, let bboExchange, let snapshotPermissions):
            w.add(IncomingMessageID.tickReqParams)
            w.add(reqId)
            if let minTick { w.add(minTick) } else { w.add(unsetDoubleText) }
            w.add(bboExchange)
            w.add(snapshotPermissions)

        case .marketDataType(let reqId, let marketDataType):
            w.add(IncomingMessageID.marketDataType)
            w.add(1)
            w.add(reqId)
            w.add(marketDataType)

        case .tickSnapshotEnd(let reqId):
            w.add(IncomingMessageID.tickSnapshotEnd)
            w.add(1)
            w.add(reqId)

        case .contractData(let reqId, let details):
            encodeContractData(reqId: reqId, details: details, version: v, into: &w)

        case .contractDataEnd(let reqId):
            w.add(IncomingMessageID.contractDataEnd)
            w.add(1)
            w.add(reqId)

        case .optionParameters(let p):
            w.add(IncomingMessageID.securityDefinitionOptionParameter)
            w.add(p.reqId)
            w.add(p.exchange)
            w.add(p.underlyingConId)
            w.add(p.tradingClass)
            w.add(p.multiplier)
            w.add(p.expirations.count)
            for expiration in p.expirations { w.add(expiration) }
            w.add(p.strikes.count)
            for strike in p.strikes { w.add(strike) }

        case .optionParametersEnd(let reqId):
            w.add(IncomingMessageID.securityDefinitionOptionParameterEnd)
            w.add(reqId)

        case .currentTime(let seconds):
            w.add(IncomingMessageID.currentTime)
            w.add(1)
            w.add(seconds)

        case .unknown(let messageId, let fieldCount):
            w.add(messageId)
            for _ in 0..<max(0, fieldCount) { w.add("") }
        }
        return w.frame()
    }

    /// CONTRACT_DATA in the layout of `version` (PROTOCOL.md §5 and ibapi's
    /// `processContractDataMsg`).
    private static func encodeContractData(reqId: Int32, details d: ContractDetails, version v: Int, into w: inout FieldWriter) {
        let c = d.contract
        w.add(IncomingMessageID.contractData)
        if v < ServerVersion.sizeRules { w.add(8) }
        w.add(reqId)
        w.add(c.symbol)
        w.add(c.secType)
        w.add(d.lastTradeTime.isEmpty
            ? c.lastTradeDateOrContractMonth : c.lastTradeDateOrContractMonth + " " + d.lastTradeTime)
        if v >= ServerVersion.lastTradeDate { w.add(d.lastTradeDate) }
        if let strike = c.strike { w.add(strike) } else { w.add("0") }
        w.add(c.right)
        w.add(c.exchange)
        w.add(c.currency)
        w.add(c.localSymbol)
        w.add(d.marketName)
        w.add(c.tradingClass)
        w.add(c.conId)
        w.addOrEmpty(d.minTick)
        if v >= ServerVersion.mdSizeMultiplier && v < ServerVersion.sizeRules { w.add(1) }
        w.add(c.multiplier)
        w.add(d.orderTypes)
        w.add(d.validExchanges)
        w.addOrEmpty(d.priceMagnifier)
        w.addOrEmpty(d.underConId)
        w.add(v >= ServerVersion.encodeMsgASCII7 ? ASCII7.escape(d.longName) : d.longName)
        w.add(c.primaryExchange)
        w.add(d.contractMonth)
        w.add(d.industry)
        w.add(d.category)
        w.add(d.subcategory)
        w.add(d.timeZoneId)
        w.add(d.tradingHours)
        w.add(d.liquidHours)
        w.add(d.evRule)
        // Both reference decoders parse evMultiplier with int(): never send "1.0".
        w.addDecimal(d.evMultiplier)
        w.add(d.secIdList.count)
        for pair in d.secIdList {
            w.add(pair.tag)
            w.add(pair.value)
        }
        if v >= ServerVersion.aggGroup { w.addOrEmpty(d.aggGroup) }
        if v >= ServerVersion.underlyingInfo {
            w.add(d.underSymbol)
            w.add(d.underSecType)
        }
        if v >= ServerVersion.marketRules { w.add(d.marketRuleIds) }
        if v >= ServerVersion.realExpirationDate { w.add(d.realExpirationDate) }
        if v >= ServerVersion.stockType { w.add(d.stockType) }
        if v == ServerVersion.fractionalSizeSupport { w.addDecimal(d.sizeIncrement) }  // sizeMinTick
        if v >= ServerVersion.sizeRules {
            w.addDecimal(d.minSize)
            w.addDecimal(d.sizeIncrement)
            w.addDecimal(d.suggestedSizeIncrement)
        }
        if v >= ServerVersion.fundDataFields && c.secType == "FUND" {
            // Fund details are not modelled: 7 texts, 3 booleans (fundClosed...), 5 texts and
            // 2 enums, in ibapi's order, all empty or false.
            for _ in 0..<7 { w.add("") }
            for _ in 0..<3 { w.add(false) }
            for _ in 0..<5 { w.add("") }
            for _ in 0..<2 { w.add("") }
        }
        if v >= ServerVersion.ineligibilityReasons { w.add(0) }
    }
}
