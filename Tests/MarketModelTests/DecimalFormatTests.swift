import Testing
@testable import MarketModel

@Suite struct DecimalFormatTests {
    @Test(arguments: [
        (450.0, "450"), (452.5, "452.5"), (0.0001, "0.0001"), (1e-05, "0.00001"), (0.1 + 0.2, "0.30000000000000004"),
        (-3.25, "-3.25"), (0.0, "0"), (-0.0, "0"), (123456789.125, "123456789.125"), (1e16, "10000000000000000"),
        (1.5e20, "150000000000000000000"), (2.5e-7, "0.00000025"), (189.98, "189.98"), (100.0, "100"),
    ])
    func canonical(value: Double, text: String) {
        #expect(DecimalFormat.string(value) == text)
    }

    @Test func nonFiniteIsAbsent() {
        #expect(DecimalFormat.string(Double.nan) == nil)
        #expect(DecimalFormat.string(Double.infinity) == nil)
    }

    @Test func strikeKey() {
        #expect(Keys.option("SPY", expiry: "20261218", strike: 452.5, right: .call) == "option:SPY:20261218:452.5:C")
        #expect(Keys.option("SPY", expiry: "20261218", strike: 450, right: .put) == "option:SPY:20261218:450:P")
    }

    @Test func quoteRecordOmitsUnknown() {
        var q = QuoteSnapshot(symbol: "AAPL")
        q.bid = 189.5
        q.last = 190
        q.close = 200
        q.dataType = .live
        let r = q.record(source: .ib, updatedMs: 1_700_000_000_000)
        #expect(r.key == "quote:AAPL")
        #expect(r.value("ask") == nil)
        #expect(r.value("bid") == "189.5")
        #expect(r.value("change") == "-10")
        #expect(r.value("change_percent") == "-5")
        #expect(r.value("source") == "ib")
        #expect(r.jsonPayload(prefixedKey: "mkt:quote:AAPL").hasPrefix(#"{"symbol":"AAPL","bid":189.5,"#))
    }
}
