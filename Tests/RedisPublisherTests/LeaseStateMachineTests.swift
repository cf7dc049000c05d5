import Testing
@testable import RedisPublisher

/// The group lease's state machine, with an injected clock: no Redis, no sleeps.
@Suite("LeaseStateMachine")
struct LeaseStateMachineTests {
    let timing = LeaseStateMachine.Timing(ttlMs: 5_000, renewIntervalMs: 1_500)

    /// The request in `actions`, if any.
    func sent(_ actions: [LeaseStateMachine.Action]) -> (LeaseStateMachine.Request, UInt64)? {
        for case let .send(request, id) in actions { return (request, id) }
        return nil
    }

    /// A machine that acquired the lease with a request sent at `t`.
    func active(at t: Int64 = 0) -> LeaseStateMachine {
        var m = LeaseStateMachine(timing: timing)
        let (request, id) = sent(m.tick(nowMs: t))!
        #expect(request == .acquire)
        #expect(m.replied(id: id, .granted, nowMs: t + 3) == [.becomeActive])
        return m
    }

    @Test func startsStandbyAndBidsAtOnce() {
        var m = LeaseStateMachine(timing: timing)
        #expect(m.role == .standby)
        let actions = m.tick(nowMs: 100)
        #expect(sent(actions)?.0 == .acquire)
        // One request at a time: nothing more while it is on the wire.
        #expect(m.tick(nowMs: 200).isEmpty)
    }

    @Test func aGrantCountsFromTheSendingTimeNotTheReply() {
        var m = LeaseStateMachine(timing: timing)
        let (_, id) = sent(m.tick(nowMs: 1_000))!
        // The reply comes late (slow Redis): the lease still ends at sent + ttl, which is
        // never after Redis' own expiry (it started the TTL on receipt).
        #expect(m.replied(id: id, .granted, nowMs: 1_900) == [.becomeActive])
        #expect(m.role == .active)
        #expect(m.validUntilMs == 6_000)
        #expect(m.nextRequestMs == 2_500)
        #expect(m.nextWakeMs == 2_500)
    }

    @Test func theHolderRenewsEveryIntervalAndKeepsTheLease() {
        var m = active()
        var t: Int64 = 0
        for _ in 0..<10 {
            t = m.nextRequestMs
            let (request, id) = sent(m.tick(nowMs: t))!
            #expect(request == .renew)
            #expect(m.replied(id: id, .granted, nowMs: t + 5).isEmpty)
            #expect(m.role == .active)
            #expect(m.validUntilMs == t + 5_000)
        }
    }

    @Test func unansweredRenewalsEndTheTermAtTheLocalExpiry() {
        var m = active()  // valid until 5000
        var t = m.nextRequestMs
        while t < 5_000 {
            let actions = m.tick(nowMs: t)
            if let (_, id) = sent(actions) {
                #expect(m.replied(id: id, .failed("Redis is not connected"), nowMs: t).isEmpty)
            }
            #expect(m.role == .active)
            t = min(m.nextWakeMs, 5_000)
            if t == 5_000 { break }
        }
        // The watchdog's check at the local expiry, even while a request hangs.
        let actions = m.expire(nowMs: 5_000)
        guard case .becomeStandby = actions.first else {
            Issue.record("expected a step-down, got \(actions)")
            return
        }
        #expect(m.role == .standby)
        #expect(m.validUntilMs == nil)
    }

    @Test func aHangingRenewalDoesNotKeepTheTermAlive() {
        var m = active()
        let (_, id) = sent(m.tick(nowMs: 1_500))!
        // No reply; the watchdog looks at 4999 and at 5000.
        #expect(m.expire(nowMs: 4_999).isEmpty)
        #expect(m.expire(nowMs: 5_000).count == 1)
        // The late grant of the old request is stale: it neither revives the term nor blocks
        // the next bid.
        #expect(m.replied(id: id, .granted, nowMs: 5_200).isEmpty)
        #expect(m.role == .standby)
        #expect(sent(m.tick(nowMs: m.nextRequestMs))?.0 == .acquire)
    }

    @Test func aRefusedRenewalEndsTheTermAtOnce() {
        var m = active()
        let (_, id) = sent(m.tick(nowMs: 1_500))!
        let actions = m.replied(id: id, .refused(holder: "w2#abc", remainingMs: 4_000), nowMs: 1_501)
        #expect(actions == [.becomeStandby(reason: "another worker holds the lease (w2)")])
        #expect(m.role == .standby)
        #expect(m.holder == "w2#abc")
    }

    @Test func aFencedWriteEndsTheTermAtOnce() {
        var m = active()
        #expect(m.fenced(nowMs: 100).count == 1)
        #expect(m.role == .standby)
        // Only an active worker steps down.
        #expect(m.fenced(nowMs: 200).isEmpty)
    }

    @Test func aStandbyBidsRightAfterTheHoldersLeaseWouldEndButAtLeastEveryInterval() {
        var m = LeaseStateMachine(timing: timing)
        let (_, id) = sent(m.tick(nowMs: 0))!
        #expect(m.replied(id: id, .refused(holder: "w1#aa", remainingMs: 400), nowMs: 2).isEmpty)
        #expect(m.nextRequestMs == 403)
        let (_, id2) = sent(m.tick(nowMs: 403))!
        #expect(m.replied(id: id2, .refused(holder: "w1#aa", remainingMs: 4_900), nowMs: 405).isEmpty)
        #expect(m.nextRequestMs == 405 + 1_500)
        // A key without expiry (set by hand): every interval.
        let (_, id3) = sent(m.tick(nowMs: m.nextRequestMs))!
        #expect(m.replied(id: id3, .refused(holder: "x", remainingMs: -1), nowMs: 2_000).isEmpty)
        #expect(m.nextRequestMs == 3_500)
    }

    @Test func aStandbyThatCannotServeLetsAReadyPeerBidFirst() {
        var m = LeaseStateMachine(timing: timing)  // ttl 5000, renew 1500
        // Not ready (gateway down): no bid for a whole TTL, waking every renew interval.
        #expect(m.tick(nowMs: 0, ready: false).isEmpty)
        #expect(m.notReadySinceMs == 0 && m.nextRequestMs == 1_500)
        #expect(m.tick(nowMs: 1_500, ready: false).isEmpty)
        #expect(m.tick(nowMs: 4_500, ready: false).isEmpty)
        #expect(m.nextRequestMs == 5_000)
        // Still not ready after a TTL: nobody ready took the lease, so it bids anyway.
        #expect(sent(m.tick(nowMs: 5_000, ready: false))?.0 == .acquire)
        // Ready again: the wait starts over next time it is not.
        var n = LeaseStateMachine(timing: timing)
        #expect(n.tick(nowMs: 0, ready: false).isEmpty)
        #expect(sent(n.tick(nowMs: 1_500, ready: true))?.0 == .acquire)
        #expect(n.notReadySinceMs == nil)
        // The holder renews whatever its gateway does (its Alpha Vantage failover serves).
        var a = active()
        #expect(sent(a.tick(nowMs: a.nextRequestMs, ready: false))?.0 == .renew)
    }

    @Test func stopReleasesOnlyAHeldLease() {
        var standby = LeaseStateMachine(timing: timing)
        #expect(standby.stop() == false)
        var m = active()
        #expect(m.stop() == true)
        #expect(m.role == .standby)
        #expect(m.tick(nowMs: 1_000_000).isEmpty)
    }

    @Test func tokensNameTheWorkerAndAreNeverReused() {
        let a = LeaseStateMachine.makeToken(workerID: "relay-a")
        let b = LeaseStateMachine.makeToken(workerID: "relay-a")
        #expect(a != b)
        #expect(a.hasPrefix("relay-a#") && a.count == "relay-a#".count + 32)
        #expect(LeaseStateMachine.workerID(ofToken: a) == "relay-a")
        #expect(LeaseStateMachine.workerID(ofToken: "a#b#c") == "a#b")
        #expect(LeaseStateMachine.workerID(ofToken: "plain") == "plain")
    }

    @Test func timingKeepsTheRenewIntervalBelowTheTTL() {
        let t = LeaseStateMachine.Timing(ttlMs: 1_000, renewIntervalMs: 5_000)
        #expect(t.renewIntervalMs <= t.ttlMs)
        #expect(LeaseStateMachine.Timing(ttlMs: 0, renewIntervalMs: 0).ttlMs == 1)
    }

    /// Two machines against a model of the lease key (SET NX PX, token-checked renew), stepped
    /// 1 ms at a time: whatever moment the active one dies, the standby holds the lease within
    /// TTL + one renew interval (+ the 1 ms reply delay of the model), and the two are never
    /// active at once on the model's clock.
    @Test func aStandbyTakesOverWithinTTLPlusOneRenewIntervalWhenTheActiveDies() {
        struct Key { var token: String?; var expiresAt: Int64 = 0 }
        let timing = LeaseStateMachine.Timing(ttlMs: 600, renewIntervalMs: 200)
        for deathAt in stride(from: Int64(700), to: 1_400, by: 37) {
            var key = Key()
            var machines = [LeaseStateMachine(timing: timing), LeaseStateMachine(timing: timing)]
            let tokens = ["a#1", "b#2"]
            var inFlight: [(worker: Int, request: LeaseStateMachine.Request, id: UInt64, answerAt: Int64)] = []
            var takeoverAt: Int64?
            for now in Int64(0)...4_000 {
                if key.token != nil, now >= key.expiresAt { key.token = nil }
                // Replies arrive 1 ms after sending; Redis applies the request on arrival.
                for flight in inFlight where flight.answerAt == now {
                    let w = flight.worker
                    if w == 0, now >= deathAt { continue }
                    let reply: LeaseStateMachine.Reply
                    switch flight.request {
                    case .acquire where key.token == nil, .renew where key.token == tokens[w]:
                        key = Key(token: tokens[w], expiresAt: now + timing.ttlMs)
                        reply = .granted
                    default:
                        reply = .refused(holder: key.token, remainingMs: key.token == nil ? -2 : key.expiresAt - now)
                    }
                    let actions = machines[w].replied(id: flight.id, reply, nowMs: now)
                    if w == 1, actions.contains(.becomeActive), now >= deathAt { takeoverAt = takeoverAt ?? now }
                }
                inFlight.removeAll { $0.answerAt <= now }
                for w in 0..<2 where !(w == 0 && now >= deathAt) {
                    for case let .send(request, id) in machines[w].tick(nowMs: now) {
                        inFlight.append((w, request, id, now + 1))
                    }
                }
                if now == deathAt - 1 { #expect(machines[0].role == .active && machines[1].role == .standby) }
                if now < deathAt {
                    #expect(!(machines[0].role == .active && machines[1].role == .active), "two active workers at \(now)")
                }
            }
            if let takeoverAt {
                #expect(takeoverAt - deathAt <= timing.ttlMs + timing.renewIntervalMs + 2, "death at \(deathAt): took \(takeoverAt - deathAt) ms")
            } else {
                #expect(machines[1].role == .active, "death at \(deathAt): the standby never took over")
            }
        }
    }
}
