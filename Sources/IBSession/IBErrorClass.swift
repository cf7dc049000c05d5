/// What an ERR_MSG code means for the session, so reactions are chosen by meaning rather than
/// by scattered numbers. Codes not listed are `.requestError` when tied to a request and
/// `.other` when not.
public enum IBErrorClass: Sendable, Hashable {
    /// 326: the client id is used by another live session; the gateway closes the socket.
    case clientIdInUse
    /// 502/504 (generated client-side by IB's own libraries): no connection.
    case notConnected
    /// 1100, 2110: the gateway lost IB's servers; data stops, the socket stays.
    case connectivityLost
    /// 1101: back, but every market data subscription is gone.
    case connectivityRestoredDataLost
    /// 1102: back, subscriptions kept.
    case connectivityRestoredDataMaintained
    /// 1300: the API port changed; this connection is dropped. Carries the new port if the
    /// message ends with one.
    case portChanged(newPort: Int?)
    /// 2103 (market data), 2105 (HMDS), 2157 (sec-def): a farm broke. Not a socket problem.
    case farmBroken(farm: String)
    /// 2104, 2106, 2158: a farm is OK (also sent at every connect).
    case farmOK(farm: String)
    /// 2107, 2108: a farm is idle and reconnects on demand; 2100-2199 others; plain notices.
    case informational
    /// 10197: a competing live session (TWS, mobile, web) holds the market data.
    case competingSession
    /// 354, 10089, 10168: no permission for this contract's market data (10168: and delayed
    /// data is not enabled). IB opens no line.
    case noPermission
    /// 10167: no live permission; delayed data follows instead (a warning).
    case delayedInstead
    /// 10090 ("Part of requested market data is not subscribed. Subscription-independent ticks
    /// are still active"), 10091 (part needs an additional API subscription; delayed available):
    /// a warning, the line goes on streaming the tick types the account is entitled to.
    case partialData
    /// 200, 321: the contract is unknown or the request invalid; only that request fails.
    case invalidRequest
    /// 100: more than ~50 messages per second.
    case pacingViolation
    /// 101: too many simultaneous market data lines.
    case tooManyLines
    /// 300: cancel for an unknown ticker id (harmless after a resubscribe).
    case unknownTickerCancel
    /// 322: a ticker id used twice.
    case duplicateTicker
    /// Anything else.
    case other

    /// Classifies `code`; `message` supplies the farm name ("...:usfarm") or the new port.
    public static func classify(code: Int32, message: String) -> IBErrorClass {
        switch code {
        case 326: return .clientIdInUse
        case 502, 504: return .notConnected
        case 1100, 2110: return .connectivityLost
        case 1101: return .connectivityRestoredDataLost
        case 1102: return .connectivityRestoredDataMaintained
        case 1300: return .portChanged(newPort: trailingInteger(message))
        case 2103, 2105, 2157: return .farmBroken(farm: farmName(message, code: code))
        case 2104, 2106, 2158: return .farmOK(farm: farmName(message, code: code))
        case 10197: return .competingSession
        case 354, 10089, 10168: return .noPermission
        case 10167: return .delayedInstead
        case 10090, 10091: return .partialData
        case 200, 321: return .invalidRequest
        case 100: return .pacingViolation
        case 101: return .tooManyLines
        case 300: return .unknownTickerCancel
        case 322: return .duplicateTicker
        case 2100...2199: return .informational
        default: return .other
        }
    }

    /// Informational codes are logged and forwarded, never counted as errors.
    public var isInformational: Bool {
        switch self {
        case .informational, .farmOK, .connectivityRestoredDataMaintained, .unknownTickerCancel:
            true
        default:
            false
        }
    }

    /// Whether this code, tied to a one-shot request, ends that request with an error.
    /// Warnings (10167, farm notices) let it go on.
    public var failsRequest: Bool {
        switch self {
        case .noPermission, .invalidRequest, .tooManyLines, .competingSession, .duplicateTicker, .other, .pacingViolation:
            true
        default:
            false
        }
    }

    /// What the code means for the one request it names (or for the connection), from IB's
    /// message-code table and the official clients (ibapi `errors.py`, ib_async
    /// `wrapper.error`, which treats 2100-2199 and 10167 as warnings).
    public var severity: IBErrorSeverity {
        switch self {
        case .clientIdInUse, .notConnected, .connectivityLost, .connectivityRestoredDataLost, .portChanged, .farmBroken:
            .connection
        case .connectivityRestoredDataMaintained, .farmOK, .informational, .unknownTickerCancel:
            .informational
        case .delayedInstead, .partialData:
            .warning
        case .competingSession, .noPermission, .invalidRequest, .pacingViolation, .tooManyLines, .duplicateTicker, .other:
            .requestFatal
        }
    }

    /// The farm name is what follows the last colon ("...is broken:usfarm"); when a gateway
    /// sends no name, the code stands in so OK and broken notices still pair up.
    static func farmName(_ message: String, code: Int32) -> String {
        if let colon = message.lastIndex(of: ":") {
            let name = trimmed(message[message.index(after: colon)...])
            if !name.isEmpty { return String(name) }
        }
        switch code {
        case 2103, 2104: return "marketdata"
        case 2105, 2106: return "hmds"
        default: return "secdef"
        }
    }

    static func trailingInteger(_ message: String) -> Int? {
        let digits = trimmed(message[...]).reversed().prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(String(digits.reversed()))
    }
}

private func trimmed(_ text: Substring) -> Substring {
    var s = text
    while let f = s.first, f.isWhitespace { s.removeFirst() }
    while let l = s.last, l.isWhitespace { s.removeLast() }
    return s
}

/// The four meanings an ERR_MSG can have for quote-relay (README, "IB codes").
public enum IBErrorSeverity: String, Sendable, Hashable, CaseIterable {
    /// Nothing is wrong (2104 farm OK, 2107/2108 idle farms, 1102, 300 after our own cancel).
    case informational
    /// The request goes on, possibly with less (10090 partial data, 10167 delayed instead).
    case warning
    /// The request is over: IB serves no data for it (200, 321, 354, 10089, 10168, 101, 10197,
    /// 100, 322, and any code IB's table does not list as a warning).
    case requestFatal = "request_fatal"
    /// About the connection to the gateway or IB's servers, not one request (326, 1100, 1101,
    /// 1300, 2103, 2105, 2110, 2157, 502, 504).
    case connection
}
