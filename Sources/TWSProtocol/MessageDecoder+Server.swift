extension MessageDecoder {
    /// Layouts per PROTOCOL.md §5, checked against ibapi 10.50's `decoder.py`.
    static func decodeServerBody(id: Int32, reader r: inout FieldReader, version v: Int) throws(TWSProtocolError) -> ServerMessage {
        switch id {
        case IncomingMessageID.tickPrice:
            r.message = "TICK_PRICE"
            try r.skip("version")
            let reqId = try r.int32("reqId")
            let tickType = try r.int32("tickType")
            let price = try r.optionalDouble("price")
            let size = try r.optionalDouble("size")
            let attrMask = try r.optionalInt32("attrMask") ?? 0
            // -1 is IB's "no quote on this side"; a size of 0 is a real zero.
            return .tickPrice(
                reqId: reqId, tickType: tickType, price: price == -1 ? nil : price,
                size: size == -1 ? nil : size, attrMask: attrMask)

        case IncomingMessageID.tickSize:
            r.message = "TICK_SIZE"
            try r.skip("version")
            let reqId = try r.int32("reqId")
            let tickType = try r.int32("tickType")
            let size = try r.optionalDouble("size")
            return .tickSize(reqId: reqId, tickType: tickType, size: size == -1 ? nil : size)

        case IncomingMessageID.tickString:
            r.message = "TICK_STRING"
            try r.skip("version")
            return .tickString(reqId: try r.int32("reqId"), tickType: try r.int32("tickType"), value: try r.string("value"))

        case IncomingMessageID.tickGeneric:
            r.message = "TICK_GENERIC"
            try r.skip("version")
            return .tickGeneric(reqId: try r.int32("reqId"), tickType: try r.int32("tickType"), value: try r.optionalDouble("value"))

        case IncomingMessageID.tickOptionComputation:
            r.message = "TICK_OPTION_COMPUTATION"
            return .tickOptionComputation(try decodeOptionComputation(&r, version: v))

        case IncomingMessageID.tickReqParams:
            r.message = "TICK_REQ_PARAMS"
            return .tickReqParams(
                reqId: try r.int32("reqId"), minTick: try r.optionalDouble("minTick"),
                bboExchange: try r.string("bboExchange"),
                snapshotPermissions: try r.optionalInt32("snapshotPermissions") ?? 0)

        case IncomingMessageID.marketDataType:
            r.message = "MARKET_DATA_TYPE"
            try r.skip("version")
            return .marketDataType(reqId: try r.int32("reqId"), marketDataType: try r.int32("marketDataType"))

        case IncomingMessageID.tickSnapshotEnd:
            r.message = "TICK_SNAPSHOT_END"
            try r.skip("version")
            return .tickSnapshotEnd(reqId: try r.int32("reqId"))

        case IncomingMessageID.errorMessage:
            r.message = "ERR_MSG"
            if v < ServerVersion.errorTime { try r.skip("version") }
            let reqId = try r.int32("id")
            let code = try r.int32("code")
            let unescape = v >= ServerVersion.encodeMsgASCII7
            let text = try r.escapedString("message", unescape: unescape)
            var json: String?
            if v >= ServerVersion.advancedOrderReject {
                let raw = try r.escapedString("advancedOrderRejectJson", unescape: true)
                json = raw.isEmpty ? nil : raw
            }
            var time: Int64?
            if v >= ServerVersion.errorTime { time = try r.optionalInt64("errorTime") }
            return .error(ErrorMessage(reqId: reqId, code: code, message: text, advancedOrderRejectJson: json, errorTimeMs: time))

        case IncomingMessageID.nextValidId:
            r.message = "NEXT_VALID_ID"
            try r.skip("version")
            return .nextValidId(try r.int64("orderId"))

        case IncomingMessageID.managedAccounts:
            r.message = "MANAGED_ACCTS"
            try r.skip("version")
            let list = try r.string("accountsList")
            return .managedAccounts(list.split(separator: ",").map { String($0) })

        case IncomingMessageID.currentTime:
            r.message = "CURRENT_TIME"
            try r.skip("version")
            return .currentTime(try r.int64("time"))

        case IncomingMessageID.contractData:
            r.message = "CONTRACT_DATA"
            return try decodeContractData(&r, version: v)

        case IncomingMessageID.contractDataEnd:
            r.message = "CONTRACT_DATA_END"
            try r.skip("version")
            return .contractDataEnd(reqId: try r.int32("reqId"))

        case IncomingMessageID.securityDefinitionOptionParameter:
            r.message = "SECURITY_DEFINITION_OPTION_PARAMETER"
            let reqId = try r.int32("reqId")
            let exchange = try r.string("exchange")
            let conId = try r.optionalInt64("underlyingConId") ?? 0
            let tradingClass = try r.string("tradingClass")
            let multiplier = try r.string("multiplier")
            let expirationCount = try r.count("expirationCount")
            var expirations: [String] = []
            expirations.reserveCapacity(expirationCount)
            for _ in 0..<expirationCount { expirations.append(try r.string("expiration")) }
            let strikeCount = try r.count("strikeCount")
            var strikes: [Double] = []
            strikes.reserveCapacity(strikeCount)
            for _ in 0..<strikeCount {
                guard let strike = try r.optionalDouble("strike") else {
                    throw .invalidValue(field: "strike", text: "")
                }
                strikes.append(strike)
            }
            return .optionParameters(OptionParameters(
                reqId: reqId, exchange: exchange, underlyingConId: conId, tradingClass: tradingClass,
                multiplier: multiplier, expirations: expirations, strikes: strikes))

        case IncomingMessageID.securityDefinitionOptionParameterEnd:
            r.message = "SECURITY_DEFINITION_OPTION_PARAMETER_END"
            return .optionParametersEnd(reqId: try r.int32("reqId"))

        default:
            return .unknown(messageId: id, fieldCount: r.remainingFieldCount)
        }
    }

    /// From v156 there is no version field and a tickAttrib; before, a message version below 6
    /// carries only impliedVol and delta (plus optPrice and pvDividend on model ticks).
    private static func decodeOptionComputation(_ r: inout FieldReader, version v: Int) throws(TWSProtocolError) -> OptionComputation {
        var messageVersion = 6
        if v < ServerVersion.priceBasedVolatility {
            messageVersion = Int(try r.int32("version"))
        }
        let reqId = try r.int32("reqId")
        let tickType = try r.int32("tickType")
        var c = OptionComputation(reqId: reqId, tickType: tickType)
        if v >= ServerVersion.priceBasedVolatility {
            // Empty reads as 0 (return-based), as in ibapi; nil means "field absent" (< v156).
            c.tickAttrib = try r.optionalInt32("tickAttrib") ?? 0
        }
        // "Not computed" markers: impliedVol < 0, delta -2, optPrice/pvDividend/undPrice -1,
        // gamma/vega/theta -2.
        c.impliedVol = try r.optionalDouble("impliedVol").flatMap { $0 < 0 ? nil : $0 }
        c.delta = try r.optionalDouble("delta").flatMap { $0 == -2 ? nil : $0 }
        let isModel = tickType == 13 || tickType == 83
        if messageVersion >= 6 || isModel {
            c.optPrice = try r.optionalDouble("optPrice").flatMap { $0 == -1 ? nil : $0 }
            c.pvDividend = try r.optionalDouble("pvDividend").flatMap { $0 == -1 ? nil : $0 }
        }
        if messageVersion >= 6 {
            c.gamma = try r.optionalDouble("gamma").flatMap { $0 == -2 ? nil : $0 }
            c.vega = try r.optionalDouble("vega").flatMap { $0 == -2 ? nil : $0 }
            c.theta = try r.optionalDouble("theta").flatMap { $0 == -2 ? nil : $0 }
            c.undPrice = try r.optionalDouble("undPrice").flatMap { $0 == -1 ? nil : $0 }
        }
        return c
    }
}
