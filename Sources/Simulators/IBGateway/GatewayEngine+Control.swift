import TWSProtocol

extension GatewayEngine {
    struct ControlOutcome: Sendable, Equatable {
        /// The control port's answer line: `OK ...` or `ERR ...`.
        var reply: String
        var actions: [GatewayAction] = []
        /// Market updates to emit as fast as possible; the I/O layer runs them in chunks so
        /// that sockets keep draining during a large flood.
        var flood = 0
    }

    mutating func execute(_ command: ControlCommand, nowMs: Int64) -> ControlOutcome {
        switch command {
        case .rate(let n):
            faults.ticksPerSecond = n
            tickDebt = 0
            return ControlOutcome(reply: "OK rate \(n)")
        case .stall:
            faults.stall = true
            return ControlOutcome(reply: "OK stall")
        case .quiet:
            faults.quiet = true
            return ControlOutcome(reply: "OK quiet")
        case .hang:
            faults.hang = true
            return ControlOutcome(reply: "OK hang")
        case .resume:
            faults.stall = false
            faults.quiet = false
            faults.competingSession = false
            faults.noPermission = []
            faults.errorRules = [:]
            let wasHanging = faults.hang
            faults.hang = false
            return ControlOutcome(reply: "OK resume", actions: wasHanging ? releaseDeferredHellos(nowMs: nowMs) : [])
        case .drop:
            let ids = sessions.keys.sorted()
            for id in ids { sessions[id]?.phase = .closing }
            return ControlOutcome(reply: "OK drop \(ids.count)", actions: ids.map { .close($0) })
        case .refuse(let seconds):
            faults.refuseUntilMs = seconds > 0 ? nowMs + Int64(seconds * 1000) : nil
            return ControlOutcome(reply: "OK refuse \(seconds)")
        case .farmDown(let farm):
            faults.downFarms.insert(farm)
            return ControlOutcome(reply: "OK farm-down \(farm)", actions: broadcast(GatewayNotice.farmBroken(farm)))
        case .farmUp(let farm):
            let farms = farm.map { [$0] } ?? faults.downFarms.sorted()
            guard !farms.isEmpty else { return ControlOutcome(reply: "OK farm-up (no farm was down)") }
            faults.downFarms.subtract(farms)
            return ControlOutcome(
                reply: "OK farm-up \(farms.joined(separator: ","))",
                actions: farms.flatMap { broadcast(GatewayNotice.farmOK($0)) })
        case .connectivityLost:
            faults.connectivityLost = true
            return ControlOutcome(reply: "OK connectivity-lost", actions: broadcast(GatewayNotice.connectivityLost))
        case .connectivityRestored(let dataLost):
            faults.connectivityLost = false
            if dataLost {
                // Like IB after 1101: every subscription is gone and must be requested again.
                for id in sessions.keys { sessions[id]?.subscriptions = [:] }
                return ControlOutcome(reply: "OK connectivity-restored lost", actions: broadcast(GatewayNotice.restoredDataLost))
            }
            return ControlOutcome(
                reply: "OK connectivity-restored maintained", actions: broadcast(GatewayNotice.restoredDataMaintained))
        case .competingSession(let on):
            faults.competingSession = on
            guard on else { return ControlOutcome(reply: "OK competing-session off") }
            var actions: [GatewayAction] = []
            for id in sessions.keys.sorted() {
                guard var session = sessions[id], session.phase == .ready, !session.subscriptions.isEmpty else { continue }
                let notices = session.subscriptions.keys.sorted().map { GatewayNotice.competingSession($0) }
                session.subscriptions = [:]
                sessions[id] = session
                countErrors(notices)
                actions.append(.send(id, notices))
            }
            return ControlOutcome(reply: "OK competing-session on", actions: actions)
        case .slowHandshake(let ms):
            faults.slowHandshakeMs = ms
            return ControlOutcome(reply: "OK slow-handshake \(ms)")
        case .flood(let n):
            return ControlOutcome(reply: "OK flood \(n)", flood: n)
        case .noPermission(let symbol):
            faults.noPermission.insert(symbol)
            return ControlOutcome(reply: "OK no-permission \(symbol)")
        case let .errorOn(symbol, code, keepLine, text):
            let rule = FaultState.ErrorRule(code: code, keepLine: keepLine, message: text ?? GatewayNotice.text(forCode: code))
            faults.errorRules[symbol] = rule
            var actions: [GatewayAction] = []
            for id in sessions.keys.sorted() {
                guard var session = sessions[id], session.phase == .ready else { continue }
                let reqIds = session.subscriptions.keys.sorted().filter { session.subscriptions[$0]?.instrument.symbol == symbol }
                guard !reqIds.isEmpty else { continue }
                let notices = reqIds.map { GatewayNotice.error($0, code, rule.message) }
                if !keepLine { for reqId in reqIds { session.subscriptions[reqId] = nil } }
                if code == 10167 {
                    // "Displaying delayed market data": the line goes on with delayed tick types.
                    for reqId in reqIds { session.subscriptions[reqId]?.marketDataType = 3 }
                }
                sessions[id] = session
                countErrors(notices)
                actions.append(.send(id, notices))
            }
            return ControlOutcome(reply: "OK error \(symbol) \(code) \(keepLine ? "keep" : "drop")", actions: actions)
        case .halt(let symbol):
            faults.halted.insert(symbol)
            faults.everHalted.insert(symbol)
            return ControlOutcome(reply: "OK halt \(symbol)", actions: pushCurrentState(of: symbol))
        case .unhalt(let symbol):
            faults.halted.remove(symbol)
            return ControlOutcome(reply: "OK unhalt \(symbol)", actions: pushCurrentState(of: symbol))
        case .malformed:
            var actions: [GatewayAction] = []
            for id in sessions.keys.sorted() {
                guard let session = sessions[id], session.phase == .ready else { continue }
                var frames: [[String]] = [["9999", "1", "a message id no client knows"]]
                for reqId in session.subscriptions.keys.sorted() {
                    frames.append(["1", "6", "\(reqId)", "1", "not-a-number", "100", "0"])
                    frames.append(["2", "6", "\(reqId)"])
                }
                actions.append(.sendFields(id, frames))
            }
            return ControlOutcome(reply: "OK malformed", actions: actions)
        case .sent(let clientId, let reqId):
            let sent = recorder.sent(clientId: clientId, reqId: reqId)
            let parts = sent.keys.sorted().compactMap { type in sent[type]?.last.map { "\(type)=\(Self.text($0))" } }
            return ControlOutcome(reply: (["OK"] + parts).joined(separator: " "))
        case .last(let clientId, let symbol):
            // `OK conId=N type=value ...` per contract, contracts in conId order.
            let latest = recorder.latest(clientId: clientId, symbol: symbol)
            var parts = ["OK"]
            for conId in latest.keys.sorted() {
                let ticks = latest[conId]!
                parts.append("conId=\(conId)")
                parts += ticks.keys.sorted().map { "\($0)=\(Self.text(ticks[$0]!))" }
            }
            return ControlOutcome(reply: parts.joined(separator: " "))
        case .counters:
            return ControlOutcome(reply: "OK " + currentCounters.reply)
        case .help:
            return ControlOutcome(reply: "OK " + ControlCommand.helpText)
        }
    }

    /// One recorded value as text: numbers in Swift's shortest round-trip spelling, an
    /// option computation as `iv,delta,optPrice,pvDividend,gamma,vega,theta,undPrice`.
    static func text(_ value: TickValue) -> String {
        func n(_ d: Double?) -> String { d.map { "\($0)" } ?? "none" }
        switch value {
        case .price(let p): return n(p)
        case .size(let s): return n(s)
        case .string(let s): return s
        case .generic(let g): return n(g)
        case .optionComputation(let c):
            return [c.impliedVol, c.delta, c.optPrice, c.pvDividend, c.gamma, c.vega, c.theta, c.undPrice].map(n)
                .joined(separator: ",")
        }
    }

    /// Sends every subscriber of the symbol's stock what changed (a halt or its end), at once,
    /// as IB does when a halt starts: tick 49 and bid/ask -1 with size 0.
    private mutating func pushCurrentState(of symbol: String) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        for id in sessions.keys.sorted() {
            guard let session = sessions[id], session.phase == .ready else { continue }
            var out: [ServerMessage] = []
            for reqId in session.subscriptions.keys.sorted() {
                guard var subscription = sessions[id]?.subscriptions[reqId], case .stock(let s) = subscription.instrument,
                    s.symbol == symbol, !faults.dataBlocked(for: subscription.instrument)
                else { continue }
                out += diff(&subscription, clientId: session.clientId ?? 0)
                sessions[id]?.subscriptions[reqId] = subscription
            }
            if !out.isEmpty { actions.append(.send(id, out)) }
        }
        return actions
    }

    /// A notice to every connection past START_API.
    private mutating func broadcast(_ notice: ServerMessage) -> [GatewayAction] {
        let ids = sessions.values.filter { $0.phase == .ready }.map(\.id).sorted()
        countErrors(Array(repeating: notice, count: ids.count))
        return ids.map { .send($0, [notice]) }
    }

    private mutating func releaseDeferredHellos(nowMs: Int64) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        for id in sessions.keys.sorted() {
            guard case .helloDeferred = sessions[id]?.phase, let version = sessions[id]?.serverVersion else { continue }
            sessions[id]?.phase = .awaitingStartAPI
            actions.append(.hello(
                id, serverVersion: version, connectionTime: Eastern.connectionTime(epochMs: nowMs),
                delayMs: faults.slowHandshakeMs))
        }
        return actions
    }
}
