@testable import Failover

/// Drives the engine on a fake timeline: nothing sleeps, every instant is explicit.
struct Harness {
    var engine: FailoverEngine
    var now: Int64 = 0
    /// Every action with the time it was emitted, for assertions over whole scenarios.
    var log: [(ms: Int64, action: FailoverAction)] = []

    static let policy = FailoverPolicy(
        maxReconnectAttempts: 3, staleness: .seconds(10), checkInterval: .seconds(1), failbackStable: .seconds(5),
        probeTimeout: .seconds(2), recoveryMaxGap: .seconds(3), flapWindow: .seconds(60), maxStableMultiplier: 4)

    init(symbols: [String] = ["SPY", "AAPL"], policy: FailoverPolicy = Harness.policy, connected: Bool = true) {
        engine = FailoverEngine(symbols: symbols, policy: policy, nowMs: 0)
        if connected { _ = send(.sessionConnected) }
    }

    @discardableResult
    mutating func send(_ event: FailoverEvent) -> [FailoverAction] {
        let actions = engine.handle(event, nowMs: now)
        log.append(contentsOf: actions.map { (now, $0) })
        return actions
    }

    /// Moves time forward in 1 s ticks; `each` runs before every tick (e.g. to deliver data).
    @discardableResult
    mutating func advance(seconds: Int, each: (inout Harness) -> Void = { _ in }) -> [FailoverAction] {
        var out: [FailoverAction] = []
        for _ in 0..<seconds {
            now += 1000
            each(&self)
            out += send(.tick)
        }
        return out
    }

    func state(_ symbol: String) -> SymbolFeedState? { engine.state(of: symbol) }

    /// Times (s) at which the given kind of action named `symbol`.
    func times(_ kind: String, _ symbol: String) -> [Int64] {
        log.compactMap { entry in
            switch entry.action {
            case let .failover(s, _) where kind == "failover" && s.contains(symbol): entry.ms / 1000
            case let .failback(s, _) where kind == "failback" && s.contains(symbol): entry.ms / 1000
            case let .probe(s, _) where kind == "probe" && s == symbol: entry.ms / 1000
            case let .recovering(s, _) where kind == "recovering" && s.contains(symbol): entry.ms / 1000
            case let .recoveryInterrupted(s, _) where kind == "interrupted" && s.contains(symbol): entry.ms / 1000
            default: nil
            }
        }
    }
}
