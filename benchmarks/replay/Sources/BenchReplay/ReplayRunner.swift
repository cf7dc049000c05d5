import BenchE2E
import Foundation
import Logging
import MarketModel
import NIOCore
import Simulators
import TWSProtocol

/// What one replay run needs; `bench-replay run` fills it from flags.
public struct ReplayConfiguration: Sendable {
    public var redisPort: Int
    public var redisPid: Int32?
    public var workerBinary: String
    public var luaDir: String
    public var peerPython: String
    public var peerScript: String
    public var workDir: String
    public var targets: [TargetKind] = TargetKind.allCases
    /// Stocks (each also the underlying of `2 x (2 x strikesAroundATM + 1)` options, one expiry).
    public var stocks = 8
    public var strikesAroundATM = 2
    public var rounds = 1_000
    /// Replays per target, interleaved (quote-relay, peer, quote-relay, peer, ...).
    public var repeats = 3
    public var timeoutSeconds = 180.0
    public var readyTimeoutSeconds = 180.0

    public init(redisPort: Int, workerBinary: String, luaDir: String, peerPython: String, peerScript: String, workDir: String) {
        self.redisPort = redisPort
        self.workerBinary = workerBinary
        self.luaDir = luaDir
        self.peerPython = peerPython
        self.peerScript = peerScript
        self.workDir = workDir
    }
}

/// One replay into one target.
public struct ReplayResult: Codable, Sendable {
    public var target: String
    public var repeatIndex: Int
    public var lines: Int
    public var messages: Int
    public var bytes: Int
    /// From the first byte handed to the socket until Redis held every final value.
    public var seconds: Double
    public var ticksPerSecond: Double
    /// utime + stime of the target process over the same interval.
    public var cpuSeconds: Double
    public var cpuSecondsPerMillionTicks: Double
    public var redisCPUSeconds: Double?
    /// `exact` when every field of every line reached its final value; otherwise why not.
    public var status: String
    public var fieldsVerified: Int
}

public struct ReplayReport: Codable, Sendable {
    public var results: [ReplayResult]
    public var stocks: Int
    public var options: Int
    public var rounds: Int
    public var serverVersions: [String: Int]
}

/// Starts the simulator (it answers the handshake, contract and option-chain requests and the
/// market data requests as a gateway does, and then stays silent: `ticksPerSecond` 0), starts
/// quote-relay and the peer on the same lines, then alternates: a pre-encoded flood written to
/// one target's connection, polled in Redis until every final value is there.
public final class ReplayRunner: Sendable {
    public let configuration: ReplayConfiguration
    let logger: Logger
    let simulator: IBGatewaySimulator
    let symbols: [String]

    public init(configuration: ReplayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        symbols = BenchUniverse.symbols(count: configuration.stocks)
        let sim = BenchmarkRunner.simulatorConfiguration(symbols: symbols)
        var simLogger = Logger(label: "bench-replay.simulator")
        simLogger.logLevel = .warning
        simulator = IBGatewaySimulator(configuration: sim, logger: simLogger)
    }

    public func run() async throws -> ReplayReport {
        let ports = try await simulator.start()
        let children = ChildList()
        do {
            let report = try await measure(simPort: ports.port, children: children)
            await children.stopAll()
            await simulator.stop()
            return report
        } catch {
            await children.stopAll()
            await simulator.stop()
            throw error
        }
    }

    private func measure(simPort: Int, children list: ChildList) async throws -> ReplayReport {
        var children: [TargetKind: ChildProcess] = [:]
        // quote-relay picks the option lines (its window around the money); the peer is then
        // given exactly the same contracts.
        var workerLines: [SubscriptionInfo] = []
        if configuration.targets.contains(.quoteRelay) {
            let child = try launchWorker(simPort: simPort)
            children[.quoteRelay] = child
            list.add(child)
            let expected = symbols.count * (1 + 2 * (2 * configuration.strikesAroundATM + 1))
            workerLines = try await waitLines(child, clientId: TargetKind.quoteRelay.clientId, expected: expected)
        }
        if configuration.targets.contains(.peer) {
            let options = workerLines.filter { $0.secType == "OPT" }
            let child = try launchPeer(simPort: simPort, options: options)
            children[.peer] = child
            list.add(child)
            _ = try await waitLines(child, clientId: TargetKind.peer.clientId, expected: symbols.count + options.count)
        }
        // Let start-up writes (initial ticks, chains, status) settle before measuring.
        try await Task.sleep(for: .seconds(2))

        let probe = try RedisProbe(port: configuration.redisPort)
        // Each stock's level before the first replay, from quote-relay's own quote (else the
        // peer's): the replay moves prices around it, never far enough to re-centre an option
        // window (the worker would cancel and replace lines in the middle of a replay).
        var levels: [String: Int] = [:]
        for symbol in symbols {
            for prefix in [TargetKind.quoteRelay.prefix, TargetKind.peer.prefix] where levels[symbol] == nil {
                let reply = try probe.hmget([(key: Keys.prefixed(prefix, Keys.quote(symbol)), fields: ["last", "bid", "close"])])
                if let price = reply.first?.compactMap({ $0.flatMap(Double.init) }).first(where: { $0 > 0 }) {
                    levels[symbol] = Int((price * 100).rounded())
                }
            }
        }
        var results: [ReplayResult] = []
        var versions: [String: Int] = [:]
        var optionCount = 0
        for repeatIndex in 0..<configuration.repeats {
            for target in configuration.targets {
                guard let child = children[target] else { continue }
                guard child.isRunning else { throw BenchError("\(target.rawValue) exited; log tail:\n\(child.logTail())") }
                guard let version = await simulator.serverVersion(clientId: target.clientId) else {
                    throw BenchError("\(target.rawValue) has no ready connection")
                }
                versions[target.rawValue] = version
                let lines = try await replayLines(target, levels: levels)
                optionCount = lines.filter { $0.kind != .stock }.count
                let plan = ReplayPlan(lines: lines, rounds: configuration.rounds, epoch: repeatIndex + 1)
                let result = try await replay(plan, into: target, child: child, version: version, repeatIndex: repeatIndex, probe: probe)
                logger.notice("replay", metadata: [
                    "target": "\(target.rawValue)", "repeat": "\(repeatIndex + 1)", "status": "\(result.status)",
                    "ticks_per_s": "\(Int(result.ticksPerSecond))", "cpu_s_per_M": "\(String(format: "%.3f", result.cpuSecondsPerMillionTicks))",
                ])
                results.append(result)
            }
        }
        return ReplayReport(results: results, stocks: symbols.count, options: optionCount, rounds: configuration.rounds, serverVersions: versions)
    }

    /// The target's lines at the simulator, with the Redis key it writes each to.
    func replayLines(_ target: TargetKind, levels: [String: Int]) async throws -> [ReplayLine] {
        let subscriptions = await simulator.subscriptions().filter { $0.clientId == target.clientId }
            .sorted { ($0.secType != "STK" ? 1 : 0, $0.reqId) < ($1.secType != "STK" ? 1 : 0, $1.reqId) }
        return subscriptions.map { s in
            if s.secType == "OPT", let expiry = s.expiry, let strike = s.strike, let rightText = s.right,
                let right = OptionRight(text: rightText)
            {
                let key = Keys.prefixed(target.prefix, Keys.option(s.symbol, expiry: expiry, strike: strike, right: right))
                return ReplayLine(reqId: s.reqId, kind: .option(call: right == .call), key: key)
            }
            return ReplayLine(
                reqId: s.reqId, kind: .stock, key: Keys.prefixed(target.prefix, Keys.quote(s.symbol)), baseCents: levels[s.symbol])
        }
    }

    func replay(
        _ plan: ReplayPlan, into target: TargetKind, child: ChildProcess, version: Int, repeatIndex: Int, probe: RedisProbe
    ) async throws -> ReplayResult {
        let bytes = plan.encode(serverVersion: version)
        let buffer = ByteBufferAllocator().buffer(bytes: bytes)
        let finals = plan.finalValues
        let requests = finals.map { (key: $0.key, fields: $0.fields.map(\.field)) }
        let fieldCount = finals.reduce(0) { $0 + $1.fields.count }
        // The last line of the last round is written last: poll it alone until it is final,
        // then everything.
        let sentinel = [requests[requests.count - 1]]
        let sentinelValues = [finals[finals.count - 1].fields.map(\.value)]

        let cpuBefore = ProcStats.cpuTicks(pid: child.pid) ?? 0
        let redisBefore = configuration.redisPid.flatMap { ProcStats.cpuTicks(pid: $0) }
        let started = ContinuousClock.now
        guard await simulator.writeFramed(buffer, toClientId: target.clientId) else {
            throw BenchError("\(target.rawValue): connection gone before the replay")
        }
        let deadline = started + .seconds(configuration.timeoutSeconds)
        var status = "timeout"
        var lastMismatch = ""
        var sentinelFinal = false
        while ContinuousClock.now < deadline {
            if !sentinelFinal {
                sentinelFinal = Self.mismatch(try probe.hmget(sentinel), sentinelValues, requests: sentinel) == nil
            }
            if sentinelFinal {
                let all = try probe.hmget(requests)
                if let why = Self.mismatch(all, finals.map { $0.fields.map(\.value) }, requests: requests) {
                    lastMismatch = why
                } else {
                    status = "exact"
                    break
                }
            }
            guard child.isRunning else {
                status = "failed: \(target.rawValue) exited"
                break
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        let elapsed = ContinuousClock.now - started
        let cpuAfter = ProcStats.cpuTicks(pid: child.pid) ?? cpuBefore
        let redisAfter = configuration.redisPid.flatMap { ProcStats.cpuTicks(pid: $0) }
        if status == "timeout" {
            status = "failed: not exact after \(Int(configuration.timeoutSeconds)) s (\(lastMismatch.isEmpty ? "last line not final" : lastMismatch))"
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = Double(cpuAfter &- cpuBefore) / ProcStats.ticksPerSecond
        let messages = plan.messageCount
        return ReplayResult(
            target: target.rawValue, repeatIndex: repeatIndex + 1, lines: plan.lines.count, messages: messages, bytes: bytes.count,
            seconds: seconds, ticksPerSecond: status == "exact" ? Double(messages) / seconds : 0, cpuSeconds: cpu,
            cpuSecondsPerMillionTicks: cpu / (Double(messages) / 1e6),
            redisCPUSeconds: zip(redisBefore, redisAfter).map { Double($1 &- $0) / ProcStats.ticksPerSecond },
            status: status, fieldsVerified: status == "exact" ? fieldCount : 0)
    }

    /// nil when every value is there and equal (as a double) to the expected one.
    static func mismatch(_ replies: [[String?]], _ expected: [[Double]], requests: [(key: String, fields: [String])]) -> String? {
        for (i, reply) in replies.enumerated() {
            for (j, want) in expected[i].enumerated() {
                let got = j < reply.count ? reply[j] : nil
                guard let got, let value = Double(got), value == want else {
                    return "\(requests[i].key) \(requests[i].fields[j]) = \(got ?? "nil"), want \(want)"
                }
            }
        }
        return nil
    }

    // MARK: Processes

    func launchWorker(simPort: Int) throws -> ChildProcess {
        let path = "\(configuration.workDir)/quote-relay-replay.yaml"
        // Long TTLs: no keep-alive snapshot (a third of the TTL) can land between replays.
        var lines = WorkerConfig.header(
            comment: "Written by bench-replay; see BENCHMARKS.md.", workerID: "bench-replay", simPort: simPort,
            redisPort: configuration.redisPort, luaDir: configuration.luaDir, httpPort: try LoopbackSocket.freePort(),
            maxLines: 1000, ttlSeconds: 3600)
        for symbol in symbols {
            lines += [
                "  - symbol: \(symbol)",
                "    options:",
                "      expirations: 1",
                "      strikes_around_atm: \(configuration.strikesAroundATM)",
            ]
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return try ChildProcess(
            name: TargetKind.quoteRelay.rawValue, executable: configuration.workerBinary, arguments: ["run", "--config", path],
            logPath: "\(configuration.workDir)/quote-relay-replay.log")
    }

    func launchPeer(simPort: Int, options: [SubscriptionInfo]) throws -> ChildProcess {
        let path = "\(configuration.workDir)/peer-options.json"
        let specs: [[String: String]] = options.compactMap { o in
            guard let expiry = o.expiry, let strike = o.strike, let right = o.right else { return nil }
            let r = OptionRight(text: right) ?? .call
            return [
                "symbol": o.symbol, "expiry": expiry, "strike": DecimalFormat.string(strike) ?? "0", "right": r.rawValue,
                "trading_class": o.tradingClass ?? o.symbol,
                "key": Keys.prefixed(TargetKind.peer.prefix, Keys.option(o.symbol, expiry: expiry, strike: strike, right: r)),
            ]
        }
        try JSONSerialization.data(withJSONObject: specs).write(to: URL(fileURLWithPath: path))
        return try ChildProcess(
            name: TargetKind.peer.rawValue, executable: configuration.peerPython,
            arguments: [
                configuration.peerScript, "--ib-port", "\(simPort)", "--client-id", "\(TargetKind.peer.clientId)",
                "--redis-port", "\(configuration.redisPort)", "--prefix", TargetKind.peer.prefix,
                "--symbols", symbols.joined(separator: ","), "--options-file", path,
            ],
            logPath: "\(configuration.workDir)/peer-replay.log")
    }

    /// Waits until `expected` lines of `clientId` stream (or their count has settled for 5 s
    /// above 90%: like IB, the simulator does not list every strike on every expiry).
    func waitLines(_ child: ChildProcess, clientId: Int32, expected: Int) async throws -> [SubscriptionInfo] {
        let started = ContinuousClock.now
        let deadline = started + .seconds(configuration.readyTimeoutSeconds)
        var last = (count: -1, at: started)
        while ContinuousClock.now < deadline {
            guard child.isRunning else { throw BenchError("\(child.name) exited before subscribing; log tail:\n\(child.logTail())") }
            let live = await simulator.subscriptions().filter { $0.clientId == clientId }
            let now = ContinuousClock.now
            if live.count != last.count { last = (live.count, now) }
            if live.count >= expected || (live.count > expected * 9 / 10 && now - last.at > .seconds(5)) { return live }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BenchError("\(child.name): lines not live after \(Int(configuration.readyTimeoutSeconds)) s; log tail:\n\(child.logTail())")
    }
}

/// The children started so far, stopped whatever happens.
final class ChildList: @unchecked Sendable {
    // @unchecked: only touched by the runner's one task, in sequence.
    private var children: [ChildProcess] = []
    func add(_ child: ChildProcess) { children.append(child) }
    func stopAll() async {
        for child in children { await child.stop() }
        children = []
    }
}

/// Both or nothing.
private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
