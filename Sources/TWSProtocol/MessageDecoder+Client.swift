extension MessageDecoder {
    /// Requests as ibapi 10.50 and ib_async 2.1 send them (PROTOCOL.md §4). The server must
    /// accept both spellings of an unset strike: ibapi's empty field and ib_async's `0.0`;
    /// both decode to nil (a zero strike is "unset" below v202, where IB gave it a meaning).
    static func decodeClientBody(id: Int32, reader r: inout FieldReader, version v: Int) throws(TWSProtocolError) -> ClientMessage {
        switch id {
        case OutgoingMessageID.startAPI:
            r.message = "START_API"
            try r.skip("version")
            let clientId = try r.int32("clientId")
            var capabilities = ""
            if v >= ServerVersion.optionalCapabilities, r.hasMore { capabilities = try r.string("optionalCapabilities") }
            return .startAPI(clientId: clientId, optionalCapabilities: capabilities)

        case OutgoingMessageID.reqMktData:
            r.message = "reqMktData"
            try r.skip("version")
            let reqId = try r.int32("reqId")
            var contract = Contract()
            if v >= ServerVersion.reqMktDataConId { contract.conId = try r.optionalInt64("conId") ?? 0 }
            try readContractBody(&r, into: &contract, version: v, combinedExchange: false)
            if contract.secType == "BAG" {
                let legs = try r.count("comboLegsCount")
                try r.skip("comboLeg", count: legs * 4)
            }
            if v >= ServerVersion.deltaNeutral, try r.bool("deltaNeutral") {
                try r.skip("deltaNeutralContract", count: 3)
            }
            let genericTickList = try r.string("genericTickList")
            let snapshot = try r.bool("snapshot")
            var regulatory = false
            if v >= ServerVersion.smartComponents, r.hasMore { regulatory = try r.bool("regulatorySnapshot") }
            // mktDataOptions ("internal use only") is read past, not modelled.
            return .reqMktData(reqId: reqId, contract: contract, genericTickList: genericTickList, snapshot: snapshot, regulatorySnapshot: regulatory)

        case OutgoingMessageID.cancelMktData:
            r.message = "cancelMktData"
            try r.skip("version")
            return .cancelMktData(reqId: try r.int32("reqId"))

        case OutgoingMessageID.reqMarketDataType:
            r.message = "reqMarketDataType"
            try r.skip("version")
            return .reqMarketDataType(try r.int32("marketDataType"))

        case OutgoingMessageID.reqContractDetails:
            r.message = "reqContractDetails"
            try r.skip("version")
            var reqId: Int32 = -1
            if v >= ServerVersion.contractDataChain { reqId = try r.int32("reqId") }
            var contract = Contract()
            contract.conId = try r.optionalInt64("conId") ?? 0
            try readContractBody(&r, into: &contract, version: v, combinedExchange: true)
            let includeExpired = try r.bool("includeExpired")
            // secIdType, secId (v45+) and issuerId (v176+) are read past, not modelled.
            return .reqContractDetails(reqId: reqId, contract: contract, includeExpired: includeExpired)

        case OutgoingMessageID.reqSecDefOptParams:
            r.message = "reqSecDefOptParams"
            return .reqSecDefOptParams(
                reqId: try r.int32("reqId"), underlyingSymbol: try r.string("underlyingSymbol"),
                futFopExchange: try r.string("futFopExchange"), underlyingSecType: try r.string("underlyingSecType"),
                underlyingConId: try r.optionalInt64("underlyingConId") ?? 0)

        case OutgoingMessageID.reqCurrentTime:
            return .reqCurrentTime

        case OutgoingMessageID.reqIds:
            r.message = "reqIds"
            try r.skip("version")
            return .reqIds(numIds: try r.optionalInt32("numIds") ?? 1)

        default:
            var fields: [String] = []
            while r.hasMore { fields.append(try r.string("field")) }
            return .unknown(messageId: id, fields: fields)
        }
    }

    /// symbol ... tradingClass, the part of a contract reqMktData and reqContractDetails share.
    /// reqContractDetails sends exchange and primaryExchange as two fields from v75 and as
    /// `SMART:PRIMARY` in one field from v70.
    private static func readContractBody(
        _ r: inout FieldReader, into c: inout Contract, version v: Int, combinedExchange: Bool
    ) throws(TWSProtocolError) {
        c.symbol = try r.string("symbol")
        c.secType = try r.string("secType")
        c.lastTradeDateOrContractMonth = try r.string("lastTradeDateOrContractMonth")
        c.strike = try r.optionalDouble("strike").flatMap { $0 == 0 ? nil : $0 }
        c.right = try r.string("right")
        c.multiplier = try r.string("multiplier")
        if !combinedExchange || v >= ServerVersion.primaryExchange {
            c.exchange = try r.string("exchange")
            c.primaryExchange = try r.string("primaryExchange")
        } else if v >= ServerVersion.linking {
            let combined = try r.string("exchange")
            if let colon = combined.firstIndex(of: ":") {
                c.exchange = String(combined[..<colon])
                c.primaryExchange = String(combined[combined.index(after: colon)...])
            } else {
                c.exchange = combined
                c.primaryExchange = ""
            }
        }
        c.currency = try r.string("currency")
        c.localSymbol = try r.string("localSymbol")
        c.tradingClass = v >= ServerVersion.tradingClass ? try r.string("tradingClass") : ""
    }
}
