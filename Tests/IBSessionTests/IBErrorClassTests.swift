import Testing

@testable import IBSession

@Suite("IBErrorClass")
struct IBErrorClassTests {
    @Test("codes by meaning", arguments: [
        (326, "Unable to connect as the client id is already in use. Retry with a unique client id.", IBErrorClass.clientIdInUse),
        (502, "Couldn't connect to TWS.", .notConnected),
        (504, "Not connected", .notConnected),
        (1100, "Connectivity between IB and Trader Workstation has been lost.", .connectivityLost),
        (2110, "Connectivity between Trader Workstation and server is broken. It will be restored automatically.", .connectivityLost),
        (1101, "Connectivity between IB and TWS has been restored- data lost.", .connectivityRestoredDataLost),
        (1102, "Connectivity between IB and TWS has been restored- data maintained.", .connectivityRestoredDataMaintained),
        (1300, "TWS socket port has been reset and this connection is being dropped. Please reconnect on the new port - 4003", .portChanged(newPort: 4003)),
        (1300, "port reset", .portChanged(newPort: nil)),
        (2103, "Market data farm connection is broken:usfarm", .farmBroken(farm: "usfarm")),
        (2105, "HMDS data farm connection is broken:ushmds", .farmBroken(farm: "ushmds")),
        (2157, "Sec-def data farm connection is broken:secdefil", .farmBroken(farm: "secdefil")),
        (2104, "Market data farm connection is OK:usfarm", .farmOK(farm: "usfarm")),
        (2106, "HMDS data farm connection is OK:ushmds", .farmOK(farm: "ushmds")),
        (2158, "Sec-def data farm connection is OK:secdefil", .farmOK(farm: "secdefil")),
        (2103, "Market data farm connection is broken", .farmBroken(farm: "marketdata")),
        (2107, "HMDS data farm connection is inactive but should be available upon demand.ushmds", .informational),
        (2108, "Market data farm connection is inactive but should be available upon demand.usfarm", .informational),
        (2119, "Market data farm is connecting:usfarm", .informational),
        (10197, "No market data during competing live session", .competingSession),
        (354, "Requested market data is not subscribed.", .noPermission),
        (10089, "Requested market data requires additional subscription for API.", .noPermission),
        (10167, "Requested market data is not subscribed. Displaying delayed market data.", .delayedInstead),
        (10090, "Part of requested market data is not subscribed. Subscription-independent ticks are still active until subscription is not active.", .partialData),
        (10091, "Part of requested market data requires additional subscription for API.", .partialData),
        (10168, "Requested market data is not subscribed. Delayed market data is not enabled.", .noPermission),
        (200, "No security definition has been found for the request", .invalidRequest),
        (321, "Error validating request.-'bW' : cause - Exchange not specified", .invalidRequest),
        (100, "Max rate of messages per second has been exceeded:max=50 rec=75", .pacingViolation),
        (101, "Max number of tickers has been reached", .tooManyLines),
        (300, "Can't find EId with tickerId:7", .unknownTickerCancel),
        (322, "Duplicate ticker id", .duplicateTicker),
        (162, "Historical Market Data Service error message", .other),
    ] as [(Int32, String, IBErrorClass)])
    func classify(code: Int32, message: String, expected: IBErrorClass) {
        #expect(IBErrorClass.classify(code: code, message: message) == expected)
    }

    @Test("informational codes are not errors", arguments: [2104, 2106, 2158, 2107, 2108, 2119, 1102, 300] as [Int32])
    func informational(code: Int32) {
        #expect(IBErrorClass.classify(code: code, message: "x:y").isInformational)
    }

    @Test("errors are errors", arguments: [326, 1100, 1101, 1300, 2103, 2105, 2157, 10197, 354, 10089, 200, 100, 101, 162] as [Int32])
    func errors(code: Int32) {
        #expect(!IBErrorClass.classify(code: code, message: "x:y").isInformational)
    }

    @Test func whichCodesFailARequest() {
        #expect(IBErrorClass.classify(code: 200, message: "").failsRequest)
        #expect(IBErrorClass.classify(code: 354, message: "").failsRequest)
        #expect(IBErrorClass.classify(code: 10197, message: "").failsRequest)
        #expect(IBErrorClass.classify(code: 162, message: "").failsRequest)
        #expect(!IBErrorClass.classify(code: 10167, message: "").failsRequest)
        #expect(!IBErrorClass.classify(code: 10090, message: "").failsRequest)
        #expect(!IBErrorClass.classify(code: 10091, message: "").failsRequest)
        #expect(!IBErrorClass.classify(code: 2104, message: "").failsRequest)
        #expect(!IBErrorClass.classify(code: 2108, message: "").failsRequest)
    }

    /// Each code's meaning for its request (README "IB codes"): warnings keep the line,
    /// request-fatal codes end it, connection codes are about the session.
    @Test("severity per code", arguments: [
        (2104, IBErrorSeverity.informational), (2106, .informational), (2158, .informational), (2107, .informational),
        (2108, .informational), (2119, .informational), (1102, .informational), (300, .informational),
        (10090, .warning), (10091, .warning), (10167, .warning),
        (200, .requestFatal), (321, .requestFatal), (354, .requestFatal), (10089, .requestFatal), (10168, .requestFatal),
        (101, .requestFatal), (10197, .requestFatal), (100, .requestFatal), (322, .requestFatal), (162, .requestFatal),
        (326, .connection), (502, .connection), (504, .connection), (1100, .connection), (1101, .connection),
        (1300, .connection), (2103, .connection), (2105, .connection), (2110, .connection), (2157, .connection),
    ] as [(Int32, IBErrorSeverity)])
    func severity(code: Int32, expected: IBErrorSeverity) {
        #expect(IBErrorClass.classify(code: code, message: "x:y").severity == expected)
    }
}
