import Foundation
import MarketModel
import Testing
@testable import RedisPublisher

/// The data keys as other applications read them (CONTRACT §3), written through the
/// publisher and publish.lua into a real redis-server.
@Suite("publish.lua layout (real redis-server)")
struct PublishLayoutTests {
    let prefix: String
    let redis: RedisConnection
    let publisher: Publisher

    init() throws {
        prefix = TestRedis.uniquePrefix("layout")
        redis = try TestRedis.connection()
        var configuration = try TestRedis.configuration(prefix: prefix)
        // The worker's wall clock, far from Redis' on purpose: nothing may depend on them agreeing.
        configuration.wallClockMs = { 1_760_000_000_123 }
        configuration.streamEnabled = true
        configuration.streamMaxLen = 1000
        publisher = try TestRedis.publisher(configuration)
        publisher.start()
    }

    func write(_ record: Record) async throws {
        publisher.publish(record)
        #expect(await publisher.flush(timeout: .seconds(10)))
    }

    @Test func quoteHashHoldsExactDecimalTextAndNoUnknowns() async throws {
        let started = ContinuousClock.now
        var q = QuoteSnapshot(symbol: "AAPL")
        q.bid = 0.00001
        q.bidSize = 300
        q.ask = 1.1 + 2.2  // 3.3000000000000003: the shortest round-trip digits, never rounded away
        q.last = 189.5
        q.volume = 12_345_678_901
        q.close = 188
        q.dataType = .live
        let redisBefore = try TestRedis.redisTimeMs(redis)
        try await write(q.record(source: .ib, updatedMs: 1_760_000_000_123))

        let key = "\(prefix):quote:AAPL"
        #expect(try redis.hgetall(key) == [
            "symbol": "AAPL", "bid": "0.00001", "bid_size": "300", "ask": "3.3000000000000003",
            "last": "189.5", "volume": "12345678901", "close": "188", "change": "1.5", "change_percent": "0.7979",
            "updated_ms": "1760000000123", "source": "ib", "data_type": "live", "stale": "0", "seq": "1",
        ])
        // The freshness index is on Redis' clock: the write's age (0 here: it was confirmed just
        // before sending, on the worker's clock) subtracted from Redis' TIME.
        let score = try #require(redis.command(["ZSCORE", "\(prefix):updated", "quote:AAPL"]).string.flatMap(Int64.init))
        let redisNow = try TestRedis.redisTimeMs(redis)
        #expect(score >= redisBefore && score <= redisNow)
        let ttl = try redis.pttl(key)
        #expect(ttl > 0 && ttl <= 300_000 && ttl >= 300_000 - elapsedMs(since: started) - 1_000)
    }

    @Test func eachWriteAddsOneToSeqRefreshesTheTTLAndRemovesFieldsThatBecameUnknown() async throws {
        let started = ContinuousClock.now
        try await write(Fixtures.quote("MSFT", bid: 410.5, ask: 410.6))
        let key = "\(prefix):quote:MSFT"
        try redis.command(["PEXPIRE", key, "5000"])
        try await write(Fixtures.quote("MSFT", bid: 410.55, ask: nil))
        let hash = try redis.hgetall(key)
        #expect(hash["seq"] == "2")
        #expect(hash["bid"] == "410.55")
        #expect(hash["ask"] == nil)
        #expect(hash["ask_size"] == nil)
        #expect(hash["stale"] == "0")
        let ttl = try redis.pttl(key)
        #expect(ttl > 0 && ttl <= 300_000 && ttl >= 300_000 - elapsedMs(since: started) - 1_000)
        for _ in 0..<3 { try await write(Fixtures.quote("MSFT")) }
        #expect(try redis.command(["HGET", key, "seq"]) == .string("5"))
    }

    /// publish.lua writes the fields in place when the hash holds nothing else and replaces the
    /// hash otherwise: either way the hash is exactly the record after every write, whichever
    /// fields came and went, however many there are.
    @Test func theHashIsExactlyTheRecordAfterInPlaceAndReplacingWrites() async throws {
        let key = "\(prefix):quote:NVDA"
        func expect(_ record: Record, seq: Int, _ comment: Comment) throws {
            var expected = Dictionary(uniqueKeysWithValues: record.fields.map { ($0.name, $0.value) })
            expected["seq"] = "\(seq)"
            expected["stale"] = "0"
            #expect(try redis.hgetall(key) == expected, comment)
        }
        let full = Fixtures.quote("NVDA", bid: 130.5, ask: 130.6)
        try await write(full)
        try expect(full, seq: 1, "first write")
        // Same fields, new values: in place.
        let moved = Fixtures.quote("NVDA", bid: 130.55, ask: 130.65, last: 130.6)
        try await write(moved)
        try expect(moved, seq: 2, "same fields, new values")
        // As many fields as before, but other ones: ask and ask_size gone, open and high new.
        var swapped = QuoteSnapshot(symbol: "NVDA")
        swapped.bid = 130.5
        swapped.bidSize = 300
        swapped.last = 130.6
        swapped.volume = 12_345_678
        swapped.close = 188
        swapped.open = 129
        swapped.high = 131
        swapped.dataType = .live
        let swappedRecord = swapped.record(source: .ib, updatedMs: 1_760_000_000_001)
        #expect(swappedRecord.fields.count == moved.fields.count)
        try await write(swappedRecord)
        try expect(swappedRecord, seq: 3, "as many fields, other names")
        // A field no record has (another client's): removed by the next write.
        try redis.command(["HSET", key, "foreign", "x"])
        try await write(swappedRecord)
        try expect(swappedRecord, seq: 4, "a foreign field")
        try await write(moved)
        try expect(moved, seq: 5, "back to the first field set")
    }

    @Test func aSourceSwitchReplacesEveryFieldOfTheOtherSource() async throws {
        var ib = QuoteSnapshot(symbol: "SPY")
        ib.bid = 450.1
        ib.bidSize = 10
        ib.ask = 450.2
        ib.askSize = 12
        ib.last = 450.15
        ib.high = 451
        ib.dataType = .delayed
        try await write(ib.record(source: .ib, updatedMs: 1000))
        var av = QuoteSnapshot(symbol: "SPY")
        av.last = 450.3
        av.volume = 99
        av.close = 449
        av.dataType = .alphavantageDelayed
        let record = av.record(source: .alphavantage, updatedMs: 2000)
        try await write(record)

        var expected = Dictionary(uniqueKeysWithValues: record.fields.map { ($0.name, $0.value) })
        expected["seq"] = "2"
        expected["stale"] = "0"
        #expect(try redis.hgetall("\(prefix):quote:SPY") == expected)
        #expect(expected["source"] == "alphavantage" && expected["bid"] == nil && expected["high"] == nil)
    }

    @Test func thePubSubMessageIsTheHashPlusKeyAndType() async throws {
        let started = ContinuousClock.now
        let channel = "\(prefix):option:SPY:20261218:452.5:C"
        let subscriber = try TestRedis.connection()
        #expect(try subscriber.command(["SUBSCRIBE", channel]).array?.count == 3)

        var o = OptionSnapshot(symbol: "SPY", expiry: "20261218", strike: 452.5, right: .call)
        o.conId = 123_456_789
        o.bid = 12.35
        o.ask = 12.4
        o.impliedVol = 0.2345
        o.delta = 0.5123
        o.theta = -0.0789
        o.dataType = .live
        let record = o.record(source: .ib, updatedMs: 1_760_000_000_000)
        #expect(record.key == "option:SPY:20261218:452.5:C")
        try await write(record)

        let message = try subscriber.readReply().array ?? []
        #expect(message.count == 3)
        #expect(message.first == .string("message"))
        #expect(message.dropFirst().first == .string(channel))
        let payload = message.last?.string ?? ""
        let expectedJSON = JSONText.object(record.fields + [
            Field("key", channel, isNumber: false), Field("type", "option", isNumber: false),
            Field("seq", "1", isNumber: true), Field("stale", "0", isNumber: true),
        ])
        #expect(payload == expectedJSON)

        // Same names, same values: the message is the hash plus key and type.
        let hash = try redis.hgetall(channel)
        let object = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] ?? [:]
        #expect(Set(object.keys) == Set(hash.keys).union(["key", "type"]))
        #expect(hash["strike"] == "452.5" && hash["theta"] == "-0.0789" && hash["con_id"] == "123456789")
        #expect((object["strike"] as? Double) == 452.5)
        #expect((object["seq"] as? Int) == 1 && (object["stale"] as? Int) == 0)
        #expect((object["right"] as? String) == "C")
        let ttl = try redis.pttl(channel)
        #expect(ttl > 0 && ttl <= 300_000 && ttl >= 300_000 - elapsedMs(since: started) - 1_000)
    }

    @Test func chainsHaveSeqNoStaleFlagAndNoFreshnessEntry() async throws {
        let started = ContinuousClock.now
        var chain = ChainSnapshot(symbol: "QQQ", expirations: ["20261218", "20261120"], strikes: [400, 402.5, 397.5])
        chain.underlyingConId = 320_227_571
        chain.exchange = "SMART"
        chain.tradingClass = "QQQ"
        chain.multiplier = "100"
        try await write(chain.record(source: .ib, updatedMs: 5))
        let key = "\(prefix):chain:QQQ"
        #expect(try redis.hgetall(key) == [
            "symbol": "QQQ", "underlying_con_id": "320227571", "exchange": "SMART", "trading_class": "QQQ",
            "multiplier": "100", "expirations": "20261120,20261218", "strikes": "397.5,400,402.5",
            "updated_ms": "5", "source": "ib", "seq": "1",
        ])
        #expect(try redis.command(["ZSCORE", "\(prefix):updated", "chain:QQQ"]) == .null)
        let ttl = try redis.pttl(key)
        #expect(ttl > 0 && ttl <= 86_400_000 && ttl >= 86_400_000 - elapsedMs(since: started) - 1_000)
    }

    @Test func theStreamGetsOneEntryPerWriteWithKeyAndPayload() async throws {
        try await write(Fixtures.quote("TSLA", bid: 250))
        try await write(Fixtures.quote("TSLA", bid: 251))
        let entries = try redis.command(["XRANGE", "\(prefix):stream", "-", "+"]).array ?? []
        #expect(entries.count == 2)
        let last = entries.last?.array?.last?.hash ?? [:]
        #expect(last["key"] == "\(prefix):quote:TSLA")
        #expect(last["payload"]?.contains("\"bid\":251,") == true)
        #expect(last["payload"]?.hasSuffix("\"seq\":2,\"stale\":0}") == true)
    }
}

/// Milliseconds since `start` on the monotonic clock: TTL checks allow for a slow machine.
func elapsedMs(since start: ContinuousClock.Instant) -> Int64 {
    Int64((ContinuousClock.now - start) / .milliseconds(1))
}
