extension MessageDecoder {
    /// CONTRACT_DATA, following ibapi's `processContractDataMsg` gate by gate: below v164 a
    /// message version leads (and decides which blocks exist), v110-163 carry the obsolete
    /// mdSizeMultiplier, v163 alone has sizeMinTick, v164+ the three size rules, v182+ a
    /// separate lastTradeDate, v179+ fund fields for FUND contracts, v186+ ineligibility reasons.
    static func decodeContractData(_ r: inout FieldReader, version v: Int) throws(TWSProtocolError) -> ServerMessage {
        var messageVersion = 8
        if v < ServerVersion.sizeRules { messageVersion = Int(try r.int32("version")) }
        var reqId: Int32 = -1
        if messageVersion >= 3 { reqId = try r.int32("reqId") }

        var c = Contract(secType: "", exchange: "", currency: "")
        var d = ContractDetails(contract: c, priceMagnifier: nil)
        c.symbol = try r.string("symbol")
        c.secType = try r.string("secType")
        let lastTimes = try r.string("lastTradeDateOrContractMonth")
        let parts = lastTimes.contains("-")
            ? lastTimes.split(separator: "-").map(String.init)
            : lastTimes.split(separator: " ").map(String.init)
        c.lastTradeDateOrContractMonth = parts.first ?? ""
        if parts.count > 1 { d.lastTradeTime = parts[1...].joined(separator: " ") }
        if v >= ServerVersion.lastTradeDate { d.lastTradeDate = try r.string("lastTradeDate") }
        c.strike = try r.optionalDouble("strike").flatMap { $0 == 0 ? nil : $0 }
        c.right = try r.string("right")
        c.exchange = try r.string("exchange")
        c.currency = try r.string("currency")
        c.localSymbol = try r.string("localSymbol")
        d.marketName = try r.string("marketName")
        c.tradingClass = try r.string("tradingClass")
        c.conId = try r.optionalInt64("conId") ?? 0
        d.minTick = try r.optionalDouble("minTick")
        if v >= ServerVersion.mdSizeMultiplier && v < ServerVersion.sizeRules { try r.skip("mdSizeMultiplier") }
        c.multiplier = try r.string("multiplier")
        d.orderTypes = try r.string("orderTypes")
        d.validExchanges = try r.string("validExchanges")
        d.priceMagnifier = try r.optionalInt32("priceMagnifier")
        if messageVersion >= 4 { d.underConId = try r.optionalInt64("underConId") }
        if messageVersion >= 5 {
            d.longName = try r.escapedString("longName", unescape: v >= ServerVersion.encodeMsgASCII7)
            c.primaryExchange = try r.string("primaryExchange")
        }
        if messageVersion >= 6 {
            d.contractMonth = try r.string("contractMonth")
            d.industry = try r.string("industry")
            d.category = try r.string("category")
            d.subcategory = try r.string("subcategory")
            d.timeZoneId = try r.string("timeZoneId")
            d.tradingHours = try r.string("tradingHours")
            d.liquidHours = try r.string("liquidHours")
        }
        if messageVersion >= 8 {
            d.evRule = try r.string("evRule")
            d.evMultiplier = try r.optionalDouble("evMultiplier")
        }
        if messageVersion >= 7 {
            let count = try r.count("secIdListCount")
            for _ in 0..<count {
                let tag = try r.string("secIdList tag")
                let value = try r.string("secIdList value")
                d.secIdList.append((tag: tag, value: value))
            }
        }
        if v >= ServerVersion.aggGroup { d.aggGroup = try r.optionalInt32("aggGroup") }
        if v >= ServerVersion.underlyingInfo {
            d.underSymbol = try r.string("underSymbol")
            d.underSecType = try r.string("underSecType")
        }
        if v >= ServerVersion.marketRules { d.marketRuleIds = try r.string("marketRuleIds") }
        if v >= ServerVersion.realExpirationDate { d.realExpirationDate = try r.string("realExpirationDate") }
        if v >= ServerVersion.stockType { d.stockType = try r.string("stockType") }
        if v == ServerVersion.fractionalSizeSupport { _ = try r.optionalDouble("sizeMinTick") }
        if v >= ServerVersion.sizeRules {
            d.minSize = try r.optionalDouble("minSize")
            d.sizeIncrement = try r.optionalDouble("sizeIncrement")
            d.suggestedSizeIncrement = try r.optionalDouble("suggestedSizeIncrement")
        }
        if v >= ServerVersion.fundDataFields && c.secType == "FUND" {
            try r.skip("fund fields", count: 17)
        }
        if v >= ServerVersion.ineligibilityReasons {
            let count = try r.count("ineligibilityReasonCount")
            try r.skip("ineligibilityReason", count: count * 2)
        }
        d.contract = c
        return .contractData(reqId: reqId, details: d)
    }
}
