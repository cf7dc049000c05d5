import Foundation
import MarketData
import RedisPublisher
import Testing
@testable import Relay

/// `quote-relay subscribe|unsubscribe|subscriptions` (the binary) against a real redis-server,
/// and the worker shell's pure mappings for requested instruments.
@Suite("quote-relay subscribe/unsubscribe/subscriptions")
struct CLILeaseTests {
    let url: String
    let prefix = "ls\(getpid()).\(UInt32.random(in: 0...UInt32.max))"

    init() throws {
        url = try CLITestRedis.url()
    }

    func connection() throws -> RedisConnection {
        try RedisConnection(url: try RedisURL(parsing: url), connectTimeout: .seconds(2), ioTimeout: .seconds(5))
    }

    @Test func subscribeWritesTheLayoutAndExitCodesSayWhatHappened() async throws {
        let binary = try #require(RepositoryRoot.binary)
        let env = ["PATH": "/usr/bin:/bin"]
        let common = ["--redis-url", url, "--prefix", prefix]
        let redis = try connection()
        defer { redis.close() }
        func redisNowMs() throws -> Int64 {
            let time = try redis.command(["TIME"]).array ?? []
            return (time[0].int ?? 0) * 1000 + (time[1].int ?? 0) / 1000
        }
        // The expiry is Redis' TIME when the CLI wrote it + the TTL: between the two readings
        // around the run, however long the process takes to start.
        let before = try redisNowMs()
        let ok = try await ChildProcess.run(binary, ["subscribe"] + common + ["--requester", "app1", "--ttl", "60", "--priority", "3", "FUT:ES.202612@CME"], environment: env)
        #expect(ok.status == 0, "\(ok.stderr)")
        let after = try redisNowMs()
        let score = try #require(try redis.command(["ZSCORE", "\(prefix):leases", "app1|FUT:ES.202612@CME"]).string.flatMap(Double.init))
        #expect(Int64(score) >= before + 60_000 && Int64(score) <= after + 60_000)
        #expect(try redis.command(["ZSCORE", "\(prefix):leases:priority", "app1|FUT:ES.202612@CME"]).string == "3")

        // Malformed: refused before anything is written (exit 2), with the reason.
        let bad = try await ChildProcess.run(binary, ["subscribe"] + common + ["--requester", "app1", "IND:SPX"], environment: env)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("an index needs its exchange"))
        let badRequester = try await ChildProcess.run(binary, ["subscribe"] + common + ["--requester", "a|b", "AAPL"], environment: env)
        #expect(badRequester.status == 2)
        #expect(try redis.command(["ZCARD", "\(prefix):leases"]).int == 1)

        // The listing shows the worker's status once there is one.
        _ = try redis.command(["HSET", "\(prefix):request:app1:FUT:ES.202612@CME", "state", "queued", "place", "2"])
        let list = try await ChildProcess.run(binary, ["subscriptions"] + common, environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        let row = list.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }.last
        #expect(row?.hasPrefix("app1 FUT:ES.202612@CME ") == true)
        #expect(row?.hasSuffix(" 3 queued place 2") == true)

        let removed = try await ChildProcess.run(binary, ["unsubscribe"] + common + ["--requester", "app1", "FUT:ES.202612@CME"], environment: env)
        #expect(removed.status == 0)
        let again = try await ChildProcess.run(binary, ["unsubscribe"] + common + ["--requester", "app1", "FUT:ES.202612@CME"], environment: env)
        #expect(again.status == 1)
        #expect(try redis.command(["EXISTS", "\(prefix):leases", "\(prefix):leases:priority"]).int == 0)
        let unreachable = try await ChildProcess.run(binary, ["subscriptions", "--redis-url", "redis://127.0.0.1:1/0"], environment: env)
        #expect(unreachable.status == 1)
    }

    /// Skeptic F10, F14, F15: whatever scores applications write, the listing survives; a TTL
    /// too large is a range error (exit 2), not an overflow trap; `unsubscribe MSFT` finds a lease
    /// written as `msft` (the worker reads both as one instrument).
    @Test func oddScoresHugeTTLsAndOtherSpellings() async throws {
        let binary = try #require(RepositoryRoot.binary)
        let env = ["PATH": "/usr/bin:/bin"]
        let common = ["--redis-url", url, "--prefix", prefix]
        let redis = try connection()
        defer { redis.close() }
        _ = try redis.command(["ZADD", "\(prefix):leases", "+inf", "inf1|MSFT"])
        _ = try redis.command(["ZADD", "\(prefix):leases", "1e300", "huge1|QQQ"])
        _ = try redis.command(["ZADD", "\(prefix):leases:priority", "+inf", "inf1|MSFT"])
        _ = try redis.command(["ZADD", "\(prefix):leases:priority", "-inf", "huge1|QQQ"])
        let list = try await ChildProcess.run(binary, ["subscriptions"] + common, environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("inf1") && list.stdout.contains("huge1"))

        let huge = try await ChildProcess.run(binary, ["subscribe"] + common + ["--ttl", "9223372036854775807", "AAPL"], environment: env)
        #expect(huge.status == 2, "\(huge.stderr)")
        #expect(huge.stderr.contains("between 1 and 86400"))

        _ = try redis.command(["ZADD", "\(prefix):leases", "99999999999999", "app2|msft"])
        #expect(try LeaseClient.unsubscribe(on: redis, prefix: prefix, requester: "app2", spec: "MSFT"))
        #expect(try redis.command(["ZSCORE", "\(prefix):leases", "app2|msft"]) == .null)
        #expect(try !LeaseClient.unsubscribe(on: redis, prefix: prefix, requester: "app2", spec: "MSFT"))
        // Another requester's lease of the same instrument is not touched.
        #expect(try redis.command(["ZSCORE", "\(prefix):leases", "inf1|MSFT"]) != .null)
    }

    @Test func requestsBecomeTheSameEntriesAsTheYAML() throws {
        let es = try InstrumentRequest.parse("FUT:ES.202612@CME").get()
        let spec = Worker.symbolSpec(es)
        #expect(spec == SymbolSpec(symbol: "ES", secType: .future, exchange: "CME", contractMonth: .fixed("202612")))
        #expect(spec.keySymbol == es.keySymbol)
        let fx = Worker.symbolSpec(try InstrumentRequest.parse("CASH:EUR.USD").get())
        #expect(fx.keySymbol == "EUR.USD" && fx.exchange == "IDEALPRO")
        #expect(Worker.symbolSpec(try InstrumentRequest.parse("IND:SPX@CBOE").get()).keySymbol == "SPX")
        let window = Worker.symbolSpec(try InstrumentRequest.parse("SPY#options=2x5").get())
        #expect(window.options == SymbolSpec.OptionWindow(expirations: 2, strikesAroundATM: 5))
        #expect(window.options?.marketDataLines == (try InstrumentRequest.parse("SPY#options=2x5").get().linesNeeded) - 1)
    }

    @Test func gatewayProblemsBecomeRefusalsOnlyWhenPermanent() {
        var state = Worker.SymbolState(spec: SymbolSpec(symbol: "ZZZZ"))
        #expect(Worker.refusal(state) == nil)
        state.problem = "competing live session (10197): elsewhere"
        #expect(Worker.refusal(state) == nil, "transient: failover's business")
        state.problem = "no market data permission (354): not subscribed"
        #expect(Worker.refusal(state)?.category == "no permission")
        state.problem = "IB lists 3 contracts for ES FUT (ESZ6, ESH7, ESM7): name one"
        #expect(Worker.refusal(state)?.category == "unknown contract")
        // Skeptic F17: IB ends the line with a code its table does not document; the worker
        // cancels it (the same words the core decides), so the request is not `active`.
        state.problem = WorkerCore.lineStatus(isQuote: true, .failed(code: 10999, message: "odd")).problem
        #expect(Worker.refusal(state)?.category == "not allowed")
        #expect(Worker.refusal(state)?.detail.contains("10999") == true)
        state.problem = WorkerCore.lineStatus(isQuote: true, .competingSession(message: "elsewhere")).problem
        #expect(Worker.refusal(state) == nil)
        state.problem = nil
        state.unresolvable = true
        #expect(Worker.refusal(state)?.category == "unknown contract")
    }

    @Test func statusFields() {
        let ref = LeaseArbiter.RequestRef(requester: "app", spec: "MSFT")
        #expect(LeaseStore.fields(.init(ref: ref, state: .queued(place: 2), keySymbol: "MSFT", ttlMs: 1)).map { "\($0.0)=\($0.1)" }
            == ["state=queued", "place=2", "key=quote:MSFT"])
        #expect(LeaseStore.fields(.init(ref: ref, state: .refused(.invalid("bad")), keySymbol: nil, ttlMs: 1)).map { "\($0.0)=\($0.1)" }
            == ["state=refused", "reason=invalid request: bad"])
        #expect(LeaseStore.fields(.init(ref: ref, state: nil, keySymbol: "MSFT", ttlMs: 0)).map { "\($0.0)=\($0.1)" } == ["state=released"])
    }
}
