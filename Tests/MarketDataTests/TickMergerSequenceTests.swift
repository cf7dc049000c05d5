import Essentials
import MarketModel
import Testing
import TWSProtocol

@testable import MarketData

/// Over long random streams the merged state must equal, field by field, the last value the
/// gateway sent for that field, computed here independently by scanning the stream backwards.
@Suite("TickMerger exact final state")
struct TickMergerSequenceTests {
    static func randomMessage(_ rng: inout SplitMix64) -> ServerMessage {
        // Few distinct values, so repeats are common as they are on the wire.
        func price() -> Double? { Int.random(in: 0..<8, using: &rng) == 0 ? nil : Double(Int.random(in: 995...1005, using: &rng)) / 10 }
        func size() -> Double? { Int.random(in: 0..<10, using: &rng) == 0 ? nil : Double(Int.random(in: 0...3, using: &rng) * 100) }
        let priceTypes: [Int32] = [1, 2, 4, 6, 7, 9, 14, 66, 67, 68, 72, 73, 75, 76]
        let sizeTypes: [Int32] = [0, 3, 5, 8, 69, 70, 71, 74, 27, 28, 86]
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<4:
            return .tickPrice(reqId: 1, tickType: priceTypes.randomElement(using: &rng)!, price: price(), size: size(), attrMask: 0)
        case 4..<7:
            return .tickSize(reqId: 1, tickType: sizeTypes.randomElement(using: &rng)!, size: size())
        case 7:
            return .tickString(reqId: 1, tickType: [45, 88, 32].randomElement(using: &rng)!, value: String(Int.random(in: 1_700_000_000...1_700_000_003, using: &rng)))
        case 8:
            return .marketDataType(reqId: 1, marketDataType: Int32.random(in: 1...4, using: &rng))
        default:
            return .tickOptionComputation(OptionComputation(
                reqId: 1, tickType: [10, 13, 83].randomElement(using: &rng)!, impliedVol: price().map { $0 / 100 },
                delta: Bool.random(using: &rng) ? 0.5 : nil, optPrice: price(), gamma: 0.01, vega: price(),
                theta: -0.05, undPrice: price()))
        }
    }

    /// The independent oracle: the last message that spoke about `field`, and what it said;
    /// a bid/ask size of 0 said while its price was unknown is no quote (absent).
    static func expected(_ field: TickField, in messages: [ServerMessage], right: OptionRight?) -> Double? {
        for (index, message) in messages.enumerated().reversed() {
            if case let .tickSize(_, t, s) = message, TickField.size(tickType: t) == field, s == 0,
                let price = field.companionPrice, expected(price, in: Array(messages[..<index]), right: right) == nil
            {
                return nil
            }
            switch message {
            case let .tickPrice(_, t, p, s, _):
                guard let f = TickField.price(tickType: t) else { continue }
                if f == field { return p }
                if f.companionSize == field {
                    if p == nil { return (s ?? 0) > 0 ? s : nil }
                    if let s { return s }
                }
            case let .tickSize(_, t, s):
                if TickField.size(tickType: t) == field { return s }
                if field == .openInterest, let right,
                    (t == 27 && right == .call) || (t == 28 && right == .put) || t == 86
                {
                    return s
                }
            case let .tickOptionComputation(c) where c.tickType == 13 || c.tickType == 83:
                switch field {
                case .impliedVol: return c.impliedVol
                case .delta: return c.delta
                case .gamma: return c.gamma
                case .vega: return c.vega
                case .theta: return c.theta
                case .underlyingPrice: return c.undPrice
                case .modelPrice: return c.optPrice
                default: continue
                }
            default: continue
            }
        }
        return nil
    }

    /// What IB reported last (58), corrected by the class of the last tick the record used:
    /// delayed tick types (66-76, 80-83, 88) are delayed data, live ones live (or frozen).
    static func expectedDataType(_ messages: [ServerMessage], right: OptionRight? = nil) -> DataType? {
        var reported: DataType?
        for case let .marketDataType(_, code) in messages.reversed() {
            reported = DataType(ibCode: Int(code))
            break
        }
        func used(_ message: ServerMessage) -> Int32? {
            switch message {
            case let .tickPrice(_, t, _, _, _):
                guard let f = TickField.price(tickType: t) else { return nil }
                // Options have no session open/high/low/close.
                return right != nil && [.open, .high, .low, .close].contains(f) ? nil : t
            case let .tickSize(_, t, _):
                if TickField.size(tickType: t) != nil { return t }
                switch (t, right) {
                case (27, .call?), (28, .put?), (86, _?): return t
                case (27, nil), (28, nil), (29, nil), (30, nil): return t  // the underlying's option totals
                default: return nil
                }
            case let .tickString(_, t, _): return right == nil && (t == 45 || t == 88) ? t : nil
            case let .tickOptionComputation(c):
                return right != nil && (TickField.isModelComputation(tickType: c.tickType) || TickField.sideVolatility(tickType: c.tickType) != nil) ? c.tickType : nil
            default: return nil
            }
        }
        guard let last = messages.reversed().lazy.compactMap(used).first else { return reported }
        let delayed = (66...76).contains(last) || (80...83).contains(last) || last == 88
        if delayed { return reported == .delayedFrozen ? .delayedFrozen : .delayed }
        return reported == .frozen ? .frozen : .live
    }

    static func expectedLastTrade(_ messages: [ServerMessage]) -> Int64? {
        for case let .tickString(_, t, v) in messages.reversed() where t == 45 || t == 88 { return Int64(v)! * 1000 }
        return nil
    }

    @Test("quote: final state equals the last value sent", arguments: [UInt64(1), 2, 3, 42, 2026])
    func quoteSequence(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let messages = (0..<5000).map { _ in Self.randomMessage(&rng) }
        var merger = TickMerger(symbol: "AAPL")
        var changed = 0
        for message in messages {
            let before = merger.snapshot
            let didChange = merger.apply(message)
            #expect(didChange == (before != merger.snapshot))
            if didChange { changed += 1 }
        }
        let quoteFields: [TickField] = [.bid, .bidSize, .ask, .askSize, .last, .lastSize, .volume, .open, .high, .low, .close]
        for field in quoteFields {
            #expect(merger.snapshot.value(field) == Self.expected(field, in: messages, right: nil), "\(field)")
        }
        #expect(merger.snapshot.dataType == Self.expectedDataType(messages))
        #expect(merger.snapshot.lastTradeMs == Self.expectedLastTrade(messages))
        #expect(changed < messages.count)
        #expect(merger.changes == changed)
    }

    @Test("option: final state equals the last value sent", arguments: [(UInt64(7), OptionRight.call), (8, .put), (99, .call)])
    func optionSequence(seed: UInt64, right: OptionRight) {
        var rng = SplitMix64(seed: seed)
        let messages = (0..<5000).map { _ in Self.randomMessage(&rng) }
        var merger = TickMerger(symbol: "SPY", expiry: "20261218", strike: 450, right: right)
        for message in messages {
            let before = merger.snapshot
            let didChange = merger.apply(message)
            #expect(didChange == (before != merger.snapshot))
        }
        let optionFields: [TickField] = [
            .bid, .bidSize, .ask, .askSize, .last, .lastSize, .volume, .openInterest, .impliedVol, .delta, .gamma,
            .vega, .theta, .underlyingPrice, .modelPrice,
        ]
        for field in optionFields {
            #expect(merger.snapshot.value(field) == Self.expected(field, in: messages, right: right), "\(field)")
        }
        #expect(merger.snapshot.dataType == Self.expectedDataType(messages, right: right))
    }
}
