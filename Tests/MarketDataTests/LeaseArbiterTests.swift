import Testing

@testable import MarketData

@Suite("InstrumentRequest")
struct InstrumentRequestTests {
    func parsed(_ text: String) -> InstrumentRequest? { try? InstrumentRequest.parse(text).get() }
    func refusal(_ text: String) -> InstrumentRequest.Refusal? {
        if case .failure(let r) = InstrumentRequest.parse(text) { return r }
        return nil
    }

    @Test func kinds() {
        #expect(parsed("aapl")?.keySymbol == "AAPL")
        #expect(parsed("STK:SPY")?.exchange == "SMART")
        #expect(parsed("IND:SPX@CBOE")?.keySymbol == "SPX")
        #expect(parsed("IND:SPX@CBOE")?.exchange == "CBOE")
        let es = parsed("FUT:ES.202612@CME")
        #expect(es?.symbol == "ES")
        #expect(es?.contractMonth == "202612")
        #expect(es?.keySymbol == "ES.202612")
        let fx = parsed("CASH:EUR.USD")
        #expect(fx?.symbol == "EUR")
        #expect(fx?.currency == "USD")
        #expect(fx?.exchange == "IDEALPRO")
        #expect(fx?.keySymbol == "EUR.USD")
        #expect(parsed("STK:SPY#options=2x5")?.linesNeeded == 1 + 2 * 11 * 2)
        #expect(parsed("BRK B")?.keySymbol == "BRK B")
    }

    @Test func malformedSpecsAreInvalidWithAReason() {
        #expect(refusal("")?.category == "invalid request")
        #expect(refusal("OPT:SPY")?.detail.contains("unknown security type") == true)
        #expect(refusal("IND:SPX")?.detail.contains("needs its exchange") == true)
        #expect(refusal("FUT:ES@CME")?.detail.contains("FUT:SYMBOL.YYYYMM") == true)
        #expect(refusal("FUT:ES.202613@CME")?.detail.contains("YYYYMM") == true)
        #expect(refusal("CASH:EURUSD")?.category == "invalid request")
        #expect(refusal("A*B")?.detail.contains("may contain only") == true)
        #expect(refusal("AAPL:X")?.category == "invalid request")
        #expect(refusal(String(repeating: "A", count: 101))?.detail.contains("longer than 100") == true)
        #expect(refusal("SPY#foo")?.category == "invalid request")
    }

    @Test func absurdOptionWindowsAreRefused() {
        #expect(refusal("SPY#options=13x5")?.detail.contains("absurd option window") == true)
        #expect(refusal("SPY#options=2x26")?.detail.contains("absurd option window") == true)
        #expect(refusal("SPY#options=0x5")?.detail.contains("absurd option window") == true)
        #expect(refusal("SPY#options=2")?.category == "invalid request")
    }

    @Test func members() {
        #expect(LeaseArbiter.Lease.parse(member: "app1|AAPL", expiresMs: 5)?.requester == "app1")
        #expect(LeaseArbiter.Lease.parse(member: "app1|FUT:ES.202612@CME", expiresMs: 5)?.spec == "FUT:ES.202612@CME")
        #expect(LeaseArbiter.Lease.parse(member: "AAPL", expiresMs: 5) == nil)
        #expect(LeaseArbiter.Lease.parse(member: "a b|AAPL", expiresMs: 5) == nil)
        #expect(LeaseArbiter.Lease.parse(member: "|AAPL", expiresMs: 5) == nil)
    }
}

@Suite("LeaseArbiter")
struct LeaseArbiterTests {
    typealias A = LeaseArbiter
    static func arbiter(capacity: Int = 2, pinned: [String: String] = ["MSFT": "STK:MSFT:USD", "SPX": "IND:SPX@CBOE"], _ tweak: (inout A.Settings) -> Void = { _ in }) -> A {
        var settings = A.Settings(lineCapacity: capacity)
        settings.graceMs = 10_000
        settings.minHoldMs = 30_000
        settings.placeRefreshMs = 0
        tweak(&settings)
        return A(settings: settings, pinned: pinned)
    }
    static func lease(_ requester: String, _ spec: String, until: Int64, priority: Int = 0) -> A.Lease {
        A.Lease(requester: requester, spec: spec, expiresMs: until, priority: priority)
    }
    static func ref(_ requester: String, _ spec: String) -> A.RequestRef { A.RequestRef(requester: requester, spec: spec) }
    static func subscribed(_ actions: [A.Action]) -> [String] {
        actions.compactMap { if case .subscribe(let r) = $0 { r.keySymbol } else { nil } }
    }
    static func released(_ actions: [A.Action]) -> [String] {
        actions.compactMap { if case .release(let k) = $0 { k } else { nil } }
    }

    @Test func aRequestGetsALineAndIsActive() {
        var a = Self.arbiter()
        let actions = a.leasesSeen([Self.lease("app1", "AAPL", until: 60_000)], nowMs: 1_000)
        #expect(Self.subscribed(actions) == ["AAPL"])
        #expect(actions.contains(.setStatus(Self.ref("app1", "AAPL"), .active, keySymbol: "AAPL")))
        #expect(a.heldKeySymbols == ["AAPL"])
    }

    @Test func overlappingRequestsShareOneLine() {
        var a = Self.arbiter()
        let actions = a.leasesSeen([Self.lease("app1", "AAPL", until: 60_000), Self.lease("app2", "aapl", until: 60_000)], nowMs: 1_000)
        #expect(Self.subscribed(actions) == ["AAPL"])
        #expect(a.status(of: Self.ref("app1", "AAPL")) == .active)
        #expect(a.status(of: Self.ref("app2", "aapl")) == .active)
    }

    @Test func pinnedInstrumentsTakeNoLine() {
        var a = Self.arbiter(capacity: 0)
        let actions = a.leasesSeen([Self.lease("app1", "MSFT", until: 60_000)], nowMs: 1_000)
        #expect(Self.subscribed(actions).isEmpty)
        #expect(a.status(of: Self.ref("app1", "MSFT")) == .active)
    }

    @Test func theLineStaysThroughTheGraceAndOnlyUniqueLinesGo() {
        var a = Self.arbiter()
        _ = a.leasesSeen([
            Self.lease("app1", "AAPL", until: 20_000), Self.lease("app2", "AAPL", until: 60_000),
            Self.lease("app1", "SPY", until: 20_000),
        ], nowMs: 1_000)
        #expect(a.heldKeySymbols == ["AAPL", "SPY"])
        // app1's leases expired: its statuses go, its lines stay for the grace.
        let expired = a.tick(nowMs: 20_000)
        #expect(expired.contains(.clearStatus(Self.ref("app1", "SPY"))))
        #expect(Self.released(expired).isEmpty)
        #expect(Self.released(a.tick(nowMs: 29_999)).isEmpty)
        let after = a.tick(nowMs: 30_000)
        #expect(Self.released(after) == ["SPY"])
        #expect(after.contains(.dropLease(member: "app1|SPY")))
        #expect(after.contains(.dropLease(member: "app1|AAPL")))
        #expect(a.heldKeySymbols == ["AAPL"])
        #expect(a.status(of: Self.ref("app2", "AAPL")) == .active)
    }

    @Test func aRefreshedLeaseWithinTheGraceKeepsTheLineWithoutChurn() {
        var a = Self.arbiter()
        _ = a.leasesSeen([Self.lease("app1", "AAPL", until: 20_000)], nowMs: 1_000)
        _ = a.tick(nowMs: 25_000)
        let back = a.leasesSeen([Self.lease("app1", "AAPL", until: 80_000)], nowMs: 26_000)
        #expect(Self.subscribed(back).isEmpty)
        #expect(Self.released(back).isEmpty)
        #expect(a.status(of: Self.ref("app1", "AAPL")) == .active)
    }

    @Test func moreRequestsThanLinesQueueInPriorityThenAgeOrder() {
        var a = Self.arbiter(capacity: 1)
        _ = a.leasesSeen([Self.lease("app1", "AAPL", until: 100_000)], nowMs: 1_000)
        _ = a.leasesSeen([Self.lease("app1", "AAPL", until: 100_000), Self.lease("app2", "SPY", until: 100_000)], nowMs: 2_000)
        let third = a.leasesSeen([
            Self.lease("app1", "AAPL", until: 100_000), Self.lease("app2", "SPY", until: 100_000),
            Self.lease("app3", "QQQ", until: 100_000, priority: 5),
        ], nowMs: 3_000)
        // Priority before age; the held line is not pre-empted before min hold.
        #expect(Self.subscribed(third).isEmpty)
        #expect(a.status(of: Self.ref("app3", "QQQ")) == .queued(place: 1))
        #expect(a.status(of: Self.ref("app2", "SPY")) == .queued(place: 2))
        #expect(a.status(of: Self.ref("app1", "AAPL")) == .active)
    }

    @Test func queuedRequestsStartWhenALineFreesUp() {
        var a = Self.arbiter(capacity: 1)
        _ = a.leasesSeen([Self.lease("app1", "AAPL", until: 5_000), Self.lease("app2", "SPY", until: 100_000)], nowMs: 1_000)
        #expect(a.heldKeySymbols == ["AAPL"])
        #expect(a.status(of: Self.ref("app2", "SPY")) == .queued(place: 1))
        // AAPL's lease expired: a line in its grace gives way to a live request at once.
        let actions = a.tick(nowMs: 5_000)
        #expect(Self.released(actions) == ["AAPL"])
        #expect(Self.subscribed(actions) == ["SPY"])
        #expect(a.status(of: Self.ref("app2", "SPY")) == .active)
    }

    @Test func higherPriorityPreemptsOnlyAfterMinHold() {
        var a = Self.arbiter(capacity: 1)
        let low = [Self.lease("app1", "AAPL", until: 500_000, priority: 1)]
        _ = a.leasesSeen(low, nowMs: 0)
        let both = low + [Self.lease("app2", "SPY", until: 500_000, priority: 3)]
        #expect(Self.released(a.leasesSeen(both, nowMs: 29_999)).isEmpty)
        let actions = a.leasesSeen(both, nowMs: 30_000)
        #expect(Self.released(actions) == ["AAPL"])
        #expect(Self.subscribed(actions) == ["SPY"])
        #expect(a.status(of: Self.ref("app1", "AAPL")) == .queued(place: 1))
        // Equal priority never pre-empts (no flapping).
        var b = Self.arbiter(capacity: 1)
        _ = b.leasesSeen([Self.lease("app1", "AAPL", until: 500_000, priority: 2)], nowMs: 0)
        let equal = b.leasesSeen([
            Self.lease("app1", "AAPL", until: 500_000, priority: 2), Self.lease("app2", "SPY", until: 500_000, priority: 2),
        ], nowMs: 100_000)
        #expect(Self.released(equal).isEmpty)
    }

    @Test func priorityIsClampedToTheMaximum() {
        var a = Self.arbiter(capacity: 1) { $0.maxPriority = 3 }
        _ = a.leasesSeen([Self.lease("app1", "AAPL", until: 500_000, priority: 3)], nowMs: 0)
        let actions = a.leasesSeen([
            Self.lease("app1", "AAPL", until: 500_000, priority: 3), Self.lease("greedy", "SPY", until: 500_000, priority: 1_000),
        ], nowMs: 100_000)
        #expect(Self.released(actions).isEmpty)
        #expect(a.status(of: Self.ref("greedy", "SPY")) == .queued(place: 1))
    }

    /// `leases.requester_max_priority`: each requester's own maximum replaces `max_priority`,
    /// so a batch job capped at 2 cannot outbid a trader capped at 8, whatever it writes, and a
    /// requester not named keeps the global maximum.
    @Test func aRequestersOwnMaximumBoundsItsPriority() {
        var a = Self.arbiter(capacity: 1) {
            $0.maxPriority = 5
            $0.maxPriorityByRequester = ["trader": 8, "backfill": 2]
        }
        // backfill writes 9, clamped to 2: the trader's 3 goes first.
        _ = a.leasesSeen([Self.lease("backfill", "AAPL", until: 500_000, priority: 9), Self.lease("trader", "SPY", until: 500_000, priority: 3)], nowMs: 0)
        #expect(a.heldKeySymbols == ["SPY"])
        #expect(a.status(of: Self.ref("backfill", "AAPL")) == .queued(place: 1))
        // trader's 8 (its own cap, above the global 5) pre-empts app1's 5 after the minimum hold.
        var b = Self.arbiter(capacity: 1) {
            $0.maxPriority = 5
            $0.maxPriorityByRequester = ["trader": 8]
        }
        let held = [Self.lease("app1", "AAPL", until: 500_000, priority: 50)]
        _ = b.leasesSeen(held, nowMs: 0)
        let actions = b.leasesSeen(held + [Self.lease("trader", "SPY", until: 500_000, priority: 8)], nowMs: 30_000)
        #expect(Self.released(actions) == ["AAPL"] && Self.subscribed(actions) == ["SPY"])
        // A requester capped at 0 never pre-empts anything.
        var c = Self.arbiter(capacity: 1) { $0.maxPriorityByRequester = ["idle": 0] }
        _ = c.leasesSeen([Self.lease("app1", "AAPL", until: 500_000, priority: 0)], nowMs: 0)
        let none = c.leasesSeen([Self.lease("app1", "AAPL", until: 500_000), Self.lease("idle", "SPY", until: 500_000, priority: 10)], nowMs: 100_000)
        #expect(Self.released(none).isEmpty)
    }

    @Test func badRequestsAreRefusedWithAReasonAndTakeNoLine() {
        var a = Self.arbiter(capacity: 2)
        let actions = a.leasesSeen([
            Self.lease("app1", "IND:SPX", until: 60_000), Self.lease("app1", "SPY#options=2x5", until: 60_000),
            Self.lease("app1", "SPY#options=99x5", until: 60_000),
        ], unparseable: ["garbage"], nowMs: 1_000)
        #expect(Self.subscribed(actions).isEmpty)
        #expect(actions.contains(.dropLease(member: "garbage")))
        guard case .refused(let r1)? = a.status(of: Self.ref("app1", "IND:SPX")) else { Issue.record("not refused"); return }
        #expect(r1.category == "invalid request")
        guard case .refused(let r2)? = a.status(of: Self.ref("app1", "SPY#options=2x5")) else { Issue.record("not refused"); return }
        #expect(r2.category == "not allowed")
        guard case .refused(let r3)? = a.status(of: Self.ref("app1", "SPY#options=99x5")) else { Issue.record("not refused"); return }
        #expect(r3.description.contains("absurd"))
    }

    @Test func moreLinesThanExistIsRefused() {
        var a = Self.arbiter(capacity: 10) { $0.optionWindows = true }
        _ = a.leasesSeen([Self.lease("app1", "SPY#options=2x5", until: 60_000)], nowMs: 1_000)
        guard case .refused(let r)? = a.status(of: Self.ref("app1", "SPY#options=2x5")) else { Issue.record("not refused"); return }
        #expect(r.detail.contains("needs 45 market data lines, only 10"))
    }

    @Test func aFloodIsRateLimitedPerRequester() {
        var a = Self.arbiter(capacity: 100) { $0.newRequestsPerWindow = 3 }
        let flood = (0..<10).map { Self.lease("flood", "S\($0)", until: 60_000) } + [Self.lease("calm", "AAPL", until: 60_000)]
        let actions = a.leasesSeen(flood, nowMs: 1_000)
        #expect(Self.subscribed(actions).count == 4)
        #expect(a.status(of: Self.ref("calm", "AAPL")) == .active)
        let refused = (0..<10).filter { if case .refused(let r)? = a.status(of: Self.ref("flood", "S\($0)")) { r.detail.contains("rate limited") } else { false } }
        #expect(refused.count == 7)
        // A minute later the requester may ask again.
        let later = a.leasesSeen([Self.lease("flood", "NEW", until: 200_000)], nowMs: 62_000)
        #expect(Self.subscribed(later) == ["NEW"])
    }

    @Test func perRequesterMaximum() {
        var a = Self.arbiter(capacity: 100) { $0.maxRequestsPerRequester = 2 }
        _ = a.leasesSeen([Self.lease("app", "A", until: 60_000), Self.lease("app", "B", until: 60_000)], nowMs: 1_000)
        _ = a.leasesSeen([Self.lease("app", "A", until: 60_000), Self.lease("app", "B", until: 60_000), Self.lease("app", "C", until: 60_000)], nowMs: 2_000)
        guard case .refused(let r)? = a.status(of: Self.ref("app", "C")) else { Issue.record("not refused"); return }
        #expect(r.detail.contains("max_requests_per_requester"))
        // A refused request holds no place: the next refusal still counts the two admitted ones.
        _ = a.leasesSeen(
            ["A", "B", "C", "D"].map { Self.lease("app", $0, until: 60_000) }, nowMs: 3_000)
        guard case .refused(let d)? = a.status(of: Self.ref("app", "D")) else { Issue.record("D not refused"); return }
        #expect(d.detail.hasPrefix("app already holds 2 requests"))
    }

    @Test func gatewayRefusalReleasesTheLineAndRefusesEveryHolder() {
        var a = Self.arbiter()
        _ = a.leasesSeen([Self.lease("app1", "ZZZZ", until: 60_000), Self.lease("app2", "ZZZZ", until: 60_000)], nowMs: 1_000)
        let actions = a.gatewayRefused(keySymbol: "ZZZZ", .unknownContract("IB does not know it (200)"), nowMs: 2_000)
        #expect(Self.released(actions) == ["ZZZZ"])
        #expect(a.status(of: Self.ref("app2", "ZZZZ")) == .refused(.unknownContract("IB does not know it (200)")))
        // It is not asked for again while the leases live.
        #expect(Self.subscribed(a.tick(nowMs: 3_000)).isEmpty)
    }

    @Test func fallbackWhileAlphaVantageServes() {
        var a = Self.arbiter()
        _ = a.leasesSeen([Self.lease("app1", "AAPL", until: 60_000)], nowMs: 1_000)
        let actions = a.served(keySymbol: "AAPL", by: .alphaVantage, nowMs: 2_000)
        #expect(actions == [.setStatus(Self.ref("app1", "AAPL"), .fallback, keySymbol: "AAPL")])
        _ = a.served(keySymbol: "AAPL", by: .ib, nowMs: 3_000)
        #expect(a.status(of: Self.ref("app1", "AAPL")) == .active)
    }

    @Test func aDeletedLeaseClearsItsStatus() {
        var a = Self.arbiter()
        _ = a.leasesSeen([Self.lease("app1", "AAPL", until: 60_000)], nowMs: 1_000)
        let actions = a.leasesSeen([], nowMs: 2_000)
        #expect(actions.contains(.clearStatus(Self.ref("app1", "AAPL"))))
        // A vanished lease (deleted, or Redis restarted empty) keeps the line for the grace
        // after it was last seen live (1 000).
        #expect(Self.released(actions).isEmpty)
        #expect(Self.released(a.leasesSeen([], nowMs: 10_999)).isEmpty)
        #expect(Self.released(a.leasesSeen([], nowMs: 11_000)) == ["AAPL"])
    }

    @Test func aShrinkingCapacityReleasesTheLowestPriorityFirst() {
        var a = Self.arbiter(capacity: 2)
        let leases = [Self.lease("app1", "AAPL", until: 500_000, priority: 2), Self.lease("app2", "SPY", until: 500_000, priority: 1)]
        _ = a.leasesSeen(leases, nowMs: 1_000)
        let actions = a.setLineCapacity(1, nowMs: 2_000)
        #expect(Self.released(actions) == ["SPY"])
        #expect(a.status(of: Self.ref("app2", "SPY")) == .queued(place: 1))
        #expect(Self.subscribed(a.setLineCapacity(2, nowMs: 3_000)) == ["SPY"])
    }

    @Test func aKeyNeverHoldsTwoInstruments() {
        var a = Self.arbiter(capacity: 5)
        // SPX is pinned as the CBOE index: a request for a stock SPX would read the index.
        _ = a.leasesSeen([
            Self.lease("app1", "SPX", until: 60_000), Self.lease("app1", "IND:SPX@CBOE", until: 60_000),
            Self.lease("app1", "FUT:ES.202612@CME", until: 60_000),
        ], nowMs: 1_000)
        guard case .refused(let r)? = a.status(of: Self.ref("app1", "SPX")) else { Issue.record("not refused"); return }
        #expect(r.detail == "P:quote:SPX holds the pinned IND:SPX@CBOE; this asks for STK:SPX:USD")
        #expect(a.status(of: Self.ref("app1", "IND:SPX@CBOE")) == .active)
        // Two requests for one key: the first one seen wins, the other is refused.
        let later = a.leasesSeen([
            Self.lease("app1", "SPX", until: 60_000), Self.lease("app1", "IND:SPX@CBOE", until: 60_000),
            Self.lease("app1", "FUT:ES.202612@CME", until: 60_000), Self.lease("app2", "FUT:ES.202612@GLOBEX", until: 60_000),
        ], nowMs: 2_000)
        #expect(Self.subscribed(later).isEmpty)
        guard case .refused(let r2)? = a.status(of: Self.ref("app2", "FUT:ES.202612@GLOBEX")) else { Issue.record("not refused"); return }
        #expect(r2.detail.contains("already requested as FUT:ES.202612@CME"))
    }

    @Test func noFlappingOverManyTicksAndAPreemptedLineComesBack() {
        var a = Self.arbiter(capacity: 1)
        var changes = 0
        // Two equal requests refreshed in turns for ten minutes: the first keeps the line.
        for second in 0..<600 {
            let now = Int64(second) * 1_000
            let leases = [Self.lease("app1", "AAPL", until: now + 5_000), Self.lease("app2", "SPY", until: now + 5_000)]
            changes += a.leasesSeen(leases, nowMs: now).filter { if case .release = $0 { true } else { false } }.count
        }
        #expect(changes == 0)
        #expect(a.heldKeySymbols == ["AAPL"])
        // A higher priority takes the line after the hold; when it goes, AAPL comes back.
        let withVIP = [
            Self.lease("app1", "AAPL", until: 700_000), Self.lease("app2", "SPY", until: 700_000),
            Self.lease("vip", "QQQ", until: 620_000, priority: 9),
        ]
        #expect(Self.subscribed(a.leasesSeen(withVIP, nowMs: 600_000)) == ["QQQ"])
        #expect(a.status(of: Self.ref("app1", "AAPL")) == .queued(place: 1))
        #expect(a.status(of: Self.ref("app2", "SPY")) == .queued(place: 2))
        // QQQ's lease ends at 620 000; its grace gives way to the waiting AAPL at once.
        let back = a.leasesSeen(withVIP, nowMs: 620_000)
        #expect(Self.released(back) == ["QQQ"])
        #expect(Self.subscribed(back) == ["AAPL"])
    }

    @Test func unchangedInputEmitsNothing() {
        var a = Self.arbiter()
        let leases = [Self.lease("app1", "AAPL", until: 60_000)]
        _ = a.leasesSeen(leases, nowMs: 1_000)
        #expect(a.leasesSeen(leases, nowMs: 2_000).isEmpty)
    }

    static func resized(_ actions: [A.Action]) -> [InstrumentRequest] {
        actions.compactMap { if case .resize(let r) = $0 { r } else { nil } }
    }
    static func window(_ e: Int, _ s: Int) -> InstrumentRequest.Options { InstrumentRequest.Options(expirations: e, strikesAroundATM: s) }

    // F5: a window lease of an underlying already served for a plain lease is served (the
    // line's window grows), and active only once it is.
    @Test func aWindowLeaseOnAnUnderlyingServedPlainWidensTheLine() {
        var a = Self.arbiter(capacity: 100) { $0.optionWindows = true }
        let plain = Self.lease("p1", "NVDA", until: 100_000)
        _ = a.leasesSeen([plain], nowMs: 1_000)
        #expect(a.served(keySymbol: "NVDA")?.options == nil)
        let actions = a.leasesSeen([plain, Self.lease("p2", "NVDA#options=1x2", until: 100_000)], nowMs: 2_000)
        #expect(Self.subscribed(actions).isEmpty)
        #expect(Self.resized(actions).map(\.options) == [Self.window(1, 2)])
        #expect(a.served(keySymbol: "NVDA")?.linesNeeded == 1 + 10)
        #expect(a.status(of: Self.ref("p2", "NVDA#options=1x2")) == .active)
        #expect(a.status(of: Self.ref("p1", "NVDA")) == .active)
    }

    // F5: two windows of one underlying: the line serves their union, both are active.
    @Test func twoWindowsOfOneUnderlyingAreServedAsTheirUnion() {
        var a = Self.arbiter(capacity: 100) { $0.optionWindows = true }
        let w1 = Self.lease("w1", "QQQ#options=1x2", until: 100_000)
        _ = a.leasesSeen([w1], nowMs: 1_000)
        let actions = a.leasesSeen([w1, Self.lease("w2", "QQQ#options=2x3", until: 100_000), Self.lease("w3", "QQQ#options=1x5", until: 100_000)], nowMs: 2_000)
        #expect(Self.resized(actions).map(\.options) == [Self.window(2, 5)])
        #expect(a.status(of: Self.ref("w2", "QQQ#options=2x3")) == .active)
        #expect(a.status(of: Self.ref("w3", "QQQ#options=1x5")) == .active)
    }

    // F5: a window that does not fit is queued, never told active; the plain lease stays active.
    @Test func aWindowThatDoesNotFitIsQueuedNotActive() {
        var a = Self.arbiter(capacity: 12) { $0.optionWindows = true }
        let plain = [Self.lease("p1", "NVDA", until: 100_000), Self.lease("o", "AMD", until: 100_000), Self.lease("o", "AMZN", until: 100_000)]
        _ = a.leasesSeen(plain, nowMs: 1_000)
        // 3 lines held; the window needs 10 more: 13 > 12.
        let actions = a.leasesSeen(plain + [Self.lease("p2", "NVDA#options=1x2", until: 100_000)], nowMs: 2_000)
        #expect(Self.resized(actions).isEmpty)
        #expect(a.served(keySymbol: "NVDA")?.options == nil)
        #expect(a.status(of: Self.ref("p2", "NVDA#options=1x2")) == .queued(place: 1))
        #expect(a.status(of: Self.ref("p1", "NVDA")) == .active)
    }

    // F5 addendum: windows of one underlying queue as separate entries: the smaller window
    // that fits starts, the larger one waits.
    @Test func aSmallerWindowThatFitsIsNotBlockedByALargerOne() {
        var a = Self.arbiter(capacity: 16) { $0.optionWindows = true }
        let others = [Self.lease("o", "AMD", until: 100_000), Self.lease("o", "AMZN", until: 100_000)]
        _ = a.leasesSeen(others, nowMs: 500)
        let small = Self.lease("q1", "QQQ#options=1x1", until: 100_000)  // 7 lines: 2 + 7 fit
        let large = Self.lease("q2", "QQQ#options=1x3", until: 100_000)  // 15 lines: 2 + 15 do not
        let actions = a.leasesSeen(others + [small, large], nowMs: 1_000)
        #expect(Self.subscribed(actions).count == 1)
        #expect(a.served(keySymbol: "QQQ")?.options == Self.window(1, 1))
        #expect(a.status(of: Self.ref("q1", "QQQ#options=1x1")) == .active)
        #expect(a.status(of: Self.ref("q2", "QQQ#options=1x3")) == .queued(place: 1))
    }

    // A lease cannot widen a pinned window; one within it is active at no cost.
    @Test func windowLeasesOnPinnedInstruments() {
        var settings = A.Settings(lineCapacity: 100)
        settings.optionWindows = true
        var a = A(settings: settings, pinned: ["SPY": "STK:SPY:USD", "MSFT": "STK:MSFT:USD"], pinnedWindows: ["SPY": Self.window(2, 5)])
        _ = a.leasesSeen([
            Self.lease("a", "SPY#options=1x3", until: 100_000), Self.lease("b", "SPY#options=3x3", until: 100_000),
            Self.lease("c", "MSFT#options=1x1", until: 100_000),
        ], nowMs: 1_000)
        #expect(a.heldKeySymbols.isEmpty)
        #expect(a.status(of: Self.ref("a", "SPY#options=1x3")) == .active)
        guard case .refused(let wide)? = a.status(of: Self.ref("b", "SPY#options=3x3")) else { Issue.record("not refused"); return }
        #expect(wide.category == "not allowed")
        guard case .refused(let none)? = a.status(of: Self.ref("c", "MSFT#options=1x1")) else { Issue.record("not refused"); return }
        #expect(none.detail.contains("pinned"))
    }

    // F6: a window lease that goes while a plain lease of the underlying lives: its option
    // lines are released after the grace, the quote line stays.
    @Test func aWindowGivenUpNarrowsTheLineAfterTheGrace() {
        var a = Self.arbiter(capacity: 100) { $0.optionWindows = true }
        let plain = Self.lease("q2", "IWM", until: 200_000)
        _ = a.leasesSeen([Self.lease("q1", "IWM#options=1x2", until: 200_000), plain], nowMs: 1_000)
        #expect(a.served(keySymbol: "IWM")?.options == Self.window(1, 2))
        // q1 gives up (ZREM): its status goes at once, the window stays through the grace.
        let gone = a.leasesSeen([plain], nowMs: 2_000)
        #expect(gone.contains(.clearStatus(Self.ref("q1", "IWM#options=1x2"))))
        #expect(Self.resized(gone).isEmpty)
        #expect(Self.resized(a.leasesSeen([plain], nowMs: 10_999)).isEmpty)
        let after = a.leasesSeen([plain], nowMs: 11_000)
        #expect(Self.resized(after).map(\.options) == [nil])
        #expect(Self.released(after).isEmpty)
        #expect(a.served(keySymbol: "IWM")?.linesNeeded == 1)
        #expect(a.status(of: Self.ref("q2", "IWM")) == .active)
        // An expired (not deleted) wider window narrows at its expiry + grace, to the one left.
        var b = Self.arbiter(capacity: 100) { $0.optionWindows = true }
        let small = Self.lease("s", "IWM#options=1x1", until: 200_000)
        _ = b.leasesSeen([Self.lease("w", "IWM#options=2x2", until: 20_000), small], nowMs: 1_000)
        #expect(Self.resized(b.tick(nowMs: 29_999)).isEmpty)
        #expect(Self.resized(b.tick(nowMs: 30_000)).map(\.options) == [Self.window(1, 1)])
    }

    // F7: with look-ups first, unknown instruments hold no line while IB is asked; a good
    // lease written after a flood of bad ones is looked up at once and becomes active.
    @Test func contractsAreLookedUpBeforeALineAndAFloodCannotStarveAGoodLease() {
        var a = Self.arbiter(capacity: 100) {
            $0.lookUpFirst = true
            $0.maxLookUps = 40
        }
        let flood = (0..<1_500).map { Self.lease("flood\($0)", "ZQ\($0)", until: 600_000) }
        let first = a.leasesSeen(flood, nowMs: 1_000)
        #expect(Self.subscribed(first).isEmpty)
        #expect(a.heldKeySymbols.isEmpty)
        #expect(first.filter { if case .lookUp = $0 { true } else { false } }.count == 40)
        #expect(a.status(of: Self.ref("flood0", "ZQ0")) == .lookingUp)
        let good = Self.lease("late1", "QQQ", until: 600_000)
        var now: Int64 = 2_000
        var asked: [String] = []
        func note(_ actions: [A.Action]) {
            asked += actions.compactMap { if case .lookUp(let r) = $0 { r.keySymbol } else { nil } }
            #expect(Self.subscribed(actions).isEmpty)
        }
        note(a.leasesSeen(flood + [good], nowMs: now))
        // IB refuses the ones asked so far (200), all answers of a read at once, as the worker
        // hands them over: the freed slots go alternately to the oldest and the newest waiting.
        for _ in 0..<2 {
            now += 1_000
            var refused: [String: InstrumentRequest.Refusal] = [:]
            for key in a.lookUpsInFlight where key != "QQQ" { refused[key] = .unknownContract("200") }
            note(a.lookUpsAnswered(known: [], refused: refused, failed: [], nowMs: now))
            note(a.leasesSeen(flood + [good], nowMs: now))
            #expect(a.lookUpsInFlight.count <= 40)
            #expect(a.heldKeySymbols.isEmpty)
        }
        #expect(asked.contains("QQQ"))
        #expect(asked.count < 200)
        #expect(a.status(of: Self.ref("late1", "QQQ")) == .lookingUp)
        let known = a.contractKnown(keySymbol: "QQQ", nowMs: now)
        #expect(Self.subscribed(known) == ["QQQ"])
        #expect(a.status(of: Self.ref("late1", "QQQ")) == .active)
        #expect(a.heldKeySymbols == ["QQQ"])
        // A passing failure is asked again at the next read.
        var b = Self.arbiter(capacity: 100) { $0.lookUpFirst = true }
        let one = [Self.lease("x", "AAPL", until: 600_000)]
        _ = b.leasesSeen(one, nowMs: 1_000)
        _ = b.lookUpFailed(keySymbol: "AAPL", nowMs: 2_000)
        #expect(b.lookUpsInFlight == ["AAPL"])
    }

    // F8: a queued request's place shifts are written at most every placeRefreshMs and are
    // not news; a change of state is written at once and is.
    @Test func placeChangesAreRateBoundAndNotNews() {
        var a = Self.arbiter(capacity: 1) { $0.placeRefreshMs = 5_000 }
        let holder = Self.lease("h", "AAPL", until: 100_000)
        let waiter = Self.lease("w", "SPY", until: 100_000)
        _ = a.leasesSeen([holder], nowMs: 1_000)
        let queued = a.leasesSeen([holder, waiter], nowMs: 2_000)
        #expect(queued.contains(.setStatus(Self.ref("w", "SPY"), .queued(place: 1), keySymbol: "SPY", news: true)))
        // A higher priority arrives ahead of it: SPY's place becomes 2, but not before 5 s.
        let vip = Self.lease("v", "QQQ", until: 100_000, priority: 5)
        #expect(a.leasesSeen([holder, waiter, vip], nowMs: 3_000).filter { if case .setStatus(Self.ref("w", "SPY"), _, _, _) = $0 { true } else { false } }.isEmpty)
        #expect(a.status(of: Self.ref("w", "SPY")) == .queued(place: 1))
        let later = a.leasesSeen([holder, waiter, vip], nowMs: 7_000)
        #expect(later.contains(.setStatus(Self.ref("w", "SPY"), .queued(place: 2), keySymbol: "SPY", news: false)))
        // AAPL given up: its line in the grace goes to QQQ at once; then QQQ given up: SPY's
        // line is written at once, and is news.
        _ = a.leasesSeen([waiter, vip], nowMs: 7_500)
        #expect(a.leasesSeen([waiter], nowMs: 7_700).contains { if case .setStatus(Self.ref("w", "SPY"), .active, _, true) = $0 { true } else { false } })
    }

    // F1 addendum: a lease whose expiry is no time in ms is refused visibly and dropped.
    @Test func aLeaseWithAnExpiryThatIsNoTimeIsRefused() {
        #expect(A.expiryMs(score: .infinity) == nil)
        #expect(A.expiryMs(score: -.infinity) == nil)
        #expect(A.expiryMs(score: .nan) == nil)
        #expect(A.expiryMs(score: 1e300) == nil)
        #expect(A.expiryMs(score: 9.3e18) == nil)
        #expect(A.expiryMs(score: 1_764_000_000_000) == 1_764_000_000_000)
        var a = Self.arbiter()
        let bad = Self.lease("inf1", "MSFT", until: 0)
        let actions = a.leasesSeen([], invalidExpiry: [bad], nowMs: 1_000)
        #expect(actions.contains(.dropLease(member: "inf1|MSFT")))
        #expect(actions.contains(.setStatus(Self.ref("inf1", "MSFT"), .refused(.invalid(A.invalidExpiryReason)), keySymbol: nil)))
        #expect(A.invalidExpiryReason.contains("finite time in ms"))
    }
}
