import TWSProtocol
@testable import Simulators

/// A fixed instant: Monday 2026-06-01 14:30:00 UTC (10:30 Eastern, markets open).
let mondayMorningMs: Int64 = 1_780_324_200_000

func testConfiguration(_ adjust: (inout IBGatewaySimulator.Configuration) -> Void = { _ in }) -> IBGatewaySimulator.Configuration {
    var c = IBGatewaySimulator.Configuration()
    c.seed = 7
    c.symbols = ["AAPL", "SPY", "ZZZT"]
    c.today = SimDate(year: 2026, month: 6, day: 1)
    c.strikesEachSide = 10
    adjust(&c)
    return c
}

/// Drives an engine the way the I/O layer does, collecting what each connection was sent.
struct EngineHarness {
    var engine: GatewayEngine
    var now: Int64 = mondayMorningMs
    var nextConnection = 1

    init(_ configuration: IBGatewaySimulator.Configuration = testConfiguration()) {
        engine = GatewayEngine(configuration: configuration, nowMs: mondayMorningMs)
        _ = engine.advance(nowMs: now)
    }

    /// Accept + versions + START_API; returns the connection and the messages after START_API.
    mutating func connect(clientId: Int32, maxVersion: Int = 176) -> (ConnectionID, [GatewayAction]) {
        let id = ConnectionID(nextConnection)
        nextConnection += 1
        var actions = engine.accepted(id, nowMs: now)
        actions += engine.versionsReceived(id, minVersion: 100, maxVersion: maxVersion, nowMs: now)
        actions += engine.received(.startAPI(clientId: clientId, optionalCapabilities: ""), from: id, nowMs: now)
        return (id, actions)
    }

    mutating func send(_ message: ClientMessage, from id: ConnectionID) -> [ServerMessage] {
        messages(engine.received(message, from: id, nowMs: now), for: id)
    }

    mutating func tick(ms: Int64, for id: ConnectionID) -> [ServerMessage] {
        now += ms
        return messages(engine.advance(nowMs: now), for: id)
    }

    mutating func control(_ line: String) -> GatewayEngine.ControlOutcome {
        guard case .success(let command) = ControlCommand.parse(line) else { fatalError("bad command \(line)") }
        return engine.execute(command, nowMs: now)
    }
}

func messages(_ actions: [GatewayAction], for id: ConnectionID) -> [ServerMessage] {
    actions.flatMap { action -> [ServerMessage] in
        if case .send(id, let messages) = action { return messages }
        return []
    }
}

func errorCodes(_ messages: [ServerMessage]) -> [Int32] {
    messages.compactMap { if case .error(let e) = $0 { return e.code } else { return nil } }
}

func tickTypes(_ messages: [ServerMessage]) -> [Int32] {
    messages.compactMap {
        switch $0 {
        case .tickPrice(_, let t, _, _, _), .tickSize(_, let t, _), .tickString(_, let t, _): t
        case .tickOptionComputation(let c): c.tickType
        default: nil
        }
    }
}

func stock(_ symbol: String, exchange: String = "SMART") -> Contract {
    Contract(symbol: symbol, secType: "STK", exchange: exchange, currency: "USD")
}

func option(_ symbol: String, _ expiry: String, _ strike: Double, _ right: String) -> Contract {
    Contract(
        symbol: symbol, secType: "OPT", lastTradeDateOrContractMonth: expiry, strike: strike, right: right,
        multiplier: "100", exchange: "SMART", currency: "USD")
}
