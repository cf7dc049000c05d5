import TWSProtocol

/// The ERR_MSG codes and texts the simulator sends, worded as IB Gateway words them so that
/// clients which match on text (some do) behave as in production.
enum GatewayNotice {
    static func error(_ reqId: Int32, _ code: Int32, _ text: String) -> ServerMessage {
        .error(ErrorMessage(reqId: reqId, code: code, message: text, advancedOrderRejectJson: ""))
    }

    static let clientIdInUse = error(
        -1, 326, "Unable to connect as the client id is already in use. Retry with a unique client id.")
    static func pacing(_ reqId: Int32) -> ServerMessage {
        error(reqId, 100, "Max rate of messages per second has been exceeded.")
    }
    static func tooManyTickers(_ reqId: Int32) -> ServerMessage {
        error(reqId, 101, "Max number of tickers has been reached.")
    }
    static func noSecurityDefinition(_ reqId: Int32) -> ServerMessage {
        error(reqId, 200, "No security definition has been found for the request")
    }
    static func ambiguous(_ reqId: Int32, symbol: String) -> ServerMessage {
        error(reqId, 200, "The contract description specified for \(symbol) is ambiguous.")
    }
    static func unknownTicker(_ reqId: Int32) -> ServerMessage {
        error(reqId, 300, "Can't find EId with tickerId:\(reqId)")
    }
    static func missingExchange(_ reqId: Int32) -> ServerMessage {
        error(reqId, 321, "Error validating request.-'bW' : cause - Please enter exchange")
    }
    static func duplicateTicker(_ reqId: Int32) -> ServerMessage {
        error(reqId, 322, "Error processing request.-'bW' : cause - Duplicate ticker id")
    }
    static func noPermission(_ reqId: Int32, symbol: String) -> ServerMessage {
        error(
            reqId, 354,
            "Requested market data is not subscribed. Check API status by selecting the Account menu then under Management choose Market Data Subscription Manager and/or Subscriptions.Delayed market data is not available.\(symbol) NASDAQ.NMS/TOP/ALL"
        )
    }
    static func competingSession(_ reqId: Int32) -> ServerMessage {
        error(reqId, 10197, "No market data during competing live session")
    }
    static let connectivityLost = error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
    static let restoredDataLost = error(
        -1, 1101, "Connectivity between IB and Trader Workstation has been restored - data lost.")
    static let restoredDataMaintained = error(
        -1, 1102, "Connectivity between IB and Trader Workstation has been restored - data maintained.")
    static func farmBroken(_ farm: String) -> ServerMessage {
        error(-1, 2103, "Market data farm connection is broken:\(farm)")
    }
    static func farmOK(_ farm: String) -> ServerMessage { error(-1, 2104, "Market data farm connection is OK:\(farm)") }
    static let hmdsOK = error(-1, 2106, "HMDS data farm connection is OK:ushmds")
    static let secDefOK = error(-1, 2158, "Sec-def data farm connection is OK:secdefil")

    /// IB's wording for codes the `error` fault can send (IB's message-code table).
    static func text(forCode code: Int32) -> String {
        switch code {
        case 10090:
            "Part of requested market data is not subscribed. Subscription-independent ticks are still active until subscription is not active."
        case 10091:
            "Part of requested market data requires additional subscription for API. See link in 'Market Data Connections' dialog for more details.Delayed market data is available."
        case 10167: "Requested market data is not subscribed. Displaying delayed market data."
        case 10168: "Requested market data is not subscribed. Delayed market data is not enabled."
        case 10089: "Requested market data requires additional subscription for API. See link in 'Market Data Connections' dialog for more details."
        case 354: "Requested market data is not subscribed."
        case 200: "No security definition has been found for the request"
        case 101: "Max number of tickers has been reached."
        case 10197: "No market data during competing live session"
        case 2104: "Market data farm connection is OK:usfarm"
        case 2108: "Market data farm connection is inactive but should be available upon demand.usfarm"
        default: "Error \(code)"
        }
    }

    /// Market data farms announced at connect (2104 each), as a US paper account sees them.
    static let marketDataFarms = ["usfarm", "usopt"]
}

/// Live tick types and their delayed equivalents (served with market data type 3/4).
enum DelayedTicks {
    static let map: [Int32: Int32] = [
        0: 69, 1: 66, 2: 67, 3: 70, 4: 68, 5: 71, 6: 72, 7: 73, 8: 74, 9: 75, 14: 76, 45: 88,
        10: 80, 11: 81, 12: 82, 13: 83,
    ]
}
