/// The faults in force. Every field is independent; `resume` clears the data-blocking ones.
struct FaultState: Sendable, Equatable {
    var ticksPerSecond = 20.0
    var stall = false
    var quiet = false
    var hang = false
    var refuseUntilMs: Int64?
    var downFarms: Set<String> = []
    var connectivityLost = false
    var competingSession = false
    var slowHandshakeMs = 0
    var noPermission: Set<String> = []
    /// `error SYM CODE keep|drop`: market data requests for the symbol (its stock and its
    /// options) get ERR_MSG `code`; with `keepLine` the line goes on streaming (a warning such
    /// as 10090), else it ends (IB serves nothing more for that request id).
    var errorRules: [String: ErrorRule] = [:]
    /// Stocks in a trading halt: tick 49 = 1, bid/ask -1 with size 0, no trades, until `unhalt`.
    var halted: Set<String> = []
    /// Stocks halted at some point: they report tick 49 (0 once trading resumes).
    var everHalted: Set<String> = []

    struct ErrorRule: Sendable, Equatable {
        var code: Int32
        var keepLine: Bool
        var message: String
    }

    /// Which market data farm carries an instrument's data (its ticks stop while it is down).
    static func farm(for instrument: Instrument) -> String {
        if case .option = instrument { return "usopt" }
        return "usfarm"
    }

    /// Data cannot reach clients at all: no ticks and no snapshot answers.
    func dataBlocked(for instrument: Instrument) -> Bool {
        stall || hang || connectivityLost || downFarms.contains(Self.farm(for: instrument))
    }

    /// Streaming updates may be sent for the instrument.
    func ticksAllowed(for instrument: Instrument) -> Bool {
        !quiet && !dataBlocked(for: instrument) && !isHalted(instrument)
    }

    /// A halted stock does not trade and quotes nothing (its options follow it).
    func isHalted(_ instrument: Instrument) -> Bool {
        !halted.isEmpty && halted.contains(instrument.symbol)
    }
}
