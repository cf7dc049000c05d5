import ArgumentParser
import Logging
import ServiceLifecycle
import Simulators

/// `quote-relay-sim ib-gateway`: a protocol-accurate IB Gateway for development and tests,
/// running until SIGINT/SIGTERM. Every fault flag is the control-port command of the same
/// name, applied before the first client connects.
struct IBGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ib-gateway",
        abstract: "IB Gateway simulator (TWS API socket protocol).",
        discussion: """
            Speaks the TWS API text protocol (server version up to --server-version, default 176), so \
            ibapi, ib_async and quote-relay connect to it as to a real gateway. Quotes, option chains and \
            greeks are deterministic for a given --seed.

            Control port: one command per line, answered with "OK ..." or "ERR ...":
              \(ControlCommand.helpText)
            e.g. printf 'farm-down\\n' | nc 127.0.0.1 4099
            """)

    @Option(help: "Address to listen on (API and control port).")
    var host = "127.0.0.1"
    @Option(help: "TWS API port (0 = any free port; the bound port is logged).")
    var port = 4002
    @Option(help: "Control port for fault commands (0 = any free port).")
    var controlPort = 4099
    @Flag(help: "Do not open a control port.")
    var noControlPort = false
    @Option(help: "Seed of every price walk and base price.")
    var seed: UInt64 = 1
    @Option(help: "Comma-separated underlyings (each gets an option chain).")
    var symbols = IBGatewaySimulator.Configuration().symbols.joined(separator: ",")
    @Option(help: "Highest server version to negotiate (100...200; 201+ would be protobuf).")
    var serverVersion = 176
    @Option(help: "Market updates per second across all subscriptions.")
    var rate = 20.0
    @Option(help: "Market data lines (concurrent streaming subscriptions); one more gets error 101.")
    var maxLines = 100
    @Option(help: "Messages per second a client may send before error 100 (0 = unlimited).")
    var pacingLimit = 50
    @Option(help: "Trading hours: always-open (ticks at any time) or us (US equity hours, Eastern).")
    var hours = TradingHoursMode.alwaysOpen.rawValue
    @Option(help: "The simulator's today, YYYYMMDD (expirations, hours); default: today in New York.")
    var today: String?
    @Option(help: "Comma-separated managed accounts.")
    var accounts = "DU1234567"
    @Option(help: "Values kept per (client, reqId, tick type) for the control port's 'sent' command.")
    var recordLimit = 1
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Flag(help: "Start stalled: no ticks, snapshots unanswered, heartbeats answered.")
    var stall = false
    @Flag(help: "Start quiet: no ticks, snapshots and heartbeats answered.")
    var quiet = false
    @Flag(help: "Start hung: answer nothing at all.")
    var hang = false
    @Option(help: "Refuse connections for this many seconds after start.")
    var refuse: Double?
    @Option(help: "Start with this market data farm down (usfarm, usopt).")
    var farmDown: String?
    @Flag(help: "Start with connectivity to IB lost (1100 at connect, no data).")
    var connectivityLost = false
    @Flag(help: "Start with a competing live session (10197 for market data).")
    var competingSession = false
    @Option(help: "Delay the server hello by this many milliseconds.")
    var slowHandshake: Int?
    @Option(help: "Market data for this symbol gets error 354 (repeatable).")
    var noPermission: [String] = []

    func validate() throws {
        guard (100...200).contains(serverVersion) else {
            throw ValidationError("--server-version must be within 100...200 (201 and up switch to protobuf framing)")
        }
        guard TradingHoursMode(rawValue: hours) != nil else {
            throw ValidationError("--hours must be one of: \(TradingHoursMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let today, SimDate(yyyymmdd: today) == nil { throw ValidationError("--today must be a date as YYYYMMDD, got '\(today)'") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be a non-negative number") }
        guard maxLines >= 0, pacingLimit >= 0 else { throw ValidationError("--max-lines and --pacing-limit must not be negative") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard (0...65535).contains(port), (0...65535).contains(controlPort) else { throw ValidationError("ports must be within 0...65535") }
        if !symbols.contains(where: { $0.isLetter }) { throw ValidationError("--symbols needs at least one symbol") }
    }

    var simulatorConfiguration: IBGatewaySimulator.Configuration {
        var c = IBGatewaySimulator.Configuration()
        c.seed = seed
        c.symbols = symbols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        c.maxServerVersion = serverVersion
        c.ticksPerSecond = rate
        c.marketDataLines = maxLines
        c.pacingLimit = pacingLimit
        c.tradingHours = TradingHoursMode(rawValue: hours) ?? .alwaysOpen
        c.today = today.flatMap(SimDate.init(yyyymmdd:))
        c.accounts = accounts.split(separator: ",").map(String.init)
        c.recordLimit = max(0, recordLimit)
        var faults: [String] = []
        if stall { faults.append("stall") }
        if quiet { faults.append("quiet") }
        if hang { faults.append("hang") }
        if let refuse { faults.append("refuse \(refuse)") }
        if let farmDown { faults.append("farm-down \(farmDown)") }
        if connectivityLost { faults.append("connectivity-lost") }
        if competingSession { faults.append("competing-session on") }
        if let slowHandshake { faults.append("slow-handshake \(slowHandshake)") }
        faults += noPermission.map { "no-permission \($0)" }
        c.initialCommands = faults
        return c
    }

    func run() async throws {
        var logger = Logger(label: "quote-relay-sim.ib-gateway")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let simulator = IBGatewaySimulator(configuration: simulatorConfiguration, logger: logger)
        let service = SimulatorService(
            simulator: simulator, host: host, port: port, controlPort: noControlPort ? nil : controlPort)
        let group = ServiceGroup(
            services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// Runs the simulator until graceful shutdown (SIGTERM/SIGINT), then stops it.
struct SimulatorService: Service {
    let simulator: IBGatewaySimulator
    let host: String
    let port: Int
    let controlPort: Int?

    func run() async throws {
        let ports = try await simulator.start(host: host, port: port, controlPort: controlPort)
        // One machine-readable line for scripts that start the simulator on port 0.
        let line = "ib-gateway listening port=\(ports.port) control_port=\(ports.controlPort.map(String.init) ?? "-")\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        try? await gracefulShutdown()
        await simulator.stop()
    }
}

import Foundation
