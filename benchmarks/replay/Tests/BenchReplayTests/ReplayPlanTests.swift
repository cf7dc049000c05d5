import BenchReplay
import MarketData
import MarketModel
import Testing
import TWSProtocol

/// The replay's claims about its own bytes: what it says the final state is, is what decoding
/// and merging its frames gives.
@Suite struct ReplayPlanTests {
    let plan = ReplayPlan(
        lines: [
            ReplayLine(reqId: 7, kind: .stock, key: "qr:quote:AAPL", baseCents: 23_050),
            ReplayLine(reqId: 8, kind: .stock, key: "qr:quote:MSFT"),
            ReplayLine(reqId: 9, kind: .option(call: true), key: "qr:option:AAPL:20261218:230:C"),
            ReplayLine(reqId: 11, kind: .option(call: false), key: "qr:option:AAPL:20261218:230:P"),
        ],
        rounds: 5, epoch: 2)

    @Test func messageCountMatchesTheBytes() throws {
        let bytes = plan.encode(serverVersion: 176)
        var frames = FrameDecoder()
        frames.feed(bytes)
        var count = 0
        while try frames.next() != nil { count += 1 }
        #expect(count == plan.messageCount)
        #expect(plan.messageCount == 5 * (8 + 8 + 12 + 12))
    }

    @Test func decodingAndMergingTheBytesGivesTheFinalValues() throws {
        for version in [157, 176] {
            var quote = TickMerger(QuoteSnapshot(symbol: "AAPL"))
            var msft = TickMerger(QuoteSnapshot(symbol: "MSFT"))
            var call = TickMerger(symbol: "AAPL", expiry: "20261218", strike: 230, right: .call)
            var put = TickMerger(symbol: "AAPL", expiry: "20261218", strike: 230, right: .put)
            var frames = FrameDecoder()
            frames.feed(plan.encode(serverVersion: version))
            while let payload = try frames.next() {
                let message = try MessageDecoder.decodeServer(payload, serverVersion: version)
                switch message.reqIdForTest {
                case 7: quote.apply(message)
                case 8: msft.apply(message)
                case 9: call.apply(message)
                case 11: put.apply(message)
                default: Issue.record("unexpected request id in \(message)")
                }
            }
            let records = [
                quote.snapshot.record(source: .ib, updatedMs: 0), msft.snapshot.record(source: .ib, updatedMs: 0),
                call.snapshot.record(source: .ib, updatedMs: 0),
                put.snapshot.record(source: .ib, updatedMs: 0),
            ]
            for (record, final) in zip(records, plan.finalValues) {
                for (field, value) in final.fields {
                    #expect(record.value(field).flatMap(Double.init) == value, "\(final.key) \(field) at v\(version)")
                }
            }
        }
    }

    @Test func aStockStaysWithinTenCentsOfItsLevel() {
        for round in 0..<plan.rounds {
            for (field, value) in plan.values(of: 0, afterRound: round) where ["bid", "ask", "last"].contains(field) {
                #expect(abs(value - 230.50) <= 0.10, "\(field) \(value)")
            }
        }
    }

    @Test func consecutiveEpochsEndInDifferentStates() {
        let next = ReplayPlan(lines: plan.lines, rounds: plan.rounds, epoch: plan.epoch + 1)
        for (a, b) in zip(plan.finalValues, next.finalValues) {
            for (x, y) in zip(a.fields, b.fields) {
                #expect(x.value != y.value, "\(a.key) \(x.field)")
            }
        }
    }
}

extension ServerMessage {
    var reqIdForTest: Int32? {
        switch self {
        case .tickPrice(let id, _, _, _, _), .tickSize(let id, _, _): id
        case .tickOptionComputation(let c): c.reqId
        default: nil
        }
    }
}
