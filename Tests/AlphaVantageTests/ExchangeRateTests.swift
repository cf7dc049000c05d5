import Foundation
import MarketModel
import Simulators
import Testing
@testable import AlphaVantage

/// CURRENCY_EXCHANGE_RATE (FX failover, `alphavantage.fx`): the decoder on Alpha Vantage's
/// documented body and on every error shape, the scheduler's turn for FX pairs within the
/// quote budget, and the client against the simulator over HTTP.
@Suite struct ExchangeRateDecoderTests {
    /// The documented shape (Alpha Vantage "Currency Exchange Rate"; the field names as the
    /// `alpha_vantage` crate's `RealtimeExchangeRate` decodes them).
    static let body = """
        {
            "Realtime Currency Exchange Rate": {
                "1. From_Currency Code": "EUR",
                "2. From_Currency Name": "Euro",
                "3. To_Currency Code": "USD",
                "4. To_Currency Name": "United States Dollar",
                "5. Exchange Rate": "1.08450000",
                "6. Last Refreshed": "2024-02-29 14:55:01",
                "7. Time Zone": "UTC",
                "8. Bid Price": "1.08448000",
                "9. Ask Price": "1.08452000"
            }
        }
        """

    static func decode(_ text: String, from: String = "EUR", to: String = "USD") throws -> QuoteSnapshot {
        let object = try AlphaVantageDecoder.jsonObject(bytes(text))
        return try AlphaVantageDecoder.exchangeRate(object, from: from, to: to, dataType: .alphavantageRealtime)
    }

    static func error(_ text: String, from: String = "EUR", to: String = "USD") -> AlphaVantageError? {
        do {
            _ = try decode(text, from: from, to: to)
            return nil
        } catch let e as AlphaVantageError {
            return e
        } catch {
            return nil
        }
    }

    @Test func goodBodyIsAnFXQuote() throws {
        let q = try Self.decode(Self.body)
        #expect(q.symbol == "EUR/USD")
        #expect(q.bid == 1.08448 && q.ask == 1.08452 && q.last == 1.0845)
        // 2024-02-29 14:55:01 UTC
        #expect(q.lastTradeMs == 1_709_218_501_000)
        #expect(q.dataType == .alphavantageRealtime)
        // What IDEALPRO does not have, Alpha Vantage does not invent.
        #expect(q.volume == nil && q.bidSize == nil && q.askSize == nil && q.lastSize == nil)
        #expect(q.open == nil && q.high == nil && q.low == nil && q.close == nil)
        let record = q.record(source: .alphavantage, updatedMs: 1)
        #expect(record.value("change") == nil && record.value("change_percent") == nil, "no close, so no change")
        #expect(record.value("last") == "1.0845" && record.value("source") == "alphavantage")
    }

    @Test func lowercaseCodesAndAnotherZoneDecode() throws {
        let text = Self.body.replacingOccurrences(of: "\"UTC\"", with: "\"America/New_York\"")
        let q = try Self.decode(text, from: "eur", to: "usd")
        #expect(q.symbol == "EUR/USD")
        // 14:55:01 in New York (EST, UTC-5) on that day.
        let newYork: Int64 = 1_709_218_501_000 + 5 * 3_600_000
        #expect(q.lastTradeMs == newYork)
        let unknownZone = Self.body.replacingOccurrences(of: "\"UTC\"", with: "\"Mars/Olympus\"")
        #expect(try Self.decode(unknownZone).lastTradeMs == nil, "an unknown zone gives no time, not a wrong one")
    }

    @Test func missingBidAndAskStillCarryTheRate() throws {
        let text = Self.body.replacingOccurrences(of: "\"1.08448000\"", with: "\"-\"").replacingOccurrences(of: "\"1.08452000\"", with: "\"-\"")
        let q = try Self.decode(text)
        #expect(q.last == 1.0845 && q.bid == nil && q.ask == nil)
    }

    @Test func anotherPairIsNeverDecodedUnderThisOne() {
        guard case .malformed? = Self.error(Self.body, from: "GBP", to: "USD") else {
            Issue.record("GBP/USD asked, EUR/USD answered: must be refused")
            return
        }
        guard case .malformed? = Self.error(Self.body, from: "EUR", to: "JPY") else {
            Issue.record("EUR/JPY asked, EUR/USD answered: must be refused")
            return
        }
    }

    @Test func avErrorMessagesAreInvalidCalls() {
        let invalid = "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for CURRENCY_EXCHANGE_RATE."
        #expect(Self.error(#"{"Error Message": "\#(invalid)"}"#) == .invalidCall(invalid))
        #expect(Self.error(#"{"Error Message": "\#(ErrorShapeTests.badKey)"}"#) == .invalidCall(ErrorShapeTests.badKey))
    }

    @Test func throttleNoticesAreThrottles() {
        #expect(Self.error(#"{"Note": "\#(ErrorShapeTests.noteThrottle)"}"#) == .throttled(ErrorShapeTests.noteThrottle))
        #expect(Self.error(#"{"Information": "\#(ErrorShapeTests.burstThrottle)"}"#) == .throttled(ErrorShapeTests.burstThrottle))
        #expect(Self.error(#"{"Information": "\#(ErrorShapeTests.daily)"}"#) == .dailyLimit(ErrorShapeTests.daily))
    }

    @Test func malformedAndEmptyBodies() {
        #expect(throws: AlphaVantageError.malformed("empty body")) { try AlphaVantageDecoder.jsonObject([]) }
        guard case .malformed? = Self.error(String(Self.body.prefix(Self.body.count / 2))) else {
            Issue.record("a truncated body must be malformed")
            return
        }
        guard case .malformed? = Self.error(#"{"Global Quote": {}}"#) else {
            Issue.record("another endpoint's object must be malformed")
            return
        }
        guard case .malformed? = Self.error(#"{"Realtime Currency Exchange Rate": "1.08"}"#) else {
            Issue.record("a non-object must be malformed")
            return
        }
        #expect(Self.error(#"{"Realtime Currency Exchange Rate": {}}"#) == .emptyResult)
        // Codes echoed but no usable value: nothing to publish.
        #expect(Self.error(#"{"Realtime Currency Exchange Rate": {"1. From_Currency Code": "EUR", "3. To_Currency Code": "USD", "5. Exchange Rate": "None", "8. Bid Price": "-", "9. Ask Price": "-"}}"#) == .emptyResult)
        #expect(Self.error(#"{"Realtime Currency Exchange Rate": {"1. From_Currency Code": "EUR", "3. To_Currency Code": "USD", "5. Exchange Rate": "0.00000000"}}"#) == .emptyResult)
    }

    @Test func crossedBidAndAskAreRefused() {
        let text = Self.body.replacingOccurrences(of: "\"1.08448000\"", with: "\"1.09000000\"")
        guard case .malformed? = Self.error(text) else {
            Issue.record("bid above ask is garbage")
            return
        }
    }

    @Test func requestURLHasTheCurrenciesAndNoEntitlement() {
        let client = AlphaVantageClient(configuration: .init(baseURL: "https://www.alphavantage.co/query", apiKey: APIKey("K"), entitlement: .realtime))
        #expect(client.redactedURL(for: .exchangeRate(from: "EUR", to: "USD")) == "https://www.alphavantage.co/query?function=CURRENCY_EXCHANGE_RATE&from_currency=EUR&to_currency=USD&apikey=***")
        #expect(AlphaVantageRequest.exchangeRate(from: "EUR", to: "USD").symbols == ["EUR/USD"])
    }
}

@Suite struct ExchangeRateSchedulingTests {
    typealias Scheduler = PollScheduler<TestInstant>
    static let eur = CurrencyPair(from: "EUR", to: "USD")
    static let gbp = CurrencyPair(from: "GBP", to: "USD")

    @Test func pairsTakeTheirTurnInTheQuoteRound() {
        var s = PollSchedulerTests.scheduler()
        s.setSymbols(quotes: ["AAPL", "MSFT"], exchangeRates: [Self.eur])
        #expect(PollSchedulerTests.run(&s, count: 6) == [
            .globalQuote("AAPL"), .globalQuote("MSFT"), .exchangeRate(from: "EUR", to: "USD"),
            .globalQuote("AAPL"), .globalQuote("MSFT"), .exchangeRate(from: "EUR", to: "USD"),
        ])
    }

    @Test func bulkNeverStepsOverAPair() {
        var s = PollSchedulerTests.scheduler(bulk: true, batch: 100)
        s.setSymbols(quotes: ["AAPL", "MSFT", "IBM"], exchangeRates: [Self.eur, Self.gbp])
        #expect(PollSchedulerTests.run(&s, count: 6) == [
            .bulkQuotes(["AAPL", "MSFT", "IBM"]), .exchangeRate(from: "EUR", to: "USD"), .exchangeRate(from: "GBP", to: "USD"),
            .bulkQuotes(["AAPL", "MSFT", "IBM"]), .exchangeRate(from: "EUR", to: "USD"), .exchangeRate(from: "GBP", to: "USD"),
        ])
    }

    @Test func pairsShareTheBudget() {
        // 2 requests a minute for one stock and one pair: each refreshed once a minute, and
        // never more than the budget in any minute.
        var s = PollSchedulerTests.scheduler(rpm: 2)
        s.setSymbols(quotes: ["AAPL"], exchangeRates: [Self.eur])
        var now = TestInstant.zero
        var times: [(AlphaVantageRequest, TestInstant)] = []
        while times.count < 8 {
            switch s.next(at: now) {
            case .run(let r):
                times.append((r, now))
                s.record(r, .success, at: now)
            case .wait(let until): now = until
            case .idle: Issue.record("idle with symbols"); return
            }
        }
        for (i, (_, t)) in times.enumerated() where i >= 2 {
            #expect(times[i - 2].1.duration(to: t) >= .seconds(60), "3 calls within a minute at \(i)")
        }
        #expect(times.filter { $0.0 == .exchangeRate(from: "EUR", to: "USD") }.count == 4)
    }

    @Test func throttledPairIsRetriedFirstAndAnUnknownPairIsSuspended() {
        var s = PollSchedulerTests.scheduler()
        s.setSymbols(quotes: ["AAPL"], exchangeRates: [Self.eur, Self.gbp])
        var first = true
        let requests = PollSchedulerTests.run(&s, count: 6) { r in
            if r == .exchangeRate(from: "EUR", to: "USD"), first { first = false; return .failure(.throttled("Note")) }
            if r == .exchangeRate(from: "GBP", to: "USD") { return .failure(.invalidCall("Invalid API call")) }
            return .success
        }
        #expect(requests == [
            .globalQuote("AAPL"), .exchangeRate(from: "EUR", to: "USD"), .exchangeRate(from: "EUR", to: "USD"),
            .exchangeRate(from: "GBP", to: "USD"), .globalQuote("AAPL"), .exchangeRate(from: "EUR", to: "USD"),
        ])
        #expect(s.isSuspended("GBP/USD", at: .seconds(1)))
    }

    @Test func removingAPairDropsItsRetry() {
        var s = PollSchedulerTests.scheduler()
        s.setSymbols(quotes: [], exchangeRates: [Self.eur])
        guard case .run(let r) = s.next(at: .zero) else { Issue.record("no request"); return }
        s.record(r, .failure(.throttled("Note")), at: .zero)
        s.setSymbols(quotes: ["AAPL"])
        #expect(PollSchedulerTests.run(&s, count: 2, from: .seconds(600)) == [.globalQuote("AAPL"), .globalQuote("AAPL")])
    }
}

/// The client against the simulator's CURRENCY_EXCHANGE_RATE, in AV's shape and its errors.
@Suite(.serialized) struct ExchangeRateClientTests {
    @Test func simulatorServesTheRealShapeAndTheClientDecodesIt() async throws {
        try await ClientIntegrationTests.withSimulator(entitlement: .realtime) { sim, client in
            let q = try await client.exchangeRate(from: "EUR", to: "USD")
            #expect(q.symbol == "EUR/USD" && q.dataType == .alphavantageRealtime)
            let rate = try #require(q.last), bid = try #require(q.bid), ask = try #require(q.ask)
            #expect(abs(rate - 1.085) < 0.01 && bid < ask && bid <= rate && rate <= ask)
            #expect(q.lastTradeMs != nil && q.volume == nil)
            let jpy = try await client.exchangeRate(from: "USD", to: "JPY")
            #expect(abs((jpy.last ?? 0) - 150) < 1)
            #expect(sim.stats.lastQuery["from_currency"] == "USD" && sim.stats.lastQuery["to_currency"] == "JPY")
            #expect(sim.stats.lastQuery["entitlement"] == nil)
            // An unknown code is the endpoint's Error Message.
            guard case .invalidCall(let text)? = await ClientIntegrationTests.error({ try await client.exchangeRate(from: "EUR", to: "XXX") }) else {
                Issue.record("unknown currency must be an invalid call")
                return
            }
            #expect(text.contains("CURRENCY_EXCHANGE_RATE"))
        }
    }

    @Test func simulatorErrorModesReachTheClientTyped() async throws {
        try await ClientIntegrationTests.withSimulator { sim, client in
            sim.setMode(.throttle)
            guard case .throttled? = await ClientIntegrationTests.error({ try await client.exchangeRate(from: "EUR", to: "USD") }) else {
                Issue.record("throttle mode must give .throttled"); return
            }
            sim.setMode(.premium)
            let free = await ClientIntegrationTests.error({ try await client.exchangeRate(from: "EUR", to: "USD") })
            #expect(free == nil, "a free endpoint works without premium")
            sim.setMode(.malformed)
            guard case .malformed? = await ClientIntegrationTests.error({ try await client.exchangeRate(from: "EUR", to: "USD") }) else {
                Issue.record("a truncated body must be .malformed"); return
            }
            sim.setMode(.error)
            guard case .invalidCall? = await ClientIntegrationTests.error({ try await client.exchangeRate(from: "EUR", to: "USD") }) else {
                Issue.record("error mode must give .invalidCall"); return
            }
        }
    }
}
