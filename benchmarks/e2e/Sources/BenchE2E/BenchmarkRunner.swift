import Foundation
import Logging
import Simulators

/// Everything one benchmark run needs; the CLI fills it from flags (see `bench-e2e run --help`).
public struct BenchConfiguration: Sendable {
    public var redisPort: Int
    /// redis-server's pid, for its CPU share; nil leaves that column empty.
    public var redisPid: Int32?
    public var targets: [TargetKind] = TargetKind.allCases
    public var rates: [TargetRate] = [.perSecond(1000), .perSecond(10_000), .perSecond(100_000), .max]
    /// How many times the whole list of rates is measured. Each pass runs every rate once, and
    /// at each rate every target in turn (seconds apart), so a comparison of the targets is
    /// never split across a change of the shared machine's load.
    public var repeats = 1
    public var windowSeconds: Double = 10
    public var warmupSeconds: Double = 2
    public var symbolCount = 100
    /// Closed-loop flood ("max"): updates allowed in flight (issued, not yet delivered).
    public var floodWindow = 5000
    public var workerBinary: String
    public var luaDir: String
    public var peerPython: String
    public var peerScript: String
    /// Configs and logs of the children go here.
    public var workDir: String
    public var readyTimeoutSeconds: Double = 120
    /// The worker's memory run; nil skips it.
    public var memoryLoad: OptionLoad? = OptionLoad(underlyings: 50, expirations: 2, strikesAroundATM: 2)
    public var memoryReadyTimeoutSeconds: Double = 300
    public var memoryWarmupSeconds: Double = 10
    public var memoryRate = 1000
    /// Also flood a null client, to state the simulator's own ceiling next to the targets.
    public var measureSimulatorCeiling = true
    /// The option-lines scenario (quote-relay only) and its rates; empty rates skip it.
    public var optionLines = OptionLinesScenario()
    public var optionLinesRates: [TargetRate] = []
    /// Seconds the option-lines worker may take to subscribe every line (pacing: ~40 requests/s).
    public var optionLinesReadyTimeoutSeconds: Double = 300

    public init(redisPort: Int, workerBinary: String, luaDir: String, peerPython: String, peerScript: String, workDir: String) {
        self.redisPort = redisPort
        self.workerBinary = workerBinary
        self.luaDir = luaDir
        self.peerPython = peerPython
        self.peerScript = peerScript
        self.workDir = workDir
    }
}

/// Runs every (target, rate) against one in-process IB Gateway simulator in benchmark mode,
/// one target process at a time (they must not share the two cores), each rate with a fresh
/// process so that a backlog left by a saturated rate cannot leak into the next one.
public final class BenchmarkRunner: Sendable {
    public let configuration: BenchConfiguration
    let logger: Logger
    let stamps = BenchmarkStamps()
    let simulator: IBGatewaySimulator
    let symbols: [String]

    public init(configuration: BenchConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        symbols = BenchUniverse.symbols(count: configuration.symbolCount)
        var sim = Self.simulatorConfiguration(symbols: symbols)
        sim.benchmarkStamps = stamps
        var simLogger = Logger(label: "bench-e2e.simulator")
        simLogger.logLevel = .warning
        simulator = IBGatewaySimulator(configuration: sim, logger: simLogger)
    }

    /// The in-process simulator of both benchmarks: seeded, timer off until a run starts it,
    /// lines without limit, no pacing (the worker and ib_async pace themselves; the benchmarks
    /// measure streaming, not how start-up copes with error 100), nothing recorded.
    public static func simulatorConfiguration(symbols: [String]) -> IBGatewaySimulator.Configuration {
        var sim = IBGatewaySimulator.Configuration()
        sim.seed = 1
        sim.symbols = symbols
        sim.ticksPerSecond = 0
        sim.marketDataLines = 10_000
        sim.pacingLimit = 0
        sim.recordLimit = 0
        return sim
    }

    public func run() async throws -> BenchReport {
        let ports = try await simulator.start()
        let report = await measureAll(simPort: ports.port)
        await simulator.stop()
        return report
    }

    private func measureAll(simPort: Int) async -> BenchReport {
        logger.info("simulator listening", metadata: ["port": "\(simPort)", "symbols": "\(symbols.count)"])
        var report = BenchReport(
            startedAt: ISO8601DateFormatter().string(from: Date()), symbols: symbols.count,
            windowSeconds: configuration.windowSeconds, warmupSeconds: configuration.warmupSeconds,
            floodWindow: configuration.floodWindow)
        var failedToStart = Set<TargetKind>()
        for pass in 1...max(1, configuration.repeats) {
            for rate in configuration.rates {
                // Rate-major: the targets take turns at the same rate, seconds apart.
                for target in configuration.targets where !failedToStart.contains(target) {
                    logger.info("run", metadata: ["target": "\(target.rawValue)", "rate": "\(rate)", "pass": "\(pass)"])
                    var result = await measure(target, rate: rate, simPort: simPort)
                    result.pass = pass
                    logger.info("result", metadata: [
                        "target": "\(target.rawValue)", "rate": "\(rate)", "status": "\(result.status)",
                        "absorbed_per_s": "\(Int(result.absorbedUpdatesPerSecond))",
                        "delivered_per_s": "\(Int(result.deliveredMessagesPerSecond))",
                        "p50_us": "\(result.latency.map { String(Int($0.p50Micros)) } ?? "-")",
                        "p99_us": "\(result.latency.map { String(Int($0.p99Micros)) } ?? "-")",
                        "max_us": "\(result.latency.map { String(Int($0.maxMicros)) } ?? "-")",
                        "load": "\(result.loadAverage ?? "-")",
                    ])
                    report.runs.append(result)
                    // A target that cannot start will not start at the next rate either.
                    if result.status.hasPrefix("failed: start") { failedToStart.insert(target) }
                }
            }
        }
        if configuration.targets.contains(.quoteRelay) {
            for rate in configuration.optionLinesRates {
                let scenario = configuration.optionLines
                logger.info("option-lines run", metadata: ["rate": "\(rate)", "option_lines": "\(scenario.lineCount)"])
                let result = await measure(.quoteRelay, rate: rate, simPort: simPort, scenario: scenario)
                logger.info("result", metadata: [
                    "target": "\(result.target)", "rate": "\(rate)", "status": "\(result.status)",
                    "absorbed_per_s": "\(Int(result.absorbedUpdatesPerSecond))",
                    "p99_us": "\(result.latency.map { String(Int($0.p99Micros)) } ?? "-")",
                    "rss_kib": "\(result.targetRSSKiB.map(String.init) ?? "-")",
                ])
                report.runs.append(result)
                if result.status.hasPrefix("failed: start") { break }
            }
        }
        if configuration.measureSimulatorCeiling {
            report.runs.append(await measureSimulatorCeiling(simPort: simPort))
        }
        if let load = configuration.memoryLoad, configuration.targets.contains(.quoteRelay) {
            report.memory.append(await measureMemory(load: load, simPort: simPort))
        }
        return report
    }

    // MARK: One (target, rate)

    /// - Parameter scenario: the option-lines scenario instead of the stock universe: the
    ///   worker follows SPX/SPXW and two stocks' option windows, the subscriber takes quote and
    ///   option channels, and readiness is the full line count (or a count settled for 20 s).
    func measure(_ target: TargetKind, rate: TargetRate, simPort: Int, scenario: OptionLinesScenario? = nil) async -> RunResult {
        let name = scenario.map { "\(target.rawValue), \($0.lineCount) option lines requested" } ?? target.rawValue
        var result = RunResult(target: name, rate: rate.description, status: "ok")
        _ = await simulator.control("rate 0")
        // `[qo]*`: quote and option channels, not chains or events.
        let pattern = scenario == nil ? "\(target.prefix):quote:*" : "\(target.prefix):[qo]*"
        let subscriber = PubSubSubscriber(redisPort: configuration.redisPort, pattern: pattern, stamps: stamps)
        do {
            try await subscriber.start()
        } catch {
            result.status = "failed: \(error)"
            return result
        }
        let child: ChildProcess
        do {
            child = try launch(target, simPort: simPort, tag: (scenario == nil ? "" : "option-lines-") + rate.description, options: nil, scenario: scenario)
            result.logPath = child.logPath
        } catch {
            await subscriber.stop()
            result.status = "failed: start: \(error)"
            return result
        }
        do {
            if let scenario {
                result.startupSeconds = try await waitReady(
                    child, expected: scenario.expectedLines, timeout: configuration.optionLinesReadyTimeoutSeconds, settleSeconds: 20)
                result.linesLive = await simulator.subscriptions().count
            } else {
                result.startupSeconds = try await waitReady(child, expected: symbols.count, timeout: configuration.readyTimeoutSeconds)
            }
        } catch {
            result.status = "failed: start: \(error)"
            result.stoppedAs = await child.stop()
            await subscriber.stop()
            await waitForNoClients()
            return result
        }

        let warmupEnd = ContinuousClock.now + .seconds(configuration.warmupSeconds)
        let windowEnd = warmupEnd + .seconds(configuration.windowSeconds)
        // Other work on the shared machine shows up in latency: each run says what it was.
        result.loadAverage = ProcStats.loadAverage()
        var flood: Task<Void, Never>?
        switch rate {
        case .perSecond(let n):
            _ = await simulator.control("rate \(n)")
        case .max:
            flood = Task { await self.flood(until: windowEnd) { subscriber.deliveredSequence } }
        }
        try? await Task.sleep(until: warmupEnd)

        var sources = [CPUMeter.Source(pid: child.pid), CPUMeter.Source(pid: getpid())]
        if let redisPid = configuration.redisPid { sources.append(.init(pid: redisPid)) }
        if let tid = subscriber.readerThreadId { sources.append(.init(pid: getpid(), thread: tid)) }
        // The synchronous readings are taken together; the simulator's tick counter is read
        // through its (possibly busy) event loop, so it only yields ticks per update, which a
        // late reading at both ends does not skew.
        let meter = CPUMeter(sources: sources)
        let startIssued = stamps.lastIssued
        subscriber.beginWindow(afterSequence: startIssued)
        let before = subscriber.counters
        let started = ContinuousClock.now
        let startTicks = await simulator.counters().ticksSent
        let startTicksIssued = stamps.lastIssued

        try? await Task.sleep(until: windowEnd)

        let endIssued = stamps.lastIssued
        let after = subscriber.counters
        let elapsed = ContinuousClock.now - started
        let window = subscriber.endWindow()
        let cpu = meter.percent()
        let endTicks = await simulator.counters().ticksSent
        let endTicksIssued = stamps.lastIssued
        _ = await simulator.control("rate 0")
        flood?.cancel()
        await flood?.value
        let memory = ProcStats.memory(pid: child.pid)
        let alive = child.isRunning

        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        result.windowSeconds = seconds
        result.offeredUpdatesPerSecond = Double(endIssued - startIssued) / seconds
        let ticksPerUpdate = endTicksIssued > startTicksIssued
            ? Double(endTicks - startTicks) / Double(endTicksIssued - startTicksIssued) : 0
        result.offeredTickMessagesPerSecond = result.offeredUpdatesPerSecond * ticksPerUpdate
        result.deliveredMessagesPerSecond = Double(after.messages - before.messages) / seconds
        result.absorbedUpdatesPerSecond = Double(after.absorbed - before.absorbed) / seconds
        result.deliveredPayloadBytesPerSecond = Double(after.payloadBytes - before.payloadBytes) / seconds
        result.unmatchedMessages = after.unmatched - before.unmatched
        result.backlogAtEnd = endIssued - min(endIssued, after.maxSequence)
        result.latency = LatencySummary(nanos: window.samples)
        result.droppedSamples = window.dropped
        result.targetCPU = cpu[CPUMeter.Source(pid: child.pid)]
        result.benchProcessCPU = cpu[CPUMeter.Source(pid: getpid())]
        result.redisCPU = configuration.redisPid.flatMap { cpu[CPUMeter.Source(pid: $0)] }
        result.subscriberThreadCPU = subscriber.readerThreadId.flatMap { cpu[CPUMeter.Source(pid: getpid(), thread: $0)] }
        result.targetRSSKiB = memory?.rssKiB
        result.targetPeakRSSKiB = memory?.peakKiB

        if !alive {
            result.status = "failed: the process exited during the run"
        } else if let error = subscriber.error {
            result.status = "failed: subscriber: \(error)"
        } else if after.messages == before.messages {
            result.status = "failed: nothing delivered"
        } else {
            result.status = Self.verdict(rate: rate, result: result)
        }
        result.stoppedAs = await child.stop()
        await subscriber.stop()
        await waitForNoClients()
        return result
    }

    /// `saturated` when the target fell behind: it absorbed less than 90% of what was offered,
    /// or more than 200 ms worth of updates (at least 1,000) were still queued at the end.
    /// A fixed rate the simulator itself could not reach (a loaded machine) is said too: the
    /// run then measured a lower rate than its label.
    static func verdict(rate: TargetRate, result: RunResult) -> String {
        var parts: [String] = []
        let offered = result.offeredUpdatesPerSecond
        if result.absorbedUpdatesPerSecond < 0.9 * offered || Double(result.backlogAtEnd) > max(1000, 0.2 * offered) {
            parts.append("saturated")
        } else {
            parts.append("ok")
        }
        if case .perSecond(let target) = rate, offered < 0.9 * Double(target) {
            parts.append("simulator offered \(Int(offered * 100 / Double(target)))% of the rate")
        }
        return parts.joined(separator: "; ")
    }

    /// "max": keeps `floodWindow` updates in flight between the simulator and the
    /// subscriber, so the rate is what the slowest stage sustains and no queue grows without
    /// bound (an open-loop flood would only measure the simulator's socket buffers).
    func flood(until deadline: ContinuousClock.Instant, delivered: @Sendable () -> UInt64) async {
        let window = UInt64(configuration.floodWindow)
        while ContinuousClock.now < deadline && !Task.isCancelled {
            let issued = stamps.lastIssued
            let inFlight = issued - min(issued, delivered())
            if inFlight < window {
                _ = await simulator.control("flood \(min(window - inFlight, 2000))")
            } else {
                try? await Task.sleep(for: .microseconds(500))
            }
        }
    }

    // MARK: The harness' own ceiling

    /// The closed-loop flood against `NullTWSClient`: how many updates per second the
    /// simulator can produce and write on this machine when the consumer costs nothing.
    func measureSimulatorCeiling(simPort: Int) async -> RunResult {
        var result = RunResult(target: "simulator → null client", rate: TargetRate.max.description, status: "ok")
        _ = await simulator.control("rate 0")
        let client: NullTWSClient
        do {
            client = try NullTWSClient(port: simPort, clientId: 7, symbols: symbols)
            let deadline = ContinuousClock.now + .seconds(30)
            while await simulator.subscriptions().count < symbols.count {
                guard ContinuousClock.now < deadline else { throw BenchError("subscriptions not live within 30 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        } catch {
            result.status = "failed: start: \(error)"
            return result
        }
        let warmupEnd = ContinuousClock.now + .seconds(configuration.warmupSeconds)
        let windowEnd = warmupEnd + .seconds(configuration.windowSeconds)
        let flood = Task { await self.flood(until: windowEnd) { client.deliveredSequence } }
        try? await Task.sleep(until: warmupEnd)
        let meter = CPUMeter(sources: [CPUMeter.Source(pid: getpid())])
        let startIssued = stamps.lastIssued
        let startBytes = client.bytesRead
        let started = ContinuousClock.now
        let startTicks = await simulator.counters().ticksSent
        let startTicksIssued = stamps.lastIssued
        try? await Task.sleep(until: windowEnd)
        let endIssued = stamps.lastIssued
        let endBytes = client.bytesRead
        let elapsed = ContinuousClock.now - started
        let cpu = meter.percent()
        let endTicks = await simulator.counters().ticksSent
        let endTicksIssued = stamps.lastIssued
        flood.cancel()
        await flood.value
        await client.stop()
        await waitForNoClients()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        result.windowSeconds = seconds
        result.offeredUpdatesPerSecond = Double(endIssued - startIssued) / seconds
        let ticksPerUpdate = endTicksIssued > startTicksIssued
            ? Double(endTicks - startTicks) / Double(endTicksIssued - startTicksIssued) : 0
        result.offeredTickMessagesPerSecond = result.offeredUpdatesPerSecond * ticksPerUpdate
        result.absorbedUpdatesPerSecond = result.offeredUpdatesPerSecond
        result.deliveredPayloadBytesPerSecond = Double(endBytes - startBytes) / seconds
        result.benchProcessCPU = cpu[CPUMeter.Source(pid: getpid())]
        return result
    }

    // MARK: Memory

    func measureMemory(load: OptionLoad, simPort: Int) async -> MemoryResult {
        var result = MemoryResult(target: TargetKind.quoteRelay.rawValue, status: "ok")
        result.quotes = symbols.count
        result.optionsRequested = load.optionCount
        result.warmupSeconds = configuration.memoryWarmupSeconds
        result.updatesPerSecondDuringWarmup = configuration.memoryRate
        // Underlyings must move for the option window to centre; a slow drift is enough.
        _ = await simulator.control("rate 200")
        let child: ChildProcess
        do {
            child = try launch(.quoteRelay, simPort: simPort, tag: "memory", options: load)
            result.logPath = child.logPath
        } catch {
            result.status = "failed: start: \(error)"
            return result
        }
        // The worker skips strikes an expiry does not list (error 200 at qualification), so the
        // full count may never come: a count that has not moved for 20 s is as ready as it gets.
        let expected = symbols.count + load.optionCount
        do {
            result.readySeconds = try await waitReady(
                child, expected: expected, timeout: configuration.memoryReadyTimeoutSeconds, settleSeconds: 20)
        } catch {
            result.status = "partial: \(error)"
        }
        let settledCount = await simulator.subscriptions().count
        logger.info("memory run: subscriptions settled", metadata: ["live": "\(settledCount)", "running": "\(child.isRunning)"])
        if child.isRunning {
            _ = await simulator.control("rate \(configuration.memoryRate)")
            try? await Task.sleep(for: .seconds(configuration.memoryWarmupSeconds))
            result.subscriptionsLive = await simulator.subscriptions().count
            if let memory = ProcStats.memory(pid: child.pid) {
                result.rssKiB = memory.rssKiB
                result.peakRSSKiB = memory.peakKiB
            }
        } else {
            result.status = "failed: the worker exited: \(child.logTail(lines: 5))"
        }
        _ = await simulator.control("rate 0")
        await child.stop()
        await waitForNoClients()
        return result
    }

    // MARK: Processes

    func launch(_ target: TargetKind, simPort: Int, tag: String, options: OptionLoad?, scenario: OptionLinesScenario? = nil) throws -> ChildProcess {
        let log = "\(configuration.workDir)/\(target.rawValue)-\(tag).log"
        switch target {
        case .quoteRelay:
            let path = "\(configuration.workDir)/quote-relay-\(tag).yaml"
            let yaml = WorkerConfig.yaml(
                simPort: simPort, redisPort: configuration.redisPort, symbols: symbols, options: options,
                luaDir: configuration.luaDir, httpPort: try LoopbackSocket.freePort(),
                maxLines: scenario.map { $0.expectedLines + 100 } ?? symbols.count + (options?.optionCount ?? 0) + 100,
                scenario: scenario)
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return try ChildProcess(
                name: target.rawValue, executable: configuration.workerBinary, arguments: ["run", "--config", path],
                logPath: log)
        case .peer:
            return try ChildProcess(
                name: target.rawValue, executable: configuration.peerPython,
                arguments: [
                    configuration.peerScript, "--ib-port", "\(simPort)", "--client-id", "\(target.clientId)",
                    "--redis-port", "\(configuration.redisPort)", "--prefix", target.prefix,
                    "--symbols", symbols.joined(separator: ","),
                ],
                logPath: log)
        }
    }

    /// Waits until `expected` streaming subscriptions are live at the simulator.
    /// - Returns: seconds it took.
    func waitReady(_ child: ChildProcess, expected: Int, timeout: Double, settleSeconds: Double? = nil) async throws -> Double {
        let started = ContinuousClock.now
        let deadline = started + .seconds(timeout)
        var live = 0
        var lastChange = (count: -1, at: started)
        var lastLog = started
        while ContinuousClock.now < deadline {
            guard child.isRunning else {
                throw BenchError("\(child.name) exited before subscribing; log tail:\n\(child.logTail())")
            }
            live = await simulator.subscriptions().count
            let now = ContinuousClock.now
            if live != lastChange.count { lastChange = (live, now) }
            let settled = settleSeconds.map { live > expected * 9 / 10 && now - lastChange.at > .seconds($0) } ?? false
            if live >= expected || settled {
                let elapsed = now - started
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
            if now - lastLog > .seconds(10) {
                logger.info("waiting for subscriptions", metadata: ["target": "\(child.name)", "live": "\(live)", "expected": "\(expected)"])
                lastLog = now
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BenchError("\(child.name): \(live) of \(expected) subscriptions live after \(Int(timeout)) s; log tail:\n\(child.logTail())")
    }

    func waitForNoClients() async {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if await simulator.counters().clients == 0 { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.warning("a client of the simulator did not go away within 10 s")
    }
}
