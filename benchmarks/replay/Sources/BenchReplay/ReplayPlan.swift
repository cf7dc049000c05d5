import TWSProtocol

/// One market data line of a replay: the request id the client used for it on its connection,
/// and what kind of line it is (which tick types a real gateway sends on it).
public struct ReplayLine: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case stock
        /// `call` decides the open interest tick: IB sends calls' as tick 27, puts' as 28.
        case option(call: Bool)
    }

    public var reqId: Int32
    public var kind: Kind
    /// The Redis key (prefix included) the client writes this line to.
    public var key: String
    /// A stock's price level in cents (its quote before the replay): the replay keeps its
    /// bid, ask and last within 10 cents of it, so a worker's option window around the money
    /// does not move (which would cancel lines mid-replay). nil: a level of the plan's own.
    public var baseCents: Int?

    public init(reqId: Int32, kind: Kind, key: String, baseCents: Int? = nil) {
        self.reqId = reqId
        self.kind = kind
        self.key = key
        self.baseCents = baseCents
    }
}

/// N rounds of ticks for a set of lines, as a real gateway sends them, and the value every
/// published field holds after the last round.
///
/// Per round, a stock line gets 8 messages: TICK_PRICE (1) bid with its size, TICK_SIZE (2)
/// bid size, the same for the ask (tick types 2, 3), last and last size (4, 5), volume (8) and
/// the day's high (6). An option line gets 12: bid/ask/last with their sizes, volume, open
/// interest (27 calls, 28 puts: TICK_SIZE), and four TICK_OPTION_COMPUTATIONs (21): bid (10),
/// ask (11), last (12) and model (13). 8 stocks + 80 options make 1,024 messages a round, so
/// 1,000 rounds are 1,024,000 messages. Every value moves every round, so nothing the client
/// does can be skipped as a repeat, and the last round's values are distinct from the ones
/// before (`epoch` shifts them, so consecutive replays to one client end in different states).
///
/// Prices are whole cents and sizes whole numbers: their text round-trips exactly through any
/// decimal parser, so "final state exact" means equal as doubles.
public struct ReplayPlan: Sendable {
    public var lines: [ReplayLine]
    public var rounds: Int
    public var epoch: Int

    public init(lines: [ReplayLine], rounds: Int, epoch: Int) {
        self.lines = lines
        self.rounds = rounds
        self.epoch = epoch
    }

    public static let stockMessagesPerRound = 8
    public static let optionMessagesPerRound = 12

    /// Tick messages in the whole replay.
    public var messageCount: Int {
        rounds * lines.reduce(0) { $0 + ($1.kind == .stock ? Self.stockMessagesPerRound : Self.optionMessagesPerRound) }
    }

    /// The fields the client publishes for a line and their values after round `round`
    /// (Redis field names of CONTRACT §3).
    public func values(of line: Int, afterRound round: Int) -> [(field: String, value: Double)] {
        let v = LineValues(line: line, sequence: epoch * rounds + round, baseCents: lines[line].baseCents)
        switch lines[line].kind {
        case .stock:
            return [
                ("bid", v.bid), ("bid_size", v.bidSize), ("ask", v.ask), ("ask_size", v.askSize),
                ("last", v.last), ("last_size", v.lastSize), ("volume", v.volume), ("high", v.high),
            ]
        case .option:
            return [
                ("bid", v.bid), ("bid_size", v.bidSize), ("ask", v.ask), ("ask_size", v.askSize),
                ("last", v.last), ("last_size", v.lastSize), ("volume", v.volume), ("open_interest", v.openInterest),
                ("bid_iv", v.bidIV), ("ask_iv", v.askIV), ("last_iv", v.lastIV),
                ("iv", v.iv), ("delta", v.delta), ("gamma", v.gamma), ("vega", v.vega), ("theta", v.theta),
                ("und_price", v.underlying), ("model_price", v.modelPrice),
            ]
        }
    }

    /// Every line's fields after the last round.
    public var finalValues: [(key: String, fields: [(field: String, value: Double)])] {
        lines.indices.map { (lines[$0].key, values(of: $0, afterRound: rounds - 1)) }
    }

    /// The messages of one round for one line, in wire order.
    public func messages(line index: Int, round: Int) -> [ServerMessage] {
        let line = lines[index]
        let v = LineValues(line: index, sequence: epoch * rounds + round, baseCents: line.baseCents)
        let id = line.reqId
        var out: [ServerMessage] = [
            .tickPrice(reqId: id, tickType: 1, price: v.bid, size: v.bidSize, attrMask: 0),
            .tickSize(reqId: id, tickType: 0, size: v.bidSize),
            .tickPrice(reqId: id, tickType: 2, price: v.ask, size: v.askSize, attrMask: 0),
            .tickSize(reqId: id, tickType: 3, size: v.askSize),
            .tickPrice(reqId: id, tickType: 4, price: v.last, size: v.lastSize, attrMask: 0),
            .tickSize(reqId: id, tickType: 5, size: v.lastSize),
            .tickSize(reqId: id, tickType: 8, size: v.volume),
        ]
        switch line.kind {
        case .stock:
            out.append(.tickPrice(reqId: id, tickType: 6, price: v.high, size: nil, attrMask: 0))
        case .option(let call):
            out.append(.tickSize(reqId: id, tickType: call ? 27 : 28, size: v.openInterest))
            for (tickType, iv) in [(Int32(10), v.bidIV), (11, v.askIV), (12, v.lastIV)] {
                out.append(.tickOptionComputation(OptionComputation(
                    reqId: id, tickType: tickType, tickAttrib: 0, impliedVol: iv, delta: v.delta, optPrice: nil,
                    pvDividend: nil, gamma: nil, vega: nil, theta: nil, undPrice: v.underlying)))
            }
            out.append(.tickOptionComputation(OptionComputation(
                reqId: id, tickType: 13, tickAttrib: 0, impliedVol: v.iv, delta: v.delta, optPrice: v.modelPrice,
                pvDividend: 0, gamma: v.gamma, vega: v.vega, theta: v.theta, undPrice: v.underlying)))
        }
        return out
    }

    /// The whole replay as framed bytes at `serverVersion`, rounds in order, lines in order
    /// within a round (the order a gateway interleaves busy lines in), encoded by the same
    /// `MessageEncoder` the simulator answers with.
    public func encode(serverVersion: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(messageCount * 56)
        for round in 0..<rounds {
            for line in lines.indices {
                for message in messages(line: line, round: round) {
                    out.append(contentsOf: MessageEncoder.encode(message, serverVersion: serverVersion))
                }
            }
        }
        return out
    }
}

/// The values of one line at one point of the sequence: whole cents and whole sizes, each
/// moving every step (modulo a period long enough that no two consecutive steps repeat).
struct LineValues {
    let bid, ask, last, high, bidSize, askSize, lastSize, volume, openInterest: Double
    let bidIV, askIV, lastIV, iv, delta, gamma, vega, theta, underlying, modelPrice: Double

    init(line: Int, sequence s: Int, baseCents: Int? = nil) {
        let base = 1_000 + line * 250  // cents: lines never share a price level
        let step = s % 997
        func cents(_ c: Int) -> Double { Double(c) / 100 }
        func ten4(_ c: Int) -> Double { Double(c) / 10_000 }
        if let level = baseCents {
            bid = cents(level - 5 + s % 7)
            ask = cents(level + 2 + s % 3)
            last = cents(level - 3 + s % 11)
        } else {
            bid = cents(base * 10 + step)
            ask = cents(base * 10 + step + 1 + s % 3)
            last = cents(base * 10 + step + s % 2)
        }
        high = cents(base * 20 + s % 991)
        bidSize = Double(100 + s % 89)
        askSize = Double(200 + s % 83)
        lastSize = Double(1 + s % 79)
        volume = Double(10_000 + s)
        openInterest = Double(5_000 + s % 977)
        bidIV = ten4(2_000 + s % 971)
        askIV = ten4(2_100 + s % 967)
        lastIV = ten4(2_050 + s % 953)
        iv = ten4(2_075 + s % 947)
        delta = ten4(3_000 + (line * 37 + s) % 4_001)
        gamma = ten4(10 + s % 941)
        vega = ten4(500 + s % 937)
        theta = -ten4(300 + s % 929)
        underlying = cents(50_000 + line * 10 + s % 919)
        modelPrice = cents(base + s % 911)
    }
}
