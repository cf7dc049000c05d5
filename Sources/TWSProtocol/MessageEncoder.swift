/// Typed messages -> complete frames, at a negotiated server version.
///
/// Requests are laid out exactly as ibapi 10.50's `EClient` lays them out (the golden vectors
/// in the tests hold this byte for byte), with every version gate it applies. Gateway
/// messages (for the simulator) are laid out as ibapi's and ib_async's decoders read them.
///
/// Versions above `ServerVersion.maximumText` are encoded as at 200: this codec speaks only
/// the text protocol, and the handshake never negotiates higher.
public enum MessageEncoder {
    /// One request as a full frame (length prefix included).
    public static func encode(_ message: ClientMessage, serverVersion: Int) -> [UInt8] {
        let v = min(serverVersion, ServerVersion.maximumText)
        var w = FieldWriter()
        switch message {
        case .startAPI(let clientId, let optionalCapabilities):
            w.add(OutgoingMessageID.startAPI)
            w.add(2)
            w.add(clientId)
            if v >= ServerVersion.optionalCapabilities { w.add(optionalCapabilities) }

        case .reqMktData(let reqId, let contract, let genericTickList, let snapshot, let regulatorySnapshot):
            w.add(OutgoingMessageID.reqMktData)
            w.add(11)
            w.add(reqId)
            if v >= ServerVersion.reqMktDataConId { w.add(contract.conId) }
            w.add(contract.symbol)
            w.add(contract.secType)
            w.add(contract.lastTradeDateOrContractMonth)
            w.addOrEmpty(contract.strike)
            w.add(contract.right)
            w.add(contract.multiplier)
            w.add(contract.exchange)
            w.add(contract.primaryExchange)
            w.add(contract.currency)
            w.add(contract.localSymbol)
            if v >= ServerVersion.tradingClass { w.add(contract.tradingClass) }
            // Combo legs are not modelled: a BAG goes out with zero legs.
            if contract.secType == "BAG" { w.add(0) }
            if v >= ServerVersion.deltaNeutral { w.add(false) }
            w.add(genericTickList)
            w.add(snapshot)
            if v >= ServerVersion.smartComponents { w.add(regulatorySnapshot) }
            if v >= ServerVersion.linking { w.add("") }  // mktDataOptions: "internal use only"

        case .cancelMktData(let reqId):
            w.add(OutgoingMessageID.cancelMktData)
            w.add(2)
            w.add(reqId)

        case .reqMarketDataType(let type):
            w.add(OutgoingMessageID.reqMarketDataType)
            w.add(1)
            w.add(type)

        case .reqContractDetails(let reqId, let contract, let includeExpired):
            w.add(OutgoingMessageID.reqContractDetails)
            w.add(8)
            if v >= ServerVersion.contractDataChain { w.add(reqId) }
            w.add(contract.conId)
            w.add(contract.symbol)
            w.add(contract.secType)
            w.add(contract.lastTradeDateOrContractMonth)
            w.addOrEmpty(contract.strike)
            w.add(contract.right)
            w.add(contract.multiplier)
            if v >= ServerVersion.primaryExchange {
                w.add(contract.exchange)
                w.add(contract.primaryExchange)
            } else if v >= ServerVersion.linking {
                let smart = contract.exchange == "SMART" || contract.exchange == "BEST"
                w.add(!contract.primaryExchange.isEmpty && smart
                    ? contract.exchange + ":" + contract.primaryExchange : contract.exchange)
            }
            w.add(contract.currency)
            w.add(contract.localSymbol)
            if v >= ServerVersion.tradingClass { w.add(contract.tradingClass) }
            w.add(includeExpired)
            if v >= ServerVersion.secIdType {
                w.add("")  // secIdType
                w.add("")  // secId
            }
            if v >= ServerVersion.bondIssuerId { w.add("") }  // issuerId

        case .reqSecDefOptParams(let reqId, let underlyingSymbol, let futFopExchange, let underlyingSecType, let underlyingConId):
            // No version field: this request was born after message versions were retired.
            w.add(OutgoingMessageID.reqSecDefOptParams)
            w.add(reqId)
            w.add(underlyingSymbol)
            w.add(futFopExchange)
            w.add(underlyingSecType)
            w.add(underlyingConId)

        case .reqCurrentTime:
            w.add(OutgoingMessageID.reqCurrentTime)
            w.add(1)

        case .reqIds(let numIds):
            w.add(OutgoingMessageID.reqIds)
            w.add(1)
            w.add(numIds)

        case .unknown(let messageId, let fields):
            w.add(messageId)
            for field in fields { w.add(field) }
        }
        return w.frame()
    }
}
