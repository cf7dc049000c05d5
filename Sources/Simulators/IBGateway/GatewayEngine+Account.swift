import TWSProtocol

extension GatewayEngine {
    /// Answers to the account and order requests that client libraries send while
    /// connecting (ib_async waits for each of them, up to its connect timeout): the
    /// simulated account is an empty paper account, so each gets just its END message.
    /// The codec does not model these messages, so they go out as raw fields.
    func accountSyncReply(messageId: Int32, fields: [String], account: String) -> [[String]]? {
        func field(_ i: Int) -> String { i < fields.count ? fields[i] : "" }
        switch messageId {
        case 61:  // reqPositions -> POSITION_END
            return [["62", "1"]]
        case 5, 16:  // reqOpenOrders / reqAllOpenOrders -> OPEN_ORDER_END
            return [["53", "1"]]
        case 99:  // reqCompletedOrders -> COMPLETED_ORDERS_END
            return [["102"]]
        case 6:  // reqAccountUpdates(version, subscribe, account) -> ACCOUNT_DOWNLOAD_END
            guard field(1) == "1" else { return [] }
            return [["54", "1", field(2).isEmpty ? account : field(2)]]
        case 76:  // reqAccountUpdatesMulti(version, reqId, ...) -> ACCOUNT_UPDATE_MULTI_END
            return [["74", "1", field(1)]]
        case 7:  // reqExecutions(version, reqId, ...) -> EXECUTION_DATA_END
            return [["55", "1", field(1)]]
        default:
            return nil
        }
    }
}
