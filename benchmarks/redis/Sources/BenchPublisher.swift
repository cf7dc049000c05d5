import Foundation
import Logging
import MarketModel
import RedisPublisher

/// Measures the publisher against a real redis-server (benchmarks/redis/run.sh starts one and
/// runs redis-benchmark beside it on the same server).
///
///   bench-publisher --redis-url URL [--tls-ca-file PEM] --scripts-dir lua [--scenario all|distinct|coalesce|paced] [--keys 50000] [--passes 3]
///     [--paced-rates 1000,20000] [--paced-seconds 3]
///   bench-publisher --redis-url URL --scripts-dir lua --emit-evalsha-args FILE
///
/// Scenarios: distinct keys (every update a different key: no coalescing possible, so this is
/// the pipelined write rate), heavy same-key coalescing (100 keys updated in a tight loop),
/// and write latency under paced load (1k and 20k updates/s).
@main
struct BenchPublisher {
    /// `--fence 1`: set once in `main` before any publisher exists.
    nonisolated(unsafe) static var fenced = false

    static func main() async throws {
        let options = Options(CommandLine.arguments.dropFirst())
        var url = try RedisURL(parsing: options.value("--redis-url") ?? "redis://127.0.0.1:6379/0")
        // rediss:// URLs: the CA that signed the server's certificate (run-tls.sh makes one).
        if let caFile = options.value("--tls-ca-file") { url.tls?.caFile = caFile }
        let scriptsDirectory = options.value("--scripts-dir") ?? "lua"
        // `--fence 1`: write as the holder of a worker.group lease (every publish.lua call
        // carries the lease key and token and checks them), to measure the fence's cost.
        fenced = options.value("--fence") == "1"
        let scripts = try LuaScripts(directory: scriptsDirectory)

        if let path = options.value("--emit-evalsha-args") {
            try emitEvalshaArguments(url: url, scripts: scripts, to: path)
            return
        }
        if options.value("--encode-only") != nil {
            encodeOnly()
            return
        }
        let keys = Int(options.value("--keys") ?? "") ?? 50_000
        let passes = Int(options.value("--passes") ?? "") ?? 3
        let scenario = options.value("--scenario") ?? "all"

        if scenario == "all" || scenario == "distinct" {
            print("# distinct: \(keys) option keys (23 fields each) x \(passes) passes; redis \(url)")
            var rates: [Double] = []
            for pass in 1...passes {
                rates.append(try await distinct(url: url, scripts: scripts, keys: keys, pass: pass))
            }
            rates.sort()
            print("RESULT distinct_writes_per_s=\(Int(rates[rates.count / 2])) passes=\(rates.map { Int($0) })")
        }
        if scenario == "all" || scenario == "coalesce" {
            try await coalescing(url: url, scripts: scripts)
        }
        if scenario == "all" || scenario == "paced" {
            // `--paced-rates 1000,10000`: other rates (updates/s, in bursts every millisecond).
            let rates = options.value("--paced-rates").map { $0.split(separator: ",").compactMap { Int($0) } } ?? [1_000, 20_000]
            let seconds = Int(options.value("--paced-seconds") ?? "") ?? 3
            for rate in rates {
                try await paced(url: url, scripts: scripts, ratePerSecond: rate, seconds: seconds)
            }
        }
    }

    // MARK: Scenarios

    /// Every update is a different key; measured from the first publish to flush completion.
    static func distinct(url: RedisURL, scripts: LuaScripts, keys: Int, pass: Int) async throws -> Double {
        let records = (0..<keys).map { option(index: $0, tick: pass) }
        let publisher = try await connectedPublisher(url: url, scripts: scripts, prefix: "bench:distinct")
        defer { publisher.stop() }
        let start = ContinuousClock.now
        for r in records { publisher.publish(r) }
        let published = ContinuousClock.now
        guard await publisher.flush(timeout: .seconds(300)) else { throw BenchError("flush timed out") }
        let elapsed = ContinuousClock.now - start
        let stats = publisher.stats
        let rate = Double(stats.writes) / elapsed.seconds
        print("distinct pass \(pass): \(stats.writes) writes in \(fmt(elapsed.seconds)) s = \(Int(rate))/s;"
            + " \(stats.batches) round trips (\(stats.writes / max(1, stats.batches)) per trip);"
            + " producer enqueued all in \(fmt((published - start).seconds * 1000)) ms; coalesced \(stats.coalesced)")
        return rate
    }

    /// 100 keys updated 2,000,000 times in a tight loop: the producer's rate, and how few
    /// writes it takes (latest wins).
    static func coalescing(url: RedisURL, scripts: LuaScripts) async throws {
        let hot = 100
        let variants = 16
        let records = (0..<variants).flatMap { tick in (0..<hot).map { option(index: $0, tick: tick) } }
        let total = 2_000_000
        let publisher = try await connectedPublisher(url: url, scripts: scripts, prefix: "bench:coalesce")
        defer { publisher.stop() }
        let start = ContinuousClock.now
        for i in 0..<total { publisher.publish(records[i % records.count]) }
        let published = ContinuousClock.now - start
        guard await publisher.flush(timeout: .seconds(300)) else { throw BenchError("flush timed out") }
        let elapsed = ContinuousClock.now - start
        let s = publisher.stats
        print("coalescing: \(total) updates to \(hot) keys accepted at \(Int(Double(total) / published.seconds))/s;"
            + " \(s.writes) writes, \(s.coalesced) coalesced, \(s.batches) round trips, all written after \(fmt(elapsed.seconds)) s;"
            + " latency p50 \(micros(s.latency.percentile(0.5))) µs p99 \(micros(s.latency.percentile(0.99))) µs")
        print("RESULT coalesce_updates_per_s=\(Int(Double(total) / published.seconds)) writes=\(s.writes) coalesced=\(s.coalesced)")
    }

    /// A steady rate over 1,000 keys; latency is publish() to the reply of its write.
    static func paced(url: RedisURL, scripts: LuaScripts, ratePerSecond: Int, seconds: Int) async throws {
        let keys = 1_000
        let records = (0..<4).flatMap { tick in (0..<keys).map { option(index: $0, tick: tick) } }
        let publisher = try await connectedPublisher(url: url, scripts: scripts, prefix: "bench:paced")
        defer { publisher.stop() }
        let perMillisecond = max(1, ratePerSecond / 1000)
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        for ms in 0..<(seconds * 1000) {
            let due = start + .milliseconds(ms)
            while clock.now < due { usleep(100) }
            for _ in 0..<perMillisecond {
                publisher.publish(records[sent % records.count])
                sent += 1
            }
        }
        guard await publisher.flush(timeout: .seconds(60)) else { throw BenchError("flush timed out") }
        let s = publisher.stats
        print("paced \(ratePerSecond)/s for \(seconds) s (\(perMillisecond) per ms): \(s.writes) writes, \(s.coalesced) coalesced, \(s.batches) round trips;"
            + " latency p50 \(micros(s.latency.percentile(0.5))) µs p99 \(micros(s.latency.percentile(0.99))) µs max \(micros(.nanoseconds(Int64(s.latency.maxNanos)))) µs")
        print("RESULT paced_\(ratePerSecond)_p50_us=\(micros(s.latency.percentile(0.5))) p99_us=\(micros(s.latency.percentile(0.99)))")
    }

    /// The client-side cost per write without Redis: JSON payload + RESP encoding, as the
    /// writer does it (a diagnostic for where the time goes).
    static func encodeOnly() {
        let records = (0..<50_000).map { option(index: $0, tick: 0) }
        var buffer = RESPBuffer(reservingCapacity: 1 << 20)
        var payload: [UInt8] = []
        let clock = ContinuousClock()
        var jsonTime = Duration.zero
        var total = Duration.zero
        for round in 0..<3 {
            let start = clock.now
            var j = Duration.zero
            for (i, r) in records.enumerated() {
                if i % 512 == 0 { buffer.removeAll() }
                let key = "bench:" + r.key
                let t0 = clock.now
                PayloadEncoder.encode(r, prefixedKey: key, into: &payload)
                j += clock.now - t0
                buffer.beginCommand(argumentCount: 16 + 2 * r.fields.count)
                buffer.argument("EVALSHA"); buffer.argument("0123456789012345678901234567890123456789"); buffer.argument(3)
                buffer.argument(key); buffer.argument("bench:updated"); buffer.argument("bench:stream")
                buffer.argument(r.key); buffer.argument(r.updatedMs); buffer.argument(300_000)
                buffer.argument(bytes: payload); buffer.argument(0); buffer.argument("")
                buffer.argument("stale"); buffer.argument("0"); buffer.argument("seq"); buffer.argument("0")
                for f in r.fields { buffer.argument(f.name); buffer.argument(f.value) }
            }
            if round > 0 { total += clock.now - start; jsonTime += j }
        }
        let n = Double(records.count * 2)
        print("encode-only: \(fmt(total.seconds / n * 1e6)) µs per record, of which JSON payload \(fmt(jsonTime.seconds / n * 1e6)) µs")
    }

    // MARK: Helpers

    /// A realistic option record (23 fields, greeks included).
    static func option(index: Int, tick: Int) -> Record {
        var o = OptionSnapshot(symbol: "SPY", expiry: "20261218", strike: 300 + Double(index) * 0.5, right: index % 2 == 0 ? .call : .put)
        let t = Double(tick) * 0.01
        o.conId = 700_000_000 + Int64(index)
        o.bid = 12.35 + t
        o.bidSize = 10
        o.ask = 12.4 + t
        o.askSize = 12
        o.last = 12.37 + t
        o.lastSize = 1
        o.volume = 1234 + Double(tick)
        o.openInterest = 5678
        o.impliedVol = 0.2345
        o.delta = 0.5123
        o.gamma = 0.0123
        o.vega = 0.456
        o.theta = -0.0789
        o.underlyingPrice = 450.12 + t
        o.modelPrice = 12.38 + t
        o.dataType = .live
        return o.record(source: .ib, updatedMs: 1_760_000_000_000 + Int64(tick))
    }

    static func connectedPublisher(url: RedisURL, scripts: LuaScripts, prefix: String) async throws -> Publisher {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        var configuration = PublisherConfiguration(url: url, keyPrefix: prefix)
        if fenced { configuration.leaseKey = "\(prefix):\(PublisherKeys.lease(group: "bench"))" }
        let publisher = Publisher(configuration: configuration, scripts: scripts, logger: logger)
        publisher.start()
        for _ in 0..<500 where !publisher.stats.connected {
            try await Task.sleep(for: .milliseconds(10))
        }
        guard publisher.stats.connected else { throw BenchError("cannot connect to \(url)") }
        if fenced {
            // One token for every pass (they share the prefix, so the lease key).
            let token = "bench#1"
            let reply = try await publisher.lease(.acquire, token: token, ttlMs: 3_600_000)
            guard reply.held || reply.holder == token else { throw BenchError("the bench lease is held by \(reply.holder ?? "?")") }
            publisher.setFenceToken(token)
        }
        return publisher
    }

    /// The EVALSHA command the publisher sends for `option(index: 0, tick: 0)`, with
    /// `__rand_int__` in the key, NUL-separated, for redis-benchmark.
    static func emitEvalshaArguments(url: RedisURL, scripts: LuaScripts, to path: String) throws {
        let connection = try RedisConnection(url: url)
        let digests = try scripts.load(into: connection)
        let record = option(index: 0, tick: 0)
        let prefix = "bench:rb"
        let key = "\(prefix):option:__rand_int__"
        var arguments = ["EVALSHA", digests.publish, "3", key, "\(prefix):updated", "\(prefix):stream",
                         "option:__rand_int__", String(record.updatedMs), "300000",
                         record.jsonPayload(prefixedKey: key), "0", "", "stale", "0", "seq", "0"]
        for f in record.fields { arguments += [f.name, f.value] }
        let bytes = arguments.map { Array($0.utf8) + [0] }.flatMap { $0 }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func fmt(_ v: Double) -> String { String(format: "%.3f", v) }
    static func micros(_ d: Duration?) -> Int {
        guard let d else { return -1 }
        return Int(d.seconds * 1_000_000)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct Options {
    var arguments: [String]
    init(_ arguments: ArraySlice<String>) { self.arguments = Array(arguments) }
    func value(_ name: String) -> String? {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
        return arguments[i + 1]
    }
}

extension Duration {
    var seconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
