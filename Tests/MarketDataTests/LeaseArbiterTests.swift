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
}
