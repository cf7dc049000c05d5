import MarketModel
import Testing
@testable import RedisPublisher

@Suite("PayloadEncoder")
struct PayloadEncoderTests {
    /// The fast encoder must spell exactly what `Record.jsonPayload` spells.
    @Test(arguments: [
        Record(kind: .quote, key: "quote:AAPL", source: .ib, updatedMs: 1, fields: [
            Field("symbol", "AAPL", isNumber: false), Field("bid", "189.25", isNumber: true),
            Field("volume", "12345678901", isNumber: true), Field("source", "ib", isNumber: false),
        ]),
        Record(kind: .option, key: "option:SPY:20261218:452.5:C", source: .ib, updatedMs: 1, fields: [
            Field("symbol", "SP\"Y\\", isNumber: false), Field("note", "tab\there\nnew\r\u{01}\u{1f}é€𝄞", isNumber: false),
            Field("strike", "452.5", isNumber: true), Field("theta", "-0.0789", isNumber: true),
        ]),
        Record(kind: .chain, key: "chain:QQQ", source: .alphavantage, updatedMs: 1, fields: []),
    ])
    func matchesJSONTextByteForByte(_ record: Record) {
        var out: [UInt8] = [9, 9, 9]  // stale contents are replaced
        let key = "mkt:" + record.key
        PayloadEncoder.encode(record, prefixedKey: key, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == record.jsonPayload(prefixedKey: key))
    }
}
