import Failover
import IBSession
import Logging
import MarketData
import MarketModel
import RedisPublisher

/// `worker.group`: workers that stand in for each other (README "A standby pair").
///
/// The lease itself is `LeaseStateMachine` (pure); this file carries out its actions: lease
/// requests through the publisher (lua/lease.lua), the fence token, and the switch between
/// the two roles. The data duties (resolve and subscribe, failover checks, re-centring) run
/// only while active, in `dutiesLoop`; the IB session, the status hash and the Alpha Vantage
/// poller (idle without failed-over symbols) run in both roles.
extension Worker {
    /// Runs the data duties for each term as active, and cancels them when the term ends.
    func dutiesLoop() async {
        var roles = roleChanges.makeAsyncIterator()
        while let next = await roles.next(isolation: #isolation) {
            guard next == .active, !Task.isCancelled else { continue }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.setUpSymbols() }
                group.addTask { await self.failoverLoop() }
                group.addTask { await self.recentreLoop() }
                // Until the term ends (standby) or the worker stops (the stream finishes).
                while let role = await roles.next(isolation: #isolation), role == .active {}
                group.cancelAll()
            }
        }
    }

    /// Whether this worker may act as the active one right now: always without a group; in a
    /// group, only while its lease is certainly its own (`LeaseStateMachine.validUntilMs`, on
    /// the monotonic clock). A worker paused past its TTL wakes with `role` still `active`
    /// until the watchdog's next step; the lease loop asks this before acting on a read.
    func holdsTerm() -> Bool {
        guard configuration.group != nil else { return true }
        guard role == .active, let until = lease.validUntilMs else { return false }
        return monoMs() < until
    }

    /// Asks for, renews and gives up the lease as the state machine says.
    func leaseLoop() async {
        while !Task.isCancelled, !stopping {
            let now = monoMs()
            // A standby whose gateway session is down lets a ready peer win the lease.
            for action in lease.tick(nowMs: now, ready: session.status.state.isSessionUp) {
                await carryOut(action)
            }
            // Capped: after `stop()` nothing is due any more (`Int64.max`).
            let wait = min(max(1, lease.nextWakeMs - monoMs()), configuration.leaseTiming.renewIntervalMs)
            try? await clock.sleep(for: .milliseconds(wait))
        }
    }

    /// Gives the lease up at its local end even while a request hangs (Redis unreachable but
    /// the socket not yet timed out), and notices writes refused by the fence.
    func leaseWatchdog() async {
        let step = Duration.milliseconds(max(10, configuration.leaseTiming.renewIntervalMs / 4))
        while !Task.isCancelled, !stopping {
            try? await clock.sleep(for: step)
            let now = monoMs()
            var actions = lease.expire(nowMs: now)
            if role == .active, publisher.refusedByFence {
                actions += lease.fenced(nowMs: now)
            }
            for action in actions { await carryOut(action) }
        }
    }

    func carryOut(_ action: LeaseStateMachine.Action) async {
        switch action {
        case let .send(request, id):
            let token = leaseToken
            let reply: LeaseStateMachine.Reply
            do {
                let answer = try await publisher.lease(request, token: token, ttlMs: configuration.leaseTiming.ttlMs)
                noteHolder(answer.held ? token : answer.holder)
                reply = answer.machineReply
            } catch {
                reply = .failed("\(error)")
                if role == .active {
                    logger.warning("could not renew the group's lease", metadata: ["group": "\(configuration.group ?? "")", "error": "\(error)"])
                }
            }
            for next in lease.replied(id: id, reply, nowMs: monoMs()) { await carryOut(next) }
        case .becomeActive:
            becomeActive()
        case .becomeStandby(let reason):
            await becomeStandby(reason: reason)
        }
    }

    /// The lease is ours: write with its token, start from a clean slate and subscribe.
    func becomeActive() {
        publisher.setFenceToken(leaseToken)
        readiness.setStandby(nil)
        role = .active
        leaseTerms += 1
        metrics.leaseRole(active: true)
        metrics.leaseTakeovers.increment()
        feed(.roleChanged(active: true, served: servedSymbols()))
        logger.notice("this worker holds the group's lease: active, subscribing market data", metadata: [
            "group": "\(configuration.group ?? "")", "term": "\(leaseTerms)",
        ])
        publisher.publishEvent(WorkerEvents.plain(type: "role", worker: configuration.workerID, nowMs: nowMs(), [
            Field("role", "active", isNumber: false), Field("group", configuration.group ?? "", isNumber: false),
        ]))
        roleContinuation.yield(.active)
        writeStatus()
    }

    /// The lease is gone (or unconfirmed): stop writing at once, cancel every market data line
    /// at the gateway, forget this term's state, and release the old token (harmless when
    /// another worker holds the lease: lease.lua checks the token).
    func becomeStandby(reason: String) async {
        let oldToken = leaseToken
        publisher.setFenceToken(nil)
        role = .standby
        leaseToken = LeaseStateMachine.makeToken(workerID: configuration.workerID)
        // Not us any more; who it is comes with the release's answer (or the next bid's).
        if leaseHolder == configuration.workerID { leaseHolder = nil }
        metrics.leaseRole(active: false)
        readiness.setStandby(standbyReason)
        roleContinuation.yield(.standby)
        let lines = book.lineCount
        for id in book.lineIDs { session.unsubscribe(id) }
        resetDataState()
        logger.warning("this worker lost the group's lease: standby, market data cancelled", metadata: [
            "group": "\(configuration.group ?? "")", "reason": "\(reason)", "lines_cancelled": "\(lines)",
        ])
        publisher.publishEvent(WorkerEvents.plain(type: "role", worker: configuration.workerID, nowMs: nowMs(), [
            Field("role", "standby", isNumber: false), Field("group", configuration.group ?? "", isNumber: false),
            Field("reason", reason, isNumber: false),
        ]))
        writeStatus()
        if let reply = try? await publisher.lease(.release, token: oldToken, ttlMs: configuration.leaseTiming.ttlMs) {
            noteHolder(reply.holder)
        }
    }

    /// Graceful stop of a group member: after the last writes, hand the lease over at once.
    func releaseLeaseOnStop() async {
        guard configuration.group != nil, lease.stop() else { return }
        let token = leaseToken
        do {
            let reply = try await publisher.lease(.release, token: token, ttlMs: configuration.leaseTiming.ttlMs)
            logger.notice("released the group's lease", metadata: ["group": "\(configuration.group ?? "")", "held": "\(reply.held)"])
        } catch {
            logger.warning("could not release the group's lease; it expires by itself", metadata: ["error": "\(error)"])
        }
        publisher.setFenceToken(nil)
    }

    /// Everything a term learned from IB: the next term starts like a fresh worker.
    func resetDataState() {
        book = MarketBook()
        for symbol in order {
            if let spec = symbols[symbol]?.spec { symbols[symbol] = SymbolState(spec: spec) }
        }
        leftOut = nil
        metrics.marketDataLines.record(0)
        // The core forgets the term's failover state, starts a fresh engine and has the
        // poller emptied.
        feed(.roleChanged(active: false, served: order))
    }

    /// `/readyz`'s reason while standing by.
    var standbyReason: String {
        "standby in worker.group \(configuration.group ?? ""): this worker does not hold the lease"
    }

    func noteHolder(_ token: String?) {
        let holder = token.map(LeaseStateMachine.workerID(ofToken:))
        guard holder != leaseHolder else { return }
        leaseHolder = holder
        writeStatus()
    }
}
