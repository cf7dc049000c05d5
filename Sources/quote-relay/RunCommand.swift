import ArgumentParser
import Foundation
import Logging
import Relay
import ServiceLifecycle

/// `quote-relay run --config FILE`: the worker, until SIGTERM/SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker: IB Gateway in, Redis out, Alpha Vantage when IB cannot deliver.",
        discussion: """
            Runs until SIGTERM or SIGINT, then cancels market data, flushes pending writes, \
            marks the status hash 'stopped' and exits 0 (a second signal forces exit). \
            A gateway or Redis that is down at start-up is retried with backoff, not an error.

            Exit status: 0 clean shutdown, 2 invalid configuration, 1 unrecoverable start-up \
            error (e.g. the Lua scripts folder is missing).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The YAML configuration file.", valueName: "file"))
    var config: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one key, e.g. --set ib.port=4003 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func run() async throws {
        let (overrides, flagProblems) = ConfigurationLoader.parseOverrides(overrides)
        var report = ConfigurationLoader.load(
            filePath: config, environment: ProcessInfo.processInfo.environment, overrides: overrides)
        report.problems.insert(contentsOf: flagProblems, at: 0)
        guard report.problems.isEmpty, let relay = report.configuration else {
            let count = report.problems.count
            printError("\(config): invalid configuration (\(count) problem\(count == 1 ? "" : "s")):")
            for problem in report.problems { printError("  \(problem)") }
            throw ExitCode(2)
        }
        RelayLogging.bootstrap(relay.log)
        let logger = Logger(label: "quote-relay")
        for warning in report.warnings { logger.warning("configuration: \(warning)") }

        let registry = RelayMetrics.bootstrap()
        let metrics = RelayMetrics()
        metrics.initialiseSeries(
            symbols: relay.symbols.map(\.symbol), maxMarketDataLines: relay.ib.maxMarketDataLines,
            alphaVantageDailyLimit: relay.alphaVantage.requestsPerDay)
        let readiness = ReadinessState()
        let workerConfiguration = WorkerConfiguration(relay)
        let worker: Worker
        do {
            worker = try Worker(configuration: workerConfiguration, logger: logger, metrics: metrics, readiness: readiness)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let http: HealthServer
        do {
            // /subscriptions: the lease CLI over HTTP, loopback only (README "Subscriptions at runtime").
            let subscriptions = SubscriptionAPI(configuration: workerConfiguration, logger: logger)
            http = try await HealthServer.start(
                settings: relay.http,
                routes: HealthRoutes(state: readiness, metrics: { RelayMetrics.exposition(registry) }, subscriptions: subscriptions),
                logger: logger)
        } catch {
            logger.critical("cannot listen on http.listen \(relay.http.host):\(relay.http.port): \(error)")
            throw ExitCode(1)
        }
        logger.info("quote-relay starting", metadata: [
            "worker": "\(relay.worker.id)", "symbols": "\(relay.symbols.count)", "config": "\(config)",
        ])
        // The worker stops first (it must flush Redis), the HTTP server last, so /healthz
        // answers until the very end.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: http, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger)
        // A shutdown that overstays `worker.shutdown_timeout_seconds` is escalated to cancellation.
        groupConfiguration.maximumGracefulShutdownDuration = relay.worker.shutdownTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
        installForcedExitOnSecondSignal()
        try await group.run()
    }
}

/// ServiceLifecycle turns the first SIGTERM/SIGINT into a graceful shutdown; an operator who
/// signals again means "now".
private func installForcedExitOnSecondSignal() {
    for sig in [SIGTERM, SIGINT] {
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        nonisolated(unsafe) var seen = 0
        source.setEventHandler {
            seen += 1
            if seen >= 2 {
                FileHandle.standardError.write(Data("second signal: exiting now\n".utf8))
                exit(130)
            }
        }
        source.resume()
        retainedSignalSources.append(source)
    }
}

nonisolated(unsafe) private var retainedSignalSources: [any DispatchSourceSignal] = []
