import Essentials
import IBSession
import MarketData
import MarketModel
import TWSProtocol
import Testing

@testable import Relay

/// The worker's book of merged lines (the hot path's merging stage): ticks merged in place into
/// the right line, one write per line per read, lines removed without disturbing the others.
@Suite struct MarketBookTests {
    static let t0: Int64 = 1_796_040_000_000

    static func id(_ n: UInt64) -> SubscriptionID { SubscriptionID(rawValue: n) }

    static func optionKey(_ strike: Double, _ right: OptionRight = .call) -> OptionKey {
        OptionKey(expiry: "20261218", strike: strike, right: right, tradingClass: "AAPL")
    }

    static func optionContract(_ key: OptionKey, conId: Int64) -> Contract {
        Contract(
            conId: conId, symbol: "AAPL", secType: "OPT", lastTradeDateOrContractMonth: key.expiry, strike: key.strike,
            right: key.right == .call ? "C" : "P", multiplier: "100", tradingClass: "AAPL")
    }

    /// Three quotes and two options of AAPL.
    static func book() -> MarketBook {
        var book = MarketBook()
        for (n, symbol) in ["AAPL", "MSFT", "SPY"].enumerated() {
            book.addQuote(id(UInt64(n + 1)), symbol: symbol, contract: Contract(conId: Int64(n + 1), symbol: symbol), monoMs: 0)
        }
        book.addOption(id(10), symbol: "AAPL", key: optionKey(230), contract: optionContract(optionKey(230), conId: 10), monoMs: 0)
        book.addOption(id(11), symbol: "AAPL", key: optionKey(235, .put), contract: optionContract(optionKey(235, .put), conId: 11), monoMs: 0)
        return book
    }

    @Test func ticksAreMergedIntoTheirOwnLine() throws {
        var book = Self.book()
        book.beginBatch()
        #expect(book.apply(.price(tickType: 1, price: 230.5, size: 100, attrMask: 0), to: Self.id(1)) == .init(changed: true, firstInBatch: true))
        #expect(book.apply(.price(tickType: 2, price: 412.25, size: 3, attrMask: 0), to: Self.id(2)) == .init(changed: true, firstInBatch: true))
        #expect(book.apply(.size(tickType: 0, size: 100), to: Self.id(1)) == .init(changed: false, firstInBatch: false))
        let aapl = try #require(book.record(for: Self.id(1), source: .ib, nowMs: Self.t0))
        let msft = try #require(book.record(for: Self.id(2), source: .ib, nowMs: Self.t0))
        #expect(aapl.key == "quote:AAPL" && aapl.value("bid") == "230.5" && aapl.value("ask") == nil)
        #expect(msft.key == "quote:MSFT" && msft.value("ask") == "412.25" && msft.value("bid") == nil)
        #expect(aapl.updatedMs == Self.t0 && aapl.source == .ib)
        #expect(book.quote("AAPL")?.bid == 230.5)
        #expect(book.referencePrice("MSFT") == nil)
    }

    @Test func aTickForALineNotInTheBookIsNil() {
        var book = Self.book()
        book.beginBatch()
        #expect(book.apply(.price(tickType: 1, price: 1, size: 1, attrMask: 0), to: Self.id(99)) == nil)
        #expect(book.record(for: Self.id(99), source: .ib, nowMs: Self.t0) == nil)
        #expect(book.entry(Self.id(99)) == nil && !book.contains(Self.id(99)))
    }

    /// One write per line per read: the first value tick of each line in a batch says so;
    /// MARKET_DATA_TYPE (58) carries no value and never counts, however it changes the record.
    @Test func firstInBatchOncePerLinePerRead() {
        var book = Self.book()
        book.beginBatch()
        #expect(book.apply(.marketDataType(3), to: Self.id(1))?.firstInBatch == false)
        #expect(book.apply(.price(tickType: 1, price: 230.5, size: 100, attrMask: 0), to: Self.id(1))?.firstInBatch == true)
        #expect(book.apply(.price(tickType: 2, price: 230.6, size: 100, attrMask: 0), to: Self.id(1))?.firstInBatch == false)
        #expect(book.apply(.optionComputation(OptionComputation(reqId: 0, tickType: 13, impliedVol: 0.2, delta: 0.5)), to: Self.id(10))?.firstInBatch == true)
        // A repeat that changes nothing still confirms the line: it is written (updated_ms).
        book.beginBatch()
        #expect(book.apply(.price(tickType: 1, price: 230.5, size: 100, attrMask: 0), to: Self.id(1)) == .init(changed: false, firstInBatch: true))
        #expect(book.apply(.size(tickType: 0, size: 100), to: Self.id(1))?.firstInBatch == false)
    }

    /// Removal moves the last line into the freed slot: every line must still get its own ticks.
    @Test func removingALineKeepsEveryOtherLineItsOwn() throws {
        var book = Self.book()
        book.beginBatch()
        for n: UInt64 in 1...3 { _ = book.apply(.price(tickType: 1, price: Double(n), size: 1, attrMask: 0), to: Self.id(n)) }
        #expect(book.remove(Self.id(1)) == .quote(symbol: "AAPL"))
        #expect(book.remove(Self.id(10)) == .option(symbol: "AAPL", key: Self.optionKey(230)))
        #expect(book.remove(Self.id(1)) == nil)
        #expect(book.lineCount == 3)
        #expect(Set(book.lineIDs) == [Self.id(2), Self.id(3), Self.id(11)])
        book.beginBatch()
        _ = book.apply(.price(tickType: 2, price: 33, size: 1, attrMask: 0), to: Self.id(3))
        _ = book.apply(.optionComputation(OptionComputation(reqId: 0, tickType: 13, impliedVol: 0.3, delta: -0.4)), to: Self.id(11))
        let spy = try #require(book.record(for: Self.id(3), source: .ib, nowMs: Self.t0))
        let msft = try #require(book.record(for: Self.id(2), source: .ib, nowMs: Self.t0))
        let put = try #require(book.record(for: Self.id(11), source: .ib, nowMs: Self.t0))
        #expect(spy.key == "quote:SPY" && spy.value("bid") == "3" && spy.value("ask") == "33")
        #expect(msft.key == "quote:MSFT" && msft.value("bid") == "2" && msft.value("ask") == nil)
        #expect(put.value("delta") == "-0.4" && put.value("strike") == "235" && put.value("right") == "P")
        #expect(book.quoteSubscription["AAPL"] == nil && book.contracts[Self.id(1)] == nil && book.lastConfirmedMs[Self.id(1)] == nil)
        #expect(book.optionSubscriptions["AAPL"] == [Self.optionKey(235, .put): Self.id(11)])
        #expect(book.subscriptions(of: "AAPL") == [Self.id(11)])
        #expect(book.entries.map(\.id).sorted() == [Self.id(2), Self.id(3), Self.id(11)])
    }

    /// A rolled future: the new line is added under the symbol before the old one is removed;
    /// removing the old line must not take the symbol's quote mapping with it.
    @Test func removingAReplacedLineKeepsTheNewMapping() {
        var book = MarketBook()
        book.addQuote(Self.id(1), symbol: "ES", contract: Contract(conId: 1, symbol: "ES", secType: "FUT"), monoMs: 0)
        book.addQuote(Self.id(2), symbol: "ES", contract: Contract(conId: 2, symbol: "ES", secType: "FUT"), monoMs: 0)
        book.remove(Self.id(1))
        #expect(book.quoteSubscription["ES"] == Self.id(2))
        #expect(book.subscriptions(of: "ES") == [Self.id(2)])
    }

    /// Adding a line under an id that is already in the book replaces it (no orphaned slot).
    @Test func addingUnderAnExistingIDReplacesTheLine() throws {
        var book = Self.book()
        book.beginBatch()
        _ = book.apply(.price(tickType: 1, price: 1, size: 1, attrMask: 0), to: Self.id(1))
        book.addQuote(Self.id(1), symbol: "QQQ", contract: Contract(conId: 9, symbol: "QQQ"), monoMs: 0)
        #expect(book.lineCount == 5)
        #expect(book.quoteSubscription["AAPL"] == nil && book.quoteSubscription["QQQ"] == Self.id(1))
        let qqq = try #require(book.record(for: Self.id(1), source: .ib, nowMs: Self.t0))
        #expect(qqq.key == "quote:QQQ" && qqq.value("bid") == nil)
    }

    /// The book merges a tick exactly as `TickMerger.apply` merges the decoded message it came
    /// from: a seeded random stream of every tick kind, quote and option, compared record by record.
    @Test func mergingInPlaceEqualsMergingTheDecodedMessage() {
        var rng = SplitMix64(seed: 15)
        var book = Self.book()
        var quote = TickMerger(QuoteSnapshot(symbol: "AAPL"))
        var option = TickMerger(
            {
                var s = OptionSnapshot(symbol: "AAPL", expiry: "20261218", strike: 230, right: .call)
                s.conId = 10
                s.tradingClass = "AAPL"
                s.multiplier = 100
                return s
            }())
        let priceTypes: [Int32] = [1, 2, 4, 6, 7, 9, 14, 66, 67, 68, 37, 99]
        let sizeTypes: [Int32] = [0, 3, 5, 8, 27, 28, 29, 30, 86, 69, 70, 74, 99]
        func value(_ rng: inout SplitMix64) -> Double? {
            switch rng.next() % 6 {
            case 0: nil
            case 1: -1
            case 2: 0
            case 3: .infinity
            default: Double(rng.next() % 100_000) / 100
            }
        }
        for step in 0..<5_000 {
            book.beginBatch()
            let tick: Tick
            switch rng.next() % 6 {
            case 0: tick = .price(tickType: priceTypes[Int(rng.next() % UInt64(priceTypes.count))], price: value(&rng), size: value(&rng), attrMask: 0)
            case 1: tick = .size(tickType: sizeTypes[Int(rng.next() % UInt64(sizeTypes.count))], size: value(&rng))
            case 2: tick = .string(tickType: [45, 88, 32][Int(rng.next() % 3)], value: ["1796040000", "", "x", "1796040000.5"][Int(rng.next() % 4)])
            case 3: tick = .generic(tickType: [49, 54][Int(rng.next() % 2)], value: value(&rng))
            case 4:
                tick = .optionComputation(
                    OptionComputation(
                        reqId: 7, tickType: [10, 11, 12, 13, 80, 83][Int(rng.next() % 6)], impliedVol: value(&rng), delta: value(&rng),
                        optPrice: value(&rng), gamma: value(&rng), vega: value(&rng), theta: value(&rng), undPrice: value(&rng)))
            default: tick = .marketDataType(Int32(1 + rng.next() % 4))
            }
            let message = Self.message(tick)
            let quoteChanged = quote.apply(message)
            let optionChanged = option.apply(message)
            #expect(book.apply(tick, to: Self.id(1))?.changed == quoteChanged, "step \(step): \(tick)")
            #expect(book.apply(tick, to: Self.id(10))?.changed == optionChanged, "step \(step): \(tick)")
            if step % 97 == 0 || step == 4_999 {
                #expect(book.record(for: Self.id(1), source: .ib, nowMs: Self.t0) == quote.snapshot.record(source: .ib, updatedMs: Self.t0))
                #expect(book.record(for: Self.id(10), source: .ib, nowMs: Self.t0) == option.snapshot.record(source: .ib, updatedMs: Self.t0))
            }
        }
    }

    /// The message a tick was routed from (any request id: the merger ignores it).
    static func message(_ tick: Tick) -> ServerMessage {
        switch tick {
        case let .price(tickType, price, size, attrMask): .tickPrice(reqId: 7, tickType: tickType, price: price, size: size, attrMask: attrMask)
        case let .size(tickType, size): .tickSize(reqId: 7, tickType: tickType, size: size)
        case let .string(tickType, value): .tickString(reqId: 7, tickType: tickType, value: value)
        case let .generic(tickType, value): .tickGeneric(reqId: 7, tickType: tickType, value: value)
        case let .optionComputation(c): .tickOptionComputation(c)
        case let .marketDataType(t): .marketDataType(reqId: 7, marketDataType: t)
        }
    }
}
