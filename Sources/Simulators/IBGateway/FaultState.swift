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
        !quiet && !dataBlocked(for: instrument)
    }
}
