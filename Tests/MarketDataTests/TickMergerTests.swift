import MarketModel
import Testing
import TWSProtocol

@testable import MarketData

@Suite("TickMerger")
struct TickMergerTests {
    static let priceTable: [(tickType: Int32, field: TickField)] = [
        (1, .bid), (2, .ask), (4, .last), (6, .high), (7, .low), (9, .close), (14, .open),
        (66, .bid), (67, .ask), (68, .last), (72, .high), (73, .low), (75, .close), (76, .open),
    ]

    @Test("each TICK_PRICE type sets its field", arguments: priceTable)
    func priceTicks(tickType: Int32, field: TickField) {
        var m = TickMerger(symbol: "AAPL")
        let r1 = m.apply(.tickPrice(reqId: 1, tickType: tickType, price: 187.25, size: nil, attrMask: 0))
        #expect(r1)
        #expect(m.snapshot.value(field) == 187.25)
        let others = TickField.allCases.filter { $0 != field }
        #expect(others.allSatisfy { m.snapshot.value($0) == nil })
    }

    static let sizeTable: [(tickType: Int32, field: TickField)] = [
        (0, .bidSize), (3, .askSize), (5, .lastSize), (8, .volume),
        (69, .bidSize), (70, .askSize), (71, .lastSize), (74, .volume),
    ]

    @Test("each TICK_SIZE type sets its field", arguments: sizeTable)
    func sizeTicks(tickType: Int32, field: TickField) {
        var m = TickMerger(symbol: "AAPL")
        let r2 = m.apply(.tickSize(reqId: 1, tickType: tickType, size: 300))
        #expect(r2)
        #expect(m.snapshot.value(field) == 300)
        #expect(TickField.allCases.filter { $0 != field }.allSatisfy { m.snapshot.value($0) == nil })
    }

    @Test func bidWithSizeSetsBoth() {
        var m = TickMerger(symbol: "AAPL")
        let r3 = m.apply(.tickPrice(reqId: 1, tickType: 1, price: 10.5, size: 200, attrMask: 1))
        #expect(r3)
        #expect(m.snapshot.bid == 10.5)
        #expect(m.snapshot.bidSize == 200)
        let r4 = m.apply(.tickPrice(reqId: 1, tickType: 2, price: 10.6, size: 100, attrMask: 1))
        #expect(r4)
        #expect(m.snapshot.ask == 10.6)
        #expect(m.snapshot.askSize == 100)
    }

    @Test("IB's repeated sizes are not changes")
    func repeatsAreNotChanges() {
        var m = TickMerger(symbol: "AAPL")
        let r5 = m.apply(.tickPrice(reqId: 1, tickType: 1, price: 10.5, size: 200, attrMask: 0))
        #expect(r5)
        let r6 = m.apply(.tickSize(reqId: 1, tickType: 0, size: 200))
        #expect(!r6)
        let r7 = m.apply(.tickSize(reqId: 1, tickType: 0, size: 200))
        #expect(!r7)
        let r8 = m.apply(.tickPrice(reqId: 1, tickType: 1, price: 10.5, size: 200, attrMask: 0))
        #expect(!r8)
        let r9 = m.apply(.tickSize(reqId: 1, tickType: 0, size: 300))
        #expect(r9)
        #expect(m.changes == 2)
        #expect(m.repeats == 3)
    }

    @Test("a missing bid/ask price with size 0 removes the side, price and size")
    func noQuoteOnSide() {
        var m = TickMerger(symbol: "AAPL")
        m.apply(.tickPrice(reqId: 1, tickType: 1, price: 10.5, size: 200, attrMask: 0))
        m.apply(.tickPrice(reqId: 1, tickType: 2, price: 10.7, size: 100, attrMask: 0))
        let r10 = m.apply(.tickPrice(reqId: 1, tickType: 1, price: nil, size: 0, attrMask: 0))
        #expect(r10)
        #expect(m.snapshot.bid == nil)
        #expect(m.snapshot.bidSize == nil)
        let r11 = m.apply(.tickPrice(reqId: 1, tickType: 67, price: nil, size: nil, attrMask: 0))
        #expect(r11)
        #expect(m.snapshot.ask == nil)
        #expect(m.snapshot.askSize == nil)
        let record = m.snapshot.record(source: .ib, updatedMs: 1)
        #expect(record.value("bid") == nil)
        #expect(record.value("bid_size") == nil)
        #expect(record.value("ask") == nil)
        #expect(record.value("ask_size") == nil)
        #expect(!record.fields.contains { $0.value == "-1" || $0.value.isEmpty })
    }

    @Test func missingPriceWithRealSizeKeepsTheSize() {
        var m = TickMerger(symbol: "AAPL")
        m.apply(.tickPrice(reqId: 1, tickType: 1, price: nil, size: 5, attrMask: 0))
        #expect(m.snapshot.bid == nil)
        #expect(m.snapshot.bidSize == 5)
    }

    @Test func priceWithUnsetSizeLeavesTheSize() {
        var m = TickMerger(symbol: "AAPL")
        m.apply(.tickSize(reqId: 1, tickType: 5, size: 7))
        let r12 = m.apply(.tickPrice(reqId: 1, tickType: 4, price: 3, size: nil, attrMask: 0))
        #expect(r12)
        #expect(m.snapshot.last == 3)
        #expect(m.snapshot.lastSize == 7)
    }

    @Test func nonFiniteValuesAreUnknownAndStable() {
        var m = TickMerger(symbol: "AAPL")
        m.apply(.tickPrice(reqId: 1, tickType: 1, price: 100, size: 1, attrMask: 0))  // labels data_type live
        let r13 = m.apply(.tickPrice(reqId: 1, tickType: 4, price: .infinity, size: nil, attrMask: 0))
        #expect(!r13)
        let r14 = m.apply(.tickSize(reqId: 1, tickType: 8, size: .nan))
        #expect(!r14)
        let r15 = m.apply(.tickSize(reqId: 1, tickType: 8, size: .nan))
        #expect(!r15)
        #expect(m.snapshot.last == nil)
        #expect(m.snapshot.volume == nil)
    }

    static let timestampTable: [(tickType: Int32, text: String, expected: Int64?)] = [
        (45, "1732631400", 1_732_631_400_000),
        (88, "1732631401", 1_732_631_401_000),
        (45, " 1732631400.5 ", 1_732_631_400_500),
        (45, "", nil),
        (45, "0", nil),
        (45, "garbage", nil),
    ]

    @Test("TICK_STRING 45/88 set last_trade_ms", arguments: timestampTable)
    func lastTimestamp(tickType: Int32, text: String, expected: Int64?) {
        var m = TickMerger(symbol: "AAPL")
        m.apply(.tickString(reqId: 1, tickType: 45, value: "1000"))
        m.apply(.tickString(reqId: 1, tickType: tickType, value: text))
        #expect(m.snapshot.lastTradeMs == expected)
    }

    @Test func otherTickStringsAndGenericsAreIgnored() {
        var m = TickMerger(symbol: "AAPL")
        let r16 = m.apply(.tickString(reqId: 1, tickType: 32, value: "PQ"))
        #expect(!r16)
        let r17 = m.apply(.tickGeneric(reqId: 1, tickType: 54, value: 12))  // trade count: not published
        #expect(!r17)
        let r18 = m.apply(.tickReqParams(reqId: 1, minTick: 0.01, bboExchange: "a6", snapshotPermissions: 3))
        #expect(!r18)
        #expect(m.snapshot == QuoteSnapshot(symbol: "AAPL"))
    }

    @Test func haltedTickAndNoQuoteMarkers() {
        var m = TickMerger(symbol: "AAPL")
        m.apply(.tickPrice(reqId: 1, tickType: 1, price: 100, size: 300, attrMask: 0))
        m.apply(.tickPrice(reqId: 1, tickType: 2, price: 100.05, size: 200, attrMask: 0))
        // A halt as IB reports it: tick 49 = 1, then bid/ask -1 (decoded nil) with size 0.
        let haltChanged = m.apply(.tickGeneric(reqId: 1, tickType: 49, value: 1))
        #expect(haltChanged)
        m.apply(.tickPrice(reqId: 1, tickType: 1, price: nil, size: 0, attrMask: 0))
        m.apply(.tickPrice(reqId: 1, tickType: 2, price: nil, size: 0, attrMask: 0))
        let halted = m.snapshot.record(source: .ib, updatedMs: 1).fields
        let names = Set(halted.map(\.name))
        #expect(halted.first { $0.name == "halted" }?.value == "1")
        #expect(!names.contains("bid") && !names.contains("ask") && !names.contains("bid_size") && !names.contains("ask_size"),
                "the pre-halt quote is not served as live")
        let resumed = m.apply(.tickGeneric(reqId: 1, tickType: 49, value: 0))
        #expect(resumed)
        #expect(m.snapshot.halted == 0)
    }

    @Test("data_type: 58 when said, corrected by the tick class", arguments: [
        (nil, Int32(1), DataType.live),      // live without reqMarketDataType: no 58 ever comes
        (nil, 66, .delayed),                 // delayed ticks are delayed
        (Int32(1), 66, .delayed),            // even when 58 said live
        (2, 1, .frozen),                     // frozen is live tick types plus 58 = 2
        (4, 66, .delayedFrozen),
        (3, 1, .live),                       // live ticks after 58 = 3: live
    ] as [(Int32?, Int32, DataType)])
    func dataTypeResolution(reported: Int32?, tickType: Int32, expected: DataType) {
        var m = TickMerger(symbol: "AAPL")
        if let reported { m.apply(.marketDataType(reqId: 1, marketDataType: reported)) }
        m.apply(.tickPrice(reqId: 1, tickType: tickType, price: 100, size: 1, attrMask: 0))
        #expect(m.snapshot.dataType == expected)
    }

    @Test("MARKET_DATA_TYPE sets data_type", arguments: [(Int32(1), DataType.live), (2, .frozen), (3, .delayed), (4, .delayedFrozen)])
    func marketDataType(code: Int32, expected: DataType) {
        var m = TickMerger(symbol: "AAPL")
        let r19 = m.apply(.marketDataType(reqId: 1, marketDataType: code))
        #expect(r19)
        #expect(m.snapshot.dataType == expected)
        let r20 = m.apply(.marketDataType(reqId: 1, marketDataType: code))
        #expect(!r20)
        #expect(m.snapshot.record(source: .ib, updatedMs: 0).value("data_type") == expected.rawValue)
    }

    static func option(_ right: OptionRight = .call) -> TickMerger<OptionSnapshot> {
        TickMerger(symbol: "SPY", expiry: "20261218", strike: 450, right: right, conId: 12345)
    }

    @Test("model computation sets greeks", arguments: [Int32(13), 83])
    func modelComputation(tickType: Int32) {
        var m = Self.option()
        let c = OptionComputation(
            reqId: 2, tickType: tickType, tickAttrib: 0, impliedVol: 0.21, delta: 0.55, optPrice: 12.3,
            pvDividend: 0.5, gamma: 0.012, vega: 0.45, theta: -0.08, undPrice: 452.1)
        let r21 = m.apply(.tickOptionComputation(c))
        #expect(r21)
        let s = m.snapshot
        #expect(s.impliedVol == 0.21 && s.delta == 0.55 && s.gamma == 0.012 && s.vega == 0.45)
        #expect(s.theta == -0.08 && s.underlyingPrice == 452.1 && s.modelPrice == 12.3)
        let r22 = m.apply(.tickOptionComputation(c))
        #expect(!r22)
        let r = s.record(source: .ib, updatedMs: 5)
        #expect(r.value("iv") == "0.21")
        #expect(r.value("theta") == "-0.08")
        #expect(r.value("model_price") == "12.3")
        #expect(r.value("con_id") == "12345")
    }

    @Test func notComputedGreeksBecomeAbsent() {
        var m = Self.option()
        m.apply(.tickOptionComputation(OptionComputation(
            reqId: 2, tickType: 13, impliedVol: 0.2, delta: 0.5, optPrice: 1, gamma: 0.1, vega: 0.2, theta: -0.1,
            undPrice: 450)))
        let r23 = m.apply(.tickOptionComputation(OptionComputation(
            reqId: 2, tickType: 13, impliedVol: nil, delta: nil, optPrice: nil, gamma: nil, vega: nil, theta: nil,
            undPrice: 451)))
        #expect(r23)
        let r = m.snapshot.record(source: .ib, updatedMs: 5)
        for name in ["iv", "delta", "gamma", "vega", "theta", "model_price"] { #expect(r.value(name) == nil) }
        #expect(r.value("und_price") == "451")
    }

    /// Ticks 10, 11, 12 (delayed 80, 81, 82) set only their side's implied volatility
    /// (`bid_iv`, `ask_iv`, `last_iv`); the greeks stay the model's (13).
    @Test("bid/ask/last computations set their side's IV and not the model greeks", arguments: [
        (Int32(10), "bid_iv"), (11, "ask_iv"), (12, "last_iv"), (80, "bid_iv"), (81, "ask_iv"), (82, "last_iv"),
    ])
    func sideComputationsSetSideVolatility(tickType: Int32, field: String) {
        var m = Self.option()
        let r24 = m.apply(.tickOptionComputation(OptionComputation(reqId: 2, tickType: tickType, impliedVol: 0.3, delta: 0.4)))
        #expect(r24)
        #expect(m.snapshot.impliedVol == nil && m.snapshot.delta == nil)
        let record = m.snapshot.record(source: .ib, updatedMs: 1)
        #expect(record.value(field) == "0.3")
        for other in ["bid_iv", "ask_iv", "last_iv", "iv", "delta"] where other != field { #expect(record.value(other) == nil) }
        // IB's "not computed" (impliedVol < 0 decodes to nil) makes the side's IV absent again.
        let cleared = m.apply(.tickOptionComputation(OptionComputation(reqId: 2, tickType: tickType, impliedVol: nil)))
        #expect(cleared)
        #expect(m.snapshot.record(source: .ib, updatedMs: 2).value(field) == nil)
    }

    static let openInterestTable: [(right: OptionRight, tickType: Int32, counted: Bool)] = [
        (.call, 27, true), (.call, 28, false), (.put, 28, true), (.put, 27, false), (.call, 86, true), (.put, 86, true),
    ]

    @Test("open interest follows the option's right", arguments: openInterestTable)
    func openInterest(right: OptionRight, tickType: Int32, counted: Bool) {
        var m = Self.option(right)
        let r25 = m.apply(.tickSize(reqId: 2, tickType: tickType, size: 1500))
        #expect(r25 == counted)
        #expect(m.snapshot.openInterest == (counted ? 1500 : nil))
    }

    /// On the underlying's line, 27-30 are its options' totals (generic ticks 100/101), not an
    /// option's own open interest; greeks never land on a quote.
    @Test func quotesTakeOptionTotalsPerRightButNoGreeks() {
        var m = TickMerger(symbol: "AAPL")
        for (tickType, size) in [(Int32(27), 10.0), (28, 20), (29, 30), (30, 40)] {
            let changed = m.apply(.tickSize(reqId: 1, tickType: tickType, size: size))
            #expect(changed)
        }
        let r27 = m.apply(.tickOptionComputation(OptionComputation(reqId: 1, tickType: 13, impliedVol: 0.2)))
        #expect(!r27)
        let record = m.snapshot.record(source: .ib, updatedMs: 1)
        #expect(record.value("option_call_open_interest") == "10" && record.value("option_put_open_interest") == "20")
        #expect(record.value("option_call_volume") == "30" && record.value("option_put_volume") == "40")
        #expect(record.value("open_interest") == nil && record.value("iv") == nil)
    }

    @Test func optionsIgnoreSessionPrices() {
        var m = Self.option()
        let r28 = m.apply(.tickPrice(reqId: 2, tickType: 6, price: 5, size: nil, attrMask: 0))
        #expect(!r28)
        let r29 = m.apply(.tickString(reqId: 2, tickType: 45, value: "1732631400"))
        #expect(!r29)
        let r30 = m.apply(.tickPrice(reqId: 2, tickType: 68, price: 5, size: 1, attrMask: 0))
        #expect(r30)
        #expect(m.snapshot.last == 5 && m.snapshot.lastSize == 1)
    }
}
