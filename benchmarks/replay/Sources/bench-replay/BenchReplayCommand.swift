import ArgumentParser
import BenchE2E
import BenchReplay
import Foundation
import Logging

/// `bench-replay`: the replayed-flood benchmark of issue 15. benchmarks/replay/run.sh builds it
/// in release mode and drives it.
@main
struct BenchReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-replay",
        abstract: "Replay a pre-encoded TWS tick flood into quote-relay and the ib_async peer; time until Redis holds every final value.")

    @Option(help: "Port of the redis-server to publish into (loopback).")
    var redisPort: Int
    @Option(help: "redis-server's pid, to report its CPU.")
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
    @Option(help: "Comma-separated targets, in the order each repeat runs them: quote-relay, peer.")
    var targets = "quote-relay,peer"
    @Option(help: "Stocks; each is also the underlying of 2 x (2 x strikes + 1) options on its nearest expiry.")
    var stocks = 8
    @Option(help: "Strikes on each side of the money per underlying.")
    var strikes = 2
    @Option(help: "Rounds of ticks per replay (8 messages per stock, 12 per option each round).")
    var rounds = 1000
    @Option(help: "Replays per target, interleaved.")
    var repeats = 3
    @Option(help: "Seconds a replay may take to reach its final state before it counts as failed.")
    var timeout = 180.0

    func run() async throws {
        var config = ReplayConfiguration(
            redisPort: redisPort, workerBinary: worker, luaDir: luaDir, peerPython: peerPython, peerScript: peerScript,
            workDir: workDir)
        config.redisPid = redisPid
        config.targets = try targets.split(separator: ",").map {
            guard let t = TargetKind(rawValue: String($0)) else { throw ValidationError("unknown target \($0)") }
            return t
        }
        config.stocks = stocks
        config.strikesAroundATM = strikes
        config.rounds = rounds
        config.repeats = repeats
        config.timeoutSeconds = timeout
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .notice
            return handler
        }
        let report = try await ReplayRunner(configuration: config, logger: Logger(label: "bench-replay")).run()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: output))
    }
}
