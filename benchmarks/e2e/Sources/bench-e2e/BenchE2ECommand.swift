import ArgumentParser
import BenchE2E
import Foundation
import Logging

/// `bench-e2e`: the end-to-end benchmark of issue 5 item 7. benchmarks/e2e/run.sh builds it
/// in release mode and drives it; it can also be run by hand against a running redis-server.
@main
struct BenchE2ECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-e2e",
        abstract: "End-to-end benchmark: IB Gateway simulator -> worker or peer -> Redis -> pub/sub subscriber.",
        subcommands: [RunCommand.self, SubscribeCommand.self])
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure quote-relay and the ib_async peer at each rate; write the results as JSON.",
        discussion: """
            Starts the IB Gateway simulator in this process in benchmark mode (each stock update's \
            volume is a sequence number whose send time is recorded), subscribes to PREFIX:quote:* \
            on Redis, and runs each target as a child process, one at a time, a fresh process per rate.
            """)

    @Option(help: "Port of the redis-server to publish into (loopback).")
    var redisPort: Int
    @Option(help: "redis-server's pid, to report its CPU share.")
    var redisPid: Int32?
    @Option(help: "Path of the quote-relay binary (release build).")
    var worker: String
    @Option(help: "Folder of the Lua scripts (lua/).")
    var luaDir: String
    @Option(help: "Python interpreter of the peer's venv.")
    var peerPython: String
    @Option(help: "The peer script (benchmarks/peer/ib_async_redis_peer.py).")
    var peerScript: String
    @Option(help: "Folder for generated configs and child logs.")
    var workDir: String
    @Option(help: "Where to write the JSON results.")
    var output: String
    @Option(help: "Comma-separated targets: quote-relay, peer.")
    var targets = "quote-relay,peer"
    @Option(help: "Comma-separated rates in simulator updates/s (1000, 10k, ...) or max (closed-loop flood).")
    var rates = "1k,10k,100k,max"
    @Option(help: "Passes over the rates (each pass runs every rate once, the targets taking turns at each rate).")
    var repeats = 1
    @Option(help: "Seconds measured per rate.")
    var seconds = 10.0
    @Option(help: "Seconds at the rate before measuring.")
    var warmup = 2.0
    @Option(help: "Stock symbols subscribed.")
    var symbols = 100
    @Option(help: "Updates in flight in max mode.")
    var floodWindow = 5000
    @Option(help: "Memory run: underlyings with options (0 skips the memory run).")
    var optionUnderlyings = 50
    @Option(help: "Memory run: expirations per underlying.")
    var optionExpirations = 2
    @Option(help: "Memory run: strikes on each side of the money.")
    var optionStrikes = 2
    @Option(help: "Memory run: seconds of ticks before reading VmRSS.")
    var memoryWarmup = 10.0
    @Option(help: "Option-lines scenario (SPX/SPXW + AAPL + MSFT windows, 1,050 option lines requested, over 1,000 live; quote-relay only): comma-separated rates, empty skips it.")
    var optionLinesRates = ""
    @Flag(help: "Skip the simulator's own ceiling (null client flood).")
    var skipSimulatorCeiling = false

    func run() async throws {
        var logger = Logger(label: "bench-e2e")
        logger.logLevel = .info
        var config = BenchConfiguration(
            redisPort: redisPort, workerBinary: worker, luaDir: luaDir, peerPython: peerPython, peerScript: peerScript,
            workDir: workDir)
        config.redisPid = redisPid
        config.targets = try targets.split(separator: ",").map {
            guard let kind = TargetKind(rawValue: String($0)) else { throw ValidationError("unknown target '\($0)'") }
            return kind
        }
        // An empty list runs no rate (e.g. only the memory run).
        config.rates = try rates.split(separator: ",").map {
            guard let rate = TargetRate(String($0)) else { throw ValidationError("bad rate '\($0)'") }
            return rate
        }
        config.windowSeconds = seconds
        config.repeats = max(1, repeats)
        config.warmupSeconds = warmup
        config.symbolCount = symbols
        config.floodWindow = floodWindow
        config.memoryWarmupSeconds = memoryWarmup
        config.optionLinesRates = try optionLinesRates.split(separator: ",").map {
            guard let rate = TargetRate(String($0)) else { throw ValidationError("bad option-lines rate '\($0)'") }
            return rate
        }
        config.measureSimulatorCeiling = !skipSimulatorCeiling
        config.memoryLoad = optionUnderlyings > 0
            ? OptionLoad(underlyings: min(optionUnderlyings, symbols), expirations: optionExpirations, strikesAroundATM: optionStrikes)
            : nil
        let report = try await BenchmarkRunner(configuration: config, logger: logger).run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: output))
        logger.info("results written", metadata: ["path": "\(output)"])
    }
}

struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Count pub/sub messages until the publisher goes quiet; print the rate as JSON.",
        discussion: """
            Measures the subscriber's own ceiling (run.sh attaches it to redis-benchmark's PUBLISH \
            and EVALSHA runs). The rate is taken between the first and the last message, so the \
            idle time before and after the publisher does not dilute it.
            """)

    @Option(help: "redis-server port (loopback).")
    var redisPort: Int
    @Option(help: "PSUBSCRIBE pattern.")
    var pattern: String
    @Option(help: "Give up when no message arrives within this many seconds.")
    var firstMessageTimeout = 30.0
    @Option(help: "Stop after this many seconds without a message.")
    var idleSeconds = 1.0
    @Option(help: "Stop after this many seconds in any case.")
    var maxSeconds = 120.0

    func run() async throws {
        let subscriber = PubSubSubscriber(redisPort: redisPort, pattern: pattern, stamps: nil)
        try await subscriber.start()
        emit("{\"subscribed\": true}")
        let meter = subscriber.readerThreadId.map { CPUMeter(sources: [.init(pid: getpid(), thread: $0)]) }
        let began = ContinuousClock.now
        var first: (count: UInt64, at: ContinuousClock.Instant)?
        var last: (count: UInt64, at: ContinuousClock.Instant)?
        while true {
            try await Task.sleep(for: .milliseconds(10))
            let now = ContinuousClock.now
            let count = subscriber.counters.messages
            if first == nil, count > 0 { first = (count, now) }
            if count != last?.count { last = (count, now) }
            if first == nil, now - began > .seconds(firstMessageTimeout) { break }
            if let l = last, first != nil, now - l.at > .seconds(idleSeconds) { break }
            if now - began > .seconds(maxSeconds) { break }
        }
        let total = ContinuousClock.now - began
        // CPU seconds of the reader thread over the whole run, all spent while messages flowed.
        let cpuSeconds = meter?.percent().values.first.map {
            $0 / 100 * (Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18)
        }
        await subscriber.stop()
        var messages: UInt64 = 0
        var seconds = 0.0
        if let first, let last, last.at > first.at {
            messages = last.count - first.count
            let d = last.at - first.at
            seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        let rate = seconds > 0 ? Int(Double(messages) / seconds) : 0
        emit(
            "{\"messages\": \(messages), \"seconds\": \(seconds), \"messages_per_second\": \(rate), "
                + "\"total_messages\": \(subscriber.counters.messages), \"reader_busy_percent\": \(cpuSeconds.map { seconds > 0 ? String(Int($0 / seconds * 100)) : "null" } ?? "null")}")
    }
}

/// One line on stdout, unbuffered: run.sh waits for the "subscribed" line before it starts
/// redis-benchmark.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
