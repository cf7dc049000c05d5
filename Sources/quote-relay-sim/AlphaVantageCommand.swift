import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Simulators

/// `quote-relay-sim alpha-vantage`: the Alpha Vantage simulator as a process, for the demo
/// and for trying the worker's failover by hand. Runs until SIGTERM/SIGINT.
struct AlphaVantageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alpha-vantage",
        abstract: "Alpha Vantage REST API simulator.",
        discussion: """
            Serves GET /query?function=GLOBAL_QUOTE|REALTIME_BULK_QUOTES|REALTIME_OPTIONS&symbol=...&apikey=...
            (and function=CURRENCY_EXCHANGE_RATE&from_currency=EUR&to_currency=USD&apikey=...)
            Switch behaviour while running:  curl 'http://127.0.0.1:8089/_control?mode=throttle'
            Counters:                        curl 'http://127.0.0.1:8089/_stats'
            Modes: \(AlphaVantageSimulatorMode.allCases.map(\.rawValue).joined(separator: ", "))
            """
    )

    @Option(help: "Address to listen on (loopback by default: the simulator accepts any key).")
    var host = "127.0.0.1"

    @Option(help: "TCP port to listen on (0 = any free port, printed at start).")
    var port = 8089

    @Option(help: "How to answer: \(AlphaVantageSimulatorMode.allCases.map(\.rawValue).joined(separator: "|")).")
    var mode = "ok"

    @Option(help: "Seed of the deterministic prices.")
    var seed: UInt64 = 1

    @Option(name: .customLong("delay-ms"), help: "Delay of every answer in slow mode, in milliseconds.")
    var delayMilliseconds = 2000

    @Option(help: "Comma-separated symbols to treat as unknown (answered with an Error Message).")
    var unknown = "INVALID"

    @Option(name: .customLong("api-key"), help: "Accept only this API key (default: any non-empty key).")
    var apiKey: String?

    @Option(name: .customLong("requests-per-minute"), help: "Answer with throttle notices beyond this many requests a minute, like a free key.")
    var requestsPerMinute: Int?

    func validate() throws {
        guard AlphaVantageSimulatorMode(rawValue: mode) != nil else {
            throw ValidationError("--mode \(mode) is not one of \(AlphaVantageSimulatorMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port (0...65535)") }
        guard delayMilliseconds >= 0 else { throw ValidationError("--delay-ms must be 0 or more") }
        if let requestsPerMinute, requestsPerMinute < 1 { throw ValidationError("--requests-per-minute must be at least 1") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "quote-relay-sim.alpha-vantage")
        let simulator = try await AlphaVantageSimulator.start(configuration: .init(
            host: host,
            port: port,
            mode: AlphaVantageSimulatorMode(rawValue: mode) ?? .ok,
            seed: seed,
            delayMilliseconds: delayMilliseconds,
            unknownSymbols: Set(unknown.split(separator: ",").map(String.init)),
            requiredAPIKey: apiKey,
            requestsPerMinute: requestsPerMinute
        ), logger: logger)
        // Scripts read the URL from stdout (with --port 0 it is the only way to learn the port).
        FileHandle.standardOutput.write(Data("alpha-vantage simulator listening on \(simulator.baseURL)\n".utf8))
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: AlphaVantageSimulatorService(simulator: simulator))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}

/// Keeps the simulator up until graceful shutdown, then closes it.
private struct AlphaVantageSimulatorService: Service {
    let simulator: AlphaVantageSimulator

    func run() async throws {
        try? await gracefulShutdown()
        try await simulator.shutdown()
    }
}
